/**
 * conv2d forward and backward as GEMMs over an im2col matrix.
 *
 * Each output pixel (b, oy, ox) is one row of the column matrix holding its
 * receptive field in filter order (ky, kx, c), so with an HWIO filter viewed
 * as [fh*fw*cin, cout]:
 *   forward:         y    = col · W
 *   backprop input:  dcol = dy · Wᵀ, then col2im scatters dcol back into dx
 *   backprop filter: dW   = colᵀ · dy
 * Rows are processed in chunks so the column buffer stays under a budget
 * whatever the batch size; the buffer lives in the backend's scratch and is
 * reused across calls.
 */

import type { Conv2DInfo } from '@axon/tensor';
import { gemm, type GemmScratch } from './gemm.js';
import { checkCounts, checkLength, checkPositive } from './validate.js';
import { HEAP_INDEX, align4, alignLike, heap, simdCol2im, simdGemm, simdIm2col } from './wasm/simd.js';

/** Default cap on the im2col buffer: 16 MB. */
export const DEFAULT_IM2COL_BYTES = 16 * 1024 * 1024;

export type ConvKernel = 'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter';

export class ConvScratch {
  private col = new Float32Array(0);
  /** Cap on the column buffer, in float32 elements (one im2col row is always allowed, however long). */
  readonly budget: number;

  /**
   * Set on the main thread's scratch by the backend: offered every conv after
   * validation, with the kernel's arrays in argument order, it either computes
   * the whole call on several threads and returns true, or returns false and
   * the call runs here single-threaded.
   */
  parallel?: (kernel: ConvKernel, a: Float32Array, b: Float32Array, out: Float32Array, info: Conv2DInfo) => boolean;

  constructor(
    readonly gemmScratch: GemmScratch,
    budgetBytes = DEFAULT_IM2COL_BYTES,
  ) {
    this.budget = Math.max(1, Math.floor(budgetBytes / Float32Array.BYTES_PER_ELEMENT));
  }

  /** A column buffer of exactly `size` elements (a view over a reused allocation). */
  columns(size: number): Float32Array {
    if (this.col.length < size) this.col = new Float32Array(size);
    return this.col.subarray(0, size);
  }
}

export interface Geometry extends Conv2DInfo {
  /** Length of one im2col row: fh * fw * cin. */
  patch: number;
  /** Output pixels over the whole batch: batch * outHeight * outWidth. */
  rows: number;
}

export function geometry(kernel: string, info: Conv2DInfo): Geometry {
  const {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padLeft,
  } = info;
  checkCounts(kernel, {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    padTop,
    padLeft,
  });
  checkPositive(kernel, { strideHeight, strideWidth, dilationHeight, dilationWidth });
  return { ...info, patch: filterHeight * filterWidth * inChannels, rows: batch * outHeight * outWidth };
}

/** A 1×1, stride-1, unpadded convolution is a plain GEMM over the input itself: no im2col needed. */
function isPointwise(g: Geometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth
  );
}

function rowsPerChunk(s: ConvScratch, g: Geometry): number {
  return Math.max(1, Math.floor(s.budget / Math.max(1, g.patch)));
}

function checkArrays(
  kernel: string,
  g: Geometry,
  x: [string, Float32Array],
  filter: [string, Float32Array],
  y: [string, Float32Array],
): void {
  checkLength(
    kernel,
    `${x[0]} [${g.batch}, ${g.inHeight}, ${g.inWidth}, ${g.inChannels}]`,
    x[1],
    g.batch * g.inHeight * g.inWidth * g.inChannels,
  );
  checkLength(
    kernel,
    `${filter[0]} [${g.filterHeight}, ${g.filterWidth}, ${g.inChannels}, ${g.outChannels}]`,
    filter[1],
    g.patch * g.outChannels,
  );
  checkLength(kernel, `${y[0]} [${g.batch}, ${g.outHeight}, ${g.outWidth}, ${g.outChannels}]`, y[1], g.rows * g.outChannels);
}

export function conv2d(s: ConvScratch, x: Float32Array, filter: Float32Array, y: Float32Array, info: Conv2DInfo): void {
  const g = geometry('conv2d', info);
  checkArrays('conv2d', g, ['x', x], ['filter', filter], ['y', y]);
  const { rows, patch, outChannels: cout } = g;
  if (rows === 0 || cout === 0) return;
  if (s.parallel?.('conv2d', x, filter, y, info)) return;
  if (isPointwise(g)) {
    gemm(s.gemmScratch, x, filter, y, 1, rows, cout, patch, false, false, 1, 0, 0, 0);
    return;
  }
  if (s.gemmScratch.simd && patch > 0 && simdConv2d(s, x, filter, y, g)) return;
  const chunk = rowsPerChunk(s, g);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const col = s.columns(n * patch);
    im2col(x, g, r0, n, col);
    gemm(s.gemmScratch, col, filter, y.subarray(r0 * cout, (r0 + n) * cout), 1, n, cout, patch, false, false, 1, 0, 0, 0);
  }
}

export function conv2dBackpropInput(s: ConvScratch, dy: Float32Array, filter: Float32Array, dx: Float32Array, info: Conv2DInfo): void {
  const g = geometry('conv2dBackpropInput', info);
  checkArrays('conv2dBackpropInput', g, ['dx', dx], ['filter', filter], ['dy', dy]);
  const { rows, patch, outChannels: cout } = g;
  if (s.parallel?.('conv2dBackpropInput', dy, filter, dx, info)) return;
  if (isPointwise(g)) {
    gemm(s.gemmScratch, dy, filter, dx, 1, rows, patch, cout, false, true, 1, 0, 0, 0);
    return;
  }
  if (s.gemmScratch.simd && cout > 0 && simdConv2dBackpropInput(s, dy, filter, dx, g)) return;
  dx.fill(0);
  const chunk = rowsPerChunk(s, g);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const col = s.columns(n * patch);
    gemm(s.gemmScratch, dy.subarray(r0 * cout, (r0 + n) * cout), filter, col, 1, n, patch, cout, false, true, 1, 0, 0, 0);
    col2im(col, g, r0, n, dx);
  }
}

/** Cap on the partial filter gradients of one conv2dBackpropFilter call, in floats (64 MB). */
const MAX_PARTIALS = 16 << 20;
/** Image groups a filter gradient is summed over (fewer when the batch or MAX_PARTIALS allows fewer). */
const FILTER_GRADIENT_GROUPS = 16;

/**
 * Images per group of a filter gradient: dW is the sum, in group order, of each group's partial
 * dW. The groups depend on the batch and the filter size only, never on the thread count, so a
 * gradient computed on one thread or split over any number (a group per chunk) has the same bits.
 */
export function imagesPerFilterGroup(batch: number, filterSize: number): number {
  const groups = Math.max(1, Math.min(batch, FILTER_GRADIENT_GROUPS, Math.floor(MAX_PARTIALS / Math.max(1, filterSize))));
  return Math.ceil(batch / groups);
}

export function conv2dBackpropFilter(s: ConvScratch, x: Float32Array, dy: Float32Array, dFilter: Float32Array, info: Conv2DInfo): void {
  const g = geometry('conv2dBackpropFilter', info);
  checkArrays('conv2dBackpropFilter', g, ['x', x], ['dFilter', dFilter], ['dy', dy]);
  if (g.rows === 0) {
    dFilter.fill(0);
    return;
  }
  if (s.parallel?.('conv2dBackpropFilter', x, dy, dFilter, info)) return;
  // On one thread, the same image groups as on several, added in the same order.
  const perGroup = imagesPerFilterGroup(g.batch, dFilter.length);
  const inImage = g.inHeight * g.inWidth * g.inChannels,
    outImage = g.outHeight * g.outWidth * g.outChannels;
  const partial = perGroup < g.batch ? new Float32Array(dFilter.length) : dFilter;
  for (let b0 = 0; b0 < g.batch; b0 += perGroup) {
    const b1 = Math.min(g.batch, b0 + perGroup);
    const target = b0 === 0 ? dFilter : partial;
    filterGradientOfImages(s, x.subarray(b0 * inImage, b1 * inImage), dy.subarray(b0 * outImage, b1 * outImage), target, {
      ...g,
      batch: b1 - b0,
      rows: (b1 - b0) * g.outHeight * g.outWidth,
    });
    if (b0 > 0) for (let j = 0; j < dFilter.length; j++) dFilter[j] += partial[j];
  }
}

/** dW of one image group, single-threaded (a worker runs it on the group of its chunk). */
export function filterGradientOfImages(s: ConvScratch, x: Float32Array, dy: Float32Array, dFilter: Float32Array, g: Geometry): void {
  const { rows, patch, outChannels: cout } = g;
  if (isPointwise(g)) {
    gemm(s.gemmScratch, x, dy, dFilter, 1, patch, cout, rows, true, false, 1, 0, 0, 0);
    return;
  }
  if (s.gemmScratch.simd && patch > 0 && cout > 0 && simdConv2dBackpropFilter(s, x, dy, dFilter, g)) return;
  const chunk = rowsPerChunk(s, g);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const col = s.columns(n * patch);
    im2col(x, g, r0, n, col);
    // The first chunk overwrites dFilter, later ones accumulate into it.
    gemm(s.gemmScratch, col, dy.subarray(r0 * cout, (r0 + n) * cout), dFilter, 1, patch, cout, n, true, false, 1, r0 === 0 ? 0 : 1, 0, 0);
  }
}

// ---- the WebAssembly SIMD path --------------------------------------------------------------
//
// The same chunked im2col + GEMM, inside the SIMD module's memory: the inputs
// are copied in once, im2col / col2im and the GEMMs (simdGemm, which packs
// and multiplies) run there, and the output is copied out once. Each chunk's
// GEMM is the kernel's arithmetic whatever its row count (there is no
// matrix-vector special case here), so forward and backprop input give the
// same bits however a call is split into chunks or over threads.

/** y = conv(x, filter) through the SIMD module; false (nothing touched) when the arrays do not fit in its heap. */
function simdConv2d(s: ConvScratch, x: Float32Array, filter: Float32Array, y: Float32Array, g: Geometry): boolean {
  const { rows, patch, outChannels: cout } = g;
  const chunk = rowsPerChunk(s, g);
  const xAt = alignLike(HEAP_INDEX, x),
    fAt = alignLike(xAt + x.length, filter);
  const colAt = align4(fAt + filter.length),
    yAt = alignLike(colAt + Math.min(chunk, rows) * patch, y);
  const mem = heap(yAt + y.length - HEAP_INDEX);
  if (!mem) return false;
  mem.set(x, xAt);
  mem.set(filter, fAt);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    simdIm2col(xAt, g, r0, n, colAt);
    simdGemm(colAt, patch, 1, fAt, cout, 1, yAt + r0 * cout, cout, n, cout, patch, 1, false);
  }
  y.set(mem.subarray(yAt, yAt + y.length));
  return true;
}

/** dx = convᵀ(dy, filter): dcol = dy · Wᵀ per chunk, scattered into dx (zeroed first) by col2im. */
function simdConv2dBackpropInput(s: ConvScratch, dy: Float32Array, filter: Float32Array, dx: Float32Array, g: Geometry): boolean {
  const { rows, patch, outChannels: cout } = g;
  const chunk = rowsPerChunk(s, g);
  const dyAt = alignLike(HEAP_INDEX, dy),
    fAt = alignLike(dyAt + dy.length, filter);
  const colAt = align4(fAt + filter.length),
    dxAt = alignLike(colAt + Math.min(chunk, rows) * patch, dx);
  const mem = heap(dxAt + dx.length - HEAP_INDEX);
  if (!mem) return false;
  mem.set(dy, dyAt);
  mem.set(filter, fAt);
  mem.fill(0, dxAt, dxAt + dx.length);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    // op(B) = Wᵀ: W is [patch, cout], so op(B)[p][j] = W[j][p].
    simdGemm(dyAt + r0 * cout, cout, 1, fAt, 1, cout, colAt, patch, n, patch, cout, 1, false);
    simdCol2im(colAt, g, r0, n, dxAt);
  }
  dx.set(mem.subarray(dxAt, dxAt + dx.length));
  return true;
}

/** dFilter = Σ over chunks of colᵀ · dy (the first chunk writes, later ones accumulate). */
function simdConv2dBackpropFilter(s: ConvScratch, x: Float32Array, dy: Float32Array, dFilter: Float32Array, g: Geometry): boolean {
  const { rows, patch, outChannels: cout } = g;
  const chunk = rowsPerChunk(s, g);
  const xAt = alignLike(HEAP_INDEX, x),
    dyAt = alignLike(xAt + x.length, dy);
  const colAt = align4(dyAt + dy.length),
    dwAt = alignLike(colAt + Math.min(chunk, rows) * patch, dFilter);
  const mem = heap(dwAt + dFilter.length - HEAP_INDEX);
  if (!mem) return false;
  mem.set(x, xAt);
  mem.set(dy, dyAt);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    simdIm2col(xAt, g, r0, n, colAt);
    // op(A) = colᵀ: col is [n, patch], so op(A)[r][p] = col[p][r].
    simdGemm(colAt, 1, patch, dyAt + r0 * cout, cout, 1, dwAt, cout, patch, cout, n, 1, r0 !== 0);
  }
  dFilter.set(mem.subarray(dwAt, dwAt + dFilter.length));
  return true;
}

// ---- the pure-TypeScript patch walk ------------------------------------------------------------

/**
 * Calls visit(colOffset, xOffset, length) for every run of a receptive field
 * that lies inside the image, and zero(colOffset, length) for padding, for
 * output rows [r0, r0+count). A run is `cin` values, or a whole filter row
 * when dilationWidth is 1 and every tap of that row is inside the image.
 */
function forEachPatchRun(
  g: Geometry,
  r0: number,
  count: number,
  visit: (colOffset: number, xOffset: number, length: number) => void,
  zero: (colOffset: number, length: number) => void,
): void {
  const { inHeight: H, inWidth: W, inChannels: cin, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padTop, padLeft, patch } = g;
  let ox = r0 % ow;
  let oy = Math.floor(r0 / ow) % oh;
  let b = Math.floor(r0 / (ow * oh));
  const rowRun = fw * cin;
  for (let t = 0; t < count; t++) {
    const base = t * patch;
    const x0 = ox * sw - padLeft;
    const wholeRowsInside = dw === 1 && x0 >= 0 && x0 + fw <= W;
    for (let ky = 0; ky < fh; ky++) {
      const iy = oy * sh - padTop + ky * dh;
      const colRow = base + ky * rowRun;
      if (iy < 0 || iy >= H) {
        zero(colRow, rowRun);
        continue;
      }
      const xRow = (b * H + iy) * W;
      if (wholeRowsInside) {
        visit(colRow, (xRow + x0) * cin, rowRun);
        continue;
      }
      for (let kx = 0; kx < fw; kx++) {
        const ix = x0 + kx * dw;
        if (ix < 0 || ix >= W) zero(colRow + kx * cin, cin);
        else visit(colRow + kx * cin, (xRow + ix) * cin, cin);
      }
    }
    if (++ox === ow) {
      ox = 0;
      if (++oy === oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/** Fills col[t, :] with the receptive field of output row r0+t (zeros where it hangs over the padding). */
function im2col(x: Float32Array, g: Geometry, r0: number, count: number, col: Float32Array): void {
  forEachPatchRun(
    g,
    r0,
    count,
    (c, xi, len) => {
      for (let i = 0; i < len; i++) col[c + i] = x[xi + i];
    },
    (c, len) => col.fill(0, c, c + len),
  );
}

/** The adjoint of im2col: dx += every col[t, :] scattered back to where im2col read it. */
function col2im(col: Float32Array, g: Geometry, r0: number, count: number, dx: Float32Array): void {
  forEachPatchRun(
    g,
    r0,
    count,
    (c, xi, len) => {
      for (let i = 0; i < len; i++) dx[xi + i] += col[c + i];
    },
    () => {},
  );
}
