// Reductions over the middle axis of x viewed as [outer, size, inner]:
// reduce (sum/mean/max/min/prod) and softmax / log-softmax. (argReduce measured no faster than
// @axon/kernels-js on the [batch, classes] arrays it gets: js serves it.)
//
// Sums and products accumulate in double (as the JS backend does with JS
// numbers), so results agree to float rounding; max/min propagate NaN.
#include <cmath>
#include <limits>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace axon {

namespace {

enum class ROp { Sum, Mean, Max, Min, Prod };

ROp parseReduce(const Args& args, size_t i) {
  const std::string s = args.str(i, "op");
  if (s == "sum") return ROp::Sum;
  if (s == "mean") return ROp::Mean;
  if (s == "max") return ROp::Max;
  if (s == "min") return ROp::Min;
  if (s == "prod") return ROp::Prod;
  args.fail("unknown reduce op '" + s + "'");
}

// Inner block width for the strided case: accumulators stay in L1.
constexpr int64_t kBlock = 512;

double sumRow(const float* x, int64_t n) {
  // Eight independent accumulators: vectorisable and latency-free.
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += x[i];
  return s;
}

inline float pickMax(float m, float v) { return (v > m || v != v) ? v : m; }
inline float pickMin(float m, float v) { return (v < m || v != v) ? v : m; }

void reduceRows(ROp op, const float* x, float* out, int64_t outer, int64_t size) {
  parallelFor(outer, size, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      const float* row = x + o * size;
      switch (op) {
        case ROp::Sum: out[o] = static_cast<float>(sumRow(row, size)); break;
        case ROp::Mean: out[o] = static_cast<float>(sumRow(row, size) / double(size)); break;
        case ROp::Prod: {
          double p = 1;
          for (int64_t i = 0; i < size; ++i) p *= row[i];
          out[o] = static_cast<float>(p);
          break;
        }
        case ROp::Max: {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < size; ++i) m = pickMax(m, row[i]);
          out[o] = m;
          break;
        }
        case ROp::Min: {
          float m = std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < size; ++i) m = pickMin(m, row[i]);
          out[o] = m;
          break;
        }
      }
    }
  });
}

void reduceStrided(ROp op, const float* x, float* out, int64_t outer, int64_t size, int64_t inner) {
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallelFor(outer * blocks, size * std::min(inner, kBlock), [&](int64_t lo, int64_t hi) {
    double* acc = scratchDoubles(kBlock);
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t o = item / blocks, r0 = (item % blocks) * kBlock, w = std::min(kBlock, inner - r0);
      const float* base = x + o * size * inner + r0;
      float* dst = out + o * inner + r0;
      if (op == ROp::Max || op == ROp::Min) {
        const float init = op == ROp::Max ? -std::numeric_limits<float>::infinity()
                                          : std::numeric_limits<float>::infinity();
        for (int64_t r = 0; r < w; ++r) dst[r] = init;
        for (int64_t s = 0; s < size; ++s) {
          const float* row = base + s * inner;
          if (op == ROp::Max)
            for (int64_t r = 0; r < w; ++r) dst[r] = pickMax(dst[r], row[r]);
          else
            for (int64_t r = 0; r < w; ++r) dst[r] = pickMin(dst[r], row[r]);
        }
        continue;
      }
      const double init = op == ROp::Prod ? 1.0 : 0.0;
      for (int64_t r = 0; r < w; ++r) acc[r] = init;
      for (int64_t s = 0; s < size; ++s) {
        const float* row = base + s * inner;
        if (op == ROp::Prod)
          for (int64_t r = 0; r < w; ++r) acc[r] *= row[r];
        else
          for (int64_t r = 0; r < w; ++r) acc[r] += row[r];
      }
      const double scale = op == ROp::Mean ? 1.0 / double(size) : 1.0;
      if (op == ROp::Mean)
        for (int64_t r = 0; r < w; ++r) dst[r] = static_cast<float>(acc[r] / double(size));
      else
        for (int64_t r = 0; r < w; ++r) dst[r] = static_cast<float>(acc[r] * scale);
    }
  });
}

// out[i] = e^(x[i] - shift), vectorised (vmath.h).
AXON_CLONES void expShifted(const float* x, float shift, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = vexp(x[i] - shift);
}

struct Geometry {
  int64_t outer, size, inner, total;
};

Geometry readGeometry(const Args& args, size_t i) {
  Geometry g;
  g.outer = args.dim(i, "outer");
  g.size = args.dim(i + 1, "size");
  g.inner = args.dim(i + 2, "inner");
  g.total = args.mul(args.mul(g.outer, g.size, "outer*size"), g.inner, "outer*size*inner");
  return g;
}

std::string geometryString(const Geometry& g) {
  return "outer=" + std::to_string(g.outer) + ", size=" + std::to_string(g.size) + ", inner=" + std::to_string(g.inner);
}

}  // namespace

// reduce(op, x, out, outer, size, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Args args(info, "reduce", 6);
  const ROp op = parseReduce(args, 0);
  F32 x = args.f32(1, "x"), out = args.f32(2, "out");
  const Geometry g = readGeometry(args, 3);
  args.exactly(x, "x", g.total, geometryString(g));
  args.exactly(out, "out", g.outer * g.inner, geometryString(g));
  if (g.outer * g.inner == 0) return info.Env().Undefined();
  if (g.size == 0) {
    // Empty reductions give the identity (mean: NaN, as 0/0).
    const float v = op == ROp::Sum ? 0.0f : op == ROp::Prod ? 1.0f : op == ROp::Mean ? NAN
                  : op == ROp::Max ? -INFINITY : INFINITY;
    for (int64_t i = 0; i < g.outer * g.inner; ++i) out.data[i] = v;
  } else if (g.inner == 1) {
    reduceRows(op, x.data, out.data, g.outer, g.size);
  } else {
    reduceStrided(op, x.data, out.data, g.outer, g.size, g.inner);
  }
  return info.Env().Undefined();
}

// softmax(x, y, outer, size, inner, log): max-shifted; sums in double.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Args args(info, "softmax", 6);
  F32 x = args.f32(0, "x"), y = args.f32(1, "y");
  const Geometry g = readGeometry(args, 2);
  const bool logMode = args.flag(5, "log");
  args.exactly(x, "x", g.total, geometryString(g));
  args.exactly(y, "y", g.total, geometryString(g));
  if (g.total == 0) return info.Env().Undefined();
  const float* xd = x.data;
  float* yd = y.data;
  const int64_t size = g.size, inner = g.inner;
  if (inner == 1) {
    parallelFor(g.outer, size * 8, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        const float* xr = xd + o * size;
        float* yr = yd + o * size;
        float m = -INFINITY;
        for (int64_t s = 0; s < size; ++s) m = pickMax(m, xr[s]);
        // The exponentials 256 at a time into a stack buffer (y may alias x,
        // and log mode must not overwrite x before the last pass), summed in double.
        double sum = 0;
        float e[256];
        for (int64_t s0 = 0; s0 < size; s0 += 256) {
          const int64_t n = std::min<int64_t>(256, size - s0);
          expShifted(xr + s0, m, e, n);
          for (int64_t i = 0; i < n; ++i) sum += e[i];
          if (!logMode) std::memcpy(yr + s0, e, sizeof(float) * n);
        }
        if (logMode) {
          // (x - max) - log(sum), never x - (max + log(sum)): at |max| >= 1e16 the log(sum) <= log(size)
          // would vanish in the addition, and log-softmax of equal logits would come out 0, not -log(size).
          const double logSum = std::log(sum);
          for (int64_t s = 0; s < size; ++s) yr[s] = static_cast<float>((double(xr[s]) - double(m)) - logSum);
        } else {
          for (int64_t s = 0; s < size; ++s) yr[s] = static_cast<float>(yr[s] / sum);
        }
      }
    });
    return info.Env().Undefined();
  }
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallelFor(g.outer * blocks, size * std::min(inner, kBlock) * 8, [&](int64_t lo, int64_t hi) {
    double* sum = scratchDoubles(2 * kBlock);
    float* mx = scratchFloats(3, kBlock);
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t o = item / blocks, r0 = (item % blocks) * kBlock, w = std::min(kBlock, inner - r0);
      const float* xb = xd + o * size * inner + r0;
      float* yb = yd + o * size * inner + r0;
      for (int64_t r = 0; r < w; ++r) {
        mx[r] = -INFINITY;
        sum[r] = 0;
      }
      for (int64_t s = 0; s < size; ++s)
        for (int64_t r = 0; r < w; ++r) mx[r] = pickMax(mx[r], xb[s * inner + r]);
      for (int64_t s = 0; s < size; ++s)
        for (int64_t r = 0; r < w; ++r) {
          const float e = vexp(xb[s * inner + r] - mx[r]);
          if (!logMode) yb[s * inner + r] = e;
          sum[r] += e;
        }
      if (logMode) {
        double* logSum = sum + kBlock;
        for (int64_t r = 0; r < w; ++r) logSum[r] = std::log(sum[r]);
        for (int64_t s = 0; s < size; ++s)
          for (int64_t r = 0; r < w; ++r)
            yb[s * inner + r] = static_cast<float>((double(xb[s * inner + r]) - double(mx[r])) - logSum[r]);
      } else {
        for (int64_t s = 0; s < size; ++s)
          for (int64_t r = 0; r < w; ++r) yb[s * inner + r] = static_cast<float>(yb[s * inner + r] / sum[r]);
      }
    }
  });
  return info.Env().Undefined();
}

AXON_KERNEL("reduce", Reduce);
AXON_KERNEL("softmax", Softmax);

}  // namespace axon
