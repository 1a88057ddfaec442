/**
 * Symbolic tensors: the functional API's placeholders (Keras `KerasTensor`, tfjs `SymbolicTensor`).
 * `input({ shape })` makes one; `layer.apply(symbolic)` builds the layer from the symbolic shape,
 * records a node (the layer, its inputs, its outputs) and returns symbolic outputs, so a model can
 * later replay the graph from its inputs to its outputs on real tensors.
 */
import type { DType } from '@axon/tensor';
import type { Shape } from './shape.js';

let nextId = 0;

/** One application of a layer to symbolic inputs (Keras' `Node`). */
export interface LayerNode {
  /** The layer applied (typed loosely here: layer.ts imports this module). */
  readonly layer: {
    /** The layer's name. */
    readonly name: string;
  };
  /** Its inputs, in order. */
  readonly inputs: readonly SymbolicTensor[];
  /** Whether they were given as a list (a multi-input layer) rather than one tensor. */
  readonly inputsAsList: boolean;
  /** Its outputs, in order. */
  readonly outputs: readonly SymbolicTensor[];
  /** Keyword arguments given to apply (other than training), replayed with every call. */
  readonly kwargs: Record<string, unknown>;
}

/**
 * A placeholder for a tensor in a model being defined: it has a shape (null for the batch and any
 * unknown dimension) and a dtype, but no values; it remembers which layer application made it.
 */
export class SymbolicTensor {
  /** Unique per process. */
  readonly id = nextId++;

  constructor(
    /** The shape, batch dimension first (null where unknown). */
    readonly shape: Shape,
    /** The dtype of the values it stands for. */
    readonly dtype: DType,
    /** The layer application that produces it. */
    readonly node: LayerNode,
    /** Which of that node's outputs it is. */
    readonly outputIndex: number,
    /** A readable name, `<layer>/<index>`. */
    readonly name: string,
  ) {}

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** `SymbolicTensor(dense_1/0, [null, 3])`. */
  toString(): string {
    return `SymbolicTensor(${this.name}, [${this.shape.map((d) => d ?? 'null').join(', ')}])`;
  }
}

/** Whether x is a {@link SymbolicTensor}. */
export function isSymbolic(x: unknown): x is SymbolicTensor {
  return x instanceof SymbolicTensor;
}
