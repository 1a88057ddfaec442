// Entry points of the addon (one per Backend method) and the C++ cores they
// share. Each entry point validates its arguments (see common.h) and then
// calls a core that trusts them.
#pragma once

#include <napi.h>

#include <cstdint>

namespace axon {

// --- cores -----------------------------------------------------------------
// One row-major C = alpha*op(A)*op(B) + beta*C; handles m/n/k == 0 (k == 0
// gives beta*C, with beta == 0 writing zeros whatever C held).
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           const float* b, float beta, float* c);

// --- entry points ----------------------------------------------------------
Napi::Value Gemm(const Napi::CallbackInfo& info);
Napi::Value RawSgemm(const Napi::CallbackInfo& info);

Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value UnaryGrad(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Select(const Napi::CallbackInfo& info);

Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value ArgReduce(const Napi::CallbackInfo& info);
Napi::Value Softmax(const Napi::CallbackInfo& info);

Napi::Value Transpose(const Napi::CallbackInfo& info);
Napi::Value Slice(const Napi::CallbackInfo& info);
Napi::Value Pad(const Napi::CallbackInfo& info);
Napi::Value Concat(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value ScatterAdd(const Napi::CallbackInfo& info);
Napi::Value OneHot(const Napi::CallbackInfo& info);

Napi::Value Conv2d(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info);
Napi::Value MaxPool2d(const Napi::CallbackInfo& info);
Napi::Value MaxPool2dBackprop(const Napi::CallbackInfo& info);
Napi::Value AvgPool2d(const Napi::CallbackInfo& info);
Napi::Value AvgPool2dBackprop(const Napi::CallbackInfo& info);

Napi::Value SgdUpdate(const Napi::CallbackInfo& info);
Napi::Value AdamUpdate(const Napi::CallbackInfo& info);
Napi::Value RmspropUpdate(const Napi::CallbackInfo& info);

// Conv strategy switch for benchmarking: "batch" (our pool splits the batch,
// BLAS single-threaded) or "blas" (serial im2col chunks, BLAS threads).
Napi::Value SetConvStrategy(const Napi::CallbackInfo& info);

}  // namespace axon
