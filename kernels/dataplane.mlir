// Data-plane kernels: the work a DPU takes off the compute devices. Moving
// data (copy, gather and scatter of rows, layout changes, tiled packing),
// converting formats (f32 <-> f16 and bf16), int8 quantization and a CRC32C
// checksum. Each is marked `attributes {peng.data_plane}`, which pengc
// records in module.peng ("class": "data_plane"); the runtime exposes it
// (peng_kernel_is_data_plane). References: kernels/ref/dataplane.h; the e2e
// tests compare every result bit for bit.
//
// Conventions:
// - gather/scatter indices: a negative index counts from the end (ONNX); a
//   gather clamps what is still out of range to the table, a scatter skips
//   it; a row named twice in a scatter gets the later update.
// - conversions: IEEE 754 round to nearest, ties to even (arith.truncf);
//   pengc turns them into integer code (peng-expand-half-floats), so they
//   run where there is no half-precision hardware (rvv without Zvfh, OpenCL
//   without cl_khr_fp16).
// - quantization: ONNX QuantizeLinear, y = saturate(round_half_even(x / scale)
//   + zero_point) to [-128, 127]; DequantizeLinear, (q - zero_point) * scale.
#id1 = affine_map<(i) -> (i)>
#id2 = affine_map<(i, j) -> (i, j)>
#id3 = affine_map<(i, j, k) -> (i, j, k)>

// Plain copies.
func.func @copy_f32_37x53(%a: tensor<37x53xf32>) -> tensor<37x53xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<37x53xf32>
  %r = linalg.copy ins(%a : tensor<37x53xf32>) outs(%e : tensor<37x53xf32>) -> tensor<37x53xf32>
  return %r : tensor<37x53xf32>
}

func.func @copy_i8_1031(%a: tensor<1031xi8>) -> tensor<1031xi8> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<1031xi8>
  %r = linalg.copy ins(%a : tensor<1031xi8>) outs(%e : tensor<1031xi8>) -> tensor<1031xi8>
  return %r : tensor<1031xi8>
}

// Gather: out[n, :] = table[index[n], :] (an embedding lookup).
func.func @gather_rows_i32_61x33x17(%table: tensor<61x33xf32>, %idx: tensor<17xi32>) -> tensor<17x33xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<17x33xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, d) -> (n)>, affine_map<(n, d) -> (n, d)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%idx : tensor<17xi32>) outs(%e : tensor<17x33xf32>) {
  ^bb0(%i: i32, %o: f32):
    %zero = arith.constant 0 : i32
    %rows = arith.constant 61 : i32
    %last = arith.constant 60 : i32
    %neg = arith.cmpi slt, %i, %zero : i32
    %wrapped = arith.addi %i, %rows : i32
    %w = arith.select %neg, %wrapped, %i : i32
    %lo = arith.maxsi %w, %zero : i32
    %c = arith.minsi %lo, %last : i32
    %row = arith.index_cast %c : i32 to index
    %d = linalg.index 1 : index
    %v = tensor.extract %table[%row, %d] : tensor<61x33xf32>
    linalg.yield %v : f32
  } -> tensor<17x33xf32>
  return %r : tensor<17x33xf32>
}

func.func @gather_rows_i64_40x35x23(%table: tensor<40x35xi8>, %idx: tensor<23xi64>) -> tensor<23x35xi8> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<23x35xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(n, d) -> (n)>, affine_map<(n, d) -> (n, d)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%idx : tensor<23xi64>) outs(%e : tensor<23x35xi8>) {
  ^bb0(%i: i64, %o: i8):
    %zero = arith.constant 0 : i64
    %rows = arith.constant 40 : i64
    %last = arith.constant 39 : i64
    %neg = arith.cmpi slt, %i, %zero : i64
    %wrapped = arith.addi %i, %rows : i64
    %w = arith.select %neg, %wrapped, %i : i64
    %lo = arith.maxsi %w, %zero : i64
    %c = arith.minsi %lo, %last : i64
    %row = arith.index_cast %c : i64 to index
    %d = linalg.index 1 : index
    %v = tensor.extract %table[%row, %d] : tensor<40x35xi8>
    linalg.yield %v : i8
  } -> tensor<23x35xi8>
  return %r : tensor<23x35xi8>
}

// Scatter: the table with rows index[n] replaced by updates[n]. A reduction
// over n in order (the later update wins), so each output row is written once.
func.func @scatter_rows_i32_50x33x13(%table: tensor<50x33xf32>, %idx: tensor<13xi32>, %upd: tensor<13x33xf32>) -> tensor<50x33xf32> attributes {peng.data_plane} {
  %r = linalg.generic {indexing_maps = [affine_map<(v, d, n) -> (n)>, affine_map<(v, d, n) -> (n, d)>,
                                        affine_map<(v, d, n) -> (v, d)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%idx, %upd : tensor<13xi32>, tensor<13x33xf32>) outs(%table : tensor<50x33xf32>) {
  ^bb0(%i: i32, %u: f32, %acc: f32):
    %zero = arith.constant 0 : i32
    %rows = arith.constant 50 : i32
    %neg = arith.cmpi slt, %i, %zero : i32
    %wrapped = arith.addi %i, %rows : i32
    %w = arith.select %neg, %wrapped, %i : i32
    %v = linalg.index 0 : index
    %vi = arith.index_cast %v : index to i32
    %hit = arith.cmpi eq, %w, %vi : i32
    %s = arith.select %hit, %u, %acc : f32
    linalg.yield %s : f32
  } -> tensor<50x33xf32>
  return %r : tensor<50x33xf32>
}

func.func @scatter_rows_i64_29x7x5(%table: tensor<29x7xi16>, %idx: tensor<5xi64>, %upd: tensor<5x7xi16>) -> tensor<29x7xi16> attributes {peng.data_plane} {
  %r = linalg.generic {indexing_maps = [affine_map<(v, d, n) -> (n)>, affine_map<(v, d, n) -> (n, d)>,
                                        affine_map<(v, d, n) -> (v, d)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%idx, %upd : tensor<5xi64>, tensor<5x7xi16>) outs(%table : tensor<29x7xi16>) {
  ^bb0(%i: i64, %u: i16, %acc: i16):
    %zero = arith.constant 0 : i64
    %rows = arith.constant 29 : i64
    %neg = arith.cmpi slt, %i, %zero : i64
    %wrapped = arith.addi %i, %rows : i64
    %w = arith.select %neg, %wrapped, %i : i64
    %v = linalg.index 0 : index
    %vi = arith.index_cast %v : index to i64
    %hit = arith.cmpi eq, %w, %vi : i64
    %s = arith.select %hit, %u, %acc : i16
    linalg.yield %s : i16
  } -> tensor<29x7xi16>
  return %r : tensor<29x7xi16>
}

// Layout changes: NCHW <-> NHWC, in f32, i8 and f16, and a batched 2-D transpose.
func.func @transpose_nchw_nhwc_f32_2x3x7x9(%a: tensor<2x3x7x9xf32>) -> tensor<2x7x9x3xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<2x7x9x3xf32>
  %t = linalg.transpose ins(%a : tensor<2x3x7x9xf32>) outs(%e : tensor<2x7x9x3xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<2x7x9x3xf32>
}

func.func @transpose_nhwc_nchw_i8_2x7x9x5(%a: tensor<2x7x9x5xi8>) -> tensor<2x5x7x9xi8> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<2x5x7x9xi8>
  %t = linalg.transpose ins(%a : tensor<2x7x9x5xi8>) outs(%e : tensor<2x5x7x9xi8>) permutation = [0, 3, 1, 2]
  return %t : tensor<2x5x7x9xi8>
}

func.func @transpose_nchw_nhwc_f16_2x3x7x9(%a: tensor<2x3x7x9xf16>) -> tensor<2x7x9x3xf16> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<2x7x9x3xf16>
  %t = linalg.transpose ins(%a : tensor<2x3x7x9xf16>) outs(%e : tensor<2x7x9x3xf16>) permutation = [0, 2, 3, 1]
  return %t : tensor<2x7x9x3xf16>
}

func.func @transpose_batched_i16_3x37x29(%a: tensor<3x37x29xi16>) -> tensor<3x29x37xi16> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<3x29x37xi16>
  %t = linalg.transpose ins(%a : tensor<3x37x29xi16>) outs(%e : tensor<3x29x37xi16>) permutation = [0, 2, 1]
  return %t : tensor<3x29x37xi16>
}

// Pack [M, N] into [M/m, N/n, m, n] tiles, the ragged edge padded, and back.
func.func @pack_f32_37x45(%a: tensor<37x45xf32>) -> tensor<5x3x8x16xf32> attributes {peng.data_plane} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3x8x16xf32>
  %p = tensor.pack %a padding_value(%z : f32) inner_dims_pos = [0, 1] inner_tiles = [8, 16] into %e : tensor<37x45xf32> -> tensor<5x3x8x16xf32>
  return %p : tensor<5x3x8x16xf32>
}

func.func @unpack_f32_37x45(%a: tensor<5x3x8x16xf32>) -> tensor<37x45xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<37x45xf32>
  %u = tensor.unpack %a inner_dims_pos = [0, 1] inner_tiles = [8, 16] into %e : tensor<5x3x8x16xf32> -> tensor<37x45xf32>
  return %u : tensor<37x45xf32>
}

// bf16 tiles of 4x32, padded with 1.5.
func.func @pack_bf16_19x70(%a: tensor<19x70xbf16>) -> tensor<5x3x4x32xbf16> attributes {peng.data_plane} {
  %z = arith.constant 1.5 : bf16
  %e = tensor.empty() : tensor<5x3x4x32xbf16>
  %p = tensor.pack %a padding_value(%z : bf16) inner_dims_pos = [0, 1] inner_tiles = [4, 32] into %e : tensor<19x70xbf16> -> tensor<5x3x4x32xbf16>
  return %p : tensor<5x3x4x32xbf16>
}

// Conversions. The widening ones take every f16 / bf16 bit pattern (65536).
func.func @f32_to_f16_13x97(%x: tensor<13x97xf32>) -> tensor<13x97xf16> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<13x97xf16>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<13x97xf32>) outs(%e : tensor<13x97xf16>) {
  ^bb0(%a: f32, %o: f16):
    %c = arith.truncf %a : f32 to f16
    linalg.yield %c : f16
  } -> tensor<13x97xf16>
  return %r : tensor<13x97xf16>
}

func.func @f16_to_f32_256x256(%x: tensor<256x256xf16>) -> tensor<256x256xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<256x256xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<256x256xf16>) outs(%e : tensor<256x256xf32>) {
  ^bb0(%a: f16, %o: f32):
    %c = arith.extf %a : f16 to f32
    linalg.yield %c : f32
  } -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}

func.func @f32_to_bf16_13x97(%x: tensor<13x97xf32>) -> tensor<13x97xbf16> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<13x97xbf16>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<13x97xf32>) outs(%e : tensor<13x97xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %c = arith.truncf %a : f32 to bf16
    linalg.yield %c : bf16
  } -> tensor<13x97xbf16>
  return %r : tensor<13x97xbf16>
}

func.func @bf16_to_f32_256x256(%x: tensor<256x256xbf16>) -> tensor<256x256xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<256x256xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<256x256xbf16>) outs(%e : tensor<256x256xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %c = arith.extf %a : bf16 to f32
    linalg.yield %c : f32
  } -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}

// int8 quantization per tensor (a scalar scale and zero point) and per channel
// (one along axis 1 of [N, C, L]).
func.func @quantize_per_tensor_33x47(%x: tensor<33x47xf32>, %scale: tensor<f32>, %zp: tensor<i8>) -> tensor<33x47xi8> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<33x47xi8>
  %r = linalg.generic {indexing_maps = [#id2, affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %scale, %zp : tensor<33x47xf32>, tensor<f32>, tensor<i8>) outs(%e : tensor<33x47xi8>) {
  ^bb0(%a: f32, %s: f32, %z: i8, %o: i8):
    // clamp(round(q) + z, -128, 127) = round(clamp(q, -128 - z, 127 - z)) + z,
    // the bounds being integers: the conversion then takes a value already
    // rounded and in range.
    %lo = arith.constant -128 : i32
    %hi = arith.constant 127 : i32
    %q = arith.divf %a, %s : f32
    %z32 = arith.extsi %z : i8 to i32
    %lo_z = arith.subi %lo, %z32 : i32
    %hi_z = arith.subi %hi, %z32 : i32
    %lo_f = arith.sitofp %lo_z : i32 to f32
    %hi_f = arith.sitofp %hi_z : i32 to f32
    %c0 = arith.maxnumf %q, %lo_f : f32
    %c1 = arith.minnumf %c0, %hi_f : f32
    // Round half to even and convert in one: adding 1.5 * 2^23 leaves the
    // rounded integer in the low mantissa bits (|%c1| <= 256). This needs no
    // float-to-int instruction: qemu-riscv64 7.2 (Debian 12), which runs the
    // emulated devices, aborts on RVV's rtz conversions (vfcvt.rtz.x.f.v).
    %magic = arith.constant 12582912.0 : f32
    %magic_bits = arith.constant 0x4B400000 : i32
    %t = arith.addf %c1, %magic : f32
    %t_bits = arith.bitcast %t : f32 to i32
    %ri = arith.subi %t_bits, %magic_bits : i32
    %v = arith.addi %ri, %z32 : i32
    %i = arith.trunci %v : i32 to i8
    linalg.yield %i : i8
  } -> tensor<33x47xi8>
  return %r : tensor<33x47xi8>
}

func.func @dequantize_per_tensor_33x47(%q: tensor<33x47xi8>, %scale: tensor<f32>, %zp: tensor<i8>) -> tensor<33x47xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<33x47xf32>
  %r = linalg.generic {indexing_maps = [#id2, affine_map<(i, j) -> ()>, affine_map<(i, j) -> ()>, #id2],
                       iterator_types = ["parallel", "parallel"]}
      ins(%q, %scale, %zp : tensor<33x47xi8>, tensor<f32>, tensor<i8>) outs(%e : tensor<33x47xf32>) {
  ^bb0(%a: i8, %s: f32, %z: i8, %o: f32):
    %a32 = arith.extsi %a : i8 to i32
    %z32 = arith.extsi %z : i8 to i32
    %d = arith.subi %a32, %z32 : i32
    %df = arith.sitofp %d : i32 to f32
    %y = arith.mulf %df, %s : f32
    linalg.yield %y : f32
  } -> tensor<33x47xf32>
  return %r : tensor<33x47xf32>
}

func.func @quantize_per_channel_3x5x11(%x: tensor<3x5x11xf32>, %scale: tensor<5xf32>, %zp: tensor<5xi8>) -> tensor<3x5x11xi8> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<3x5x11xi8>
  %r = linalg.generic {indexing_maps = [#id3, affine_map<(i, j, k) -> (j)>, affine_map<(i, j, k) -> (j)>, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %scale, %zp : tensor<3x5x11xf32>, tensor<5xf32>, tensor<5xi8>) outs(%e : tensor<3x5x11xi8>) {
  ^bb0(%a: f32, %s: f32, %z: i8, %o: i8):
    // clamp(round(q) + z, -128, 127) = round(clamp(q, -128 - z, 127 - z)) + z,
    // the bounds being integers: the conversion then takes a value already
    // rounded and in range.
    %lo = arith.constant -128 : i32
    %hi = arith.constant 127 : i32
    %q = arith.divf %a, %s : f32
    %z32 = arith.extsi %z : i8 to i32
    %lo_z = arith.subi %lo, %z32 : i32
    %hi_z = arith.subi %hi, %z32 : i32
    %lo_f = arith.sitofp %lo_z : i32 to f32
    %hi_f = arith.sitofp %hi_z : i32 to f32
    %c0 = arith.maxnumf %q, %lo_f : f32
    %c1 = arith.minnumf %c0, %hi_f : f32
    // Round half to even and convert in one: adding 1.5 * 2^23 leaves the
    // rounded integer in the low mantissa bits (|%c1| <= 256). This needs no
    // float-to-int instruction: qemu-riscv64 7.2 (Debian 12), which runs the
    // emulated devices, aborts on RVV's rtz conversions (vfcvt.rtz.x.f.v).
    %magic = arith.constant 12582912.0 : f32
    %magic_bits = arith.constant 0x4B400000 : i32
    %t = arith.addf %c1, %magic : f32
    %t_bits = arith.bitcast %t : f32 to i32
    %ri = arith.subi %t_bits, %magic_bits : i32
    %v = arith.addi %ri, %z32 : i32
    %i = arith.trunci %v : i32 to i8
    linalg.yield %i : i8
  } -> tensor<3x5x11xi8>
  return %r : tensor<3x5x11xi8>
}

func.func @dequantize_per_channel_3x5x11(%q: tensor<3x5x11xi8>, %scale: tensor<5xf32>, %zp: tensor<5xi8>) -> tensor<3x5x11xf32> attributes {peng.data_plane} {
  %e = tensor.empty() : tensor<3x5x11xf32>
  %r = linalg.generic {indexing_maps = [#id3, affine_map<(i, j, k) -> (j)>, affine_map<(i, j, k) -> (j)>, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q, %scale, %zp : tensor<3x5x11xi8>, tensor<5xf32>, tensor<5xi8>) outs(%e : tensor<3x5x11xf32>) {
  ^bb0(%a: i8, %s: f32, %z: i8, %o: f32):
    %a32 = arith.extsi %a : i8 to i32
    %z32 = arith.extsi %z : i8 to i32
    %d = arith.subi %a32, %z32 : i32
    %df = arith.sitofp %d : i32 to f32
    %y = arith.mulf %df, %s : f32
    linalg.yield %y : f32
  } -> tensor<3x5x11xf32>
  return %r : tensor<3x5x11xf32>
}

// CRC32C of a byte buffer: a sequential reduction over the bytes (the update
// is not associative), then the final xor. crc32c_9 gets "123456789".
func.func @crc32c_9(%buf: tensor<9xi8>) -> tensor<1xi32> attributes {peng.data_plane} {
  %init = arith.constant -1 : i32
  %e = tensor.empty() : tensor<1xi32>
  %f = linalg.fill ins(%init : i32) outs(%e : tensor<1xi32>) -> tensor<1xi32>
  %c = linalg.generic {indexing_maps = [affine_map<(o, n) -> (n)>, affine_map<(o, n) -> (o)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%buf : tensor<9xi8>) outs(%f : tensor<1xi32>) {
  ^bb0(%b: i8, %acc: i32):
    %one = arith.constant 1 : i32
    %zero = arith.constant 0 : i32
    %poly = arith.constant 0x82F63B78 : i32
    %byte = arith.extui %b : i8 to i32
    %x0 = arith.xori %acc, %byte : i32
    %l0 = arith.andi %x0, %one : i32
    %m0 = arith.subi %zero, %l0 : i32
    %p0 = arith.andi %m0, %poly : i32
    %s0 = arith.shrui %x0, %one : i32
    %x1 = arith.xori %s0, %p0 : i32
    %l1 = arith.andi %x1, %one : i32
    %m1 = arith.subi %zero, %l1 : i32
    %p1 = arith.andi %m1, %poly : i32
    %s1 = arith.shrui %x1, %one : i32
    %x2 = arith.xori %s1, %p1 : i32
    %l2 = arith.andi %x2, %one : i32
    %m2 = arith.subi %zero, %l2 : i32
    %p2 = arith.andi %m2, %poly : i32
    %s2 = arith.shrui %x2, %one : i32
    %x3 = arith.xori %s2, %p2 : i32
    %l3 = arith.andi %x3, %one : i32
    %m3 = arith.subi %zero, %l3 : i32
    %p3 = arith.andi %m3, %poly : i32
    %s3 = arith.shrui %x3, %one : i32
    %x4 = arith.xori %s3, %p3 : i32
    %l4 = arith.andi %x4, %one : i32
    %m4 = arith.subi %zero, %l4 : i32
    %p4 = arith.andi %m4, %poly : i32
    %s4 = arith.shrui %x4, %one : i32
    %x5 = arith.xori %s4, %p4 : i32
    %l5 = arith.andi %x5, %one : i32
    %m5 = arith.subi %zero, %l5 : i32
    %p5 = arith.andi %m5, %poly : i32
    %s5 = arith.shrui %x5, %one : i32
    %x6 = arith.xori %s5, %p5 : i32
    %l6 = arith.andi %x6, %one : i32
    %m6 = arith.subi %zero, %l6 : i32
    %p6 = arith.andi %m6, %poly : i32
    %s6 = arith.shrui %x6, %one : i32
    %x7 = arith.xori %s6, %p6 : i32
    %l7 = arith.andi %x7, %one : i32
    %m7 = arith.subi %zero, %l7 : i32
    %p7 = arith.andi %m7, %poly : i32
    %s7 = arith.shrui %x7, %one : i32
    %x8 = arith.xori %s7, %p7 : i32
    linalg.yield %x8 : i32
  } -> tensor<1xi32>
  %e2 = tensor.empty() : tensor<1xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(o) -> (o)>, affine_map<(o) -> (o)>],
                       iterator_types = ["parallel"]}
      ins(%c : tensor<1xi32>) outs(%e2 : tensor<1xi32>) {
  ^bb0(%a: i32, %o: i32):
    %ones = arith.constant -1 : i32
    %x = arith.xori %a, %ones : i32
    linalg.yield %x : i32
  } -> tensor<1xi32>
  return %r : tensor<1xi32>
}

func.func @crc32c_1031(%buf: tensor<1031xi8>) -> tensor<1xi32> attributes {peng.data_plane} {
  %init = arith.constant -1 : i32
  %e = tensor.empty() : tensor<1xi32>
  %f = linalg.fill ins(%init : i32) outs(%e : tensor<1xi32>) -> tensor<1xi32>
  %c = linalg.generic {indexing_maps = [affine_map<(o, n) -> (n)>, affine_map<(o, n) -> (o)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%buf : tensor<1031xi8>) outs(%f : tensor<1xi32>) {
  ^bb0(%b: i8, %acc: i32):
    %one = arith.constant 1 : i32
    %zero = arith.constant 0 : i32
    %poly = arith.constant 0x82F63B78 : i32
    %byte = arith.extui %b : i8 to i32
    %x0 = arith.xori %acc, %byte : i32
    %l0 = arith.andi %x0, %one : i32
    %m0 = arith.subi %zero, %l0 : i32
    %p0 = arith.andi %m0, %poly : i32
    %s0 = arith.shrui %x0, %one : i32
    %x1 = arith.xori %s0, %p0 : i32
    %l1 = arith.andi %x1, %one : i32
    %m1 = arith.subi %zero, %l1 : i32
    %p1 = arith.andi %m1, %poly : i32
    %s1 = arith.shrui %x1, %one : i32
    %x2 = arith.xori %s1, %p1 : i32
    %l2 = arith.andi %x2, %one : i32
    %m2 = arith.subi %zero, %l2 : i32
    %p2 = arith.andi %m2, %poly : i32
    %s2 = arith.shrui %x2, %one : i32
    %x3 = arith.xori %s2, %p2 : i32
    %l3 = arith.andi %x3, %one : i32
    %m3 = arith.subi %zero, %l3 : i32
    %p3 = arith.andi %m3, %poly : i32
    %s3 = arith.shrui %x3, %one : i32
    %x4 = arith.xori %s3, %p3 : i32
    %l4 = arith.andi %x4, %one : i32
    %m4 = arith.subi %zero, %l4 : i32
    %p4 = arith.andi %m4, %poly : i32
    %s4 = arith.shrui %x4, %one : i32
    %x5 = arith.xori %s4, %p4 : i32
    %l5 = arith.andi %x5, %one : i32
    %m5 = arith.subi %zero, %l5 : i32
    %p5 = arith.andi %m5, %poly : i32
    %s5 = arith.shrui %x5, %one : i32
    %x6 = arith.xori %s5, %p5 : i32
    %l6 = arith.andi %x6, %one : i32
    %m6 = arith.subi %zero, %l6 : i32
    %p6 = arith.andi %m6, %poly : i32
    %s6 = arith.shrui %x6, %one : i32
    %x7 = arith.xori %s6, %p6 : i32
    %l7 = arith.andi %x7, %one : i32
    %m7 = arith.subi %zero, %l7 : i32
    %p7 = arith.andi %m7, %poly : i32
    %s7 = arith.shrui %x7, %one : i32
    %x8 = arith.xori %s7, %p7 : i32
    linalg.yield %x8 : i32
  } -> tensor<1xi32>
  %e2 = tensor.empty() : tensor<1xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(o) -> (o)>, affine_map<(o) -> (o)>],
                       iterator_types = ["parallel"]}
      ins(%c : tensor<1xi32>) outs(%e2 : tensor<1xi32>) {
  ^bb0(%a: i32, %o: i32):
    %ones = arith.constant -1 : i32
    %x = arith.xori %a, %ones : i32
    linalg.yield %x : i32
  } -> tensor<1xi32>
  return %r : tensor<1xi32>
}
