// Intrusive reference counting for runtime objects: tasks in flight keep the
// buffers, kernels and graphs they use alive after the user released them.
//
//   class Buffer : public RefCounted<Buffer> { ... };
//   Ref<Buffer> b = MakeRef<Buffer>(...);   // count 1
//   Ref<Buffer> c = b;                       // count 2
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace peng::rt {

class RefCountedBase {
 public:
  void AddRef() const { count_.fetch_add(1, std::memory_order_relaxed); }
  // Returns true when the last reference went away.
  bool ReleaseRef() const { return count_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  uint32_t ref_count() const { return count_.load(std::memory_order_relaxed); }

 protected:
  RefCountedBase() = default;
  RefCountedBase(const RefCountedBase&) = delete;
  RefCountedBase& operator=(const RefCountedBase&) = delete;

 private:
  mutable std::atomic<uint32_t> count_{1};
};

template <typename T>
class RefCounted : public RefCountedBase {
 public:
  void Release() const {
    if (ReleaseRef()) delete static_cast<const T*>(this);
  }

 protected:
  ~RefCounted() = default;
};

// Owns one reference.
template <typename T>
class Ref {
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}
  // Adopts a reference the caller already holds.
  static Ref Adopt(T* p) {
    Ref r;
    r.p_ = p;
    return r;
  }
  // Takes a new reference.
  explicit Ref(T* p) : p_(p) {
    if (p_) p_->AddRef();
  }
  Ref(const Ref& o) : p_(o.p_) {
    if (p_) p_->AddRef();
  }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <typename U>
  Ref(Ref<U>&& o) noexcept : p_(o.Leak()) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_) p_->Release();
  }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  T* Leak() { return std::exchange(p_, nullptr); }
  bool operator==(const Ref& o) const { return p_ == o.p_; }

 private:
  T* p_ = nullptr;
};

template <typename T, typename... Args>
Ref<T> MakeRef(Args&&... args) {
  return Ref<T>::Adopt(new T(std::forward<Args>(args)...));
}

}  // namespace peng::rt
