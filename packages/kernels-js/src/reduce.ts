/**
 * Reductions, arg-reductions and softmax along the middle axis of x viewed as
 * [outer, size, inner]. With inner = 1 each reduction is a contiguous scan;
 * otherwise whole rows of `inner` values are combined at a time so memory is
 * still read sequentially. Sums accumulate in float64.
 */

import type { ReduceOp } from '@axon/tensor';
import { checkCounts, checkLength, fail } from './validate.js';

export class ReduceScratch {
  private row = new Float64Array(0);

  /** A float64 row of `size` elements (contents unspecified). */
  acc(size: number): Float64Array {
    if (this.row.length < size) this.row = new Float64Array(size);
    return this.row;
  }
}

function checkGeometry(
  kernel: string,
  x: ArrayLike<number>,
  out: ArrayLike<number>,
  outer: number,
  size: number,
  inner: number,
  outLength: number,
): void {
  checkCounts(kernel, { outer, size, inner });
  checkLength(kernel, `x [${outer}, ${size}, ${inner}]`, x, outer * size * inner);
  checkLength(kernel, 'out', out, outLength);
}

/** Value of each reduction over an empty axis. */
const identity: Record<ReduceOp, number> = { sum: 0, mean: NaN, max: -Infinity, min: Infinity, prod: 1 };

/**
 * out[o, r] = op over s of x[o, s, r]. max and min propagate NaN (as NumPy and
 * PyTorch do): a NaN anywhere in the reduced axis gives NaN.
 */
export function reduce(
  s: ReduceScratch,
  op: ReduceOp,
  x: Float32Array,
  out: Float32Array,
  outer: number,
  size: number,
  inner: number,
): void {
  if (!Object.hasOwn(identity, op)) fail('reduce', `unknown op '${String(op)}'; expected one of ${Object.keys(identity).join(', ')}`);
  checkGeometry('reduce', x, out, outer, size, inner, outer * inner);
  if (size === 0) {
    out.fill(identity[op]);
    return;
  }
  if (inner === 1) {
    for (let o = 0; o < outer; o++) out[o] = reduceContiguous(op, x, o * size, size);
    return;
  }
  const acc = s.acc(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let r = 0; r < inner; r++) acc[r] = x[base + r];
    for (let j = 1; j < size; j++) {
      const row = base + j * inner;
      switch (op) {
        case 'sum':
        case 'mean':
          for (let r = 0; r < inner; r++) acc[r] += x[row + r];
          break;
        case 'prod':
          for (let r = 0; r < inner; r++) acc[r] *= x[row + r];
          break;
        case 'max':
          // Once acc[r] is NaN no comparison is true, so NaN sticks.
          for (let r = 0; r < inner; r++) {
            const v = x[row + r];
            if (v > acc[r] || v !== v) acc[r] = v;
          }
          break;
        case 'min':
          for (let r = 0; r < inner; r++) {
            const v = x[row + r];
            if (v < acc[r] || v !== v) acc[r] = v;
          }
          break;
      }
    }
    const dst = o * inner;
    if (op === 'mean') for (let r = 0; r < inner; r++) out[dst + r] = acc[r] / size;
    else for (let r = 0; r < inner; r++) out[dst + r] = acc[r];
  }
}

function reduceContiguous(op: ReduceOp, x: Float32Array, start: number, size: number): number {
  const end = start + size;
  let acc = x[start];
  switch (op) {
    case 'sum':
    case 'mean':
      for (let i = start + 1; i < end; i++) acc += x[i];
      return op === 'mean' ? acc / size : acc;
    case 'prod':
      for (let i = start + 1; i < end; i++) acc *= x[i];
      return acc;
    case 'max':
      for (let i = start + 1; i < end; i++) {
        const v = x[i];
        if (v > acc || v !== v) acc = v;
      }
      return acc;
    case 'min':
      for (let i = start + 1; i < end; i++) {
        const v = x[i];
        if (v < acc || v !== v) acc = v;
      }
      return acc;
  }
}

/**
 * out[o, r] = the s of the max (min) of x[o, s, r]; the first index wins ties.
 * NaN ranks above every number (so argmax picks the first NaN and argmin skips
 * NaNs unless the whole axis is NaN, then it returns 0).
 */
export function argReduce(op: 'max' | 'min', x: Float32Array, out: Int32Array, outer: number, size: number, inner: number): void {
  if (op !== 'max' && op !== 'min') fail('argReduce', `unknown op '${String(op)}'; expected 'max' or 'min'`);
  checkGeometry('argReduce', x, out, outer, size, inner, outer * inner);
  if (size === 0) {
    if (outer * inner > 0) fail('argReduce', `cannot take arg${op} over an empty axis (outer ${outer}, size 0, inner ${inner})`);
    return;
  }
  const isMax = op === 'max';
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let r = 0; r < inner; r++) {
      let best = x[base + r];
      let bestIndex = 0;
      for (let j = 1; j < size; j++) {
        const v = x[base + j * inner + r];
        // Under "NaN is the largest value": for max, v wins if it is NaN and best is not, or v > best;
        // for min, v wins if best is NaN and v is not, or v < best.
        const wins = isMax ? (v !== v ? best === best : v > best) : best !== best ? v === v : v < best;
        if (wins) {
          best = v;
          bestIndex = j;
        }
      }
      out[o * inner + r] = bestIndex;
    }
  }
}

/**
 * Softmax (or log-softmax) along the middle axis, subtracting the max first so
 * exp never overflows. y may alias x.
 */
export function softmax(
  s: ReduceScratch,
  x: Float32Array,
  y: Float32Array,
  outer: number,
  size: number,
  inner: number,
  log: boolean,
): void {
  checkGeometry('softmax', x, y, outer, size, inner, outer * size * inner);
  if (size === 0) return;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) softmaxContiguous(x, y, o * size, size, log);
    return;
  }
  const max = s.acc(2 * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    // Row-wise passes over [size, inner] keep reads sequential; max[r] and sum[inner + r] are per column r.
    for (let r = 0; r < inner; r++) {
      max[r] = x[base + r];
      max[inner + r] = 0;
    }
    for (let j = 1; j < size; j++) {
      const row = base + j * inner;
      for (let r = 0; r < inner; r++) {
        const v = x[row + r];
        if (v > max[r] || v !== v) max[r] = v;
      }
    }
    for (let j = 0; j < size; j++) {
      const row = base + j * inner;
      for (let r = 0; r < inner; r++) max[inner + r] += Math.exp(x[row + r] - max[r]);
    }
    if (log) {
      for (let r = 0; r < inner; r++) max[inner + r] = Math.log(max[inner + r]);
      for (let j = 0; j < size; j++) {
        const row = base + j * inner;
        for (let r = 0; r < inner; r++) y[row + r] = x[row + r] - max[r] - max[inner + r];
      }
    } else {
      for (let j = 0; j < size; j++) {
        const row = base + j * inner;
        for (let r = 0; r < inner; r++) y[row + r] = Math.exp(x[row + r] - max[r]) / max[inner + r];
      }
    }
  }
}

function softmaxContiguous(x: Float32Array, y: Float32Array, start: number, size: number, log: boolean): void {
  const end = start + size;
  let max = x[start];
  for (let i = start + 1; i < end; i++) {
    const v = x[i];
    if (v > max || v !== v) max = v;
  }
  let sum = 0;
  if (log) {
    for (let i = start; i < end; i++) sum += Math.exp(x[i] - max);
    // (x - max) - log(sum), never x - (max + log(sum)): at |max| >= 1e16 log(sum) would vanish in the
    // addition, and log-softmax of equal logits would come out 0 instead of -log(size).
    const logSum = Math.log(sum);
    for (let i = start; i < end; i++) y[i] = x[i] - max - logSum;
  } else {
    for (let i = start; i < end; i++) {
      const e = Math.exp(x[i] - max);
      y[i] = e;
      sum += e;
    }
    for (let i = start; i < end; i++) y[i] /= sum;
  }
}
