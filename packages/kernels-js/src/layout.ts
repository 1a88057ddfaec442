/**
 * Data movement: transpose, slice, pad, concat, gather, scatterAdd, oneHot.
 * Transpose, slice and pad are all one strided copy (source and destination
 * strides per axis); axes both sides walk contiguously are merged first so the
 * innermost loop is as long as possible.
 */

import { checkCounts, checkLength, checkShape, fail } from './validate.js';

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** dst[dstOffset + Σ i_d dstStrides[d]] = src[srcOffset + Σ i_d srcStrides[d]] for all i < sizes. */
function stridedCopy(
  src: Float32Array,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: Float32Array,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const sizes: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 0) return;
    if (shape[d] === 1) continue;
    const last = sizes.length - 1;
    // Merge into the previous axis when both sides step over this one as its continuation.
    if (last >= 0 && ss[last] === srcStrides[d] * shape[d] && ds[last] === dstStrides[d] * shape[d]) {
      sizes[last] *= shape[d];
      ss[last] = srcStrides[d];
      ds[last] = dstStrides[d];
      continue;
    }
    sizes.push(shape[d]);
    ss.push(srcStrides[d]);
    ds.push(dstStrides[d]);
  }
  if (sizes.length === 0) {
    dst[dstOffset] = src[srcOffset];
    return;
  }
  if (sizes.length === 2 && ss[0] === 1 && ds[1] === 1) {
    transposeBlock(src, srcOffset, ss[1], dst, dstOffset, ds[0], sizes[0], sizes[1]);
    return;
  }
  const rank = sizes.length;
  const n = sizes[rank - 1],
    sInner = ss[rank - 1],
    dInner = ds[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let runs = 1;
  for (let d = 0; d < rank - 1; d++) runs *= sizes[d];
  let so = srcOffset,
    dOff = dstOffset;
  for (let r = 0; r < runs; r++) {
    if (sInner === 1 && dInner === 1) {
      for (let i = 0; i < n; i++) dst[dOff + i] = src[so + i];
    } else {
      for (let i = 0, s = so, t = dOff; i < n; i++, s += sInner, t += dInner) dst[t] = src[s];
    }
    for (let d = rank - 2; d >= 0; d--) {
      so += ss[d];
      dOff += ds[d];
      if (++index[d] < sizes[d]) break;
      so -= ss[d] * sizes[d];
      dOff -= ds[d] * sizes[d];
      index[d] = 0;
    }
  }
}

/** Tile edge of the blocked 2-D transpose: a 32×32 float32 tile is 4 KB on each side, well inside L1. */
const TILE = 32;

/**
 * dst[i*dstRow + j] = src[i + j*srcCol] for i < rows, j < cols: a matrix
 * transpose, done in tiles so both the reads and the writes stay in cache.
 */
function transposeBlock(
  src: Float32Array,
  srcOffset: number,
  srcCol: number,
  dst: Float32Array,
  dstOffset: number,
  dstRow: number,
  rows: number,
  cols: number,
): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(rows, i0 + TILE);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(cols, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const d = dstOffset + i * dstRow;
        for (let j = j0; j < j1; j++) dst[d + j] = src[srcOffset + i + j * srcCol];
      }
    }
  }
}

export function transpose(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void {
  const size = checkShape('transpose', 'shape', shape);
  checkLength('transpose', `x ${fmt(shape)}`, x, size);
  checkLength('transpose', 'out', out, size);
  const rank = shape.length;
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    fail('transpose', `perm ${fmt(perm)} is not a permutation of the ${rank} axes of ${fmt(shape)}`);
  }
  const inStrides = contiguousStrides(shape);
  const outShape = perm.map((p) => shape[p]);
  stridedCopy(
    x,
    0,
    perm.map((p) => inStrides[p]),
    out,
    0,
    contiguousStrides(outShape),
    outShape,
  );
}

export function slice(
  x: Float32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: Float32Array,
): void {
  const total = checkShape('slice', 'shape', shape);
  checkLength('slice', `x ${fmt(shape)}`, x, total);
  if (begin.length !== shape.length || size.length !== shape.length) {
    fail('slice', `begin ${fmt(begin)} and size ${fmt(size)} must have one entry per axis of ${fmt(shape)}`);
  }
  for (let d = 0; d < shape.length; d++) {
    if (!Number.isInteger(begin[d]) || !Number.isInteger(size[d]) || begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > shape[d]) {
      fail('slice', `axis ${d}: begin ${begin[d]} + size ${size[d]} is outside [0, ${shape[d]}] (shape ${fmt(shape)})`);
    }
  }
  checkLength('slice', `out ${fmt(size)}`, out, checkShape('slice', 'size', size));
  const strides = contiguousStrides(shape);
  let offset = 0;
  for (let d = 0; d < shape.length; d++) offset += begin[d] * strides[d];
  stridedCopy(x, offset, strides, out, 0, contiguousStrides(size), size);
}

export function pad(
  x: Float32Array,
  shape: readonly number[],
  padBefore: readonly number[],
  padAfter: readonly number[],
  value: number,
  out: Float32Array,
): void {
  const total = checkShape('pad', 'shape', shape);
  checkLength('pad', `x ${fmt(shape)}`, x, total);
  if (padBefore.length !== shape.length || padAfter.length !== shape.length) {
    fail('pad', `padBefore ${fmt(padBefore)} and padAfter ${fmt(padAfter)} must have one entry per axis of ${fmt(shape)}`);
  }
  checkCounts(
    'pad',
    Object.fromEntries([...padBefore.map((p, d) => [`padBefore[${d}]`, p]), ...padAfter.map((p, d) => [`padAfter[${d}]`, p])]),
  );
  const outShape = shape.map((d, i) => d + padBefore[i] + padAfter[i]);
  checkLength('pad', `out ${fmt(outShape)}`, out, checkShape('pad', 'out', outShape));
  out.fill(value);
  const outStrides = contiguousStrides(outShape);
  let offset = 0;
  for (let d = 0; d < shape.length; d++) offset += padBefore[d] * outStrides[d];
  stridedCopy(x, 0, contiguousStrides(shape), out, offset, outStrides, shape);
}

/** Below this many elements a plain loop beats creating subarray views for TypedArray.set. */
const SET_THRESHOLD = 64;

function copyRun(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  if (n >= SET_THRESHOLD) dst.set(src.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
}

export function concat(inputs: readonly Float32Array[], sizes: readonly number[], outer: number, inner: number, out: Float32Array): void {
  checkCounts('concat', { outer, inner });
  if (inputs.length !== sizes.length) fail('concat', `got ${inputs.length} inputs but ${sizes.length} sizes`);
  let total = 0;
  sizes.forEach((s, i) => {
    checkCounts('concat', { [`sizes[${i}]`]: s });
    checkLength('concat', `inputs[${i}] [${outer}, ${s}, ${inner}]`, inputs[i], outer * s * inner);
    total += s;
  });
  checkLength('concat', `out [${outer}, ${total}, ${inner}]`, out, outer * total * inner);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inputs.length; i++) {
      const n = sizes[i] * inner;
      copyRun(inputs[i], o * n, out, to, n);
      to += n;
    }
  }
}

function checkIndices(kernel: string, indices: Int32Array, size: number): void {
  for (let j = 0; j < indices.length; j++) {
    const idx = indices[j];
    if (idx < 0 || idx >= size) fail(kernel, `index ${idx} at position ${j} is out of range [0, ${size})`);
  }
}

export function gather(x: Float32Array, indices: Int32Array, out: Float32Array, outer: number, size: number, inner: number): void {
  checkCounts('gather', { outer, size, inner });
  checkLength('gather', `x [${outer}, ${size}, ${inner}]`, x, outer * size * inner);
  const n = indices.length;
  checkLength('gather', `out [${outer}, ${n}, ${inner}]`, out, outer * n * inner);
  checkIndices('gather', indices, size);
  let to = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < n; j++) {
      copyRun(x, base + indices[j] * inner, out, to, inner);
      to += inner;
    }
  }
}

export function scatterAdd(dy: Float32Array, indices: Int32Array, dx: Float32Array, outer: number, size: number, inner: number): void {
  checkCounts('scatterAdd', { outer, size, inner });
  const n = indices.length;
  checkLength('scatterAdd', `dy [${outer}, ${n}, ${inner}]`, dy, outer * n * inner);
  checkLength('scatterAdd', `dx [${outer}, ${size}, ${inner}]`, dx, outer * size * inner);
  checkIndices('scatterAdd', indices, size);
  let from = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < n; j++) {
      const to = base + indices[j] * inner;
      for (let r = 0; r < inner; r++) dx[to + r] += dy[from + r];
      from += inner;
    }
  }
}

/** An index outside [0, depth) gives a row of offValue, as TensorFlow does. */
export function oneHot(indices: Int32Array, depth: number, onValue: number, offValue: number, out: Float32Array): void {
  checkCounts('oneHot', { depth });
  checkLength('oneHot', `out [${indices.length}, ${depth}]`, out, indices.length * depth);
  out.fill(offValue);
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i];
    if (idx >= 0 && idx < depth) out[i * depth + idx] = onValue;
  }
}

/** y = x converted between float32 and int32 (float to int32 truncates toward zero); equal types copy. */
export function cast(
  x: Float32Array | Int32Array,
  xType: 'float32' | 'int32',
  y: Float32Array | Int32Array,
  yType: 'float32' | 'int32',
): void {
  checkLength('cast', 'y', y, x.length);
  if (x instanceof Int32Array !== (xType === 'int32') || y instanceof Int32Array !== (yType === 'int32')) {
    fail('cast', `the arrays (${x.constructor.name} to ${y.constructor.name}) do not match the types ${xType} to ${yType}`);
  }
  // Int32Array stores ToInt32 of the value: it truncates toward zero (as wanted) but wraps beyond 2^31 and
  // turns NaN into 0, silently, so a value with no int32 counterpart is an error instead.
  if (y instanceof Int32Array && x instanceof Float32Array) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!(v >= -2147483648 && v < 2147483648)) {
        fail('cast', `value ${v} at index ${i} is outside the int32 range [-2147483648, 2147483647]`);
      }
    }
  }
  y.set(x);
}
