// CPU test of the caching allocator (native/allocator.h) over HostRawAllocator. Prints one line per
// check, "ok <name>" or "FAIL <name>: <detail>", then a summary; exits 1 if any check failed.
// Built by the CPU-only CMake target (AXON_CUDA_ALLOCATOR_TEST=ON) and run by test/allocator.test.ts.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../allocator.h"
#include "../host_raw_allocator.h"

using axon_cuda::AllocatorError;
using axon_cuda::CachingAllocator;
using axon_cuda::HostRawAllocator;
using axon_cuda::OutOfMemory;

static int passed = 0;
static int failed = 0;
static std::string current;
static bool currentOk = true;

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond) && currentOk) {                                                             \
      currentOk = false;                                                                    \
      std::printf("FAIL %s: %s (line %d)\n", current.c_str(), #cond, __LINE__);             \
    }                                                                                       \
  } while (0)
#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    auto va = (a);                                                                          \
    auto vb = (b);                                                                          \
    if (!(va == vb) && currentOk) {                                                         \
      currentOk = false;                                                                    \
      std::printf("FAIL %s: %s == %s: %zu != %zu (line %d)\n", current.c_str(), #a, #b,   \
                  static_cast<size_t>(va), static_cast<size_t>(vb), __LINE__);              \
    }                                                                                       \
  } while (0)

template <typename F>
static void test(const char* name, F body) {
  current = name;
  currentOk = true;
  try {
    body();
  } catch (const std::exception& e) {
    if (currentOk) std::printf("FAIL %s: unexpected exception: %s\n", name, e.what());
    currentOk = false;
  }
  if (currentOk) {
    std::printf("ok %s\n", name);
    passed++;
  } else {
    failed++;
  }
}

static constexpr size_t KiB = 1024;
static constexpr size_t MiB = 1024 * 1024;

int main() {
  test("size classes", [] {
    CHECK_EQ(CachingAllocator::roundSize(0), 512u);
    CHECK_EQ(CachingAllocator::roundSize(1), 512u);
    CHECK_EQ(CachingAllocator::roundSize(512), 512u);
    CHECK_EQ(CachingAllocator::roundSize(513), 1024u);
    CHECK_EQ(CachingAllocator::roundSize(4000), 4096u);
    CHECK_EQ(CachingAllocator::roundSize(MiB - 1), MiB);  // still small: a multiple of 512
    CHECK_EQ(CachingAllocator::roundSize(MiB), 2 * MiB);  // large: multiples of 2 MiB
    CHECK_EQ(CachingAllocator::roundSize(2 * MiB), 2 * MiB);
    CHECK_EQ(CachingAllocator::roundSize(2 * MiB + 1), 4 * MiB);
    CHECK_EQ(CachingAllocator::roundSize(33 * MiB), 34 * MiB);
    HostRawAllocator raw;
    CachingAllocator a(raw);
    void* p = a.allocate(700);
    CHECK_EQ(a.blockSize(p), 1024u);
    void* q = a.allocate(3 * MiB);
    CHECK_EQ(a.blockSize(q), 4 * MiB);
    CHECK_EQ(raw.sizes[q], 4 * MiB);  // a large block is its own raw segment of its size class
    CHECK_EQ(a.blockSize(reinterpret_cast<char*>(p) + 1), 0u);
    a.free(p);
    a.free(q);
  });

  test("reuse: raw allocations stay flat over a loop of same-size alloc/free", [] {
    HostRawAllocator raw;
    raw.limit = 256 * MiB;  // a broken reuse must not eat the host's memory
    CachingAllocator a(raw);
    for (size_t bytes : {size_t(100), size_t(4096), size_t(300 * KiB), size_t(5 * MiB), size_t(64 * MiB)}) {
      void* first = a.allocate(bytes);
      a.free(first);
      size_t rawAfterFirst = a.stats().rawAllocs;
      for (int i = 0; i < 1000; i++) {
        void* p = a.allocate(bytes);
        CHECK(p == first);  // the same block comes back
        if (p != first) {
          a.free(p);
          break;
        }
        std::memset(p, i & 0xff, bytes);
        a.free(p);
      }
      CHECK_EQ(a.stats().rawAllocs, rawAfterFirst);
    }
    // A training step's pattern: several live buffers of different sizes, freed and asked for again.
    std::vector<size_t> step = {256, 40 * KiB, 40 * KiB, 3 * MiB, 800 * KiB, 12, 3 * MiB};
    auto once = [&] {
      std::vector<void*> live;
      for (size_t b : step) live.push_back(a.allocate(b));
      for (void* p : live) a.free(p);
    };
    once();
    size_t raw1 = a.stats().rawAllocs;
    for (int i = 0; i < 200; i++) once();
    CHECK_EQ(a.stats().rawAllocs, raw1);
  });

  test("small blocks share 2 MiB segments (split) and merge back when freed", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    std::vector<void*> ps;
    for (int i = 0; i < 4096; i++) ps.push_back(a.allocate(512));  // exactly one 2 MiB segment
    CHECK_EQ(a.stats().rawAllocs, 1u);
    CHECK_EQ(a.stats().reserved, 2 * MiB);
    CHECK_EQ(a.stats().cached, 0u);
    void* extra = a.allocate(1);
    CHECK_EQ(a.stats().rawAllocs, 2u);  // the first segment is full
    for (void* p : ps) a.free(p);
    a.free(extra);
    // All merged: a block of (almost) a whole segment fits without a new raw allocation.
    void* big = a.allocate(MiB - 512);
    CHECK_EQ(a.stats().rawAllocs, 2u);
    a.free(big);
  });

  test("large blocks are reused only by their own size class (no splitting)", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    void* p = a.allocate(8 * MiB);
    a.free(p);
    void* q = a.allocate(4 * MiB);  // a cached 8 MiB block is not split for it
    CHECK(q != p);
    CHECK_EQ(a.stats().rawAllocs, 2u);
    void* r = a.allocate(7 * MiB + 1);  // 8 MiB class: the cached block
    CHECK(r == p);
    CHECK_EQ(a.stats().rawAllocs, 2u);
    a.free(q);
    a.free(r);
  });

  test("stats: allocated, reserved, cached and peaks are exact", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    void* p1 = a.allocate(1000);     // 1024 from a 2 MiB segment
    void* p2 = a.allocate(3 * MiB);  // 4 MiB segment
    auto s = a.stats();
    CHECK_EQ(s.allocated, 1024 + 4 * MiB);
    CHECK_EQ(s.reserved, 2 * MiB + 4 * MiB);
    CHECK_EQ(s.cached, 2 * MiB - 1024);
    CHECK_EQ(s.peakAllocated, 1024 + 4 * MiB);
    CHECK_EQ(s.liveBlocks, 2u);
    CHECK_EQ(s.segments, 2u);
    a.free(p2);
    void* p3 = a.allocate(10 * MiB);  // 10 MiB segment; peak allocated rises
    s = a.stats();
    CHECK_EQ(s.allocated, 1024 + 10 * MiB);
    CHECK_EQ(s.reserved, 2 * MiB + 4 * MiB + 10 * MiB);
    CHECK_EQ(s.cached, 2 * MiB - 1024 + 4 * MiB);
    CHECK_EQ(s.peakAllocated, 1024 + 10 * MiB);
    CHECK_EQ(s.peakReserved, 16 * MiB);
    a.free(p1);
    a.free(p3);
    s = a.stats();
    CHECK_EQ(s.allocated, 0u);
    CHECK_EQ(s.liveBlocks, 0u);
    CHECK_EQ(s.cached, 16 * MiB);
    CHECK_EQ(s.peakAllocated, 1024 + 10 * MiB);  // peaks stay
    a.resetPeak();
    CHECK_EQ(a.stats().peakAllocated, 0u);
    CHECK_EQ(a.stats().peakReserved, 16 * MiB);
    CHECK_EQ(raw.inUse, 16 * MiB);  // the allocator's reserved is what the raw side handed out
  });

  test("emptyCache releases everything cached and nothing live", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    void* keepSmall = a.allocate(2000);
    void* keepLarge = a.allocate(6 * MiB);
    std::vector<void*> drop;
    for (int i = 0; i < 5000; i++) drop.push_back(a.allocate(512));  // fills segments beyond the first
    drop.push_back(a.allocate(20 * MiB));
    drop.push_back(a.allocate(2 * MiB));
    for (void* p : drop) a.free(p);
    size_t reservedBefore = a.stats().reserved;
    size_t released = a.emptyCache();
    auto s = a.stats();
    CHECK_EQ(s.cached, 2 * MiB - 2048);  // only the free part of the segment holding a live block
    CHECK_EQ(s.reserved, 2 * MiB + 6 * MiB);
    CHECK_EQ(s.segments, 2u);
    CHECK_EQ(released, reservedBefore - 8 * MiB);
    CHECK_EQ(raw.inUse, 8 * MiB);
    CHECK_EQ(s.rawFrees, s.rawAllocs - 2);
    CHECK(a.blockSize(keepSmall) == 2048 && a.blockSize(keepLarge) == 6 * MiB);  // live blocks untouched
    std::memset(keepLarge, 1, 6 * MiB);
    a.free(keepSmall);
    a.free(keepLarge);
    a.emptyCache();
    s = a.stats();
    CHECK_EQ(s.reserved, 0u);
    CHECK_EQ(s.cached, 0u);
    CHECK_EQ(s.segments, 0u);
    CHECK_EQ(raw.inUse, 0u);
    CHECK_EQ(raw.sizes.size(), 0u);
    CHECK_EQ(s.rawFrees, s.rawAllocs);
    CHECK_EQ(raw.foreignFrees, 0u);
  });

  test("a raw failure empties the cache and retries", [] {
    HostRawAllocator raw;
    raw.limit = 16 * MiB;  // the "device" holds 16 MiB
    CachingAllocator a(raw);
    void* p = a.allocate(10 * MiB);
    a.free(p);  // 10 MiB cached
    void* q = a.allocate(12 * MiB);  // 10 + 12 > 16: fails, releases the cached 10 MiB, retries
    auto s = a.stats();
    CHECK(q != nullptr);
    CHECK_EQ(s.retries, 1u);
    CHECK_EQ(s.rawFailures, 1u);
    CHECK_EQ(s.reserved, 12 * MiB);
    CHECK_EQ(s.cached, 0u);
    CHECK_EQ(raw.inUse, 12 * MiB);
    a.free(q);
    // An injected transient failure: the retry succeeds.
    raw.failNext = 1;
    void* r = a.allocate(14 * MiB);
    CHECK(r != nullptr);
    CHECK_EQ(a.stats().retries, 2u);
    a.free(r);
  });

  test("out of memory after the retry is an OutOfMemory error, and the allocator stays usable", [] {
    HostRawAllocator raw;
    raw.limit = 8 * MiB;
    CachingAllocator a(raw);
    void* live = a.allocate(4 * MiB);
    bool threw = false;
    try {
      a.allocate(6 * MiB);
    } catch (const OutOfMemory& e) {
      threw = std::strstr(e.what(), "out of device memory") != nullptr;
    }
    CHECK(threw);
    auto s = a.stats();
    CHECK_EQ(s.allocated, 4 * MiB);
    CHECK_EQ(s.reserved, 4 * MiB);
    CHECK_EQ(s.rawFailures, 2u);
    void* small = a.allocate(100);  // still works
    a.free(small);
    a.free(live);
  });

  test("double free and foreign pointers are errors, not crashes, and change nothing", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    void* p = a.allocate(4096);
    void* keep = a.allocate(4096);
    a.free(p);
    auto before = a.stats();
    int errors = 0;
    try {
      a.free(p);  // double free
    } catch (const AllocatorError&) {
      errors++;
    }
    int local = 0;
    try {
      a.free(&local);  // foreign
    } catch (const AllocatorError&) {
      errors++;
    }
    try {
      a.free(static_cast<char*>(keep) + 8);  // inside a live block, not its start
    } catch (const AllocatorError&) {
      errors++;
    }
    try {
      a.free(nullptr);
    } catch (const AllocatorError&) {
      errors++;
    }
    CHECK_EQ(errors, 4);
    auto after = a.stats();
    CHECK_EQ(after.allocated, before.allocated);
    CHECK_EQ(after.cached, before.cached);
    CHECK_EQ(after.liveBlocks, 1u);
    a.free(keep);
    CHECK_EQ(a.stats().allocated, 0u);
  });

  test("blocks never overlap (random alloc/free against a shadow map)", [] {
    HostRawAllocator raw;
    CachingAllocator a(raw);
    std::vector<std::pair<unsigned char*, size_t>> live;
    unsigned seed = 12345;
    auto next = [&] { return seed = seed * 1103515245u + 12345u; };
    for (int i = 0; i < 20000; i++) {
      if (live.empty() || next() % 3 != 0) {
        size_t bytes = (next() % 7 == 0) ? (next() % (6 * MiB)) : (next() % (64 * KiB));
        auto* p = static_cast<unsigned char*>(a.allocate(bytes));
        unsigned char tag = static_cast<unsigned char>(i);
        if (bytes) {
          p[0] = tag;
          p[bytes - 1] = tag;
        }
        live.push_back({p, bytes});
      } else {
        size_t k = next() % live.size();
        auto [p, bytes] = live[k];
        live[k] = live.back();
        live.pop_back();
        a.free(p);
      }
      if (live.size() > 200) {
        for (auto [p, bytes] : live) a.free(p);
        live.clear();
      }
    }
    // 300 live blocks at once, each filled with its own byte: every one still holds its byte at
    // both ends only if no two of them overlap.
    std::vector<std::pair<unsigned char*, size_t>> round;
    for (int i = 0; i < 300; i++) {
      size_t bytes = 1 + next() % (200 * KiB);
      auto* p = static_cast<unsigned char*>(a.allocate(bytes));
      std::memset(p, i & 0xff, bytes);
      round.push_back({p, bytes});
    }
    for (int i = 0; i < 300; i++) {
      auto [p, bytes] = round[i];
      CHECK(p[0] == static_cast<unsigned char>(i) && p[bytes - 1] == static_cast<unsigned char>(i));
    }
    for (auto [p, bytes] : round) a.free(p);
    for (auto [p, bytes] : live) a.free(p);
    CHECK_EQ(a.stats().allocated, 0u);
    a.emptyCache();
    CHECK_EQ(raw.inUse, 0u);
    CHECK_EQ(raw.foreignFrees, 0u);
  });

  std::printf("allocator_test: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
