/**
 * Max and average pooling over NHWC, computed directly: for each output pixel
 * the window's in-image taps are visited and the innermost loop runs over the
 * contiguous channels. Padded cells are never part of a window (TensorFlow
 * semantics): they neither win a max nor count towards an average.
 */

import type { Pool2DInfo } from '@axon/tensor';
import { checkCounts, checkLength, checkPositive } from './validate.js';
import { simdMaxPool, simdMaxPoolBackprop } from './wasm/simd.js';

interface Window {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

function checkGeometry(kernel: string, info: Pool2DInfo): void {
  const { batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft } =
    info;
  checkCounts(kernel, { batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, padTop, padLeft });
  checkPositive(kernel, { strideHeight, strideWidth });
}

function checkInput(kernel: string, name: string, array: ArrayLike<number>, info: Pool2DInfo): void {
  checkLength(
    kernel,
    `${name} [${info.batch}, ${info.inHeight}, ${info.inWidth}, ${info.channels}]`,
    array,
    info.batch * info.inHeight * info.inWidth * info.channels,
  );
}

function checkOutput(kernel: string, name: string, array: ArrayLike<number>, info: Pool2DInfo): void {
  checkLength(
    kernel,
    `${name} [${info.batch}, ${info.outHeight}, ${info.outWidth}, ${info.channels}]`,
    array,
    info.batch * info.outHeight * info.outWidth * info.channels,
  );
}

/**
 * Calls visit(b, window, outOffset) for every output pixel, with the window
 * clipped to the image ([y0, y1) × [x0, x1) in input coordinates).
 */
function forEachWindow(info: Pool2DInfo, visit: (b: number, w: Window, outOffset: number) => void): void {
  const { batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft } =
    info;
  const w: Window = { y0: 0, y1: 0, x0: 0, x1: 0 };
  let out = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const top = oy * strideHeight - padTop;
      w.y0 = Math.max(0, top);
      w.y1 = Math.min(inHeight, top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const left = ox * strideWidth - padLeft;
        w.x0 = Math.max(0, left);
        w.x1 = Math.min(inWidth, left + filterWidth);
        visit(b, w, out);
        out += channels;
      }
    }
  }
}

/**
 * Offered a validated call on the main thread: computes it on several threads
 * and returns true, or returns false to leave it to the calling thread.
 */
export type MaxPoolParallel = (x: Float32Array, y: Float32Array, argmax: Int32Array, info: Pool2DInfo) => boolean;

/**
 * y = max over each window; argmax = flat index into x of the first maximum.
 * NaN counts as larger than everything, so it propagates. A window entirely
 * in the padding (only possible with padding >= filter size) yields -Infinity
 * and argmax -1, which the backward pass skips. simd: through the
 * WebAssembly module when the channels are a multiple of 4.
 */
export function maxPool2d(
  x: Float32Array,
  y: Float32Array,
  argmax: Int32Array,
  info: Pool2DInfo,
  parallel?: MaxPoolParallel,
  simd = false,
): void {
  checkGeometry('maxPool2d', info);
  checkInput('maxPool2d', 'x', x, info);
  checkOutput('maxPool2d', 'y', y, info);
  checkOutput('maxPool2d', 'argmax', argmax, info);
  if (parallel?.(x, y, argmax, info)) return;
  // The WebAssembly loop takes four channels per vector: the same maxima and indices.
  if (simd && info.channels % 4 === 0 && y.length > 0 && simdMaxPool(x, y, argmax, info)) return;
  const { inHeight: H, inWidth: W, channels: C } = info;
  forEachWindow(info, (b, w, out) => {
    if (w.y0 >= w.y1 || w.x0 >= w.x1) {
      for (let c = 0; c < C; c++) {
        y[out + c] = -Infinity;
        argmax[out + c] = -1;
      }
      return;
    }
    // The first tap seeds the maximum; later taps replace it when larger, or when NaN while
    // the maximum is not. `!(v <= best)` is true for v > best and for a NaN v; the
    // `best === best` test keeps the first NaN once it has won.
    const first = ((b * H + w.y0) * W + w.x0) * C;
    for (let c = 0; c < C; c++) {
      y[out + c] = x[first + c];
      argmax[out + c] = first + c;
    }
    for (let iy = w.y0; iy < w.y1; iy++) {
      for (let ix = iy === w.y0 ? w.x0 + 1 : w.x0; ix < w.x1; ix++) {
        const base = ((b * H + iy) * W + ix) * C;
        for (let c = 0; c < C; c++) {
          const v = x[base + c];
          const best = y[out + c];
          if (!(v <= best) && best === best) {
            y[out + c] = v;
            argmax[out + c] = base + c;
          }
        }
      }
    }
  });
}

/** dx = 0, then dx[argmax[i]] += dy[i] (simd: in the WebAssembly module, the same additions in the same order). */
export function maxPool2dBackprop(dy: Float32Array, argmax: Int32Array, dx: Float32Array, info: Pool2DInfo, simd = false): void {
  checkGeometry('maxPool2dBackprop', info);
  checkOutput('maxPool2dBackprop', 'dy', dy, info);
  checkOutput('maxPool2dBackprop', 'argmax', argmax, info);
  checkInput('maxPool2dBackprop', 'dx', dx, info);
  const n = dx.length;
  const bad = simd && dy.length > 0 ? simdMaxPoolBackprop(dy, argmax, dx) : undefined;
  if (bad !== undefined && bad < 0) return;
  // A bad index (bad >= 0) is reported by the loop below, which meets it first.
  dx.fill(0);
  for (let i = 0; i < dy.length; i++) {
    const j = argmax[i];
    if (j < 0) continue; // the window was all padding
    if (j >= n) throw new Error(`maxPool2dBackprop: argmax[${i}] = ${j} is outside dx [0, ${n})`);
    dx[j] += dy[i];
  }
}

/** y = mean over the in-image taps of each window (padding excluded from the count; an empty window gives 0). */
export function avgPool2d(x: Float32Array, y: Float32Array, info: Pool2DInfo): void {
  checkGeometry('avgPool2d', info);
  checkInput('avgPool2d', 'x', x, info);
  checkOutput('avgPool2d', 'y', y, info);
  const { inHeight: H, inWidth: W, channels: C } = info;
  const sum = new Float64Array(C);
  forEachWindow(info, (b, w, out) => {
    sum.fill(0);
    for (let iy = w.y0; iy < w.y1; iy++) {
      for (let ix = w.x0; ix < w.x1; ix++) {
        const base = ((b * H + iy) * W + ix) * C;
        for (let c = 0; c < C; c++) sum[c] += x[base + c];
      }
    }
    const count = Math.max(0, w.y1 - w.y0) * Math.max(0, w.x1 - w.x0);
    for (let c = 0; c < C; c++) y[out + c] = count > 0 ? sum[c] / count : 0;
  });
}

/** dx = 0, then each dy[i] is spread evenly over the in-image taps of its window. */
export function avgPool2dBackprop(dy: Float32Array, dx: Float32Array, info: Pool2DInfo): void {
  checkGeometry('avgPool2dBackprop', info);
  checkOutput('avgPool2dBackprop', 'dy', dy, info);
  checkInput('avgPool2dBackprop', 'dx', dx, info);
  dx.fill(0);
  const { inHeight: H, inWidth: W, channels: C } = info;
  forEachWindow(info, (b, w, out) => {
    const count = Math.max(0, w.y1 - w.y0) * Math.max(0, w.x1 - w.x0);
    if (count === 0) return;
    const inv = 1 / count;
    for (let iy = w.y0; iy < w.y1; iy++) {
      for (let ix = w.x0; ix < w.x1; ix++) {
        const base = ((b * H + iy) * W + ix) * C;
        for (let c = 0; c < C; c++) dx[base + c] += dy[out + c] * inv;
      }
    }
  });
}
