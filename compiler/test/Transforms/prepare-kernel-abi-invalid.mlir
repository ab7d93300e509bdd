// RUN: peng-opt %s -peng-prepare-kernel-abi -verify-diagnostics

// expected-error @+1 {{'func.func' op argument type 'tensor<?xf32>' is not a statically shaped tensor}}
func.func @dynamic(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}
