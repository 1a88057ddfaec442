import { randomFloat, randomStandardNormal } from '../random.js';
import { assertValidShape, formatShape, sizeOf, type Shape } from '../shape.js';
import { Tensor, toInt32Array, type DType, type NestedArray, type TypedArray } from '../tensor.js';
import { assertDType, assertNumber, assertTensor, filledTensor } from './util.js';

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

/** How a value that should be a number is named in an error: its type, and the value where short. */
function describeElement(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function flatten(values: NestedArray, shape: readonly number[], axis: number, out: number[]): void {
  if (axis === shape.length) {
    if (typeof values !== 'number') {
      const why = Array.isArray(values) ? 'ragged nested array: ' : '';
      throw new Error(`tensor: ${why}expected a number at depth ${axis}, got ${describeElement(values)}`);
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[axis]) {
    throw new Error(
      `tensor: ragged nested array: expected ${shape[axis]} elements at depth ${axis}, got ${Array.isArray(values) ? values.length : describeElement(values)}`,
    );
  }
  for (const v of values) flatten(v, shape, axis + 1, out);
}

/**
 * Makes a tensor from a typed array, a flat array with a shape, or nested
 * arrays (shape inferred). Int32Array input gives an int32 tensor; other typed
 * arrays (Float64Array, Uint8Array, ...) are converted to float32. A single
 * number gives a scalar (shape []).
 *
 * A Float32Array or Int32Array of the result's dtype is adopted without copying on a
 * host backend: do not modify it afterwards.
 *
 * @param values - The values, row-major.
 * @param shape - The shape; inferred when omitted (a typed array or flat array is then rank 1).
 * @param dtype - Converts the values: to int32 truncates toward zero. Default: int32 for an
 *   Int32Array, else float32.
 * @throws Error for ragged nested arrays, a shape whose size differs from the number of
 *   values, negative or non-integer dimensions, values that are not numbers, an unknown dtype,
 *   or (for int32) a value outside the int32 range (NaN and ±Infinity included).
 *
 * @example
 * ```ts
 * import '@axon/kernels-js';
 * import { tensor } from '@axon/tensor';
 *
 * const a = tensor([[1, 2, 3], [4, 5, 6]]);          // float32 [2, 3]
 * const b = tensor([1, 2, 3, 4, 5, 6], [3, 2]);      // flat values with a shape
 * const labels = tensor(new Int32Array([0, 2, 1])); // int32 [3]
 * console.log(a.shape, b.toArray(), labels.dtype);  // [2, 3] [[1, 2], [3, 4], [5, 6]] 'int32'
 * ```
 */
export function tensor(values: TypedArray | ArrayBufferView | NestedArray | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  if (dtype !== undefined) assertDType('tensor', dtype);
  // The values as given (numbers, or a typed array), converted once to the wanted dtype at the end:
  // going through float32 first would round int32 values beyond 2^24.
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    if (values instanceof DataView || values instanceof BigInt64Array || values instanceof BigUint64Array) {
      throw new Error(`tensor: values must be numbers or a numeric typed array, got a ${values.constructor.name}`);
    }
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
  } else if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values as NestedArray);
    const out: number[] = [];
    if (shape && inferred.length === 1) {
      for (const v of values as unknown[]) {
        if (typeof v !== 'number')
          throw new Error(`tensor: a flat array given with a shape must contain only numbers, got ${describeElement(v)}`);
        out.push(v);
      }
    } else {
      flatten(values as NestedArray, inferred, 0, out);
    }
    flat = out;
  } else {
    throw new Error(`tensor: values must be a number, an array or a typed array, got ${describeElement(values)}`);
  }
  const finalShape = shape ?? inferred;
  assertValidShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: shape ${formatShape(finalShape)} needs ${sizeOf(finalShape)} values, got ${flat.length}`);
  }
  const wanted = dtype ?? (flat instanceof Int32Array ? 'int32' : 'float32');
  // A Float32Array or Int32Array of the wanted dtype is adopted as it is; anything else is converted.
  let typed: TypedArray;
  if (wanted === 'int32') typed = flat instanceof Int32Array ? flat : toInt32Array(flat, 'tensor');
  else typed = flat instanceof Float32Array ? flat : Float32Array.from(flat);
  return new Tensor(typed, finalShape, wanted);
}

/** fill, checked in the name of the op the user called. */
function checkedFill(op: string, shape: Shape, value: number, dtype: DType): Tensor {
  assertValidShape(op, shape);
  assertNumber(op, 'value', value, 'any');
  assertDType(op, dtype);
  const stored = dtype === 'int32' ? toInt32Array([value], op)[0]! : value;
  return filledTensor(shape, stored, dtype);
}

/**
 * A rank-0 tensor (shape []) holding `value`.
 *
 * @throws Error if value is not a number, or (int32) outside the int32 range.
 */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return checkedFill('scalar', [], value, dtype);
}

/**
 * A tensor of `shape` with every element `value` (filled on the device).
 *
 * @throws Error if the shape is invalid, value is not a number, or (int32) outside the int32 range.
 */
export function fill(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  return checkedFill('fill', shape, value, dtype);
}

/** A tensor of `shape` filled with 0. */
export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return checkedFill('zeros', shape, 0, dtype);
}

/** A tensor of `shape` filled with 1. */
export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return checkedFill('ones', shape, 1, dtype);
}

/** Zeros of t's shape and dtype. */
export function zerosLike(t: Tensor): Tensor {
  assertTensor('zerosLike', t, 't');
  return zeros(t.shape, t.dtype);
}

/** Ones of t's shape and dtype. */
export function onesLike(t: Tensor): Tensor {
  assertTensor('onesLike', t, 't');
  return ones(t.shape, t.dtype);
}

/**
 * The values start, start+step, ... up to but excluding stop (float32, rank 1, as tf.range);
 * a negative step counts down. Empty when the range is empty.
 *
 * @throws Error if step is 0.
 */
export function range(start: number, stop: number, step = 1): Tensor {
  assertNumber('range', 'start', start);
  assertNumber('range', 'stop', stop);
  assertNumber('range', 'step', step);
  if (step === 0) throw new Error('range: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return new Tensor(values, [n]);
}

function generate(op: string, shape: Shape, sample: () => number): Tensor {
  assertValidShape(op, shape);
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = sample();
  return new Tensor(values, shape);
}

/**
 * Uniform in [minval, maxval), from the seeded global generator (see {@link setSeed}).
 *
 * @throws Error if maxval < minval.
 */
export function randomUniform(shape: Shape, minval = 0, maxval = 1): Tensor {
  assertNumber('randomUniform', 'minval', minval);
  assertNumber('randomUniform', 'maxval', maxval);
  if (!(maxval >= minval)) throw new Error(`randomUniform: maxval (${maxval}) must be >= minval (${minval})`);
  return generate('randomUniform', shape, () => minval + (maxval - minval) * randomFloat());
}

/**
 * Normal with the given mean and standard deviation, from the seeded global generator (see {@link setSeed}).
 *
 * @throws Error if stddev < 0.
 */
export function randomNormal(shape: Shape, mean = 0, stddev = 1): Tensor {
  assertNumber('randomNormal', 'mean', mean);
  assertNumber('randomNormal', 'stddev', stddev);
  if (!(stddev >= 0)) throw new Error(`randomNormal: stddev must be >= 0, got ${stddev}`);
  return generate('randomNormal', shape, () => mean + stddev * randomStandardNormal());
}

/** Normal values redrawn until within two standard deviations of the mean (as TensorFlow does). */
export function truncatedNormal(shape: Shape, mean = 0, stddev = 1): Tensor {
  assertNumber('truncatedNormal', 'mean', mean);
  assertNumber('truncatedNormal', 'stddev', stddev);
  if (!(stddev >= 0)) throw new Error(`truncatedNormal: stddev must be >= 0, got ${stddev}`);
  return generate('truncatedNormal', shape, () => {
    let z: number;
    do z = randomStandardNormal();
    while (Math.abs(z) > 2);
    return mean + stddev * z;
  });
}
