// Checked, typed handles for the C ABI. A handle is an index into a table
// plus a generation and a type tag, never a pointer, so a stale, foreign or
// made-up handle is detected instead of dereferenced.
//
//   uint64_t h = HandleTable<Buffer>::Get().Insert(buffer);   // table keeps a ref
//   Buffer* b = HandleTable<Buffer>::Get().Lookup(h);         // nullptr if invalid
//   Ref<Buffer> gone = HandleTable<Buffer>::Get().Remove(h);  // invalidates h
//
// Lookups take no lock: chunks never move once allocated, and each slot's
// generation is read atomically. Using an object while another thread
// releases its last handle is a caller error, as with any C API.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/ref_count.h"

namespace peng::rt {

enum class HandleType : uint8_t {
  kRuntime = 0x51,
  kDevice,
  kBuffer,
  kModule,
  kKernel,
  kGraph,
  kEvent,
};

template <typename T>
struct HandleTraits;  // defines static constexpr HandleType kType

template <typename T>
class HandleTable {
 public:
  static HandleTable& Get() {
    static HandleTable* table = new HandleTable();  // lives for the process: handles may outlive exit order
    return *table;
  }

  // Stores a new reference to `object`; returns 0 when the table is full.
  uint64_t Insert(T* object) {
    std::lock_guard<std::mutex> lock(mutex_);
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      if (next_ >= kChunkSize * kMaxChunks) return 0;
      index = next_++;
      auto& chunk = chunks_[index / kChunkSize];
      if (!chunk.load(std::memory_order_relaxed)) {
        chunk.store(new Slot[kChunkSize], std::memory_order_release);
      }
    }
    Slot& slot = SlotAt(index);
    object->AddRef();
    slot.object.store(object, std::memory_order_relaxed);
    uint32_t gen = (slot.generation.load(std::memory_order_relaxed) + 1) & kGenMask;
    if (gen == 0) gen = 1;
    slot.generation.store(gen, std::memory_order_release);
    return (uint64_t(HandleTraits<T>::kType) << 56) | (uint64_t(gen) << 32) | (index + 1);
  }

  T* Lookup(uint64_t handle) const {
    uint32_t index, gen;
    if (!Decode(handle, &index, &gen)) return nullptr;
    Slot* chunk = chunks_[index / kChunkSize].load(std::memory_order_acquire);
    if (!chunk) return nullptr;
    const Slot& slot = chunk[index % kChunkSize];
    if (slot.generation.load(std::memory_order_acquire) != gen) return nullptr;
    return slot.object.load(std::memory_order_relaxed);
  }

  // Invalidates the handle and returns the table's reference (null if invalid).
  Ref<T> Remove(uint64_t handle) {
    uint32_t index, gen;
    if (!Decode(handle, &index, &gen)) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    Slot* chunk = chunks_[index / kChunkSize].load(std::memory_order_acquire);
    if (!chunk) return nullptr;
    Slot& slot = chunk[index % kChunkSize];
    if (slot.generation.load(std::memory_order_relaxed) != gen) return nullptr;
    // Odd generations are live; bump to the next even value so lookups fail.
    slot.generation.store((gen + 1) & kGenMask, std::memory_order_release);
    T* object = slot.object.exchange(nullptr, std::memory_order_relaxed);
    free_.push_back(index);
    return Ref<T>::Adopt(object);
  }

 private:
  static constexpr uint32_t kChunkSize = 4096;
  static constexpr uint32_t kMaxChunks = 4096;
  static constexpr uint32_t kGenMask = 0xFFFFFF;

  struct Slot {
    std::atomic<uint32_t> generation{0};
    std::atomic<T*> object{nullptr};
  };

  static bool Decode(uint64_t handle, uint32_t* index, uint32_t* gen) {
    if ((handle >> 56) != uint64_t(HandleTraits<T>::kType)) return false;
    uint32_t low = uint32_t(handle);
    if (low == 0 || low > kChunkSize * kMaxChunks) return false;
    *index = low - 1;
    *gen = uint32_t(handle >> 32) & kGenMask;
    return *gen != 0;
  }

  Slot& SlotAt(uint32_t index) {
    return chunks_[index / kChunkSize].load(std::memory_order_relaxed)[index % kChunkSize];
  }

  HandleTable() = default;

  std::mutex mutex_;
  std::vector<uint32_t> free_;
  uint32_t next_ = 0;
  std::array<std::atomic<Slot*>, kMaxChunks> chunks_{};
};

}  // namespace peng::rt
