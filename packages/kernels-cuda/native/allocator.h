// The caching device allocator of @axon/kernels-cuda, written against a raw allocator interface so
// that its logic is built and tested on the CPU (native/test/allocator_test.cc with HostRawAllocator)
// and runs unchanged on the GPU (CudaRawAllocator: cudaMalloc / cudaFree, never managed memory).
//
// Design (our own; the size classes follow the documented scheme of PyTorch's CUDA caching allocator):
//   * Size classes. A request of n bytes is served with roundSize(n) bytes:
//       n <  kSmallLimit (1 MiB): up to a multiple of kMinBlock (512 B) — the small pool;
//       n >= kSmallLimit        : up to a multiple of kLargeRound (2 MiB) — the large pool.
//     A request of 0 bytes gets a 512 B block (a distinct, valid pointer).
//   * Small pool: blocks are carved out of 2 MiB raw segments. The best fitting free block (smallest
//     size, then lowest address) is taken and SPLIT when the rest is at least 512 B; a freed block
//     is merged with free neighbours of its segment. A segment goes back to the raw allocator only
//     in emptyCache(), and only when it is wholly free.
//   * Large pool: each block is its own raw segment of exactly its size class; NO splitting. A freed
//     large block is cached and reused by a later request of the same size class only (a training
//     step asks for the same sizes every step, so exact classes reuse everything without the
//     fragmentation of splitting big segments).
//   * Raw allocation failure (allocate returns nullptr): emptyCache(), then one retry; if that fails
//     too, OutOfMemory (a std::bad_alloc) with the request and the stats.
//   * free(p) of a pointer this allocator did not hand out, or already freed: AllocatorError (a
//     std::logic_error), and the allocator's state is unchanged.
//   * One stream. The CUDA backend issues all work on one stream, so a block freed on the host can be
//     handed out again at once: later kernels on the same stream run after the last use of the old
//     contents. (Multiple streams would need per-stream pools or recorded events, as PyTorch does.)
//   * Thread-safe (one mutex); cheap enough, as the hot path is a set lookup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace axon_cuda {

/** Where memory really comes from: cudaMalloc/cudaFree on the GPU, malloc/free in the CPU tests. */
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  /** `bytes` of memory, or nullptr when there is none (never throws). */
  virtual void* allocate(size_t bytes) = 0;
  /** Returns memory that allocate() handed out. */
  virtual void free(void* ptr) = 0;
};

/** free() of a pointer that is not a live block of this allocator. */
class AllocatorError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/** The raw allocator failed even after emptyCache(). */
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

/** Counters of a CachingAllocator; all byte counts are of size classes (rounded sizes). */
struct AllocatorStats {
  size_t allocated = 0;       // bytes in live blocks
  size_t reserved = 0;        // bytes held from the raw allocator (live + cached)
  size_t cached = 0;          // reserved - allocated: free bytes kept for reuse
  size_t peakAllocated = 0;   // highest `allocated` since construction or resetPeak()
  size_t peakReserved = 0;    // highest `reserved`
  size_t liveBlocks = 0;      // blocks handed out and not freed
  size_t segments = 0;        // raw allocations held now
  size_t rawAllocs = 0;       // successful raw allocate() calls, ever
  size_t rawFrees = 0;        // raw free() calls, ever
  size_t rawFailures = 0;     // raw allocate() calls that returned nullptr
  size_t retries = 0;         // times a failure led to emptyCache() and a retry
};

class CachingAllocator {
 public:
  static constexpr size_t kMinBlock = 512;                // small size-class step
  static constexpr size_t kSmallLimit = size_t(1) << 20;  // requests below go to the small pool
  static constexpr size_t kSmallSegment = size_t(2) << 20;  // raw segment of the small pool
  static constexpr size_t kLargeRound = size_t(2) << 20;  // large size-class step

  explicit CachingAllocator(RawAllocator& raw) : raw_(raw) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  /** Returns every segment to the raw allocator (live blocks too: the owner must be done with them). */
  ~CachingAllocator() {
    for (auto& [base, seg] : segments_) {
      for (Block* b = seg.first; b != nullptr;) {
        Block* next = b->next;
        delete b;
        b = next;
      }
      raw_.free(base);
    }
  }

  /** The size class that serves a request of `bytes`. */
  static size_t roundSize(size_t bytes) {
    if (bytes == 0) return kMinBlock;
    if (bytes < kSmallLimit) return (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
    return (bytes + kLargeRound - 1) / kLargeRound * kLargeRound;
  }

  /** A block of at least `bytes`; throws OutOfMemory when the raw allocator has none even after emptyCache(). */
  void* allocate(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t size = roundSize(bytes);
    Block* block = size < kSmallLimit ? takeSmall(size) : takeLarge(size);
    block->live = true;
    live_[block->ptr] = block;
    stats_.allocated += block->size;
    stats_.liveBlocks++;
    if (stats_.allocated > stats_.peakAllocated) stats_.peakAllocated = stats_.allocated;
    return block->ptr;
  }

  /** Gives a block back to the cache; throws AllocatorError for a foreign or already freed pointer. */
  void free(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) {
      throw AllocatorError(ptr == nullptr ? "free(nullptr): not a block of this allocator"
                                          : "free of a pointer that is not a live block (double free, or foreign pointer)");
    }
    Block* block = it->second;
    live_.erase(it);
    block->live = false;
    stats_.allocated -= block->size;
    stats_.liveBlocks--;
    if (block->small) {
      // Merge with free neighbours of the same segment.
      if (block->prev && !block->prev->live) block = merge(block->prev, block);
      if (block->next && !block->next->live) block = merge(block, block->next);
      freeSmall_.insert({block->size, block});
    } else {
      freeLarge_.insert({block->size, block});
    }
  }

  /** Returns every wholly free segment to the raw allocator; returns the bytes released. */
  size_t emptyCache() {
    std::lock_guard<std::mutex> lock(mutex_);
    return emptyCacheLocked();
  }

  /** The size class of a live block (0 when `ptr` is not one). */
  size_t blockSize(const void* ptr) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(const_cast<void*>(ptr));
    return it == live_.end() ? 0 : it->second->size;
  }

  AllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats s = stats_;
    s.cached = s.reserved - s.allocated;
    s.segments = segments_.size();
    return s;
  }

  /** Peaks restart from the current values. */
  void resetPeak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peakAllocated = stats_.allocated;
    stats_.peakReserved = stats_.reserved;
  }

 private:
  struct Block {
    char* ptr;
    size_t size;
    bool small;
    bool live = false;
    Block* prev = nullptr;  // neighbours inside a small segment
    Block* next = nullptr;
    char* segment;          // base of the raw segment holding the block
  };
  struct Segment {
    size_t size;
    Block* first;  // the blocks of the segment, linked by next
  };
  // Free blocks ordered by (size, address): lower_bound is the best fit.
  struct BySizeThenAddress {
    bool operator()(const std::pair<size_t, Block*>& a, const std::pair<size_t, Block*>& b) const {
      return a.first != b.first ? a.first < b.first : a.second->ptr < b.second->ptr;
    }
  };

  Block* takeSmall(size_t size) {
    auto it = freeSmall_.lower_bound({size, &probe_});
    Block* block;
    if (it != freeSmall_.end()) {
      block = it->second;
      freeSmall_.erase(it);
    } else {
      char* base = rawAllocate(kSmallSegment);
      block = new Block{base, kSmallSegment, true, false, nullptr, nullptr, base};
      segments_[base] = Segment{kSmallSegment, block};
    }
    if (block->size - size >= kMinBlock) {  // split: the rest stays free in the same segment
      Block* rest = new Block{block->ptr + size, block->size - size, true, false, block, block->next, block->segment};
      if (block->next) block->next->prev = rest;
      block->next = rest;
      block->size = size;
      freeSmall_.insert({rest->size, rest});
    }
    return block;
  }

  Block* takeLarge(size_t size) {
    auto it = freeLarge_.lower_bound({size, &probe_});
    if (it != freeLarge_.end() && it->first == size) {
      Block* block = it->second;
      freeLarge_.erase(it);
      return block;
    }
    char* base = rawAllocate(size);
    Block* block = new Block{base, size, false, false, nullptr, nullptr, base};
    segments_[base] = Segment{size, block};
    return block;
  }

  // `a` and `b` are free neighbours (a before b); b is absorbed into a, which is returned.
  Block* merge(Block* a, Block* b) {
    eraseFree(a);
    eraseFree(b);
    a->size += b->size;
    a->next = b->next;
    if (b->next) b->next->prev = a;
    delete b;
    return a;
  }

  void eraseFree(Block* block) {
    auto& set = block->small ? freeSmall_ : freeLarge_;
    set.erase({block->size, block});  // absent for the block being freed: a no-op
  }

  char* rawAllocate(size_t size) {
    void* p = raw_.allocate(size);
    if (!p) {
      stats_.rawFailures++;
      stats_.retries++;
      emptyCacheLocked();
      p = raw_.allocate(size);
      if (!p) {
        stats_.rawFailures++;
        throw OutOfMemory("axon_cuda: out of device memory allocating " + std::to_string(size) + " bytes (" +
                          std::to_string(stats_.allocated) + " allocated, " + std::to_string(stats_.reserved) +
                          " reserved after releasing the cache)");
      }
    }
    stats_.rawAllocs++;
    stats_.reserved += size;
    if (stats_.reserved > stats_.peakReserved) stats_.peakReserved = stats_.reserved;
    return static_cast<char*>(p);
  }

  size_t emptyCacheLocked() {
    size_t released = 0;
    for (auto it = segments_.begin(); it != segments_.end();) {
      Block* first = it->second.first;
      // Wholly free: one block spanning the segment (merging guarantees it), not live.
      if (!first->live && first->next == nullptr && first->size == it->second.size) {
        eraseFree(first);
        delete first;
        raw_.free(it->first);
        stats_.rawFrees++;
        stats_.reserved -= it->second.size;
        released += it->second.size;
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
    return released;
  }

  RawAllocator& raw_;
  mutable std::mutex mutex_;
  std::set<std::pair<size_t, Block*>, BySizeThenAddress> freeSmall_;
  std::set<std::pair<size_t, Block*>, BySizeThenAddress> freeLarge_;
  std::unordered_map<void*, Block*> live_;
  std::map<char*, Segment> segments_;
  Block probe_{nullptr, 0, false, false, nullptr, nullptr, nullptr};  // address 0: sorts before every block of a size in lower_bound
  AllocatorStats stats_;
};

}  // namespace axon_cuda
