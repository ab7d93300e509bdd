//===- Gemm.cpp - the tiled matmul kernel of the opencl target ------------===//
//
// One kernel text for every device; its tile shapes are macros fixed when
// the program is built for a device (printGemmPreamble):
//
// - a device with dedicated __local memory (a GPU, most NPUs) stages a
//   KT-deep slice of A and B in __local tiles shared by a WX x WY
//   work-group; each work-item keeps a register tile of RM rows by one
//   vector of VN = 4 columns (vector loads from __local);
// - a device whose __local memory is ordinary memory (a CPU device such as
//   PoCL) reads A and B straight from global memory, where its caches do
//   the staging, and each work-item keeps RM = 8 rows by one vector of the
//   device's preferred width (16 floats on AVX-512): the per-work-item
//   vector code is what a CPU device runs fast (a work-group is a loop over
//   its work-items there, and a barrier spills every live register).
//
// Work-groups stride over the output's tiles, so any grid is correct.
//
//===----------------------------------------------------------------------===//
#include "Gemm.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::peng::opencl;

namespace {

void replaceAll(std::string &text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string upper(std::string s) {
  for (char &c : s)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The row-major stride of dimension `pos` of argument `name` (rank `rank`).
std::string stride(const std::string &name, int64_t rank, int64_t pos) {
  if (pos < 0)
    return "0";
  std::string s;
  for (int64_t d = pos + 1; d < rank; ++d)
    s += (s.empty() ? "" : " * ") + name + "_d" + std::to_string(d);
  return s.empty() ? "1" : s;
}

/// `x` of type `from` as the accumulator type `acc`, for one cast kind.
std::string scalarCast(const std::string &castKind, Type from, const std::string &acc,
                       const std::string &x) {
  if (castKind.empty())
    return x;
  if (castKind == "extui" || castKind == "uitofp")
    return "(" + acc + ")(" + unsignedType(from) + ")(" + x + ")";
  return "(" + acc + ")(" + x + ")";
}

/// The same for a vector of VN elements of type `from`.
std::string vectorCast(const std::string &castKind, Type from, const std::string &acc,
                       const std::string &x) {
  if (castKind.empty())
    return x;
  std::string vn = "PENG_GEMM_VN_" + acc;
  std::string convert = "PENG_CAT(convert_, PENG_CAT(" + acc + ", " + vn + "))";
  if (castKind == "extui" || castKind == "uitofp")
    return convert + "(PENG_CAT(as_, PENG_CAT(" + unsignedType(from) + ", " + vn + "))(" + x +
           "))";
  return convert + "(" + x + ")";
}

// The kernel. $-names are filled in per kernel; PENG_GEMM_* come from the
// preamble. Rows and columns past the output's edge read the last row or
// column (valid memory) in the global-memory variant; their sums are never
// stored.
constexpr const char *kKernel = R"CL(__kernel __attribute__((reqd_work_group_size(PENG_GEMM_WX, PENG_GEMM_WY, 1)))
void $NAME($PARAMS) {
  // $WHAT
  typedef PENG_CAT($TC, PENG_GEMM_VN_$TC) vec_t;
  const long M = $M, N = $N, K = $K, batches = $NB;
  const long sAb = $SAB, sAm = $SAM, sAk = $SAK;
  const long sBb = $SBB, sBk = $SBK, sBn = $SBN;
  const long sCb = $SCB, sCm = $SCM, sCn = $SCN;
  const int tx = (int)get_local_id(0), ty = (int)get_local_id(1);
  const long tile_m = PENG_GEMM_WY * PENG_GEMM_RM, tile_n = PENG_GEMM_WX * PENG_GEMM_VN_$TC;
  const long tiles_m = (M + tile_m - 1) / tile_m, tiles_n = (N + tile_n - 1) / tile_n;
#if PENG_GEMM_LOCAL
  __local $TC tile_a[PENG_GEMM_KT][PENG_GEMM_WY * PENG_GEMM_RM];
  __local $TC tile_b[PENG_GEMM_KT][PENG_GEMM_WX * PENG_GEMM_VN_$TC];
  const int lid = ty * PENG_GEMM_WX + tx;
#endif
  for (long bt = (long)get_group_id(2); bt < batches; bt += (long)get_num_groups(2)) {
    __global const $TA* a = $A + bt * sAb;
    __global const $TB* b = $B + bt * sBb;
    __global $TC* c = $C + bt * sCb;
    for (long tm = (long)get_group_id(1); tm < tiles_m; tm += (long)get_num_groups(1)) {
      for (long tn = (long)get_group_id(0); tn < tiles_n; tn += (long)get_num_groups(0)) {
        const long row0 = tm * tile_m + ty * PENG_GEMM_RM;
        const long col0 = tn * tile_n + tx * PENG_GEMM_VN_$TC;
        vec_t acc[PENG_GEMM_RM];
        for (int r = 0; r < PENG_GEMM_RM; ++r) acc[r] = (vec_t)($INIT);
#if PENG_GEMM_LOCAL
        for (long k0 = 0; k0 < K; k0 += PENG_GEMM_KT) {
          for (int i = lid; i < PENG_GEMM_KT * tile_m; i += PENG_GEMM_WX * PENG_GEMM_WY) {
            const int kk = i % PENG_GEMM_KT, mm = i / PENG_GEMM_KT;
            const long m = tm * tile_m + mm, k = k0 + kk;
            tile_a[kk][mm] = m < M && k < K ? $CVTA(a[m * sAm + k * sAk]) : ($TC)0;
          }
          for (int i = lid; i < PENG_GEMM_KT * tile_n; i += PENG_GEMM_WX * PENG_GEMM_WY) {
            const int nn = i % tile_n, kk = i / tile_n;
            const long n = tn * tile_n + nn, k = k0 + kk;
            tile_b[kk][nn] = n < N && k < K ? $CVTB(b[k * sBk + n * sBn]) : ($TC)0;
          }
          barrier(CLK_LOCAL_MEM_FENCE);
          for (int kk = 0; kk < PENG_GEMM_KT; ++kk) {
            const vec_t bv = PENG_CAT(vload, PENG_GEMM_VN_$TC)(0, &tile_b[kk][tx * PENG_GEMM_VN_$TC]);
            for (int r = 0; r < PENG_GEMM_RM; ++r)
              acc[r] = $MAC(acc[r], (vec_t)(tile_a[kk][ty * PENG_GEMM_RM + r]), bv);
          }
          barrier(CLK_LOCAL_MEM_FENCE);
        }
#else
        __global const $TA* ar[PENG_GEMM_RM];
        for (int r = 0; r < PENG_GEMM_RM; ++r) ar[r] = a + min(row0 + r, M - 1) * sAm;
        if ($BCONTIG && col0 + PENG_GEMM_VN_$TC <= N) {
          __global const $TB* bc = b + col0;
          for (long k = 0; k < K; ++k) {
            const vec_t bv = $VCVTB(PENG_CAT(vload, PENG_GEMM_VN_$TC)(0, bc + k * sBk));
            for (int r = 0; r < PENG_GEMM_RM; ++r)
              acc[r] = $MAC(acc[r], (vec_t)($CVTA(ar[r][k * sAk])), bv);
          }
        } else {
          for (long k = 0; k < K; ++k) {
            $TC t[PENG_GEMM_VN_$TC];
            for (int j = 0; j < PENG_GEMM_VN_$TC; ++j)
              t[j] = $CVTB(b[k * sBk + min(col0 + j, N - 1) * sBn]);
            const vec_t bv = PENG_CAT(vload, PENG_GEMM_VN_$TC)(0, t);
            for (int r = 0; r < PENG_GEMM_RM; ++r)
              acc[r] = $MAC(acc[r], (vec_t)($CVTA(ar[r][k * sAk])), bv);
          }
        }
#endif
        for (int r = 0; r < PENG_GEMM_RM && row0 + r < M; ++r) {
          __global $TC* cr = c + (row0 + r) * sCm;
          $CIN
          if ($CCONTIG && col0 + PENG_GEMM_VN_$TC <= N) {
            PENG_CAT(vstore, PENG_GEMM_VN_$TC)($VSUM, 0, cr + col0);
          } else {
            $TC t[PENG_GEMM_VN_$TC];
            PENG_CAT(vstore, PENG_GEMM_VN_$TC)(acc[r], 0, t);
            for (int j = 0; j < PENG_GEMM_VN_$TC && col0 + j < N; ++j)
              cr[(col0 + j) * sCn] = $SSUM;
          }
        }
      }
    }
  }
}
)CL";

} // namespace

LogicalResult mlir::peng::opencl::printGemmKernel(func::FuncOp func, llvm::raw_ostream &os,
                                                  std::set<std::string> &extensions,
                                                  std::set<std::string> &accumulators) {
  auto gemm = func->getAttrOfType<DictionaryAttr>("peng.opencl.gemm");
  auto num = [&](StringRef key) { return cast<IntegerAttr>(gemm.get(key)).getInt(); };
  auto dims = [&](StringRef key) {
    SmallVector<int64_t, 4> out;
    for (Attribute a : cast<ArrayAttr>(gemm.get(key)))
      out.push_back(cast<IntegerAttr>(a).getInt());
    return out;
  };
  auto str = [&](StringRef key) { return cast<StringAttr>(gemm.get(key)).str(); };
  int64_t argA = num("a"), argB = num("b"), argC = num("c");

  // Names and types by role, as the loop kernels have them: in0, out0, ...
  std::vector<std::string> names;
  std::vector<MemRefType> types;
  unsigned inputs = 0, outputs = 0;
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (!type)
      break;
    bool out = int64_t(arg.getArgNumber()) == argC;
    names.push_back(out ? "out" + std::to_string(outputs++) : "in" + std::to_string(inputs++));
    types.push_back(type);
  }
  std::string params, sep;
  for (size_t i = 0; i < names.size(); ++i) {
    Type elem = types[i].getElementType();
    std::string t = scalarType(elem);
    if (t.empty())
      return func.emitOpError("has an argument of type ")
                 << types[i] << ", which target opencl does not support",
             failure();
    if (elem.isF16())
      extensions.insert("cl_khr_fp16");
    if (elem.isF64())
      extensions.insert("cl_khr_fp64");
    bool out = int64_t(i) == argC;
    params += sep + "__global " + (out ? "" : "const ") + t + "* " + names[i];
    sep = ", ";
  }
  for (size_t i = 0; i < names.size(); ++i)
    for (int64_t d = 0; d < types[i].getRank(); ++d)
      params += sep + "long " + names[i] + "_d" + std::to_string(d);

  Type elemA = types[argA].getElementType(), elemB = types[argB].getElementType(),
       elemC = types[argC].getElementType();
  std::string ta = scalarType(elemA), tb = scalarType(elemB), tc = scalarType(elemC);
  accumulators.insert(tc);
  SmallVector<int64_t, 4> da = dims("a_dims"), db = dims("b_dims"), dc = dims("c_dims");
  const std::string &na = names[argA], &nb = names[argB], &nc = names[argC];
  int64_t ra = types[argA].getRank(), rb = types[argB].getRank(), rc = types[argC].getRank();
  auto dimOf = [](const std::string &name, int64_t pos) {
    return pos < 0 ? std::string("1L") : name + "_d" + std::to_string(pos);
  };

  std::string castA = str("a_cast"), castB = str("b_cast");
  bool isFloat = isa<FloatType>(elemC);
  std::string init = "0", what;
  // C's old values come from C itself, or from another argument (c_in).
  std::string old = "cr";
  if (Attribute value = gemm.get("init")) {
    init = isa<FloatAttr>(value) ? floatLiteral(cast<FloatAttr>(value))
                                 : integerLiteral(cast<IntegerAttr>(value));
    what = "C = " + init + " + A * B";
  } else if (gemm.get("c_in")) {
    old = "ci";
    what = "C = " + names[num("c_in")] + " + A * B";
  } else {
    what = "C += A * B";
  }
  what += dc[0] >= 0 ? " for each batch" : "";
  what += " (tiled matmul; A is " + na + ", B is " + nb + ")";
  // Integer sums wrap around (as the loop kernels' integer arithmetic does):
  // the multiply-add is done on the unsigned type of the same width.
  std::string mac, vsum, ssum;
  bool accumulate = !gemm.get("init");
  if (isFloat) {
    mac = "PENG_GEMM_MAD";
    vsum = accumulate ? "PENG_CAT(vload, PENG_GEMM_VN_" + tc + ")(0, " + old + " + col0) + acc[r]"
                      : "acc[r]";
    ssum = accumulate ? old + "[(col0 + j) * sCn] + t[j]" : "t[j]";
  } else {
    std::string ut = unsignedType(elemC);
    mac = "PENG_GEMM_MAD_" + tc;
    std::string uvec = "PENG_CAT(as_, PENG_CAT(" + ut + ", PENG_GEMM_VN_" + tc + "))";
    vsum = accumulate ? "PENG_CAT(as_, PENG_CAT(" + tc + ", PENG_GEMM_VN_" + tc + "))(" + uvec + "(PENG_CAT(vload, PENG_GEMM_VN_" + tc +
                            ")(0, " + old + " + col0)) + " + uvec + "(acc[r]))"
                      : "acc[r]";
    ssum = accumulate ? "(" + tc + ")((" + ut + ")" + old + "[(col0 + j) * sCn] + (" + ut + ")t[j])"
                      : "t[j]";
  }

  std::string text = kKernel;
  // Longest names first: $SAB before $SA..., $VCVTB before $CVTB.
  std::vector<std::pair<std::string, std::string>> subst = {
      {"$PARAMS", params},
      {"$NAME", func.getSymName().str()},
      {"$WHAT", what},
      {"$SAB", stride(na, ra, da[0])},
      {"$SAM", stride(na, ra, da[1])},
      {"$SAK", stride(na, ra, da[3])},
      {"$SBB", stride(nb, rb, db[0])},
      {"$SBK", stride(nb, rb, db[3])},
      {"$SBN", stride(nb, rb, db[2])},
      {"$SCB", stride(nc, rc, dc[0])},
      {"$SCM", stride(nc, rc, dc[1])},
      {"$SCN", stride(nc, rc, dc[2])},
      {"$NB", dimOf(nc, dc[0])},
      {"$MAC", mac},
      {"$M", dimOf(nc, dc[1])},
      {"$N", dimOf(nc, dc[2])},
      {"$K", dimOf(na, da[3])},
      {"$BCONTIG", db[2] == rb - 1 ? "1" : "0"},
      {"$CCONTIG", dc[2] == rc - 1 ? "1" : "0"},
      {"$VCVTB(", vectorCast(castB, elemB, tc, "\x01") + "\x02"},
      {"$CVTA(", scalarCast(castA, elemA, tc, "\x01") + "\x02"},
      {"$CVTB(", scalarCast(castB, elemB, tc, "\x01") + "\x02"},
      {"$VSUM", vsum},
      {"$SSUM", ssum},
      {"$CIN", gemm.get("c_in") ? "__global const " + tc + "* ci = " + names[num("c_in")] +
                                      " + bt * sCb + (row0 + r) * sCm;"
                                : "// C's old values: C itself"},
      {"$INIT", init},
      {"$TA", ta},
      {"$TB", tb},
      {"$TC", tc},
      {"$A", na},
      {"$B", nb},
      {"$C", nc},
  };
  for (auto &[from, to] : subst) {
    if (from.back() != '(') {
      replaceAll(text, from, to);
      continue;
    }
    // A cast around a parenthesised argument: `to` holds \x01 where the
    // argument goes, \x02 after it; find the matching parenthesis.
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from)) {
      size_t open = at + from.size() - 1, depth = 0, close = open;
      for (; close < text.size(); ++close) {
        if (text[close] == '(')
          ++depth;
        else if (text[close] == ')' && --depth == 0)
          break;
      }
      std::string arg = text.substr(open + 1, close - open - 1);
      std::string repl = to.substr(0, to.size() - 1);
      replaceAll(repl, "\x01", arg);
      text.replace(at, close + 1 - at, repl);
    }
  }
  os << text;
  return success();
}

void mlir::peng::opencl::printGemmPreamble(llvm::raw_ostream &os,
                                           const std::set<std::string> &accumulators) {
  os << R"CL(// Tile shapes of the matmul kernels, fixed when the program is built for a
// device: the runtime passes the device's limits as PENG_DEVICE_* build
// options; a -DPENG_GEMM_* option overrides a choice.
#define PENG_CAT_(a, b) a##b
#define PENG_CAT(a, b) PENG_CAT_(a, b)
#ifndef PENG_DEVICE_MAX_WORK_GROUP_SIZE
#define PENG_DEVICE_MAX_WORK_GROUP_SIZE 64
#endif
#ifndef PENG_DEVICE_LOCAL_MEM_SIZE
#define PENG_DEVICE_LOCAL_MEM_SIZE 16384
#endif
#ifndef PENG_GEMM_LOCAL
#if defined(PENG_DEVICE_LOCAL_MEM_DEDICATED) && !PENG_DEVICE_LOCAL_MEM_DEDICATED
#define PENG_GEMM_LOCAL 0
#else
#define PENG_GEMM_LOCAL 1
#endif
#endif
#ifndef PENG_GEMM_WX
#if PENG_GEMM_LOCAL && PENG_DEVICE_MAX_WORK_GROUP_SIZE >= 256
#define PENG_GEMM_WX 16
#define PENG_GEMM_WY 16
#elif PENG_DEVICE_MAX_WORK_GROUP_SIZE >= 64
#define PENG_GEMM_WX 8
#define PENG_GEMM_WY 8
#elif PENG_DEVICE_MAX_WORK_GROUP_SIZE >= 16
#define PENG_GEMM_WX 4
#define PENG_GEMM_WY 4
#else
#define PENG_GEMM_WX 1
#define PENG_GEMM_WY 1
#endif
#endif
#ifndef PENG_GEMM_RM
#define PENG_GEMM_RM (PENG_GEMM_LOCAL ? 4 : 8)
#endif
#define PENG_GEMM_MAD(acc, a, b) ((acc) + (a) * (b))
)CL";
  // The vector width per accumulator type: 4 from __local tiles; a CPU
  // device's preferred width (its SIMD registers) from global memory.
  for (const std::string &t : accumulators) {
    std::string vn = "PENG_GEMM_VN_" + t, pref = "PENG_DEVICE_VECTOR_WIDTH_" + upper(t);
    os << "#ifndef " << vn << "\n";
    os << "#if !PENG_GEMM_LOCAL && " << pref << " >= 16\n#define " << vn << " 16\n";
    os << "#elif !PENG_GEMM_LOCAL && " << pref << " >= 8\n#define " << vn << " 8\n";
    os << "#else\n#define " << vn << " 4\n#endif\n#endif\n";
    if (t != "float" && t != "double" && t != "half") {
      std::string ut = t == "char" ? "uchar" : t == "short" ? "ushort" : t == "int" ? "uint"
                                                                                    : "ulong";
      std::string uvec = "PENG_CAT(as_, PENG_CAT(" + ut + ", " + vn + "))";
      os << "#define PENG_GEMM_MAD_" << t << "(acc, a, b) PENG_CAT(as_, PENG_CAT(" << t << ", "
         << vn << "))(" << uvec << "(acc) + " << uvec << "(a) * " << uvec << "(b))\n";
    }
  }
  // __local tiles: as deep as fits half the device's __local memory (8-byte
  // elements at most; the rest is the driver's).
  os << R"CL(#ifndef PENG_GEMM_KT
#define PENG_GEMM_TILE_BYTES(kt) ((kt) * (PENG_GEMM_WY * PENG_GEMM_RM + PENG_GEMM_WX * 16) * 8)
#if PENG_GEMM_TILE_BYTES(16) <= PENG_DEVICE_LOCAL_MEM_SIZE / 2
#define PENG_GEMM_KT 16
#elif PENG_GEMM_TILE_BYTES(8) <= PENG_DEVICE_LOCAL_MEM_SIZE / 2
#define PENG_GEMM_KT 8
#elif PENG_GEMM_TILE_BYTES(4) <= PENG_DEVICE_LOCAL_MEM_SIZE / 2
#define PENG_GEMM_KT 4
#else
#define PENG_GEMM_KT 1
#endif
#endif

)CL";
}
