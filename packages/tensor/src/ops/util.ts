import { recordOp } from '../autograd.js';
import type { BinaryOp, DType } from '../backend.js';
import { allocStorage } from '../memory.js';
import { activeKernels } from '../registry.js';
import { broadcastShapes, formatShape, sizeOf, type Shape } from '../shape.js';
import { Tensor, Variable, bufferOf, copyStorage, type NestedArray, type TypedArray } from '../tensor.js';
import { tensor } from './create.js';

/**
 * What the broadcasting ops (add, mul, where, ...) accept as an operand: a tensor, or values that
 * {@link tensor} converts — a number (a float32 scalar), nested arrays of numbers, or a typed array
 * (float32; an Int32Array gives int32), as TensorFlow.js does.
 */
export type TensorLike = Tensor | number | NestedArray | readonly number[] | TypedArray | Float64Array;

function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return `${typeof x} ${typeof x === 'number' ? String(x) : JSON.stringify(x)}`;
}

/**
 * An op's operand as a tensor: the one place where every op's tensor arguments are checked, so
 * that a string, null, a boolean or an object is an error naming the op and the argument, never
 * a NaN. A number becomes a float32 scalar (filled on the device: no upload); arrays and typed
 * arrays are converted by {@link tensor}.
 *
 * @param op - Names the caller in the error message.
 * @param name - Names the argument in the error message.
 * @throws Error if x is not a Tensor or a value the op converts, or if its values do not make a tensor.
 */
export function asTensor(x: TensorLike, op = 'asTensor', name = 'x'): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return filledTensor([], x);
  if (Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    try {
      return tensor(x as NestedArray);
    } catch (e) {
      throw new Error(`${op}: ${name}: ${(e as Error).message.replace(/^tensor: /, '')}`);
    }
  }
  throw new Error(`${op}: ${name} must be a Tensor, a number, an array of numbers or a typed array, got ${describeValue(x)}`);
}

/**
 * Checks an argument of an op that takes tensors only.
 *
 * @throws Error naming the op and the argument if x is not a Tensor.
 */
export function assertTensor(op: string, x: unknown, name = 'x'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const hint = Array.isArray(x) || ArrayBuffer.isView(x) ? ' (make it one with tensor(...))' : '';
    throw new Error(`${op}: ${name} must be a Tensor, got ${describeValue(x)}${hint}`);
  }
}

/**
 * Checks a numeric argument or option of an op, so that every backend refuses the same values
 * (a string would be coerced by one backend's kernel and refused by another's).
 *
 * @param accept - 'finite' (the default: a size, a rate), 'notNaN' (a bound or a slope: ±Infinity
 *   means something) or 'any' (a value to store, which may be NaN).
 * @throws Error naming `op` and `name` unless value is a number that `accept` allows.
 */
export function assertNumber(
  op: string,
  name: string,
  value: unknown,
  accept: 'finite' | 'notNaN' | 'any' = 'finite',
): asserts value is number {
  const ok = typeof value === 'number' && (accept === 'any' || (accept === 'notNaN' ? !Number.isNaN(value) : Number.isFinite(value)));
  if (!ok) throw new Error(`${op}: ${name} must be a ${accept === 'finite' ? 'finite ' : ''}number, got ${describeValue(value)}`);
}

/**
 * Checks a dtype argument.
 *
 * @throws Error naming `op` unless dtype is 'float32' or 'int32'.
 */
export function assertDType(op: string, dtype: unknown): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`${op}: dtype must be 'float32' or 'int32', got ${describeValue(dtype)}`);
}

export function assertRank(op: string, t: Tensor, rank: number, name = 'x'): void {
  if (t.rank !== rank) {
    throw new Error(`${op}: ${name} must have rank ${rank}, got shape ${formatShape(t.shape)} (rank ${t.rank})`);
  }
}

/** A new tensor of `shape` on the active device, from the pool; its values are for a kernel to write. */
export function empty(shape: Shape, dtype: DType = 'float32'): Tensor {
  return new Tensor(allocStorage(sizeOf(shape), dtype), shape, dtype);
}

/** A tensor of `shape` with every element `value`. */
export function filledTensor(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = empty(shape, dtype);
  activeKernels().fill(bufferOf(t, 'fill'), value);
  return t;
}

/** The kernels of the active backend (each from the backend that serves it). */
export const kernels = activeKernels;

/** t's buffer for a kernel called by `op`. */
export const buf = bufferOf;

/** t as float32 (int32 tensors are converted into a new tensor). */
export function asFloat(t: Tensor): Tensor {
  if (t.dtype === 'float32') return t;
  return new Tensor(copyStorage(t, 'float32'), t.shape);
}

/**
 * x itself, except for a Variable: a copy (a Variable changes in place, so an
 * op result must never be one). Ops whose result would equal their input use it.
 */
export function unaliased(x: Tensor, op: string): Tensor {
  if (!(x instanceof Variable)) return x;
  return recordOp(op, new Tensor(copyStorage(x, x.dtype), x.shape), [x], (dy) => [dy]);
}

/** out = a op b broadcast to `outShape` (default: the broadcast of a and b), no gradient. */
export function rawBinary(
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  name: string,
  outShape: Shape = broadcastShapes(name, a.shape, b.shape),
): Tensor {
  const fa = asFloat(a);
  const fb = asFloat(b);
  const y = empty(outShape);
  kernels().binary(op, buf(fa, name), fa.shape, buf(fb, name), fb.shape, buf(y, name), outShape);
  return y;
}
