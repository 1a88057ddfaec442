// conv2d forward and both backward passes (im2col / col2im + sgemm), and
// max / average pooling. NHWC input, HWIO filter, NHWC output.
//
// The filter [fh, fw, in, out] is already the k x n matrix of the im2col
// product, with k = fh*fw*in in the same order as an im2col row, so
//   forward:        y[rows, out]  = col[rows, k] · W[k, out]
//   backprop input: dcol[rows, k] = dy[rows, out] · Wᵀ, then col2im into dx
//   backprop filter: dW[k, out]   = Σ colᵀ[k, rows] · dy[rows, out]
// where rows = images * outHeight * outWidth, processed in chunks of rows
// so the im2col scratch stays bounded (kColFloats per thread).
//
// Threading (see README "Threading"): with at least as many images as
// threads, our pool splits the batch and every thread runs im2col and a
// single-threaded sgemm on its own images ("batch"); otherwise chunks run one
// after another and OpenBLAS uses its own threads ("blas"). Results are
// bit-identical either way and for any thread count.
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <optional>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace axon {

namespace {

struct ConvGeom {
  int64_t batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padT, padL;
  int64_t k() const { return fH * fW * inC; }            // im2col row length
  int64_t pixels() const { return outH * outW; }         // im2col rows per image
  int64_t inImage() const { return inH * inW * inC; }
  int64_t outImage() const { return outH * outW * outC; }
  // A 1x1, stride-1, unpadded conv is a plain matmul on x itself.
  bool pointwise() const {
    return fH == 1 && fW == 1 && sH == 1 && sW == 1 && padT == 0 && padL == 0 && outH == inH && outW == inW;
  }
};

enum class ConvStrategy { Auto, Batch, Blas };
ConvStrategy gStrategy = ConvStrategy::Auto;

// im2col scratch per thread, in floats (4 MB).
constexpr int64_t kColFloats = int64_t(1) << 20;

ConvGeom readConv(const Args& args, size_t i) {
  Napi::Object o = args.object(i, "info");
  const char* n = "info";
  ConvGeom g;
  g.batch = args.dimField(o, "batch", n);
  g.inH = args.dimField(o, "inHeight", n);
  g.inW = args.dimField(o, "inWidth", n);
  g.inC = args.dimField(o, "inChannels", n);
  g.outH = args.dimField(o, "outHeight", n);
  g.outW = args.dimField(o, "outWidth", n);
  g.outC = args.dimField(o, "outChannels", n);
  g.fH = args.dimField(o, "filterHeight", n);
  g.fW = args.dimField(o, "filterWidth", n);
  g.sH = args.dimField(o, "strideHeight", n);
  g.sW = args.dimField(o, "strideWidth", n);
  g.dH = args.dimField(o, "dilationHeight", n);
  g.dW = args.dimField(o, "dilationWidth", n);
  g.padT = args.dimField(o, "padTop", n);
  g.padL = args.dimField(o, "padLeft", n);
  if (g.sH < 1 || g.sW < 1) args.fail("strides must be at least 1");
  if (g.dH < 1 || g.dW < 1) args.fail("dilations must be at least 1");
  // Products used below, checked once.
  args.mul(args.mul(args.mul(g.batch, g.inH, "x size"), g.inW, "x size"), g.inC, "x size");
  args.mul(args.mul(args.mul(g.batch, g.outH, "y size"), g.outW, "y size"), g.outC, "y size");
  args.mul(args.mul(g.k(), g.outC, "filter size"), 1, "filter size");
  args.mul(g.pixels(), g.k(), "im2col row block");
  // One im2col row must fit the scratch comfortably (a filter patch of 64M
  // values is far beyond any real layer, and would need gigabytes per row).
  if (g.k() > (int64_t(1) << 26)) args.fail("the filter patch filterHeight*filterWidth*inChannels is too large");
  if (g.outC > INT32_MAX) args.fail("outChannels must be below 2^31");
  return g;
}

std::string convString(const ConvGeom& g) {
  return "batch=" + std::to_string(g.batch) + ", in " + std::to_string(g.inH) + "x" + std::to_string(g.inW) + "x" +
         std::to_string(g.inC) + ", out " + std::to_string(g.outH) + "x" + std::to_string(g.outW) + "x" +
         std::to_string(g.outC) + ", filter " + std::to_string(g.fH) + "x" + std::to_string(g.fW);
}

// Output rows ("pixels") r of the whole batch are numbered image by image:
// r = (b * outH + oh) * outW + ow, which is also the row of y / dy.

// Writes the im2col rows [r0, r1) into col ((r1 - r0) x k).
void im2col(const ConvGeom& g, const float* x, int64_t r0, int64_t r1, float* col) {
  const int64_t C = g.inC, rowLen = g.k();
  int64_t ow = r0 % g.outW, oh = (r0 / g.outW) % g.outH, b = r0 / g.pixels();
  for (float* dst = col; r0 < r1; ++r0, dst += rowLen) {
    const float* img = x + b * g.inImage();
    float* d = dst;
    for (int64_t fh = 0; fh < g.fH; ++fh) {
      const int64_t ih = oh * g.sH - g.padT + fh * g.dH;
      if (ih < 0 || ih >= g.inH) {
        std::memset(d, 0, sizeof(float) * g.fW * C);
        d += g.fW * C;
        continue;
      }
      for (int64_t fw = 0; fw < g.fW; ++fw, d += C) {
        const int64_t iw = ow * g.sW - g.padL + fw * g.dW;
        if (iw < 0 || iw >= g.inW) {
          std::memset(d, 0, sizeof(float) * C);
        } else if (C == 1) {
          *d = img[ih * g.inW + iw];
        } else {
          std::memcpy(d, img + (ih * g.inW + iw) * C, sizeof(float) * C);
        }
      }
    }
    if (++ow == g.outW) {
      ow = 0;
      if (++oh == g.outH) oh = 0, ++b;
    }
  }
}

// Adds the im2col-shaped gradient of rows [r0, r1) into dx.
void col2im(const ConvGeom& g, const float* col, int64_t r0, int64_t r1, float* dx) {
  const int64_t C = g.inC, rowLen = g.k();
  int64_t ow = r0 % g.outW, oh = (r0 / g.outW) % g.outH, b = r0 / g.pixels();
  for (const float* src = col; r0 < r1; ++r0, src += rowLen) {
    float* img = dx + b * g.inImage();
    const float* s = src;
    for (int64_t fh = 0; fh < g.fH; ++fh) {
      const int64_t ih = oh * g.sH - g.padT + fh * g.dH;
      if (ih < 0 || ih >= g.inH) {
        s += g.fW * C;
        continue;
      }
      for (int64_t fw = 0; fw < g.fW; ++fw, s += C) {
        const int64_t iw = ow * g.sW - g.padL + fw * g.dW;
        if (iw < 0 || iw >= g.inW) continue;
        float* d = img + (ih * g.inW + iw) * C;
        for (int64_t c = 0; c < C; ++c) d[c] += s[c];
      }
    }
    if (++ow == g.outW) {
      ow = 0;
      if (++oh == g.outH) oh = 0, ++b;
    }
  }
}

// Calls fn(r0, r1) over the output rows of images [b0, b1) in chunks whose
// im2col fits in kColFloats (a chunk may end inside an image).
template <typename Fn>
void forRowChunks(const ConvGeom& g, int64_t b0, int64_t b1, Fn fn) {
  const int64_t step = std::max<int64_t>(1, kColFloats / std::max<int64_t>(1, g.k()));
  for (int64_t r = b0 * g.pixels(), end = b1 * g.pixels(); r < end; r += step) fn(r, std::min(end, r + step));
}

// Whether to split the batch over our threads (BLAS single-threaded inside).
bool useBatchSplit(const ConvGeom& g) {
  const int t = numThreads();
  if (t <= 1 || gStrategy == ConvStrategy::Blas) return false;
  const int64_t work = g.pixels() * g.k() * g.outC;  // MACs per image
  if (gStrategy == ConvStrategy::Batch) return plannedThreads(g.batch, work) > 1;
  // Waking the pool and switching BLAS to one thread costs ~10 µs: only worth
  // it from about a millisecond of work (4M multiply-adds) up.
  return g.batch >= t && double(work) * double(g.batch) >= double(1 << 22);
}

// Splits the batch into `groups` fixed ranges of images and runs
// body(group, b0, b1) for each: either in parallel over our threads (each
// running BLAS single-threaded; groups are handed out dynamically) or one
// after another with BLAS threads. The ranges depend only on the batch and
// `groups`, never on scheduling.
template <typename Body>
void forImageGroups(const ConvGeom& g, int64_t groups, bool split, Body body) {
  auto run = [&](int64_t group) {
    // The groups are the fixed partition deterministic mode needs (their count depends on the batch only there).
    std::optional<WholeProducts> whole;
    if (groups > 1) whole.emplace();
    body(group, g.batch * group / groups, g.batch * (group + 1) / groups);
  };
  if (split) {
    BlasSerial serial;
    parallelFor(groups, int64_t(1) << 30, [&](int64_t lo, int64_t hi) {
      for (int64_t group = lo; group < hi; ++group) run(group);
    });
  } else {
    for (int64_t group = 0; group < groups; ++group) run(group);
  }
}

// The image groups depend on the batch only — never on the thread count or
// the scheduling — and the GEMM shapes follow from the groups, so results are
// identical run to run, and bit-identical between one thread and any number
// of threads splitting the batch. 16 groups keep the threads balanced and the
// GEMMs large enough (batch 32: 2 images, 242 rows each). Only when OpenBLAS
// threads the GEMMs (fewer images than threads, or the 'blas' strategy) is the
// batch one group, so each GEMM is as large as the scratch allows; OpenBLAS's
// threading may change the last bit anyway.
constexpr int64_t kGroups = 16;

int64_t groupCount(const ConvGeom& g, bool split) {
  return split || numThreads() == 1 || deterministic() ? std::min(g.batch, kGroups) : 1;
}

template <typename Body>
void forImages(const ConvGeom& g, Body body) {
  const bool split = useBatchSplit(g);
  forImageGroups(g, groupCount(g, split), split, [&](int64_t, int64_t b0, int64_t b1) { body(b0, b1); });
}

// The filter gradient sums over images: each group accumulates its own
// partial, and the partials are added in group order.
constexpr int64_t kFilterPartialFloats = int64_t(1) << 22;  // 16 MB of partials at most


// ---- convolutions with a short filter patch (k = fH*fW*inC <= 32) -----------
//
// The seed CNN's first layer (3x3 over one channel, k = 9) is a GEMM with a
// tiny inner dimension: OpenBLAS spends more on packing than on arithmetic
// (measured 17 GFLOP/s forward, 14 for the filter gradient, at batch 32).
// Here each thread gathers a block of im2col rows into L1 and runs an AVX2/FMA
// loop with the output channels in registers: forward y[r, :] = sum_k col[r,k]
// * W[k, :]; filter gradient dW[k, :] += col[r,k] * dy[r, :], accumulated per
// fixed group of images and the groups added in order (so the result does not
// depend on the thread count). Without AVX2+FMA the general path runs.

constexpr int64_t kSmallK = 32;
constexpr int64_t kSmallKRows = 64;  // im2col rows gathered at once (64 x 32 floats = 8 KB)

bool smallKPath(const ConvGeom& g) {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const int64_t nv = g.outC / 8;
  return avx2 && g.k() <= kSmallK && g.outC % 8 == 0 && nv >= 1 && nv <= 8 && !g.pointwise();
}

typedef float v8f __attribute__((vector_size(32)));

__attribute__((target("avx2,fma"))) inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((target("avx2,fma"))) inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

// Calls rowFn(r, colRow) for the rows [r0, r1), gathering their im2col rows a block at a time into L1.
template <typename RowFn>
inline __attribute__((always_inline)) void forColumnRows(const ConvGeom& g, const float* x, int64_t r0, int64_t r1, RowFn rowFn) {
  alignas(32) float col[kSmallKRows * kSmallK];
  for (int64_t b0 = r0; b0 < r1; b0 += kSmallKRows) {
    const int64_t b1 = std::min(r1, b0 + kSmallKRows);
    im2col(g, x, b0, b1, col);
    for (int64_t r = b0; r < b1; ++r) rowFn(r, col + (r - b0) * g.k());
  }
}

// y rows [r0, r1) of a small-k conv; NV = outC / 8 vectors of output channels.
template <int NV>
__attribute__((target("avx2,fma"))) void smallKForward(const ConvGeom& g, const float* x, const float* w, float* y,
                                                         int64_t r0, int64_t r1) {
  const int64_t K = g.k(), C = g.outC;
  forColumnRows(g, x, r0, r1, [&](int64_t r, const float* c) __attribute__((target("avx2,fma"))) {
    v8f acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = v8f{};
    for (int64_t k = 0; k < K; ++k) {
      const v8f a = v8f{} + c[k];
      const float* wk = w + k * C;
      for (int v = 0; v < NV; ++v) acc[v] += a * load8(wk + 8 * v);
    }
    float* yr = y + r * C;
    for (int v = 0; v < NV; ++v) store8(yr + 8 * v, acc[v]);
  });
}

// dW[k, :] += col[r, k] * dy[r, :] over rows [r0, r1) into acc [K, outC] (accumulated, not cleared).
template <int NV>
__attribute__((target("avx2,fma"))) void smallKFilter(const ConvGeom& g, const float* x, const float* dy, float* acc,
                                                        int64_t r0, int64_t r1) {
  const int64_t K = g.k(), C = g.outC;
  forColumnRows(g, x, r0, r1, [&](int64_t r, const float* c) __attribute__((target("avx2,fma"))) {
    const float* dr = dy + r * C;
    v8f d[NV];
    for (int v = 0; v < NV; ++v) d[v] = load8(dr + 8 * v);
    for (int64_t k = 0; k < K; ++k) {
      const v8f a = v8f{} + c[k];
      float* ak = acc + k * C;
      for (int v = 0; v < NV; ++v) store8(ak + 8 * v, load8(ak + 8 * v) + a * d[v]);
    }
  });
}

template <template <int> class Fn, typename... Args>
void withVectors(int64_t nv, Args... args) {
  switch (nv) {
    case 1: return Fn<1>::run(args...);
    case 2: return Fn<2>::run(args...);
    case 3: return Fn<3>::run(args...);
    case 4: return Fn<4>::run(args...);
    case 5: return Fn<5>::run(args...);
    case 6: return Fn<6>::run(args...);
    case 7: return Fn<7>::run(args...);
    default: return Fn<8>::run(args...);
  }
}
template <int NV>
struct SmallKForward {
  static void run(const ConvGeom& g, const float* x, const float* w, float* y, int64_t r0, int64_t r1) {
    smallKForward<NV>(g, x, w, y, r0, r1);
  }
};
template <int NV>
struct SmallKFilter {
  static void run(const ConvGeom& g, const float* x, const float* dy, float* acc, int64_t r0, int64_t r1) {
    smallKFilter<NV>(g, x, dy, acc, r0, r1);
  }
};

// One input channel (the first layer of a grayscale CNN): no im2col at all.
// Forward: each output pixel is fH*fW broadcast FMAs over the output channels,
// reading the input in place. Filter gradient: per output row and tap, the
// tap's input values times that row's dy, summed in registers along the row.
template <int NV>
__attribute__((target("avx2,fma"))) void singleChannelForward(const ConvGeom& g, const float* x, const float* w, float* y,
                                                                int64_t row0, int64_t row1) {
  const int64_t C = g.outC;
  for (int64_t row = row0; row < row1; ++row) {
    const int64_t b = row / g.outH, oh = row % g.outH;
    const float* img = x + b * g.inH * g.inW;
    float* yr = y + row * g.outW * C;
    for (int64_t ow = 0; ow < g.outW; ++ow) {
      v8f acc[NV];
      for (int v = 0; v < NV; ++v) acc[v] = v8f{};
      for (int64_t kh = 0; kh < g.fH; ++kh) {
        const int64_t ih = oh * g.sH - g.padT + kh * g.dH;
        if (ih < 0 || ih >= g.inH) continue;
        const float* in = img + ih * g.inW;
        for (int64_t kw = 0; kw < g.fW; ++kw) {
          const int64_t iw = ow * g.sW - g.padL + kw * g.dW;
          if (iw < 0 || iw >= g.inW) continue;
          const v8f a = v8f{} + in[iw];
          const float* wk = w + (kh * g.fW + kw) * C;
          for (int v = 0; v < NV; ++v) acc[v] += a * load8(wk + 8 * v);
        }
      }
      for (int v = 0; v < NV; ++v) store8(yr + ow * C + 8 * v, acc[v]);
    }
  }
}

template <int NV>
__attribute__((target("avx2,fma"))) void singleChannelFilter(const ConvGeom& g, const float* x, const float* dy, float* acc,
                                                               int64_t row0, int64_t row1) {
  const int64_t C = g.outC;
  for (int64_t row = row0; row < row1; ++row) {
    const int64_t b = row / g.outH, oh = row % g.outH;
    const float* img = x + b * g.inH * g.inW;
    const float* dr = dy + row * g.outW * C;
    for (int64_t kh = 0; kh < g.fH; ++kh) {
      const int64_t ih = oh * g.sH - g.padT + kh * g.dH;
      if (ih < 0 || ih >= g.inH) continue;
      const float* in = img + ih * g.inW;
      for (int64_t kw = 0; kw < g.fW; ++kw) {
        v8f sum[NV];
        for (int v = 0; v < NV; ++v) sum[v] = v8f{};
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          const int64_t iw = ow * g.sW - g.padL + kw * g.dW;
          if (iw < 0 || iw >= g.inW) continue;
          const v8f a = v8f{} + in[iw];
          for (int v = 0; v < NV; ++v) sum[v] += a * load8(dr + ow * C + 8 * v);
        }
        float* ak = acc + (kh * g.fW + kw) * C;
        for (int v = 0; v < NV; ++v) store8(ak + 8 * v, load8(ak + 8 * v) + sum[v]);
      }
    }
  }
}

template <int NV>
struct SingleChannelForward {
  static void run(const ConvGeom& g, const float* x, const float* w, float* y, int64_t r0, int64_t r1) {
    singleChannelForward<NV>(g, x, w, y, r0, r1);
  }
};
template <int NV>
struct SingleChannelFilter {
  static void run(const ConvGeom& g, const float* x, const float* dy, float* acc, int64_t r0, int64_t r1) {
    singleChannelFilter<NV>(g, x, dy, acc, r0, r1);
  }
};

void smallKConv(const ConvGeom& g, const float* x, const float* w, float* y) {
  if (g.inC == 1) {
    parallelFor(g.batch * g.outH, g.outW * g.k() * g.outC, [&](int64_t lo, int64_t hi) {
      withVectors<SingleChannelForward>(g.outC / 8, g, x, w, y, lo, hi);
    });
    return;
  }
  const int64_t rows = g.batch * g.pixels();
  parallelFor(rows, g.k() * g.outC, [&](int64_t lo, int64_t hi) {
    withVectors<SmallKForward>(g.outC / 8, g, x, w, y, lo, hi);
  });
}

void smallKConvFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const int64_t fsize = g.k() * g.outC, groups = std::min<int64_t>(g.batch, kGroups);
  std::vector<float> partials(size_t(groups * fsize), 0.0f);
  parallelFor(groups, (g.batch / groups + 1) * g.pixels() * fsize, [&](int64_t lo, int64_t hi) {
    for (int64_t group = lo; group < hi; ++group) {
      const int64_t b0 = g.batch * group / groups, b1 = g.batch * (group + 1) / groups;
      float* acc = partials.data() + group * fsize;
      if (g.inC == 1) withVectors<SingleChannelFilter>(g.outC / 8, g, x, dy, acc, b0 * g.outH, b1 * g.outH);
      else withVectors<SmallKFilter>(g.outC / 8, g, x, dy, acc, b0 * g.pixels(), b1 * g.pixels());
    }
  });
  for (int64_t i = 0; i < fsize; ++i) {
    float sum = 0.0f;
    for (int64_t group = 0; group < groups; ++group) sum += partials[size_t(group * fsize + i)];
    dw[i] = sum;
  }
}

}  // namespace

Napi::Value SetConvStrategy(const Napi::CallbackInfo& info) {
  Args args(info, "setConvStrategy", 1);
  const std::string s = args.str(0, "strategy");
  if (s == "auto") gStrategy = ConvStrategy::Auto;
  else if (s == "batch") gStrategy = ConvStrategy::Batch;
  else if (s == "blas") gStrategy = ConvStrategy::Blas;
  else args.fail("strategy must be 'auto', 'batch' or 'blas'");
  return info.Env().Undefined();
}

// conv2d(x, filter, y, info)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Args args(info, "conv2d", 4);
  F32 x = args.f32(0, "x"), f = args.f32(1, "filter"), y = args.f32(2, "y");
  const ConvGeom g = readConv(args, 3);
  const std::string geo = convString(g);
  args.exactly(x, "x", g.batch * g.inImage(), geo);
  args.exactly(f, "filter", g.k() * g.outC, geo);
  args.exactly(y, "y", g.batch * g.outImage(), geo);
  args.settle();  // no JS runs from here on
  if (g.batch * g.outImage() == 0) return info.Env().Undefined();
  if (g.pointwise()) {
    sgemm(false, false, g.batch * g.pixels(), g.outC, g.inC, 1.0f, x.data, f.data, 0.0f, y.data);
    return info.Env().Undefined();
  }
  if (smallKPath(g)) {
    smallKConv(g, x.data, f.data, y.data);
    return info.Env().Undefined();
  }
  const int64_t K = g.k();
  forImages(g, [&](int64_t b0, int64_t b1) {
    forRowChunks(g, b0, b1, [&](int64_t r0, int64_t r1) {
      float* col = scratchFloats(0, (r1 - r0) * K);
      im2col(g, x.data, r0, r1, col);
      sgemm(false, false, r1 - r0, g.outC, K, 1.0f, col, f.data, 0.0f, y.data + r0 * g.outC);
    });
  });
  return info.Env().Undefined();
}

// conv2dBackpropInput(dy, filter, dx, info)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackpropInput", 4);
  F32 dy = args.f32(0, "dy"), f = args.f32(1, "filter"), dx = args.f32(2, "dx");
  const ConvGeom g = readConv(args, 3);
  const std::string geo = convString(g);
  args.exactly(dy, "dy", g.batch * g.outImage(), geo);
  args.exactly(f, "filter", g.k() * g.outC, geo);
  args.exactly(dx, "dx", g.batch * g.inImage(), geo);
  args.settle();  // no JS runs from here on
  if (g.batch * g.inImage() == 0) return info.Env().Undefined();
  if (g.outC == 0 || g.pixels() == 0) {  // no output depends on x
    std::memset(dx.data, 0, sizeof(float) * g.batch * g.inImage());
    return info.Env().Undefined();
  }
  if (g.pointwise()) {
    sgemm(false, true, g.batch * g.pixels(), g.inC, g.outC, 1.0f, dy.data, f.data, 0.0f, dx.data);
    return info.Env().Undefined();
  }
  const int64_t K = g.k();
  forImages(g, [&](int64_t b0, int64_t b1) {
    std::memset(dx.data + b0 * g.inImage(), 0, sizeof(float) * (b1 - b0) * g.inImage());
    forRowChunks(g, b0, b1, [&](int64_t r0, int64_t r1) {
      float* col = scratchFloats(0, (r1 - r0) * K);
      sgemm(false, true, r1 - r0, K, g.outC, 1.0f, dy.data + r0 * g.outC, f.data, 0.0f, col);
      col2im(g, col, r0, r1, dx.data);
    });
  });
  return info.Env().Undefined();
}

// conv2dBackpropFilter(x, dy, dFilter, info)
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackpropFilter", 4);
  F32 x = args.f32(0, "x"), dy = args.f32(1, "dy"), df = args.f32(2, "dFilter");
  const ConvGeom g = readConv(args, 3);
  const std::string geo = convString(g);
  args.exactly(x, "x", g.batch * g.inImage(), geo);
  args.exactly(dy, "dy", g.batch * g.outImage(), geo);
  const int64_t K = g.k(), fsize = K * g.outC;
  args.exactly(df, "dFilter", fsize, geo);
  args.settle();  // no JS runs from here on
  if (fsize == 0) return info.Env().Undefined();
  if (g.batch * g.pixels() == 0) {
    std::memset(df.data, 0, sizeof(float) * fsize);
    return info.Env().Undefined();
  }
  if (g.pointwise()) {
    sgemm(true, false, g.inC, g.outC, g.batch * g.pixels(), 1.0f, x.data, dy.data, 0.0f, df.data);
    return info.Env().Undefined();
  }
  if (smallKPath(g)) {
    smallKConvFilter(g, x.data, dy.data, df.data);
    return info.Env().Undefined();
  }
  const bool split = useBatchSplit(g);
  int64_t groups = groupCount(g, split);
  while (groups > 1 && (groups - 1) * fsize > kFilterPartialFloats) groups /= 2;
  // Group 0 accumulates in dFilter, the others in the caller's reusable scratch
  // (slot 1; pool threads only ever use slot 0).
  float* partials = scratchFloats(1, size_t(groups - 1) * fsize);
  std::vector<char> started(groups, 0);
  forImageGroups(g, groups, split, [&](int64_t group, int64_t b0, int64_t b1) {
    float* acc = group == 0 ? df.data : partials + size_t(group - 1) * fsize;
    forRowChunks(g, b0, b1, [&](int64_t r0, int64_t r1) {
      float* col = scratchFloats(0, (r1 - r0) * K);
      im2col(g, x.data, r0, r1, col);
      sgemm(true, false, K, g.outC, r1 - r0, 1.0f, col, dy.data + r0 * g.outC, started[group] ? 1.0f : 0.0f, acc);
      started[group] = 1;
    });
  });
  if (!started[0]) std::memset(df.data, 0, sizeof(float) * fsize);
  for (int64_t group = 1; group < groups; ++group) {
    if (!started[group]) continue;
    const float* part = partials + size_t(group - 1) * fsize;
    for (int64_t i = 0; i < fsize; ++i) df.data[i] += part[i];
  }
  return info.Env().Undefined();
}

// ------------------------------------------------------------------ pooling

namespace {

struct PoolGeom {
  int64_t batch, inH, inW, C, outH, outW, fH, fW, sH, sW, padT, padL;
  int64_t inImage() const { return inH * inW * C; }
  int64_t outImage() const { return outH * outW * C; }
};

PoolGeom readPool(const Args& args, size_t i) {
  Napi::Object o = args.object(i, "info");
  const char* n = "info";
  PoolGeom g;
  g.batch = args.dimField(o, "batch", n);
  g.inH = args.dimField(o, "inHeight", n);
  g.inW = args.dimField(o, "inWidth", n);
  g.C = args.dimField(o, "channels", n);
  g.outH = args.dimField(o, "outHeight", n);
  g.outW = args.dimField(o, "outWidth", n);
  g.fH = args.dimField(o, "filterHeight", n);
  g.fW = args.dimField(o, "filterWidth", n);
  g.sH = args.dimField(o, "strideHeight", n);
  g.sW = args.dimField(o, "strideWidth", n);
  g.padT = args.dimField(o, "padTop", n);
  g.padL = args.dimField(o, "padLeft", n);
  if (g.sH < 1 || g.sW < 1) args.fail("strides must be at least 1");
  args.mul(args.mul(args.mul(g.batch, g.inH, "x size"), g.inW, "x size"), g.C, "x size");
  args.mul(args.mul(args.mul(g.batch, g.outH, "y size"), g.outW, "y size"), g.C, "y size");
  if (g.batch * g.inImage() > INT32_MAX) args.fail("x has more than 2^31 elements (argmax is an Int32Array)");
  return g;
}

std::string poolString(const PoolGeom& g) {
  return "batch=" + std::to_string(g.batch) + ", in " + std::to_string(g.inH) + "x" + std::to_string(g.inW) + "x" +
         std::to_string(g.C) + ", out " + std::to_string(g.outH) + "x" + std::to_string(g.outW) + ", window " +
         std::to_string(g.fH) + "x" + std::to_string(g.fW);
}

// The valid input rows [h0, h1) and columns [w0, w1) of output cell (oh, ow).
inline void window(const PoolGeom& g, int64_t oh, int64_t ow, int64_t& h0, int64_t& h1, int64_t& w0, int64_t& w1) {
  const int64_t hs = oh * g.sH - g.padT, ws = ow * g.sW - g.padL;
  h0 = std::max<int64_t>(hs, 0);
  h1 = std::min(hs + g.fH, g.inH);
  w0 = std::max<int64_t>(ws, 0);
  w1 = std::min(ws + g.fW, g.inW);
}


// Output rows [lo, hi) (row = image * outH + oh) of maxPool2d. The first tap
// of a window sets value and index; every later tap is a compare-and-select
// over the channels (branch-free, so it vectorises): it takes the tap when it
// is greater, or when it is NaN and the current value is not (the first NaN
// sticks, as in kernels-js and reduce max). Ties keep the earlier tap.
AXON_CLONES void maxPoolRows(const PoolGeom& g, const float* __restrict x, float* __restrict y,
                             int32_t* __restrict am, int64_t lo, int64_t hi) {
  const int64_t C = g.C;
  for (int64_t row = lo; row < hi; ++row) {
    const int64_t b = row / g.outH, oh = row % g.outH;
    for (int64_t ow = 0; ow < g.outW; ++ow) {
      const int64_t o = ((b * g.outH + oh) * g.outW + ow) * C;
      float* __restrict yo = y + o;
      int32_t* __restrict ao = am + o;
      int64_t h0, h1, w0, w1;
      window(g, oh, ow, h0, h1, w0, w1);
      if (h0 >= h1 || w0 >= w1) {
        for (int64_t c = 0; c < C; ++c) {
          yo[c] = -std::numeric_limits<float>::infinity();
          ao[c] = -1;
        }
        continue;
      }
      bool first = true;
      for (int64_t ih = h0; ih < h1; ++ih)
        for (int64_t iw = w0; iw < w1; ++iw) {
          const int64_t base64 = ((b * g.inH + ih) * g.inW + iw) * C;
          const int32_t base = static_cast<int32_t>(base64);
          const float* __restrict xi = x + base64;
          if (first) {
            for (int64_t c = 0; c < C; ++c) {
              yo[c] = xi[c];
              ao[c] = base + static_cast<int32_t>(c);
            }
            first = false;
            continue;
          }
          for (int64_t c = 0; c < C; ++c) {
            const float v = xi[c], cur = yo[c];
            const bool take = (v > cur) | ((v != v) & (cur == cur));
            yo[c] = take ? v : cur;
            ao[c] = take ? base + static_cast<int32_t>(c) : ao[c];
          }
        }
    }
  }
}

// The largest of a[0..n) (INT32_MIN for n = 0); branch-free, vectorises.
AXON_CLONES int32_t maxIndex(const int32_t* a, int64_t n) {
  int32_t m = std::numeric_limits<int32_t>::min();
  for (int64_t i = 0; i < n; ++i) m = a[i] > m ? a[i] : m;
  return m;
}

}  // namespace

// maxPool2d(x, y, argmax, info): first maximum in window order wins; a window
// with no valid cell gives -Infinity and argmax -1.
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  Args args(info, "maxPool2d", 4);
  F32 x = args.f32(0, "x"), y = args.f32(1, "y");
  I32 am = args.i32(2, "argmax");
  const PoolGeom g = readPool(args, 3);
  const std::string geo = poolString(g);
  args.exactly(x, "x", g.batch * g.inImage(), geo);
  args.exactly(y, "y", g.batch * g.outImage(), geo);
  args.exactly(am, "argmax", g.batch * g.outImage(), geo);
  args.settle();  // no JS runs from here on
  const float* xd = x.data;
  float* yd = y.data;
  int32_t* ad = am.data;
  parallelFor(g.batch * g.outH, g.outW * g.C * g.fH * g.fW,
              [&](int64_t lo, int64_t hi) { maxPoolRows(g, xd, yd, ad, lo, hi); });
  return info.Env().Undefined();
}

// maxPool2dBackprop(dy, argmax, dx, info): dx = 0, then dx[argmax[i]] += dy[i]
// (a negative argmax means "no input" and is skipped).
Napi::Value MaxPool2dBackprop(const Napi::CallbackInfo& info) {
  Args args(info, "maxPool2dBackprop", 4);
  F32 dy = args.f32(0, "dy"), dx = args.f32(2, "dx");
  I32 am = args.i32(1, "argmax");
  const PoolGeom g = readPool(args, 3);
  const std::string geo = poolString(g);
  const int64_t nOut = g.batch * g.outImage(), nIn = g.batch * g.inImage();
  args.exactly(dy, "dy", nOut, geo);
  args.exactly(am, "argmax", nOut, geo);
  args.exactly(dx, "dx", nIn, geo);
  args.settle();  // no JS runs from here on
  // Validate every index first (a branch-free max, so dx is untouched when
  // one is bad), then scatter image by image in parallel; each image checks
  // that its indices stay inside its own image (no divisions) and, if one
  // does not, the whole scatter is redone serially.
  const int64_t outImg = g.outImage(), inImg = g.inImage();
  const int32_t* ap = am.data;
  if (maxIndex(ap, nOut) >= nIn) {
    for (int64_t i = 0; i < nOut; ++i) {
      const int32_t a = ap[i];
      if (a >= nIn) {
        throw Napi::RangeError::New(info.Env(), "maxPool2dBackprop: argmax[" + std::to_string(i) + "] = " +
                                                    std::to_string(a) + " is outside dx [0, " + std::to_string(nIn) + ")");
      }
    }
  }
  float* d = dx.data;
  const float* gy = dy.data;
  std::atomic<bool> crossImage{false};
  auto images = [&](int64_t lo, int64_t hi) {
    std::memset(d + lo * inImg, 0, sizeof(float) * (hi - lo) * inImg);
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t inBase = b * inImg;
      for (int64_t i = b * outImg, e = i + outImg; i < e; ++i) {
        const int64_t a = ap[i];
        if (a < 0) continue;
        if (static_cast<uint64_t>(a - inBase) >= static_cast<uint64_t>(inImg)) {
          crossImage.store(true, std::memory_order_relaxed);
          return;
        }
        d[a] += gy[i];
      }
    }
  };
  parallelFor(g.batch, inImg + outImg, images);
  if (crossImage.load()) {
    std::memset(d, 0, sizeof(float) * nIn);
    for (int64_t i = 0; i < nOut; ++i)
      if (ap[i] >= 0) d[ap[i]] += gy[i];
  }
  return info.Env().Undefined();
}

// avgPool2d(x, y, info): mean over the window's valid cells (padding never counts).
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  Args args(info, "avgPool2d", 3);
  F32 x = args.f32(0, "x"), y = args.f32(1, "y");
  const PoolGeom g = readPool(args, 2);
  const std::string geo = poolString(g);
  args.exactly(x, "x", g.batch * g.inImage(), geo);
  args.exactly(y, "y", g.batch * g.outImage(), geo);
  args.settle();  // no JS runs from here on
  const int64_t C = g.C;
  parallelFor(g.batch * g.outH, g.outW * C * g.fH * g.fW, [&](int64_t lo, int64_t hi) {
    double* acc = scratchDoubles(C);
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t b = row / g.outH, oh = row % g.outH;
      for (int64_t ow = 0; ow < g.outW; ++ow) {
        int64_t h0, h1, w0, w1;
        window(g, oh, ow, h0, h1, w0, w1);
        for (int64_t c = 0; c < C; ++c) acc[c] = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const float* xi = x.data + ((b * g.inH + ih) * g.inW + iw) * C;
            for (int64_t c = 0; c < C; ++c) acc[c] += xi[c];
          }
        const int64_t count = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
        float* yo = y.data + ((b * g.outH + oh) * g.outW + ow) * C;
        for (int64_t c = 0; c < C; ++c) yo[c] = count ? static_cast<float>(acc[c] / double(count)) : 0.0f;
      }
    }
  });
  return info.Env().Undefined();
}

// avgPool2dBackprop(dy, dx, info): dx = 0, then each dy spread evenly over its window's valid cells.
Napi::Value AvgPool2dBackprop(const Napi::CallbackInfo& info) {
  Args args(info, "avgPool2dBackprop", 3);
  F32 dy = args.f32(0, "dy"), dx = args.f32(1, "dx");
  const PoolGeom g = readPool(args, 2);
  const std::string geo = poolString(g);
  args.exactly(dy, "dy", g.batch * g.outImage(), geo);
  args.exactly(dx, "dx", g.batch * g.inImage(), geo);
  args.settle();  // no JS runs from here on
  const int64_t C = g.C;
  parallelFor(g.batch, g.inImage() + g.outImage() * g.fH * g.fW, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      float* img = dx.data + b * g.inImage();
      std::memset(img, 0, sizeof(float) * g.inImage());
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          int64_t h0, h1, w0, w1;
          window(g, oh, ow, h0, h1, w0, w1);
          const int64_t count = std::max<int64_t>(0, h1 - h0) * std::max<int64_t>(0, w1 - w0);
          if (!count) continue;
          const float* go = dy.data + ((b * g.outH + oh) * g.outW + ow) * C;
          const float scale = 1.0f / static_cast<float>(count);
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) {
              float* di = img + (ih * g.inW + iw) * C;
              for (int64_t c = 0; c < C; ++c) di[c] += go[c] * scale;
            }
        }
    }
  });
  return info.Env().Undefined();
}

AXON_KERNEL("conv2d", Conv2d);
AXON_KERNEL("conv2dBackpropInput", Conv2dBackpropInput);
AXON_KERNEL("conv2dBackpropFilter", Conv2dBackpropFilter);
AXON_KERNEL("maxPool2d", MaxPool2d);
AXON_KERNEL("maxPool2dBackprop", MaxPool2dBackprop);
AXON_KERNEL("avgPool2d", AvgPool2d);
AXON_KERNEL("avgPool2dBackprop", AvgPool2dBackprop);
AXON_KERNEL("setConvStrategy", SetConvStrategy);

}  // namespace axon
