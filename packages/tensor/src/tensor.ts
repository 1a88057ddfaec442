import type { DType, TypedArray } from './backend.js';
import { Storage, allocStorage, moveStorage, releasedError, storageFromHost, track, type Tracked } from './memory.js';
import { activeDevice, activeKernels } from './registry.js';
import { assertValidShape, formatShape, sizeOf, type Shape } from './shape.js';

export type { DType, TypedArray } from './backend.js';
/** Nested JS arrays of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/** A node of the autograd graph: how to turn the output's gradient into the inputs' gradients. */
export interface GradNode {
  /** The op's tensor inputs, in the order backward returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  readonly backward: (dy: Tensor) => readonly (Tensor | null)[];
  /** The op's name, for error messages. */
  readonly op: string;
}

let nextId = 0;

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'an object';
}

/**
 * An immutable n-dimensional array of float32 (or int32 for indices and
 * labels), row-major. Its values live in a buffer of the device of the
 * backend that made it (host memory for the CPU backends); read them with
 * dataSync()/data(). Memory is recycled when a step scope ends or the
 * garbage collector collects the tensor, so there is nothing to dispose.
 *
 * Make tensors with {@link tensor} and the other factories rather than the constructor.
 *
 * @example
 * ```ts
 * const t = tensor([[1, 2], [3, 4]]);
 * t.shape;      // [2, 2]
 * t.rank;       // 2
 * t.dataSync(); // Float32Array [1, 2, 3, 4]
 * t.toArray();  // [[1, 2], [3, 4]]
 * ```
 */
export class Tensor implements Tracked {
  /** A number unique to this tensor in the process (error messages name it). */
  readonly id = nextId++;
  /** The dimensions, outermost first (frozen); [] for a scalar. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements: the product of the shape. */
  readonly size: number;
  /** @internal The device buffer (shared with reshaped views). */
  storage: Storage;
  /** @internal The scope that released it, once released. */
  released: string | null = null;
  /** @internal Outlives the scopes it was made in. */
  kept = false;
  /** True when gradients flow to this tensor (a variable, or computed from one). */
  requiresGrad = false;
  /** @internal The op that produced this tensor, when it requires a gradient. */
  gradNode: GradNode | null = null;

  /**
   * A tensor of `shape` holding `values` (a Float32Array or Int32Array, adopted
   * without copying on the host: do not modify it afterwards).
   *
   * @param dtype - Must match the values' type when given.
   * @throws Error if values is not a Float32Array or Int32Array, its length is not the
   *   shape's size, the shape is invalid, or dtype does not match.
   */
  constructor(values: TypedArray | Storage, shape: Shape, dtype?: DType) {
    assertValidShape('tensor', shape);
    let storage: Storage;
    if (values instanceof Storage) {
      storage = values;
    } else if (values instanceof Float32Array || values instanceof Int32Array) {
      storage = storageFromHost(values);
    } else {
      throw new Error(`tensor: values must be a Float32Array or Int32Array, got ${typeName(values)}`);
    }
    const expected = sizeOf(shape);
    if (storage.length !== expected) {
      throw new Error(`tensor: shape ${formatShape(shape)} needs ${expected} values, got ${storage.length}`);
    }
    if (dtype !== undefined && dtype !== storage.dtype) {
      throw new Error(`tensor: dtype '${dtype}' does not match the ${storage.dtype} values given`);
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.size = expected;
    track(this, this instanceof Variable);
  }

  /** The number of axes (0 for a scalar). */
  get rank(): number {
    return this.shape.length;
  }

  /**
   * The values as float32. On the host this is the tensor's own memory (for a
   * float32 tensor): treat it as read-only. It stays valid as long as you hold
   * it; the tensor's memory is then never recycled.
   */
  dataSync(): Float32Array {
    const values = readHost(this, 'dataSync');
    if (!(values instanceof Float32Array)) return Float32Array.from(values);
    exposeHostBuffer(this);
    return values;
  }

  /**
   * The values as int32 (rounded toward zero for float tensors).
   *
   * @throws Error if a float value is outside the int32 range (NaN and ±Infinity included).
   */
  intDataSync(): Int32Array {
    const values = readHost(this, 'intDataSync');
    if (!(values instanceof Int32Array)) return toInt32Array(values, 'intDataSync');
    exposeHostBuffer(this);
    return values;
  }

  /**
   * Copies the values (as float32) into `target` at `offset`, without handing out the tensor's own
   * memory — unlike {@link dataSync}, the tensor's buffer can still be recycled. For code that
   * gathers many tensors into one array (say, gradients into a buffer sent to other processes).
   *
   * @throws RangeError if `target` has fewer than `offset + size` elements.
   *
   * @example
   * ```ts
   * const packed = new Float32Array(5);
   * tensor([1, 2]).copyInto(packed);
   * tensor([3, 4, 5]).copyInto(packed, 2); // packed = [1, 2, 3, 4, 5]
   * ```
   */
  copyInto(target: Float32Array, offset = 0): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > target.length) {
      throw new RangeError(`copyInto: ${this.size} values do not fit in an array of ${target.length} at offset ${offset}`);
    }
    target.set(readHost(this, 'copyInto'), offset);
  }

  /** Async alias of dataSync(), for code written against TensorFlow.js. */
  async data(): Promise<Float32Array> {
    return this.dataSync();
  }

  /** The values as nested arrays following the shape (a number for a scalar). */
  toArray(): NestedArray {
    const values = readHost(this, 'toArray');
    const shape = this.shape;
    if (shape.length === 0) return values[0]!;
    let offset = 0;
    const build = (axis: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[axis]!; i++) {
        out.push(axis === shape.length - 1 ? values[offset++]! : build(axis + 1));
      }
      return out;
    };
    return build(0);
  }

  /** Alias of toArray() for code written against TensorFlow.js. */
  arraySync(): NestedArray {
    return this.toArray();
  }

  /**
   * The single value of a one-element tensor (a scalar, or any shape of size 1).
   *
   * @throws Error if the tensor has more or fewer than one element.
   */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} values, expected exactly 1`);
    return readHost(this, 'item')[0]!;
  }

  /** A short description: dtype, shape and up to the first 8 values (or the scope that released it). */
  toString(): string {
    if (this.released !== null) return `Tensor(${this.dtype}, ${formatShape(this.shape)}, released by scope '${this.released}')`;
    const preview = Array.from(readHost(this, 'toString').subarray(0, 8), (v) => Number(v.toPrecision(6))).join(', ');
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.size ? `: ${preview}${this.size > 8 ? ', ...' : ''}` : ''})`;
  }
}

/**
 * @internal values as int32, truncated toward zero (as TensorFlow.js does). Int32Array.from would wrap a
 * value beyond 2^31 and turn NaN into 0 without a word; such a value is an error naming `op` instead.
 */
export function toInt32Array(values: ArrayLike<number>, op: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.trunc(values[i]!);
    if (!(v >= -2147483648 && v <= 2147483647)) {
      throw new Error(`${op}: value ${values[i]} at index ${i} is outside the int32 range [-2147483648, 2147483647]`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * @internal t's values on the host, read at once and not kept by the caller
 * (so the memory can still be recycled): a download on a device, the buffer
 * itself on the host. Not exported from the package.
 */
export function readHost(t: Tensor, op: string): TypedArray {
  if (t.released !== null || t.storage.buffer === null) throw releasedError(t, op);
  return t.storage.device.read(t.storage.buffer);
}

/** Marks t's host buffer as handed to user code: it is never recycled. */
function exposeHostBuffer(t: Tensor): void {
  if (t.storage.device.host) t.storage.exposed = true;
}

/**
 * @internal The buffer of t on the active device, for a kernel call by `op`:
 * fails if t was released, and moves t's storage first if it lives elsewhere.
 */
export function bufferOf(t: Tensor, op: string): unknown {
  if (t.released !== null || t.storage.buffer === null) throw releasedError(t, op);
  const s = t.storage;
  const device = activeDevice();
  if (s.device !== device) moveStorage(s, device);
  return s.buffer;
}

/**
 * A mutable tensor that gradients flow to: a model's weight. `assign()`
 * replaces its values (same shape); optimizers update it in place. Its memory
 * is its own: no op result ever shares it. Always float32. Variables are never
 * released by a {@link scope}.
 */
export class Variable extends Tensor {
  /** Whether training updates it (and gradients flow to it); true by default. */
  trainable: boolean;
  /** Its name (default `variable_<id>`), as used in error messages. */
  name: string;

  /**
   * A variable holding a float32 copy of `initial`.
   *
   * @param options - `trainable` (default true) and `name` (default `variable_<id>`).
   * @throws Error if initial is not a Tensor.
   */
  constructor(initial: Tensor, options: { trainable?: boolean; name?: string } = {}) {
    if (!(initial instanceof Tensor)) throw new Error(`variable: the initial value must be a Tensor, got ${typeName(initial)}`);
    super(copyStorage(initial, 'float32'), initial.shape);
    this.trainable = options.trainable ?? true;
    this.requiresGrad = this.trainable;
    this.name = options.name ?? `variable_${this.id}`;
  }

  /**
   * A copy of the values: a variable changes in place (assign, optimizer
   * steps), so an array read from it must not follow it (as in TensorFlow.js).
   */
  override dataSync(): Float32Array {
    return Float32Array.from(readHost(this, 'dataSync'));
  }

  /**
   * A copy of the values as int32 (rounded toward zero).
   *
   * @throws Error if a value is outside the int32 range (NaN and ±Infinity included).
   */
  override intDataSync(): Int32Array {
    return toInt32Array(readHost(this, 'intDataSync'), 'intDataSync');
  }

  /**
   * Overwrites the values (in place); the shape must match. An int32 value is converted to float32.
   *
   * @throws Error if value is not a Tensor or its shape differs.
   */
  assign(value: Tensor): void {
    if (!(value instanceof Tensor)) throw new Error(`assign to '${this.name}': expected a Tensor, got ${typeName(value)}`);
    if (value.rank !== this.rank || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign to '${this.name}': expected shape ${formatShape(this.shape)}, got ${formatShape(value.shape)}`);
    }
    // In place, like the fused optimizer updates, so every holder of this variable sees one state.
    activeKernels().cast(bufferOf(value, 'assign'), value.dtype, bufferOf(this, 'assign'), 'float32');
  }
}

/** @internal A fresh storage on the active device holding t's values as `dtype` (a device-side copy). */
export function copyStorage(t: Tensor, dtype: DType): Storage {
  const source = bufferOf(t, 'copy');
  const s = allocStorage(t.size, dtype);
  activeKernels().cast(source, t.dtype, s.buffer, dtype);
  return s;
}

/**
 * Makes a variable from a tensor (its values are copied, as float32).
 *
 * @param trainable - Whether gradients flow to it and optimizers update it (default true).
 * @param name - Its name (default `variable_<id>`).
 *
 * @example
 * ```ts
 * const w = variable(randomNormal([3, 1]), true, 'w');
 * w.assign(zeros([3, 1]));
 * ```
 */
export function variable(initial: Tensor, trainable = true, name?: string): Variable {
  return new Variable(initial, { trainable, ...(name === undefined ? {} : { name }) });
}
