/**
 * The per-layer epilogues and pooling of the SIMD path, generated with
 * assembler.ts (byte addresses; counts in floats). Each computes exactly what
 * the TypeScript loop it replaces computes (fused.ts, pool.ts): the same
 * float32 results bit for bit, NaNs included.
 *
 *   biasRelu(x, bias, y, rows, channels, relu):
 *     y = x + bias[c], then max(·, 0) when relu (NaN stays NaN, -0 becomes 0)
 *   reluGrad(y, dy, dx, n): dx = dy · (y > 0 ? 1 : 0)
 *   columnSums(x, rows, channels, sums): sums[c] (float64) += x[r, c] row by row
 *   maxPool(x, y, argmax, batch, H, W, C, oh, ow, fh, fw, sh, sw, padTop, padLeft):
 *     the first maximum of each window (NaN above everything) and its flat
 *     index into x; C a multiple of 4 (four channels per vector)
 *   maxPoolBackprop(dy, argmax, dx, nOut, nIn): dx = 0, then dx[argmax[i]] += dy[i]
 *     (skipping -1); returns -1, or the first i whose argmax is past nIn
 *   adam(p, g, m, v, n, beta1, 1 - beta1, beta2, 1 - beta2, lrT, decay, epsilon):
 *     optimizers.ts's Adam step for n values (a multiple of 4) in float64x2
 *     lanes, the same double operations in the same order: the same bits
 */
import { F32, F64, Func, I32, V128 } from './assembler.js';
import { FN } from './layout.js';

/** `for (o = 0; o < 4n; o += 16)` over whole vectors of n floats, then the scalar rest: vector(o) / scalar(o) with o a byte offset. */
function floats(f: Func, n: number, vector: (o: number) => void, scalar: (o: number) => void): void {
  const o = f.local(I32),
    vEnd = f.local(I32),
    end = f.local(I32);
  f.get(n).i32(2).shl().set(end);
  f.get(n).i32(-4).and().i32(2).shl().set(vEnd);
  f.forRange(
    o,
    () => f.i32(0),
    () => f.get(vEnd),
    16,
    () => vector(o),
  );
  f.forRange(
    o,
    () => f.get(vEnd),
    () => f.get(end),
    4,
    () => scalar(o),
  );
}

export function biasRelu(): Func {
  const f = new Func([I32, I32, I32, I32, I32, I32]);
  const x = 0,
    bias = 1,
    y = 2,
    rows = 3,
    channels = 4,
    relu = 5;
  const r = f.local(I32),
    row = f.local(I32),
    v = f.local(V128),
    s = f.local(F32);
  const rowBytes = f.local(I32);
  f.get(channels).i32(2).shl().set(rowBytes);
  // relu(v) = v > 0 ? v : (v is NaN ? v : 0): lanes where v <= 0 become 0 (NaN fails the compare and stays).
  const vector = (o: number): void => {
    f.get(y).get(row).add().get(o).add();
    f.get(x).get(row).add().get(o).add().v128Load().get(bias).get(o).add().v128Load().f32x4Add().set(v);
    f.get(relu);
    f.if(() => {
      f.f32x4Const(0).get(v).get(v).f32x4Const(0).f32x4Le().bitselect().set(v);
    });
    f.get(v).v128Store();
  };
  const scalar = (o: number): void => {
    f.get(y).get(row).add().get(o).add();
    f.get(x).get(row).add().get(o).add().f32Load().get(bias).get(o).add().f32Load().f32Add().set(s);
    f.get(relu);
    f.if(() => {
      f.f32(0).get(s).get(s).f32(0).f32Le().select().set(s);
    });
    f.get(s).f32Store();
  };
  f.forRange(
    r,
    () => f.i32(0),
    () => f.get(rows),
    1,
    () => {
      f.get(r).get(rowBytes).mul().set(row);
      floats(f, channels, vector, scalar);
    },
  );
  return f;
}

export function reluGrad(): Func {
  const f = new Func([I32, I32, I32, I32]);
  const y = 0,
    dy = 1,
    dx = 2,
    n = 3;
  floats(
    f,
    n,
    (o) => {
      f.get(dx).get(o).add();
      f.get(dy).get(o).add().v128Load();
      f.f32x4Const(1).f32x4Const(0).get(y).get(o).add().v128Load().f32x4Const(0).f32x4Gt().bitselect();
      f.f32x4Mul().v128Store();
    },
    (o) => {
      f.get(dx).get(o).add();
      f.get(dy).get(o).add().f32Load();
      f.f32(1).f32(0).get(y).get(o).add().f32Load().f32(0).f32Gt().select();
      f.f32Mul().f32Store();
    },
  );
  return f;
}

export function columnSums(): Func {
  const f = new Func([I32, I32, I32, I32]);
  const x = 0,
    rows = 1,
    channels = 2,
    sums = 3;
  const r = f.local(I32),
    row = f.local(I32),
    v = f.local(V128),
    rowBytes = f.local(I32);
  f.get(channels).i32(2).shl().set(rowBytes);
  f.forRange(
    r,
    () => f.i32(0),
    () => f.get(rows),
    1,
    () => {
      f.get(x).get(r).get(rowBytes).mul().add().set(row);
      floats(
        f,
        channels,
        (o) => {
          // Channels c..c+3: float64 sums at sums + 2o.
          f.get(row).get(o).add().v128Load().set(v);
          f.get(sums).get(o).i32(1).shl().add();
          f.get(sums).get(o).i32(1).shl().add().v128Load().get(v).f64x2PromoteLow().f64x2Add().v128Store();
          f.get(sums).get(o).i32(1).shl().add();
          f.get(sums)
            .get(o)
            .i32(1)
            .shl()
            .add()
            .v128Load(16)
            .get(v)
            .get(v)
            .shuffle32([2, 3, 0, 1])
            .f64x2PromoteLow()
            .f64x2Add()
            .v128Store(16);
        },
        (o) => {
          f.get(sums).get(o).i32(1).shl().add();
          f.get(sums).get(o).i32(1).shl().add().f64Load().get(row).get(o).add().f32Load().f64Promote().f64Add().f64Store();
        },
      );
    },
  );
  return f;
}

export function maxPool(): Func {
  const f = new Func(Array<typeof I32>(15).fill(I32));
  const x = 0,
    y = 1,
    argmax = 2,
    batch = 3,
    H = 4,
    W = 5,
    C = 6,
    oh = 7,
    ow = 8,
    fh = 9,
    fw = 10,
    sh = 11,
    sw = 12,
    padTop = 13,
    padLeft = 14;
  const b = f.local(I32),
    oy = f.local(I32),
    ox = f.local(I32),
    y0 = f.local(I32),
    y1 = f.local(I32),
    x0 = f.local(I32),
    x1 = f.local(I32);
  const top = f.local(I32),
    left = f.local(I32),
    out = f.local(I32),
    c = f.local(I32),
    first = f.local(I32),
    iy = f.local(I32),
    ix = f.local(I32),
    tap = f.local(I32);
  const best = f.local(V128),
    arg = f.local(V128),
    v = f.local(V128),
    m = f.local(V128),
    iota = f.local(V128);
  const clampTo = (dst: number, value: () => void, lo: boolean, bound: () => void): void => {
    // dst = lo ? max(value, bound) : min(value, bound)
    value();
    bound();
    value();
    bound();
    if (lo) f.gtS();
    else f.ltS();
    f.select().set(dst);
  };
  f.i32x4Iota();
  f.set(iota);
  f.i32(0).set(out);
  f.forRange(
    b,
    () => f.i32(0),
    () => f.get(batch),
    1,
    () => {
      f.forRange(
        oy,
        () => f.i32(0),
        () => f.get(oh),
        1,
        () => {
          f.get(oy).get(sh).mul().get(padTop).sub().set(top);
          clampTo(
            y0,
            () => f.get(top),
            true,
            () => f.i32(0),
          );
          clampTo(
            y1,
            () => f.get(top).get(fh).add(),
            false,
            () => f.get(H),
          );
          f.forRange(
            ox,
            () => f.i32(0),
            () => f.get(ow),
            1,
            () => {
              f.get(ox).get(sw).mul().get(padLeft).sub().set(left);
              clampTo(
                x0,
                () => f.get(left),
                true,
                () => f.i32(0),
              );
              clampTo(
                x1,
                () => f.get(left).get(fw).add(),
                false,
                () => f.get(W),
              );
              f.get(y0).get(y1).geS().get(x0).get(x1).geS().or32();
              f.if(
                () => {
                  // A window entirely in the padding: -Infinity, argmax -1.
                  f.forRange(
                    c,
                    () => f.i32(0),
                    () => f.get(C),
                    4,
                    () => {
                      f.get(y).get(out).get(c).add().i32(2).shl().add().f32x4Const(-Infinity).v128Store();
                      f.get(argmax).get(out).get(c).add().i32(2).shl().add().i32(-1).i32x4Splat().v128Store();
                    },
                  );
                },
                () => {
                  f.get(b).get(H).mul().get(y0).add().get(W).mul().get(x0).add().get(C).mul().set(first);
                  f.forRange(
                    c,
                    () => f.i32(0),
                    () => f.get(C),
                    4,
                    () => {
                      f.get(x).get(first).get(c).add().i32(2).shl().add().v128Load().set(best);
                      f.get(first).get(c).add().i32x4Splat().get(iota).i32x4Add().set(arg);
                      f.forRange(
                        iy,
                        () => f.get(y0),
                        () => f.get(y1),
                        1,
                        () => {
                          f.forRange(
                            ix,
                            () => f.get(x0),
                            () => f.get(x1),
                            1,
                            () => {
                              f.get(b).get(H).mul().get(iy).add().get(W).mul().get(ix).add().get(C).mul().get(c).add().set(tap);
                              // The first tap seeded the maximum; later ones replace it when larger, or NaN while it is not.
                              f.get(tap).get(first).get(c).add().ne();
                              f.if(() => {
                                f.get(x).get(tap).i32(2).shl().add().v128Load().set(v);
                                f.get(v).get(best).f32x4Le().v128Not().get(best).get(best).f32x4Eq().v128And().set(m);
                                f.get(v).get(best).get(m).bitselect().set(best);
                                f.get(tap).i32x4Splat().get(iota).i32x4Add().get(arg).get(m).bitselect().set(arg);
                              });
                            },
                          );
                        },
                      );
                      f.get(y).get(out).get(c).add().i32(2).shl().add().get(best).v128Store();
                      f.get(argmax).get(out).get(c).add().i32(2).shl().add().get(arg).v128Store();
                    },
                  );
                },
              );
              f.get(out).get(C).add().set(out);
            },
          );
        },
      );
    },
  );
  return f;
}

export function maxPoolBackprop(): Func {
  const f = new Func([I32, I32, I32, I32, I32], [I32]);
  const dy = 0,
    argmax = 1,
    dx = 2,
    nOut = 3,
    nIn = 4;
  const i = f.local(I32),
    j = f.local(I32),
    at = f.local(I32);
  f.get(dx).get(nIn).call(FN.zeroRun);
  f.forRange(
    i,
    () => f.i32(0),
    () => f.get(nOut),
    1,
    () => {
      f.get(argmax).get(i).i32(2).shl().add().i32Load().tee(j).i32(0).geS();
      f.if(() => {
        f.get(j).get(nIn).geS();
        f.if(() => {
          f.get(i).return();
        });
        f.get(dx).get(j).i32(2).shl().add().tee(at);
        f.get(at).f32Load().get(dy).get(i).i32(2).shl().add().f32Load().f32Add().f32Store();
      });
    },
  );
  f.i32(-1);
  return f;
}

export function adam(): Func {
  const f = new Func([I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F64, F64]);
  const p = 0,
    g = 1,
    m = 2,
    v = 3,
    n = 4,
    beta1 = 5,
    c1 = 6,
    beta2 = 7,
    c2 = 8,
    lrT = 9,
    decay = 10,
    eps = 11;
  const o = f.local(I32),
    end = f.local(I32);
  const k = [beta1, c1, beta2, c2, lrT, decay, eps].map((param) => {
    const l = f.local(V128);
    f.get(param).f64x2Splat().set(l);
    return l;
  });
  const [B1, C1, B2, C2, LR, DECAY, EPS] = k as [number, number, number, number, number, number, number];
  const G = f.local(V128),
    M = f.local(V128),
    V = f.local(V128),
    P = f.local(V128);
  const gh = f.local(V128),
    mi = f.local(V128),
    vi = f.local(V128);
  const outM = [f.local(V128), f.local(V128)],
    outV = [f.local(V128), f.local(V128)],
    outP = [f.local(V128), f.local(V128)];
  /** Leaves lanes 0-1 (half 0) or 2-3 (half 1) of the f32x4 local x as an f64x2. */
  const half = (x: number, h: number): void => {
    f.get(x);
    if (h === 1) f.get(x).shuffle32([2, 3, 0, 1]);
    f.f64x2PromoteLow();
  };
  f.get(n).i32(2).shl().set(end);
  f.forRange(
    o,
    () => f.i32(0),
    () => f.get(end),
    16,
    () => {
      f.get(g).get(o).add().v128Load().set(G);
      f.get(m).get(o).add().v128Load().set(M);
      f.get(v).get(o).add().v128Load().set(V);
      f.get(p).get(o).add().v128Load().set(P);
      for (const h of [0, 1]) {
        half(G, h);
        f.set(gh);
        // mi = beta1·m + (1 - beta1)·g
        f.get(B1);
        half(M, h);
        f.f64x2Mul().get(C1).get(gh).f64x2Mul().f64x2Add().set(mi);
        // vi = beta2·v + (1 - beta2)·g·g
        f.get(B2);
        half(V, h);
        f.f64x2Mul().get(C2).get(gh).f64x2Mul().get(gh).f64x2Mul().f64x2Add().set(vi);
        // p·decay - (lrT·mi) / (sqrt(vi) + epsilon)
        half(P, h);
        f.get(DECAY).f64x2Mul().get(LR).get(mi).f64x2Mul().get(vi).f64x2Sqrt().get(EPS).f64x2Add().f64x2Div().f64x2Sub().set(outP[h]!);
        f.get(mi).set(outM[h]!);
        f.get(vi).set(outV[h]!);
      }
      for (const [base, out] of [
        [m, outM],
        [v, outV],
        [p, outP],
      ] as const) {
        f.get(base).get(o).add();
        f.get(out[0]!).f32x4DemoteZero().get(out[1]!).f32x4DemoteZero().shuffle32([0, 1, 4, 5]).v128Store();
      }
    },
  );
  return f;
}
