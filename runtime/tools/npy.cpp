#include "npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

namespace peng::npy {
namespace {

struct Descr {
  const char* text;
  peng_dtype_t dtype;
  size_t size;
};
constexpr Descr kDescrs[] = {
    {"<f4", PENG_DTYPE_F32, 4}, {"<f2", PENG_DTYPE_F16, 2}, {"<f8", PENG_DTYPE_F64, 8},
    {"|i1", PENG_DTYPE_I8, 1},  {"|u1", PENG_DTYPE_U8, 1},  {"<i2", PENG_DTYPE_I16, 2},
    {"<i4", PENG_DTYPE_I32, 4}, {"<i8", PENG_DTYPE_I64, 8}, {"|b1", PENG_DTYPE_BOOL, 1},
};

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

bool Parse(const uint8_t* bytes, size_t size, Array* out, std::string* error) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) return Fail(error, "not a .npy file");
  uint8_t major = bytes[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = bytes[8] | (size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return Fail(error, "truncated .npy header");
    header_len = bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) |
                 (size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    return Fail(error, "unsupported .npy version " + std::to_string(major));
  }
  if (header_len > size - offset) return Fail(error, "truncated .npy header");
  std::string header(reinterpret_cast<const char*>(bytes + offset), header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) {
    return Fail(error, ".npy header has no descr");
  }
  std::string descr = m[1];
  if (descr.size() == 3 && descr[0] == '=') descr[0] = '<';
  if (descr == "<i1") descr = "|i1";
  if (descr == "<u1") descr = "|u1";
  if (descr == "<b1") descr = "|b1";
  const Descr* d = nullptr;
  for (const Descr& c : kDescrs) {
    if (descr == c.text) d = &c;
  }
  if (!d) return Fail(error, ".npy dtype '" + descr + "' is not supported");
  if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)"))) {
    return Fail(error, "Fortran-order .npy arrays are not supported");
  }
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) {
    return Fail(error, ".npy header has no shape");
  }
  std::string dims = m[1];
  out->shape.clear();
  uint64_t count = 1;
  static const std::regex kNumber(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), kNumber), end; it != end; ++it) {
    int64_t v = std::stoll(it->str());
    if (v < 0 || (v && count > (uint64_t(1) << 40) / uint64_t(v))) {
      return Fail(error, ".npy shape is too large");
    }
    out->shape.push_back(v);
    count *= uint64_t(v);
  }
  uint64_t want = count * d->size;
  size_t data_at = offset + header_len;
  if (size - data_at < want) {
    return Fail(error, ".npy data is truncated: need " + std::to_string(want) + " bytes, have " +
                           std::to_string(size - data_at));
  }
  out->dtype = d->dtype;
  out->data.assign(bytes + data_at, bytes + data_at + want);
  return true;
}

bool Read(const std::string& path, Array* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(error, "cannot open '" + path + "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!Parse(bytes.data(), bytes.size(), out, error)) {
    if (error) *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool Write(const std::string& path, const Array& a, std::string* error) {
  const Descr* d = nullptr;
  for (const Descr& c : kDescrs) {
    if (c.dtype == a.dtype) d = &c;
  }
  if (!d) return Fail(error, "dtype cannot be written to .npy");
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) {
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  }
  shape += ")";
  std::string header = "{'descr': '" + std::string(d->text) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts 64-byte aligned, ending the header with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  if (!os) return Fail(error, "cannot create '" + path + "'");
  os.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = uint16_t(header.size());
  char le[2] = {char(len & 0xff), char(len >> 8)};
  os.write(le, 2);
  os.write(header.data(), std::streamsize(header.size()));
  os.write(reinterpret_cast<const char*>(a.data.data()), std::streamsize(a.data.size()));
  if (!os) return Fail(error, "cannot write '" + path + "'");
  return true;
}

}  // namespace peng::npy
