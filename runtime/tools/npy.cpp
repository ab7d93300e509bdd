#include "npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

namespace peng::npy {
namespace {

struct Descr {
  const char* text;
  peng_dtype_t dtype;
  size_t size;
  const char* numpy_name;
};
constexpr Descr kDescrs[] = {
    {"<f4", PENG_DTYPE_F32, 4, "float32"}, {"<f2", PENG_DTYPE_F16, 2, "float16"},
    {"<f8", PENG_DTYPE_F64, 8, "float64"}, {"|i1", PENG_DTYPE_I8, 1, "int8"},
    {"|u1", PENG_DTYPE_U8, 1, "uint8"},    {"<i2", PENG_DTYPE_I16, 2, "int16"},
    {"<i4", PENG_DTYPE_I32, 4, "int32"},   {"<i8", PENG_DTYPE_I64, 8, "int64"},
    {"|b1", PENG_DTYPE_BOOL, 1, "bool"},
};

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// What the header says: the dtype and shape, and where the data starts.
struct Header {
  const Descr* descr = nullptr;
  std::vector<int64_t> shape;
  uint64_t data_bytes = 0;
  size_t data_offset = 0;
};

// The bytes before the header text: magic, version, header length.
constexpr size_t kMaxPreamble = 12;

// How long the preamble and header are, from the first bytes of the file.
bool HeaderSize(const uint8_t* bytes, size_t size, size_t* total, std::string* error) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) return Fail(error, "not a .npy file");
  uint8_t major = bytes[6];
  size_t header_len, offset;
  if (major == 1) {
    header_len = bytes[8] | (size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return Fail(error, "truncated .npy header");
    header_len =
        bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    return Fail(error, "unsupported .npy version " + std::to_string(major));
  }
  *total = offset + header_len;
  return true;
}

// Where the value of 'key' starts in the header's dict literal, or npos.
size_t ValueOf(std::string_view header, std::string_view key) {
  std::string quoted = "'" + std::string(key) + "'";
  size_t at = header.find(quoted);
  if (at == std::string_view::npos) return at;
  at = header.find_first_not_of(' ', at + quoted.size());
  if (at == std::string_view::npos || header[at] != ':') return std::string_view::npos;
  return header.find_first_not_of(' ', at + 1);
}

// A shape tuple such as "(3, 4)", "(5,)" or "()"; at most 2^40 elements.
bool ParseShape(std::string_view header, size_t at, Header* out, std::string* error) {
  if (at == std::string_view::npos || header[at] != '(')
    return Fail(error, ".npy header has no shape");
  uint64_t count = 1;
  out->shape.clear();
  for (size_t i = at + 1; i < header.size(); ++i) {
    char c = header[i];
    if (c == ')') {
      out->data_bytes = count * out->descr->size;
      return true;
    }
    if (c == ' ' || c == ',') continue;
    if (c < '0' || c > '9') return Fail(error, ".npy shape is malformed");
    uint64_t v = 0;
    for (; i < header.size() && header[i] >= '0' && header[i] <= '9'; ++i) {
      v = v * 10 + uint64_t(header[i] - '0');
      if (v > (uint64_t(1) << 40)) return Fail(error, ".npy shape is too large");
    }
    --i;
    if (v && count > (uint64_t(1) << 40) / v) return Fail(error, ".npy shape is too large");
    out->shape.push_back(int64_t(v));
    count *= v;
  }
  return Fail(error, ".npy shape is malformed");
}

// Parses the preamble and header text, bytes[0, size) holding at least both.
// By hand: a std::regex costs more to compile than reading a 256x256 array.
bool ParseHeader(const uint8_t* bytes, size_t size, Header* out, std::string* error) {
  size_t total = 0;
  if (!HeaderSize(bytes, size, &total, error)) return false;
  if (total > size) return Fail(error, "truncated .npy header");
  size_t offset = bytes[6] == 1 ? 10 : 12;
  std::string_view header(reinterpret_cast<const char*>(bytes + offset), total - offset);
  size_t at = ValueOf(header, "descr");
  size_t end = at == std::string_view::npos || header[at] != '\'' ? std::string_view::npos
                                                                  : header.find('\'', at + 1);
  if (end == std::string_view::npos) return Fail(error, ".npy header has no descr");
  std::string descr(header.substr(at + 1, end - at - 1));
  if (descr.size() == 3 && descr[0] == '=') descr[0] = '<';
  if (descr == "<i1") descr = "|i1";
  if (descr == "<u1") descr = "|u1";
  if (descr == "<b1") descr = "|b1";
  for (const Descr& c : kDescrs) {
    if (descr == c.text) out->descr = &c;
  }
  if (!out->descr) return Fail(error, ".npy dtype '" + descr + "' is not supported");
  at = ValueOf(header, "fortran_order");
  if (at != std::string_view::npos && header.substr(at, 4) == "True") {
    return Fail(error, "Fortran-order .npy arrays are not supported");
  }
  if (!ParseShape(header, ValueOf(header, "shape"), out, error)) return false;
  out->data_offset = total;
  return true;
}

std::string Truncated(uint64_t want, uint64_t have) {
  return ".npy data is truncated: need " + std::to_string(want) + " bytes, have " +
         std::to_string(have);
}

std::string ErrnoText() { return std::strerror(errno); }

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

}  // namespace

bool Parse(const uint8_t* bytes, size_t size, Array* out, std::string* error) {
  Header h;
  if (!ParseHeader(bytes, size, &h, error)) return false;
  if (size - h.data_offset < h.data_bytes) {
    return Fail(error, Truncated(h.data_bytes, size - h.data_offset));
  }
  out->dtype = h.descr->dtype;
  out->shape = std::move(h.shape);
  out->data.assign(bytes + h.data_offset, bytes + h.data_offset + h.data_bytes);
  return true;
}

bool Read(const std::string& path, Array* out, std::string* error) {
  auto fail = [&](const std::string& what) { return Fail(error, path + ": " + what); };
  File f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Fail(error, "cannot open '" + path + "': " + ErrnoText());
  // The preamble says how long the header is; the data follows it, read in
  // one piece straight into the array.
  std::vector<uint8_t> header(kMaxPreamble);
  header.resize(std::fread(header.data(), 1, header.size(), f.get()));
  size_t total = 0;
  std::string why;
  if (!HeaderSize(header.data(), header.size(), &total, &why)) return fail(why);
  if (total > header.size()) {
    size_t have = header.size();
    header.resize(total);
    header.resize(have + std::fread(header.data() + have, 1, total - have, f.get()));
  }
  Header h;
  if (!ParseHeader(header.data(), header.size(), &h, &why)) return fail(why);
  // Drop any bytes of the data read with the preamble (a header shorter than
  // kMaxPreamble): go back to where the data starts.
  if (std::fseek(f.get(), long(h.data_offset), SEEK_SET) != 0) return fail(ErrnoText());
  out->data.resize(h.data_bytes);
  size_t got = std::fread(out->data.data(), 1, out->data.size(), f.get());
  if (got != h.data_bytes) {
    if (std::ferror(f.get())) return Fail(error, "cannot read '" + path + "': " + ErrnoText());
    return fail(Truncated(h.data_bytes, got));
  }
  out->dtype = h.descr->dtype;
  out->shape = std::move(h.shape);
  return true;
}

bool Write(const std::string& path, const Array& a, std::string* error) {
  const Descr* d = nullptr;
  for (const Descr& c : kDescrs) {
    if (c.dtype == a.dtype) d = &c;
  }
  if (!d) {
    return Fail(error,
                "cannot write '" + path + "': .npy has no " + peng_dtype_name(a.dtype) + " dtype");
  }
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) {
    shape +=
        std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  }
  shape += ")";
  std::string header =
      "{'descr': '" + std::string(d->text) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts 64-byte aligned, ending the header with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  uint16_t len = uint16_t(header.size());
  std::string preamble("\x93NUMPY\x01\x00", 8);
  preamble += char(len & 0xff);
  preamble += char(len >> 8);
  File f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) return Fail(error, "cannot create '" + path + "': " + ErrnoText());
  bool ok = std::fwrite(preamble.data(), 1, preamble.size(), f.get()) == preamble.size() &&
            std::fwrite(header.data(), 1, header.size(), f.get()) == header.size() &&
            std::fwrite(a.data.data(), 1, a.data.size(), f.get()) == a.data.size();
  // fclose flushes: its failure is a failed write too.
  if (!ok || std::fclose(f.release()) != 0) {
    return Fail(error, "cannot write '" + path + "': " + ErrnoText());
  }
  return true;
}

const char* NumpyName(peng_dtype_t dtype) {
  for (const Descr& c : kDescrs) {
    if (c.dtype == dtype) return c.numpy_name;
  }
  return nullptr;
}

}  // namespace peng::npy
