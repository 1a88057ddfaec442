// Vectorisable float exp / sigmoid / tanh: branch-free (selects, no calls), so
// loops over them auto-vectorise. Accuracy is within about 2 ulp of the
// correctly rounded result over the whole float range, including overflow to
// Infinity, gradual underflow to subnormals and zero, and NaN propagation —
// the differential test holds them to the JS backend's Math.exp-based values.
//
// exp follows Cephes' expf: x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two
// parts so r is exact), e^r by a degree-6 polynomial, times 2^n built from
// exponent bits. 2^n is applied as two factors so n down to -252 (subnormal
// results) and up to 128 (overflow) need no special case.
#pragma once

// Hot loops are compiled twice, for AVX2 and for baseline x86-64, and the
// loader picks one at run time (no -march=native in what ships).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AXON_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AXON_CLONES
#endif

#include <cstdint>
#include <cstring>

namespace axon {

inline float bitsToFloat(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

// 2^n for n in [-126, 127] (built in unsigned arithmetic: no UB for any input).
inline float pow2i(int32_t n) { return bitsToFloat(static_cast<int32_t>(static_cast<uint32_t>(n + 127) << 23)); }

inline float vexp(float x) {
  // Beyond these bounds the result is 0 or Infinity anyway; NaN passes through (comparisons are false).
  x = x < -104.0f ? -104.0f : x;
  x = x > 89.0f ? 89.0f : x;
  // n = round(x / ln2) by the 1.5·2^23 trick (round to nearest, no SSE4.1 needed).
  const float shifter = 12582912.0f;
  const float fn = (x * 1.44269504088896341f + shifter) - shifter;
  const float r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
  const float z = r * r;
  const float p = ((((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                     1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r) + 1.0f;
  const int32_t n = static_cast<int32_t>(fn);  // NaN gives some int; p is NaN then anyway
  const int32_t n1 = n >> 1, n2 = n - n1;      // n in [-150, 128]: each half in [-75, 64]
  return p * pow2i(n1) * pow2i(n2);
}

// 1 / (1 + e^-x), evaluated on the side where exp cannot overflow.
inline float vsigmoid(float x) {
  const float e = vexp(x < 0 ? x : -x);  // e^-|x|
  const float r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}

// tanh: an odd polynomial below |x| = 0.625 (Cephes tanhf), else
// sign(x)·(1 - 2/(e^2|x| + 1)).
inline float vtanh(float x) {
  const float a = x < 0 ? -x : x;
  const float s = x * x;
  const float small = ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s +
                        1.33314422036e-1f) * s - 3.33332819422e-1f) * s * x + x;
  const float big = 1.0f - 2.0f / (vexp(2.0f * a) + 1.0f);
  const float signedBig = x < 0 ? -big : big;
  return a < 0.625f ? small : signedBig;
}

}  // namespace axon
