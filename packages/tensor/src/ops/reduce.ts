import { recordOp } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { normalizeAxes, normalizeAxis, sizeBetween } from '../shape.js';
import { Tensor, copyStorage } from '../tensor.js';
import { add, div, equal, exp, log, mul, sub } from './elementwise.js';
import { broadcastTo, reshape } from './shape-ops.js';
import { asFloat, assertTensor, buf, empty, kernels } from './util.js';

/** One axis or several; negative axes count from the end (-1 is the last). */
export type Axes = number | readonly number[];

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * Runs the reduce kernel over `axes`, one contiguous run of axes at a time
 * (from the last run backwards, so earlier axis numbers stay valid); sum, max,
 * min and prod compose this way, and mean does too because every run is uniform.
 */
function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[], outShape: readonly number[]): Tensor {
  let current = asFloat(x);
  let shape = [...x.shape];
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  // No axis to reduce: a copy (the op's result must be a new tensor, its gradient node its own).
  if (runs.length === 0) return new Tensor(copyStorage(current, 'float32'), outShape);
  for (let r = runs.length - 1; r >= 0; r--) {
    const [from, to] = runs[r]!;
    const outer = sizeBetween(shape, 0, from);
    const size = sizeBetween(shape, from, to);
    const inner = sizeBetween(shape, to, shape.length);
    shape = [...shape.slice(0, from), ...new Array<number>(to - from).fill(1), ...shape.slice(to)];
    const out = empty(r === 0 ? outShape : shape);
    kernels().reduce(op, buf(current, op), buf(out, op), outer, size, inner);
    current = out;
  }
  return current;
}

function reduceOp(op: ReduceOp, x: Tensor, axis: Axes | undefined, keepDims: boolean): Tensor {
  assertTensor(op, x);
  const axes = normalizeAxes(op, axis, x.rank);
  const kept = keptShape(x.shape, axes);
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const y = reduceRaw(op, x, axes, outShape);
  return recordOp(op, y, [x], (dy) => {
    const g = reshape(dy, kept);
    switch (op) {
      case 'sum':
        return [broadcastTo(g, x.shape)];
      case 'mean': {
        const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
        return [broadcastTo(div(g, count), x.shape)];
      }
      case 'max':
      case 'min': {
        // Ties share the gradient equally, as TensorFlow and PyTorch (amax) do.
        const mask = equal(x, reshape(y, kept));
        return [mul(div(mask, sum(mask, axes, true)), g)];
      }
      case 'prod':
        return [mul(g, div(reshape(y, kept), x))];
    }
  });
}

/**
 * Sum over `axis` (every axis when omitted). keepDims keeps each reduced axis with size 1.
 *
 * @throws Error if an axis is out of range.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * sum(x).item();           // 10
 * sum(x, 0).toArray();     // [4, 6]
 * sum(x, -1, true).shape;  // [2, 1]
 * ```
 */
export const sum = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduceOp('sum', x, axis, keepDims);
/** Arithmetic mean over `axis` (every axis when omitted); keepDims keeps reduced axes with size 1. */
export const mean = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduceOp('mean', x, axis, keepDims);
/** Largest value over `axis` (every axis when omitted); ties share the gradient equally. */
export const max = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduceOp('max', x, axis, keepDims);
/** Smallest value over `axis` (every axis when omitted); ties share the gradient equally. */
export const min = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduceOp('min', x, axis, keepDims);
/** Product over `axis` (every axis when omitted); keepDims keeps reduced axes with size 1. */
export const prod = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduceOp('prod', x, axis, keepDims);

/** log(sum(exp(x))) over axes, computed stably. */
export function logSumExp(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  assertTensor('logSumExp', x);
  const axes = normalizeAxes('logSumExp', axis, x.rank);
  const m = reduceOp('max', x, axes, true);
  const shift = new Tensor(m.storage, m.shape); // a constant view: the gradient is softmax without it
  const y = add(log(sum(exp(sub(x, shift)), axes, true)), shift);
  return keepDims
    ? y
    : reshape(
        y,
        x.shape.filter((_, i) => !axes.includes(i)),
      );
}

function argReduce(op: 'max' | 'min', x: Tensor, axis: number): Tensor {
  const name = op === 'max' ? 'argMax' : 'argMin';
  assertTensor(name, x);
  const a = normalizeAxis(name, axis, x.rank);
  const outer = sizeBetween(x.shape, 0, a);
  const size = x.shape[a] ?? 1; // a scalar (axis 0) is one value along its axis
  if (size === 0) throw new Error(`${name}: axis ${axis} has size 0`);
  const inner = sizeBetween(x.shape, a + 1, x.rank);
  const xf = asFloat(x);
  const out = empty(
    x.shape.filter((_, i) => i !== a),
    'int32',
  );
  kernels().argReduce(op, buf(xf, name), buf(out, name), outer, size, inner);
  return out;
}

/** Index of the largest value along an axis (default the last), as int32; the first index wins ties. No gradient. */
export const argMax = (x: Tensor, axis = -1): Tensor => argReduce('max', x, axis);
/** Index of the smallest value along an axis (default the last), as int32; the first index wins ties. No gradient. */
export const argMin = (x: Tensor, axis = -1): Tensor => argReduce('min', x, axis);
