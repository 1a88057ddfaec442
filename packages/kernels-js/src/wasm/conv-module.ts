/**
 * im2col and col2im for the SIMD conv path (conv.ts), generated with
 * assembler.ts: the same walk over receptive fields as conv.ts's
 * forEachPatchRun, on arrays in the module's memory, moving runs of floats
 * four at a time. All addresses are byte addresses.
 *
 *   im2col(x, H, W, cin, oh, ow, fh, fw, sh, sw, dh, dw, padTop, padLeft, r0, count, col)
 *     col[t, :] = the receptive field of output row r0 + t (zeros in the padding)
 *   col2im(same arguments)
 *     x += every col[t, :] scattered back to where im2col read it
 */
import { Func, I32 } from './assembler.js';
import { FN } from './layout.js';

/** copyRun(dst, src, n): n floats from src to dst. */
export function copyRun(): Func {
  return run(
    (f, dst, src) => {
      f.get(dst).get(src).v128Load().v128Store();
    },
    (f, dst, src) => {
      f.get(dst).get(src).f32Load().f32Store();
    },
  );
}

/** addRun(dst, src, n): dst[i] += src[i] for n floats. */
export function addRun(): Func {
  return run(
    (f, dst, src) => {
      f.get(dst).get(dst).v128Load().get(src).v128Load().f32x4Add().v128Store();
    },
    (f, dst, src) => {
      f.get(dst).get(dst).f32Load().get(src).f32Load().f32Add().f32Store();
    },
  );
}

/** zeroRun(dst, n): n zeros at dst. */
export function zeroRun(): Func {
  const f = new Func([I32, I32]);
  const dst = 0,
    n = 1;
  f.block(() =>
    f.loop(() => {
      f.get(n).i32(4).ltS().brIf(1);
      f.get(dst).f32x4Const(0).v128Store();
      f.get(dst).i32(16).add().set(dst);
      f.get(n).i32(4).sub().set(n);
      f.br(0);
    }),
  );
  f.block(() =>
    f.loop(() => {
      f.get(n).i32(1).ltS().brIf(1);
      f.get(dst).f32(0).f32Store();
      f.get(dst).i32(4).add().set(dst);
      f.get(n).i32(1).sub().set(n);
      f.br(0);
    }),
  );
  return f;
}

/** A function (dst, src, n) applying `vector` to runs of four floats and `scalar` to the rest. */
function run(vector: (f: Func, dst: number, src: number) => void, scalar: (f: Func, dst: number, src: number) => void): Func {
  const f = new Func([I32, I32, I32]);
  const dst = 0,
    src = 1,
    n = 2;
  f.block(() =>
    f.loop(() => {
      f.get(n).i32(4).ltS().brIf(1);
      vector(f, dst, src);
      f.get(dst).i32(16).add().set(dst);
      f.get(src).i32(16).add().set(src);
      f.get(n).i32(4).sub().set(n);
      f.br(0);
    }),
  );
  f.block(() =>
    f.loop(() => {
      f.get(n).i32(1).ltS().brIf(1);
      scalar(f, dst, src);
      f.get(dst).i32(4).add().set(dst);
      f.get(src).i32(4).add().set(src);
      f.get(n).i32(1).sub().set(n);
      f.br(0);
    }),
  );
  return f;
}

export function im2col(): Func {
  return patchWalk(FN.copyRun, true);
}

export function col2im(): Func {
  return patchWalk(FN.addRun, false);
}

/**
 * The walk over the receptive fields of output rows [r0, r0 + count): for each
 * run of a field inside the image, call(visit) with (col address, x address,
 * floats) — im2col copies x into col, col2im adds col into x — and for
 * padding, zeroRun on col when `zeroPadding`. A run is a whole filter row when
 * dw is 1 and the row lies inside the image, else `cin` floats.
 */
function patchWalk(visit: number, zeroPadding: boolean): Func {
  const f = new Func(Array<typeof I32>(17).fill(I32));
  const x = 0,
    H = 1,
    W = 2,
    cin = 3,
    oh = 4,
    ow = 5,
    fh = 6,
    fw = 7,
    sh = 8,
    sw = 9,
    dh = 10,
    dw = 11,
    padTop = 12,
    padLeft = 13,
    r0 = 14,
    count = 15,
    col = 16;
  const ox = f.local(I32),
    oy = f.local(I32),
    b = f.local(I32),
    rowRun = f.local(I32),
    patchBytes = f.local(I32),
    t = f.local(I32);
  const base = f.local(I32),
    x0 = f.local(I32),
    whole = f.local(I32),
    ky = f.local(I32),
    iy = f.local(I32),
    colRow = f.local(I32);
  const xRow = f.local(I32),
    kx = f.local(I32),
    ix = f.local(I32),
    cinBytes = f.local(I32),
    rowBytes = f.local(I32);
  // Visits col bytes [colAt, +4n) against x bytes [xAt, +4n) (emitters for the addresses).
  const visitRun = (colAt: () => void, xAt: () => void, n: () => void): void => {
    if (visit === FN.copyRun) {
      colAt();
      xAt();
    } else {
      xAt();
      colAt();
    }
    n();
    f.call(visit);
  };
  const zero = (colAt: () => void, n: () => void): void => {
    if (!zeroPadding) return;
    colAt();
    n();
    f.call(FN.zeroRun);
  };

  f.get(r0).get(ow).remS().set(ox);
  f.get(r0).get(ow).divS().get(oh).remS().set(oy);
  f.get(r0).get(ow).get(oh).mul().divS().set(b);
  f.get(fw).get(cin).mul().set(rowRun);
  f.get(rowRun).i32(2).shl().set(rowBytes);
  f.get(rowBytes).get(fh).mul().set(patchBytes);
  f.get(cin).i32(2).shl().set(cinBytes);
  f.get(col).set(base);
  f.forRange(
    t,
    () => f.i32(0),
    () => f.get(count),
    1,
    () => {
      f.get(ox).get(sw).mul().get(padLeft).sub().set(x0);
      f.get(dw).i32(1).eq().get(x0).i32(0).geS().and().get(x0).get(fw).add().get(W).leS().and().set(whole);
      f.forRange(
        ky,
        () => f.i32(0),
        () => f.get(fh),
        1,
        () => {
          f.get(oy).get(sh).mul().get(padTop).sub().get(ky).get(dh).mul().add().set(iy);
          f.get(base).get(ky).get(rowBytes).mul().add().set(colRow);
          // iy outside [0, H): unsigned compare catches negatives too.
          f.get(iy).get(H).ltU();
          f.if(
            () => {
              f.get(x).get(b).get(H).mul().get(iy).add().get(W).mul().get(cinBytes).mul().add().set(xRow);
              f.get(whole);
              f.if(
                () => {
                  visitRun(
                    () => f.get(colRow),
                    () => f.get(xRow).get(x0).get(cinBytes).mul().add(),
                    () => f.get(rowRun),
                  );
                },
                () => {
                  f.forRange(
                    kx,
                    () => f.i32(0),
                    () => f.get(fw),
                    1,
                    () => {
                      f.get(x0).get(kx).get(dw).mul().add().set(ix);
                      f.get(ix).get(W).ltU();
                      f.if(
                        () => {
                          visitRun(
                            () => f.get(colRow).get(kx).get(cinBytes).mul().add(),
                            () => f.get(xRow).get(ix).get(cinBytes).mul().add(),
                            () => f.get(cin),
                          );
                        },
                        zeroPadding
                          ? () =>
                              zero(
                                () => f.get(colRow).get(kx).get(cinBytes).mul().add(),
                                () => f.get(cin),
                              )
                          : undefined,
                      );
                    },
                  );
                },
              );
            },
            zeroPadding
              ? () =>
                  zero(
                    () => f.get(colRow),
                    () => f.get(rowRun),
                  )
              : undefined,
          );
        },
      );
      f.get(base).get(patchBytes).add().set(base);
      // Next output pixel: ox, then oy, then b.
      f.get(ox).i32(1).add().tee(ox).get(ow).eq();
      f.if(() => {
        f.i32(0).set(ox);
        f.get(oy).i32(1).add().tee(oy).get(oh).eq();
        f.if(() => {
          f.i32(0).set(oy);
          f.get(b).i32(1).add().set(b);
        });
      });
    },
  );
  return f;
}
