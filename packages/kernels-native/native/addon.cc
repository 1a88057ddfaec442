// Module registration. Napi::Addon makes the addon context-aware: every
// Node.js environment (main thread, each worker_thread) gets its own instance,
// while the thread pool and OpenBLAS settings are process-wide.
#include <cblas.h>
#include <napi.h>

#include "common.h"
#include "kernels.h"
#include "pool.h"

namespace axon {

std::vector<std::pair<const char*, Entry>>& registeredEntries() {
  static std::vector<std::pair<const char*, Entry>> entries;
  return entries;
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads", 1);
  double n = args.number(0, "n");
  if (!(n >= 0 && n <= 256) || n != static_cast<int>(n)) args.fail("n must be an integer in [0, 256] (0 = all cores)");
  setNumThreads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), numThreads());
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), numThreads());
}

// Which OpenBLAS this is, for reports: "OpenBLAS 0.3.21 ... Haswell MAX_THREADS=64".
static Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("config", openblas_get_config());
  o.Set("corename", openblas_get_corename());
  o.Set("threads", openblas_get_num_threads());
  return o;
}

class AxonNative : public Napi::Addon<AxonNative> {
 public:
  AxonNative(Napi::Env env, Napi::Object exports) {
    numThreads();  // start the pool and settle the thread count once per process
    for (const auto& [name, fn] : registeredEntries()) exports.Set(name, Napi::Function::New(env, fn, name));
    exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
    exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
    exports.Set("blasInfo", Napi::Function::New(env, BlasInfo, "blasInfo"));
    exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  }
};

}  // namespace axon

using axon::AxonNative;
NODE_API_ADDON(AxonNative)
