// Helpers shared by the runtime's unit tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "peng/peng.h"
#include "peng/peng.hpp"

namespace peng::test {

// A file under the test's temp dir, removed at scope exit.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents = "") {
    path_ = testing::TempDir() + "peng_" + std::to_string(getpid()) + "_" + name;
    if (!contents.empty()) {
      std::ofstream(path_) << contents;
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline peng_arg_desc_t Arg(peng_dtype_t dtype, peng_access_t access,
                           std::initializer_list<int64_t> shape) {
  peng_arg_desc_t a{};
  a.dtype = dtype;
  a.access = access;
  a.rank = uint32_t(shape.size());
  std::copy(shape.begin(), shape.end(), a.shape);
  return a;
}

inline peng_native_kernel_def_t Def(const char* name, peng_kernel_fn_t fn,
                                    const std::vector<peng_arg_desc_t>& args,
                                    uint32_t constants = 0, const char* target = "host") {
  peng_native_kernel_def_t d{};
  d.name = name;
  d.target = target;
  d.fn = fn;
  d.arg_count = uint32_t(args.size());
  d.args = args.data();  // callers keep `args` alive until the module is created
  d.constant_count = constants;
  return d;
}

// A runtime on a platform profile given inline.
inline peng::Runtime RuntimeWithProfile(const TempFile& profile, peng_policy_t policy,
                                        bool trace = false) {
  peng_runtime_options_t o = peng::Runtime::default_options();
  o.platform_path = profile.path().c_str();
  o.policy = policy;
  o.enable_trace = trace ? 1 : 0;
  return peng::Runtime(o);
}

#define EXPECT_STATUS(expected, expr)                                                   \
  do {                                                                                  \
    peng_status_t st_ = (expr);                                                         \
    EXPECT_EQ(st_, expected) << peng_status_string(st_) << ": " << peng_last_error_message(); \
  } while (0)

}  // namespace peng::test
