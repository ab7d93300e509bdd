#include "base/handle_table.h"

#include <gtest/gtest.h>

namespace peng::rt {

struct Thing : RefCounted<Thing> {
  explicit Thing(int v) : value(v) {}
  int value;
};
struct Other : RefCounted<Other> {};
template <>
struct HandleTraits<Thing> {
  static constexpr HandleType kType = HandleType::kBuffer;
};
template <>
struct HandleTraits<Other> {
  static constexpr HandleType kType = HandleType::kGraph;
};

namespace {

TEST(HandleTable, InsertLookupRemove) {
  auto& table = HandleTable<Thing>::Get();
  Ref<Thing> t = MakeRef<Thing>(7);
  uint64_t h = table.Insert(t.get());
  ASSERT_NE(h, 0u);
  EXPECT_EQ(t->ref_count(), 2u);  // the table holds one
  ASSERT_EQ(table.Lookup(h), t.get());
  Ref<Thing> removed = table.Remove(h);
  EXPECT_EQ(removed.get(), t.get());
  EXPECT_EQ(table.Lookup(h), nullptr);
  EXPECT_FALSE(table.Remove(h));
}

TEST(HandleTable, StaleHandleStaysDeadAfterSlotReuse) {
  auto& table = HandleTable<Thing>::Get();
  Ref<Thing> a = MakeRef<Thing>(1), b = MakeRef<Thing>(2);
  uint64_t ha = table.Insert(a.get());
  table.Remove(ha);
  uint64_t hb = table.Insert(b.get());
  EXPECT_EQ(uint32_t(ha), uint32_t(hb)) << "the slot is reused";
  EXPECT_EQ(table.Lookup(ha), nullptr);
  EXPECT_EQ(table.Lookup(hb), b.get());
  table.Remove(hb);
}

TEST(HandleTable, TypeTagAndGarbageAreChecked) {
  Ref<Thing> t = MakeRef<Thing>(3);
  uint64_t h = HandleTable<Thing>::Get().Insert(t.get());
  EXPECT_EQ(HandleTable<Other>::Get().Lookup(h), nullptr);
  for (uint64_t junk : {uint64_t(0), uint64_t(1), ~uint64_t(0), uint64_t(0xdeadbeef),
                        h + 1, h ^ (uint64_t(1) << 40)}) {
    EXPECT_EQ(HandleTable<Thing>::Get().Lookup(junk), nullptr) << std::hex << junk;
  }
  HandleTable<Thing>::Get().Remove(h);
}

TEST(HandleTable, ManyHandlesGrowAcrossChunks) {
  auto& table = HandleTable<Thing>::Get();
  std::vector<Ref<Thing>> things;
  std::vector<uint64_t> handles;
  for (int i = 0; i < 10000; ++i) {
    things.push_back(MakeRef<Thing>(i));
    handles.push_back(table.Insert(things.back().get()));
  }
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(table.Lookup(handles[i])->value, i);
  for (uint64_t h : handles) table.Remove(h);
  for (auto& t : things) EXPECT_EQ(t->ref_count(), 1u);
}

}  // namespace
}  // namespace peng::rt
