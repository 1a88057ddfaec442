// A RawAllocator on the host heap, for the allocator's CPU tests: malloc/free, with counters and
// failure injection (the next N allocations, or any allocation that would exceed a byte limit,
// return nullptr — what cudaMalloc does when the device is out of memory).
#pragma once

#include <cstdlib>
#include <unordered_map>

#include "allocator.h"

namespace axon_cuda {

class HostRawAllocator : public RawAllocator {
 public:
  void* allocate(size_t bytes) override {
    if (failNext > 0) {
      failNext--;
      return nullptr;
    }
    if (limit != 0 && inUse + bytes > limit) return nullptr;
    void* p = std::malloc(bytes);
    if (!p) return nullptr;
    sizes[p] = bytes;
    inUse += bytes;
    return p;
  }
  void free(void* ptr) override {
    auto it = sizes.find(ptr);
    if (it == sizes.end()) {
      foreignFrees++;  // the caching allocator must never do this
      return;
    }
    inUse -= it->second;
    sizes.erase(it);
    std::free(ptr);
  }

  int failNext = 0;      // the next failNext allocations fail
  size_t limit = 0;      // total bytes this "device" has (0: unlimited)
  size_t inUse = 0;      // bytes handed out now
  size_t foreignFrees = 0;
  std::unordered_map<void*, size_t> sizes;
};

}  // namespace axon_cuda
