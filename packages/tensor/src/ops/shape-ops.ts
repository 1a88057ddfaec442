import { recordOp } from '../autograd.js';
import type { Storage } from '../memory.js';
import { broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeBetween, sizeOf, type Shape } from '../shape.js';
import { Tensor, Variable, bufferOf, copyStorage, readHost } from '../tensor.js';
import { cast, sumToShape } from './elementwise.js';
import { asFloat, assertNumber, assertTensor, buf, empty, filledTensor, kernels, rawBinary, unaliased } from './util.js';

/** x's storage, checked live and on the active device, for a new tensor viewing the same values. */
function viewStorage(x: Tensor, op: string): Storage {
  bufferOf(x, op);
  return x.storage;
}

/** Same values, new shape (one dimension may be -1 and is inferred). Shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  assertTensor('reshape', x);
  const inferredAt = shape.indexOf(-1);
  const target = [...shape];
  if (inferredAt >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferredAt));
    if (shape.indexOf(-1, inferredAt + 1) >= 0 || known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} values) to ${formatShape(shape)}`);
    }
    target[inferredAt] = x.size / known;
  }
  if (target.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(target) !== x.size) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} values) to ${formatShape(shape)} (${sizeOf(target)} values)`,
    );
  }
  if (shapesEqual(target, x.shape)) return unaliased(x, 'reshape');
  // A view sharing x's buffer, except of a variable, whose buffer optimizers update in place.
  const y = x instanceof Variable ? new Tensor(copyStorage(x, x.dtype), target) : new Tensor(viewStorage(x, 'reshape'), target);
  return recordOp('reshape', y, [x], (dy) => [reshape(dy, x.shape)]);
}

/** Inserts a dimension of size 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  assertTensor('expandDims', x);
  const a = normalizeAxis('expandDims', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes dimensions of size 1 (all, or those listed). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  assertTensor('squeeze', x);
  if (axes !== undefined && !Array.isArray(axes))
    throw new Error(`squeeze: axes must be an array of axes, got ${typeof axes} ${String(axes)}`);
  const drop = axes?.map((a) => normalizeAxis('squeeze', a, x.rank));
  for (const a of drop ?? []) {
    if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${formatShape(x.shape)} has size ${x.shape[a]}, expected 1`);
  }
  return reshape(
    x,
    x.shape.filter((d, i) => (drop ? !drop.includes(i) : d !== 1)),
  );
}

/** Repeats x along its size-1 (or missing leading) dimensions to `shape`. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  assertTensor('broadcastTo', x);
  const full = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(full, shape)) {
    throw new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (shapesEqual(x.shape, shape)) return unaliased(x, 'broadcastTo');
  // x · 1 with the output shape larger than the operands' broadcast: one pass of the binary kernel.
  const y = rawBinary('mul', x, filledTensor([], 1), 'broadcastTo', shape);
  return recordOp('broadcastTo', y, [x], (dy) => [sumToShape(dy, x.shape)]);
}

/** Permutes axes: output axis i is input axis perm[i]; default reverses them. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  assertTensor('transpose', x);
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== x.rank || sorted.some((a, i) => a !== i)) {
    throw new Error(`transpose: perm [${p.join(',')}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  if (p.every((a, i) => a === i)) return unaliased(x, 'transpose');
  const outShape = p.map((a) => x.shape[a]!);
  const xf = asFloat(x);
  const y = empty(outShape);
  kernels().transpose(buf(xf, 'transpose'), x.shape, p, buf(y, 'transpose'));
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return recordOp('transpose', y, [x], (dy) => [transpose(dy, inverse)]);
}

/** x[begin : begin+size] per axis; a size of -1 takes the rest of that axis. */
export function slice(x: Tensor, begin: number | readonly number[], size?: number | readonly number[]): Tensor {
  assertTensor('slice', x);
  const b = typeof begin === 'number' ? [begin, ...new Array<number>(Math.max(0, x.rank - 1)).fill(0)] : [...begin];
  while (b.length < x.rank) b.push(0);
  const s0 = size === undefined ? [] : typeof size === 'number' ? [size] : [...size];
  const s = x.shape.map((d, i) => {
    const wanted = s0[i] ?? -1;
    return wanted === -1 ? d - b[i]! : wanted;
  });
  if (b.length !== x.rank || b.some((v, i) => !Number.isInteger(v) || v < 0 || s[i]! < 0 || v + s[i]! > x.shape[i]!)) {
    throw new Error(`slice: begin [${b.join(',')}] with size [${s.join(',')}] is out of bounds for shape ${formatShape(x.shape)}`);
  }
  if (shapesEqual(s, x.shape)) return unaliased(x, 'slice');
  const xf = asFloat(x);
  const y = empty(s);
  kernels().slice(buf(xf, 'slice'), x.shape, b, s, buf(y, 'slice'));
  return recordOp('slice', y, [x], (dy) => [
    pad(
      dy,
      x.shape.map((d, i) => [b[i]!, d - b[i]! - s[i]!] as [number, number]),
    ),
  ]);
}

/** Pads each axis with [before, after] cells of `value`. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  assertTensor('pad', x);
  assertNumber('pad', 'value', value, 'any');
  if (paddings.length !== x.rank || paddings.some(([p, q]) => !Number.isInteger(p) || !Number.isInteger(q) || p < 0 || q < 0)) {
    throw new Error(
      `pad: expected ${x.rank} non-negative [before, after] pairs for shape ${formatShape(x.shape)}, got ${JSON.stringify(paddings)}`,
    );
  }
  const before = paddings.map((p) => p[0]);
  const after = paddings.map((p) => p[1]);
  const outShape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  const xf = asFloat(x);
  const y = empty(outShape);
  kernels().pad(buf(xf, 'pad'), x.shape, before, after, value, buf(y, 'pad'));
  return recordOp('pad', y, [x], (dy) => [slice(dy, before, x.shape)]);
}

/** Joins tensors along an existing axis; all other dimensions must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: expected at least one tensor, got none');
  tensors.forEach((t, i) => assertTensor('concat', t, `tensors[${i}]`));
  const first = tensors[0]!;
  const a = normalizeAxis('concat', axis, first.rank);
  for (const [i, t] of tensors.entries()) {
    if (t.rank !== first.rank || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new Error(
        `concat: tensors[${i}] has shape ${formatShape(t.shape)}, incompatible with ${formatShape(first.shape)} along axis ${a}`,
      );
    }
  }
  if (tensors.length === 1) return unaliased(first, 'concat');
  const sizes = tensors.map((t) => t.shape[a]!);
  const outShape = [...first.shape];
  outShape[a] = sizes.reduce((x, y) => x + y, 0);
  const y = empty(outShape);
  const inputs = tensors.map((t) => buf(asFloat(t), 'concat'));
  kernels().concat(inputs, sizes, sizeBetween(first.shape, 0, a), sizeBetween(first.shape, a + 1, first.rank), buf(y, 'concat'));
  return recordOp('concat', y, tensors, (dy) => {
    let offset = 0;
    return tensors.map((t) => {
      const begin = new Array<number>(t.rank).fill(0);
      begin[a] = offset;
      offset += t.shape[a]!;
      return t.requiresGrad ? slice(dy, begin, t.shape) : null;
    });
  });
}

/** Joins equal-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected at least one tensor, got none');
  const first = tensors[0]!;
  for (const [i, t] of tensors.entries()) {
    assertTensor('stack', t, `tensors[${i}]`);
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(`stack: tensors[${i}] has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} like tensors[0]`);
    }
  }
  const a = normalizeAxis('stack', axis, first.rank + 1);
  return concat(
    tensors.map((t) => expandDims(t, a)),
    a,
  );
}

/** Splits into `count` equal parts, or parts of the given sizes (one may be -1), along an axis. */
export function split(x: Tensor, countOrSizes: number | readonly number[], axis = 0): Tensor[] {
  assertTensor('split', x);
  const a = normalizeAxis('split', axis, x.rank);
  const dim = x.shape[a]!;
  let sizes: number[];
  if (typeof countOrSizes === 'number') {
    if (!Number.isInteger(countOrSizes) || countOrSizes <= 0 || dim % countOrSizes !== 0) {
      throw new Error(`split: axis ${a} of size ${dim} cannot be split into ${countOrSizes} equal parts`);
    }
    sizes = new Array<number>(countOrSizes).fill(dim / countOrSizes);
  } else {
    sizes = [...countOrSizes];
    const free = sizes.indexOf(-1);
    if (free >= 0) sizes[free] = dim - sizes.reduce((s, v, i) => (i === free ? s : s + v), 0);
    if (sizes.some((v) => v < 0) || sizes.reduce((s, v) => s + v, 0) !== dim) {
      throw new Error(`split: sizes [${countOrSizes.join(',')}] do not add up to ${dim}, the size of axis ${a}`);
    }
  }
  let offset = 0;
  return sizes.map((size) => {
    const begin = new Array<number>(x.rank).fill(0);
    begin[a] = offset;
    offset += size;
    const s = [...x.shape];
    s[a] = size;
    return slice(x, begin, s);
  });
}

/** The inverse of stack: slices along an axis, dropping it. */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  assertTensor('unstack', x);
  if (x.rank === 0) throw new Error('unstack: x must have at least one axis, got a scalar');
  const a = normalizeAxis('unstack', axis, x.rank);
  if (x.shape[a] === 0) return [];
  return split(x, x.shape[a]!, a).map((t) => squeeze(t, [a]));
}

/** Indices as an int32 tensor; float tensors must hold integers (checked on the host). */
function toIndices(op: string, indices: Tensor | ArrayLike<number>): Tensor {
  if (indices instanceof Tensor) {
    if (indices.dtype === 'int32') return indices;
    const values = readHost(indices, op);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isInteger(values[i])) throw new Error(`${op}: indices must be integers, got ${values[i]} at position ${i}`);
    }
    return cast(indices, 'int32');
  }
  if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
    throw new Error(`${op}: indices must be a Tensor or an array of integers, got ${indices === null ? 'null' : typeof indices}`);
  }
  const values = Int32Array.from(indices as ArrayLike<number>);
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== (indices as ArrayLike<number>)[i])
      throw new Error(`${op}: indices must be integers, got ${(indices as ArrayLike<number>)[i]} at position ${i}`);
  }
  return new Tensor(values, [values.length]);
}

/**
 * Takes slices of x along `axis` at the given indices: the output shape is
 * x.shape[:axis] + indices.shape + x.shape[axis+1:]. The gradient scatters back.
 */
export function gather(x: Tensor, indices: Tensor | ArrayLike<number>, axis = 0): Tensor {
  assertTensor('gather', x);
  const a = normalizeAxis('gather', axis, x.rank);
  const idx = toIndices('gather', indices);
  const outer = sizeBetween(x.shape, 0, a);
  const size = x.shape[a]!;
  const inner = sizeBetween(x.shape, a + 1, x.rank);
  const outShape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  const xf = asFloat(x);
  const y = empty(outShape);
  kernels().gather(buf(xf, 'gather'), buf(idx, 'gather'), buf(y, 'gather'), outer, size, inner);
  return recordOp('gather', y, [xf], (dy) => {
    // scatterAdd accumulates: start from zeros.
    const dx = filledTensor(x.shape, 0);
    kernels().scatterAdd(buf(dy, 'gather'), buf(idx, 'gather'), buf(dx, 'gather'), outer, size, inner);
    return [dx];
  });
}

/** One-hot rows of length `depth`; an index outside [0, depth) gives a row of offValue. */
export function oneHot(indices: Tensor | ArrayLike<number>, depth: number, onValue = 1, offValue = 0): Tensor {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`oneHot: depth must be a positive integer, got ${depth}`);
  assertNumber('oneHot', 'onValue', onValue, 'any');
  assertNumber('oneHot', 'offValue', offValue, 'any');
  const idx = toIndices('oneHot', indices);
  const y = empty([...idx.shape, depth]);
  kernels().oneHot(buf(idx, 'oneHot'), depth, onValue, offValue, buf(y, 'oneHot'));
  return y;
}

/** Repeats x `reps[i]` times along axis i. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  assertTensor('tile', x);
  if (reps.length !== x.rank || reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new Error(`tile: expected ${x.rank} non-negative integer repetitions for shape ${formatShape(x.shape)}, got [${reps.join(',')}]`);
  }
  // Interleave a size-1 axis before each axis, broadcast it to the repetition count, then merge.
  const expanded = reshape(
    x,
    x.shape.flatMap((d) => [1, d]),
  );
  const target = x.shape.flatMap((d, i) => [reps[i]!, d]);
  return reshape(
    broadcastTo(expanded, target),
    x.shape.map((d, i) => d * reps[i]!),
  );
}

/** A copy of x in a buffer of its own (on the device, no round trip), with the gradient passing through. */
export function clone(x: Tensor): Tensor {
  assertTensor('clone', x);
  return recordOp('clone', new Tensor(copyStorage(x, x.dtype), x.shape), [x], (dy) => [dy]);
}
