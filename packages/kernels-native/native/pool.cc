#include "pool.h"

#include <cblas.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpuRelax() { _mm_pause(); }
#else
static inline void cpuRelax() {}
#endif

namespace axon {

int hardwareThreads() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

namespace {

// Chunks per participating thread: work is handed out dynamically, chunk by
// chunk, so a thread slowed down by another process on the machine does not
// hold everyone up (static halves would).
constexpr int64_t kChunksPerThread = 4;

// Workers wait for a new "generation"; the caller takes chunks too.
// Workers spin briefly after a job (back-to-back kernels are common) and then
// sleep on a condition variable, so idle workers never steal cycles from BLAS.
class Pool {
 public:
  explicit Pool(int threads) { start(threads); }

  int threads() const { return threads_; }

  void resize(int threads) {
    std::lock_guard<std::mutex> d(dispatch_);
    stop();
    start(threads);
  }

  // Returns false (without running anything) when the pool is busy.
  bool tryRun(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
    std::unique_lock<std::mutex> d(dispatch_, std::try_to_lock);
    if (!d.owns_lock()) return false;
    body_ = &body;
    n_ = n;
    chunks_ = std::min<int64_t>(n, threads_ * kChunksPerThread);
    next_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(m_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    runChunks();
    // Wait for the workers: spin a little, then sleep.
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0 && spin < 20000; ++spin) cpuRelax();
    if (pending_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(m_);
      done_.wait(lk, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void start(int threads) {
    threads_ = std::max(1, threads);
    quit_ = false;
    // Workers start from the current generation, so a job dispatched before a
    // new thread first runs is still seen by it.
    const uint64_t g0 = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i, g0] { workerLoop(i, g0); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      quit_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void runChunks() {
    for (int64_t c; (c = next_.fetch_add(1, std::memory_order_relaxed)) < chunks_;) {
      const int64_t lo = n_ * c / chunks_, hi = n_ * (c + 1) / chunks_;
      try {
        (*body_)(lo, hi);
      } catch (...) {
        std::lock_guard<std::mutex> lk(errorMutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void workerLoop(int index, uint64_t seen) {
    for (;;) {
      uint64_t g = seen;
      auto t0 = std::chrono::steady_clock::now();
      for (int spin = 0; (g = generation_.load(std::memory_order_acquire)) == seen; ++spin) {
        cpuRelax();
        if ((spin & 255) == 255 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(50)) break;
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        g = generation_.load(std::memory_order_acquire);
      }
      seen = g;
      {
        std::lock_guard<std::mutex> lk(m_);
        if (quit_) return;
      }
      runChunks();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);
        done_.notify_one();
      }
    }
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex dispatch_;  // one job at a time
  std::mutex m_;
  std::condition_variable cv_, done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool quit_ = false;
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t n_ = 0;
  int64_t chunks_ = 1;
  std::atomic<int64_t> next_{0};
  std::mutex errorMutex_;
  std::exception_ptr error_;
};

const bool gDeterministic = [] {
  const char* env = std::getenv("AXON_DETERMINISTIC");
  return env != nullptr && std::string(env) == "1";
}();

// OpenBLAS's threads: ours, except in deterministic mode.
int blasThreads(int threads) { return gDeterministic ? 1 : threads; }

std::atomic<int> gThreads{0};
std::atomic<int> gBlasSerialDepth{0};
std::mutex gPoolMutex;
Pool* gPool = nullptr;  // intentionally leaked: workers sleep until the process exits

Pool& pool() {
  std::lock_guard<std::mutex> lk(gPoolMutex);
  if (!gPool) {
    // Default: the cores this process may use, for both pools — unless the user
    // already told OpenBLAS (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), then that.
    if (gThreads.load() == 0) {
      const bool userSet = std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("OMP_NUM_THREADS");
      gThreads.store(userSet ? std::max(1, openblas_get_num_threads()) : hardwareThreads());
    }
    openblas_set_num_threads(blasThreads(gThreads.load()));
    gPool = new Pool(gThreads.load());
  }
  return *gPool;
}

}  // namespace

int numThreads() {
  int t = gThreads.load();
  if (t == 0) {
    pool();
    t = gThreads.load();
  }
  return t;
}

void setNumThreads(int n) {
  if (n < 1) n = hardwareThreads();
  n = std::min(n, 256);
  gThreads.store(n);
  Pool& p = pool();
  if (p.threads() != n) p.resize(n);
  openblas_set_num_threads(blasThreads(n));
}

bool deterministic() { return gDeterministic; }

int plannedThreads(int64_t n, int64_t workPerItem) {
  int t = numThreads();
  if (t <= 1 || n < 2) return 1;
  double work = double(n) * double(std::max<int64_t>(workPerItem, 1));
  if (work < double(kParallelMinWork)) return 1;
  return static_cast<int>(std::min<int64_t>(t, n));
}

void parallelFor(int64_t n, int64_t workPerItem, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  if (plannedThreads(n, workPerItem) > 1 && pool().tryRun(n, body)) return;
  body(0, n);
}

BlasSerial::BlasSerial() : active_(numThreads() > 1) {
  if (active_ && gBlasSerialDepth.fetch_add(1) == 0) openblas_set_num_threads(1);
}

BlasSerial::~BlasSerial() {
  if (active_ && gBlasSerialDepth.fetch_sub(1) == 1) openblas_set_num_threads(blasThreads(numThreads()));
}

}  // namespace axon
