#include "small_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>

namespace axon {

void PackedB::pack(const float* b, int64_t ldb, int64_t k, int64_t n) {
  b_ = b;
  ldb_ = ldb;
  k_ = k;
  n_ = n;
  const int64_t panels = (n + 15) / 16;
  panels_.assign(panels * k * 16, 0.0f);
  for (int64_t j = 0; j < panels; ++j) {
    const int64_t cols = std::min<int64_t>(16, n - j * 16);
    float* out = panels_.data() + j * k * 16;
    for (int64_t p = 0; p < k; ++p) std::memcpy(out + p * 16, b + p * ldb + j * 16, sizeof(float) * cols);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AXON_HAVE_SMALL_GEMM 1
#define AXON_V3 __attribute__((target("avx2,fma")))

namespace {

typedef float v8sf __attribute__((vector_size(32), aligned(4)));

// One MR x 16 tile of C from MR rows of A and one packed panel: 2*MR
// accumulators (at most 12 of the 16 ymm registers), per k two loads of the
// panel, MR broadcasts of A and 2*MR FMAs.
template <int MR>
AXON_V3 inline __attribute__((always_inline)) void tile(const float* a, int64_t lda, const float* panel, int64_t k,
                                                        float* c, int64_t ldc, int64_t cols, bool accumulate) {
  v8sf lo[MR], hi[MR];
  for (int r = 0; r < MR; ++r) lo[r] = hi[r] = v8sf{};
  for (int64_t p = 0; p < k; ++p) {
    const v8sf b0 = *reinterpret_cast<const v8sf*>(panel + p * 16);
    const v8sf b1 = *reinterpret_cast<const v8sf*>(panel + p * 16 + 8);
    for (int r = 0; r < MR; ++r) {
      const float x = a[r * lda + p];
      lo[r] += x * b0;
      hi[r] += x * b1;
    }
  }
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

AXON_V3 void gemmV3(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc, bool accumulate) {
  const int64_t k = b.k(), n = b.n();
  for (int64_t j = 0; j * 16 < n; ++j) {
    const float* panel = b.panel(j);
    const int64_t cols = std::min<int64_t>(16, n - j * 16);
    float* cj = c + j * 16;
    int64_t i = 0;
    for (; i + 6 <= m; i += 6) tile<6>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate);
    switch (m - i) {
      case 5: tile<5>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate); break;
      case 4: tile<4>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate); break;
      case 3: tile<3>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate); break;
      case 2: tile<2>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate); break;
      case 1: tile<1>(a + i * lda, lda, panel, k, cj + i * ldc, ldc, cols, accumulate); break;
      default: break;
    }
  }
}

const bool kNative = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));

}  // namespace
#endif

bool smallGemmNative() {
#ifdef AXON_HAVE_SMALL_GEMM
  return kNative;
#else
  return false;
#endif
}

void smallGemm(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc, bool accumulate) {
  const int64_t k = b.k(), n = b.n();
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) std::memset(c + r * ldc, 0, sizeof(float) * n);
    }
    return;
  }
#ifdef AXON_HAVE_SMALL_GEMM
  if (kNative) {
    gemmV3(m, a, lda, b, c, ldc, accumulate);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a, int(lda), b.source(),
              int(b.ldb()), accumulate ? 1.0f : 0.0f, c, int(ldc));
}

}  // namespace axon
