// Status handling inside the runtime: a code plus a message, and Result<T>.
//
//   Result<Buffer*> r = MakeBuffer(...);
//   if (!r) return r.status();          // propagates code and message
//   return Error(PENG_ERROR_INVALID_ARGUMENT, "size ", size, " exceeds ", max);
//
// At the C ABI, Report(status) stores the message for peng_last_error_message()
// and returns the bare code.
#pragma once

#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include "peng/peng.h"

namespace peng::rt {

class Status {
 public:
  Status() = default;
  Status(peng_status_t code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == PENG_OK; }
  peng_status_t code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  peng_status_t code_ = PENG_OK;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

template <typename... Parts>
Status Error(peng_status_t code, const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return Status(code, out.str());
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : value_(std::move(status)) {}

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(value_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? OkStatus() : std::get<1>(value_); }

 private:
  std::variant<T, Status> value_;
};

// The integer in a C enum that came across the ABI. C callers may pass any
// int; loading it as the C++ enum type would be undefined if out of range.
template <typename E>
int RawEnum(const E& e) {
  static_assert(sizeof(E) == sizeof(int));
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

// Records the message for peng_last_error_message() on this thread.
peng_status_t Report(const Status& status);
peng_status_t Report(peng_status_t code, const std::string& message);

#define PENG_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::peng::rt::Status peng_status_ = (expr); \
    if (!peng_status_.ok()) return peng_status_; \
  } while (0)

}  // namespace peng::rt
