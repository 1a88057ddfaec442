// The CUDA addon's entry point. UNTESTED: written without a GPU (see the README's "What remains to
// run on a GPU"). Today it only reports the devices and the allocator's stats, and declares no
// kernels, so src/index.ts registers no backend from it yet.
#include <cuda_runtime.h>
#include <napi.h>

#include "allocator.h"
#include "cuda_raw_allocator.h"

namespace {

axon_cuda::CudaRawAllocator rawAllocator;
axon_cuda::CachingAllocator* cache = nullptr;

Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    n = 0;
  }
  return Napi::Number::New(info.Env(), n);
}

Napi::Value DeviceName(const Napi::CallbackInfo& info) {
  cudaDeviceProp prop;
  int device = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0;
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();
    return Napi::String::New(info.Env(), "");
  }
  return Napi::String::New(info.Env(), prop.name);
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  axon_cuda::AllocatorStats s = cache ? cache->stats() : axon_cuda::AllocatorStats{};
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", double(s.allocated));
  o.Set("reserved", double(s.reserved));
  o.Set("cached", double(s.cached));
  o.Set("peakAllocated", double(s.peakAllocated));
  o.Set("peakReserved", double(s.peakReserved));
  o.Set("rawAllocs", double(s.rawAllocs));
  o.Set("retries", double(s.retries));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), cache ? double(cache->emptyCache()) : 0.0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  cache = new axon_cuda::CachingAllocator(rawAllocator);  // lives as long as the process
  exports.Set("deviceCount", Napi::Function::New(env, DeviceCount));
  exports.Set("deviceName", Napi::Function::New(env, DeviceName));
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache));
  exports.Set("kernelNames", Napi::Array::New(env, 0));  // none yet
  return exports;
}

}  // namespace

NODE_API_MODULE(axon_cuda, Init)
