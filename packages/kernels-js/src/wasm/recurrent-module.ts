/**
 * The LSTM gate math of one step of a row group, generated with assembler.ts
 * (the products are gemmPacked's). Byte addresses; U a multiple of 4 (the
 * caller uses the TypeScript gate math otherwise).
 *
 * Activations in float32, four lanes at a time, chosen per run of U values
 * (actRun / dactRun branch on the code once per run, so the loops carry no
 * switch):
 *  - tanh: the rational approximation Eigen and TensorFlow use for float tanh
 *    (odd degree-13 over even degree-6 polynomial, one division, the input
 *    clamped to where the result rounds to exactly ±1, x itself below 4e-4):
 *    absolute error below 3e-7 — the native addon's fastTanh, vectorised;
 *  - sigmoid(x) = 0.5 + 0.5·tanh(x/2): absolute error below 2e-7, exactly 0
 *    and 1 in the limits;
 *  - hardSigmoid, relu, linear exactly as the TypeScript act() (relu maps NaN
 *    to 0 there, and here); tanh and sigmoid propagate NaN (f32x4.min/max do).
 * The derivatives from the output y are the TypeScript dact()'s.
 */
import { Func, I32, V128 } from './assembler.js';
import { FN } from './layout.js';

const TANH = 0,
  SIGMOID = 1,
  HARD_SIGMOID = 2,
  RELU = 3;

const P = [
  -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5, 6.37261928875436e-4,
  4.89352455891786e-3,
];
const Q = [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3];
const CLAMP = 7.905311107635498;

/** Leaves tanh(x) on the stack, x a v128 local; c, c2, p are scratch v128 locals. */
function tanh(f: Func, x: number, c: number, c2: number, p: number): void {
  f.get(x).f32x4Const(CLAMP).f32x4Min().f32x4Const(-CLAMP).f32x4Max().tee(c);
  f.get(c).f32x4Mul().set(c2);
  f.f32x4Const(P[0]!);
  for (let i = 1; i < P.length; i++) f.get(c2).f32x4Mul().f32x4Const(P[i]!).f32x4Add();
  f.set(p);
  f.get(c).get(p).f32x4Mul();
  f.f32x4Const(Q[0]!);
  for (let i = 1; i < Q.length; i++) f.get(c2).f32x4Mul().f32x4Const(Q[i]!).f32x4Add();
  f.f32x4Div().set(p);
  // |x| < 4e-4: x itself (the rational form loses relative accuracy there).
  f.get(x).get(p).get(x).f32x4Abs().f32x4Const(4e-4).f32x4Lt().bitselect();
}

/** Leaves act(code, x) on the stack. */
function activation(f: Func, code: number, x: number, t: [number, number, number, number]): void {
  const [c, c2, p, h] = t;
  switch (code) {
    case TANH:
      tanh(f, x, c, c2, p);
      return;
    case SIGMOID:
      f.get(x).f32x4Const(0.5).f32x4Mul().set(h);
      tanh(f, h, c, c2, p);
      f.f32x4Const(0.5).f32x4Mul().f32x4Const(0.5).f32x4Add();
      return;
    case HARD_SIGMOID:
      // x <= -2.5: 0; x >= 2.5: 1; else 0.2x + 0.5 (NaN stays NaN).
      f.f32x4Const(1);
      f.f32x4Const(0);
      f.get(x).f32x4Const(0.2).f32x4Mul().f32x4Const(0.5).f32x4Add();
      f.get(x).f32x4Const(-2.5).f32x4Le().bitselect();
      f.get(x).f32x4Const(2.5).f32x4Ge().bitselect();
      return;
    case RELU:
      f.get(x).f32x4Const(0).get(x).f32x4Const(0).f32x4Gt().bitselect();
      return;
    default:
      f.get(x);
  }
}

/** Leaves dact(code, y) on the stack. */
function derivative(f: Func, code: number, y: number): void {
  switch (code) {
    case TANH:
      f.f32x4Const(1).get(y).get(y).f32x4Mul().f32x4Sub();
      return;
    case SIGMOID:
      f.get(y).f32x4Const(1).get(y).f32x4Sub().f32x4Mul();
      return;
    case HARD_SIGMOID:
      f.f32x4Const(0.2).f32x4Const(0);
      f.get(y).f32x4Const(0).f32x4Gt().get(y).f32x4Const(1).f32x4Lt().v128And().bitselect();
      return;
    case RELU:
      f.f32x4Const(1).f32x4Const(0).get(y).f32x4Const(0).f32x4Gt().bitselect();
      return;
    default:
      f.f32x4Const(1);
  }
}

/** Emits `for (i = 0; i < n; i += 4) body(offset)` over a byte offset local o (n floats, a multiple of 4). */
function vectors(f: Func, o: number, n: () => void, body: () => void): void {
  const end = f.local(I32);
  n();
  f.i32(2).shl().set(end);
  f.forRange(
    o,
    () => f.i32(0),
    () => f.get(end),
    16,
    body,
  );
}

/** actRun(p, n, code): p[i] = act(code, p[i]) for n floats (n a multiple of 4). */
export function actRun(): Func {
  const f = new Func([I32, I32, I32]);
  const p = 0,
    n = 1,
    code = 2;
  const o = f.local(I32),
    x = f.local(V128);
  const t: [number, number, number, number] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  for (const k of [TANH, SIGMOID, HARD_SIGMOID, RELU]) {
    f.get(code).i32(k).eq();
    f.if(() => {
      vectors(
        f,
        o,
        () => f.get(n),
        () => {
          f.get(p).get(o).add().v128Load().set(x);
          f.get(p).get(o).add();
          activation(f, k, x, t);
          f.v128Store();
        },
      );
    });
  }
  return f;
}

/** dactRun(src, dst, n, code): dst[i] = dact(code, src[i]) for n floats (n a multiple of 4). */
export function dactRun(): Func {
  const f = new Func([I32, I32, I32, I32]);
  const src = 0,
    dst = 1,
    n = 2,
    code = 3;
  const o = f.local(I32),
    y = f.local(V128);
  for (const k of [TANH, SIGMOID, HARD_SIGMOID, RELU, 4]) {
    f.get(code).i32(k).eq();
    f.if(() => {
      vectors(
        f,
        o,
        () => f.get(n),
        () => {
          f.get(src).get(o).add().v128Load().set(y);
          f.get(dst).get(o).add();
          derivative(f, k, y);
          f.v128Store();
        },
      );
    });
  }
  return f;
}

/**
 * lstmForwardStep(z, rec, cPrev, hPrev, mask, r, U, fa, fr): for each of the
 * r rows, the step's gate block z [4U] (projections in) becomes
 * act(z + rec) (i, f, g, o), and the next states (at cPrev + 4rU, hPrev + 4rU)
 * c = f·c' + i·g, h = o·act(fa, c) — or c', h' where mask (an f32 per row;
 * -1: none) is 0.
 */
export function lstmForwardStep(): Func {
  const f = new Func(Array<typeof I32>(9).fill(I32));
  const z = 0,
    rec = 1,
    cPrev = 2,
    hPrev = 3,
    mask = 4,
    r = 5,
    U = 6,
    fa = 7,
    fr = 8;
  const b = f.local(I32),
    zr = f.local(I32),
    rr = f.local(I32),
    cp = f.local(I32),
    cn = f.local(I32),
    hp = f.local(I32),
    hn = f.local(I32);
  const o = f.local(I32),
    ub = f.local(I32),
    rowBytes = f.local(I32),
    gu = f.local(I32);
  const vi = f.local(V128),
    vf = f.local(V128),
    vg = f.local(V128);
  f.get(U).i32(2).shl().set(ub);
  f.get(r).get(ub).mul().set(rowBytes);
  f.get(U).i32(4).mul().set(gu);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(r),
    1,
    () => {
      f.get(z).get(b).get(ub).mul().i32(4).mul().add().set(zr);
      f.get(rec).get(b).get(ub).mul().i32(4).mul().add().set(rr);
      f.get(cPrev).get(b).get(ub).mul().add().tee(cp).get(rowBytes).add().set(cn);
      f.get(hPrev).get(b).get(ub).mul().add().tee(hp).get(rowBytes).add().set(hn);
      // z += rec, then the four activations in place.
      vectors(
        f,
        o,
        () => f.get(gu),
        () => {
          f.get(zr).get(o).add();
          f.get(zr).get(o).add().v128Load().get(rr).get(o).add().v128Load().f32x4Add();
          f.v128Store();
        },
      );
      f.get(zr).get(U).get(fr).call(FN.actRun);
      f.get(zr).get(ub).add().get(U).get(fr).call(FN.actRun);
      f.get(zr).get(ub).i32(2).mul().add().get(U).get(fa).call(FN.actRun);
      f.get(zr).get(ub).i32(3).mul().add().get(U).get(fr).call(FN.actRun);
      // Taken (no mask, or a non-zero mask value)?
      f.get(mask).i32(-1).eq();
      f.ifValue(
        I32,
        () => f.i32(1),
        () => f.get(mask).get(b).i32(2).shl().add().f32Load().f32(0).f32Ne(),
      );
      f.if(
        () => {
          vectors(
            f,
            o,
            () => f.get(U),
            () => {
              f.get(zr).get(o).add().v128Load().set(vi);
              f.get(zr).get(ub).add().get(o).add().v128Load().set(vf);
              f.get(zr).get(ub).i32(2).mul().add().get(o).add().v128Load().set(vg);
              f.get(cn).get(o).add();
              f.get(vf).get(cp).get(o).add().v128Load().f32x4Mul().get(vi).get(vg).f32x4Mul().f32x4Add();
              f.v128Store();
            },
          );
          // h = o · act(fa, c): c into h's row, activated there, times o.
          f.get(hn).get(cn).get(U).call(FN.copyRun);
          f.get(hn).get(U).get(fa).call(FN.actRun);
          vectors(
            f,
            o,
            () => f.get(U),
            () => {
              f.get(hn).get(o).add();
              f.get(hn).get(o).add().v128Load().get(zr).get(ub).i32(3).mul().add().get(o).add().v128Load().f32x4Mul();
              f.v128Store();
            },
          );
        },
        () => {
          f.get(cn).get(cp).get(U).call(FN.copyRun);
          f.get(hn).get(hp).get(U).call(FN.copyRun);
        },
      );
    },
  );
  return f;
}

/**
 * lstmBackwardStep(z, cPrev, go, dh, dc, dz, dhNext, mask, r, U, fa, fr, tmp):
 * for each of the r rows, from the step's gates z (i, f, g, o), the cell
 * states c' (cPrev) and c (cPrev + 4rU), the output gradient go and the
 * carried dh, dc: the gate gradients into dz [4U], dc carried one step back,
 * and dhNext = 0 (dh for a masked row, whose dz is 0 and dc unchanged). tmp:
 * U floats of scratch.
 */
export function lstmBackwardStep(): Func {
  const f = new Func(Array<typeof I32>(13).fill(I32));
  const z = 0,
    cPrev = 1,
    go = 2,
    dh = 3,
    dc = 4,
    dz = 5,
    dhNext = 6,
    mask = 7,
    r = 8,
    U = 9,
    fa = 10,
    fr = 11,
    tmp = 12;
  const b = f.local(I32),
    zr = f.local(I32),
    dzr = f.local(I32),
    cp = f.local(I32),
    cn = f.local(I32),
    ro = f.local(I32),
    o = f.local(I32);
  const ub = f.local(I32),
    rowBytes = f.local(I32),
    gu = f.local(I32),
    u2 = f.local(I32),
    u3 = f.local(I32);
  const dhn = f.local(V128),
    dcn = f.local(V128),
    tc = f.local(V128),
    vi = f.local(V128),
    vg = f.local(V128);
  f.get(U).i32(2).shl().set(ub);
  f.get(ub).i32(2).mul().set(u2);
  f.get(ub).i32(3).mul().set(u3);
  f.get(r).get(ub).mul().set(rowBytes);
  f.get(U).i32(4).mul().set(gu);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(r),
    1,
    () => {
      f.get(b).get(ub).mul().set(ro);
      f.get(z).get(ro).i32(4).mul().add().set(zr);
      f.get(dz).get(ro).i32(4).mul().add().set(dzr);
      f.get(cPrev).get(ro).add().tee(cp).get(rowBytes).add().set(cn);
      f.get(mask).i32(-1).eq();
      f.ifValue(
        I32,
        () => f.i32(1),
        () => f.get(mask).get(b).i32(2).shl().add().f32Load().f32(0).f32Ne(),
      );
      f.if(
        () => {
          // tc = act(fa, c) in dhNext's row (zeroed below), dact(fa, tc) in tmp, the gates' derivatives in dz's row.
          f.get(dhNext).get(ro).add().get(cn).get(U).call(FN.copyRun);
          f.get(dhNext).get(ro).add().get(U).get(fa).call(FN.actRun);
          f.get(dhNext).get(ro).add().get(tmp).get(U).get(fa).call(FN.dactRun);
          f.get(zr).get(dzr).get(U).get(fr).call(FN.dactRun);
          f.get(zr).get(ub).add().get(dzr).get(ub).add().get(U).get(fr).call(FN.dactRun);
          f.get(zr).get(u2).add().get(dzr).get(u2).add().get(U).get(fa).call(FN.dactRun);
          f.get(zr).get(u3).add().get(dzr).get(u3).add().get(U).get(fr).call(FN.dactRun);
          vectors(
            f,
            o,
            () => f.get(U),
            () => {
              const at = (base: number, extra?: number): void => {
                f.get(base);
                if (extra !== undefined) f.get(extra).add();
                f.get(o).add();
              };
              // dhn = dh + go; dcn = dc + dhn·o·dact(fa, tc)
              at(dh, ro);
              f.v128Load();
              at(go, ro);
              f.v128Load();
              f.f32x4Add().set(dhn);
              at(dhNext, ro);
              f.v128Load().set(tc);
              at(dc, ro);
              f.v128Load().get(dhn);
              at(zr, u3);
              f.v128Load();
              f.f32x4Mul();
              at(tmp);
              f.v128Load();
              f.f32x4Mul().f32x4Add().set(dcn);
              at(zr);
              f.v128Load().set(vi);
              at(zr, u2);
              f.v128Load().set(vg);
              // dz_i = dcn·g·i', dz_f = dcn·c'·f', dz_g = dcn·i·g', dz_o = dhn·tc·o'
              at(dzr);
              f.get(dcn).get(vg).f32x4Mul();
              at(dzr);
              f.v128Load().f32x4Mul().v128Store();
              at(dzr, ub);
              f.get(dcn);
              at(cp);
              f.v128Load().f32x4Mul();
              at(dzr, ub);
              f.v128Load().f32x4Mul().v128Store();
              at(dzr, u2);
              f.get(dcn).get(vi).f32x4Mul();
              at(dzr, u2);
              f.v128Load().f32x4Mul().v128Store();
              at(dzr, u3);
              f.get(dhn).get(tc).f32x4Mul();
              at(dzr, u3);
              f.v128Load().f32x4Mul().v128Store();
              // dc = dcn·f; dhNext = 0
              at(dc, ro);
              f.get(dcn);
              at(zr, ub);
              f.v128Load().f32x4Mul().v128Store();
              at(dhNext, ro);
              f.f32x4Const(0).v128Store();
            },
          );
        },
        () => {
          f.get(dzr).get(gu).call(FN.zeroRun);
          f.get(dhNext).get(ro).add().get(dh).get(ro).add().get(U).call(FN.copyRun);
        },
      );
    },
  );
  return f;
}
