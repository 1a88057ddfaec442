// Fused whole-sequence recurrent kernels (LSTM, GRU, SimpleRNN), forward and
// backward: the optional kernels specified in @axon/tensor's backend.ts
// (OptionalKernels, RnnForwardArrays, RnnBackwardArrays, RnnSequenceInfo),
// the same algorithm as @axon/kernels-js/src/recurrent.ts.
//
// The saved arrays (hs, cs, gates, aux) are in step order and time-major
// ([T(+1), B, n]), so each step's rows of a range of the batch are one
// contiguous block.
//
// Threading: one parallel region per call. Batch rows are independent in a
// recurrence, so the batch is split into fixed row groups (rowGroups) and
// each group runs its rows through all T steps on its own, with no barrier
// per step:
//  - forward, per step: one product [x_t | h']·[W; U] straight into the
//    step's gates (x_t read in place, its rows T·I apart in x; a GRU needs
//    two or three products), then the gate math and the new h (and c);
//  - backward, walking the steps back: the gate gradients into the group's
//    own dZ [T, rows, G·U], and dh' += dZ_s·U^T; then, once per group, its
//    rows of dx = dZ·W^T and its share of the weight gradients as one block
//    [x | 1 | h']^T·dZ = [dW; dBias; dU]. The blocks are added in group order
//    after the region.
// The per-step products go through small_gemm.h (the weights packed once per
// call; each element one dot product in order, whatever the rows around it);
// the per-group ones through OpenBLAS, single-threaded inside the region
// (BlasSerial, see pool.h).
//
// Determinism: the row groups depend on the batch size only, never on the
// thread count or the scheduling, and so do the GEMM shapes and the order of
// the block sums: from a batch of 16 (two groups) on, results are bit-for-bit
// the same for any number of threads. Below 16 the batch is one group, run on
// the calling thread outside any region; it splits its large products over
// the pool in ways that keep the bits (StepMatrix, closingGemm). The one
// exception: without AVX2/FMA a lone group's per-step products go to
// OpenBLAS with its own threads, and then the last bits may change with the
// thread count (never from run to run).
//
// Gate math is in float, branch-free and vectorised, with the activations as
// template parameters so that no switch runs per element (see AXON_RNN_CLONES
// and fastTanh below). Buffers are per-thread scratch, grown on demand, so
// nothing is allocated per step.
//
// JS: lstmForward(arrays, info), lstmBackward(arrays, info), and likewise
// gru* and simpleRnn*; arrays and info are the objects of the TS interface.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "small_gemm.h"
#include "vmath.h"  // AXON_CLONES

// The row kernels (the gate math of a step's rows) are compiled three times:
// x86-64-v3 (AVX2 with FMA, which the polynomials contract into), AVX2, and
// baseline x86-64, picked at load time like AXON_CLONES (which has no FMA
// clone). AXON_FLAT inlines everything they call, so that each clone's loops
// are compiled for its target and vectorise. AXON_IVDEP on their loops over
// units: GCC does not vectorise loops over __restrict locals ("complicated
// access pattern") without it; every such loop reads and writes distinct
// arrays, or one element in place.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define AXON_RNN_CLONES __attribute__((target_clones("arch=x86-64-v3", "avx2", "default")))
#else
#define AXON_RNN_CLONES AXON_CLONES
#endif

#if defined(__GNUC__)
#define AXON_INLINE inline __attribute__((always_inline))
#define AXON_FLAT __attribute__((flatten))
#define AXON_IVDEP _Pragma("GCC ivdep")
#else
#define AXON_INLINE inline
#define AXON_FLAT
#define AXON_IVDEP
#endif

namespace axon {
namespace {

enum Act { kTanh, kSigmoid, kHardSigmoid, kRelu, kLinear };
enum class Kind { kLstm, kGru, kSimpleRnn };

// ---- activations ----------------------------------------------------------------------------
// The activation and its derivative from the output y (the interface's
// definitions); as templates so the gate loops carry no switch and vectorise.
//
// tanh is the rational approximation Eigen and TensorFlow use for float tanh
// (odd degree-13 over even degree-6 polynomial, one division, the input
// clamped to where the result rounds to exactly ±1, x itself below 4e-4):
// absolute error below 3e-7 everywhere (about 5 ulp; vmath's vtanh, within
// 1.3 ulp, costs 2.4 times as much, and the gate math is a third of the
// forward pass). sigmoid(x) = 0.5 + 0.5·tanh(x/2): absolute error below 2e-7,
// exactly 0 and 1 in the limits. NaN propagates through both.
AXON_INLINE float fastTanh(float x) {
  const float clamp = 7.90531110763549805f;
  float c = x > clamp ? clamp : x;
  c = c < -clamp ? -clamp : c;
  const float c2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * c2 + 2.00018790482477e-13f;
  p = p * c2 - 8.60467152213735e-11f;
  p = p * c2 + 5.12229709037114e-08f;
  p = p * c2 + 1.48572235717979e-05f;
  p = p * c2 + 6.37261928875436e-04f;
  p = p * c2 + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * c2 + 1.18534705686654e-04f;
  q = q * c2 + 2.26843463243900e-03f;
  q = q * c2 + 4.89352518554385e-03f;
  const float r = c * p / q;
  const float a = x < 0.0f ? -x : x;
  return a < 4e-4f ? x : r;
}

AXON_INLINE float fastSigmoid(float x) { return 0.5f + 0.5f * fastTanh(0.5f * x); }

template <Act A>
AXON_INLINE float actT(float v) {
  if constexpr (A == kTanh) return fastTanh(v);
  else if constexpr (A == kSigmoid) return fastSigmoid(v);
  else if constexpr (A == kHardSigmoid) {
    const float y = 0.2f * v + 0.5f;
    return v <= -2.5f ? 0.0f : v >= 2.5f ? 1.0f : y;
  } else if constexpr (A == kRelu) return v > 0.0f ? v : 0.0f;
  else return v;
}

template <Act A>
AXON_INLINE float dactT(float y) {
  if constexpr (A == kTanh) return 1.0f - y * y;
  else if constexpr (A == kSigmoid) return y * (1.0f - y);
  else if constexpr (A == kHardSigmoid) return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
  else if constexpr (A == kRelu) return y > 0.0f ? 1.0f : 0.0f;
  else return 1.0f;
}

// K<A, R>::run(p) for the runtime pair (a, r): the switch runs once per call
// of a row kernel, which the callers make AXON_CLONES functions, so every
// instance is inlined into (and compiled for) each clone.
template <template <Act, Act> class K, Act A, typename P>
AXON_INLINE void dispatchR(Act r, const P& p) {
  switch (r) {
    case kTanh: K<A, kTanh>::run(p); break;
    case kSigmoid: K<A, kSigmoid>::run(p); break;
    case kHardSigmoid: K<A, kHardSigmoid>::run(p); break;
    case kRelu: K<A, kRelu>::run(p); break;
    default: K<A, kLinear>::run(p); break;
  }
}

template <template <Act, Act> class K, typename P>
AXON_INLINE void dispatch(Act a, Act r, const P& p) {
  switch (a) {
    case kTanh: dispatchR<K, kTanh>(r, p); break;
    case kSigmoid: dispatchR<K, kSigmoid>(r, p); break;
    case kHardSigmoid: dispatchR<K, kHardSigmoid>(r, p); break;
    case kRelu: dispatchR<K, kRelu>(r, p); break;
    default: dispatchR<K, kLinear>(r, p); break;
  }
}

// ---- arguments --------------------------------------------------------------------------------

struct Info {
  int64_t B = 0, T = 0, I = 0, U = 0;
  bool goBackwards = false, returnSequences = false, zeroOutputForMask = false, resetAfter = false;
  Act act = kTanh, ract = kSigmoid;
  int64_t t(int64_t step) const { return goBackwards ? T - 1 - step : step; }
};

int gatesOf(Kind k) { return k == Kind::kLstm ? 4 : k == Kind::kGru ? 3 : 1; }

Act readAct(const Args& args, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  const std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (name == "tanh") return kTanh;
  if (name == "sigmoid") return kSigmoid;
  if (name == "hardSigmoid") return kHardSigmoid;
  if (name == "relu") return kRelu;
  if (name == "linear") return kLinear;
  args.fail(std::string("info.") + key + " must be one of tanh, sigmoid, hardSigmoid, relu, linear");
}

Info readInfo(const Args& args, const Napi::Object& o) {
  Info in;
  in.B = args.dimField(o, "batch", "info");
  in.T = args.dimField(o, "timesteps", "info");
  in.I = args.dimField(o, "inputSize", "info");
  in.U = args.dimField(o, "units", "info");
  if (in.T < 1) args.fail("info.timesteps must be at least 1");
  for (int64_t d : {in.B, in.T, in.I, in.U}) {
    if (d > (int64_t(1) << 24)) args.fail("a dimension of info exceeds 2^24");
  }
  in.goBackwards = args.flagField(o, "goBackwards", "info");
  in.returnSequences = args.flagField(o, "returnSequences", "info");
  in.zeroOutputForMask = args.flagField(o, "zeroOutputForMask", "info");
  in.resetAfter = args.flagField(o, "resetAfter", "info");
  in.act = readAct(args, o, "activation");
  in.ract = readAct(args, o, "recurrentActivation");
  return in;
}

// An array field: required (must be a Float32Array of n elements), optional
// (null allowed), or forbidden (must be null), as the interface says per kernel.
enum class Need { kRequired, kOptional, kNull };

F32 field(const Args& args, const Napi::Object& o, const char* key, int64_t n, Need need) {
  Napi::Value v = o.Get(key);
  if (v.IsNull() || v.IsUndefined()) {
    if (need == Need::kRequired) args.typeFail(std::string("arrays.") + key + " is required");
    return F32{};
  }
  if (need == Need::kNull) args.fail(std::string("arrays.") + key + " must be null for this kernel");
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    args.typeFail(std::string("arrays.") + key + " must be a Float32Array");
  }
  auto a = v.As<Napi::Float32Array>();
  F32 out;
  out.data = a.Data();
  out.size = static_cast<int64_t>(a.ElementLength());
  out.present = true;
  args.track(v, out.data, out.size);  // checked again by settle() once every field is read
  args.exactly(out, key, n, "");
  return out;
}

Need req(bool required) { return required ? Need::kRequired : Need::kNull; }

// The arrays both passes share.
struct Common {
  F32 x, kernel, recurrentKernel, mask, hs, cs, gates, aux;
};

Common readCommon(const Args& args, const Napi::Object& o, Kind kind, const Info& in) {
  const int64_t GU = gatesOf(kind) * in.U, BU = in.B * in.U;
  Common c;
  c.x = field(args, o, "x", in.B * in.T * in.I, Need::kRequired);
  c.kernel = field(args, o, "kernel", in.I * GU, Need::kRequired);
  c.recurrentKernel = field(args, o, "recurrentKernel", in.U * GU, Need::kRequired);
  c.mask = field(args, o, "mask", in.B * in.T, Need::kOptional);
  c.hs = field(args, o, "hs", (in.T + 1) * BU, Need::kRequired);
  c.cs = field(args, o, "cs", (in.T + 1) * BU, req(kind == Kind::kLstm));
  c.gates = field(args, o, "gates", in.T * in.B * GU, req(kind != Kind::kSimpleRnn));
  c.aux = field(args, o, "aux", in.T * BU, req(kind == Kind::kGru));
  return c;
}

int64_t biasSize(Kind kind, const Info& in) {
  return (kind == Kind::kGru && in.resetAfter ? 2 : 1) * gatesOf(kind) * in.U;
}

struct Grads {
  F32 dOutput, dhT, dcT, dx, dKernel, dRecurrentKernel, dBias, dh0, dc0;
};

Grads readGrads(const Args& args, const Napi::Object& o, Kind kind, const Info& in) {
  const int64_t GU = gatesOf(kind) * in.U, BU = in.B * in.U;
  const Need lstmOnly = kind == Kind::kLstm ? Need::kOptional : Need::kNull;
  Grads g;
  g.dOutput = field(args, o, "dOutput", in.returnSequences ? in.B * in.T * in.U : BU, Need::kOptional);
  g.dhT = field(args, o, "dhT", BU, Need::kOptional);
  g.dcT = field(args, o, "dcT", BU, lstmOnly);
  g.dx = field(args, o, "dx", in.B * in.T * in.I, Need::kOptional);
  g.dKernel = field(args, o, "dKernel", in.I * GU, Need::kOptional);
  g.dRecurrentKernel = field(args, o, "dRecurrentKernel", in.U * GU, Need::kOptional);
  g.dBias = field(args, o, "dBias", biasSize(kind, in), Need::kOptional);
  g.dh0 = field(args, o, "dh0", BU, Need::kOptional);
  g.dc0 = field(args, o, "dc0", BU, lstmOnly);
  return g;
}

struct Forward {
  Common c;
  F32 bias, h0, c0, output, hT, cT;
};

Forward readForward(const Args& args, Kind kind, Info* in) {
  *in = readInfo(args, args.object(1, "info"));
  Napi::Object o = args.object(0, "arrays");
  Forward f;
  f.c = readCommon(args, o, kind, *in);
  const int64_t BU = in->B * in->U;
  f.bias = field(args, o, "bias", biasSize(kind, *in), Need::kOptional);
  f.h0 = field(args, o, "h0", BU, Need::kOptional);
  f.c0 = field(args, o, "c0", BU, kind == Kind::kLstm ? Need::kOptional : Need::kNull);
  f.output = field(args, o, "output", in->returnSequences ? in->B * in->T * in->U : BU, Need::kRequired);
  f.hT = field(args, o, "hT", BU, Need::kRequired);
  f.cT = field(args, o, "cT", BU, req(kind == Kind::kLstm));
  return f;
}

// ---- scratch, GEMM, row groups ----------------------------------------------------------------

// Per-thread scratch buffers, by role; grown on demand, never shrunk. The
// calling thread's kDh..kZeros hold a call's shared arrays; kA..kGx are a
// row group's own, in whichever thread runs the group.
enum Buf { kDh, kDhNext, kDc, kCarry, kWcat, kPartials, kZeros, kA, kRec, kGd, kGd2, kGx, kNumBufs };
thread_local std::vector<float> tBufs[kNumBufs];

float* buf(Buf b, int64_t n) {
  auto& v = tBufs[b];
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

// n zeros (read-only: stands in for an absent bias or output-gradient row).
// A later call with a larger n moves them; callers ask once per call.
const float* zerosOf(int64_t n) {
  auto& v = tBufs[kZeros];
  if (static_cast<int64_t>(v.size()) < n) v.assign(n, 0.0f);
  return v.data();
}

// Row-major C[m, n] = op(A)·op(B) + beta·C with explicit leading dimensions
// (so column ranges and strided rows need no copies); k == 0 gives beta·C.
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t r = 0; r < m; ++r) {
      float* row = c + r * ldc;
      if (beta == 0.0f) std::memset(row, 0, sizeof(float) * n);
      else if (beta != 1.0f) for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
    return;
  }
  if (!transA && lda > INT_MAX) {  // rows of x_t (T·I apart) in a sequence of over 2^31 values: one row at a time
    for (int64_t r = 0; r < m; ++r) gemm(false, transB, 1, n, k, a + r * lda, k, b, ldb, beta, c + r * ldc, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// [W; U]: the kernel [I, GU] stacked on the recurrent kernel [U, GU], so that
// one GEMM [x_t | h'] · [W; U] gives a step's whole pre-activation.
float* stackedWeights(const Common& c, const Info& in, int64_t GU) {
  float* w = buf(kWcat, (in.I + in.U) * GU);
  if (in.I * GU > 0) std::memcpy(w, c.kernel.data, sizeof(float) * in.I * GU);
  if (in.U * GU > 0) std::memcpy(w + in.I * GU, c.recurrentKernel.data, sizeof(float) * in.U * GU);
  return w;
}

// Row groups: the batch split into fixed ranges of kGroupRows rows (two
// groups from 16 rows on; beyond kMaxGroups groups, which bounds the weight
// gradient blocks, the groups grow instead). 16 rows already run the
// per-step products at full speed (small_gemm.h), keep a group's dZ
// (T x 16 x G·U) within L2 for its closing GEMMs, and give the pool enough
// groups to balance on a busy machine; a batch of B keeps at most
// ceil(B/16) threads busy.
constexpr int64_t kGroupRows = 16, kMaxGroups = 64;

int64_t rowGroups(int64_t B) {
  if (B < 16) return 1;
  return std::clamp<int64_t>((B + kGroupRows - 1) / kGroupRows, 2, kMaxGroups);
}

// body(group, b0, b1) for each row group, in parallel when there are several.
template <typename Body>
void forRowGroups(int64_t B, Body body) {
  const int64_t groups = rowGroups(B);
  if (groups == 1) {
    body(int64_t(0), int64_t(0), B);
    return;
  }
  BlasSerial serial;
  parallelFor(groups, int64_t(1) << 30, [&](int64_t lo, int64_t hi) {
    for (int64_t g = lo; g < hi; ++g) body(g, B * g / groups, B * (g + 1) / groups);
  });
}

// A per-step product's right operand B [k, n], shared by all row groups of a
// call: packed once for smallGemm (small_gemm.h: faster than OpenBLAS at
// these sizes, with no packing per step), or without AVX2/FMA left to
// OpenBLAS. A lone row group (a batch below 16) runs outside any parallel
// region, so there a large product is split by columns over the pool (each
// element is the same dot product whichever thread computes it).
constexpr int64_t kColumnSplitWork = int64_t(1) << 20;  // multiply-adds per step

class StepMatrix {
 public:
  // B = b [k, n] (row stride ldb), or with transposed B = b^T for b [n, k] (row stride ldb).
  StepMatrix(const float* b, int64_t ldb, int64_t k, int64_t n, int64_t B, bool transposed = false)
      : b_(b), ldb_(ldb), k_(k), n_(n), transposed_(transposed), packed_(smallGemmNative()), split_(rowGroups(B) == 1) {
    if (packed_) p_.pack(b, ldb, k, n, transposed);
  }
  // C[rows, n] (row stride ldc) = A[rows, k] (row stride lda) · B, or C += A·B.
  void mul(int64_t rows, const float* a, int64_t lda, float* c, int64_t ldc, bool accumulate) const {
    mul(rows, a, lda, k_, nullptr, 0, c, ldc, accumulate);
  }
  // The same with A's columns [0, k1) from a and [k1, k) from a2 (row stride lda2).
  void mul(int64_t rows, const float* a, int64_t lda, int64_t k1, const float* a2, int64_t lda2, float* c, int64_t ldc,
           bool accumulate) const {
    if (packed_) {
      if (split_ && rows * k_ * n_ >= kColumnSplitWork) {
        parallelFor(panelCount(n_), rows * k_ * 16, [&](int64_t lo, int64_t hi) {
          smallGemm(rows, a, lda, k1, a2, lda2, p_, c, ldc, accumulate, lo, hi);
        });
      } else {
        smallGemm(rows, a, lda, k1, a2, lda2, p_, c, ldc, accumulate);
      }
      return;
    }
    gemm(false, transposed_, rows, n_, k1, a, lda, b_, ldb_, accumulate ? 1.0f : 0.0f, c, ldc);
    if (k1 < k_) {
      gemm(false, transposed_, rows, n_, k_ - k1, a2, lda2, b_ + k1 * (transposed_ ? 1 : ldb_), ldb_, 1.0f, c, ldc);
    }
  }

 private:
  const float* b_;
  int64_t ldb_, k_, n_;
  bool transposed_, packed_, split_;
  PackedB p_;
};

bool taken(const float* mask, const Info& in, int64_t b, int64_t t) { return mask == nullptr || mask[b * in.T + t] != 0.0f; }

void initState(float* states, const F32& initial, int64_t BU) {
  if (initial.present) std::memcpy(states, initial.data, sizeof(float) * BU);
  else std::memset(states, 0, sizeof(float) * BU);
}

void initGradient(float* dst, const F32& src, int64_t n) {
  if (src.present) std::memcpy(dst, src.data, sizeof(float) * n);
  else std::memset(dst, 0, sizeof(float) * n);
}

// Step s's output for rows [b0, b1) from the new hidden state (slot s+1 of hs),
// with Keras' rule for masked steps (previous output, or zeros with
// zeroOutputForMask). Without returnSequences the output starts as zeros.
void emitOutput(const float* hs, const float* mask, float* out, const Info& in, int64_t s, int64_t b0, int64_t b1) {
  const int64_t U = in.U, slot = (s + 1) * in.B * U;
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t dst = in.returnSequences ? (b * in.T + s) * U : b * U;
    if (taken(mask, in, b, in.t(s))) {
      std::memcpy(out + dst, hs + slot + b * U, sizeof(float) * U);
    } else if (in.zeroOutputForMask || (in.returnSequences && s == 0)) {
      std::memset(out + dst, 0, sizeof(float) * U);
    } else if (in.returnSequences) {
      std::memcpy(out + dst, out + dst - U, sizeof(float) * U);
    }  // else: the [B, U] output already holds the previous output
  }
}

// Step s's output-gradient rows for rows [b0, b1): dOutput's rows for that
// step (returnSequences), else zeros (the carry starts as dOutput then).
void outputRows(const F32& dOutput, const Info& in, int64_t s, int64_t b0, int64_t b1, const float** rows) {
  for (int64_t b = b0; b < b1; ++b) {
    rows[b - b0] = in.returnSequences && dOutput.present ? dOutput.data + (b * in.T + s) * in.U : zerosOf(in.U);
  }
}

// carry [B, U]: what masked later steps passed back to their "previous output".
float* initCarry(const F32& dOutput, const Info& in) {
  const int64_t BU = in.B * in.U;
  float* carry = buf(kCarry, BU);
  if (!in.returnSequences && dOutput.present) std::memcpy(carry, dOutput.data, sizeof(float) * BU);
  else std::memset(carry, 0, sizeof(float) * BU);
  return carry;
}

// ---- weight and input gradients ---------------------------------------------------------------
//
// Each row group ends its backward walk with its share of dx and of the
// weight gradients, from its pre-activation gradients of every step (dZ, in
// the group's own [T, rows, GU] buffer), in a few big GEMMs: dx = dZ·W^T, and
// [x | 1 | h']^T · dZ, which stacks dW, dBias (the ones column sums dZ) and dU
// in one [I+1+U, GU] block. Each group writes its own block; the blocks are
// added in group order afterwards, so the sum does not depend on the threads.

// A group's closing GEMM (its dx rows, its weight-gradient block). Several
// groups run inside the parallel region, where OpenBLAS is single-threaded.
// A lone group (a batch below 16) runs outside it: a large product is split
// into fixed slices (of C's columns with transA, else of its rows, 2 to 8 by
// size alone) run in parallel, each by single-threaded OpenBLAS, so that the
// bits never depend on the thread count.
constexpr int64_t kSliceWork = int64_t(1) << 22;  // multiply-adds

void closingGemm(bool lone, bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (!lone) {
    gemm(transA, transB, m, n, k, a, lda, b, ldb, 0.0f, c, ldc);
    return;
  }
  const int64_t work = m * n * k, pieces = work >= kSliceWork ? std::clamp<int64_t>(work / kSliceWork, 2, 8) : 1;
  BlasSerial serial;
  if (pieces == 1) {
    gemm(transA, transB, m, n, k, a, lda, b, ldb, 0.0f, c, ldc);
    return;
  }
  parallelFor(pieces, int64_t(1) << 30, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      if (transA) {  // columns [j0, j1) of B and C, on multiples of 16
        const int64_t j0 = (n * p / pieces) & ~int64_t(15), j1 = p + 1 == pieces ? n : (n * (p + 1) / pieces) & ~int64_t(15);
        gemm(true, transB, m, j1 - j0, k, a, lda, transB ? b + j0 * ldb : b + j0, ldb, 0.0f, c + j0, ldc);
      } else {       // rows [r0, r1) of A and C
        const int64_t r0 = m * p / pieces, r1 = m * (p + 1) / pieces;
        gemm(false, transB, r1 - r0, n, k, a + r0 * lda, lda, b, ldb, 0.0f, c + r0 * ldc, ldc);
      }
    }
  });
}

// The weight-gradient block's rows: dW [0, I), the bias row(s), dU after them
// (a GRU with resetAfter has two bias rows, input and recurrent).
struct Blocks {
  int64_t I, U, GU, biasRows;
  int64_t rows() const { return I + biasRows + U; }
  int64_t size() const { return rows() * GU; }
};

// Rows [b0, b1) of every step's [x_t | 1 | h'] (h' = `prev` slots 0..T-1, [T, B, U]) into a [T*rows, I+1+U].
void gradientInputs(const float* x, const float* prev, const Info& in, int64_t b0, int64_t b1, float* a) {
  const int64_t I = in.I, U = in.U, K = I + 1 + U, rows = b1 - b0;
  for (int64_t s = 0; s < in.T; ++s) {
    const int64_t t = in.t(s);
    for (int64_t b = b0; b < b1; ++b) {
      float* row = a + (s * rows + b - b0) * K;
      std::memcpy(row, x + (b * in.T + t) * I, sizeof(float) * I);
      row[I] = 1.0f;
      std::memcpy(row + I + 1, prev + (s * in.B + b) * U, sizeof(float) * U);
    }
  }
}

// dx rows [b0, b1) (time order) = dZ [T*rows, GU] · W^T (W = kernel [I, GU]).
void inputGradientRows(const float* dZ, int64_t GU, const float* W, float* dx, const Info& in, int64_t b0, int64_t b1) {
  const int64_t I = in.I, rows = b1 - b0;
  float* out = buf(kGx, in.T * rows * I);
  closingGemm(rowGroups(in.B) == 1, false, true, in.T * rows, I, GU, dZ, GU, W, GU, out, I);
  for (int64_t s = 0; s < in.T; ++s) {
    const int64_t t = in.t(s);
    for (int64_t b = b0; b < b1; ++b) std::memcpy(dx + (b * in.T + t) * I, out + (s * rows + b - b0) * I, sizeof(float) * I);
  }
}

// Sums the groups' blocks in group order (into block 0) and copies the rows to
// the requested outputs.
void finishWeightGradients(const Grads& g, const Blocks& k, float* partials, int64_t groups) {
  float* sum = partials;
  for (int64_t gi = 1; gi < groups; ++gi) {
    const float* p = partials + gi * k.size();
    for (int64_t i = 0; i < k.size(); ++i) sum[i] += p[i];
  }
  if (g.dKernel.present && k.I * k.GU > 0) std::memcpy(g.dKernel.data, sum, sizeof(float) * k.I * k.GU);
  if (g.dBias.present && k.GU > 0) std::memcpy(g.dBias.data, sum + k.I * k.GU, sizeof(float) * k.biasRows * k.GU);
  if (g.dRecurrentKernel.present && k.U * k.GU > 0) {
    std::memcpy(g.dRecurrentKernel.data, sum + (k.I + k.biasRows) * k.GU, sizeof(float) * k.U * k.GU);
  }
}

bool wantsWeights(const Grads& g) { return g.dKernel.present || g.dRecurrentKernel.present || g.dBias.present; }

// ---- LSTM -----------------------------------------------------------------------------------

// Gate math of rows [0, rows) of one step: g holds x·W + h'·U on entry (bias
// not yet added) and the activated gates i, f, act(zc), o on exit.
struct LstmRows {
  float* g;
  const float *bias, *hPrev, *cPrev;
  float *hNext, *cNext;
  const float* mask;  // the first row's mask value for this step, stride T; null = all taken
  int64_t maskStride, rows, U;
  Act act, ract;
};

template <Act A, Act R>
struct LstmForwardK {
  static AXON_INLINE void run(const LstmRows& p) {
    const int64_t U = p.U;
    const float* __restrict bi = p.bias;
    const float* __restrict bc = bi + 2 * U;
    const float* __restrict bo = bi + 3 * U;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict gi = p.g + r * 4 * U;
      float* __restrict gf = gi + U;
      float* __restrict gc = gi + 2 * U;
      float* __restrict go = gi + 3 * U;
      const float* __restrict cp = p.cPrev + r * U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict cn = p.cNext + r * U;
      float* __restrict hn = p.hNext + r * U;
      // Separate passes: GCC does not vectorise a loop with all five activations.
      AXON_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) gi[j] = actT<R>(gi[j] + bi[j]);  // i and f
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        gc[j] = actT<A>(gc[j] + bc[j]);
        go[j] = actT<R>(go[j] + bo[j]);
      }
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          const float c = gf[j] * cp[j] + gi[j] * gc[j];
          cn[j] = c;
          hn[j] = go[j] * actT<A>(c);
        }
      } else {
        std::memcpy(cn, cp, sizeof(float) * U);
        std::memcpy(hn, hp, sizeof(float) * U);
      }
    }
  }
};

AXON_RNN_CLONES AXON_FLAT void lstmForwardRows(const LstmRows& p) { dispatch<LstmForwardK>(p.act, p.ract, p); }

void lstmForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, GU = 4 * U, BU = B * U;
  float *gates = f.c.gates.data, *hs = f.c.hs.data, *cs = f.c.cs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const StepMatrix W(stackedWeights(f.c, in, GU), GU, I + U, GU, B);  // [W; U]
  const float* bias = f.bias.present ? f.bias.data : zerosOf(GU);
  initState(hs, f.h0, BU);
  initState(cs, f.c0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  forRowGroups(B, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t s = 0; s < T; ++s) {
      float* g = gates + (s * B + b0) * GU;
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      // [x_t | h']·[W; U]: the rows of x_t are T*I apart in x.
      W.mul(rows, f.c.x.data + (b0 * T + in.t(s)) * I, T * I, I, hs + prev, U, g, GU, false);
      lstmForwardRows({g, bias, hs + prev, cs + prev, hs + next, cs + next, mask ? mask + b0 * T + in.t(s) : nullptr, T,
                       rows, U, in.act, in.ract});
      emitOutput(hs, mask, f.output.data, in, s, b0, b1);
    }
  });
  std::memcpy(f.hT.data, hs + T * BU, sizeof(float) * BU);
  std::memcpy(f.cT.data, cs + T * BU, sizeof(float) * BU);
}

// One step backward for rows [0, rows): from dh (incoming gradient of the new
// h), dc, the output gradient (carry + dOut) and the saved gates and cells,
// the pre-activation gradients dz, the new dc (in place) and dhNext (the
// direct part of dh': the carried dh of masked rows; dz·U^T is added after).
struct LstmBackRows {
  const float *g, *cPrev, *cNext;
  const float* dh;
  float *dc, *dhNext, *dz, *carry;
  const float* const* dOut;  // per row: the output gradient row of this step (zeros when none)
  const float* mask;
  int64_t maskStride, rows, U;
  bool zeroOutputForMask;
  Act act, ract;
};

template <Act A, Act R>
struct LstmBackwardK {
  static AXON_INLINE void run(const LstmBackRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict gi = p.g + r * 4 * U;
      const float* __restrict gf = gi + U;
      const float* __restrict gc = gi + 2 * U;
      const float* __restrict go = gi + 3 * U;
      const float* __restrict cp = p.cPrev + r * U;
      const float* __restrict cn = p.cNext + r * U;
      const float* __restrict dh = p.dh + r * U;
      const float* __restrict dOut = p.dOut[r];
      float* __restrict dc = p.dc + r * U;
      float* __restrict dhNext = p.dhNext + r * U;
      float* __restrict carry = p.carry + r * U;
      float* __restrict dzi = p.dz + r * 4 * U;
      float* __restrict dzf = dzi + U;
      float* __restrict dzc = dzi + 2 * U;
      float* __restrict dzo = dzi + 3 * U;
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          const float dhn = dh[j] + carry[j] + dOut[j];
          carry[j] = 0.0f;
          const float i = gi[j], f = gf[j], cc = gc[j], o = go[j];
          const float tc = actT<A>(cn[j]);
          const float dcn = dc[j] + dhn * o * dactT<A>(tc);
          dzi[j] = dcn * cc * dactT<R>(i);
          dzf[j] = dcn * cp[j] * dactT<R>(f);
          dzc[j] = dcn * i * dactT<A>(cc);
          dzo[j] = dhn * tc * dactT<R>(o);
          dc[j] = dcn * f;
          dhNext[j] = 0.0f;
        }
      } else {
        // Masked: the output gradient goes on to the previous output (or
        // nowhere with zeroOutputForMask); dh and dc pass through.
        const bool zero = p.zeroOutputForMask;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) carry[j] = zero ? 0.0f : carry[j] + dOut[j];
        std::memset(dzi, 0, sizeof(float) * 4 * U);
        std::memcpy(dhNext, dh, sizeof(float) * U);
      }
    }
  }
};

AXON_RNN_CLONES AXON_FLAT void lstmBackwardRows(const LstmBackRows& p) { dispatch<LstmBackwardK>(p.act, p.ract, p); }

void lstmBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, GU = 4 * U, BU = B * U;
  const float *gates = c.gates.data, *cs = c.cs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU), *dc = buf(kDc, BU);
  initGradient(dh, gr.dhT, BU);
  initGradient(dc, gr.dcT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const StepMatrix RT(c.recurrentKernel.data, GU, GU, U, B, true);  // U^T [GU, U]
  const Blocks blocks{I, U, GU, 1};
  const bool weights = wantsWeights(gr), lone = rowGroups(B) == 1;
  float* partials = weights ? buf(kPartials, rowGroups(B) * blocks.size()) : nullptr;
  forRowGroups(B, [&](int64_t group, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float* dZ = buf(kGd, T * rows * GU);  // this group's [T, rows, GU]
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    std::vector<const float*> dOutRows(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutRows.data());
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      float* dz = dZ + s * rows * GU;
      lstmBackwardRows({gates + (s * B + b0) * GU, cs + prev, cs + next, dhA, dc + b0 * U, dhB, dz, carry + b0 * U,
                        dOutRows.data(), mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask, in.act,
                        in.ract});
      RT.mul(rows, dz, GU, dhB, U, true);
      std::swap(dhA, dhB);
    }
    if (gr.dx.present) inputGradientRows(dZ, GU, c.kernel.data, gr.dx.data, in, b0, b1);
    if (weights) {
      float* a = buf(kA, T * rows * (I + 1 + U));
      gradientInputs(c.x.data, c.hs.data, in, b0, b1, a);
      closingGemm(lone, true, false, I + 1 + U, GU, T * rows, a, I + 1 + U, dZ, GU, partials + group * blocks.size(), GU);
    }
  });
  // After T swaps the final dh' is in dh when T is even, else in dhNext.
  if (gr.dh0.present) std::memcpy(gr.dh0.data, T % 2 == 0 ? dh : dhNext, sizeof(float) * BU);
  if (gr.dc0.present) std::memcpy(gr.dc0.data, dc, sizeof(float) * BU);
  if (weights) finishWeightGradients(gr, blocks, partials, rowGroups(B));
}

// ---- GRU ------------------------------------------------------------------------------------

// Forward gate math for rows [0, rows) of one step.
// resetAfter: g holds x·W_z + h'·U_z, x·W_r + h'·U_r and x·W_h, rec = h'·U_h
// [rows, U]; z and r add both bias rows, the candidate act(x·W_h + b_h +
// r*(h'·U_h + bRec_h)). z, r, hh go to g, the recurrent candidate term to aux.
// Without resetAfter, stage 1: g's z and r parts hold x·W + h'·U; z and r are
// activated and aux = r*h'. Stage 2, after g_h = x·W_h + (r*h')·U_h: hh and h.
struct GruRows {
  float* g;
  const float *bias, *recBias, *rec, *hPrev;
  float *aux, *hNext;
  const float* mask;
  int64_t maskStride, rows, U;
  Act act, ract;
};

template <Act A, Act R>
struct GruForwardK {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    const float* __restrict bz = p.bias;
    const float* __restrict bh = bz + 2 * U;
    const float* __restrict rbz = p.recBias;
    const float* __restrict rbh = rbz + 2 * U;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict gz = p.g + r * 3 * U;  // z and r
      float* __restrict gh = gz + 2 * U;
      const float* __restrict gr = gz + U;
      const float* __restrict rh = p.rec + r * U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict aux = p.aux + r * U;
      float* __restrict hn = p.hNext + r * U;
      AXON_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) gz[j] = actT<R>(gz[j] + bz[j] + rbz[j]);
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const float h = rh[j] + rbh[j];
        const float hh = actT<A>(gh[j] + bh[j] + gr[j] * h);
        gh[j] = hh;
        aux[j] = h;
        hn[j] = gz[j] * hp[j] + (1.0f - gz[j]) * hh;
      }
      if (p.mask != nullptr && p.mask[r * p.maskStride] == 0.0f) std::memcpy(hn, hp, sizeof(float) * U);
    }
  }
};

template <Act A, Act R>
struct GruForwardStage1K {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    const float* __restrict bz = p.bias;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict gz = p.g + r * 3 * U;
      const float* __restrict gr = gz + U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict aux = p.aux + r * U;
      AXON_IVDEP
      for (int64_t j = 0; j < 2 * U; ++j) gz[j] = actT<R>(gz[j] + bz[j]);
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) aux[j] = gr[j] * hp[j];
    }
  }
};

template <Act A, Act R>
struct GruForwardStage2K {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    const float* __restrict bh = p.bias + 2 * U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict gz = p.g + r * 3 * U;
      float* __restrict gh = p.g + r * 3 * U + 2 * U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict hn = p.hNext + r * U;
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const float hh = actT<A>(gh[j] + bh[j]);
        gh[j] = hh;
        hn[j] = gz[j] * hp[j] + (1.0f - gz[j]) * hh;
      }
      if (p.mask != nullptr && p.mask[r * p.maskStride] == 0.0f) std::memcpy(hn, hp, sizeof(float) * U);
    }
  }
};

AXON_RNN_CLONES AXON_FLAT void gruForwardRows(const GruRows& p) { dispatch<GruForwardK>(p.act, p.ract, p); }
AXON_RNN_CLONES AXON_FLAT void gruForwardStage1(const GruRows& p) { dispatch<GruForwardStage1K>(p.act, p.ract, p); }
AXON_RNN_CLONES AXON_FLAT void gruForwardStage2(const GruRows& p) { dispatch<GruForwardStage2K>(p.act, p.ract, p); }

void gruForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, GU = 3 * U, BU = B * U, K = I + U;
  float *gates = f.c.gates.data, *aux = f.c.aux.data, *hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const bool ra = in.resetAfter;
  const float* W = stackedWeights(f.c, in, GU);  // [W; U], [I+U, 3U]
  const StepMatrix Wzr(W, GU, K, 2 * U, B);                     // z and r columns of [W; U]
  const StepMatrix Wh(W + 2 * U, GU, ra ? I : K, U, B);         // the candidate's: of W (resetAfter) or of [W; U]
  const StepMatrix Uh(W + I * GU + 2 * U, GU, ra ? U : 0, U, B);  // resetAfter: U_h
  const float* zeros = zerosOf(GU);
  const float* bias = f.bias.present ? f.bias.data : zeros;
  const float* recBias = ra && f.bias.present ? f.bias.data + GU : zeros;
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  forRowGroups(B, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float* rec = ra ? buf(kRec, rows * U) : nullptr;
    for (int64_t s = 0; s < T; ++s) {
      float* g = gates + (s * B + b0) * GU;
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      const float* xt = f.c.x.data + (b0 * T + in.t(s)) * I;  // rows T*I apart
      const GruRows p{g, bias, recBias, rec, hs + prev, aux + prev, hs + next,
                      mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.act, in.ract};
      // z and r: [x_t | h']·[W; U] over their columns.
      Wzr.mul(rows, xt, T * I, I, hs + prev, U, g, GU, false);
      if (ra) {
        Wh.mul(rows, xt, T * I, g + 2 * U, GU, false);  // x·W_h
        Uh.mul(rows, hs + prev, U, rec, U, false);      // h'·U_h
        gruForwardRows(p);
      } else {
        gruForwardStage1(p);
        Wh.mul(rows, xt, T * I, I, aux + prev, U, g + 2 * U, GU, false);  // [x_t | r*h']·[W_h; U_h]
        gruForwardStage2(p);
      }
      emitOutput(hs, mask, f.output.data, in, s, b0, b1);
    }
  });
  std::memcpy(f.hT.data, hs + T * BU, sizeof(float) * BU);
}

// Backward gate math of one step for rows [0, rows), in two stages.
// Stage 1: d = dh + output gradient (0 when masked), kept in dhn, and the
// candidate's pre-activation gradient da = d*(1-z)*act'(hh) into dp's h part.
// (Without resetAfter, dRH = da·U_h^T comes next.) Stage 2: dz and dr into
// dp (and with resetAfter into dRec: dz, dr, da*r), and dhNext's direct part.
struct GruBackRows {
  const float *g, *hPrev, *aux, *dh;
  float *dhn, *dp, *dRec, *dRH, *dhNext, *carry;
  const float* const* dOut;
  const float* mask;
  int64_t maskStride, rows, U;
  bool zeroOutputForMask, resetAfter;
  Act act, ract;
};

template <Act A, Act R>
struct GruBackwardStage1K {
  static AXON_INLINE void run(const GruBackRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict gz = p.g + r * 3 * U;
      const float* __restrict gh = gz + 2 * U;
      const float* __restrict dh = p.dh + r * U;
      const float* __restrict dOut = p.dOut[r];
      float* __restrict carry = p.carry + r * U;
      float* __restrict dhn = p.dhn + r * U;
      float* __restrict da = p.dp + r * 3 * U + 2 * U;
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          const float d = dh[j] + carry[j] + dOut[j];
          carry[j] = 0.0f;
          dhn[j] = d;
          da[j] = d * (1.0f - gz[j]) * dactT<A>(gh[j]);
        }
      } else {
        const bool zero = p.zeroOutputForMask;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          carry[j] = zero ? 0.0f : carry[j] + dOut[j];
          dhn[j] = 0.0f;
          da[j] = 0.0f;
        }
      }
    }
  }
};

template <Act A, Act R>
struct GruBackwardStage2K {
  static AXON_INLINE void run(const GruBackRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict gz = p.g + r * 3 * U;
      const float* __restrict gr = gz + U;
      const float* __restrict gh = gz + 2 * U;
      const float* __restrict hp = p.hPrev + r * U;
      const float* __restrict aux = p.aux + r * U;
      const float* __restrict dhn = p.dhn + r * U;
      const float* __restrict dh = p.dh + r * U;
      float* __restrict dpz = p.dp + r * 3 * U;
      float* __restrict dpr = dpz + U;
      const float* __restrict da = dpz + 2 * U;
      float* __restrict dhNext = p.dhNext + r * U;
      if (p.resetAfter) {
        float* __restrict dRz = p.dRec + r * 3 * U;
        float* __restrict dRr = dRz + U;
        float* __restrict dRh = dRz + 2 * U;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          const float d = dhn[j], z = gz[j], rg = gr[j];
          const float dz = d * (hp[j] - gh[j]) * dactT<R>(z);
          const float dr = da[j] * aux[j] * dactT<R>(rg);
          dpz[j] = dRz[j] = dz;
          dpr[j] = dRr[j] = dr;
          dRh[j] = da[j] * rg;
          dhNext[j] = d * z;
        }
      } else {
        const float* __restrict dRH = p.dRH + r * U;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          const float d = dhn[j], z = gz[j], rg = gr[j];
          dpz[j] = d * (hp[j] - gh[j]) * dactT<R>(z);
          dpr[j] = dRH[j] * hp[j] * dactT<R>(rg);
          dhNext[j] = d * z + dRH[j] * rg;
        }
      }
      if (p.mask != nullptr && p.mask[r * p.maskStride] == 0.0f) std::memcpy(dhNext, dh, sizeof(float) * U);
    }
  }
};

AXON_RNN_CLONES AXON_FLAT void gruBackwardStage1(const GruBackRows& p) { dispatch<GruBackwardStage1K>(p.act, p.ract, p); }
AXON_RNN_CLONES AXON_FLAT void gruBackwardStage2(const GruBackRows& p) { dispatch<GruBackwardStage2K>(p.act, p.ract, p); }

void gruBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, GU = 3 * U, BU = B * U, K = I + 1 + U;
  const float *gates = c.gates.data, *aux = c.aux.data, *hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  const bool ra = in.resetAfter;
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const float* Rk = c.recurrentKernel.data;
  const StepMatrix RTdh(Rk, GU, ra ? GU : 2 * U, U, B, true);     // resetAfter: U^T [3U, U], else U_zr^T [2U, U]
  const StepMatrix RTh(Rk + 2 * U, GU, ra ? 0 : U, U, B, true);   // U_h^T [U, U]
  // Block rows: dW, the input bias row (and with resetAfter the recurrent one), dU.
  const Blocks blocks{I, U, GU, ra ? 2 : 1};
  const bool weights = wantsWeights(gr), lone = rowGroups(B) == 1;
  float* partials = weights ? buf(kPartials, rowGroups(B) * blocks.size()) : nullptr;
  forRowGroups(B, [&](int64_t group, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    // This group's [T, rows, 3U] gradients: dProj of the input projection (z, r,
    // candidate); with resetAfter also dRec of h'·U (+ bRec): dz, dr, da*r.
    // Without it the recurrent GEMMs' gradients are dProj's own columns.
    float* dProj = buf(kGd, T * rows * GU);
    float* dRec = ra ? buf(kGd2, T * rows * GU) : nullptr;
    float* dhn = buf(kRec, 2 * rows * U);
    float* dRH = dhn + rows * U;
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    std::vector<const float*> dOutRows(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutRows.data());
      const int64_t prev = s * BU + b0 * U;
      float* dp = dProj + s * rows * GU;
      float* dr = ra ? dRec + s * rows * GU : nullptr;
      const GruBackRows p{gates + (s * B + b0) * GU, hs + prev, aux + prev, dhA, dhn, dp, dr, dRH, dhB, carry + b0 * U,
                          dOutRows.data(), mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask, ra,
                          in.act, in.ract};
      gruBackwardStage1(p);
      if (!ra) RTh.mul(rows, dp + 2 * U, GU, dRH, U, false);
      gruBackwardStage2(p);
      // dh' += dRec·U^T (resetAfter), or dProj[:, 0:2U]·U_zr^T.
      RTdh.mul(rows, ra ? dr : dp, GU, dhB, U, true);
      std::swap(dhA, dhB);
    }
    if (gr.dx.present) inputGradientRows(dProj, GU, c.kernel.data, gr.dx.data, in, b0, b1);
    if (weights) {
      float* a = buf(kA, T * rows * K);
      gradientInputs(c.x.data, hs, in, b0, b1, a);
      float* block = partials + group * blocks.size();
      float* dU = block + (I + blocks.biasRows) * GU;
      // dW and the input bias row: [x | 1]^T·dProj.
      closingGemm(lone, true, false, I + 1, GU, T * rows, a, K, dProj, GU, block, GU);
      if (ra) {
        // The recurrent bias row and dU: [1 | h']^T·dRec.
        closingGemm(lone, true, false, 1 + U, GU, T * rows, a + I, K, dRec, GU, block + (I + 1) * GU, GU);
      } else {
        // dU_zr = h'^T·dProj[:, 0:2U]; dU_h = (r*h')^T·dProj[:, 2U:3U], r*h' (aux) in place of h'.
        closingGemm(lone, true, false, U, 2 * U, T * rows, a + I + 1, K, dProj, GU, dU, GU);
        for (int64_t s = 0; s < T; ++s) {
          for (int64_t b = b0; b < b1; ++b) {
            std::memcpy(a + (s * rows + b - b0) * K + I + 1, aux + (s * B + b) * U, sizeof(float) * U);
          }
        }
        closingGemm(lone, true, false, U, U, T * rows, a + I + 1, K, dProj + 2 * U, GU, dU + 2 * U, GU);
      }
    }
  });
  if (gr.dh0.present) std::memcpy(gr.dh0.data, T % 2 == 0 ? dh : dhNext, sizeof(float) * BU);
  if (weights) finishWeightGradients(gr, blocks, partials, rowGroups(B));
}

// ---- SimpleRNN ------------------------------------------------------------------------------

// Forward: hNext holds x·W + h'·U on entry, act of it + b (or h' when masked) on exit.
// Backward: dz = (dh + output gradient)*act'(h), dhNext = 0 (dh when masked).
struct RnnRows {
  const float *bias, *hPrev;
  float* hNext;
  const float *dh, *const *dOut;
  float *dz, *dhNext, *carry;
  const float* mask;
  int64_t maskStride, rows, U;
  bool zeroOutputForMask;
  Act act;
};

// SimpleRNN has one activation: the kernels take it as the second template argument.
template <Act A, Act R>
struct RnnForwardK {
  static AXON_INLINE void run(const RnnRows& p) {
    const int64_t U = p.U;
    const float* __restrict b = p.bias;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict hn = p.hNext + r * U;
      const float* __restrict hp = p.hPrev + r * U;
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) hn[j] = actT<R>(hn[j] + b[j]);
      } else {
        std::memcpy(hn, hp, sizeof(float) * U);
      }
    }
  }
};

template <Act A, Act R>
struct RnnBackwardK {
  static AXON_INLINE void run(const RnnRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict hn = p.hNext + r * U;
      const float* __restrict dh = p.dh + r * U;
      const float* __restrict dOut = p.dOut[r];
      float* __restrict carry = p.carry + r * U;
      float* __restrict dz = p.dz + r * U;
      float* __restrict dhNext = p.dhNext + r * U;
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          dz[j] = (dh[j] + carry[j] + dOut[j]) * dactT<R>(hn[j]);
          carry[j] = 0.0f;
          dhNext[j] = 0.0f;
        }
      } else {
        const bool zero = p.zeroOutputForMask;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) {
          carry[j] = zero ? 0.0f : carry[j] + dOut[j];
          dz[j] = 0.0f;
          dhNext[j] = dh[j];
        }
      }
    }
  }
};

AXON_RNN_CLONES AXON_FLAT void rnnForwardRows(const RnnRows& p) { dispatchR<RnnForwardK, kLinear>(p.act, p); }
AXON_RNN_CLONES AXON_FLAT void rnnBackwardRows(const RnnRows& p) { dispatchR<RnnBackwardK, kLinear>(p.act, p); }

void simpleRnnForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, BU = B * U;
  float* hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const StepMatrix W(stackedWeights(f.c, in, U), U, I + U, U, B);  // [W; U]
  const float* bias = f.bias.present ? f.bias.data : zerosOf(U);
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  forRowGroups(B, [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      W.mul(rows, f.c.x.data + (b0 * T + in.t(s)) * I, T * I, I, hs + prev, U, hs + next, U, false);
      rnnForwardRows({bias, hs + prev, hs + next, nullptr, nullptr, nullptr, nullptr, nullptr,
                      mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, false, in.act});
      emitOutput(hs, mask, f.output.data, in, s, b0, b1);
    }
  });
  std::memcpy(f.hT.data, hs + T * BU, sizeof(float) * BU);
}

void simpleRnnBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, I = in.I, U = in.U, BU = B * U;
  const float* hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const StepMatrix RT(c.recurrentKernel.data, U, U, U, B, true);  // U^T
  const Blocks blocks{I, U, U, 1};
  const bool weights = wantsWeights(gr), lone = rowGroups(B) == 1;
  float* partials = weights ? buf(kPartials, rowGroups(B) * blocks.size()) : nullptr;
  forRowGroups(B, [&](int64_t group, int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float* dZ = buf(kGd, T * rows * U);
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    std::vector<const float*> dOutRows(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutRows.data());
      const int64_t next = (s + 1) * BU + b0 * U;
      float* dz = dZ + s * rows * U;
      rnnBackwardRows({nullptr, nullptr, const_cast<float*>(hs + next), dhA, dOutRows.data(), dz, dhB, carry + b0 * U,
                       mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask, in.act});
      RT.mul(rows, dz, U, dhB, U, true);
      std::swap(dhA, dhB);
    }
    if (gr.dx.present) inputGradientRows(dZ, U, c.kernel.data, gr.dx.data, in, b0, b1);
    if (weights) {
      float* a = buf(kA, T * rows * (I + 1 + U));
      gradientInputs(c.x.data, hs, in, b0, b1, a);
      closingGemm(lone, true, false, I + 1 + U, U, T * rows, a, I + 1 + U, dZ, U, partials + group * blocks.size(), U);
    }
  });
  if (gr.dh0.present) std::memcpy(gr.dh0.data, T % 2 == 0 ? dh : dhNext, sizeof(float) * BU);
  if (weights) finishWeightGradients(gr, blocks, partials, rowGroups(B));
}

// ---- entry points ---------------------------------------------------------------------------

Napi::Value forwardEntry(const Napi::CallbackInfo& info, const char* name, Kind kind, void (*run)(const Forward&, const Info&)) {
  Args args(info, name, 2);
  Info in;
  Forward f = readForward(args, kind, &in);
  args.settle();  // the getters of later fields cannot have detached earlier arrays
  run(f, in);
  return info.Env().Undefined();
}

Napi::Value backwardEntry(const Napi::CallbackInfo& info, const char* name, Kind kind, void (*run)(const Common&, const Grads&, const Info&)) {
  Args args(info, name, 2);
  const Info in = readInfo(args, args.object(1, "info"));
  Napi::Object o = args.object(0, "arrays");
  const Common c = readCommon(args, o, kind, in);
  const Grads g = readGrads(args, o, kind, in);
  args.settle();
  run(c, g, in);
  return info.Env().Undefined();
}

}  // namespace

Napi::Value LstmForward(const Napi::CallbackInfo& info) { return forwardEntry(info, "lstmForward", Kind::kLstm, lstmForward); }
Napi::Value LstmBackward(const Napi::CallbackInfo& info) { return backwardEntry(info, "lstmBackward", Kind::kLstm, lstmBackward); }
Napi::Value GruForward(const Napi::CallbackInfo& info) { return forwardEntry(info, "gruForward", Kind::kGru, gruForward); }
Napi::Value GruBackward(const Napi::CallbackInfo& info) { return backwardEntry(info, "gruBackward", Kind::kGru, gruBackward); }
Napi::Value SimpleRnnForward(const Napi::CallbackInfo& info) { return forwardEntry(info, "simpleRnnForward", Kind::kSimpleRnn, simpleRnnForward); }
Napi::Value SimpleRnnBackward(const Napi::CallbackInfo& info) { return backwardEntry(info, "simpleRnnBackward", Kind::kSimpleRnn, simpleRnnBackward); }

AXON_KERNEL("lstmForward", LstmForward);
AXON_KERNEL("lstmBackward", LstmBackward);
AXON_KERNEL("gruForward", GruForward);
AXON_KERNEL("gruBackward", GruBackward);
AXON_KERNEL("simpleRnnForward", SimpleRnnForward);
AXON_KERNEL("simpleRnnBackward", SimpleRnnBackward);

}  // namespace axon
