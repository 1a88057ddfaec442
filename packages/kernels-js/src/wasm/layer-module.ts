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
 */
import { F32, Func, I32, V128 } from './assembler.js';

/** `for (o = 0; o < 4n; o += 16)` over whole vectors of n floats, then the scalar rest: vector(o) / scalar(o) with o a byte offset. */
function floats(f: Func, n: number, vector: (o: number) => void, scalar: (o: number) => void): void {
  const o = f.local(I32), vEnd = f.local(I32), end = f.local(I32);
  f.get(n).i32(2).shl().set(end);
  f.get(n).i32(-4).and().i32(2).shl().set(vEnd);
  f.forRange(o, () => f.i32(0), () => f.get(vEnd), 16, () => vector(o));
  f.forRange(o, () => f.get(vEnd), () => f.get(end), 4, () => scalar(o));
}

export function biasRelu(): Func {
  const f = new Func([I32, I32, I32, I32, I32, I32]);
  const x = 0, bias = 1, y = 2, rows = 3, channels = 4, relu = 5;
  const r = f.local(I32), row = f.local(I32), v = f.local(V128), s = f.local(F32);
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
  f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(r).get(rowBytes).mul().set(row);
    floats(f, channels, vector, scalar);
  });
  return f;
}

export function reluGrad(): Func {
  const f = new Func([I32, I32, I32, I32]);
  const y = 0, dy = 1, dx = 2, n = 3;
  floats(f, n, (o) => {
    f.get(dx).get(o).add();
    f.get(dy).get(o).add().v128Load();
    f.f32x4Const(1).f32x4Const(0).get(y).get(o).add().v128Load().f32x4Const(0).f32x4Gt().bitselect();
    f.f32x4Mul().v128Store();
  }, (o) => {
    f.get(dx).get(o).add();
    f.get(dy).get(o).add().f32Load();
    f.f32(1).f32(0).get(y).get(o).add().f32Load().f32(0).f32Gt().select();
    f.f32Mul().f32Store();
  });
  return f;
}

export function columnSums(): Func {
  const f = new Func([I32, I32, I32, I32]);
  const x = 0, rows = 1, channels = 2, sums = 3;
  const r = f.local(I32), row = f.local(I32), v = f.local(V128), rowBytes = f.local(I32);
  f.get(channels).i32(2).shl().set(rowBytes);
  f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(x).get(r).get(rowBytes).mul().add().set(row);
    floats(f, channels, (o) => {
      // Channels c..c+3: float64 sums at sums + 2o.
      f.get(row).get(o).add().v128Load().set(v);
      f.get(sums).get(o).i32(1).shl().add();
      f.get(sums).get(o).i32(1).shl().add().v128Load().get(v).f64x2PromoteLow().f64x2Add().v128Store();
      f.get(sums).get(o).i32(1).shl().add();
      f.get(sums).get(o).i32(1).shl().add().v128Load(16).get(v).get(v).shuffle32([2, 3, 0, 1]).f64x2PromoteLow().f64x2Add().v128Store(16);
    }, (o) => {
      f.get(sums).get(o).i32(1).shl().add();
      f.get(sums).get(o).i32(1).shl().add().f64Load().get(row).get(o).add().f32Load().f64Promote().f64Add().f64Store();
    });
  });
  return f;
}

export function maxPool(): Func {
  const f = new Func(Array<typeof I32>(15).fill(I32));
  const x = 0, y = 1, argmax = 2, batch = 3, H = 4, W = 5, C = 6, oh = 7, ow = 8, fh = 9, fw = 10, sh = 11, sw = 12, padTop = 13, padLeft = 14;
  const b = f.local(I32), oy = f.local(I32), ox = f.local(I32), y0 = f.local(I32), y1 = f.local(I32), x0 = f.local(I32), x1 = f.local(I32);
  const top = f.local(I32), left = f.local(I32), out = f.local(I32), c = f.local(I32), first = f.local(I32), iy = f.local(I32), ix = f.local(I32), tap = f.local(I32);
  const best = f.local(V128), arg = f.local(V128), v = f.local(V128), m = f.local(V128), iota = f.local(V128);
  const clampTo = (dst: number, value: () => void, lo: boolean, bound: () => void): void => {
    // dst = lo ? max(value, bound) : min(value, bound)
    value(); bound(); value(); bound();
    if (lo) f.gtS(); else f.ltS();
    f.select().set(dst);
  };
  f.i32x4Iota();
  f.set(iota);
  f.i32(0).set(out);
  f.forRange(b, () => f.i32(0), () => f.get(batch), 1, () => {
    f.forRange(oy, () => f.i32(0), () => f.get(oh), 1, () => {
      f.get(oy).get(sh).mul().get(padTop).sub().set(top);
      clampTo(y0, () => f.get(top), true, () => f.i32(0));
      clampTo(y1, () => f.get(top).get(fh).add(), false, () => f.get(H));
      f.forRange(ox, () => f.i32(0), () => f.get(ow), 1, () => {
        f.get(ox).get(sw).mul().get(padLeft).sub().set(left);
        clampTo(x0, () => f.get(left), true, () => f.i32(0));
        clampTo(x1, () => f.get(left).get(fw).add(), false, () => f.get(W));
        f.get(y0).get(y1).geS().get(x0).get(x1).geS().or32();
        f.if(() => {
          // A window entirely in the padding: -Infinity, argmax -1.
          f.forRange(c, () => f.i32(0), () => f.get(C), 4, () => {
            f.get(y).get(out).get(c).add().i32(2).shl().add().f32x4Const(-Infinity).v128Store();
            f.get(argmax).get(out).get(c).add().i32(2).shl().add().i32(-1).i32x4Splat().v128Store();
          });
        }, () => {
          f.get(b).get(H).mul().get(y0).add().get(W).mul().get(x0).add().get(C).mul().set(first);
          f.forRange(c, () => f.i32(0), () => f.get(C), 4, () => {
            f.get(x).get(first).get(c).add().i32(2).shl().add().v128Load().set(best);
            f.get(first).get(c).add().i32x4Splat().get(iota).i32x4Add().set(arg);
            f.forRange(iy, () => f.get(y0), () => f.get(y1), 1, () => {
              f.forRange(ix, () => f.get(x0), () => f.get(x1), 1, () => {
                f.get(b).get(H).mul().get(iy).add().get(W).mul().get(ix).add().get(C).mul().get(c).add().set(tap);
                // The first tap seeded the maximum; later ones replace it when larger, or NaN while it is not.
                f.get(tap).get(first).get(c).add().ne();
                f.if(() => {
                  f.get(x).get(tap).i32(2).shl().add().v128Load().set(v);
                  f.get(v).get(best).f32x4Le().v128Not().get(best).get(best).f32x4Eq().v128And().set(m);
                  f.get(v).get(best).get(m).bitselect().set(best);
                  f.get(tap).i32x4Splat().get(iota).i32x4Add().get(arg).get(m).bitselect().set(arg);
                });
              });
            });
            f.get(y).get(out).get(c).add().i32(2).shl().add().get(best).v128Store();
            f.get(argmax).get(out).get(c).add().i32(2).shl().add().get(arg).v128Store();
          });
        });
        f.get(out).get(C).add().set(out);
      });
    });
  });
  return f;
}
