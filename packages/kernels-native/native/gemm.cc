// Batched GEMM on cblas_sgemm, plus the raw cblas_sgemm hook the benchmark
// uses to measure the binding's overhead.
#include <cblas.h>

#include <climits>

#include "common.h"
#include "kernels.h"
#include "pool.h"

namespace axon {

namespace {

// sgemm with explicit leading dimensions (blocks of larger matrices); m, n, k > 0.
void sgemmStrided(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, lda, b, ldb, beta, c, ldc);
}

// Products from this many multiply-adds up are sliced in deterministic mode.
constexpr int64_t kSliceMinMacs = int64_t(1) << 20;

// C = alpha*op(A)*op(B) + beta*C with the longer side of C cut into `slices` fixed slices, each a
// single-threaded sgemm on a strided block, handed to our pool. The slices depend on the shape
// only, so the result is the same for any thread count (one thread runs them one after another).
void slicedSgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 const float* b, float beta, float* c, int64_t slices) {
  const bool byRows = m >= n;
  const int64_t side = byRows ? m : n;
  slices = std::min(side, slices);
  const int lda = static_cast<int>(transA ? m : k), ldb = static_cast<int>(transB ? k : n), ldc = static_cast<int>(n);
  BlasSerial serial;
  parallelFor(slices, m * n * k / slices, [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) {
      const int64_t from = side * s / slices, to = side * (s + 1) / slices;
      if (from == to) continue;
      const float* as = byRows ? a + (transA ? from : from * k) : a;
      const float* bs = byRows ? b : b + (transB ? from * k : from);
      float* cs = c + (byRows ? from * n : from);
      const int64_t ms = byRows ? to - from : m, ns = byRows ? n : to - from;
      sgemmStrided(transA, transB, ms, ns, k, alpha, as, lda, bs, ldb, beta, cs, ldc);
    }
  });
}

thread_local bool tWholeProducts = false;

// Fixed slices for a product in deterministic mode: 8 (as the medium products below), 16 past 2^27 multiply-adds.
int64_t deterministicSlices(int64_t macs) { return macs <= (int64_t(1) << 27) ? 8 : 16; }

}  // namespace

WholeProducts::WholeProducts() : previous_(tWholeProducts) { tWholeProducts = true; }
WholeProducts::~WholeProducts() { tWholeProducts = previous_; }

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    // BLAS would do this too, but it must not see zero leading dimensions.
    const int64_t size = m * n;
    if (beta == 0.0f) {
      std::memset(c, 0, sizeof(float) * size);
    } else if (beta != 1.0f) {
      for (int64_t i = 0; i < size; ++i) c[i] *= beta;
    }
    return;
  }
  // Deterministic mode: OpenBLAS runs single-threaded; large products are split by our pool instead.
  const int64_t macs = m * n * k;
  if (deterministic() && macs >= kSliceMinMacs && !tWholeProducts) {
    slicedSgemm(transA, transB, m, n, k, alpha, a, b, beta, c, deterministicSlices(macs));
    return;
  }
  const int lda = static_cast<int>(transA ? m : k);
  const int ldb = static_cast<int>(transB ? k : n);
  sgemmStrided(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, static_cast<int>(n));
}

// gemm(a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args args(info, "gemm", 13);
  F32 a = args.f32(0, "a"), b = args.f32(1, "b"), c = args.f32(2, "c");
  const int64_t batch = args.dim(3, "batch"), m = args.dim(4, "m"), n = args.dim(5, "n"), k = args.dim(6, "k");
  const bool transA = args.flag(7, "transA"), transB = args.flag(8, "transB");
  const float alpha = static_cast<float>(args.number(9, "alpha"));
  const float beta = static_cast<float>(args.number(10, "beta"));
  const int64_t strideA = args.dim(11, "strideA"), strideB = args.dim(12, "strideB");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX) args.fail("m, n and k must each be below 2^31");

  const std::string dims = "batch=" + std::to_string(batch) + ", m=" + std::to_string(m) +
                           ", n=" + std::to_string(n) + ", k=" + std::to_string(k);
  const int64_t mk = args.mul(m, k, "m*k"), kn = args.mul(k, n, "k*n"), mn = args.mul(m, n, "m*n");
  if (batch > 0) {
    args.atLeast(a, "a", args.mul(batch - 1, strideA, "batch*strideA") + mk,
                 dims + ", strideA=" + std::to_string(strideA));
  }
  if (batch > 0) {
    args.atLeast(b, "b", args.mul(batch - 1, strideB, "batch*strideB") + kn,
                 dims + ", strideB=" + std::to_string(strideB));
  }
  args.exactly(c, "c", args.mul(batch, mn, "batch*m*n"), dims);
  if (batch == 0 || mn == 0) return info.Env().Undefined();

  // A shared right operand and contiguous, untransposed left operands: the
  // whole batch is one (batch*m) x k by k x n product.
  if (batch > 1 && strideB == 0 && !transA && strideA == mk && batch * m <= INT_MAX) {
    sgemm(false, transB, batch * m, n, k, alpha, a.data, b.data, beta, c.data);
    return info.Env().Undefined();
  }

  auto one = [&](int64_t i) {
    sgemm(transA, transB, m, n, k, alpha, a.data + i * strideA, b.data + i * strideB, beta, c.data + i * mn);
  };
  // One medium product with a short side (a Dense layer's forward or backward
  // at training batch sizes): OpenBLAS's own threads cost more to wake and join
  // than the product takes to split, so our pool splits the longer side of C
  // into fixed slices (square products keep OpenBLAS's threads, which do better),
  // each a single-threaded sgemm on a strided block. Measured on the seed CNN's
  // Dense(128): 0.28 ms for its three products against 0.39 ms at batch 32, 0.87 against 1.09 at 128.
  const int64_t macs = m * n * k;
  if (batch == 1 && std::min(m, n) <= 128 && macs >= kSliceMinMacs && macs <= (int64_t(1) << 27) && plannedThreads(2, macs) > 1) {
    slicedSgemm(transA, transB, m, n, k, alpha, a.data, b.data, beta, c.data, 8);
    return info.Env().Undefined();
  }
  // Many small products: split the batch over our threads, each calling BLAS
  // single-threaded. Large products: one at a time, BLAS uses its threads.
  const int64_t flops = m * n * (k + 1);
  if (batch > 1 && flops < 96 * 96 * 96 && plannedThreads(batch, flops) > 1) {
    BlasSerial serial;
    parallelFor(batch, flops, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) one(i);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i);
  }
  return info.Env().Undefined();
}

// rawSgemm(a, b, c, m, n, k): C = A*B straight into cblas_sgemm (lengths are
// still checked); exists only so benchmarks can measure our overhead.
Napi::Value RawSgemm(const Napi::CallbackInfo& info) {
  Args args(info, "rawSgemm", 6);
  F32 a = args.f32(0, "a"), b = args.f32(1, "b"), c = args.f32(2, "c");
  const int64_t m = args.dim(3, "m"), n = args.dim(4, "n"), k = args.dim(5, "k");
  if (m < 1 || n < 1 || k < 1 || m > INT_MAX || n > INT_MAX || k > INT_MAX) args.fail("m, n, k must be in [1, 2^31)");
  args.atLeast(a, "a", args.mul(m, k, "m*k"), "");
  args.atLeast(b, "b", args.mul(k, n, "k*n"), "");
  args.atLeast(c, "c", args.mul(m, n, "m*n"), "");
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a.data, int(k), b.data,
              int(n), 0.0f, c.data, int(n));
  return info.Env().Undefined();
}

AXON_KERNEL("gemm", Gemm);
AXON_KERNEL("rawSgemm", RawSgemm);

}  // namespace axon
