// RUN: peng-opt %s -peng-cpu-lower-math -verify-diagnostics

// An op with no libm-free lowering is an error that names it.
func.func @f64(%x: f64) -> f64 {
  // expected-error @+1 {{'math.erf' op has no libm-free lowering for type 'f64' (pengc kernels cannot call libm)}}
  %a = math.erf %x : f64
  return %a : f64
}
