// Fused whole-sequence recurrent kernels (LSTM, GRU, SimpleRNN), forward and
// backward: the optional kernels specified in @axon/tensor's backend.ts
// (OptionalKernels, RnnForwardArrays, RnnBackwardArrays, RnnSequenceInfo),
// the same algorithm as @axon/kernels-js/src/recurrent.ts.
//
// Everything internal is in step order and time-major, so that each step's
// slice of the projection, the states and the gate gradients is one
// contiguous [B, n] block: x is copied once into step order ([T*B, I]), the
// input projection of all steps is one GEMM, each step does one GEMM h'·U
// (two for a GRU without resetAfter) and one pass of gate math. Backward
// walks the steps in reverse with one GEMM per step for dh', then dW, dU and
// dx come from one GEMM each over all steps. Gate math is in float, one exp
// per activation, and each step's is split by batch rows over the thread
// pool (never at the same time as a BLAS call, see pool.h). Buffers are
// per-thread scratch, grown on demand, so nothing is allocated per step.
//
// JS: lstmForward(arrays, info), lstmBackward(arrays, info), and likewise
// gru* and simpleRnn*; arrays and info are the objects of the TS interface.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "recurrent.h"

namespace axon {
namespace {

enum Act { kTanh, kSigmoid, kHardSigmoid, kRelu, kLinear };
enum class Kind { kLstm, kGru, kSimpleRnn };

// tanh through one exp (glibc's tanhf costs several times expf): 1 - 2/(e^2v + 1),
// exactly ±1 in the limits; the absolute error stays at float rounding.
inline float act(Act a, float v) {
  switch (a) {
    case kTanh: return 1.0f - 2.0f / (std::exp(2.0f * v) + 1.0f);
    case kSigmoid: return 1.0f / (1.0f + std::exp(-v));
    case kHardSigmoid: return v <= -2.5f ? 0.0f : v >= 2.5f ? 1.0f : 0.2f * v + 0.5f;
    case kRelu: return v > 0.0f ? v : 0.0f;
    default: return v;
  }
}

// The derivative, from the activation's output y.
inline float dact(Act a, float y) {
  switch (a) {
    case kTanh: return 1.0f - y * y;
    case kSigmoid: return y * (1.0f - y);
    case kHardSigmoid: return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
    case kRelu: return y > 0.0f ? 1.0f : 0.0f;
    default: return 1.0f;
  }
}

struct Info {
  int64_t B = 0, T = 0, I = 0, U = 0;
  bool goBackwards = false, returnSequences = false, zeroOutputForMask = false, resetAfter = false;
  Act act = kTanh, ract = kSigmoid;
  int64_t t(int64_t step) const { return goBackwards ? T - 1 - step : step; }
};

int gatesOf(Kind k) { return k == Kind::kLstm ? 4 : k == Kind::kGru ? 3 : 1; }

// Runs body(b) for every batch row, split over the pool when the step is big
// enough. Callers pass U * 8 per row: measured on 2 cores, waking the pool for
// the seed LSTM's steps pays off from a batch of about 128, not at 32.
template <typename Body>
void forRows(const Info& in, int64_t workPerRow, Body body) {
  parallelFor(in.B, workPerRow, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) body(b);
  });
}

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

// Per-thread scratch buffers, by role; grown on demand, never shrunk.
enum Buf { kXs, kRec, kRecH, kDz, kDh, kDhNext, kDc, kCarry, kDProj, kDRec, kDA, kDRH, kDhn, kUzr, kUh, kDUzr, kDUh, kDxs, kNumBufs };
thread_local std::vector<float> tBufs[kNumBufs];

float* buf(Buf b, int64_t n) {
  auto& v = tBufs[b];
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

bool taken(const float* mask, const Info& in, int64_t b, int64_t t) { return mask == nullptr || mask[b * in.T + t] != 0.0f; }

// x [B, T, I] (time order) -> [T*B, I] in step order.
float* stepMajorInputs(const float* x, const Info& in) {
  float* xs = buf(kXs, in.T * in.B * in.I);
  for (int64_t s = 0; s < in.T; ++s) {
    const int64_t t = in.t(s);
    for (int64_t b = 0; b < in.B; ++b) std::memcpy(xs + (s * in.B + b) * in.I, x + (b * in.T + t) * in.I, sizeof(float) * in.I);
  }
  return xs;
}

// proj [T*B, GU] = xs · W (+ the first GU values of bias).
void project(const float* xs, const float* kernel, const F32& bias, float* proj, const Info& in, int64_t GU) {
  const int64_t rows = in.T * in.B;
  if (bias.present) {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(proj + r * GU, bias.data, sizeof(float) * GU);
  }
  sgemm(false, false, rows, GU, in.I, 1.0f, xs, kernel, bias.present ? 1.0f : 0.0f, proj);
}

void initState(float* states, const F32& initial, int64_t BU) {
  if (initial.present) std::memcpy(states, initial.data, sizeof(float) * BU);
  else std::memset(states, 0, sizeof(float) * BU);
}

// Step s's output from the new hidden state (slot s+1 of hs), with Keras'
// rule for masked steps (previous output, or zeros with zeroOutputForMask).
void emitOutput(const float* hs, const float* mask, float* out, const Info& in, int64_t s) {
  const int64_t U = in.U, slot = (s + 1) * in.B * U;
  for (int64_t b = 0; b < in.B; ++b) {
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

// The gradient reaching each step's output: dOutput's, plus what a masked
// later step passed back to its "previous output".
struct OutputGradient {
  float* carry;
  const float* dOut;
  const Info& in;
  OutputGradient(const F32& dOutput, const Info& info) : dOut(dOutput.present ? dOutput.data : nullptr), in(info) {
    const int64_t BU = in.B * in.U;
    carry = buf(kCarry, BU);
    if (!in.returnSequences && dOut) std::memcpy(carry, dOut, sizeof(float) * BU);
    else std::memset(carry, 0, sizeof(float) * BU);
  }
  float at(int64_t s, int64_t b, int64_t j, bool take) {
    const int64_t i = b * in.U + j;
    float g = carry[i];
    if (in.returnSequences && dOut) g += dOut[(b * in.T + s) * in.U + j];
    carry[i] = take || in.zeroOutputForMask ? 0.0f : g;
    return take ? g : 0.0f;
  }
};

void columnSums(const float* m, int64_t rows, int64_t cols, float* out) {
  std::memset(out, 0, sizeof(float) * cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = m + r * cols;
    for (int64_t c = 0; c < cols; ++c) out[c] += row[c];
  }
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

// From dProj [T*B, GU] (step order): dKernel = xs^T·dProj, dx = dProj·W^T
// back in time order, and the input bias gradient (dBias' first GU values).
void inputGradients(const Common& c, const Grads& g, const float* dProj, const Info& in, int64_t GU) {
  const int64_t rows = in.T * in.B;
  if (g.dKernel.present) sgemm(true, false, in.I, GU, rows, 1.0f, stepMajorInputs(c.x.data, in), dProj, 0.0f, g.dKernel.data);
  if (g.dx.present) {
    float* dxs = buf(kDxs, rows * in.I);
    sgemm(false, true, rows, in.I, GU, 1.0f, dProj, c.kernel.data, 0.0f, dxs);
    for (int64_t s = 0; s < in.T; ++s) {
      const int64_t t = in.t(s);
      for (int64_t b = 0; b < in.B; ++b) {
        std::memcpy(g.dx.data + (b * in.T + t) * in.I, dxs + (s * in.B + b) * in.I, sizeof(float) * in.I);
      }
    }
  }
  if (g.dBias.present) columnSums(dProj, rows, GU, g.dBias.data);
}

// dU [U, n] = H'^T · dRec, H' the first T slots of a [T(+1), B, U] array.
void recurrentGradient(const float* hPrev, const float* dRec, float* out, const Info& in, int64_t n) {
  sgemm(true, false, in.U, n, in.T * in.B, 1.0f, hPrev, dRec, 0.0f, out);
}

void initGradient(float* dst, const F32& src, int64_t n) {
  if (src.present) std::memcpy(dst, src.data, sizeof(float) * n);
  else std::memset(dst, 0, sizeof(float) * n);
}

// Columns [from, from+count) of a [rows, total] matrix into a scratch [rows, count].
float* splitColumns(Buf which, const float* m, int64_t rows, int64_t total, int64_t from, int64_t count) {
  float* out = buf(which, rows * count);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(out + r * count, m + r * total + from, sizeof(float) * count);
  return out;
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

void finishForward(const Forward& f, const Info& in) {
  const int64_t BU = in.B * in.U;
  std::memcpy(f.hT.data, f.c.hs.data + in.T * BU, sizeof(float) * BU);
  if (f.cT.present) std::memcpy(f.cT.data, f.c.cs.data + in.T * BU, sizeof(float) * BU);
}

// ---- LSTM -----------------------------------------------------------------------------------

void lstmForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 4 * U, BU = B * U;
  float *gates = f.c.gates.data, *hs = f.c.hs.data, *cs = f.c.cs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  project(stepMajorInputs(f.c.x.data, in), f.c.kernel.data, f.bias, gates, in, GU);
  initState(hs, f.h0, BU);
  initState(cs, f.c0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  float* rec = buf(kRec, B * GU);
  for (int64_t s = 0; s < T; ++s) {
    sgemm(false, false, B, GU, U, 1.0f, hs + s * BU, f.c.recurrentKernel.data, 0.0f, rec);
    const int64_t t = in.t(s);
    forRows(in, U * 8, [&](int64_t b) {
      float* g = gates + (s * B + b) * GU;
      const float* r = rec + b * GU;
      const int64_t prev = s * BU + b * U, next = prev + BU;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        const float i = act(in.ract, g[j] + r[j]);
        const float fg = act(in.ract, g[U + j] + r[U + j]);
        const float cc = act(in.act, g[2 * U + j] + r[2 * U + j]);
        const float o = act(in.ract, g[3 * U + j] + r[3 * U + j]);
        g[j] = i;
        g[U + j] = fg;
        g[2 * U + j] = cc;
        g[3 * U + j] = o;
        if (take) {
          const float c = fg * cs[prev + j] + i * cc;
          cs[next + j] = c;
          hs[next + j] = o * act(in.act, c);
        } else {
          cs[next + j] = cs[prev + j];
          hs[next + j] = hs[prev + j];
        }
      }
    });
    emitOutput(hs, mask, f.output.data, in, s);
  }
  finishForward(f, in);
}

void lstmBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 4 * U, BU = B * U;
  const float *gates = c.gates.data, *cs = c.cs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float* dZ = buf(kDz, T * B * GU);
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU), *dc = buf(kDc, BU);
  initGradient(dh, gr.dhT, BU);
  initGradient(dc, gr.dcT, BU);
  OutputGradient dOut(gr.dOutput, in);
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = in.t(s);
    forRows(in, U * 8, [&](int64_t b) {
      const float* g = gates + (s * B + b) * GU;
      float* dz = dZ + (s * B + b) * GU;
      const int64_t k = b * U, prev = s * BU + k, next = prev + BU;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        const float go = dOut.at(s, b, j, take);
        if (!take) {
          dz[j] = dz[U + j] = dz[2 * U + j] = dz[3 * U + j] = 0.0f;
          dhNext[k + j] = dh[k + j];
          continue;
        }
        const float i = g[j], fg = g[U + j], cc = g[2 * U + j], o = g[3 * U + j];
        const float dhn = dh[k + j] + go;
        const float tc = act(in.act, cs[next + j]);
        const float dcn = dc[k + j] + dhn * o * dact(in.act, tc);
        dz[j] = dcn * cc * dact(in.ract, i);
        dz[U + j] = dcn * cs[prev + j] * dact(in.ract, fg);
        dz[2 * U + j] = dcn * i * dact(in.act, cc);
        dz[3 * U + j] = dhn * tc * dact(in.ract, o);
        dc[k + j] = dcn * fg;
        dhNext[k + j] = 0.0f;
      }
    });
    sgemm(false, true, B, U, GU, 1.0f, dZ + s * B * GU, c.recurrentKernel.data, 1.0f, dhNext);
    std::swap(dh, dhNext);
  }
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dh, sizeof(float) * BU);
  if (gr.dc0.present) std::memcpy(gr.dc0.data, dc, sizeof(float) * BU);
  if (gr.dRecurrentKernel.present) recurrentGradient(c.hs.data, dZ, gr.dRecurrentKernel.data, in, GU);
  inputGradients(c, gr, dZ, in, GU);
}

// ---- GRU ------------------------------------------------------------------------------------

void gruForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 3 * U, BU = B * U;
  float *gates = f.c.gates.data, *aux = f.c.aux.data, *hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  const bool ra = in.resetAfter;
  project(stepMajorInputs(f.c.x.data, in), f.c.kernel.data, f.bias, gates, in, GU);
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  const float* recBias = ra && f.bias.present ? f.bias.data + GU : nullptr;
  // Without resetAfter, U splits into Uzr [U, 2U] (applied to h') and Uh [U, U] (applied to r*h').
  const float* Uzr = ra ? f.c.recurrentKernel.data : splitColumns(kUzr, f.c.recurrentKernel.data, U, GU, 0, 2 * U);
  const float* Uh = ra ? nullptr : splitColumns(kUh, f.c.recurrentKernel.data, U, GU, 2 * U, U);
  const int64_t n = ra ? GU : 2 * U;
  float *rec = buf(kRec, B * n), *recH = buf(kRecH, BU);
  for (int64_t s = 0; s < T; ++s) {
    sgemm(false, false, B, n, U, 1.0f, hs + s * BU, Uzr, 0.0f, rec);
    forRows(in, U * 8, [&](int64_t b) {
      float* g = gates + (s * B + b) * GU;
      const float* r0 = rec + b * n;
      const int64_t prev = s * BU + b * U;
      for (int64_t j = 0; j < U; ++j) {
        const float z = act(in.ract, g[j] + r0[j] + (recBias ? recBias[j] : 0.0f));
        const float r = act(in.ract, g[U + j] + r0[U + j] + (recBias ? recBias[U + j] : 0.0f));
        g[j] = z;
        g[U + j] = r;
        if (ra) {
          const float rh = r0[2 * U + j] + (recBias ? recBias[2 * U + j] : 0.0f);
          aux[prev + j] = rh;
          g[2 * U + j] = act(in.act, g[2 * U + j] + r * rh);
        } else {
          aux[prev + j] = r * hs[prev + j];
        }
      }
    });
    if (!ra) {
      sgemm(false, false, B, U, U, 1.0f, aux + s * BU, Uh, 0.0f, recH);
      forRows(in, U * 8, [&](int64_t b) {
        float* g = gates + (s * B + b) * GU;
        for (int64_t j = 0; j < U; ++j) g[2 * U + j] = act(in.act, g[2 * U + j] + recH[b * U + j]);
      });
    }
    const int64_t t = in.t(s);
    forRows(in, U * 8, [&](int64_t b) {
      const float* g = gates + (s * B + b) * GU;
      const int64_t prev = s * BU + b * U, next = prev + BU;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        hs[next + j] = take ? g[j] * hs[prev + j] + (1.0f - g[j]) * g[2 * U + j] : hs[prev + j];
      }
    });
    emitOutput(hs, mask, f.output.data, in, s);
  }
  finishForward(f, in);
}

void gruBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, GU = 3 * U, BU = B * U;
  const float *gates = c.gates.data, *aux = c.aux.data, *hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  const bool ra = in.resetAfter;
  // dProj: gradient of the input projection; dRec: of the recurrent GEMM's output
  // ([T*B, 3U] with resetAfter; else [T*B, 2U] for z, r and dA [T*B, U] for the candidate).
  float* dProj = buf(kDProj, T * B * GU);
  const int64_t n = ra ? GU : 2 * U;
  float* dRec = buf(kDRec, T * B * n);
  float* dA = ra ? nullptr : buf(kDA, T * BU);
  const float* Uzr = ra ? c.recurrentKernel.data : splitColumns(kUzr, c.recurrentKernel.data, U, GU, 0, 2 * U);
  const float* Uh = ra ? nullptr : splitColumns(kUh, c.recurrentKernel.data, U, GU, 2 * U, U);
  float *dRH = buf(kDRH, BU), *dhn = buf(kDhn, BU);
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  OutputGradient dOut(gr.dOutput, in);
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = in.t(s);
    // Pass 1: the gradient of the new h, and of the candidate's pre-activation.
    forRows(in, U * 8, [&](int64_t b) {
      const float* g = gates + (s * B + b) * GU;
      float* dp = dProj + (s * B + b) * GU;
      const int64_t k = b * U;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        const float go = dOut.at(s, b, j, take);
        const float d = take ? dh[k + j] + go : 0.0f;
        dhn[k + j] = d;
        const float da = d * (1.0f - g[j]) * dact(in.act, g[2 * U + j]);
        dp[2 * U + j] = da;
        if (dA) dA[s * BU + k + j] = da;
      }
    });
    if (!ra) sgemm(false, true, B, U, U, 1.0f, dA + s * BU, Uh, 0.0f, dRH);
    // Pass 2: z and r, and the direct part of dh'.
    forRows(in, U * 8, [&](int64_t b) {
      const float* g = gates + (s * B + b) * GU;
      float* dp = dProj + (s * B + b) * GU;
      float* dr0 = dRec + (s * B + b) * n;
      const int64_t k = b * U, prev = s * BU + k;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        const float d = dhn[k + j];
        const float z = g[j], r = g[U + j], hh = g[2 * U + j];
        const float hPrev = hs[prev + j];
        const float da = dp[2 * U + j];
        const float dz = d * (hPrev - hh) * dact(in.ract, z);
        const float dr = (ra ? da * aux[prev + j] : dRH[k + j] * hPrev) * dact(in.ract, r);
        dp[j] = dr0[j] = dz;
        dp[U + j] = dr0[U + j] = dr;
        if (ra) dr0[2 * U + j] = da * r;
        dhNext[k + j] = take ? d * z + (ra ? 0.0f : dRH[k + j] * r) : dh[k + j];
      }
    });
    sgemm(false, true, B, U, n, 1.0f, dRec + s * B * n, Uzr, 1.0f, dhNext);
    std::swap(dh, dhNext);
  }
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dh, sizeof(float) * BU);
  if (gr.dRecurrentKernel.present) {
    if (ra) {
      recurrentGradient(hs, dRec, gr.dRecurrentKernel.data, in, GU);
    } else {
      // dUzr = H'^T · dRec, dUh = (r*H')^T · dA, interleaved into [U, 3U].
      float *dUzr = buf(kDUzr, U * 2 * U), *dUh = buf(kDUh, U * U);
      recurrentGradient(hs, dRec, dUzr, in, 2 * U);
      recurrentGradient(aux, dA, dUh, in, U);
      for (int64_t r = 0; r < U; ++r) {
        std::memcpy(gr.dRecurrentKernel.data + r * GU, dUzr + r * 2 * U, sizeof(float) * 2 * U);
        std::memcpy(gr.dRecurrentKernel.data + r * GU + 2 * U, dUh + r * U, sizeof(float) * U);
      }
    }
  }
  inputGradients(c, gr, dProj, in, GU);
  if (gr.dBias.present && ra) columnSums(dRec, T * B, GU, gr.dBias.data + GU);
}

// ---- SimpleRNN ------------------------------------------------------------------------------

void simpleRnnForward(const Forward& f, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, BU = B * U;
  float* hs = f.c.hs.data;
  const float* mask = f.c.mask.present ? f.c.mask.data : nullptr;
  float* proj = buf(kDProj, T * BU);
  project(stepMajorInputs(f.c.x.data, in), f.c.kernel.data, f.bias, proj, in, U);
  initState(hs, f.h0, BU);
  if (!in.returnSequences) std::memset(f.output.data, 0, sizeof(float) * BU);
  float* rec = buf(kRec, BU);
  for (int64_t s = 0; s < T; ++s) {
    sgemm(false, false, B, U, U, 1.0f, hs + s * BU, f.c.recurrentKernel.data, 0.0f, rec);
    const int64_t t = in.t(s);
    forRows(in, U * 8, [&](int64_t b) {
      const int64_t k = b * U, prev = s * BU + k, next = prev + BU;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) hs[next + j] = take ? act(in.act, proj[prev + j] + rec[k + j]) : hs[prev + j];
    });
    emitOutput(hs, mask, f.output.data, in, s);
  }
  finishForward(f, in);
}

void simpleRnnBackward(const Common& c, const Grads& gr, const Info& in) {
  const int64_t B = in.B, T = in.T, U = in.U, BU = B * U;
  const float* hs = c.hs.data;
  const float* mask = c.mask.present ? c.mask.data : nullptr;
  float* dZ = buf(kDz, T * BU);
  float *dh = buf(kDh, BU), *dhNext = buf(kDhNext, BU);
  initGradient(dh, gr.dhT, BU);
  OutputGradient dOut(gr.dOutput, in);
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = in.t(s);
    forRows(in, U * 8, [&](int64_t b) {
      const int64_t k = b * U, next = (s + 1) * BU + k;
      const bool take = taken(mask, in, b, t);
      for (int64_t j = 0; j < U; ++j) {
        const float go = dOut.at(s, b, j, take);
        dZ[s * BU + k + j] = take ? (dh[k + j] + go) * dact(in.act, hs[next + j]) : 0.0f;
        dhNext[k + j] = take ? 0.0f : dh[k + j];
      }
    });
    sgemm(false, true, B, U, U, 1.0f, dZ + s * BU, c.recurrentKernel.data, 1.0f, dhNext);
    std::swap(dh, dhNext);
  }
  if (gr.dh0.present) std::memcpy(gr.dh0.data, dh, sizeof(float) * BU);
  if (gr.dRecurrentKernel.present) recurrentGradient(hs, dZ, gr.dRecurrentKernel.data, in, U);
  inputGradients(c, gr, dZ, in, U);
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
