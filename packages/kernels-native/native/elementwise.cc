// Element-wise kernels: unary ops (their gradients are composed in @axon/tensor), binary ops with NumPy
// broadcasting, and select. The op semantics mirror @axon/kernels-js exactly
// (same formulas, same edge cases); see the comments at each op.
#include <cmath>
#include <unordered_map>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace axon {

namespace {

// ---------------------------------------------------------------- unary ops

enum class UOp {
  Neg, Exp, Log, Sqrt, Rsqrt, Square, Abs, Sign, Reciprocal, Relu, Relu6, LeakyRelu, Elu, Selu, Gelu,
  Sigmoid, Tanh, Softplus, Softsign, Swish, Clip, Step, Floor, Round, Erf
};

const std::unordered_map<std::string, UOp>& unaryOps() {
  static const std::unordered_map<std::string, UOp> ops = {
      {"neg", UOp::Neg},         {"exp", UOp::Exp},       {"log", UOp::Log},
      {"sqrt", UOp::Sqrt},       {"rsqrt", UOp::Rsqrt},   {"square", UOp::Square},
      {"abs", UOp::Abs},         {"sign", UOp::Sign},     {"reciprocal", UOp::Reciprocal},
      {"relu", UOp::Relu},       {"relu6", UOp::Relu6},   {"leakyRelu", UOp::LeakyRelu},
      {"elu", UOp::Elu},         {"selu", UOp::Selu},     {"gelu", UOp::Gelu},
      {"sigmoid", UOp::Sigmoid}, {"tanh", UOp::Tanh},     {"softplus", UOp::Softplus},
      {"softsign", UOp::Softsign}, {"swish", UOp::Swish}, {"clip", UOp::Clip},
      {"step", UOp::Step},       {"floor", UOp::Floor},   {"round", UOp::Round},
      {"erf", UOp::Erf},
  };
  return ops;
}

// SELU constants as in Keras / TensorFlow.
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSqrtHalf = 0.70710678118654752440f;     // 1/sqrt(2)

// The exp-based ops run through vmath.h in loops compiled for AVX2 and for
// baseline x86-64 (ivdep: y may be x itself, never a shifted view of it).
#define AXON_LOOP1(name, expr)                                        \
  AXON_CLONES void name(const float* x, float* y, int64_t n) {        \
    _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) {            \
      const float v = x[i];                                           \
      y[i] = (expr);                                                  \
    }                                                                 \
  }
AXON_LOOP1(expLoop, vexp(v))
AXON_LOOP1(sigmoidLoop, vsigmoid(v))
AXON_LOOP1(tanhLoop, vtanh(v))
AXON_LOOP1(swishLoop, v * vsigmoid(v))
#undef AXON_LOOP1

void runLoop(void (*loop)(const float*, float*, int64_t), const float* x, float* y, int64_t n) {
  parallelFor(n, 4, [&](int64_t lo, int64_t hi) { loop(x + lo, y + lo, hi - lo); });
}

inline float softplusf(float x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
  return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
}

inline float signf(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; }  // keeps 0, -0 and NaN

inline float roundHalfEven(float x) { return std::nearbyint(x); }  // default rounding mode: ties to even

struct UParams {
  float alpha, beta;
};

// Applies f to [0, n) in parallel pieces; `cost` is a rough per-element cost.
template <typename F>
void mapN(int64_t n, int64_t cost, F f) {
  parallelFor(n, cost, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) f(i);
  });
}

void unaryForward(UOp op, const float* x, float* y, int64_t n, UParams p) {
  const float a = p.alpha, b = p.beta;
#define AXON_MAP(cost, expr)             \
  mapN(n, cost, [=](int64_t i) {         \
    const float v = x[i];                \
    y[i] = (expr);                       \
  });                                    \
  break
  switch (op) {
    case UOp::Neg: AXON_MAP(1, -v);
    case UOp::Exp: runLoop(expLoop, x, y, n); break;
    case UOp::Log: AXON_MAP(8, std::log(v));
    case UOp::Sqrt: AXON_MAP(4, std::sqrt(v));
    case UOp::Rsqrt: AXON_MAP(4, 1.0f / std::sqrt(v));
    case UOp::Square: AXON_MAP(1, v * v);
    case UOp::Abs: AXON_MAP(1, std::fabs(v));
    case UOp::Sign: AXON_MAP(1, signf(v));
    case UOp::Reciprocal: AXON_MAP(2, 1.0f / v);
    case UOp::Relu: AXON_MAP(1, v < 0 ? 0.0f : v);
    case UOp::Relu6: AXON_MAP(1, v < 0 ? 0.0f : v > 6 ? 6.0f : v);
    case UOp::LeakyRelu: AXON_MAP(1, v < 0 ? a * v : v);
    case UOp::Elu: AXON_MAP(8, v < 0 ? a * std::expm1(v) : v);
    case UOp::Selu: AXON_MAP(8, kSeluScale * (v < 0 ? kSeluAlpha * std::expm1(v) : v));
    case UOp::Gelu: AXON_MAP(12, 0.5f * v * std::erfc(-v * kSqrtHalf));  // exact; erfc keeps the negative tail accurate
    case UOp::Sigmoid: runLoop(sigmoidLoop, x, y, n); break;
    case UOp::Tanh: runLoop(tanhLoop, x, y, n); break;
    case UOp::Softplus: AXON_MAP(12, softplusf(v));
    case UOp::Softsign: AXON_MAP(2, v / (1.0f + std::fabs(v)));
    case UOp::Swish: runLoop(swishLoop, x, y, n); break;
    case UOp::Clip: AXON_MAP(1, v < a ? a : v > b ? b : v);
    case UOp::Step: AXON_MAP(1, v > 0 ? 1.0f : (v != v ? v : 0.0f));
    case UOp::Floor: AXON_MAP(1, std::floor(v));
    case UOp::Round: AXON_MAP(1, roundHalfEven(v));
    case UOp::Erf: AXON_MAP(12, std::erf(v));
  }
#undef AXON_MAP
}

UOp parseUnary(const Args& args, size_t i, UParams* p, size_t paramsIndex) {
  const std::string name = args.str(i, "op");
  auto it = unaryOps().find(name);
  if (it == unaryOps().end()) args.fail("unknown unary op '" + name + "'");
  Napi::Object params = args.object(paramsIndex, "params", /*optional=*/true);
  // Defaults for a missing parameter: tf.leakyRelu's 0.2, elu's 1, an unbounded clip.
  double alpha = 0, beta = 0;
  switch (it->second) {
    case UOp::LeakyRelu: alpha = args.numFieldOr(params, "alpha", 0.2); break;
    case UOp::Elu: alpha = args.numFieldOr(params, "alpha", 1.0); break;
    case UOp::Clip:
      alpha = args.numFieldOr(params, "alpha", -INFINITY);
      beta = args.numFieldOr(params, "beta", INFINITY);
      break;
    default: break;
  }
  p->alpha = static_cast<float>(alpha);
  p->beta = static_cast<float>(beta);
  return it->second;
}

// ------------------------------------------------------------- broadcasting

// Output shape collapsed to as few dims as possible, with each operand's
// stride per dim (0 where it is broadcast). In the last dim every stride is
// 0 or 1, which the inner loops specialise on.
struct Broadcast {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides[3];
  int operands = 0;
};

Broadcast planBroadcast(const Args& args, const std::vector<int64_t>& out, const std::vector<int64_t>* in[],
                        const char* const names[], int operands) {
  const size_t rank = out.size();
  Broadcast plan;
  plan.operands = operands;
  std::vector<int64_t> full[3];
  for (int o = 0; o < operands; ++o) {
    const auto& s = *in[o];
    if (s.size() > rank) {
      args.fail(std::string(names[o]) + "Shape " + shapeString(s) + " has more dims than outShape " + shapeString(out));
    }
    full[o].assign(rank, 0);
    const auto st = stridesOf(s);
    for (size_t d = 0; d < s.size(); ++d) {
      const size_t od = rank - s.size() + d;
      if (s[d] != out[od] && s[d] != 1) {
        args.fail(std::string(names[o]) + "Shape " + shapeString(s) + " does not broadcast to outShape " +
                  shapeString(out));
      }
      full[o][od] = s[d] == 1 ? 0 : st[d];
    }
  }
  // outShape may be larger than the operands' common broadcast: the result then repeats.
  // Drop size-1 dims, then merge neighbours that are contiguous for everyone.
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    bool merge = !plan.shape.empty();
    for (int o = 0; o < operands && merge; ++o) merge = plan.strides[o].back() == full[o][d] * out[d];
    if (merge) {
      plan.shape.back() *= out[d];
      for (int o = 0; o < operands; ++o) plan.strides[o].back() = full[o][d];
    } else {
      plan.shape.push_back(out[d]);
      for (int o = 0; o < operands; ++o) plan.strides[o].push_back(full[o][d]);
    }
  }
  if (plan.shape.empty()) {
    plan.shape.push_back(1);
    for (int o = 0; o < operands; ++o) plan.strides[o].push_back(0);
  }
  return plan;
}

// Calls run(offsets[], count, out offset) for contiguous runs along the last
// dim covering flat output indices [lo, hi).
template <typename Run>
void forEachRun(const Broadcast& p, int64_t lo, int64_t hi, Run run) {
  const size_t rank = p.shape.size();
  std::vector<int64_t> idx(rank, 0);
  int64_t off[3] = {0, 0, 0};
  int64_t rem = lo;
  for (size_t d = rank; d-- > 0;) {
    idx[d] = rem % p.shape[d];
    rem /= p.shape[d];
    for (int o = 0; o < p.operands; ++o) off[o] += idx[d] * p.strides[o][d];
  }
  const int64_t inner = p.shape[rank - 1];
  int64_t pos = lo;
  while (pos < hi) {
    const int64_t count = std::min(inner - idx[rank - 1], hi - pos);
    run(off, count, pos);
    pos += count;
    // Advance the multi-index by `count` (ends a row or the range).
    idx[rank - 1] += count;
    for (int o = 0; o < p.operands; ++o) off[o] += count * p.strides[o][rank - 1];
    for (size_t d = rank - 1; d > 0 && idx[d] == p.shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
      for (int o = 0; o < p.operands; ++o) off[o] += p.strides[o][d - 1] - p.shape[d] * p.strides[o][d];
    }
  }
}

enum class BOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, SquaredDifference, Greater, GreaterEqual, Less,
                 LessEqual, Equal, NotEqual };

const std::unordered_map<std::string, BOp>& binaryOps() {
  static const std::unordered_map<std::string, BOp> ops = {
      {"add", BOp::Add}, {"sub", BOp::Sub}, {"mul", BOp::Mul}, {"div", BOp::Div}, {"pow", BOp::Pow},
      {"maximum", BOp::Maximum}, {"minimum", BOp::Minimum}, {"squaredDifference", BOp::SquaredDifference},
      {"greater", BOp::Greater}, {"greaterEqual", BOp::GreaterEqual}, {"less", BOp::Less},
      {"lessEqual", BOp::LessEqual}, {"equal", BOp::Equal}, {"notEqual", BOp::NotEqual},
  };
  return ops;
}

// Inner loop specialised on whether each operand advances (stride 1) or is
// broadcast (stride 0) along the run; the compiler vectorises each variant.
template <typename F>
inline void runBinary(F f, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
  } else if (sa) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
  } else if (sb) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
  } else {
    const float v = f(*a, *b);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

template <typename F>
void binaryLoop(F f, const Broadcast& p, const float* a, const float* b, float* out, int64_t total, int64_t cost) {
  const int64_t sa = p.strides[0].back(), sb = p.strides[1].back();
  parallelFor(total, cost, [&](int64_t lo, int64_t hi) {
    forEachRun(p, lo, hi, [&](const int64_t* off, int64_t n, int64_t pos) {
      runBinary(f, a + off[0], sa, b + off[1], sb, out + pos, n);
    });
  });
}

inline float maxf(float a, float b) { return (a > b || a != a) ? a : b; }  // NaN wins, as Math.max
inline float minf(float a, float b) { return (a < b || a != a) ? a : b; }

void binaryDispatch(BOp op, const Broadcast& p, const float* a, const float* b, float* out, int64_t total) {
  switch (op) {
    case BOp::Add: return binaryLoop([](float x, float y) { return x + y; }, p, a, b, out, total, 1);
    case BOp::Sub: return binaryLoop([](float x, float y) { return x - y; }, p, a, b, out, total, 1);
    case BOp::Mul: return binaryLoop([](float x, float y) { return x * y; }, p, a, b, out, total, 1);
    case BOp::Div: return binaryLoop([](float x, float y) { return x / y; }, p, a, b, out, total, 2);
    case BOp::Pow: return binaryLoop([](float x, float y) { return std::pow(x, y); }, p, a, b, out, total, 16);
    case BOp::Maximum: return binaryLoop(maxf, p, a, b, out, total, 1);
    case BOp::Minimum: return binaryLoop(minf, p, a, b, out, total, 1);
    case BOp::SquaredDifference:
      // In double, as JS does: (x - y) rounded to float first would differ in the last bit.
      return binaryLoop([](float x, float y) { const double d = double(x) - double(y); return float(d * d); }, p, a, b, out, total, 1);
    case BOp::Greater: return binaryLoop([](float x, float y) { return x > y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
    case BOp::GreaterEqual:
      return binaryLoop([](float x, float y) { return x >= y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
    case BOp::Less: return binaryLoop([](float x, float y) { return x < y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
    case BOp::LessEqual:
      return binaryLoop([](float x, float y) { return x <= y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
    case BOp::Equal: return binaryLoop([](float x, float y) { return x == y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
    case BOp::NotEqual:
      return binaryLoop([](float x, float y) { return x != y ? 1.0f : 0.0f; }, p, a, b, out, total, 1);
  }
}

}  // namespace

// unary(op, x, y, params?)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args args(info, "unary", 3);
  UParams p;
  const UOp op = parseUnary(args, 0, &p, 3);
  F32 x = args.f32(1, "x"), y = args.f32(2, "y");
  args.exactly(y, "y", x.size, "x and y must have equal length");
  unaryForward(op, x.data, y.data, x.size, p);
  return info.Env().Undefined();
}

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args args(info, "binary", 7);
  const std::string name = args.str(0, "op");
  auto it = binaryOps().find(name);
  if (it == binaryOps().end()) args.fail("unknown binary op '" + name + "'");
  F32 a = args.f32(1, "a"), b = args.f32(3, "b"), out = args.f32(5, "out");
  const auto aShape = args.dims(2, "aShape"), bShape = args.dims(4, "bShape"), outShape = args.dims(6, "outShape");
  args.exactly(a, "a", shapeSize(args, aShape, "aShape"), "aShape " + shapeString(aShape));
  args.exactly(b, "b", shapeSize(args, bShape, "bShape"), "bShape " + shapeString(bShape));
  const int64_t total = shapeSize(args, outShape, "outShape");
  args.exactly(out, "out", total, "outShape " + shapeString(outShape));
  const std::vector<int64_t>* shapes[] = {&aShape, &bShape};
  const char* const names[] = {"a", "b"};
  const Broadcast plan = planBroadcast(args, outShape, shapes, names, 2);
  args.settle();  // no JS runs from here on
  if (total > 0) binaryDispatch(it->second, plan, a.data, b.data, out.data, total);
  return info.Env().Undefined();
}

// select(cond, condShape, a, aShape, b, bShape, out, outShape): out = cond != 0 ? a : b
Napi::Value Select(const Napi::CallbackInfo& info) {
  Args args(info, "select", 8);
  F32 cond = args.f32(0, "cond"), a = args.f32(2, "a"), b = args.f32(4, "b"), out = args.f32(6, "out");
  const auto cShape = args.dims(1, "condShape"), aShape = args.dims(3, "aShape"), bShape = args.dims(5, "bShape");
  const auto outShape = args.dims(7, "outShape");
  args.exactly(cond, "cond", shapeSize(args, cShape, "condShape"), "condShape " + shapeString(cShape));
  args.exactly(a, "a", shapeSize(args, aShape, "aShape"), "aShape " + shapeString(aShape));
  args.exactly(b, "b", shapeSize(args, bShape, "bShape"), "bShape " + shapeString(bShape));
  const int64_t total = shapeSize(args, outShape, "outShape");
  args.exactly(out, "out", total, "outShape " + shapeString(outShape));
  const std::vector<int64_t>* shapes[] = {&cShape, &aShape, &bShape};
  const char* const names[] = {"cond", "a", "b"};
  const Broadcast p = planBroadcast(args, outShape, shapes, names, 3);
  args.settle();  // no JS runs from here on
  if (total == 0) return info.Env().Undefined();
  const int64_t sc = p.strides[0].back(), sa = p.strides[1].back(), sb = p.strides[2].back();
  const float *c = cond.data, *av = a.data, *bv = b.data;
  float* o = out.data;
  parallelFor(total, 1, [&](int64_t lo, int64_t hi) {
    forEachRun(p, lo, hi, [&](const int64_t* off, int64_t n, int64_t pos) {
      const float *cp = c + off[0], *ap = av + off[1], *bp = bv + off[2];
      for (int64_t i = 0; i < n; ++i) o[pos + i] = cp[i * sc] != 0.0f ? ap[i * sa] : bp[i * sb];
    });
  });
  return info.Env().Undefined();
}

AXON_KERNEL("unary", Unary);
AXON_KERNEL("binary", Binary);
AXON_KERNEL("select", Select);

}  // namespace axon
