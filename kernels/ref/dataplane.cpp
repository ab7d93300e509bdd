#include "dataplane.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace peng::ref {
namespace {

uint32_t BitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
float FloatOf(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

// |x| rounded to a binary format with `digits` significant bits and smallest
// normal exponent `min_exp` (x = f * 2^e, 1 <= f < 2), ties to even; below
// 2^min_exp the spacing stays 2^(min_exp - digits + 1) (subnormals).
double RoundToFormat(double a, int digits, int min_exp) {
  int e = 0;
  std::frexp(a, &e); // a in [2^(e-1), 2^e)
  int exponent = std::max(e - 1, min_exp);
  double ulp = std::ldexp(1.0, exponent - digits + 1);
  return std::nearbyint(a / ulp) * ulp; // the default rounding: to nearest, ties to even
}

} // namespace

Bytes TransposeBytes(const Bytes &x, const std::vector<int64_t> &shape,
                     const std::vector<int64_t> &perm, size_t elem) {
  size_t rank = shape.size();
  std::vector<int64_t> out_shape(rank), x_strides(rank, 1);
  for (size_t d = 0; d < rank; ++d)
    out_shape[d] = shape[perm[d]];
  for (size_t d = rank; d-- > 1;)
    x_strides[d - 1] = x_strides[d] * shape[d];
  Bytes y(x.size());
  std::vector<int64_t> index(rank, 0); // in the output
  for (size_t flat = 0; flat < x.size() / elem; ++flat) {
    int64_t from = 0;
    for (size_t d = 0; d < rank; ++d)
      from += index[d] * x_strides[perm[d]];
    std::memcpy(&y[flat * elem], &x[size_t(from) * elem], elem);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_shape[d])
        break;
      index[d] = 0;
    }
  }
  return y;
}

int64_t RowIndex(int64_t index, int64_t rows) {
  if (index < 0)
    index += rows;
  return std::clamp<int64_t>(index, 0, rows - 1);
}

Bytes GatherRows(const Bytes &table, int64_t rows, size_t row_bytes,
                 const std::vector<int64_t> &indices) {
  Bytes out(indices.size() * row_bytes);
  for (size_t i = 0; i < indices.size(); ++i) {
    std::memcpy(&out[i * row_bytes], &table[size_t(RowIndex(indices[i], rows)) * row_bytes],
                row_bytes);
  }
  return out;
}

Bytes ScatterRows(const Bytes &table, int64_t rows, size_t row_bytes,
                  const std::vector<int64_t> &indices, const Bytes &updates) {
  Bytes out = table;
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t row = indices[i] < 0 ? indices[i] + rows : indices[i];
    if (row < 0 || row >= rows)
      continue;
    std::memcpy(&out[size_t(row) * row_bytes], &updates[i * row_bytes], row_bytes);
  }
  return out;
}

Bytes Pack2d(const Bytes &x, int64_t M, int64_t N, int64_t m, int64_t n, size_t elem,
             const Bytes &pad) {
  int64_t tiles_m = (M + m - 1) / m, tiles_n = (N + n - 1) / n;
  Bytes out(size_t(tiles_m * tiles_n * m * n) * elem);
  size_t at = 0;
  for (int64_t ti = 0; ti < tiles_m; ++ti)
    for (int64_t tj = 0; tj < tiles_n; ++tj)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j, at += elem) {
          int64_t r = ti * m + i, c = tj * n + j;
          const uint8_t *from = r < M && c < N ? &x[size_t(r * N + c) * elem] : pad.data();
          std::memcpy(&out[at], from, elem);
        }
  return out;
}

Bytes Unpack2d(const Bytes &tiles, int64_t M, int64_t N, int64_t m, int64_t n, size_t elem) {
  int64_t tiles_n = (N + n - 1) / n;
  Bytes out(size_t(M * N) * elem);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      int64_t from = (((r / m) * tiles_n + c / n) * m + r % m) * n + c % n;
      std::memcpy(&out[size_t(r * N + c) * elem], &tiles[size_t(from) * elem], elem);
    }
  return out;
}

uint16_t F32ToF16(float x) {
  uint32_t bits = BitsOf(x);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  if (std::isnan(x))
    return uint16_t(sign | 0x7e00 | ((bits >> 13) & 0x3ff));
  double a = std::fabs(double(x));
  if (std::isinf(a))
    return uint16_t(sign | 0x7c00);
  if (a == 0)
    return sign;
  // binary16: 11 significant bits, normal exponents -14..15.
  double r = RoundToFormat(a, 11, -14);
  if (r >= 65536.0)
    return uint16_t(sign | 0x7c00); // above 65504 = (2 - 2^-10) 2^15
  if (r < std::ldexp(1.0, -14))
    return uint16_t(sign | uint16_t(r * std::ldexp(1.0, 24)));
  int e = 0;
  double f = std::frexp(r, &e); // r = f 2^e, f in [0.5, 1)
  uint16_t mantissa = uint16_t(f * 2048.0 - 1024.0);
  return uint16_t(sign | ((e - 1 + 15) << 10) | mantissa);
}

float F16ToF32(uint16_t h) {
  bool negative = (h & 0x8000) != 0;
  int exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) {
    if (mantissa == 0)
      return negative ? -INFINITY : INFINITY;
    return FloatOf((negative ? 0x80000000u : 0u) | 0x7fc00000u | (mantissa << 13));
  }
  double magnitude = exponent == 0 ? std::ldexp(double(mantissa), -24)
                                   : std::ldexp(double(1024 + mantissa), exponent - 25);
  return float(negative ? -magnitude : magnitude);
}

uint16_t F32ToBf16(float x) {
  uint32_t bits = BitsOf(x);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  if (std::isnan(x))
    return uint16_t((bits >> 16) | 0x40);
  double a = std::fabs(double(x));
  if (std::isinf(a))
    return uint16_t(sign | 0x7f80);
  if (a == 0)
    return sign;
  // bfloat16: 8 significant bits, f32's exponents (-126..127).
  double r = RoundToFormat(a, 8, -126);
  if (r >= std::ldexp(1.0, 128))
    return uint16_t(sign | 0x7f80);
  // r has at most 8 significant bits within f32's range: exact as an f32,
  // whose top half is the bf16.
  return uint16_t(sign | (BitsOf(float(r)) >> 16));
}

float Bf16ToF32(uint16_t b) { return FloatOf(uint32_t(b) << 16); }

int8_t QuantizeLinear(float x, float scale, int8_t zero_point) {
  float q = x / scale;
  if (std::isnan(q))
    return -128;
  double r = std::nearbyint(double(q)) + zero_point;
  return int8_t(std::clamp(r, -128.0, 127.0));
}

float DequantizeLinear(int8_t q, float scale, int8_t zero_point) {
  return float(int32_t(q) - int32_t(zero_point)) * scale;
}

} // namespace peng::ref
