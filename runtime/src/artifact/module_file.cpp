#include "artifact/module_file.h"

#include <array>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

namespace peng::artifact {
namespace {

using nlohmann::json;

constexpr size_t kBlobAlign = 64;
constexpr size_t kBlobEntrySize = 24;  // u64 offset, u64 size, u32 crc, u32 reserved
// Generous limits that keep a hostile file from asking for absurd allocations.
constexpr size_t kMaxMetadata = 64u << 20;
constexpr uint32_t kMaxBlobs = 1u << 16;

struct Header {
  uint32_t format_version;
  uint32_t kernel_abi_version;
  uint64_t file_size;
  uint64_t meta_offset;
  uint64_t meta_size;
  uint32_t meta_crc;
  uint32_t blob_count;
  uint64_t blob_table_offset;
  uint32_t header_crc;
};

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
void Put64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = uint8_t(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}
size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

const char* AccessName(peng_access_t a) {
  switch (a) {
    case PENG_ACCESS_READ: return "read";
    case PENG_ACCESS_WRITE: return "write";
    case PENG_ACCESS_READWRITE: return "readwrite";
  }
  return "?";
}

constexpr std::array<std::pair<peng_dtype_t, const char*>, 10> kDtypes = {{
    {PENG_DTYPE_F32, "f32"},
    {PENG_DTYPE_F16, "f16"},
    {PENG_DTYPE_BF16, "bf16"},
    {PENG_DTYPE_F64, "f64"},
    {PENG_DTYPE_I8, "i8"},
    {PENG_DTYPE_U8, "u8"},
    {PENG_DTYPE_I16, "i16"},
    {PENG_DTYPE_I32, "i32"},
    {PENG_DTYPE_I64, "i64"},
    {PENG_DTYPE_BOOL, "bool"},
}};

// A checked reader over the metadata JSON: the first problem wins and names
// where it was found.
class Reader {
 public:
  explicit Reader(std::string* error) : error_(error) {}
  bool failed() const { return failed_; }

  bool Fail(const std::string& where, const std::string& what) {
    if (!failed_) *error_ = "module.peng metadata: " + where + ": " + what;
    failed_ = true;
    return false;
  }
  const json* Field(const json& obj, const char* key, json::value_t type, const std::string& where,
                    bool required = true) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Fail(where, std::string("missing '") + key + "'");
      return nullptr;
    }
    bool ok = it->type() == type ||
              (type == json::value_t::number_integer && it->is_number_unsigned()) ||
              (type == json::value_t::number_float && it->is_number());
    if (!ok) {
      Fail(where, std::string("'") + key + "' has the wrong type");
      return nullptr;
    }
    return &*it;
  }
  bool String(const json& obj, const char* key, const std::string& where, std::string* out,
              bool required = true) {
    const json* v = Field(obj, key, json::value_t::string, where, required);
    if (v) *out = v->get<std::string>();
    return v != nullptr || (!required && !failed_);
  }
  bool Int(const json& obj, const char* key, const std::string& where, int64_t lo, int64_t hi,
           int64_t* out, bool required = true) {
    const json* v = Field(obj, key, json::value_t::number_integer, where, required);
    if (!v) return !required && !failed_;
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)) {
      return Fail(where, std::string("'") + key + "' is out of range");
    }
    int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) return Fail(where, std::string("'") + key + "' is out of range");
    *out = x;
    return true;
  }
  bool Number(const json& obj, const char* key, const std::string& where, double* out) {
    const json* v = Field(obj, key, json::value_t::number_float, where);
    if (!v) return false;
    double x = v->get<double>();
    if (!std::isfinite(x) || x < 0) return Fail(where, std::string("'") + key + "' is not a count");
    *out = x;
    return true;
  }

 private:
  std::string* error_;
  bool failed_ = false;
};

bool DecodeKernel(Reader& r, const json& jk, size_t index, KernelInfo* k) {
  std::string where = "kernel " + std::to_string(index);
  if (!jk.is_object()) return r.Fail(where, "not an object");
  if (!r.String(jk, "name", where, &k->name)) return false;
  if (k->name.empty() || k->name.size() >= PENG_MAX_NAME) return r.Fail(where, "bad name");
  where = "kernel '" + k->name + "'";
  const json* args = r.Field(jk, "args", json::value_t::array, where);
  if (!args) return false;
  for (size_t i = 0; i < args->size(); ++i) {
    const json& ja = (*args)[i];
    std::string aw = where + " argument " + std::to_string(i);
    if (!ja.is_object()) return r.Fail(aw, "not an object");
    ArgInfo a;
    std::string dtype, access;
    if (!r.String(ja, "dtype", aw, &dtype) || !r.String(ja, "access", aw, &access)) return false;
    auto dt = DtypeFromName(dtype);
    if (!dt) return r.Fail(aw, "unknown dtype '" + dtype + "'");
    a.dtype = *dt;
    if (access == "read") a.access = PENG_ACCESS_READ;
    else if (access == "write") a.access = PENG_ACCESS_WRITE;
    else if (access == "readwrite") a.access = PENG_ACCESS_READWRITE;
    else return r.Fail(aw, "unknown access '" + access + "'");
    const json* shape = r.Field(ja, "shape", json::value_t::array, aw);
    if (!shape) return false;
    if (shape->size() > PENG_MAX_RANK) return r.Fail(aw, "rank above PENG_MAX_RANK");
    for (const json& d : *shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < -1) return r.Fail(aw, "bad dimension");
      a.shape.push_back(d.get<int64_t>());
    }
    k->args.push_back(std::move(a));
  }
  int64_t constants = 0;
  if (!r.Int(jk, "constants", where, 0, 1 << 16, &constants)) return false;
  k->constant_count = uint32_t(constants);
  if (!r.Number(jk, "flops", where, &k->flops) || !r.Number(jk, "bytes", where, &k->bytes)) {
    return false;
  }
  if (const json* pairs = r.Field(jk, "in_place", json::value_t::array, where, false)) {
    for (const json& jp : *pairs) {
      int64_t last = int64_t(k->args.size()) - 1;
      if (!jp.is_array() || jp.size() != 2 || !jp[0].is_number_integer() ||
          !jp[1].is_number_integer() || jp[0].get<int64_t>() < 0 || jp[0].get<int64_t>() > last ||
          jp[1].get<int64_t>() < 0 || jp[1].get<int64_t>() > last ||
          jp[0].get<int64_t>() == jp[1].get<int64_t>()) {
        return r.Fail(where, "'in_place' holds a pair that is not two distinct argument indices");
      }
      k->in_place.emplace_back(jp[0].get<uint32_t>(), jp[1].get<uint32_t>());
    }
  } else if (r.failed()) {
    return false;
  }
  std::string kernel_class = "compute";
  if (!r.String(jk, "class", where, &kernel_class, false)) return false;
  if (kernel_class == "data_plane") k->data_plane = true;
  else if (kernel_class != "compute") {
    return r.Fail(where, "unknown class '" + kernel_class + "' (compute or data_plane)");
  }
  return true;
}

bool DecodeLaunch(Reader& r, const json& je, const std::string& where, const KernelInfo& k,
                  LaunchInfo* launch) {
  const json* grid = r.Field(je, "grid", json::value_t::array, where);
  if (!grid) return false;
  if (grid->size() > 3) return r.Fail(where, "grid has more than 3 dimensions");
  for (size_t g = 0; g < grid->size(); ++g) {
    const json& jg = (*grid)[g];
    std::string gw = where + " grid " + std::to_string(g);
    if (!jg.is_object()) return r.Fail(gw, "not an object");
    int64_t arg, dim, tile;
    if (!r.Int(jg, "arg", gw, 0, int64_t(k.args.size()) - 1, &arg) ||
        !r.Int(jg, "dim", gw, 0, PENG_MAX_RANK - 1, &dim) ||
        !r.Int(jg, "tile", gw, 1, UINT32_MAX, &tile)) {
      return false;
    }
    if (size_t(dim) >= k.args[size_t(arg)].shape.size()) return r.Fail(gw, "no such dimension");
    launch->grid[g] = {uint32_t(arg), uint32_t(dim), uint32_t(tile)};
  }
  if (const json* wg = r.Field(je, "workgroup_size", json::value_t::array, where, false)) {
    if (wg->size() != 3) return r.Fail(where, "'workgroup_size' is not 3 numbers");
    // [0, 0, 0]: the executable's own (an OpenCL kernel's reqd_work_group_size,
    // else the driver's choice); otherwise each size is at least 1.
    bool own = true;
    for (const json& d : *wg) own = own && d.is_number_integer() && d.get<int64_t>() == 0;
    for (size_t i = 0; i < 3 && !own; ++i) {
      const json& d = (*wg)[i];
      if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (1 << 16)) {
        return r.Fail(where, "'workgroup_size' holds a size out of [1, 65536] (or is not [0, 0, 0])");
      }
      launch->workgroup_size[i] = d.get<uint32_t>();
    }
    if (own) launch->workgroup_size[0] = launch->workgroup_size[1] = launch->workgroup_size[2] = 0;
  } else if (r.failed()) {
    return false;
  }
  int64_t workspace = 0;
  // At most 1 GiB per workgroup: a larger figure is corruption, not a kernel.
  if (!r.Int(je, "workspace", where, 0, int64_t(1) << 30, &workspace, false)) return false;
  launch->workspace = uint64_t(workspace);
  return true;
}

bool DecodeExecutable(Reader& r, const json& jx, size_t index, uint32_t blob_count,
                      const std::vector<KernelInfo>& kernels, Executable* x, uint32_t* blob) {
  std::string where = "executable " + std::to_string(index);
  if (!jx.is_object()) return r.Fail(where, "not an object");
  int64_t b = 0, min_vlen = 0, max_vlen = 0;
  if (!r.String(jx, "target", where, &x->target) || !r.String(jx, "format", where, &x->format) ||
      !r.String(jx, "arch", where, &x->arch, false) || !r.String(jx, "cpu", where, &x->cpu, false) ||
      !r.Int(jx, "blob", where, 0, int64_t(blob_count) - 1, &b) ||
      !r.Int(jx, "min_vlen", where, 0, 1 << 16, &min_vlen, false) ||
      !r.Int(jx, "max_vlen", where, 0, 1 << 16, &max_vlen, false)) {
    return false;
  }
  if (x->target.empty() || x->target.size() >= PENG_MAX_NAME) return r.Fail(where, "bad target");
  if (x->format.empty()) return r.Fail(where, "empty format");
  if (max_vlen && min_vlen > max_vlen) return r.Fail(where, "min_vlen above max_vlen");
  x->min_vlen = uint32_t(min_vlen);
  x->max_vlen = uint32_t(max_vlen);
  *blob = uint32_t(b);
  if (const json* features = r.Field(jx, "features", json::value_t::array, where, false)) {
    for (const json& f : *features) {
      if (!f.is_string() || f.get<std::string>().empty() || f.get<std::string>().size() > 64) {
        return r.Fail(where, "'features' holds something that is not a feature name");
      }
      x->features.push_back(f.get<std::string>());
    }
  } else if (r.failed()) {
    return false;
  }
  const json* entries = r.Field(jx, "entries", json::value_t::array, where);
  if (!entries) return false;
  if (entries->empty()) return r.Fail(where, "no entries");
  for (size_t e = 0; e < entries->size(); ++e) {
    const json& je = (*entries)[e];
    std::string ew = where + " entry " + std::to_string(e);
    if (!je.is_object()) return r.Fail(ew, "not an object");
    Entry entry;
    std::string kernel;
    if (!r.String(je, "kernel", ew, &kernel) || !r.String(je, "symbol", ew, &entry.symbol)) {
      return false;
    }
    if (entry.symbol.empty()) return r.Fail(ew, "empty symbol");
    size_t k = 0;
    while (k < kernels.size() && kernels[k].name != kernel) ++k;
    if (k == kernels.size()) return r.Fail(ew, "no kernel named '" + kernel + "'");
    for (const Entry& other : x->entries) {
      if (other.kernel == k) return r.Fail(ew, "a second entry for kernel '" + kernel + "'");
    }
    entry.kernel = uint32_t(k);
    if (!DecodeLaunch(r, je, ew + " ('" + kernel + "')", kernels[k], &entry.launch)) return false;
    x->entries.push_back(std::move(entry));
  }
  return true;
}

}  // namespace

const char* DtypeName(peng_dtype_t dtype) {
  for (const auto& [d, n] : kDtypes) {
    if (d == dtype) return n;
  }
  return "invalid";
}

std::optional<peng_dtype_t> DtypeFromName(const std::string& name) {
  for (const auto& [d, n] : kDtypes) {
    if (name == n) return d;
  }
  return std::nullopt;
}

size_t DtypeSize(peng_dtype_t dtype) {
  switch (dtype) {
    case PENG_DTYPE_F64: case PENG_DTYPE_I64: return 8;
    case PENG_DTYPE_F32: case PENG_DTYPE_I32: return 4;
    case PENG_DTYPE_F16: case PENG_DTYPE_BF16: case PENG_DTYPE_I16: return 2;
    case PENG_DTYPE_I8: case PENG_DTYPE_U8: case PENG_DTYPE_BOOL: return 1;
    default: return 0;
  }
}

uint32_t Crc32c(const void* data, size_t size, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> Serialize(const ModuleFile& module) {
  json meta;
  meta["producer"] = module.producer;
  json kernels = json::array();
  for (const KernelInfo& k : module.kernels) {
    json jk;
    jk["name"] = k.name;
    json args = json::array();
    for (const ArgInfo& a : k.args) {
      args.push_back({{"dtype", DtypeName(a.dtype)}, {"access", AccessName(a.access)},
                      {"shape", a.shape}});
    }
    jk["args"] = std::move(args);
    jk["constants"] = k.constant_count;
    jk["flops"] = k.flops;
    jk["bytes"] = k.bytes;
    jk["class"] = k.data_plane ? "data_plane" : "compute";
    if (!k.in_place.empty()) {
      json pairs = json::array();
      for (auto [out, in] : k.in_place) pairs.push_back({out, in});
      jk["in_place"] = std::move(pairs);
    }
    kernels.push_back(std::move(jk));
  }
  meta["kernels"] = std::move(kernels);
  json executables = json::array();
  std::vector<const std::vector<uint8_t>*> blobs;
  for (const Executable& x : module.executables) {
    // Executables may share an image (a VLEN range over the same code):
    // store each distinct blob once.
    size_t blob = blobs.size();
    for (size_t i = 0; i < blobs.size(); ++i) {
      if (*blobs[i] == x.code) blob = i;
    }
    if (blob == blobs.size()) blobs.push_back(&x.code);
    json jx = {{"target", x.target}, {"format", x.format}, {"blob", blob}};
    if (!x.arch.empty()) jx["arch"] = x.arch;
    if (!x.cpu.empty()) jx["cpu"] = x.cpu;
    if (!x.features.empty()) jx["features"] = x.features;
    if (x.min_vlen) jx["min_vlen"] = x.min_vlen;
    if (x.max_vlen) jx["max_vlen"] = x.max_vlen;
    json entries = json::array();
    for (const Entry& e : x.entries) {
      json je = {{"kernel", e.kernel < module.kernels.size() ? module.kernels[e.kernel].name : ""},
                 {"symbol", e.symbol}};
      json grid = json::array();
      for (const peng_grid_dim_t& g : e.launch.grid) {
        if (g.tile == 0) break;
        grid.push_back({{"arg", g.arg}, {"dim", g.dim}, {"tile", g.tile}});
      }
      je["grid"] = std::move(grid);
      je["workgroup_size"] = e.launch.workgroup_size;
      if (e.launch.workspace) je["workspace"] = e.launch.workspace;
      entries.push_back(std::move(je));
    }
    jx["entries"] = std::move(entries);
    executables.push_back(std::move(jx));
  }
  meta["executables"] = std::move(executables);
  std::vector<std::vector<uint8_t>> blob_copies;
  for (const auto* b : blobs) blob_copies.push_back(*b);
  return SerializeRaw(meta.dump(1), blob_copies);
}

std::vector<uint8_t> SerializeRaw(const std::string& text,
                                  const std::vector<std::vector<uint8_t>>& blob_data) {
  std::vector<const std::vector<uint8_t>*> blobs;
  for (const auto& b : blob_data) blobs.push_back(&b);

  size_t meta_offset = kHeaderSize;
  size_t table_offset = AlignUp(meta_offset + text.size(), 8);
  size_t blob_offset = AlignUp(table_offset + blobs.size() * kBlobEntrySize, kBlobAlign);
  std::vector<size_t> offsets;
  size_t end = blob_offset;
  for (const auto* b : blobs) {
    offsets.push_back(end);
    end = AlignUp(end + b->size(), kBlobAlign);
  }
  std::vector<uint8_t> out(end, 0);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  Put32(out, 8, kFormatVersion);
  Put32(out, 12, PENG_KERNEL_ABI_VERSION);
  Put64(out, 16, out.size());
  Put64(out, 24, meta_offset);
  Put64(out, 32, text.size());
  Put32(out, 40, Crc32c(text.data(), text.size()));
  Put32(out, 44, uint32_t(blobs.size()));
  Put64(out, 48, table_offset);
  std::memcpy(out.data() + meta_offset, text.data(), text.size());
  for (size_t i = 0; i < blobs.size(); ++i) {
    size_t e = table_offset + i * kBlobEntrySize;
    Put64(out, e, offsets[i]);
    Put64(out, e + 8, blobs[i]->size());
    Put32(out, e + 16, Crc32c(blobs[i]->data(), blobs[i]->size()));
    if (!blobs[i]->empty()) std::memcpy(out.data() + offsets[i], blobs[i]->data(), blobs[i]->size());
  }
  Put32(out, 56, Crc32c(out.data(), 56));
  return out;
}

std::optional<ModuleFile> Parse(const uint8_t* data, size_t size, std::string* error) {
  std::string scratch;
  if (!error) error = &scratch;
  auto fail = [&](std::string message) -> std::optional<ModuleFile> {
    *error = std::move(message);
    return std::nullopt;
  };
  if (!data && size) return fail("module.peng: no data");
  if (size < kHeaderSize) return fail("module.peng: truncated (" + std::to_string(size) +
                                      " bytes, the header alone is 64)");
  if (std::memcmp(data, kMagic, sizeof kMagic) != 0) {
    return fail("module.peng: not a Peng module (bad magic)");
  }
  Header h;
  h.format_version = Get32(data + 8);
  h.kernel_abi_version = Get32(data + 12);
  h.file_size = Get64(data + 16);
  h.meta_offset = Get64(data + 24);
  h.meta_size = Get64(data + 32);
  h.meta_crc = Get32(data + 40);
  h.blob_count = Get32(data + 44);
  h.blob_table_offset = Get64(data + 48);
  h.header_crc = Get32(data + 56);
  if (h.header_crc != Crc32c(data, 56)) return fail("module.peng: header checksum mismatch");
  if (h.format_version != kFormatVersion) {
    return fail("module.peng: format version " + std::to_string(h.format_version) +
                ", this runtime reads version " + std::to_string(kFormatVersion) +
                (h.format_version < kFormatVersion ? "; compile it again with this release's pengc"
                                                   : "; it needs a newer runtime"));
  }
  if (h.kernel_abi_version != PENG_KERNEL_ABI_VERSION) {
    return fail("module.peng: kernel ABI version " + std::to_string(h.kernel_abi_version) +
                ", this runtime provides version " + std::to_string(PENG_KERNEL_ABI_VERSION));
  }
  if (h.file_size != size) {
    return fail("module.peng: truncated or padded: header says " + std::to_string(h.file_size) +
                " bytes, got " + std::to_string(size));
  }
  auto in_file = [&](uint64_t off, uint64_t len) {
    return off >= kHeaderSize && off <= size && len <= size - off;
  };
  if (h.meta_size > kMaxMetadata || !in_file(h.meta_offset, h.meta_size)) {
    return fail("module.peng: metadata range out of the file");
  }
  if (h.blob_count > kMaxBlobs || !in_file(h.blob_table_offset, uint64_t(h.blob_count) * kBlobEntrySize)) {
    return fail("module.peng: blob table out of the file");
  }
  const uint8_t* meta_bytes = data + h.meta_offset;
  if (Crc32c(meta_bytes, h.meta_size) != h.meta_crc) {
    return fail("module.peng: metadata checksum mismatch");
  }
  struct Blob {
    uint64_t offset, size;
  };
  std::vector<Blob> blobs(h.blob_count);
  for (uint32_t i = 0; i < h.blob_count; ++i) {
    const uint8_t* e = data + h.blob_table_offset + size_t(i) * kBlobEntrySize;
    blobs[i] = {Get64(e), Get64(e + 8)};
    if (!in_file(blobs[i].offset, blobs[i].size)) {
      return fail("module.peng: blob " + std::to_string(i) + " out of the file");
    }
    if (Crc32c(data + blobs[i].offset, blobs[i].size) != Get32(e + 16)) {
      return fail("module.peng: blob " + std::to_string(i) + " checksum mismatch");
    }
  }
  json meta = json::parse(meta_bytes, meta_bytes + h.meta_size, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) return fail("module.peng: metadata is not JSON");

  ModuleFile out;
  Reader r(error);
  r.String(meta, "producer", "module", &out.producer, false);
  const json* kernels = r.Field(meta, "kernels", json::value_t::array, "module");
  if (!kernels) return std::nullopt;
  out.kernels.resize(kernels->size());
  for (size_t i = 0; i < kernels->size(); ++i) {
    if (!DecodeKernel(r, (*kernels)[i], i, &out.kernels[i])) return std::nullopt;
    for (size_t j = 0; j < i; ++j) {
      if (out.kernels[j].name == out.kernels[i].name) {
        return fail("module.peng metadata: two kernels named '" + out.kernels[i].name + "'");
      }
    }
  }
  const json* executables = r.Field(meta, "executables", json::value_t::array, "module");
  if (!executables) return std::nullopt;
  out.executables.resize(executables->size());
  std::vector<uint32_t> blob_of(executables->size());
  std::vector<bool> has_code(out.kernels.size());
  for (size_t i = 0; i < executables->size(); ++i) {
    if (!DecodeExecutable(r, (*executables)[i], i, h.blob_count, out.kernels, &out.executables[i],
                          &blob_of[i])) {
      return std::nullopt;
    }
    for (const Entry& e : out.executables[i].entries) has_code[e.kernel] = true;
  }
  for (size_t k = 0; k < out.kernels.size(); ++k) {
    if (!has_code[k]) {
      return fail("module.peng metadata: kernel '" + out.kernels[k].name +
                  "' has no entry in any executable");
    }
  }
  for (size_t i = 0; i < out.executables.size(); ++i) {
    const uint8_t* p = data + blobs[blob_of[i]].offset;
    out.executables[i].code.assign(p, p + blobs[blob_of[i]].size);
  }
  return out;
}

}  // namespace peng::artifact
