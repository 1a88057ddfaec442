/**
 * The WebAssembly SIMD GEMM, generated with assembler.ts: the BLIS blocking of
 * gemm.ts with float32 panels and a 4×8 f32x4 micro-kernel.
 *
 *   gemm(a, rsA, csA, b, rsB, csB, c, ldc, m, n, k, alpha):
 *     C (m×n at byte address c, row stride ldc) += alpha · op(A) · op(B)
 *   where op(A)[r][p] is the f32 at a + 4·(r·rsA + p·csA), op(B)[p][j] at
 *   b + 4·(p·rsB + j·csB). The caller has applied beta to C already, and
 *   k >= 1.
 *
 * For each KC-deep slab, a KC×NC block of op(B) is packed into 8-column panels
 * and an MC×KC block of op(A) into 4-row panels (zero-padded at the edges,
 * so the micro-kernel never branches). The micro-kernel keeps a 4×8 tile of C
 * in eight f32x4 accumulators: per step p it loads the two vectors of B's
 * panel row, splats each of the four A values, and does eight mul + add
 * (no FMA: relaxed SIMD is behind a flag in Node 20). Each cell's sum is
 * therefore Σ_p a·b in float32, in order of p within a slab, then
 * c + alpha·sum per slab, whatever the tile or block the cell falls in: an
 * edge tile stores its accumulators to a scratch tile and adds the valid cells
 * with the same scalar f32 operations (mul, then add), so a GEMM split into
 * blocks is bit for bit the GEMM computed whole.
 *
 * Tile shape, measured in V8 (Node 20, AMD EPYC, GFLOP/s of the macro-kernel
 * on a 96×256×256 block; the machine was shared, so ranges): 4×8 27–48,
 * 2×16 28–45, 4×12 21–27, 6×8 22–28, 3×16 21–27, 4×16 19–27, 8×8 18–24.
 * Larger tiles spill: V8 does not keep more than about a dozen v128 locals in
 * registers across the loop.
 */
import { F32, Func, I32, V128 } from './assembler.js';
import { FN, PACK_A, PACK_B, SIMD_KC, SIMD_MC, SIMD_MR, SIMD_NC, SIMD_NR, TILE } from './layout.js';

const MR = SIMD_MR,
  NR = SIMD_NR,
  KC = SIMD_KC,
  MC = SIMD_MC,
  NC = SIMD_NC;

/** Emits min(x, y) of two i32 locals. */
export function min(f: Func, x: number, y: number): void {
  f.get(x).get(y).get(x).get(y).ltS().select();
}

/** Emits `dst = base + 4·index` where index is what `index` emits. */
export function addr(f: Func, base: number, index: () => void, dst: number): void {
  f.get(base);
  index();
  f.i32(2).shl().add().set(dst);
}

/**
 * packA(src, rs, cs, mb, kb): the mb×kb block of A at src into 4-row panels at
 * PACK_A: panel q holds, for each p, the values of rows 4q..4q+3 at column p.
 * Rows past mb are zeros. Whole panels have two vector paths: rows adjacent
 * in memory (op(A) = Aᵀ, rs = 1) move one vector per p; contiguous rows
 * (cs = 1, as an im2col matrix) move as 4×4 blocks transposed in registers.
 */
export function packA(): Func {
  const f = new Func([I32, I32, I32, I32, I32]);
  const src = 0,
    rs = 1,
    cs = 2,
    mb = 3,
    kb = 4;
  const ir = f.local(I32),
    r = f.local(I32),
    p = f.local(I32),
    panel = f.local(I32),
    s = f.local(I32),
    d = f.local(I32),
    row = f.local(I32);
  const s1 = f.local(I32),
    s2 = f.local(I32),
    s3 = f.local(I32),
    rowBytes = f.local(I32);
  const r0 = f.local(V128),
    r1 = f.local(V128),
    r2 = f.local(V128),
    r3 = f.local(V128);
  const t0 = f.local(V128),
    t1 = f.local(V128),
    t2 = f.local(V128),
    t3 = f.local(V128);
  f.get(rs).i32(2).shl().set(rowBytes);
  f.forRange(
    ir,
    () => f.i32(0),
    () => f.get(mb),
    MR,
    () => {
      f.i32(PACK_A).get(ir).get(kb).mul().i32(2).shl().add().set(panel);
      f.get(ir).i32(MR).add().get(mb).leS();
      f.if(
        () => {
          f.get(rs).i32(1).eq();
          f.if(
            () => {
              addr(f, src, () => f.get(ir), s);
              f.get(panel).set(d);
              f.forRange(
                p,
                () => f.i32(0),
                () => f.get(kb),
                1,
                () => {
                  f.get(d).get(s).v128Load().v128Store();
                  f.get(d).i32(16).add().set(d);
                  f.get(s).get(cs).i32(2).shl().add().set(s);
                },
              );
            },
            () => {
              f.get(cs).i32(1).eq();
              f.if(
                () => {
                  addr(f, src, () => f.get(ir).get(rs).mul(), s);
                  f.get(s).get(rowBytes).add().set(s1);
                  f.get(s1).get(rowBytes).add().set(s2);
                  f.get(s2).get(rowBytes).add().set(s3);
                  f.get(panel).set(d);
                  f.i32(0).set(p);
                  // Four columns at a time: a 4×4 block, transposed with eight shuffles.
                  f.block(() => {
                    f.loop(() => {
                      f.get(p).i32(4).add().get(kb).gtS().brIf(1);
                      f.get(s).v128Load().set(r0);
                      f.get(s1).v128Load().set(r1);
                      f.get(s2).v128Load().set(r2);
                      f.get(s3).v128Load().set(r3);
                      f.get(r0).get(r1).shuffle32([0, 4, 1, 5]).set(t0);
                      f.get(r0).get(r1).shuffle32([2, 6, 3, 7]).set(t1);
                      f.get(r2).get(r3).shuffle32([0, 4, 1, 5]).set(t2);
                      f.get(r2).get(r3).shuffle32([2, 6, 3, 7]).set(t3);
                      f.get(d).get(t0).get(t2).shuffle32([0, 1, 4, 5]).v128Store(0);
                      f.get(d).get(t0).get(t2).shuffle32([2, 3, 6, 7]).v128Store(16);
                      f.get(d).get(t1).get(t3).shuffle32([0, 1, 4, 5]).v128Store(32);
                      f.get(d).get(t1).get(t3).shuffle32([2, 3, 6, 7]).v128Store(48);
                      for (const q of [s, s1, s2, s3]) f.get(q).i32(16).add().set(q);
                      f.get(d).i32(64).add().set(d);
                      f.get(p).i32(4).add().set(p);
                      f.br(0);
                    });
                  });
                  // The last kb % 4 columns one by one.
                  f.block(() => {
                    f.loop(() => {
                      f.get(p).get(kb).geS().brIf(1);
                      [s, s1, s2, s3].forEach((q, i) =>
                        f
                          .get(d)
                          .get(q)
                          .f32Load()
                          .f32Store(4 * i),
                      );
                      for (const q of [s, s1, s2, s3]) f.get(q).i32(4).add().set(q);
                      f.get(d).i32(16).add().set(d);
                      f.get(p).i32(1).add().set(p);
                      f.br(0);
                    });
                  });
                },
                () => packARows(f, src, rs, cs, mb, kb, ir, r, p, panel, s, d, row),
              );
            },
          );
        },
        () => packARows(f, src, rs, cs, mb, kb, ir, r, p, panel, s, d, row),
      );
    },
  );
  return f;
}

/** packA's general path for one panel: row by row, scalar, zeros past mb. */
function packARows(
  f: Func,
  src: number,
  rs: number,
  cs: number,
  mb: number,
  kb: number,
  ir: number,
  r: number,
  p: number,
  panel: number,
  s: number,
  d: number,
  row: number,
): void {
  f.forRange(
    r,
    () => f.i32(0),
    () => f.i32(MR),
    1,
    () => {
      f.get(panel).get(r).i32(2).shl().add().set(d);
      f.get(ir).get(r).add().tee(row).get(mb).ltS();
      f.if(
        () => {
          addr(f, src, () => f.get(row).get(rs).mul(), s);
          f.forRange(
            p,
            () => f.i32(0),
            () => f.get(kb),
            1,
            () => {
              f.get(d).get(s).f32Load().f32Store();
              f.get(d)
                .i32(4 * MR)
                .add()
                .set(d);
              f.get(s).get(cs).i32(2).shl().add().set(s);
            },
          );
        },
        () => {
          f.forRange(
            p,
            () => f.i32(0),
            () => f.get(kb),
            1,
            () => {
              f.get(d).f32(0).f32Store();
              f.get(d)
                .i32(4 * MR)
                .add()
                .set(d);
            },
          );
        },
      );
    },
  );
}

/**
 * packB(src, rs, cs, kb, nb, dst): the kb×nb block of B at src into 8-column
 * panels at dst (PACK_B, or a caller's buffer for weights packed once): panel
 * q holds, for each p, columns 8q..8q+7 of row p. Columns past nb are zeros.
 */
export function packB(): Func {
  const f = new Func([I32, I32, I32, I32, I32, I32]);
  const src = 0,
    rs = 1,
    cs = 2,
    kb = 3,
    nb = 4,
    dst = 5;
  const jr = f.local(I32),
    col = f.local(I32),
    p = f.local(I32),
    panel = f.local(I32),
    s = f.local(I32),
    d = f.local(I32),
    j = f.local(I32);
  f.forRange(
    jr,
    () => f.i32(0),
    () => f.get(nb),
    NR,
    () => {
      f.get(dst).get(jr).get(kb).mul().i32(2).shl().add().set(panel);
      // A whole panel from contiguous rows of B: two vectors per p.
      f.get(cs).i32(1).eq().get(jr).i32(NR).add().get(nb).leS().and();
      f.if(
        () => {
          addr(f, src, () => f.get(jr), s);
          f.get(panel).set(d);
          f.forRange(
            p,
            () => f.i32(0),
            () => f.get(kb),
            1,
            () => {
              f.get(d).get(s).v128Load().v128Store();
              f.get(d).get(s).v128Load(16).v128Store(16);
              f.get(d).i32(32).add().set(d);
              f.get(s).get(rs).i32(2).shl().add().set(s);
            },
          );
        },
        () => {
          f.forRange(
            col,
            () => f.i32(0),
            () => f.i32(NR),
            1,
            () => {
              f.get(panel).get(col).i32(2).shl().add().set(d);
              f.get(jr).get(col).add().tee(j).get(nb).ltS();
              f.if(
                () => {
                  addr(f, src, () => f.get(j).get(cs).mul(), s);
                  f.forRange(
                    p,
                    () => f.i32(0),
                    () => f.get(kb),
                    1,
                    () => {
                      f.get(d).get(s).f32Load().f32Store();
                      f.get(d)
                        .i32(4 * NR)
                        .add()
                        .set(d);
                      f.get(s).get(rs).i32(2).shl().add().set(s);
                    },
                  );
                },
                () => {
                  f.forRange(
                    p,
                    () => f.i32(0),
                    () => f.get(kb),
                    1,
                    () => {
                      f.get(d).f32(0).f32Store();
                      f.get(d)
                        .i32(4 * NR)
                        .add()
                        .set(d);
                    },
                  );
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * macro(mb, nb, kb, c, ldcBytes, alpha): C (mb×nb at c) += alpha · packed A ·
 * packed B, one 4×8 micro-tile at a time, B's panel in the outer loop (its
 * 8 KB sliver stays in L1 while the A panels stream from L2).
 */
export function macro(): Func {
  const f = new Func([I32, I32, I32, I32, I32, F32, I32, I32, I32]);
  const mb = 0,
    nb = 1,
    kb = 2,
    c = 3,
    ldc = 4,
    alpha = 5,
    loadC = 6,
    bBase = 7,
    bStride = 8;
  const jr = f.local(I32),
    ir = f.local(I32),
    p = f.local(I32),
    ap = f.local(I32),
    bp = f.local(I32),
    cp = f.local(I32);
  const r = f.local(I32),
    j = f.local(I32),
    rows = f.local(I32),
    cols = f.local(I32),
    t = f.local(I32),
    cr = f.local(I32);
  const alphaV = f.local(V128),
    b0 = f.local(V128),
    b1 = f.local(V128),
    av = f.local(V128),
    zero = f.local(V128);
  const acc: number[] = [];
  for (let i = 0; i < 2 * MR; i++) acc.push(f.local(V128));
  f.get(alpha).f32x4Splat().set(alphaV);
  f.f32x4Const(0).set(zero);
  f.forRange(
    jr,
    () => f.i32(0),
    () => f.get(nb),
    NR,
    () => {
      f.forRange(
        ir,
        () => f.i32(0),
        () => f.get(mb),
        MR,
        () => {
          f.i32(PACK_A).get(ir).get(kb).mul().i32(2).shl().add().set(ap);
          f.get(bBase).get(jr).i32(3).shr().get(bStride).mul().add().set(bp);
          for (const v of acc) f.f32x4Const(0).set(v);
          f.get(kb).set(p);
          f.loop(() => {
            f.get(bp).v128Load(0).set(b0);
            f.get(bp).v128Load(16).set(b1);
            for (let i = 0; i < MR; i++) {
              f.get(ap)
                .load32Splat(4 * i)
                .set(av);
              f.get(acc[2 * i]!)
                .get(av)
                .get(b0)
                .f32x4Mul()
                .f32x4Add()
                .set(acc[2 * i]!);
              f.get(acc[2 * i + 1]!)
                .get(av)
                .get(b1)
                .f32x4Mul()
                .f32x4Add()
                .set(acc[2 * i + 1]!);
            }
            f.get(ap)
              .i32(4 * MR)
              .add()
              .set(ap);
            f.get(bp)
              .i32(4 * NR)
              .add()
              .set(bp);
            f.get(p).i32(1).sub().tee(p).brIf(0);
          });
          f.get(c).get(ir).get(ldc).mul().add().get(jr).i32(2).shl().add().set(cp);
          // rows, cols: the valid part of this tile.
          f.get(mb).get(ir).sub().set(rows);
          f.get(nb).get(jr).sub().set(cols);
          f.get(rows).i32(MR).geS().get(cols).i32(NR).geS().and();
          f.if(
            () => {
              // c + alpha·sum, with c = 0 instead of C's cells when loadC is 0 (C is then uninitialised).
              const store = (load: boolean): void => {
                for (let i = 0; i < MR; i++) {
                  for (let v = 0; v < 2; v++) {
                    f.get(cp);
                    if (load) f.get(cp).v128Load(16 * v);
                    else f.get(zero);
                    f.get(acc[2 * i + v]!)
                      .get(alphaV)
                      .f32x4Mul()
                      .f32x4Add()
                      .v128Store(16 * v);
                  }
                  if (i < MR - 1) f.get(cp).get(ldc).add().set(cp);
                }
              };
              f.get(loadC);
              f.if(
                () => store(true),
                () => store(false),
              );
            },
            () => {
              for (let i = 0; i < 2 * MR; i++)
                f.i32(TILE)
                  .get(acc[i]!)
                  .v128Store(16 * i);
              f.get(rows).i32(MR).get(rows).i32(MR).ltS().select().set(rows);
              f.get(cols).i32(NR).get(cols).i32(NR).ltS().select().set(cols);
              f.forRange(
                r,
                () => f.i32(0),
                () => f.get(rows),
                1,
                () => {
                  f.get(cp).get(r).get(ldc).mul().add().set(cr);
                  f.i32(TILE)
                    .get(r)
                    .i32(4 * NR)
                    .mul()
                    .add()
                    .set(t);
                  f.forRange(
                    j,
                    () => f.i32(0),
                    () => f.get(cols),
                    1,
                    () => {
                      f.get(cr).get(cr).f32Load().f32(0).get(loadC).select().get(t).f32Load().get(alpha).f32Mul().f32Add().f32Store();
                      f.get(cr).i32(4).add().set(cr);
                      f.get(t).i32(4).add().set(t);
                    },
                  );
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * gemm(a, rsA, csA, b, rsB, csB, c, ldc, m, n, k, alpha, loadC): see the file
 * comment; loadC = 0 means C is not read (as if zero: beta = 0). The k range
 * is cut into equal slabs of at most KC, so no slab is a thin remainder.
 */
export function gemm(): Func {
  const f = new Func([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32]);
  const a = 0,
    rsA = 1,
    csA = 2,
    b = 3,
    rsB = 4,
    csB = 5,
    c = 6,
    ldc = 7,
    m = 8,
    n = 9,
    k = 10,
    alpha = 11,
    loadC = 12;
  const jc = f.local(I32),
    pc = f.local(I32),
    ic = f.local(I32),
    nb = f.local(I32),
    kb = f.local(I32),
    mb = f.local(I32),
    left = f.local(I32),
    lim = f.local(I32);
  const kStep = f.local(I32);
  const clamp = (dst: number, total: number, at: number, most: number): void => {
    f.get(total).get(at).sub().set(left);
    f.get(most).set(lim);
    min(f, left, lim);
    f.set(dst);
  };
  const mcLocal = f.local(I32),
    ncLocal = f.local(I32);
  f.i32(MC).set(mcLocal);
  f.i32(NC).set(ncLocal);
  // kStep = ceil(k / ceil(k / KC))
  f.get(k)
    .get(k)
    .i32(KC - 1)
    .add()
    .i32(KC)
    .divS()
    .tee(left)
    .add()
    .i32(1)
    .sub()
    .get(left)
    .divS()
    .set(kStep);
  f.forRange(
    jc,
    () => f.i32(0),
    () => f.get(n),
    NC,
    () => {
      clamp(nb, n, jc, ncLocal);
      f.forRange(
        pc,
        () => f.i32(0),
        () => f.get(k),
        { local: kStep },
        () => {
          clamp(kb, k, pc, kStep);
          f.get(b).get(pc).get(rsB).mul().get(jc).get(csB).mul().add().i32(2).shl().add();
          f.get(rsB).get(csB).get(kb).get(nb).i32(PACK_B).call(FN.packB);
          f.forRange(
            ic,
            () => f.i32(0),
            () => f.get(m),
            MC,
            () => {
              clamp(mb, m, ic, mcLocal);
              f.get(a).get(ic).get(rsA).mul().get(pc).get(csA).mul().add().i32(2).shl().add();
              f.get(rsA).get(csA).get(mb).get(kb).call(FN.packA);
              f.get(mb).get(nb).get(kb);
              f.get(c).get(ic).get(ldc).mul().get(jc).add().i32(2).shl().add();
              f.get(ldc).i32(2).shl().get(alpha);
              // C is read from the second slab on, and from the first unless loadC is 0.
              f.get(loadC).get(pc).or32();
              f.i32(PACK_B)
                .get(kb)
                .i32(4 * NR)
                .mul();
              f.call(FN.macro);
            },
          );
        },
      );
    },
  );
  return f;
}

/**
 * gemmPacked(a, rsA, csA, bp, c, ldc, m, n, k, alpha, loadC): gemm with op(B)
 * (k×n) already packed at bp by packB over the whole k (panel q at
 * bp + q·k·32 bytes): the per-step products of the recurrent kernels, whose
 * weights are packed once per call. The same slabs and micro-kernel as gemm,
 * so the same bits.
 */
export function gemmPacked(): Func {
  const f = new Func([I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32]);
  const a = 0,
    rsA = 1,
    csA = 2,
    bp = 3,
    c = 4,
    ldc = 5,
    m = 6,
    n = 7,
    k = 8,
    alpha = 9,
    loadC = 10;
  const pc = f.local(I32),
    ic = f.local(I32),
    kb = f.local(I32),
    mb = f.local(I32),
    left = f.local(I32),
    lim = f.local(I32),
    kStep = f.local(I32);
  const clamp = (dst: number, total: number, at: number, most: number): void => {
    f.get(total).get(at).sub().set(left);
    f.get(most).set(lim);
    min(f, left, lim);
    f.set(dst);
  };
  const mcLocal = f.local(I32);
  f.i32(MC).set(mcLocal);
  f.get(k)
    .get(k)
    .i32(KC - 1)
    .add()
    .i32(KC)
    .divS()
    .tee(left)
    .add()
    .i32(1)
    .sub()
    .get(left)
    .divS()
    .set(kStep);
  f.forRange(
    pc,
    () => f.i32(0),
    () => f.get(k),
    { local: kStep },
    () => {
      clamp(kb, k, pc, kStep);
      f.forRange(
        ic,
        () => f.i32(0),
        () => f.get(m),
        MC,
        () => {
          clamp(mb, m, ic, mcLocal);
          f.get(a).get(ic).get(rsA).mul().get(pc).get(csA).mul().add().i32(2).shl().add();
          f.get(rsA).get(csA).get(mb).get(kb).call(FN.packA);
          f.get(mb).get(n).get(kb);
          f.get(c).get(ic).get(ldc).mul().i32(2).shl().add();
          f.get(ldc).i32(2).shl().get(alpha);
          f.get(loadC).get(pc).or32();
          f.get(bp)
            .get(pc)
            .i32(4 * NR)
            .mul()
            .add();
          f.get(k)
            .i32(4 * NR)
            .mul();
          f.call(FN.macro);
        },
      );
    },
  );
  return f;
}
