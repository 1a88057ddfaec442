// Small GEMMs against a pre-packed right operand, for the recurrent kernels'
// per-step products (a few dozen rows times a weight matrix that stays the
// same for every step of a call).
//
// OpenBLAS packs both operands on every call and clears C first when beta is
// 0; at 16-64 rows that costs about as much as a third of the arithmetic.
// Here the weights are packed once per kernel call and each step runs a
// register-tiled AVX2/FMA loop straight off the rows of A. Every element of C
// is one dot product over k in order, so a row's result does not depend on
// how the rows are split up. Without AVX2 and FMA (checked at run time), or
// with AXON_SMALL_GEMM=0 in the environment, smallGemm is cblas_sgemm on the
// unpacked operand.
#pragma once

#include <cstdint>
#include <memory>

namespace axon {

// A B [k, n] in panels of 16 columns, each panel [k][16] contiguous, the
// last one zero-padded: from a row-major B (row stride ldb), or with
// transposed from a row-major B^T [n, k] (row stride ldb). Keeps a pointer to
// the source for the fallback: it must outlive the PackedB's use.
class PackedB {
 public:
  PackedB() = default;
  PackedB(const float* b, int64_t ldb, int64_t k, int64_t n, bool transposed = false) { pack(b, ldb, k, n, transposed); }
  void pack(const float* b, int64_t ldb, int64_t k, int64_t n, bool transposed = false);

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  const float* panel(int64_t j) const { return panels_.get() + j * k_ * 16; }
  const float* source() const { return b_; }
  int64_t ldb() const { return ldb_; }
  bool transposed() const { return transposed_; }

 private:
  const float* b_ = nullptr;
  int64_t ldb_ = 0, k_ = 0, n_ = 0;
  bool transposed_ = false;
  std::unique_ptr<float[]> panels_;  // (no zero-fill: every element is written by pack)
};

// C[m, n] (row stride ldc) = A[m, k] · B, or C += A·B with accumulate, where
// A's columns [0, k1) come from a (row stride lda) and [k1, k) from a2 (row
// stride lda2): [x_t | h'] needs no copy. Only C's columns [16*p0, 16*p1) when
// given a range of panels [p0, p1) (p1 < 0: to the last), so that threads
// can share one product by columns.
void smallGemm(int64_t m, const float* a, int64_t lda, int64_t k1, const float* a2, int64_t lda2, const PackedB& b,
               float* c, int64_t ldc, bool accumulate, int64_t p0 = 0, int64_t p1 = -1);

// Panels of 16 columns in a PackedB of n columns.
inline int64_t panelCount(int64_t n) { return (n + 15) / 16; }

inline void smallGemm(int64_t m, const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc, bool accumulate) {
  smallGemm(m, a, lda, b.k(), nullptr, 0, b, c, ldc, accumulate);
}

// Whether smallGemm runs its own AVX2/FMA loop here (else it calls OpenBLAS).
bool smallGemmNative();

}  // namespace axon
