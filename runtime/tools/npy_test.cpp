// The .npy reader and writer: every dtype round-trips, every truncation and
// malformed header is an error message, never a crash.
#include "npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace peng::npy {
namespace {

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "peng_npy_" + std::to_string(getpid()) + "_" + name;
}

// A version 1.0 image with `header` as its dict text, padded as NumPy pads it.
std::vector<uint8_t> Image(std::string header, size_t data_bytes, int major = 1) {
  size_t preamble = major == 1 ? 10 : 12;
  size_t total = preamble + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < preamble - 8; ++i) b.push_back(uint8_t(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(uint8_t(i * 7 + 1));
  return b;
}

std::string Header(const std::string& descr, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

TEST(Npy, EveryDtypeRoundTrips) {
  const peng_dtype_t dtypes[] = {PENG_DTYPE_F32, PENG_DTYPE_F16, PENG_DTYPE_F64,
                                 PENG_DTYPE_I8,  PENG_DTYPE_U8,  PENG_DTYPE_I16,
                                 PENG_DTYPE_I32, PENG_DTYPE_I64, PENG_DTYPE_BOOL};
  for (peng_dtype_t dtype : dtypes) {
    Array a;
    a.dtype = dtype;
    a.shape = {3, 1, 5};
    a.data.resize(15 * peng_dtype_size(dtype));
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = uint8_t(i * 13 + 5);
    if (dtype == PENG_DTYPE_BOOL) {
      for (auto& b : a.data) b &= 1;
    }
    std::string path = TempPath(std::string(peng_dtype_name(dtype)) + ".npy");
    std::string error;
    ASSERT_TRUE(Write(path, a, &error)) << error;
    Array back;
    ASSERT_TRUE(Read(path, &back, &error)) << peng_dtype_name(dtype) << ": " << error;
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.shape, a.shape);
    EXPECT_EQ(back.data, a.data) << peng_dtype_name(dtype);
    // NumPy's layout: the data starts 64-byte aligned.
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ((bytes.size() - a.data.size()) % 64, 0u);
    std::remove(path.c_str());
  }
}

TEST(Npy, ScalarsAndVersion2Headers) {
  Array a;
  std::string error;
  auto scalar = Image(Header("<f8", "()"), 8);
  ASSERT_TRUE(Parse(scalar.data(), scalar.size(), &a, &error)) << error;
  EXPECT_EQ(a.dtype, PENG_DTYPE_F64);
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.data.size(), 8u);
  auto v2 = Image(Header("=i4", "(2, 3)"), 24, 2);
  ASSERT_TRUE(Parse(v2.data(), v2.size(), &a, &error)) << error;
  EXPECT_EQ(a.dtype, PENG_DTYPE_I32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, std::vector<uint8_t>(v2.end() - 24, v2.end()));
}

TEST(Npy, EveryTruncationIsAnError) {
  auto image = Image(Header("<f4", "(3, 4)"), 48);
  for (size_t size = 0; size < image.size(); ++size) {
    Array a;
    std::string error;
    EXPECT_FALSE(Parse(image.data(), size, &a, &error)) << "size " << size;
    EXPECT_FALSE(error.empty()) << "size " << size;
  }
}

TEST(Npy, MalformedHeadersAreErrors) {
  struct Case {
    std::string header;
    const char* message;
  };
  const Case cases[] = {
      {"{'fortran_order': False, 'shape': (3,), }", "no descr"},
      {Header("<c8", "(3,)"), "dtype '<c8' is not supported"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", "Fortran-order"},
      {"{'descr': '<f4', 'fortran_order': False, }", "no shape"},
      {Header("<f4", "(3, x)"), "shape is malformed"},
      {Header("<f4", "(3, 4"), "shape is malformed"},
      {Header("<f4", "(1099511627777,)"), "shape is too large"},
      {Header("<f4", "(1048576, 1048577)"), "shape is too large"},
      {Header("<f4", "(99999999999999999999999999,)"), "shape is too large"},
  };
  for (const Case& c : cases) {
    auto image = Image(c.header, 64);
    Array a;
    std::string error;
    EXPECT_FALSE(Parse(image.data(), image.size(), &a, &error)) << c.header;
    EXPECT_NE(error.find(c.message), std::string::npos) << c.header << " gave: " << error;
  }
  auto v4 = Image(Header("<f4", "(3,)"), 12);
  v4[6] = 4;
  Array a;
  std::string error;
  EXPECT_FALSE(Parse(v4.data(), v4.size(), &a, &error));
  EXPECT_EQ(error, "unsupported .npy version 4");
}

TEST(Npy, ReadNamesTheFileAndTheProblem) {
  Array a;
  std::string error;
  std::string missing = TempPath("missing.npy");
  EXPECT_FALSE(Read(missing, &a, &error));
  EXPECT_EQ(error, "cannot open '" + missing + "': No such file or directory");

  auto image = Image(Header("<f4", "(3, 4)"), 40);  // 8 bytes short
  std::string path = TempPath("short.npy");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()), std::streamsize(image.size()));
  EXPECT_FALSE(Read(path, &a, &error));
  EXPECT_EQ(error, path + ": .npy data is truncated: need 48 bytes, have 40");
  std::remove(path.c_str());
}

TEST(Npy, WriteNamesWhatItCannotWrite) {
  Array a;
  a.dtype = PENG_DTYPE_BF16;
  a.shape = {1};
  a.data.resize(2);
  std::string error;
  EXPECT_FALSE(Write(TempPath("bf16.npy"), a, &error));
  EXPECT_NE(error.find(".npy has no bf16 dtype"), std::string::npos) << error;
  a.dtype = PENG_DTYPE_F16;
  EXPECT_FALSE(Write("/nonexistent/dir/x.npy", a, &error));
  EXPECT_EQ(error, "cannot create '/nonexistent/dir/x.npy': No such file or directory");
}

}  // namespace
}  // namespace peng::npy
