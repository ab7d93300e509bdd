// RUN: peng-opt %s -peng-cpu-lower-math | FileCheck %s

// Transcendentals become plain arithmetic (no libm call in a kernel image).
// CHECK-LABEL: func.func @f32
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK: arith.mulf
// CHECK: math.sqrt
func.func @f32(%x: f32) -> (f32, f32, f32, f32) {
  %a = math.exp %x : f32
  %b = math.erf %x : f32
  %c = math.tanh %x : f32
  %d = math.sqrt %x : f32
  return %a, %b, %c, %d : f32, f32, f32, f32
}

