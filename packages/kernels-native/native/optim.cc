// Fused optimizer updates with Keras semantics (the formulas are in the
// comments below and in @axon/kernels-js). Arithmetic per element is in
// double, like the JS backend, then stored as float.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace axon {

namespace {
void sameLength(const Args& args, const F32& v, const char* name, int64_t n) {
  args.exactly(v, name, n, "param has " + std::to_string(n));
}
struct AdamConsts {
  double b1, b2, eps, alpha, decay;
};

// The Adam step over n elements, in double like kernels-js. IEEE double
// arithmetic (no FMA contraction in ISO C++ mode) gives the same bits whether
// or not the loop is vectorised.
AXON_CLONES void adamLoop(const AdamConsts& k, float* __restrict pd, const float* __restrict gd, float* __restrict md,
                          float* __restrict vd, int64_t n) {
  const double b1 = k.b1, b2 = k.b2, eps = k.eps, alpha = k.alpha, decay = k.decay;
  for (int64_t i = 0; i < n; ++i) {
    const double gi = gd[i];
    const double mi = b1 * md[i] + (1 - b1) * gi;
    const double vi = b2 * vd[i] + (1 - b2) * gi * gi;
    md[i] = static_cast<float>(mi);
    vd[i] = static_cast<float>(vi);
    pd[i] = static_cast<float>(pd[i] * decay - alpha * mi / (std::sqrt(vi) + eps));
  }
}

}  // namespace

// sgdUpdate(param, grad, velocity | null, {lr, momentum, nesterov})
//   momentum == 0: p -= lr*g
//   otherwise:     v = momentum*v - lr*g;  p += nesterov ? momentum*v - lr*g : v
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "sgdUpdate", 4);
  F32 p = args.f32(0, "param"), g = args.f32(1, "grad"), vel = args.f32OrNull(2, "velocity");
  Napi::Object c = args.object(3, "config");
  const double lr = args.numField(c, "lr", "config"), mom = args.numField(c, "momentum", "config");
  const bool nesterov = args.flagField(c, "nesterov", "config");
  const int64_t n = p.size;
  sameLength(args, g, "grad", n);
  if (mom != 0 && !vel.present) args.fail("velocity must be a Float32Array when momentum is not 0");
  if (vel.present) sameLength(args, vel, "velocity", n);
  args.settle();  // no JS runs from here on
  float *pd = p.data, *vd = vel.data;
  const float* gd = g.data;
  parallelFor(n, 4, [&](int64_t lo, int64_t hi) {
    if (mom == 0) {
      for (int64_t i = lo; i < hi; ++i) pd[i] = static_cast<float>(pd[i] - lr * gd[i]);
      return;
    }
    for (int64_t i = lo; i < hi; ++i) {
      const double v = mom * vd[i] - lr * gd[i];
      vd[i] = static_cast<float>(v);
      pd[i] = static_cast<float>(nesterov ? pd[i] + mom * v - lr * gd[i] : pd[i] + v);
    }
  });
  return info.Env().Undefined();
}

// adamUpdate(param, grad, m, v, {lr, beta1, beta2, epsilon, step, weightDecay})
//   m = beta1*m + (1 - beta1)*g;  v = beta2*v + (1 - beta2)*g²
//   p = p*(1 - lr*weightDecay) - lr_t*m/(sqrt(v) + epsilon),  lr_t = lr*sqrt(1 - beta2^step)/(1 - beta1^step)
// (AdamW's decoupled decay uses the parameter before the step, as Keras does.)
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "adamUpdate", 5);
  F32 p = args.f32(0, "param"), g = args.f32(1, "grad"), m = args.f32(2, "m"), v = args.f32(3, "v");
  Napi::Object c = args.object(4, "config");
  const double lr = args.numField(c, "lr", "config"), b1 = args.numField(c, "beta1", "config");
  const double b2 = args.numField(c, "beta2", "config"), eps = args.numField(c, "epsilon", "config");
  const double step = args.numField(c, "step", "config"), wd = args.numField(c, "weightDecay", "config");
  if (!(step >= 1)) args.fail("config.step must be at least 1 (it is 1-based)");
  const int64_t n = p.size;
  sameLength(args, g, "grad", n);
  sameLength(args, m, "m", n);
  sameLength(args, v, "v", n);
  args.settle();  // no JS runs from here on
  const double alpha = lr * std::sqrt(1 - std::pow(b2, step)) / (1 - std::pow(b1, step));
  const double decay = 1 - lr * wd;
  float *pd = p.data, *md = m.data, *vd = v.data;
  const float* gd = g.data;
  const AdamConsts k{b1, b2, eps, alpha, decay};
  parallelFor(n, 8, [&](int64_t lo, int64_t hi) { adamLoop(k, pd + lo, gd + lo, md + lo, vd + lo, hi - lo); });
  return info.Env().Undefined();
}

// rmspropUpdate(param, grad, meanSquare, mom | null, meanGrad | null, {lr, rho, momentum, epsilon, centered})
//   ms = rho*ms + (1 - rho)*g²
//   centered: mg = rho*mg + (1 - rho)*g;  denom = ms - mg² + epsilon   else denom = ms + epsilon
//   inc = lr*g/sqrt(denom)
//   momentum > 0: mom = momentum*mom + inc;  p -= mom      else p -= inc
Napi::Value RmspropUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "rmspropUpdate", 6);
  F32 p = args.f32(0, "param"), g = args.f32(1, "grad"), ms = args.f32(2, "meanSquare");
  F32 mom = args.f32OrNull(3, "mom"), mg = args.f32OrNull(4, "meanGrad");
  Napi::Object c = args.object(5, "config");
  const double lr = args.numField(c, "lr", "config"), rho = args.numField(c, "rho", "config");
  const double momentum = args.numField(c, "momentum", "config"), eps = args.numField(c, "epsilon", "config");
  const bool centered = args.flagField(c, "centered", "config");
  const int64_t n = p.size;
  sameLength(args, g, "grad", n);
  sameLength(args, ms, "meanSquare", n);
  if (momentum != 0 && !mom.present) args.fail("mom must be a Float32Array when momentum is not 0");
  if (centered && !mg.present) args.fail("meanGrad must be a Float32Array when centered is true");
  if (mom.present) sameLength(args, mom, "mom", n);
  if (mg.present) sameLength(args, mg, "meanGrad", n);
  args.settle();  // no JS runs from here on
  float *pd = p.data, *msd = ms.data, *momd = mom.data, *mgd = mg.data;
  const float* gd = g.data;
  parallelFor(n, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double gi = gd[i];
      const double s = rho * msd[i] + (1 - rho) * gi * gi;
      msd[i] = static_cast<float>(s);
      double denom = s;
      if (centered) {
        const double a = rho * mgd[i] + (1 - rho) * gi;
        mgd[i] = static_cast<float>(a);
        denom -= a * a;
      }
      const double inc = lr * gi / std::sqrt(denom + eps);
      if (momentum != 0) {
        const double mo = momentum * momd[i] + inc;
        momd[i] = static_cast<float>(mo);
        pd[i] = static_cast<float>(pd[i] - mo);
      } else {
        pd[i] = static_cast<float>(pd[i] - inc);
      }
    }
  });
  return info.Env().Undefined();
}

AXON_KERNEL("sgdUpdate", SgdUpdate);
AXON_KERNEL("adamUpdate", AdamUpdate);
AXON_KERNEL("rmspropUpdate", RmspropUpdate);

}  // namespace axon
