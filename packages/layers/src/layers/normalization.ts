import { add, mean, mul, noGrad, reshape, rsqrt, square, sub, type Tensor, type Variable } from '@axon/tensor';
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { formatShape, singleShape, type Shape } from '../shape.js';
import { initializerOption, oneTensor, regularizerOption, rejectConstraint } from './util.js';

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
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null;
  gammaRegularizer?: RegularizerIdentifier | null;
  betaConstraint?: null;
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
  static override className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    const axis = Array.isArray(args.axis) && args.axis.length === 1 ? args.axis[0] : (args.axis ?? -1);
    this.axis = axis as number;
    if (!Number.isInteger(this.axis)) throw new Error(`Layer ${this.name}: axis must be an integer, got ${JSON.stringify(args.axis)}`);
    this.momentum = args.momentum ?? 0.99;
    if (!(this.momentum >= 0 && this.momentum <= 1))
      throw new Error(`Layer ${this.name}: momentum must be in [0, 1], got ${JSON.stringify(args.momentum)}`);
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) throw new Error(`Layer ${this.name}: epsilon must be positive, got ${JSON.stringify(args.epsilon)}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
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
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);
