/**
 * The merge layers, after Keras 2 and tfjs-layers (layers/merge.ts): Add, Subtract, Multiply,
 * Average, Maximum, Minimum (element-wise), Concatenate and Dot. Each takes a list of tensors,
 * `layer.apply([a, b])`, and returns one tensor. They compose @axon/tensor ops, so autograd gives
 * the gradient with respect to every input on every backend.
 */
import {
  add as addOp,
  concat,
  expandDims,
  matmul,
  maximum as maximumOp,
  minimum as minimumOp,
  mul,
  onesLike,
  reshape,
  rsqrt,
  square,
  sub,
  sum,
  transpose,
  Tensor,
} from '@axon/tensor';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { formatShape, isShapeList, type Shape } from '../shape.js';

/** Arguments of the element-wise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum): LayerArgs only. */
export type MergeArgs = LayerArgs;

const formatShapes = (shapes: readonly Shape[]): string => shapes.map(formatShape).join(', ');

/** The list of input shapes a merge layer was given, or an error naming the layer. */
function shapeList(layer: string, shape: Shape | Shape[], min: number, max = Number.POSITIVE_INFINITY): Shape[] {
  if (!isShapeList(shape)) {
    throw new Error(
      `Layer ${layer} must be called on a list of ${describeCount(min, max)} inputs, got a single input of shape ${formatShape(shape)}`,
    );
  }
  if (shape.length < min || shape.length > max) {
    throw new Error(
      `Layer ${layer} must be called on a list of ${describeCount(min, max)} inputs, got ${shape.length}: ${formatShapes(shape)}`,
    );
  }
  return shape;
}

/** The list of input tensors a merge layer was given, or an error naming the layer. */
function tensorList(layer: string, inputs: Tensor | Tensor[], min: number, max = Number.POSITIVE_INFINITY): Tensor[] {
  if (!Array.isArray(inputs)) {
    throw new Error(
      `Layer ${layer} must be called on a list of ${describeCount(min, max)} inputs, got a single input of shape ${formatShape(inputs.shape)}`,
    );
  }
  if (inputs.length < min || inputs.length > max) {
    throw new Error(
      `Layer ${layer} must be called on a list of ${describeCount(min, max)} inputs, got ${inputs.length}: ${formatShapes(inputs.map((x) => [...x.shape]))}`,
    );
  }
  return inputs;
}

function describeCount(min: number, max: number): string {
  if (min === max) return `exactly ${min}`;
  return `at least ${min}`;
}

/** A 0/1 mask combined element-wise (logical and) from the non-null ones, or null when all are null. */
function andMasks(masks: readonly (Tensor | null | undefined)[]): Tensor | null {
  const present = masks.filter((m): m is Tensor => m instanceof Tensor);
  if (present.length === 0) return null;
  return present.slice(1).reduce((a, b) => mul(a, b), present[0]!);
}

/**
 * The base class of the element-wise merge layers (Keras' `_Merge`, tfjs' `Merge`): two or more
 * inputs with the same batch size whose other dimensions agree or are 1 (broadcast, aligned from
 * the last axis); an input of lower rank gets size-1 axes inserted after its batch axis, as Keras
 * does. The output mask is the logical and of the input masks.
 */
export abstract class Merge extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [];
  /** Fewest inputs (2). */
  protected readonly minInputs: number = 2;
  /** Most inputs (unbounded; Subtract takes exactly 2). */
  protected readonly maxInputs: number = Number.POSITIVE_INFINITY;

  constructor(args: MergeArgs = {}) {
    super(args ?? {});
    this.supportsMasking = true;
  }

  /** Combines inputs of one rank (broadcasting sizes of 1). */
  protected abstract mergeFunction(inputs: Tensor[]): Tensor;

  /** Checks the input shapes (see {@link Merge.computeOutputShape}). */
  override build(inputShape: Shape | Shape[]): void {
    this.computeOutputShape(inputShape);
    this.built = true;
  }

  /**
   * The broadcast shape of the inputs, batch dimension first.
   *
   * @throws Error naming the layer and the shapes if there are too few (or too many) inputs, the
   *   batch sizes differ, or two sizes differ and neither is 1.
   */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = shapeList(this.name, inputShape, this.minInputs, this.maxInputs);
    const batches = [...new Set(shapes.map((s) => s[0]).filter((d) => d !== null && d !== undefined))];
    if (batches.length > 1) {
      throw new Error(`Layer ${this.name}: cannot merge inputs with different batch sizes; got input shapes ${formatShapes(shapes)}`);
    }
    let out: Shape = shapes[0]!.slice(1);
    for (const shape of shapes.slice(1)) {
      const other = shape.slice(1);
      const [long, short] = out.length >= other.length ? [out, other] : [other, out];
      const lead = long.length - short.length;
      const merged: Shape = long.slice(0, lead);
      for (let k = 0; k < short.length; k++) {
        const i = long[lead + k]!;
        const j = short[k]!;
        if (i === null || j === null) merged.push(i === 1 ? j : j === 1 ? i : null);
        else if (i === 1) merged.push(j);
        else if (j === 1 || i === j) merged.push(i);
        else {
          throw new Error(
            `Layer ${this.name}: the inputs cannot be broadcast together (each size must match or be 1 apart from the batch dimension); got input shapes ${formatShapes(shapes)}`,
          );
        }
      }
      out = merged;
    }
    return [batches.length === 1 ? batches[0]! : null, ...out];
  }

  /** Checks the shapes of this call, lifts lower-rank inputs, then merges. */
  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const list = tensorList(this.name, inputs, this.minInputs, this.maxInputs);
    this.computeOutputShape(list.map((x) => [...x.shape]));
    const rank = Math.max(...list.map((x) => x.rank));
    const lifted = list.map((x) => {
      let y = x;
      while (y.rank < rank) y = expandDims(y, 1);
      return y;
    });
    return this.mergeFunction(lifted);
  }

  /**
   * The logical and of the input masks (a list, one per input, null for none): null when every
   * mask is null. A single mask passes through.
   */
  override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | (Tensor | null)[] | null): Tensor | null {
    if (mask === undefined || mask === null) return null;
    return Array.isArray(mask) ? andMasks(mask) : mask;
  }
}

/** Adds its inputs element-wise (Keras `Add`): `add([a, b, c])` is a + b + c. */
export class Add extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Add';
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return inputs.slice(1).reduce((a, b) => addOp(a, b), inputs[0]!);
  }
}

/** Subtracts its second input from its first (Keras `Subtract`): exactly 2 inputs, a - b. */
export class Subtract extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Subtract';
  protected override readonly maxInputs: number = 2;
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return sub(inputs[0]!, inputs[1]!);
  }
}

/** Multiplies its inputs element-wise (Keras `Multiply`). */
export class Multiply extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Multiply';
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return inputs.slice(1).reduce((a, b) => mul(a, b), inputs[0]!);
  }
}

/** Averages its inputs element-wise (Keras `Average`): (a + b + c) / 3. */
export class Average extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Average';
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return mul(
      inputs.slice(1).reduce((a, b) => addOp(a, b), inputs[0]!),
      1 / inputs.length,
    );
  }
}

/** The element-wise maximum of its inputs (Keras `Maximum`); a tie sends the gradient to the first. */
export class Maximum extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Maximum';
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return inputs.slice(1).reduce((a, b) => maximumOp(a, b), inputs[0]!);
  }
}

/** The element-wise minimum of its inputs (Keras `Minimum`); a tie sends the gradient to the first. */
export class Minimum extends Merge {
  /** The options this layer takes besides LayerArgs' (none; others are errors). */
  static override readonly optionNames: readonly string[] = [];
  static override className = 'Minimum';
  protected override mergeFunction(inputs: Tensor[]): Tensor {
    return inputs.slice(1).reduce((a, b) => minimumOp(a, b), inputs[0]!);
  }
}

// ---- Concatenate ----------------------------------------------------------------------------

/** Arguments of {@link Concatenate}. */
export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along, counting the batch axis as 0; negative counts from the end. Default -1. */
  axis?: number;
}

/**
 * Joins its inputs along one axis (Keras `Concatenate`): two or more inputs of the same rank whose
 * sizes agree on every other axis. `concatenate({ axis: -1 }).apply([a, b])` with a [b, 3] and b
 * [b, 4] gives [b, 7]. Masks: along the last axis the output mask is the logical and of the input
 * masks; along another axis the masks ([batch, ...] without the feature axis) are joined along it,
 * a missing one counting as all ones.
 */
export class Concatenate extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['axis'];
  static override className = 'Concatenate';
  /** The join axis as given (default -1). */
  readonly axis: number;

  /** @throws Error if axis is not an integer. */
  constructor(args: ConcatenateArgs = {}) {
    super(args ?? {});
    const axis = args?.axis ?? -1;
    if (!Number.isInteger(axis)) throw new Error(`Layer ${this.name}: axis must be an integer, got ${JSON.stringify(args?.axis)}`);
    this.axis = axis;
    this.supportsMasking = true;
  }

  private resolveAxis(rank: number, shapes: readonly Shape[]): number {
    const a = this.axis < 0 ? rank + this.axis : this.axis;
    if (a < 0 || a >= rank) {
      throw new Error(
        `Layer ${this.name}: axis ${this.axis} is out of range for inputs of rank ${rank}; got input shapes ${formatShapes(shapes)}`,
      );
    }
    return a;
  }

  /** Checks the input shapes (see {@link Concatenate.computeOutputShape}). */
  override build(inputShape: Shape | Shape[]): void {
    this.computeOutputShape(inputShape);
    this.built = true;
  }

  /**
   * The joined shape: the sizes along the axis add up (null when one is unknown).
   *
   * @throws Error naming the layer and the shapes if there are fewer than 2 inputs, the ranks
   *   differ, the axis is out of range or a size off the axis differs.
   */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = shapeList(this.name, inputShape, 2);
    const rank = shapes[0]!.length;
    if (shapes.some((s) => s.length !== rank)) {
      throw new Error(`Layer ${this.name}: the inputs must have the same rank; got input shapes ${formatShapes(shapes)}`);
    }
    const axis = this.resolveAxis(rank, shapes);
    const out = [...shapes[0]!];
    for (const shape of shapes.slice(1)) {
      for (let i = 0; i < rank; i++) {
        const d = shape[i]!;
        if (i === axis) out[i] = out[i] === null || d === null ? null : out[i]! + d;
        else if (out[i] === null) out[i] = d;
        else if (d !== null && d !== out[i]) {
          throw new Error(
            `Layer ${this.name}: the inputs must have matching shapes except along the concatenation axis ${this.axis}; got input shapes ${formatShapes(shapes)}`,
          );
        }
      }
    }
    return out;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const list = tensorList(this.name, inputs, 2);
    const shapes = list.map((x) => [...x.shape] as Shape);
    this.computeOutputShape(shapes);
    return concat(list, this.resolveAxis(list[0]!.rank, shapes));
  }

  /**
   * The output mask from the input masks (one per input, null for none): see the class comment.
   *
   * @throws Error naming the layer if the masks are not one per input.
   */
  override computeMask(inputs: Tensor | Tensor[], mask?: Tensor | (Tensor | null)[] | null): Tensor | null {
    if (mask === undefined || mask === null) return null;
    if (!Array.isArray(mask) || !Array.isArray(inputs)) return Array.isArray(mask) ? andMasks(mask) : mask;
    if (mask.length !== inputs.length) {
      throw new Error(`Layer ${this.name}: expected one mask per input (${inputs.length}), got ${mask.length}`);
    }
    if (mask.every((m) => m === null || m === undefined)) return null;
    const rank = inputs[0]!.rank;
    const axis = this.resolveAxis(
      rank,
      inputs.map((x) => [...x.shape]),
    );
    if (axis === rank - 1) return andMasks(mask);
    const parts = inputs.map((x, i) => mask[i] ?? onesLike(sum(x, -1)));
    return concat(parts, axis);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

// ---- Dot ------------------------------------------------------------------------------------

/** Arguments of {@link Dot}. */
export interface DotArgs extends LayerArgs {
  /** The axis (of both inputs) or the pair of axes (one per input) to contract; counting the batch axis as 0, negative from the end. */
  axes: number | [number, number];
  /** Whether to L2-normalize both inputs along the contracted axes first, giving cosine similarities; default false. */
  normalize?: boolean;
}

/**
 * The per-sample dot product of exactly 2 inputs along the given axes (Keras `Dot`, i.e.
 * `batch_dot`): inputs of rank 2 or 3 (as tfjs-layers). [b, n] · [b, n] with axes 1 gives [b, 1];
 * [b, m, k] · [b, k, n] with axes [2, 1] gives [b, m, n]. With normalize the inputs are first
 * L2-normalized along those axes (cosine similarity). Masks are not propagated.
 */
export class Dot extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['axes', 'normalize'];
  static override className = 'Dot';
  /** The contracted axes as given. */
  readonly axes: number | [number, number];
  /** Whether the inputs are L2-normalized first. */
  readonly normalize: boolean;

  /** @throws Error if axes is not an integer or a pair of integers, or normalize is not a boolean. */
  constructor(args: DotArgs) {
    super(args ?? {});
    const axes = args?.axes;
    const ok = Number.isInteger(axes) || (Array.isArray(axes) && axes.length === 2 && axes.every((a) => Number.isInteger(a)));
    if (!ok) throw new Error(`Layer ${this.name}: axes must be an integer or an array of 2 integers, got ${JSON.stringify(axes)}`);
    this.axes = Array.isArray(axes) ? [axes[0], axes[1]] : axes;
    const normalize = args?.normalize ?? false;
    if (typeof normalize !== 'boolean')
      throw new Error(`Layer ${this.name}: normalize must be a boolean, got ${JSON.stringify(normalize)}`);
    this.normalize = normalize;
  }

  /** The two contracted axes, non-negative, checked against the shapes. */
  private resolveAxes(shapes: readonly Shape[]): [number, number] {
    const given = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
    const resolved = given.map((a, i) => (a < 0 ? a + shapes[i]!.length : a)) as [number, number];
    resolved.forEach((a, i) => {
      if (a < 1 || a >= shapes[i]!.length) {
        throw new Error(
          `Layer ${this.name}: axis ${given[i]} of input ${i} is out of range (the batch axis 0 cannot be contracted); got input shapes ${formatShapes(shapes)}`,
        );
      }
    });
    return resolved;
  }

  /** Checks the input shapes (see {@link Dot.computeOutputShape}). */
  override build(inputShape: Shape | Shape[]): void {
    this.computeOutputShape(inputShape);
    this.built = true;
  }

  /**
   * The first input's shape without its contracted axis, then the second's without its batch and
   * contracted axes; [b] becomes [b, 1].
   *
   * @throws Error naming the layer and the shapes unless there are exactly 2 inputs of rank 2 or 3
   *   with the same batch size and the same size along the contracted axes.
   */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = shapeList(this.name, inputShape, 2, 2);
    const [s1, s2] = shapes as [Shape, Shape];
    if (s1.length < 2 || s1.length > 3 || s2.length < 2 || s2.length > 3) {
      throw new Error(`Layer ${this.name}: the inputs must have rank 2 or 3; got input shapes ${formatShapes(shapes)}`);
    }
    if (s1[0] !== null && s2[0] !== null && s1[0] !== s2[0]) {
      throw new Error(`Layer ${this.name}: cannot merge inputs with different batch sizes; got input shapes ${formatShapes(shapes)}`);
    }
    const [a1, a2] = this.resolveAxes(shapes);
    if (s1[a1] !== null && s2[a2] !== null && s1[a1] !== s2[a2]) {
      throw new Error(
        `Layer ${this.name}: the contracted axes differ in size (${s1[a1]} along axis ${a1} of input 0, ${s2[a2]} along axis ${a2} of input 1); got input shapes ${formatShapes(shapes)}`,
      );
    }
    const out: Shape = [s1[0] ?? s2[0] ?? null, ...s1.filter((_, i) => i !== 0 && i !== a1), ...s2.filter((_, i) => i !== 0 && i !== a2)];
    return out.length === 1 ? [...out, 1] : out;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const list = tensorList(this.name, inputs, 2, 2);
    const shapes = list.map((x) => [...x.shape] as Shape);
    const outShape = this.computeOutputShape(shapes) as number[];
    const [a1, a2] = this.resolveAxes(shapes);
    let [x, y] = list as [Tensor, Tensor];
    if (this.normalize) {
      x = l2Normalize(x, a1);
      y = l2Normalize(y, a2);
    }
    const b = x.shape[0]!;
    // x → [b, m, k] (contracted axis last), y → [b, k, n] (contracted axis first after the batch).
    if (x.rank === 3 && a1 === 1) x = transpose(x, [0, 2, 1]);
    if (y.rank === 3 && a2 === 2) y = transpose(y, [0, 2, 1]);
    const k = x.shape[x.rank - 1]!;
    const x3 = reshape(x, [b, x.size / (b * k), k]);
    const y3 = reshape(y, [b, k, y.size / (b * k)]);
    return reshape(matmul(x3, y3), outShape);
  }

  /** Dot does not propagate masks (as Keras). */
  override computeMask(): Tensor | null {
    return null;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axes: Array.isArray(this.axes) ? [...this.axes] : this.axes, normalize: this.normalize };
  }
}

/** x / sqrt(max(sum(x², axis), 1e-12)) along one axis, as Keras' l2_normalize. */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return mul(x, rsqrt(maximumOp(sum(square(x), axis, true), 1e-12)));
}

registerLayer(Add);
registerLayer(Subtract);
registerLayer(Multiply);
registerLayer(Average);
registerLayer(Maximum);
registerLayer(Minimum);
registerLayer(Concatenate);
registerLayer(Dot);

// ---- factories ------------------------------------------------------------------------------

/** Given a list of tensors, a fresh layer applied to it (Keras' `layers.add([a, b])`); otherwise the layer. */
function make<L extends Layer, A>(Cls: new (args: A) => L, argsOrInputs: A | Tensor[] | undefined, args: A | undefined): L | Tensor {
  if (Array.isArray(argsOrInputs)) return new Cls((args ?? {}) as A).apply(argsOrInputs) as Tensor;
  return new Cls((argsOrInputs ?? {}) as A);
}

/** An {@link Add} layer: `add().apply([a, b])`. */
export function add(args?: MergeArgs): Add;
/** Applies a fresh {@link Add} layer to the tensors and returns their sum (Keras' `layers.add([a, b])`). */
export function add(inputs: Tensor[], args?: MergeArgs): Tensor;
export function add(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Add | Tensor {
  return make(Add, argsOrInputs, args);
}

/** A {@link Subtract} layer: `subtract().apply([a, b])` is a - b. */
export function subtract(args?: MergeArgs): Subtract;
/** Applies a fresh {@link Subtract} layer to the 2 tensors and returns a - b. */
export function subtract(inputs: Tensor[], args?: MergeArgs): Tensor;
export function subtract(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Subtract | Tensor {
  return make(Subtract, argsOrInputs, args);
}

/** A {@link Multiply} layer: `multiply().apply([a, b])`. */
export function multiply(args?: MergeArgs): Multiply;
/** Applies a fresh {@link Multiply} layer to the tensors and returns their element-wise product. */
export function multiply(inputs: Tensor[], args?: MergeArgs): Tensor;
export function multiply(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Multiply | Tensor {
  return make(Multiply, argsOrInputs, args);
}

/** An {@link Average} layer: `average().apply([a, b])`. */
export function average(args?: MergeArgs): Average;
/** Applies a fresh {@link Average} layer to the tensors and returns their element-wise mean. */
export function average(inputs: Tensor[], args?: MergeArgs): Tensor;
export function average(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Average | Tensor {
  return make(Average, argsOrInputs, args);
}

/** A {@link Maximum} layer: `maximum().apply([a, b])`. In @axon/node the tensor op is `ops.maximum`. */
export function maximum(args?: MergeArgs): Maximum;
/** Applies a fresh {@link Maximum} layer to the tensors and returns their element-wise maximum. */
export function maximum(inputs: Tensor[], args?: MergeArgs): Tensor;
export function maximum(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Maximum | Tensor {
  return make(Maximum, argsOrInputs, args);
}

/** A {@link Minimum} layer: `minimum().apply([a, b])`. In @axon/node the tensor op is `ops.minimum`. */
export function minimum(args?: MergeArgs): Minimum;
/** Applies a fresh {@link Minimum} layer to the tensors and returns their element-wise minimum. */
export function minimum(inputs: Tensor[], args?: MergeArgs): Tensor;
export function minimum(argsOrInputs?: MergeArgs | Tensor[], args?: MergeArgs): Minimum | Tensor {
  return make(Minimum, argsOrInputs, args);
}

/** A {@link Concatenate} layer: `concatenate({ axis: 1 }).apply([a, b])`. */
export function concatenate(args?: ConcatenateArgs): Concatenate;
/** Applies a fresh {@link Concatenate} layer to the tensors and returns them joined along `args.axis` (default -1). */
export function concatenate(inputs: Tensor[], args?: ConcatenateArgs): Tensor;
export function concatenate(argsOrInputs?: ConcatenateArgs | Tensor[], args?: ConcatenateArgs): Concatenate | Tensor {
  return make(Concatenate, argsOrInputs, args);
}

/** A {@link Dot} layer: `dot({ axes: 1 }).apply([a, b])`. */
export function dot(args: DotArgs): Dot;
/** Applies a fresh {@link Dot} layer to the 2 tensors and returns their per-sample dot product along `args.axes`. */
export function dot(inputs: Tensor[], args: DotArgs): Tensor;
export function dot(argsOrInputs: DotArgs | Tensor[], args?: DotArgs): Dot | Tensor {
  return make(Dot, argsOrInputs, args);
}
