// Plain C++ references for the data-plane kernels of kernels/dataplane.mlir:
// data movement on raw bytes, floating-point format conversion, int8
// quantization and CRC32C. Each is written from its definition (IEEE 754,
// ONNX QuantizeLinear/DequantizeLinear, the Castagnoli CRC), not from the
// kernels' MLIR, and all of them are exact: the e2e tests compare bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace peng::ref {

using Bytes = std::vector<uint8_t>;

// ---- data movement on elements of `elem` bytes

// y.shape[i] = shape[perm[i]], as Transpose in ref.h.
Bytes TransposeBytes(const Bytes &x, const std::vector<int64_t> &shape,
                     const std::vector<int64_t> &perm, size_t elem);

// A row index as the gather/scatter kernels read it: negative counts from
// the end (ONNX Gather), and what is still out of [0, rows) is clamped to it
// (the kernels never read or write outside the table).
int64_t RowIndex(int64_t index, int64_t rows);

// out[i] = table[RowIndex(indices[i])]: rows of `row_bytes` bytes.
Bytes GatherRows(const Bytes &table, int64_t rows, size_t row_bytes,
                 const std::vector<int64_t> &indices);

// table with row RowIndex(indices[i]) replaced by updates[i]; a row named
// twice gets the later update; indices still out of range after wrapping
// write nothing.
Bytes ScatterRows(const Bytes &table, int64_t rows, size_t row_bytes,
                  const std::vector<int64_t> &indices, const Bytes &updates);

// [M, N] into [ceil(M/m), ceil(N/n), m, n] tiles (tensor.pack with
// inner_dims_pos = [0, 1]); positions past the matrix get `pad` (elem bytes).
Bytes Pack2d(const Bytes &x, int64_t M, int64_t N, int64_t m, int64_t n, size_t elem,
             const Bytes &pad);
// The inverse: tiles back into [M, N], the padding dropped.
Bytes Unpack2d(const Bytes &tiles, int64_t M, int64_t N, int64_t m, int64_t n, size_t elem);

// ---- IEEE 754 conversions (round to nearest, ties to even)

// NaN: a quiet NaN with the sign and the top payload bits (x86's
// vcvtps2ph); overflow: infinity; results below 2^-14 are subnormal.
uint16_t F32ToF16(float x);
// Exact; a signalling NaN comes back quiet.
float F16ToF32(uint16_t h);
// NaN: quiet, sign and top payload bits kept (vcvtneps2bf16).
uint16_t F32ToBf16(float x);
// Exact: bf16 is the top half of an f32.
float Bf16ToF32(uint16_t b);

// ---- int8 quantization (ONNX QuantizeLinear / DequantizeLinear)

// saturate(round_half_to_even(x / scale) + zero_point) to [-128, 127], the
// division in f32. NaN (undefined in ONNX) gives -128, as max(NaN, -128) =
// -128 in the kernels' maxnum clamp.
int8_t QuantizeLinear(float x, float scale, int8_t zero_point);
// (q - zero_point) * scale, one f32 rounding.
float DequantizeLinear(int8_t q, float scale, int8_t zero_point);

// ---- CRC32C (Castagnoli): reflected polynomial 0x82F63B78, initial value
// 0xFFFFFFFF, final xor 0xFFFFFFFF. Bit by bit, as the definition reads.
constexpr uint32_t Crc32c(const uint8_t *data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return crc ^ 0xFFFFFFFFu;
}

// The standard check value (RFC 3720 B.4; the CRC catalogue's "check").
constexpr uint8_t kCrcCheckInput[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
constexpr uint32_t kCrc32cCheck = 0xE3069283u;
static_assert(Crc32c(kCrcCheckInput, 9) == kCrc32cCheck, "CRC32C check value");

} // namespace peng::ref
