import { assertValidShape, formatShape, sizeOf, type Shape } from './shape.js';

export type DType = 'float32' | 'int32';
export type TypedArray = Float32Array | Int32Array;
/** Nested JS arrays of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/** A node of the autograd graph: how to turn the output's gradient into the inputs' gradients. */
export interface GradNode {
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  readonly backward: (dy: Tensor) => readonly (Tensor | null)[];
  readonly op: string;
}

let nextId = 0;

/**
 * An immutable n-dimensional array of float32 (or int32 for indices and
 * labels), row-major. Values live in a typed array owned by the CPU backends;
 * memory is the garbage collector's, so there is nothing to dispose.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** @internal Storage; read it through dataSync(). Kernels write into fresh arrays only. */
  values: TypedArray;
  /** True when gradients flow to this tensor (a variable, or computed from one). */
  requiresGrad = false;
  /** @internal The op that produced this tensor, when it requires a gradient. */
  gradNode: GradNode | null = null;

  constructor(values: TypedArray, shape: Shape, dtype?: DType) {
    assertValidShape('tensor', shape);
    const expected = sizeOf(shape);
    if (values.length !== expected) {
      throw new Error(`tensor: shape ${formatShape(shape)} needs ${expected} values, got ${values.length}`);
    }
    this.values = values;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  }

  get size(): number {
    return this.values.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /**
   * The values as float32. For a float32 tensor this is the storage itself:
   * treat it as read-only (tensors are immutable).
   */
  dataSync(): Float32Array {
    return this.values instanceof Float32Array ? this.values : Float32Array.from(this.values);
  }

  /** The values as int32 (rounded toward zero for float tensors). */
  intDataSync(): Int32Array {
    return this.values instanceof Int32Array ? this.values : Int32Array.from(this.values, Math.trunc);
  }

  /** Async alias of dataSync(), for code written against TensorFlow.js. */
  async data(): Promise<Float32Array> {
    return this.dataSync();
  }

  /** The values as nested arrays following the shape (a number for a scalar). */
  toArray(): NestedArray {
    const values = this.values;
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

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} values, expected exactly 1`);
    return this.values[0]!;
  }

  toString(): string {
    const preview = Array.from(this.values.subarray(0, 8), (v) => Number(v.toPrecision(6))).join(', ');
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.size ? `: ${preview}${this.size > 8 ? ', ...' : ''}` : ''})`;
  }
}

/**
 * A mutable tensor that gradients flow to: a model's weight. `assign()`
 * replaces its values (same shape); optimizers update it in place.
 */
export class Variable extends Tensor {
  trainable: boolean;
  name: string;

  constructor(initial: Tensor, options: { trainable?: boolean; name?: string } = {}) {
    super(Float32Array.from(initial.dataSync()), initial.shape, 'float32');
    this.trainable = options.trainable ?? true;
    this.requiresGrad = this.trainable;
    this.name = options.name ?? `variable_${this.id}`;
  }

  /** Overwrites the values (in place); the shape must match. */
  assign(value: Tensor): void {
    if (value.size !== this.size || value.rank !== this.rank || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign to '${this.name}': expected shape ${formatShape(this.shape)}, got ${formatShape(value.shape)}`);
    }
    // In place, like the fused optimizer updates, so every holder of this variable sees one state.
    (this.values as Float32Array).set(value.dataSync());
  }
}

/** Makes a trainable variable from a tensor (its values are copied). */
export function variable(initial: Tensor, trainable = true, name?: string): Variable {
  return new Variable(initial, { trainable, ...(name === undefined ? {} : { name }) });
}
