/**
 * The layout shared by the generators of the SIMD module (module.ts): the
 * GEMM's blocking parameters, the byte addresses of the fixed buffers at the
 * start of the memory, and each function's index (its position in the module,
 * which is what a `call` names).
 */

/** Micro-tile rows (of op(A)) and columns (of op(B), two f32x4 vectors). */
export const SIMD_MR = 4;
export const SIMD_NR = 8;
/** Most depth of a slab: a 4×KC sliver of A (8 KB) and a KC×8 sliver of B (16 KB) stay in L1. Measured 192–512 within noise of each other on the seed's GEMMs; 512 never behind (k = 288, the seed's second conv, in one slab). */
export const SIMD_KC = 512;
/** Rows of op(A) packed at once (MC×KC×4 = 256 KB, in L2). A multiple of MR. */
export const SIMD_MC = 128;
/** Columns of op(B) packed at once (KC×NC×4 = 2 MB, in L3). A multiple of NR. */
export const SIMD_NC = 1024;

/** Scratch tile of the GEMM's edge tiles (4×8 floats). */
export const TILE = 0;
/** Packed A block (MC×KC floats). */
export const PACK_A = 1024;
/** Packed B block (KC×NC floats). */
export const PACK_B = PACK_A + SIMD_MC * SIMD_KC * 4;
/** Start of the heap: the operands callers copy in. */
export const HEAP = PACK_B + SIMD_KC * SIMD_NC * 4;

/** Function indices, in module order. */
export const FN = {
  packA: 0,
  packB: 1,
  macro: 2,
  gemm: 3,
  copyRun: 4,
  zeroRun: 5,
  addRun: 6,
  im2col: 7,
  col2im: 8,
  gemmPacked: 9,
  actRun: 10,
  dactRun: 11,
  lstmForwardStep: 12,
  lstmBackwardStep: 13,
  biasRelu: 14,
  reluGrad: 15,
  columnSums: 16,
  maxPool: 17,
  maxPoolBackprop: 18,
  adam: 19,
} as const;
