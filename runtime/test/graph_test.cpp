// Task graphs: dependencies from access modes and edges, priorities, events,
// first-error-wins cancellation, re-runs and concurrent submission.
#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.h"

namespace peng::test {
namespace {

constexpr int kMaxTasks = 4096;
std::atomic<int64_t> g_clock{0};
std::atomic<int64_t> g_start[kMaxTasks], g_end[kMaxTasks];
std::atomic<int> g_runs[kMaxTasks];

void ResetLog() {
  g_clock = 0;
  for (int i = 0; i < kMaxTasks; ++i) g_start[i] = -1, g_end[i] = -1, g_runs[i] = 0;
}

// Tasks that must run at the same time meet here: each arrives, then waits
// (10 s at most) for -sleep of them to have arrived. g_met says whether it saw them.
std::atomic<int> g_arrived{0};
std::atomic<bool> g_met[kMaxTasks];
void Meet(int64_t id, int64_t count) {
  g_arrived.fetch_add(1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (g_arrived.load() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  g_met[id] = g_arrived.load() >= count;
}

// constants: [task id, sleep µs (< 0: meet that many tasks), fail?]. Records
// when it ran.
int Stamp(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  int64_t id = d->constants[0];
  g_start[id] = g_clock.fetch_add(1);
  g_runs[id].fetch_add(1);
  if (d->constants[1] > 0) std::this_thread::sleep_for(std::chrono::microseconds(d->constants[1]));
  if (d->constants[1] < 0) Meet(id, -d->constants[1]);
  // Readers and writers touch the data so sanitizers see real accesses.
  for (uint32_t b = 0; b < d->binding_count; ++b) {
    auto* p = static_cast<int64_t*>(d->bindings[b]);
    if (d->ranks[b] == 1 && d->shapes[b][0] > 0) p[0] += 0;
  }
  g_end[id] = g_clock.fetch_add(1);
  return int(d->constants[2]);
}

// out[0] = in[0] * 10 + constant
int Derive(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  const auto* in = static_cast<const int64_t*>(d->bindings[0]);
  auto* out = static_cast<int64_t*>(d->bindings[1]);
  out[0] = in[0] * 10 + d->constants[0];
  return 0;
}

// Spins until g_gate is set.
std::atomic<int> g_gate{0};
int Gate(const peng_dispatch_state_t*, const peng_workgroup_state_t*) {
  while (!g_gate.load(std::memory_order_acquire)) std::this_thread::yield();
  return 0;
}

// Records which thread ran it.
std::atomic<int> g_on_waiter{0};
thread_local bool t_is_waiter = false;
int WhereRan(const peng_dispatch_state_t*, const peng_workgroup_state_t*) {
  if (t_is_waiter) g_on_waiter.fetch_add(1);
  return 0;
}

int Increment(const peng_dispatch_state_t* d, const peng_workgroup_state_t*) {
  static_cast<int64_t*>(d->bindings[0])[0] += 1;
  return 0;
}

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ResetLog();
    peng_runtime_options_t o = Runtime::default_options();
    o.cpu_threads = 2;
    rt_ = Runtime(o);
    const auto i64 = PENG_DTYPE_I64;
    read_ = {Arg(i64, PENG_ACCESS_READ, {1})};
    write_ = {Arg(i64, PENG_ACCESS_WRITE, {1})};
    rw_ = {Arg(i64, PENG_ACCESS_READWRITE, {1})};
    derive_ = {Arg(i64, PENG_ACCESS_READ, {1}), Arg(i64, PENG_ACCESS_WRITE, {1})};
    mod_ = rt_.native_module("m", {Def("read", Stamp, read_, 3), Def("write", Stamp, write_, 3),
                                   Def("rw", Stamp, rw_, 3), Def("none", Stamp, {}, 3),
                                   Def("derive", Derive, derive_, 1),
                                   Def("inc", Increment, rw_, 0), Def("gate", Gate, {}, 0),
                                   Def("where", WhereRan, {}, 0)});
  }
  peng_task_t Add(Graph& g, const char* kernel, Buffer* b, int64_t id, int64_t sleep_us = 0,
                  int64_t fail = 0, int32_t priority = 0) {
    std::vector<peng_tensor_arg_t> args;
    if (b) args.push_back(b->tensor(PENG_DTYPE_I64, {1}));
    return g.add(mod_.kernel(kernel), args, {id, sleep_us, fail}, {priority, {}});
  }
  static bool Before(int a, int b) { return g_end[a] >= 0 && g_end[a] < g_start[b]; }

  Runtime rt_{nullptr};
  std::vector<peng_arg_desc_t> read_, write_, rw_, derive_;
  Module mod_;
};

TEST_F(GraphTest, AccessModesOrderTasks) {
  Buffer b = rt_.buffer(8);
  {
    // Warm up: TBB starts its second worker lazily, which takes milliseconds.
    Graph warm = rt_.graph();
    for (int i = 0; i < 4; ++i) Add(warm, "none", nullptr, 100 + i, 5000);
    warm.submit().wait();
  }
  Graph g = rt_.graph();
  Add(g, "write", &b, 0, 2000);   // W
  g_arrived = 0;
  Add(g, "read", &b, 1, -2);      // R after W
  Add(g, "read", &b, 2, -2);      // R after W, concurrent with 1: they wait for each other
  Add(g, "rw", &b, 3, 1000);     // W after the two reads
  Add(g, "write", &b, 4, 0);     // W after W
  Add(g, "read", &b, 5, 0);      // R after W
  Add(g, "none", nullptr, 6, 0); // independent
  g.submit().wait();
  EXPECT_TRUE(Before(0, 1));
  EXPECT_TRUE(Before(0, 2));
  EXPECT_TRUE(Before(1, 3));
  EXPECT_TRUE(Before(2, 3));
  EXPECT_TRUE(Before(3, 4));
  EXPECT_TRUE(Before(4, 5));
  // The two readers ran at the same time (2 threads): each saw the other
  // arrive. A timing window instead failed under QEMU on a loaded machine.
  EXPECT_TRUE(g_met[1]);
  EXPECT_TRUE(g_met[2]);
  for (int i = 0; i <= 6; ++i) EXPECT_EQ(g_runs[i], 1) << i;
}

TEST_F(GraphTest, ExplicitEdgesOrderTasks) {
  Graph g = rt_.graph();
  auto a = Add(g, "none", nullptr, 0, 3000);
  auto b = Add(g, "none", nullptr, 1);
  auto c = Add(g, "none", nullptr, 2);
  g.edge(a, c);
  g.edge(b, c);
  g.submit().wait();
  EXPECT_TRUE(Before(0, 2));
  EXPECT_TRUE(Before(1, 2));
}

TEST_F(GraphTest, DataFlowsThroughAChain) {
  std::vector<Buffer> bufs;
  for (int i = 0; i < 6; ++i) bufs.push_back(rt_.buffer(8));
  int64_t zero = 0;
  bufs[0].write(&zero, 8);
  Graph g = rt_.graph();
  for (int i = 0; i < 5; ++i) {
    g.add(mod_.kernel("derive"),
          {bufs[i].tensor(PENG_DTYPE_I64, {1}), bufs[i + 1].tensor(PENG_DTYPE_I64, {1})},
          {i + 1});
  }
  g.submit().wait();
  int64_t v;
  bufs[5].read(&v, 8);
  EXPECT_EQ(v, 12345);
}

// One buffer as the input and the output of a launch: the kernel would read
// what it already overwrote. Refused, and the graph stays as it was.
TEST_F(GraphTest, AliasedInputAndOutputIsRefused) {
  Buffer b = rt_.buffer(8);
  Graph g = rt_.graph();
  peng_tensor_arg_t args[] = {b.tensor(PENG_DTYPE_I64, {1}), b.tensor(PENG_DTYPE_I64, {1})};
  int64_t constant = 1;
  EXPECT_EQ(peng_graph_add_task(g.get(), mod_.kernel("derive").get(), args, 2, &constant, 1,
                                nullptr, nullptr),
            PENG_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(peng_last_error_message()).find("arguments 0 and 1 are the same buffer"),
            std::string::npos)
      << peng_last_error_message();
  EXPECT_EQ(g.size(), 0u);
}

// Reading one buffer through two arguments is fine: nothing is overwritten.
TEST_F(GraphTest, OneBufferReadTwiceIsAccepted) {
  std::vector<peng_arg_desc_t> two_reads = {Arg(PENG_DTYPE_I64, PENG_ACCESS_READ, {1}),
                                            Arg(PENG_DTYPE_I64, PENG_ACCESS_READ, {1})};
  Module m = rt_.native_module("reads", {Def("read2", Stamp, two_reads, 3)});
  Buffer b = rt_.buffer(8);
  int64_t zero = 0;
  b.write(&zero, 8);
  Graph g = rt_.graph();
  g.add(m.kernel("read2"), {b.tensor(PENG_DTYPE_I64, {1}), b.tensor(PENG_DTYPE_I64, {1})},
        {0, 0, 0});
  g.submit().wait();
  EXPECT_EQ(g_runs[0].load(), 1);
}

TEST_F(GraphTest, PrioritiesOrderReadyTasks) {
  TempFile profile("prio.toml",
                   "[[device]]\nname=\"cpu0\"\nbackend=\"cpu\"\nthreads=1\nqueue_depth=1\n");
  Runtime rt = RuntimeWithProfile(profile, PENG_POLICY_EAGER);
  Module mod = rt.native_module("m", {Def("none", Stamp, {}, 3)});
  Graph g = rt.graph();
  const int prio[] = {0, 5, -3, 5, 9, 0, 1};
  for (int i = 0; i < 7; ++i) g.add(mod.kernel("none"), {}, {i, 0, 0}, {prio[i], {}});
  Event gate = rt.event();
  Event done = g.submit({gate.get()});
  gate.signal();
  done.wait();
  // Highest priority first, insertion order among equals.
  const int expected[] = {4, 1, 3, 6, 0, 5, 2};
  for (int k = 0; k + 1 < 7; ++k) {
    EXPECT_LT(g_start[expected[k]], g_start[expected[k + 1]])
        << "task " << expected[k] << " should start before " << expected[k + 1];
  }
}

TEST_F(GraphTest, FirstErrorWinsAndCancelsDependents) {
  Graph g = rt_.graph();
  auto bad = Add(g, "none", nullptr, 0, 0, /*fail=*/1);
  auto child = Add(g, "none", nullptr, 1);
  auto grandchild = Add(g, "none", nullptr, 2);
  Add(g, "none", nullptr, 3, 3000);            // independent: still runs
  auto late = Add(g, "none", nullptr, 4, 200000, /*fail=*/1);  // fails 0.2 s later: loses
  g.edge(bad, child);
  g.edge(child, grandchild);
  Event done = g.submit();
  try {
    done.wait();
    FAIL() << "the run should fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), PENG_ERROR_KERNEL_FAILED);
    EXPECT_NE(std::string(e.what()).find("task 0 (kernel 'none')"), std::string::npos) << e.what();
  }
  (void)late;
  EXPECT_EQ(g_runs[0], 1);
  EXPECT_EQ(g_runs[1], 0) << "dependent of a failed task must not run";
  EXPECT_EQ(g_runs[2], 0);
  EXPECT_EQ(g_runs[3], 1);
  EXPECT_EQ(g_runs[4], 1);
  EXPECT_EQ(done.query(), PENG_ERROR_KERNEL_FAILED);
}

TEST_F(GraphTest, LaterSubmissionsSeeEarlierWrites) {
  Buffer a = rt_.buffer(8), b = rt_.buffer(8);
  Graph producer = rt_.graph();
  Add(producer, "write", &a, 0, 20000);  // slow writer of a
  producer.add(mod_.kernel("derive"),
               {b.tensor(PENG_DTYPE_I64, {1}), a.tensor(PENG_DTYPE_I64, {1})}, {7});
  Graph consumer = rt_.graph();
  consumer.add(mod_.kernel("derive"),
               {a.tensor(PENG_DTYPE_I64, {1}), b.tensor(PENG_DTYPE_I64, {1})}, {1});
  int64_t v = 4;
  b.write(&v, 8);
  Event e1 = producer.submit();
  Event e2 = consumer.submit();  // no explicit wait: ordered through a and b
  e2.wait();
  e1.wait();
  b.read(&v, 8);
  EXPECT_EQ(v, (4 * 10 + 7) * 10 + 1);
}

TEST_F(GraphTest, WaitEventsGateTheRun) {
  Graph g = rt_.graph();
  Add(g, "none", nullptr, 0);
  Event gate = rt_.event();
  Event done = g.submit({gate.get()});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(g_runs[0], 0);
  EXPECT_EQ(done.query(), PENG_ERROR_TIMEOUT);
  // The graph cannot change while a submission waits.
  EXPECT_THROW(Add(g, "none", nullptr, 1), Error);
  gate.signal();
  done.wait();
  EXPECT_EQ(g_runs[0], 1);
}

TEST_F(GraphTest, FailedWaitEventCancelsTheRun) {
  Graph g = rt_.graph();
  Add(g, "none", nullptr, 0);
  Event gate = rt_.event();
  Event done = g.submit({gate.get()});
  gate.signal(PENG_ERROR_DEVICE_LOST);
  EXPECT_THROW(done.wait(), Error);
  EXPECT_EQ(done.query(), PENG_ERROR_CANCELLED);
  EXPECT_EQ(g_runs[0], 0);
}

TEST_F(GraphTest, ReRunsAccumulate) {
  Buffer counter = rt_.buffer(8);
  Graph g = rt_.graph();
  g.add(mod_.kernel("inc"), {counter.tensor(PENG_DTYPE_I64, {1})});
  for (int i = 0; i < 50; ++i) g.submit().wait();
  std::vector<Event> pending;
  for (int i = 0; i < 50; ++i) pending.push_back(g.submit());  // ordered through the buffer
  for (auto& e : pending) e.wait();
  int64_t v;
  counter.read(&v, 8);
  EXPECT_EQ(v, 100);
}

TEST_F(GraphTest, EmptyGraphCompletes) {
  Graph g = rt_.graph();
  g.submit().wait();
}

TEST_F(GraphTest, ConcurrentSubmissionFromManyThreads) {
  constexpr int kThreads = 4, kRuns = 100;
  std::vector<std::thread> threads;
  std::vector<int64_t> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Buffer counter = rt_.buffer(8);
      Graph g = rt_.graph();
      for (int k = 0; k < 3; ++k) g.add(mod_.kernel("inc"), {counter.tensor(PENG_DTYPE_I64, {1})});
      std::vector<Event> events;
      for (int i = 0; i < kRuns; ++i) events.push_back(g.submit());
      for (auto& e : events) e.wait();
      counter.read(&results[t], 8);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(results[t], 3 * kRuns);
  rt_.wait_idle();
}

// A thread waiting for a run runs that run's tasks itself, not sleeping while
// a worker wakes up (whether it gets to any before the workers do is a race,
// so a few runs are allowed).
TEST_F(GraphTest, AWaiterRunsItsRunsTasks) {
  Graph g = rt_.graph();
  for (int i = 0; i < 16; ++i) g.add(mod_.kernel("where"), {});
  g_on_waiter = 0;
  t_is_waiter = true;
  for (int run = 0; run < 100 && g_on_waiter == 0; ++run) g.submit().wait();
  t_is_waiter = false;
  EXPECT_GT(g_on_waiter.load(), 0);
}

// ...and only that run's: a task of another run may block until the waiter
// is back (here: until its own run is done), so taking it would deadlock.
TEST_F(GraphTest, AWaiterRunsNoOtherRunsTasks) {
  g_gate = 0;
  Graph blocked = rt_.graph();
  blocked.add(mod_.kernel("gate"), {});
  Graph mine = rt_.graph();
  for (int i = 0; i < 8; ++i) Add(mine, "none", nullptr, i);
  for (int run = 0; run < 20; ++run) {
    Event other = blocked.submit();
    Event done = mine.submit();
    done.wait();
    EXPECT_EQ(other.query(), PENG_ERROR_TIMEOUT) << "the gated run finished before its gate opened";
    g_gate = 1;
    other.wait();
    g_gate = 0;
  }
}

TEST_F(GraphTest, LongChainDoesNotGrowTheStack) {
  // 100k tasks whose grid is empty complete inline; they must not recurse.
  std::vector<peng_arg_desc_t> args = {Arg(PENG_DTYPE_F32, PENG_ACCESS_READWRITE, {-1})};
  peng_native_kernel_def_t def = Def("tiled", Stamp, args, 3);
  def.grid[0] = peng_grid_dim_t{0, 0, 16};
  Module mod = rt_.native_module("tiled", {def});
  Buffer b = rt_.buffer(4);
  Graph g = rt_.graph();
  for (int i = 0; i < 100000; ++i) {
    g.add(mod.kernel("tiled"), {b.tensor(PENG_DTYPE_F32, {0})}, {0, 0, 0});
  }
  g.submit().wait();
  EXPECT_EQ(g_runs[0], 0);
}

}  // namespace
}  // namespace peng::test
