// Fused whole-sequence recurrent kernels (LSTM, GRU, SimpleRNN), forward and
// backward: the optional kernels specified in @axon/tensor's backend.ts
// (OptionalKernels, RnnForwardArrays, RnnBackwardArrays, RnnSequenceInfo),
// the same algorithm as @axon/kernels-js/src/recurrent.ts.
//
// Everything internal is in step order and time-major, so that each step's
// slice of the projection, the states and the gate gradients is one
// contiguous [B, n] block, and any range of rows of it too.
//
// Threading. A call runs in phases, each one parallel region of our pool with
// OpenBLAS single-threaded inside (BlasSerial, see pool.h):
//  - step chunks (forward): the input projection x·W + b of a fixed range of
//    steps, one GEMM per chunk, written straight into the gates (or, for a
//    SimpleRNN, the hidden-state slots);
//  - row groups: batch rows are independent in a recurrence, so the batch is
//    split into fixed groups of rows and each group runs through all T steps
//    on its own: per step one small GEMM h'·U accumulated into the step's
//    pre-activations (two for a GRU without resetAfter; backward, one for dh'
//    against a transposed copy of U) and the gate math of its rows. No
//    barrier per step, and each GEMM is big enough (up to kGroupRows rows) to
//    run near OpenBLAS's single-core peak;
//  - step chunks (backward): dx, and the weight gradients dW, dU and dBias,
//    which sum over every step and row: each chunk computes its own partial
//    (one GEMM over its steps), and the partials are added in chunk order.
// Row groups and step chunks depend on the sizes only (batch, timesteps),
// never on the thread count or the scheduling, and every GEMM's shape follows
// from them; so from a batch of 16 on, results are bit-for-bit the same for
// any number of threads. Below 16 the batch is one row group, and the
// per-step GEMMs (and, for fewer than 2*kChunkRows rows, the one step chunk's)
// run outside our pool where OpenBLAS may use its own threads: that is what
// keeps a small batch with many units fast (a batch of 1 above all), and
// there the last bits may change with the thread count (never run to run).
//
// Gate math is in float, branch-free and vectorised (vmath.h, compiled for
// AVX2 and for baseline x86-64), with the activations as template parameters
// so that no switch runs per element. Buffers are per-thread scratch, grown on
// demand, so nothing is allocated per step.
//
// JS: lstmForward(arrays, info), lstmBackward(arrays, info), and likewise
// gru* and simpleRnn*; arrays and info are the objects of the TS interface.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "recurrent.h"
#include "vmath.h"

// AXON_FLAT on the row kernels inlines everything they call (vtanh is too big
// for GCC's own inlining there, and a call per element stops vectorisation).
// AXON_IVDEP on their loops over units: GCC does not vectorise loops over
// __restrict locals ("complicated access pattern") without it; every such
// loop reads and writes distinct arrays, or one element in place.
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

template <Act A>
AXON_INLINE float actT(float v) {
  if constexpr (A == kTanh) return vtanh(v);
  else if constexpr (A == kSigmoid) return vsigmoid(v);
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

// ---- scratch, GEMM, partitions ----------------------------------------------------------------

// Per-thread scratch buffers, by role; grown on demand, never shrunk. The
// calling thread's kDz..kZeros hold the call's shared arrays; kXs..kRowTmp are
// used inside parallel bodies, by whichever thread runs them.
enum Buf { kDz, kDRec, kDh, kDhNext, kDc, kCarry, kRT, kWT, kPartials, kZeros, kXs, kChunkOut, kRowTmp, kNumBufs };
thread_local std::vector<float> tBufs[kNumBufs];

float* buf(Buf b, int64_t n) {
  auto& v = tBufs[b];
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

// n zeros (read-only; stands in for an absent row of a gradient).
const float* zerosOf(int64_t n) {
  auto& v = tBufs[kZeros];
  if (static_cast<int64_t>(v.size()) < n) v.assign(n, 0.0f);
  return v.data();
}

// Row-major C[m, n] = op(A)·op(B) + beta·C with explicit leading dimensions
// (so strided column ranges and rows need no copies); k == 0 gives beta·C.
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
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, int(m), int(n),
              int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// [rows, cols] -> [cols, rows].
float* transposed(Buf which, const float* m, int64_t rows, int64_t cols) {
  float* out = buf(which, rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = m[r * cols + c];
  return out;
}

// Row groups: the batch split into fixed ranges of at most kGroupRows rows
// (at least two groups from 16 rows, so that two cores share a batch of 32).
// 32 rows keep the per-step GEMMs near OpenBLAS's single-core peak (16 rows
// lose about 15%); the price is that a batch of B keeps at most B/32 threads
// busy in the recurrence.
constexpr int64_t kGroupRows = 32;

int64_t rowGroups(int64_t B) {
  if (B < 16) return 1;
  return std::max<int64_t>(2, (B + kGroupRows - 1) / kGroupRows);
}

// body(b0, b1) for each row group, in parallel when there are several.
template <typename Body>
void forRowGroups(int64_t B, Body body) {
  const int64_t groups = rowGroups(B);
  if (groups == 1) {
    body(int64_t(0), B);
    return;
  }
  BlasSerial serial;
  parallelFor(groups, int64_t(1) << 30, [&](int64_t lo, int64_t hi) {
    for (int64_t g = lo; g < hi; ++g) body(B * g / groups, B * (g + 1) / groups);
  });
}

// Step chunks: the steps split into fixed ranges of at least kChunkRows rows
// (steps x batch) each, at most kMaxChunks of them (each weight gradient
// has a partial per chunk).
constexpr int64_t kChunkRows = 128, kMaxChunks = 8;

int64_t stepChunks(const Info& in) {
  return std::clamp<int64_t>(in.T * in.B / kChunkRows, 1, std::min(in.T, kMaxChunks));
}

// body(chunk, s0, s1) for each step chunk, in parallel when there are several.
// One chunk of a batch below 16 leaves OpenBLAS its threads (see the top).
template <typename Body>
void forStepChunks(const Info& in, int64_t chunks, Body body) {
  auto run = [&](int64_t c) { body(c, in.T * c / chunks, in.T * (c + 1) / chunks); };
  if (chunks == 1 && rowGroups(in.B) == 1) {
    run(0);
    return;
  }
  BlasSerial serial;
  parallelFor(chunks, int64_t(1) << 30, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) run(c);
  });
}

bool taken(const float* mask, const Info& in, int64_t b, int64_t t) { return mask == nullptr || mask[b * in.T + t] != 0.0f; }

// Steps [s0, s1) of x [B, T, I] (time order) into xs [(s1-s0)*B, I], step order.
void gatherSteps(const float* x, const Info& in, int64_t s0, int64_t s1, float* xs) {
  for (int64_t s = s0; s < s1; ++s) {
    const int64_t t = in.t(s);
    for (int64_t b = 0; b < in.B; ++b) {
      std::memcpy(xs + ((s - s0) * in.B + b) * in.I, x + (b * in.T + t) * in.I, sizeof(float) * in.I);
    }
  }
}

// The input projection of every step, proj [T*B, GU] (step order) = xs·W + the
// first GU values of bias, one GEMM per step chunk.
void project(const float* x, const float* kernel, const F32& bias, float* proj, const Info& in, int64_t GU) {
  forStepChunks(in, stepChunks(in), [&](int64_t, int64_t s0, int64_t s1) {
    const int64_t rows = (s1 - s0) * in.B;
    float* xs = buf(kXs, rows * in.I);
    gatherSteps(x, in, s0, s1, xs);
    float* out = proj + s0 * in.B * GU;
    if (bias.present) {
      for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * GU, bias.data, sizeof(float) * GU);
    }
    gemm(false, false, rows, GU, in.I, xs, in.I, kernel, GU, bias.present ? 1.0f : 0.0f, out, GU);
  });
}

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

// Where step s's output gradient comes from for one row: dOutput's row for
// that step (returnSequences), else nothing beyond the carry (which starts as
// dOutput without returnSequences, see initCarry).
const float* dOutRow(const F32& dOutput, const Info& in, int64_t s, int64_t b) {
  if (!in.returnSequences || !dOutput.present) return zerosOf(in.U);
  return dOutput.data + (b * in.T + s) * in.U;
}

// carry [B, U]: what masked later steps passed back to their "previous output".
float* initCarry(const F32& dOutput, const Info& in) {
  const int64_t BU = in.B * in.U;
  float* carry = buf(kCarry, BU);
  if (!in.returnSequences && dOutput.present) std::memcpy(carry, dOutput.data, sizeof(float) * BU);
  else std::memset(carry, 0, sizeof(float) * BU);
  return carry;
}

// ---- weight gradients -------------------------------------------------------------------------

// One weight gradient: out[m, n] (row stride ldo) = sum over all T*B rows r of
// a[r, 0:m]^T · b[r, 0:n] (row strides lda, ldb; step-major, so the rows of
// steps [s0, s1) are rows [s0*B, s1*B)). a == nullptr means the step-ordered
// inputs x (gathered per chunk); m == 0 with a column sum: out[n] = sum of b's rows.
struct WeightGrad {
  const float* a;
  int64_t lda, m;
  const float* b;
  int64_t ldb, n;
  float* out;
  int64_t ldo;
  bool columnSum;
};

AXON_CLONES void addColumns(const float* __restrict m, int64_t rows, int64_t ld, int64_t n, float* __restrict out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = m + r * ld;
    AXON_IVDEP
    for (int64_t c = 0; c < n; ++c) out[c] += row[c];
  }
}

// dx (time order) from the projection's gradient dProj [T*B, GU] and WT = W^T
// [GU, I], and the weight gradients in `jobs`, in one pass over step chunks.
// Chunk 0 writes the outputs; later chunks write partials, added in chunk
// order at the end (the sum never depends on the thread count).
void stepGradients(const Info& in, const float* x, const float* dProj, int64_t GU, const float* WT, float* dx,
                   std::vector<WeightGrad> jobs) {
  jobs.erase(std::remove_if(jobs.begin(), jobs.end(), [](const WeightGrad& j) { return j.out == nullptr; }), jobs.end());
  if (!dx && jobs.empty()) return;
  const int64_t B = in.B, I = in.I, chunks = stepChunks(in);
  std::vector<int64_t> offset(jobs.size() + 1, 0);
  for (size_t j = 0; j < jobs.size(); ++j) offset[j + 1] = offset[j] + (jobs[j].columnSum ? 1 : jobs[j].m) * jobs[j].n;
  float* partials = buf(kPartials, (chunks - 1) * offset.back());
  forStepChunks(in, chunks, [&](int64_t c, int64_t s0, int64_t s1) {
    const int64_t rows = (s1 - s0) * B;
    if (dx) {
      float* out = buf(kChunkOut, rows * I);
      gemm(false, false, rows, I, GU, dProj + s0 * B * GU, GU, WT, I, 0.0f, out, I);
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t t = in.t(s);
        for (int64_t b = 0; b < B; ++b) std::memcpy(dx + (b * in.T + t) * I, out + ((s - s0) * B + b) * I, sizeof(float) * I);
      }
    }
    const float* xs = nullptr;
    for (size_t j = 0; j < jobs.size(); ++j) {
      const WeightGrad& w = jobs[j];
      float* out = c == 0 ? w.out : partials + (c - 1) * offset.back() + offset[j];
      const int64_t ldo = c == 0 ? w.ldo : w.n;
      const float* bRows = w.b + s0 * B * w.ldb;
      if (w.columnSum) {
        std::memset(out, 0, sizeof(float) * w.n);
        addColumns(bRows, rows, w.ldb, w.n, out);
        continue;
      }
      const float* a = w.a ? w.a + s0 * B * w.lda : nullptr;
      if (!a) {
        if (!xs) {
          float* g = buf(kXs, rows * I);
          gatherSteps(x, in, s0, s1, g);
          xs = g;
        }
        a = xs;
      }
      gemm(true, false, w.m, w.n, rows, a, w.lda, bRows, w.ldb, 0.0f, out, ldo);
    }
  });
  for (int64_t c = 1; c < chunks; ++c) {
    for (size_t j = 0; j < jobs.size(); ++j) {
      const WeightGrad& w = jobs[j];
      const float* part = partials + (c - 1) * offset.back() + offset[j];
      const int64_t m = w.columnSum ? 1 : w.m;
      for (int64_t r = 0; r < m; ++r) {
        float* o = w.out + r * w.ldo;
        const float* p = part + r * w.n;
        for (int64_t k = 0; k < w.n; ++k) o[k] += p[k];
      }
    }
  }
}

WeightGrad inputKernelGrad(const Grads& g, const Info& in, const float* dProj, int64_t GU) {
  return {nullptr, in.I, in.I, dProj, GU, GU, g.dKernel.present ? g.dKernel.data : nullptr, GU, false};
}

WeightGrad biasGrad(float* out, const float* d, int64_t ld, int64_t n) { return {nullptr, 0, 0, d, ld, n, out, n, true}; }

// ---- LSTM -----------------------------------------------------------------------------------

// Gate math of rows [0, rows) of one step: g holds the pre-activations
// (x·W + b + h'·U) on entry and the activated gates i, f, act(zc), o on exit.
struct LstmRows {
  float* g;
  const float *hPrev, *cPrev;
  float *hNext, *cNext;
  const float* mask;  // the first row's mask value for this step, stride T; null = all taken
  int64_t maskStride, rows, U;
  Act act, ract;
};

template <Act A, Act R>
struct LstmForwardK {
  static AXON_INLINE void run(const LstmRows& p) {
    const int64_t U = p.U;
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
      for (int64_t j = 0; j < 2 * U; ++j) gi[j] = actT<R>(gi[j]);  // i and f
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        gc[j] = actT<A>(gc[j]);
        go[j] = actT<R>(go[j]);
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

AXON_CLONES AXON_FLAT void lstmForwardRows(const LstmRows& p) { dispatch<LstmForwardK>(p.act, p.ract, p); }

void lstmForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 4 * U, BU = B * U;
  float *gates = f.c.gates.data, *hs = f.c.hs.data, *cs = f.c.cs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const float* Rk = f.c.recurrentKernel.data;
  project(f.c.x.data, f.c.kernel.data, f.bias, gates, in, GU);
  initState(hs, f.h0, BU);
  initState(cs, f.c0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t s = 0; s < T; ++s) {
      float* g = gates + (s * B + b0) * GU;
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      gemm(false, false, rows, GU, U, hs + prev, U, Rk, GU, 1.0f, g, GU);
      const LstmRows p{g, hs + prev, cs + prev, hs + next, cs + next, mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.act, in.ract};
      lstmForwardRows(p);
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
        carryMaskedInline(carry, dOut, p.zeroOutputForMask, U);
        AXON_IVDEP
        for (int64_t j = 0; j < 4 * U; ++j) dzi[j] = 0.0f;
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) dhNext[j] = dh[j];
      }
    }
  }
  static AXON_INLINE void carryMaskedInline(float* __restrict carry, const float* __restrict dOut, bool zero, int64_t U) {
    AXON_IVDEP
    for (int64_t j = 0; j < U; ++j) carry[j] = zero ? 0.0f : carry[j] + dOut[j];
  }
};

AXON_CLONES AXON_FLAT void lstmBackwardRows(const LstmBackRows& p) { dispatch<LstmBackwardK>(p.act, p.ract, p); }

// Output-gradient rows of step s for rows [b0, b1) into rowPtrs.
void outputRows(const F32& dOutput, const Info& in, int64_t s, int64_t b0, int64_t b1, const float** rowPtrs) {
  for (int64_t b = b0; b < b1; ++b) rowPtrs[b - b0] = dOutRow(dOutput, in, s, b);
}

void lstmBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 4 * U, BU = B * U;
  const float *gates = c.gates.data, *cs = c.cs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float* dZ = buf(kDz, T * B * GU);
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU), *dc = buf(kDc, BU);
  initGradient(dh, gr.dhT, BU);
  initGradient(dc, gr.dcT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const float* RT = transposed(kRT, c.recurrentKernel.data, U, GU);  // [GU, U]
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    std::vector<const float*> dOutPtrs(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutPtrs.data());
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      float* dz = dZ + (s * B + b0) * GU;
      const LstmBackRows p{gates + (s * B + b0) * GU, cs + prev, cs + next, dhA, dc + b0 * U, dhB, dz, carry + b0 * U,
                           dOutPtrs.data(), mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask,
                           in.act, in.ract};
      lstmBackwardRows(p);
      gemm(false, false, rows, U, GU, dz, GU, RT, U, 1.0f, dhB, U);
      std::swap(dhA, dhB);
    }
  });
  // After T swaps the final dh' is in dh when T is even, else in dhNext.
  const float* dhFinal = T % 2 == 0 ? dh : dhNext;
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dhFinal, sizeof(float) * BU);
  if (gr.dc0.present) std::memcpy(gr.dc0.data, dc, sizeof(float) * BU);
  const float* WT = gr.dx.present ? transposed(kWT, c.kernel.data, in.I, GU) : nullptr;
  stepGradients(in, c.x.data, dZ, GU, WT, gr.dx.present ? gr.dx.data : nullptr,
                {inputKernelGrad(gr, in, dZ, GU),
                 {c.hs.data, U, U, dZ, GU, GU, gr.dRecurrentKernel.present ? gr.dRecurrentKernel.data : nullptr, GU, false},
                 biasGrad(gr.dBias.present ? gr.dBias.data : nullptr, dZ, GU, GU)});
}

// ---- GRU ------------------------------------------------------------------------------------

// Forward gate math for rows [0, rows) of one step.
// resetAfter: g holds x·W + b (z, r, h parts), rec = h'·U [rows, 3U]; recBias
// the recurrent bias row (zeros when none). z, r, hh are written to g, the
// candidate's recurrent term to aux, and the new h.
// Without resetAfter, stage 1: g's z and r parts hold x·W + b + h'·U already;
// z and r are activated and aux = r*h'. Stage 2 (after g_h += aux·U_h): hh and h.
struct GruRows {
  float* g;
  const float *rec, *recBias, *hPrev;
  float *aux, *hNext;
  const float* mask;
  int64_t maskStride, rows, U;
  Act act, ract;
};

template <Act A, Act R>
struct GruForwardK {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    const float* __restrict bz = p.recBias;
    const float* __restrict br = bz + U;
    const float* __restrict bh = bz + 2 * U;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict gz = p.g + r * 3 * U;
      float* __restrict gr = gz + U;
      float* __restrict gh = gz + 2 * U;
      const float* __restrict rz = p.rec + r * 3 * U;
      const float* __restrict rr = rz + U;
      const float* __restrict rh = rz + 2 * U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict aux = p.aux + r * U;
      float* __restrict hn = p.hNext + r * U;
      const bool take = p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f;
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        gz[j] = actT<R>(gz[j] + rz[j] + bz[j]);
        gr[j] = actT<R>(gr[j] + rr[j] + br[j]);
      }
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const float h = rh[j] + bh[j];
        const float hh = actT<A>(gh[j] + gr[j] * h);
        gh[j] = hh;
        aux[j] = h;
        hn[j] = gz[j] * hp[j] + (1.0f - gz[j]) * hh;
      }
      if (!take) std::memcpy(hn, hp, sizeof(float) * U);
    }
  }
};

template <Act A, Act R>
struct GruForwardStage1K {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict gz = p.g + r * 3 * U;
      float* __restrict gr = gz + U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict aux = p.aux + r * U;
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const float z = actT<R>(gz[j]), rg = actT<R>(gr[j]);
        gz[j] = z;
        gr[j] = rg;
        aux[j] = rg * hp[j];
      }
    }
  }
};

template <Act A, Act R>
struct GruForwardStage2K {
  static AXON_INLINE void run(const GruRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      const float* __restrict gz = p.g + r * 3 * U;
      float* __restrict gh = p.g + r * 3 * U + 2 * U;
      const float* __restrict hp = p.hPrev + r * U;
      float* __restrict hn = p.hNext + r * U;
      const bool take = p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f;
      AXON_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const float hh = actT<A>(gh[j]);
        gh[j] = hh;
        hn[j] = gz[j] * hp[j] + (1.0f - gz[j]) * hh;
      }
      if (!take) std::memcpy(hn, hp, sizeof(float) * U);
    }
  }
};

AXON_CLONES AXON_FLAT void gruForwardRows(const GruRows& p) { dispatch<GruForwardK>(p.act, p.ract, p); }
AXON_CLONES AXON_FLAT void gruForwardStage1(const GruRows& p) { dispatch<GruForwardStage1K>(p.act, p.ract, p); }
AXON_CLONES AXON_FLAT void gruForwardStage2(const GruRows& p) { dispatch<GruForwardStage2K>(p.act, p.ract, p); }

void gruForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 3 * U, BU = B * U;
  float *gates = f.c.gates.data, *aux = f.c.aux.data, *hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const float* Rk = f.c.recurrentKernel.data;
  const bool ra = in.resetAfter;
  project(f.c.x.data, f.c.kernel.data, f.bias, gates, in, GU);
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  const float* recBias = ra && f.bias.present ? f.bias.data + GU : zerosOf(GU);
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float* rec = ra ? buf(kRowTmp, rows * GU) : nullptr;
    for (int64_t s = 0; s < T; ++s) {
      float* g = gates + (s * B + b0) * GU;
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      const GruRows p{g, rec, recBias, hs + prev, aux + prev, hs + next, mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.act, in.ract};
      if (ra) {
        gemm(false, false, rows, GU, U, hs + prev, U, Rk, GU, 0.0f, rec, GU);
        gruForwardRows(p);
      } else {
        // z, r: g += h'·U[:, 0:2U]; then the candidate: g_h += (r*h')·U[:, 2U:3U].
        gemm(false, false, rows, 2 * U, U, hs + prev, U, Rk, GU, 1.0f, g, GU);
        gruForwardStage1(p);
        gemm(false, false, rows, U, U, aux + prev, U, Rk + 2 * U, GU, 1.0f, g + 2 * U, GU);
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
      const bool take = p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f;
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
      if (!take) std::memcpy(dhNext, dh, sizeof(float) * U);
    }
  }
};

AXON_CLONES AXON_FLAT void gruBackwardStage1(const GruBackRows& p) { dispatch<GruBackwardStage1K>(p.act, p.ract, p); }
AXON_CLONES AXON_FLAT void gruBackwardStage2(const GruBackRows& p) { dispatch<GruBackwardStage2K>(p.act, p.ract, p); }

void gruBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 3 * U, BU = B * U;
  const float *gates = c.gates.data, *aux = c.aux.data, *hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  const bool ra = in.resetAfter;
  // dProj [T*B, 3U]: the gradient of the input projection (z, r, candidate).
  // With resetAfter also dRec [T*B, 3U], the gradient of h'·U (+ bRec):
  // dz, dr, da*r. Without it the recurrent GEMMs' gradients are dProj's
  // columns themselves (z, r for h'·U_zr; the candidate's for (r*h')·U_h).
  float* dProj = buf(kDz, T * B * GU);
  float* dRec = ra ? buf(kDRec, T * B * GU) : nullptr;
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const float* RT = transposed(kRT, c.recurrentKernel.data, U, GU);  // [GU, U]; rows 2U.. are U_h^T
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    float* dhn = buf(kRowTmp, 2 * rows * U);
    float* dRH = dhn + rows * U;
    std::vector<const float*> dOutPtrs(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutPtrs.data());
      const int64_t prev = s * BU + b0 * U;
      float* dp = dProj + (s * B + b0) * GU;
      float* dr = ra ? dRec + (s * B + b0) * GU : nullptr;
      const GruBackRows p{gates + (s * B + b0) * GU, hs + prev, aux + prev, dhA, dhn, dp, dr, dRH, dhB, carry + b0 * U,
                          dOutPtrs.data(), mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask, ra,
                          in.act, in.ract};
      gruBackwardStage1(p);
      if (!ra) gemm(false, false, rows, U, U, dp + 2 * U, GU, RT + 2 * U * U, U, 0.0f, dRH, U);
      gruBackwardStage2(p);
      // dh' += dRec·U^T (resetAfter), or dProj[:, 0:2U]·U_zr^T.
      if (ra) gemm(false, false, rows, U, GU, dr, GU, RT, U, 1.0f, dhB, U);
      else gemm(false, false, rows, U, 2 * U, dp, GU, RT, U, 1.0f, dhB, U);
      std::swap(dhA, dhB);
    }
  });
  const float* dhFinal = T % 2 == 0 ? dh : dhNext;
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dhFinal, sizeof(float) * BU);
  float* dRK = gr.dRecurrentKernel.present ? gr.dRecurrentKernel.data : nullptr;
  float* dB = gr.dBias.present ? gr.dBias.data : nullptr;
  std::vector<WeightGrad> jobs{inputKernelGrad(gr, in, dProj, GU), biasGrad(dB, dProj, GU, GU)};
  if (ra) {
    jobs.push_back({hs, U, U, dRec, GU, GU, dRK, GU, false});
    jobs.push_back(biasGrad(dB ? dB + GU : nullptr, dRec, GU, GU));
  } else {
    // dU[:, 0:2U] = H'^T·dProj[:, 0:2U], dU[:, 2U:3U] = (r*H')^T·dProj[:, 2U:3U].
    jobs.push_back({hs, U, U, dProj, GU, 2 * U, dRK, GU, false});
    jobs.push_back({aux, U, U, dProj + 2 * U, GU, U, dRK ? dRK + 2 * U : nullptr, GU, false});
  }
  const float* WT = gr.dx.present ? transposed(kWT, c.kernel.data, in.I, GU) : nullptr;
  stepGradients(in, c.x.data, dProj, GU, WT, gr.dx.present ? gr.dx.data : nullptr, jobs);
}

// ---- SimpleRNN ------------------------------------------------------------------------------

// Forward: hNext holds x·W + b + h'·U on entry, act of it (or h' when masked) on exit.
// Backward: dz = (dh + output gradient)*act'(h), dhNext = 0 (dh when masked).
struct RnnRows {
  const float* hPrev;
  float* hNext;
  const float *dh, *const *dOut;
  float *dz, *dhNext, *carry;
  const float* mask;
  int64_t maskStride, rows, U;
  bool zeroOutputForMask;
  Act act, ract;
};

template <Act A, Act R>
struct RnnForwardK {
  static AXON_INLINE void run(const RnnRows& p) {
    const int64_t U = p.U;
    for (int64_t r = 0; r < p.rows; ++r) {
      float* __restrict hn = p.hNext + r * U;
      const float* __restrict hp = p.hPrev + r * U;
      if (p.mask == nullptr || p.mask[r * p.maskStride] != 0.0f) {
        AXON_IVDEP
        for (int64_t j = 0; j < U; ++j) hn[j] = actT<R>(hn[j]);
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

// SimpleRNN has one activation: the kernels take it as the second template argument.
AXON_CLONES AXON_FLAT void rnnForwardRows(const RnnRows& p) { dispatchR<RnnForwardK, kLinear>(p.act, p); }
AXON_CLONES AXON_FLAT void rnnBackwardRows(const RnnRows& p) { dispatchR<RnnBackwardK, kLinear>(p.act, p); }

void simpleRnnForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, BU = B * U;
  float* hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  // The projection of step s goes straight into slot s+1 of hs.
  project(f.c.x.data, f.c.kernel.data, f.bias, hs + BU, in, U);
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t prev = s * BU + b0 * U, next = prev + BU;
      gemm(false, false, rows, U, U, hs + prev, U, f.c.recurrentKernel.data, U, 1.0f, hs + next, U);
      const RnnRows p{hs + prev, hs + next, nullptr, nullptr, nullptr, nullptr, nullptr,
                      mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, false, in.act, kLinear};
      rnnForwardRows(p);
      emitOutput(hs, mask, f.output.data, in, s, b0, b1);
    }
  });
  std::memcpy(f.hT.data, hs + T * BU, sizeof(float) * BU);
}

void simpleRnnBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, BU = B * U;
  const float* hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float* dZ = buf(kDz, T * BU);
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  float* carry = initCarry(gr.dOutput, in);
  const float* RT = transposed(kRT, c.recurrentKernel.data, U, U);
  forRowGroups(B, [&](int64_t b0, int64_t b1) {
    const int64_t rows = b1 - b0;
    float *dhA = dh + b0 * U, *dhB = dhNext + b0 * U;
    std::vector<const float*> dOutPtrs(rows);
    for (int64_t s = T - 1; s >= 0; --s) {
      outputRows(gr.dOutput, in, s, b0, b1, dOutPtrs.data());
      const int64_t next = (s + 1) * BU + b0 * U;
      float* dz = dZ + (s * B + b0) * U;
      const RnnRows p{nullptr, const_cast<float*>(hs + next), dhA, dOutPtrs.data(), dz, dhB, carry + b0 * U,
                      mask ? mask + b0 * T + in.t(s) : nullptr, T, rows, U, in.zeroOutputForMask, in.act, kLinear};
      rnnBackwardRows(p);
      gemm(false, false, rows, U, U, dz, U, RT, U, 1.0f, dhB, U);
      std::swap(dhA, dhB);
    }
  });
  const float* dhFinal = T % 2 == 0 ? dh : dhNext;
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dhFinal, sizeof(float) * BU);
  const float* WT = gr.dx.present ? transposed(kWT, c.kernel.data, in.I, U) : nullptr;
  stepGradients(in, c.x.data, dZ, U, WT, gr.dx.present ? gr.dx.data : nullptr,
                {inputKernelGrad(gr, in, dZ, U),
                 {hs, U, U, dZ, U, U, gr.dRecurrentKernel.present ? gr.dRecurrentKernel.data : nullptr, U, false},
                 biasGrad(gr.dBias.present ? gr.dBias.data : nullptr, dZ, U, U)});
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

void registerRecurrentKernels(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)> fns[] = {
      {"lstmForward", LstmForward}, {"lstmBackward", LstmBackward},
      {"gruForward", GruForward},   {"gruBackward", GruBackward},
      {"simpleRnnForward", SimpleRnnForward}, {"simpleRnnBackward", SimpleRnnBackward},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace axon
