// cast (dtype conversions; fill measured no faster than @axon/kernels-js, so
// js serves it), and the fused bias + activation epilogue of Dense / Conv2D
// with its backward.
//
// The fused pair pays on the seed CNN: its first conv output has 692,224
// values, and the backward of relu/sigmoid/tanh there takes ~0.2 ms in one
// pass against ~1.0 ms composed from step/sub/mul kernels (2 cores); the
// forward saves the separate add and activation passes.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace axon {

namespace {

enum class Act { Linear, Relu, Sigmoid, Tanh, HardSigmoid };

Act readAct(const Args& args, size_t i) {
  const std::string name = args.str(i, "activation");
  if (name == "linear") return Act::Linear;
  if (name == "relu") return Act::Relu;
  if (name == "sigmoid") return Act::Sigmoid;
  if (name == "tanh") return Act::Tanh;
  if (name == "hardSigmoid") return Act::HardSigmoid;
  args.fail("activation must be one of linear, relu, sigmoid, tanh, hardSigmoid, got '" + name + "'");
}

// y = act(x + bias) for rows [r0, r1) of [rows, C]; bias may be null. NaN passes through.
template <Act A>
AXON_CLONES void forwardRows(const float* __restrict x, const float* __restrict bias, float* y, int64_t C, int64_t r0,
                             int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
#pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const float v = bias ? xr[c] + bias[c] : xr[c];
      float out;
      if constexpr (A == Act::Linear) out = v;
      if constexpr (A == Act::Relu) out = v > 0.0f ? v : (v == v ? 0.0f : v);
      if constexpr (A == Act::Sigmoid) out = vsigmoid(v);
      if constexpr (A == Act::Tanh) out = vtanh(v);
      if constexpr (A == Act::HardSigmoid) {
        const float h = 0.2f * v + 0.5f;
        out = h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
      }
      yr[c] = out;
    }
  }
}

// dy * act'(y), the derivative from the output.
template <Act A>
inline __attribute__((always_inline)) float derivative(float w, float g) {
  if constexpr (A == Act::Linear) return g;
  if constexpr (A == Act::Relu) return w > 0.0f ? g : 0.0f;
  if constexpr (A == Act::Sigmoid) return g * w * (1.0f - w);
  if constexpr (A == Act::Tanh) return g * (1.0f - w * w);
  if constexpr (A == Act::HardSigmoid) return (w > 0.0f && w < 1.0f) ? 0.2f * g : 0.0f;
}

// dx = dy * act'(y) over [i0, i1).
template <Act A>
AXON_CLONES void backwardRange(const float* __restrict y, const float* dy, float* dx, int64_t i0, int64_t i1) {
#pragma GCC ivdep
  for (int64_t i = i0; i < i1; ++i) dx[i] = derivative<A>(y[i], dy[i]);
}

// Rows [r0, r1) of dx = dy * act'(y) and, in the same pass, their column sums into acc[C].
template <Act A>
AXON_CLONES void backwardRowsWithSums(const float* __restrict y, const float* dy, float* dx, float* __restrict acc,
                                      int64_t C, int64_t r0, int64_t r1) {
  for (int64_t c = 0; c < C; ++c) acc[c] = 0.0f;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t i = r * C;
#pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const float d = derivative<A>(y[i + c], dy[i + c]);
      dx[i + c] = d;
      acc[c] += d;
    }
  }
}

template <typename Fn>
void withAct(Act a, Fn fn) {
  switch (a) {
    case Act::Linear: return fn(std::integral_constant<Act, Act::Linear>{});
    case Act::Relu: return fn(std::integral_constant<Act, Act::Relu>{});
    case Act::Sigmoid: return fn(std::integral_constant<Act, Act::Sigmoid>{});
    case Act::Tanh: return fn(std::integral_constant<Act, Act::Tanh>{});
    case Act::HardSigmoid: return fn(std::integral_constant<Act, Act::HardSigmoid>{});
  }
}

// The bias gradient sums over rows in this many fixed groups (partials added
// in group order), so the result does not depend on the thread count.
constexpr int64_t kRowGroups = 32;

// A Float32Array or Int32Array argument: its data, length and whether it is int32.
struct AnyView {
  void* data;
  int64_t size;
  bool isInt;
};

AnyView anyArray(const Args& args, const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (v.IsTypedArray()) {
    const auto type = v.As<Napi::TypedArray>().TypedArrayType();
    if (type == napi_float32_array) {
      F32 f = args.f32(i, name);
      return {f.data, f.size, false};
    }
    if (type == napi_int32_array) {
      I32 n = args.i32(i, name);
      return {n.data, n.size, true};
    }
  }
  args.typeFail(std::string(name) + " must be a Float32Array or an Int32Array");
}

// float -> int32 truncates toward zero; a value outside the int32 range (NaN and ±Infinity included) is an
// error rather than JavaScript's silent wrap modulo 2^32, so the first one found is reported.
inline bool fitsInt32(float v) { return v >= -2147483648.0f && v < 2147483648.0f; }

}  // namespace

// cast(x, xType, y, yType)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Args args(info, "cast", 4);
  AnyView x = anyArray(args, info, 0, "x"), y = anyArray(args, info, 2, "y");
  const std::string xType = args.str(1, "xType"), yType = args.str(3, "yType");
  if (x.isInt != (xType == "int32") || (xType != "int32" && xType != "float32")) args.fail("xType '" + xType + "' does not match x");
  if (y.isInt != (yType == "int32") || (yType != "int32" && yType != "float32")) args.fail("yType '" + yType + "' does not match y");
  args.exactly(F32{nullptr, y.size, true}, "y", x.size, "x and y must have equal length");
  args.settle();
  const int64_t n = x.size;
  if (x.isInt == y.isInt) {
    if (n && x.data != y.data) std::memcpy(y.data, x.data, sizeof(float) * n);
  } else if (x.isInt) {
    const int32_t* s = static_cast<const int32_t*>(x.data);
    float* d = static_cast<float*>(y.data);
    parallelFor(n, 1, [&](int64_t lo, int64_t hi) { for (int64_t i = lo; i < hi; ++i) d[i] = static_cast<float>(s[i]); });
  } else {
    const float* s = static_cast<const float*>(x.data);
    int32_t* d = static_cast<int32_t*>(y.data);
    for (int64_t i = 0; i < n; ++i) {
      if (!fitsInt32(s[i])) {
        // %.9g identifies any float32; NaN and the infinities are spelled as JavaScript spells them.
        char value[32];
        if (std::isnan(s[i])) std::snprintf(value, sizeof value, "NaN");
        else if (std::isinf(s[i])) std::snprintf(value, sizeof value, s[i] > 0 ? "Infinity" : "-Infinity");
        else std::snprintf(value, sizeof value, "%.9g", double(s[i]));
        args.fail(std::string("value ") + value + " at index " + std::to_string(i) + " is outside the int32 range [-2147483648, 2147483647]");
      }
    }
    parallelFor(n, 2, [&](int64_t lo, int64_t hi) { for (int64_t i = lo; i < hi; ++i) d[i] = static_cast<int32_t>(s[i]); });
  }
  return info.Env().Undefined();
}

// biasActivation(x, bias | null, y, rows, channels, activation)
Napi::Value BiasActivation(const Napi::CallbackInfo& info) {
  Args args(info, "biasActivation", 6);
  F32 x = args.f32(0, "x"), bias = args.f32OrNull(1, "bias"), y = args.f32(2, "y");
  const int64_t rows = args.dim(3, "rows"), C = args.dim(4, "channels");
  const Act act = readAct(args, 5);
  const int64_t n = args.mul(rows, C, "rows*channels");
  const std::string geo = "rows=" + std::to_string(rows) + ", channels=" + std::to_string(C);
  args.exactly(x, "x", n, geo);
  args.exactly(y, "y", n, geo);
  if (bias.present) args.exactly(bias, "bias", C, geo);
  args.settle();
  const float* b = bias.present ? bias.data : nullptr;
  withAct(act, [&](auto a) {
    parallelFor(rows, C * 4, [&](int64_t lo, int64_t hi) { forwardRows<decltype(a)::value>(x.data, b, y.data, C, lo, hi); });
  });
  return info.Env().Undefined();
}

// biasActivationGrad(y, dy, dx, dBias | null, rows, channels, activation)
Napi::Value BiasActivationGrad(const Napi::CallbackInfo& info) {
  Args args(info, "biasActivationGrad", 7);
  F32 y = args.f32(0, "y"), dy = args.f32(1, "dy"), dx = args.f32(2, "dx"), dBias = args.f32OrNull(3, "dBias");
  const int64_t rows = args.dim(4, "rows"), C = args.dim(5, "channels");
  const Act act = readAct(args, 6);
  const int64_t n = args.mul(rows, C, "rows*channels");
  const std::string geo = "rows=" + std::to_string(rows) + ", channels=" + std::to_string(C);
  args.exactly(y, "y", n, geo);
  args.exactly(dy, "dy", n, geo);
  args.exactly(dx, "dx", n, geo);
  if (dBias.present) args.exactly(dBias, "dBias", C, geo);
  args.settle();
  if (!dBias.present || C == 0) {
    withAct(act, [&](auto a) {
      parallelFor(n, 2, [&](int64_t lo, int64_t hi) { backwardRange<decltype(a)::value>(y.data, dy.data, dx.data, lo, hi); });
    });
    if (dBias.present) std::fill(dBias.data, dBias.data + C, 0.0f);
    return info.Env().Undefined();
  }
  // dx and the bias gradient in one pass over fixed row groups (each row is still in L1 when summed).
  const int64_t groups = std::max<int64_t>(1, std::min(rows, kRowGroups));
  std::vector<float> partial(size_t(groups * C));
  withAct(act, [&](auto a) {
    parallelFor(groups, (rows / groups + 1) * C * 3, [&](int64_t lo, int64_t hi) {
      for (int64_t g = lo; g < hi; ++g) {
        backwardRowsWithSums<decltype(a)::value>(y.data, dy.data, dx.data, partial.data() + g * C, C, rows * g / groups,
                                                 rows * (g + 1) / groups);
      }
    });
  });
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t g = 0; g < groups; ++g) s += partial[size_t(g * C + c)];
    dBias.data[c] = static_cast<float>(s);
  }
  return info.Env().Undefined();
}

AXON_KERNEL("cast", Cast);
AXON_KERNEL("biasActivation", BiasActivation);
AXON_KERNEL("biasActivationGrad", BiasActivationGrad);

}  // namespace axon
