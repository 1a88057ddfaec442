// A small persistent thread pool for the loops that are not BLAS, and the one
// place that decides how many threads Axon and OpenBLAS use.
//
// On a machine with few cores two thread pools running at once (ours and
// OpenBLAS's) oversubscribe the cores and run several times slower, so the
// rule is: a parallel region of ours calls BLAS only in single-threaded mode
// (BlasSerial), and BLAS's own threads are used only outside our regions.
#pragma once

#include <cstdint>
#include <functional>

namespace axon {

// Threads used by parallelFor (including the calling thread) and by OpenBLAS.
int numThreads();
// Sets both our pool size and openblas_set_num_threads; n < 1 means "all cores".
void setNumThreads(int n);
// Cores available to this process (sched_getaffinity).
int hardwareThreads();

// Deterministic mode (AXON_DETERMINISTIC=1 when the addon loads): results independent of the
// thread count. OpenBLAS's threaded sgemm is not bitwise reproducible across thread counts, so
// OpenBLAS then always runs single-threaded, and sgemm cuts large products into slices fixed by
// their shape that our pool runs (see gemm.cc); conv batches always use their fixed image groups.
bool deterministic();

// Below this many element-operations a loop stays on the calling thread:
// waking a thread costs a few microseconds.
constexpr int64_t kParallelMinWork = 32 * 1024;

// Runs body(lo, hi) over contiguous chunks of [0, n), handed out dynamically
// (a few chunks per thread) to the pool's threads and the caller. Parallel only when
// n * workPerItem >= kParallelMinWork, n >= 2 and the pool is idle (a nested
// call, or a call from a second JS thread while the pool is busy, runs inline).
// Exceptions thrown by body are rethrown in the caller.
void parallelFor(int64_t n, int64_t workPerItem, const std::function<void(int64_t, int64_t)>& body);

// Number of threads parallelFor would use for this much work (1 = serial).
int plannedThreads(int64_t n, int64_t workPerItem);

// RAII: OpenBLAS runs on the calling thread only while this lives (for BLAS
// calls made from inside parallelFor bodies); restores numThreads() after.
class BlasSerial {
 public:
  BlasSerial();
  ~BlasSerial();
  BlasSerial(const BlasSerial&) = delete;
  BlasSerial& operator=(const BlasSerial&) = delete;

 private:
  bool active_;
};

}  // namespace axon
