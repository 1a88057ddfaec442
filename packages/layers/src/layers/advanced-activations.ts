/**
 * Activation layers with options (Keras' advanced activations): ReLU, LeakyReLU, PReLU, ELU and
 * Softmax, named and serialized as TensorFlow.js names them.
 */
import { clip, elu, greater, leakyRelu, mul, relu, reshape, softmax, sub, type Tensor, type Variable } from '@axon/tensor';
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { formatShape, singleShape, type Shape } from '../shape.js';
import { initializerOption, oneTensor, regularizerOption, rejectConstraint } from './util.js';

/** value (or fallback when undefined/null), checked to be a finite number >= min (when given). */
function numberOption(layer: string, option: string, value: unknown, fallback: number, min?: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min)) {
    const expected = min === undefined ? 'a finite number' : `a finite number >= ${min}`;
    throw new Error(`Layer ${layer}: ${option} must be ${expected}, got ${JSON.stringify(value)}`);
  }
  return v;
}

// ---- ReLU --------------------------------------------------------------------------------

/** Arguments of {@link ReLU} (Keras `ReLU`). */
export interface ReLULayerArgs extends LayerArgs {
  /** Upper bound of the output (>= 0); default none (unbounded). */
  maxValue?: number | null;
  /** Slope below the threshold (>= 0); default 0. */
  negativeSlope?: number;
  /** Inputs at or below it (>= 0) are "negative"; default 0. */
  threshold?: number;
}

/**
 * Rectified linear unit with Keras' options:
 * f(x) = min(x, maxValue) for x > threshold (x clipped at 0 from below when maxValue is set),
 * negativeSlope · (x - threshold) otherwise. The defaults give max(x, 0).
 * TensorFlow.js' ReLU knows maxValue only (it ignores negativeSlope and threshold).
 */
export class ReLU extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['maxValue', 'negativeSlope', 'threshold'];
  static override className = 'ReLU';
  /** Upper bound of the output, or null. */
  readonly maxValue: number | null;
  /** Slope below the threshold. */
  readonly negativeSlope: number;
  /** The threshold. */
  readonly threshold: number;

  /** @throws Error if maxValue, negativeSlope or threshold is negative or not a number (as Keras). */
  constructor(args: ReLULayerArgs = {}) {
    super(args);
    this.maxValue = args.maxValue == null ? null : numberOption(this.name, 'maxValue', args.maxValue, 0, 0);
    this.negativeSlope = numberOption(this.name, 'negativeSlope', args.negativeSlope, 0, 0);
    this.threshold = numberOption(this.name, 'threshold', args.threshold, 0, 0);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    const { maxValue, negativeSlope: slope, threshold } = this;
    // As Keras' backend relu (keras/backend.py).
    if (slope !== 0 && maxValue === null && threshold === 0) return leakyRelu(x, slope);
    let y = threshold !== 0 ? mul(x, greater(x, threshold)) : relu(x);
    if (maxValue !== null) y = clip(y, 0, maxValue);
    if (slope !== 0) y = sub(y, mul(relu(sub(threshold, x)), slope));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return { maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold, ...super.getConfig() };
  }
}
registerLayer(ReLU);
/**
 * A {@link ReLU} layer (`tf.layers.reLU`).
 *
 * @throws Error if maxValue, negativeSlope or threshold is negative.
 *
 * @example
 * ```ts
 * reLU({ maxValue: 6 }); // ReLU6
 * reLU({ negativeSlope: 0.1, threshold: 0.5 });
 * ```
 */
export const reLU = (args: ReLULayerArgs = {}): ReLU => new ReLU(args);

// ---- LeakyReLU ---------------------------------------------------------------------------

/** Arguments of {@link LeakyReLU}. */
export interface LeakyReLULayerArgs extends LayerArgs {
  /** Slope for x < 0 (>= 0); default 0.3, as Keras 2 and TensorFlow.js. */
  alpha?: number;
}

/** Leaky rectified linear unit: f(x) = x for x > 0, alpha · x otherwise (Keras `LeakyReLU`). */
export class LeakyReLU extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['alpha'];
  static override className = 'LeakyReLU';
  /** Slope for negative inputs. */
  readonly alpha: number;

  /** @throws Error if alpha is negative or not a number. */
  constructor(args: LeakyReLULayerArgs = {}) {
    super(args);
    this.alpha = numberOption(this.name, 'alpha', args.alpha, 0.3, 0);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return leakyRelu(oneTensor(this.name, inputs), this.alpha);
  }

  override getConfig(): Record<string, unknown> {
    return { alpha: this.alpha, ...super.getConfig() };
  }
}
registerLayer(LeakyReLU);
/**
 * A {@link LeakyReLU} layer (`tf.layers.leakyReLU`; alpha defaults to 0.3).
 *
 * @throws Error if alpha is negative.
 *
 * @example
 * ```ts
 * [dense({ units: 32, inputShape: [8] }), leakyReLU({ alpha: 0.1 })];
 * ```
 */
export const leakyReLU = (args: LeakyReLULayerArgs = {}): LeakyReLU => new LeakyReLU(args);

// ---- PReLU -------------------------------------------------------------------------------

/** Arguments of {@link PReLU}. */
export interface PReLULayerArgs extends LayerArgs {
  /** Initializer of the learned slopes; default 'zeros'. */
  alphaInitializer?: InitializerIdentifier;
  /** Penalty on the slopes added to the loss; default none. */
  alphaRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  alphaConstraint?: null;
  /**
   * Axes (counting the batch axis as 0, so >= 1) along which one slope is shared, e.g. [1, 2]
   * for one slope per channel of [batch, height, width, channels]; default none.
   */
  sharedAxes?: number | number[] | null;
}

/**
 * Parametric ReLU: f(x) = x for x > 0, alpha · x otherwise, with alpha learned per element of
 * the sample shape (shared along `sharedAxes`). Weight: alpha (trainable).
 */
export class PReLU extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['alphaInitializer', 'alphaRegularizer', 'alphaConstraint', 'sharedAxes'];
  static override className = 'PReLU';
  /** The slopes' initializer. */
  readonly alphaInitializer: Initializer;
  /** The slopes' regularizer, or null. */
  readonly alphaRegularizer: Regularizer | null;
  /** The axes sharing a slope, or null. */
  readonly sharedAxes: number[] | null;
  /** The learned slopes: the sample shape with 1 on the shared axes; null until built. */
  alpha: Variable | null = null;

  /** @throws Error if sharedAxes are not positive integers, an option is unknown, or a constraint is given. */
  constructor(args: PReLULayerArgs = {}) {
    super(args);
    this.alphaInitializer = initializerOption(this.name, 'alphaInitializer', args.alphaInitializer, 'zeros');
    this.alphaRegularizer = regularizerOption(this.name, 'alphaRegularizer', args.alphaRegularizer);
    rejectConstraint(this.name, 'alphaConstraint', args.alphaConstraint);
    const shared = args.sharedAxes == null ? null : Array.isArray(args.sharedAxes) ? args.sharedAxes : [args.sharedAxes];
    if (shared && !shared.every((a) => Number.isInteger(a) && a >= 1)) {
      throw new Error(
        `Layer ${this.name}: sharedAxes must be a positive integer or an array of them (the batch axis is 0), got ${JSON.stringify(args.sharedAxes)}`,
      );
    }
    this.sharedAxes = shared ? [...shared] : null;
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const paramShape = shape.slice(1);
    for (const a of this.sharedAxes ?? []) {
      if (a >= shape.length) {
        throw new Error(
          `Layer ${this.name}: sharedAxes ${JSON.stringify(this.sharedAxes)} is out of range for input shape ${formatShape(shape)}`,
        );
      }
      paramShape[a - 1] = 1;
    }
    const dims = paramShape.map((d, i) => {
      if (d == null)
        throw new Error(`Layer ${this.name}: axis ${i + 1} of the input shape ${formatShape(shape)} must be known (or shared)`);
      return d;
    });
    this.alpha = this.addWeight('alpha', dims, this.alphaInitializer, this.alphaRegularizer);
    const axes: Record<number, number> = {};
    dims.forEach((d, i) => {
      if (!this.sharedAxes?.includes(i + 1)) axes[i + 1] = d;
    });
    this.inputSpec = [{ ndim: shape.length, axes }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    const alpha = reshape(this.alpha!, [1, ...this.alpha!.shape]);
    // As Keras: relu(x) - alpha * relu(-x).
    return sub(relu(x), mul(alpha, relu(mul(x, -1))));
  }

  override getConfig(): Record<string, unknown> {
    return {
      alphaInitializer: serializeInitializer(this.alphaInitializer),
      alphaRegularizer: serializeRegularizer(this.alphaRegularizer),
      alphaConstraint: null,
      sharedAxes: this.sharedAxes,
      ...super.getConfig(),
    };
  }
}
registerLayer(PReLU);
/**
 * A {@link PReLU} layer (`tf.layers.prelu`).
 *
 * @throws Error if sharedAxes are invalid or an option is unknown.
 *
 * @example
 * ```ts
 * [conv2d({ filters: 8, kernelSize: 3, inputShape: [28, 28, 1] }), prelu({ sharedAxes: [1, 2] })]; // one slope per channel
 * ```
 */
export const prelu = (args: PReLULayerArgs = {}): PReLU => new PReLU(args);
/** Alias of {@link prelu} (the Keras class name in camelCase). */
export const pReLU = prelu;

// ---- ELU ---------------------------------------------------------------------------------

/** Arguments of {@link ELU}. */
export interface ELULayerArgs extends LayerArgs {
  /** Scale of the negative part (>= 0); default 1. (TensorFlow.js' ELU layer accepts 1 only.) */
  alpha?: number;
}

/** Exponential linear unit: f(x) = x for x > 0, alpha · (e^x - 1) otherwise (Keras `ELU`). */
export class ELU extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['alpha'];
  static override className = 'ELU';
  /** Scale of the negative part. */
  readonly alpha: number;

  /** @throws Error if alpha is negative or not a number. */
  constructor(args: ELULayerArgs = {}) {
    super(args);
    this.alpha = numberOption(this.name, 'alpha', args.alpha, 1, 0);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return elu(oneTensor(this.name, inputs), this.alpha);
  }

  override getConfig(): Record<string, unknown> {
    return { alpha: this.alpha, ...super.getConfig() };
  }
}
registerLayer(ELU);
/**
 * An {@link ELU} layer (`tf.layers.elu`).
 *
 * @throws Error if alpha is negative.
 *
 * @example
 * ```ts
 * [dense({ units: 16, inputShape: [4] }), elu()];
 * ```
 */
export const eluLayer = (args: ELULayerArgs = {}): ELU => new ELU(args);

// ---- Softmax -----------------------------------------------------------------------------

/** Arguments of {@link Softmax}. */
export interface SoftmaxLayerArgs extends LayerArgs {
  /** The axis normalized over; default -1 (as Keras; TensorFlow.js' own default is 1, so Axon always saves it). */
  axis?: number;
}

/** Softmax over one axis: exp(x) / sum(exp(x)) along `axis` (Keras `Softmax`). */
export class Softmax extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['axis'];
  static override className = 'Softmax';
  /** The normalized axis (may be negative). */
  readonly axis: number;

  /** @throws Error if axis is not an integer. */
  constructor(args: SoftmaxLayerArgs = {}) {
    super(args);
    const axis = Array.isArray(args.axis) && args.axis.length === 1 ? args.axis[0] : (args.axis ?? -1);
    if (!Number.isInteger(axis)) throw new Error(`Layer ${this.name}: axis must be an integer, got ${JSON.stringify(args.axis)}`);
    this.axis = axis as number;
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    if (this.axis >= x.rank || this.axis < -x.rank) {
      throw new Error(`Layer ${this.name}: axis ${this.axis} is out of range for an input of shape ${formatShape(x.shape)}`);
    }
    return softmax(x, this.axis);
  }

  override getConfig(): Record<string, unknown> {
    return { axis: this.axis, ...super.getConfig() };
  }
}
registerLayer(Softmax);
/**
 * A {@link Softmax} layer (`tf.layers.softmax`), exported as `softmax` from `@axon/layers`.
 *
 * @throws Error if axis is not an integer.
 *
 * @example
 * ```ts
 * [dense({ units: 10, inputShape: [64] }), softmax()];
 * ```
 */
export const softmaxLayer = (args: SoftmaxLayerArgs = {}): Softmax => new Softmax(args);
