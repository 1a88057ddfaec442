import { add, mean, mul, noGrad, reshape, rsqrt, square, sub, type Tensor, type Variable } from '@axon/tensor';
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { formatShape, singleShape, type Shape } from '../shape.js';
import { bool, initializerOption, oneTensor, regularizerOption, rejectConstraint } from './util.js';

/** Arguments of {@link BatchNormalization} (Keras `BatchNormalization`; defaults as Keras). */
export interface BatchNormalizationArgs extends LayerArgs {
  /** The feature axis (normalized per feature); default -1. A one-element list (as Keras saves it) is accepted. */
  axis?: number | [number];
  /** Moving statistics: moving = moving * momentum + batch * (1 - momentum); default 0.99. */
  momentum?: number;
  /** Added to the variance; default 1e-3. */
  epsilon?: number;
  /** Add the learned offset beta; default true. */
  center?: boolean;
  /** Multiply by the learned scale gamma; default true. */
  scale?: boolean;
  /** Initializer of beta; default 'zeros'. */
  betaInitializer?: InitializerIdentifier;
  /** Initializer of gamma; default 'ones'. */
  gammaInitializer?: InitializerIdentifier;
  /** Initializer of the moving mean; default 'zeros'. */
  movingMeanInitializer?: InitializerIdentifier;
  /** Initializer of the moving variance; default 'ones'. */
  movingVarianceInitializer?: InitializerIdentifier;
  /** Penalty on beta added to the loss; default none. */
  betaRegularizer?: RegularizerIdentifier | null;
  /** Penalty on gamma added to the loss; default none. */
  gammaRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  betaConstraint?: null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  gammaConstraint?: null;
}

/**
 * Batch normalization (Ioffe & Szegedy), as Keras computes it:
 * - training (`training: true`, layer trainable): normalize with the batch mean
 *   and the biased batch variance over every axis but `axis`, and update
 *   moving_mean / moving_variance with the same (biased) statistics;
 * - otherwise: normalize with the moving statistics.
 * Weights, in Keras order: gamma, beta (trainable), moving_mean, moving_variance.
 */
export class BatchNormalization extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'axis',
    'momentum',
    'epsilon',
    'center',
    'scale',
    'betaInitializer',
    'gammaInitializer',
    'movingMeanInitializer',
    'movingVarianceInitializer',
    'betaRegularizer',
    'gammaRegularizer',
    'betaConstraint',
    'gammaConstraint',
  ];
  static override className = 'BatchNormalization';
  /** The feature axis (may be negative). */
  readonly axis: number;
  /** Momentum of the moving statistics. */
  readonly momentum: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether beta is added. */
  readonly center: boolean;
  /** Whether gamma multiplies. */
  readonly scale: boolean;
  /** beta's initializer. */
  readonly betaInitializer: Initializer;
  /** gamma's initializer. */
  readonly gammaInitializer: Initializer;
  /** The moving mean's initializer. */
  readonly movingMeanInitializer: Initializer;
  /** The moving variance's initializer. */
  readonly movingVarianceInitializer: Initializer;
  /** beta's regularizer, or null. */
  readonly betaRegularizer: Regularizer | null;
  /** gamma's regularizer, or null. */
  readonly gammaRegularizer: Regularizer | null;
  /** The learned scale [features] (trainable); null until built or without scale. */
  gamma: Variable | null = null;
  /** The learned offset [features] (trainable); null until built or without center. */
  beta: Variable | null = null;
  /** The moving mean [features] (non-trainable), used outside training; null until built. */
  movingMean: Variable | null = null;
  /** The moving variance [features] (non-trainable), used outside training; null until built. */
  movingVariance: Variable | null = null;

  /**
   * @throws Error if axis is not an integer, momentum is outside [0, 1], epsilon is not positive,
   *   an option is unknown, or a constraint is given.
   */
  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    const axis = Array.isArray(args.axis) && args.axis.length === 1 ? args.axis[0] : (args.axis ?? -1);
    this.axis = axis as number;
    if (!Number.isInteger(this.axis)) throw new Error(`Layer ${this.name}: axis must be an integer, got ${JSON.stringify(args.axis)}`);
    this.momentum = args.momentum ?? 0.99;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1))
      throw new Error(`Layer ${this.name}: momentum must be in [0, 1], got ${JSON.stringify(args.momentum)}`);
    this.epsilon = args.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0)) {
      throw new Error(`Layer ${this.name}: epsilon must be a positive number, got ${JSON.stringify(args.epsilon)}`);
    }
    this.center = bool(this.name, 'center', args.center, true);
    this.scale = bool(this.name, 'scale', args.scale, true);
    this.betaInitializer = initializerOption(this.name, 'betaInitializer', args.betaInitializer, 'zeros');
    this.gammaInitializer = initializerOption(this.name, 'gammaInitializer', args.gammaInitializer, 'ones');
    this.movingMeanInitializer = initializerOption(this.name, 'movingMeanInitializer', args.movingMeanInitializer, 'zeros');
    this.movingVarianceInitializer = initializerOption(this.name, 'movingVarianceInitializer', args.movingVarianceInitializer, 'ones');
    this.betaRegularizer = regularizerOption(this.name, 'betaRegularizer', args.betaRegularizer);
    this.gammaRegularizer = regularizerOption(this.name, 'gammaRegularizer', args.gammaRegularizer);
    rejectConstraint(this.name, 'betaConstraint', args.betaConstraint);
    rejectConstraint(this.name, 'gammaConstraint', args.gammaConstraint);
    this.supportsMasking = true;
  }

  private resolveAxis(rank: number): number {
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 0 || axis >= rank) {
      throw new Error(`Layer ${this.name}: axis ${this.axis} is out of range for an input of rank ${rank}`);
    }
    return axis;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const axis = this.resolveAxis(shape.length);
    const dim = shape[axis];
    if (dim == null) throw new Error(`Layer ${this.name}: axis ${this.axis} of the input shape ${formatShape(shape)} must be known`);
    if (this.scale) this.gamma = this.addWeight('gamma', [dim], this.gammaInitializer, this.gammaRegularizer);
    if (this.center) this.beta = this.addWeight('beta', [dim], this.betaInitializer, this.betaRegularizer);
    this.movingMean = this.addWeight('moving_mean', [dim], this.movingMeanInitializer, null, false);
    this.movingVariance = this.addWeight('moving_variance', [dim], this.movingVarianceInitializer, null, false);
    this.inputSpec = [{ ndim: shape.length, axes: { [axis]: dim } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    const axis = this.resolveAxis(x.rank);
    const dim = x.shape[axis]!;
    // Parameters of shape [dim] broadcast against x once placed on `axis`.
    const broadcastShape = x.shape.map((_, i) => (i === axis ? dim : 1));
    const param = (v: Tensor): Tensor => (axis === x.rank - 1 ? v : reshape(v, broadcastShape));
    let y: Tensor;
    // As Keras 2+: a frozen (trainable = false) BatchNormalization runs in inference mode.
    if (kwargs.training === true && this.trainable) {
      const reduceAxes = x.shape.map((_, i) => i).filter((i) => i !== axis);
      const batchMean = mean(x, reduceAxes, true);
      const centered = sub(x, batchMean);
      const batchVariance = mean(square(centered), reduceAxes, true);
      y = mul(centered, rsqrt(add(batchVariance, this.epsilon)));
      this.updateMovingStatistics(reshape(batchMean, [dim]), reshape(batchVariance, [dim]));
    } else {
      y = mul(sub(x, param(this.movingMean!)), rsqrt(add(param(this.movingVariance!), this.epsilon)));
    }
    if (this.gamma) y = mul(y, param(this.gamma));
    if (this.beta) y = add(y, param(this.beta));
    return y;
  }

  private updateMovingStatistics(batchMean: Tensor, batchVariance: Tensor): void {
    noGrad(() => {
      const m = this.momentum;
      this.movingMean!.assign(add(mul(this.movingMean!, m), mul(batchMean, 1 - m)));
      this.movingVariance!.assign(add(mul(this.movingVariance!, m), mul(batchVariance, 1 - m)));
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      movingMeanInitializer: serializeInitializer(this.movingMeanInitializer),
      movingVarianceInitializer: serializeInitializer(this.movingVarianceInitializer),
      betaRegularizer: serializeRegularizer(this.betaRegularizer),
      gammaRegularizer: serializeRegularizer(this.gammaRegularizer),
      betaConstraint: null,
      gammaConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(BatchNormalization);
/**
 * A {@link BatchNormalization} layer.
 *
 * @example
 * ```ts
 * [conv2d({ filters: 32, kernelSize: 3, useBias: false, inputShape: [28, 28, 1] }), batchNormalization(), activation({ activation: 'relu' })];
 * ```
 */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);

// ---- LayerNormalization ------------------------------------------------------------------

/** Arguments of {@link LayerNormalization} (Keras / TensorFlow.js `LayerNormalization`; defaults as Keras). */
export interface LayerNormalizationArgs extends LayerArgs {
  /** The axis or axes normalized over (each sample separately); default -1. Negative axes count from the end. */
  axis?: number | number[];
  /** Added to the variance; default 1e-3. */
  epsilon?: number;
  /** Add the learned offset beta; default true. */
  center?: boolean;
  /** Multiply by the learned scale gamma; default true. */
  scale?: boolean;
  /** Initializer of beta; default 'zeros'. */
  betaInitializer?: InitializerIdentifier;
  /** Initializer of gamma; default 'ones'. */
  gammaInitializer?: InitializerIdentifier;
  /** Penalty on beta added to the loss; default none. */
  betaRegularizer?: RegularizerIdentifier | null;
  /** Penalty on gamma added to the loss; default none. */
  gammaRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  betaConstraint?: null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  gammaConstraint?: null;
}

/**
 * Layer normalization (Ba et al.), as Keras computes it, the same in training and inference:
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, where mean and the (biased) variance
 * are taken per sample over `axis`. gamma and beta have the input's sizes along `axis`
 * (e.g. [features] for the default -1), laid onto the input's axes by a reshape as Keras and
 * TensorFlow.js do (so list several axes in increasing order). Weights, in Keras order: gamma, beta (both trainable).
 */
export class LayerNormalization extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'axis',
    'epsilon',
    'center',
    'scale',
    'betaInitializer',
    'gammaInitializer',
    'betaRegularizer',
    'gammaRegularizer',
    'betaConstraint',
    'gammaConstraint',
  ];
  static override className = 'LayerNormalization';
  /** The normalized axis or axes, as given (may be negative). */
  readonly axis: number | number[];
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether beta is added. */
  readonly center: boolean;
  /** Whether gamma multiplies. */
  readonly scale: boolean;
  /** beta's initializer. */
  readonly betaInitializer: Initializer;
  /** gamma's initializer. */
  readonly gammaInitializer: Initializer;
  /** beta's regularizer, or null. */
  readonly betaRegularizer: Regularizer | null;
  /** gamma's regularizer, or null. */
  readonly gammaRegularizer: Regularizer | null;
  /** The learned scale (trainable), shaped as the input along `axis`; null until built or without scale. */
  gamma: Variable | null = null;
  /** The learned offset (trainable), shaped as the input along `axis`; null until built or without center. */
  beta: Variable | null = null;

  /**
   * @throws Error if axis is not an integer or a non-empty list of integers, epsilon is not
   *   positive, an option is unknown, or a constraint is given.
   */
  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    const axis = args.axis ?? -1;
    const valid = Array.isArray(axis) ? axis.length > 0 && axis.every((a) => Number.isInteger(a)) : Number.isInteger(axis);
    if (!valid) {
      throw new Error(`Layer ${this.name}: axis must be an integer or a non-empty array of integers, got ${JSON.stringify(args.axis)}`);
    }
    this.axis = Array.isArray(axis) ? [...axis] : axis;
    this.epsilon = args.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0)) {
      throw new Error(`Layer ${this.name}: epsilon must be a positive number, got ${JSON.stringify(args.epsilon)}`);
    }
    this.center = bool(this.name, 'center', args.center, true);
    this.scale = bool(this.name, 'scale', args.scale, true);
    this.betaInitializer = initializerOption(this.name, 'betaInitializer', args.betaInitializer, 'zeros');
    this.gammaInitializer = initializerOption(this.name, 'gammaInitializer', args.gammaInitializer, 'ones');
    this.betaRegularizer = regularizerOption(this.name, 'betaRegularizer', args.betaRegularizer);
    this.gammaRegularizer = regularizerOption(this.name, 'gammaRegularizer', args.gammaRegularizer);
    rejectConstraint(this.name, 'betaConstraint', args.betaConstraint);
    rejectConstraint(this.name, 'gammaConstraint', args.gammaConstraint);
    this.supportsMasking = true;
  }

  /** The normalized axes as non-negative integers, in the order given. */
  private resolveAxes(rank: number): number[] {
    const given = Array.isArray(this.axis) ? this.axis : [this.axis];
    const axes = given.map((a) => {
      const r = a < 0 ? a + rank : a;
      if (r < 0 || r >= rank) throw new Error(`Layer ${this.name}: axis ${a} is out of range for an input of rank ${rank}`);
      return r;
    });
    if (new Set(axes).size !== axes.length) {
      throw new Error(`Layer ${this.name}: axis ${JSON.stringify(this.axis)} names an axis twice (input rank ${rank})`);
    }
    return axes;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const axes = this.resolveAxes(shape.length);
    const paramShape = axes.map((a) => {
      const d = shape[a];
      if (d == null) throw new Error(`Layer ${this.name}: axis ${a} of the input shape ${formatShape(shape)} must be known`);
      return d;
    });
    if (this.scale) this.gamma = this.addWeight('gamma', paramShape, this.gammaInitializer, this.gammaRegularizer);
    if (this.center) this.beta = this.addWeight('beta', paramShape, this.betaInitializer, this.betaRegularizer);
    this.inputSpec = [{ ndim: shape.length, axes: Object.fromEntries(axes.map((a, i) => [a, paramShape[i]!])) }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    const axes = this.resolveAxes(x.rank);
    const mu = mean(x, axes, true);
    const centered = sub(x, mu);
    const variance = mean(square(centered), axes, true);
    let y = mul(centered, rsqrt(add(variance, this.epsilon)));
    // gamma/beta, of shape [x.shape[a] for a in axes], are reshaped onto x's axes (as Keras and tfjs do).
    const broadcastShape = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
    const param = (v: Tensor): Tensor => (axes.length === 1 && axes[0] === x.rank - 1 ? v : reshape(v, broadcastShape));
    if (this.gamma) y = mul(y, param(this.gamma));
    if (this.beta) y = add(y, param(this.beta));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      axis: Array.isArray(this.axis) ? [...this.axis] : this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      betaRegularizer: serializeRegularizer(this.betaRegularizer),
      gammaRegularizer: serializeRegularizer(this.gammaRegularizer),
      ...super.getConfig(),
    };
  }
}
registerLayer(LayerNormalization);
/**
 * A {@link LayerNormalization} layer (Keras `LayerNormalization`, `tf.layers.layerNormalization`).
 *
 * @throws Error if axis is not an integer (or list of them), epsilon is not positive, or an option is unknown.
 *
 * @example
 * ```ts
 * [dense({ units: 64, inputShape: [32] }), layerNormalization(), activation({ activation: 'relu' })];
 * layerNormalization({ axis: [1, 2] }); // per-sample statistics over both of [batch, 5, 8]'s feature axes
 * ```
 */
export const layerNormalization = (args: LayerNormalizationArgs = {}): LayerNormalization => new LayerNormalization(args);
