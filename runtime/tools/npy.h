// NumPy .npy files (format versions 1-3, little-endian, C order), for
// peng-run and the tests.
//
//   peng::npy::Array a;
//   std::string error;
//   if (!peng::npy::Read("x.npy", &a, &error)) ...
//   peng::npy::Write("y.npy", a, &error);
//
// Read and Write move the data in one fread/fwrite: no per-element work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "peng/peng.h"

namespace peng::npy {

struct Array {
  peng_dtype_t dtype = PENG_DTYPE_F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // C order, little-endian
};

bool Read(const std::string& path, Array* out, std::string* error);
bool Write(const std::string& path, const Array& array, std::string* error);
// Parses a whole .npy image held in memory.
bool Parse(const uint8_t* bytes, size_t size, Array* out, std::string* error);

// NumPy's name of a dtype ("float64"), or nullptr where NumPy has none (bf16).
const char* NumpyName(peng_dtype_t dtype);

}  // namespace peng::npy
