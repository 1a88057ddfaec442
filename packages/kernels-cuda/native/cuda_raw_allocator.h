// The raw allocator of the CUDA backend: cudaMalloc / cudaFree on the current device — plain device
// memory, never managed (unified) memory. Compiled only in the CUDA build (CMakeLists.txt).
// UNTESTED: written without a GPU; see the README's "What remains to run on a GPU".
#pragma once

#include <cuda_runtime.h>

#include "allocator.h"

namespace axon_cuda {

class CudaRawAllocator : public RawAllocator {
 public:
  void* allocate(size_t bytes) override {
    void* p = nullptr;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free error so later calls do not report it
      return nullptr;      // the caching allocator empties its cache and retries
    }
    return p;
  }
  void free(void* ptr) override { cudaFree(ptr); }
};

}  // namespace axon_cuda
