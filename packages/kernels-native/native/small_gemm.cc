#include "small_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace axon {

void PackedB::pack(const float* b, int64_t ldb, int64_t k, int64_t n, bool transposed) {
  b_ = b;
  ldb_ = ldb;
  k_ = k;
  n_ = n;
  transposed_ = transposed;
  const int64_t panels = (n + 15) / 16;
  panels_.reset(new float[panels * k * 16]);
  for (int64_t j = 0; j < panels; ++j) {
    const int64_t cols = std::min<int64_t>(16, n - j * 16);
    float* out = panels_.get() + j * k * 16;
    if (!transposed) {
      for (int64_t p = 0; p < k; ++p) std::memcpy(out + p * 16, b + p * ldb + j * 16, sizeof(float) * cols);
    } else {
      // Column c of the panel is row j*16 + c of B^T, read along its length.
      for (int64_t c = 0; c < cols; ++c) {
        const float* row = b + (j * 16 + c) * ldb;
        for (int64_t p = 0; p < k; ++p) out[p * 16 + c] = row[p];
      }
    }
    if (cols < 16) {
      for (int64_t p = 0; p < k; ++p) std::memset(out + p * 16 + cols, 0, sizeof(float) * (16 - cols));
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AXON_HAVE_SMALL_GEMM 1
#define AXON_V3 __attribute__((target("avx2,fma")))

namespace {

typedef float v8sf __attribute__((vector_size(32), aligned(4)));

// Rows of A as two column blocks (see smallGemm).
struct SplitA {
  const float* a;
  int64_t lda, k1;
  const float* a2;
  int64_t lda2;
};

// acc += A[0:MR, p0:p1]·panel[p0:p1] for A's rows at a (row stride lda), column p at a[p].
template <int MR>
AXON_V3 inline __attribute__((always_inline)) void accumulateRows(v8sf* lo, v8sf* hi, const float* a, int64_t lda,
                                                              const float* panel, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    const v8sf b0 = *reinterpret_cast<const v8sf*>(panel + p * 16);
    const v8sf b1 = *reinterpret_cast<const v8sf*>(panel + p * 16 + 8);
    for (int r = 0; r < MR; ++r) {
      const float x = a[r * lda + p];
      lo[r] += x * b0;
      hi[r] += x * b1;
    }
  }
}

// One MR x 16 tile of C from MR rows of A and one packed panel: 2*MR
// accumulators (at most 12 of the 16 ymm registers), per k two loads of the
// panel, MR broadcasts of A and 2*MR FMAs.
template <int MR>
AXON_V3 inline __attribute__((always_inline)) void tile(const SplitA& A, int64_t row, const float* panel, int64_t k,
                                                        float* c, int64_t ldc, int64_t cols, bool accumulate) {
  v8sf lo[MR], hi[MR];
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = v8sf{};
  accumulateRows<MR>(lo, hi, A.a + row * A.lda, A.lda, panel, 0, A.k1);
  if (A.k1 < k) accumulateRows<MR>(lo, hi, A.a2 + row * A.lda2 - A.k1, A.lda2, panel, A.k1, k);
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    if (cols == 16) {
      v8sf* out0 = reinterpret_cast<v8sf*>(row);
      v8sf* out1 = reinterpret_cast<v8sf*>(row + 8);
      if (accumulate) {
        *out0 += lo[r];
        *out1 += hi[r];
      } else {
        *out0 = lo[r];
        *out1 = hi[r];
      }
    } else {
      float tmp[16];
      *reinterpret_cast<v8sf*>(tmp) = lo[r];
      *reinterpret_cast<v8sf*>(tmp + 8) = hi[r];
      for (int64_t j = 0; j < cols; ++j) row[j] = accumulate ? row[j] + tmp[j] : tmp[j];
    }
  }
}

// Row tiles outer, panels inner: each tile's rows of C are written start to
// end (the per-step outputs are fresh memory, and this order streams them
// about 8% faster than panel-outer, which would keep a panel in L1 instead).
AXON_V3 void gemmV3(int64_t m, const SplitA& A, const PackedB& b, float* c, int64_t ldc, bool accumulate, int64_t p0,
                    int64_t p1) {
  const int64_t k = b.k(), n = b.n();
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) {
    for (int64_t j = p0; j < p1; ++j) {
      tile<6>(A, i, b.panel(j), k, c + i * ldc + j * 16, ldc, std::min<int64_t>(16, n - j * 16), accumulate);
    }
  }
  for (int64_t j = p0; i < m && j < p1; ++j) {
    const float* panel = b.panel(j);
    const int64_t cols = std::min<int64_t>(16, n - j * 16);
    float* cij = c + i * ldc + j * 16;
    switch (m - i) {
      case 5: tile<5>(A, i, panel, k, cij, ldc, cols, accumulate); break;
      case 4: tile<4>(A, i, panel, k, cij, ldc, cols, accumulate); break;
      case 3: tile<3>(A, i, panel, k, cij, ldc, cols, accumulate); break;
      case 2: tile<2>(A, i, panel, k, cij, ldc, cols, accumulate); break;
      default: tile<1>(A, i, panel, k, cij, ldc, cols, accumulate); break;
    }
  }
}

// AXON_SMALL_GEMM=0 in the environment forces the OpenBLAS path (for testing it).
bool detectNative() {
  const char* env = std::getenv("AXON_SMALL_GEMM");
  if (env && std::strcmp(env, "0") == 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const bool kNative = detectNative();

}  // namespace
#endif

bool smallGemmNative() {
#ifdef AXON_HAVE_SMALL_GEMM
  return kNative;
#else
  return false;
#endif
}

void smallGemm(int64_t m, const float* a, int64_t lda, int64_t k1, const float* a2, int64_t lda2, const PackedB& b,
               float* c, int64_t ldc, bool accumulate, int64_t p0, int64_t p1) {
  const int64_t k = b.k();
  if (p1 < 0) p1 = panelCount(b.n());
  const int64_t c0 = p0 * 16, n = std::min(p1 * 16, b.n()) - c0;  // the columns computed here
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) std::memset(c + r * ldc + c0, 0, sizeof(float) * n);
    }
    return;
  }
#ifdef AXON_HAVE_SMALL_GEMM
  if (kNative) {
    gemmV3(m, SplitA{a, lda, k1, a2, lda2}, b, c, ldc, accumulate, p0, p1);
    return;
  }
#endif
  // (Columns [c0, c0+n) of B and C.)
  c += c0;
  // OpenBLAS: one product per block of A's columns (the second accumulates).
  const CBLAS_TRANSPOSE tb = b.transposed() ? CblasTrans : CblasNoTrans;
  const int64_t rowStep = b.transposed() ? 1 : b.ldb();            // B's row p starts at source() + p*rowStep
  const float* src = b.source() + c0 * (b.transposed() ? b.ldb() : 1);  // and its column c0 at src
  float beta = accumulate ? 1.0f : 0.0f;
  if (k1 > 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, int(m), int(n), int(k1), 1.0f, a, int(lda), src, int(b.ldb()), beta, c,
                int(ldc));
    beta = 1.0f;
  }
  if (k1 < k) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, int(m), int(n), int(k - k1), 1.0f, a2, int(lda2), src + k1 * rowStep,
                int(b.ldb()), beta, c, int(ldc));
  }
}

}  // namespace axon
