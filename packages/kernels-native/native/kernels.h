// Entry points of the addon (one per Backend method) and the C++ cores they
// share. Each entry point validates its arguments (see common.h) and then
// calls a core that trusts them.
#pragma once

#include <napi.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace axon {

// --- cores -----------------------------------------------------------------
// One row-major C = alpha*op(A)*op(B) + beta*C; handles m/n/k == 0 (k == 0
// gives beta*C, with beta == 0 writing zeros whatever C held).
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           const float* b, float beta, float* c);

// RAII: while alive, sgemm on this thread keeps products whole in deterministic mode (see pool.h)
// because the caller already runs them as pieces of a partition fixed independently of the thread
// count (a conv's image groups), so slicing them again would only repack the operands.
class WholeProducts {
 public:
  WholeProducts();
  ~WholeProducts();
  WholeProducts(const WholeProducts&) = delete;
  WholeProducts& operator=(const WholeProducts&) = delete;

 private:
  bool previous_;
};

// --- entry points ----------------------------------------------------------
// Each source file registers the JS entry points it defines with AXON_KERNEL
// (next to their definitions); the addon exports every registered one, so a
// new kernel touches only the file that implements it.
using Entry = Napi::Value (*)(const Napi::CallbackInfo&);
std::vector<std::pair<const char*, Entry>>& registeredEntries();
struct EntryRegistration {
  EntryRegistration(const char* name, Entry fn) { registeredEntries().emplace_back(name, fn); }
};
#define AXON_KERNEL(jsName, fn) static const ::axon::EntryRegistration axonEntry_##fn(jsName, fn)

// Conv strategy switch for benchmarking: "batch" (our pool splits the batch,
// BLAS single-threaded) or "blas" (serial im2col chunks, BLAS threads).
Napi::Value SetConvStrategy(const Napi::CallbackInfo& info);

}  // namespace axon
