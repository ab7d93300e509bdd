#include "sched/perf_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

namespace peng::rt {
namespace {

TEST(PerfModels, UncalibratedUntilEnoughSamples) {
  PerfModels m;
  EXPECT_LT(m.PredictUs("k", 10, "cpu0"), 0);
  m.Record("k", 10, "cpu0", 5);
  m.Record("k", 10, "cpu0", 5);
  EXPECT_LT(m.PredictUs("k", 10, "cpu0"), 0);
  m.Record("k", 10, "cpu0", 5);
  EXPECT_DOUBLE_EQ(m.PredictUs("k", 10, "cpu0"), 5);
  EXPECT_LT(m.PredictUs("k", 11, "cpu0"), 0) << "buckets are separate";
  EXPECT_LT(m.PredictUs("k", 10, "npu0"), 0) << "devices are separate";
}

TEST(PerfModels, MedianIgnoresOutliers) {
  PerfModels m;
  for (double v : {10.0, 11.0, 9.0, 5000.0, 10.0, 0.001, 10.5}) m.Record("k", 1, "d", v);
  EXPECT_NEAR(m.PredictUs("k", 1, "d"), 10.0, 0.01);
}

TEST(PerfModels, KeepsOnlyRecentSamples) {
  PerfModels m;
  for (int i = 0; i < 100; ++i) m.Record("k", 1, "d", 100);
  for (int i = 0; i < PerfModels::kMaxSamples; ++i) m.Record("k", 1, "d", 20);
  EXPECT_DOUBLE_EQ(m.PredictUs("k", 1, "d"), 20);
  EXPECT_EQ(m.SampleCount("k", 1, "d"), 100u + PerfModels::kMaxSamples);
}

TEST(PerfModels, RejectsNonsenseSamples) {
  PerfModels m;
  for (int i = 0; i < 5; ++i) m.Record("k", 1, "d", -1);
  m.Record("k", 1, "d", std::nan(""));
  EXPECT_EQ(m.SampleCount("k", 1, "d"), 0u);
}

TEST(PerfModels, SizeBucketsSplitDoublingsInFour) {
  EXPECT_EQ(SizeBucket(0), 0u);
  EXPECT_EQ(SizeBucket(1024), SizeBucket(1100));
  EXPECT_NE(SizeBucket(1024), SizeBucket(2048));
  EXPECT_EQ(SizeBucket(2048) - SizeBucket(1024), 4u);
}

TEST(PerfModels, TransferModelLearnsBandwidth) {
  PerfModels m;
  LinkParams link{2.0, 10.0};  // profile: 2 GB/s, 10 µs
  EXPECT_NEAR(m.PredictTransferUs(1, 2'000'000, link), 10 + 1000, 1e-6);
  for (int i = 0; i < 5; ++i) m.RecordTransfer(1, 8'000'000, 1000);  // measured 8 GB/s
  EXPECT_NEAR(m.PredictTransferUs(1, 2'000'000, link), 10 + 250, 1e-6);
  m.RecordTransfer(2, 100, 1);  // small copies teach nothing about bandwidth
  EXPECT_NEAR(m.PredictTransferUs(2, 2'000'000, link), 1010, 1e-6);
}

TEST(PerfModels, SaveAndReload) {
  std::string path = testing::TempDir() + "peng_perf_models_test.json";
  std::vector<std::string> spaces = {"host", "npu0"};
  {
    PerfModels m;
    for (double v : {3.0, 4.0, 5.0, 400.0}) m.Record("matmul", 40, "npu0", v);
    for (int i = 0; i < 3; ++i) m.RecordTransfer(1, 1 << 20, 100);
    ASSERT_TRUE(m.Save(path, spaces).ok());
  }
  PerfModels loaded;
  Status st = loaded.Load(path, spaces);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_DOUBLE_EQ(loaded.PredictUs("matmul", 40, "npu0"), 4.5);
  EXPECT_EQ(loaded.SampleCount("matmul", 40, "npu0"), 4u);
  EXPECT_NEAR(loaded.PredictTransferUs(1, 1 << 20, LinkParams{}), 100, 0.01);
  std::remove(path.c_str());
}

TEST(PerfModels, MissingFileStartsEmptyCorruptFileFails) {
  PerfModels m;
  EXPECT_TRUE(m.Load("/nonexistent/models.json", {"host"}).ok());
  std::string path = testing::TempDir() + "peng_perf_models_bad.json";
  std::ofstream(path) << R"({"format":"peng-perf-models","version":1,"history":[)"
                         R"({"kernel":"k","bucket":1,"device":"d","samples_us":[-4]}],"links":[]})";
  Status st = m.Load(path, {"host"});
  EXPECT_EQ(st.code(), PENG_ERROR_CORRUPT_DATA);
  EXPECT_NE(st.message().find("negative"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace peng::rt
