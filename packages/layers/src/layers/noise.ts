/**
 * Regularization layers that act only in training (`training: true`, as in fit) and are the
 * identity otherwise: SpatialDropout1D/2D, GaussianNoise, GaussianDropout, AlphaDropout.
 * Their randomness comes from the global generator (reproducible with setSeed) or, given a
 * `seed`, from the layer's own generator.
 */
import { add, greaterEqual, mul, randomNormal, randomUniform as randomUniformOf, tensor, type Tensor } from '@axon/tensor';
import { seededRng } from '../initializers.js';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { Dropout, type DropoutArgs } from './core.js';
import { channelsLastOnly, oneTensor, seedOption } from './util.js';

/** rate, checked to be a number in [0, 1). */
function rateOption(layer: string, rate: unknown): number {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new Error(`Layer ${layer}: rate must be a number in [0, 1), got ${JSON.stringify(rate)}`);
  }
  return rate;
}

/** Normal values (mean, stddev) of `shape`, from `rng` when given, else from the global generator. */
function normalNoise(shape: number[], mean: number, stddev: number, rng: { normal(): number } | null): Tensor {
  if (!rng) return randomNormal(shape, mean, stddev);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = mean + stddev * rng.normal();
  return tensor(values, shape);
}

// ---- SpatialDropout1D / 2D ------------------------------------------------------------------

/** Arguments of {@link SpatialDropout1D}. */
export interface SpatialDropout1DArgs extends LayerArgs {
  /** Fraction of the channels to drop, in [0, 1). */
  rate: number;
  /** Seed of the layer's own generator; without it the global (setSeed) generator is used. */
  seed?: number | null;
}

/**
 * Dropout of whole channels of [batch, timesteps, channels] (Keras `SpatialDropout1D`): in training
 * each (sample, channel) pair is zeroed at every timestep with probability `rate`, and the kept
 * ones are scaled by 1/(1-rate); identity otherwise.
 */
export class SpatialDropout1D extends Dropout {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static override readonly optionNames: readonly string[] = ['rate', 'seed'];
  static override className = 'SpatialDropout1D';

  /** @throws Error if rate is not a number in [0, 1) or an option is unknown. */
  constructor(args: SpatialDropout1DArgs) {
    super(args as DropoutArgs);
    this.inputSpec = [{ ndim: 3 }];
  }

  protected override maskShape(x: Tensor): number[] {
    return [x.shape[0]!, 1, x.shape[2]!];
  }
}
registerLayer(SpatialDropout1D);
/**
 * A {@link SpatialDropout1D} layer (`tf.layers.spatialDropout1d`).
 *
 * @throws Error if rate is not a number in [0, 1).
 *
 * @example
 * ```ts
 * [embedding({ inputDim: 1000, outputDim: 32, inputLength: 20 }), spatialDropout1d({ rate: 0.2 })];
 * ```
 */
export const spatialDropout1d = (args: SpatialDropout1DArgs): SpatialDropout1D => new SpatialDropout1D(args);

/** Arguments of {@link SpatialDropout2D}. */
export interface SpatialDropout2DArgs extends SpatialDropout1DArgs {
  /** Only channels-last is supported (Axon images are NHWC); anything else is rejected. */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/**
 * Dropout of whole feature maps of [batch, height, width, channels] (Keras `SpatialDropout2D`):
 * in training each (sample, channel) map is zeroed with probability `rate` and the kept ones are
 * scaled by 1/(1-rate); identity otherwise.
 */
export class SpatialDropout2D extends Dropout {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static override readonly optionNames: readonly string[] = ['rate', 'seed', 'dataFormat'];
  static override className = 'SpatialDropout2D';
  /** Always 'channelsLast'. */
  readonly dataFormat: 'channelsLast';

  /** @throws Error if rate is not a number in [0, 1), dataFormat is not channels-last, or an option is unknown. */
  constructor(args: SpatialDropout2DArgs) {
    super(args as DropoutArgs);
    this.dataFormat = channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

  protected override maskShape(x: Tensor): number[] {
    return [x.shape[0]!, 1, 1, x.shape[3]!];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}
registerLayer(SpatialDropout2D);
/**
 * A {@link SpatialDropout2D} layer (Keras `SpatialDropout2D`; TensorFlow.js has no such layer).
 *
 * @throws Error if rate is not a number in [0, 1).
 *
 * @example
 * ```ts
 * [conv2d({ filters: 16, kernelSize: 3, inputShape: [28, 28, 1] }), spatialDropout2d({ rate: 0.25 })];
 * ```
 */
export const spatialDropout2d = (args: SpatialDropout2DArgs): SpatialDropout2D => new SpatialDropout2D(args);

// ---- GaussianNoise -------------------------------------------------------------------------

/** Arguments of {@link GaussianNoise}. */
export interface GaussianNoiseArgs extends LayerArgs {
  /** Standard deviation of the added noise (>= 0). */
  stddev: number;
  /** Seed of the layer's own generator; without it the global (setSeed) generator is used. */
  seed?: number | null;
}

/** Adds zero-mean normal noise of standard deviation `stddev` in training; identity otherwise (Keras `GaussianNoise`). */
export class GaussianNoise extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['stddev', 'seed'];
  static override className = 'GaussianNoise';
  /** Standard deviation of the noise. */
  readonly stddev: number;
  /** The layer's own seed, or null to use the global generator. */
  readonly seed: number | null;
  private readonly rng: { normal(): number } | null;

  /** @throws Error if stddev is not a number >= 0 or an option is unknown. */
  constructor(args: GaussianNoiseArgs) {
    super(args ?? {});
    const stddev = args?.stddev;
    if (typeof stddev !== 'number' || !(stddev >= 0) || !Number.isFinite(stddev)) {
      throw new Error(`Layer ${this.name}: stddev must be a finite number >= 0, got ${JSON.stringify(stddev)}`);
    }
    this.stddev = stddev;
    this.seed = seedOption(this.name, args.seed);
    this.rng = this.seed === null ? null : seededRng(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    if (kwargs.training !== true || this.stddev === 0) return x;
    return add(x, normalNoise([...x.shape], 0, this.stddev, this.rng));
  }

  override getConfig(): Record<string, unknown> {
    return { stddev: this.stddev, seed: this.seed, ...super.getConfig() };
  }
}
registerLayer(GaussianNoise);
/**
 * A {@link GaussianNoise} layer (`tf.layers.gaussianNoise`).
 *
 * @throws Error if stddev is not a number >= 0.
 *
 * @example
 * ```ts
 * [gaussianNoise({ stddev: 0.1, inputShape: [16] }), dense({ units: 4 })];
 * ```
 */
export const gaussianNoise = (args: GaussianNoiseArgs): GaussianNoise => new GaussianNoise(args);

// ---- GaussianDropout -----------------------------------------------------------------------

/** Arguments of {@link GaussianDropout}. */
export interface GaussianDropoutArgs extends LayerArgs {
  /** Drop probability, in [0, 1): the multiplicative noise has standard deviation sqrt(rate / (1 - rate)). */
  rate: number;
  /** Seed of the layer's own generator; without it the global (setSeed) generator is used. */
  seed?: number | null;
}

/**
 * Multiplies by normal noise of mean 1 and standard deviation sqrt(rate / (1 - rate)) in
 * training (so the mean is kept); identity otherwise (Keras `GaussianDropout`).
 */
export class GaussianDropout extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['rate', 'seed'];
  static override className = 'GaussianDropout';
  /** The drop probability. */
  readonly rate: number;
  /** The layer's own seed, or null to use the global generator. */
  readonly seed: number | null;
  private readonly rng: { normal(): number } | null;

  /** @throws Error if rate is not a number in [0, 1) or an option is unknown. */
  constructor(args: GaussianDropoutArgs) {
    super(args ?? {});
    this.rate = rateOption(this.name, args?.rate);
    this.seed = seedOption(this.name, args.seed);
    this.rng = this.seed === null ? null : seededRng(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    if (kwargs.training !== true || this.rate === 0) return x;
    return mul(x, normalNoise([...x.shape], 1, Math.sqrt(this.rate / (1 - this.rate)), this.rng));
  }

  override getConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.seed, ...super.getConfig() };
  }
}
registerLayer(GaussianDropout);
/**
 * A {@link GaussianDropout} layer (`tf.layers.gaussianDropout`).
 *
 * @throws Error if rate is not a number in [0, 1).
 *
 * @example
 * ```ts
 * [dense({ units: 32, inputShape: [8] }), gaussianDropout({ rate: 0.2 })];
 * ```
 */
export const gaussianDropout = (args: GaussianDropoutArgs): GaussianDropout => new GaussianDropout(args);

// ---- AlphaDropout --------------------------------------------------------------------------

/** Arguments of {@link AlphaDropout}: those of Dropout (rate, noiseShape, seed). */
export interface AlphaDropoutArgs extends DropoutArgs {}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * Dropout for self-normalizing (SELU) networks (Keras `AlphaDropout`): in training each element is
 * set, with probability `rate`, to SELU's negative saturation value -alpha·scale, and the result
 * goes through the affine a·x + b that Keras computes so that inputs of zero mean and unit
 * variance keep them: a = ((1 - rate)(1 + rate·alpha'^2))^-1/2, b = -a·alpha'·rate with
 * alpha' = -alpha·scale. Identity otherwise.
 */
export class AlphaDropout extends Dropout {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static override readonly optionNames: readonly string[] = ['rate', 'noiseShape', 'seed'];
  static override className = 'AlphaDropout';

  /** @throws Error if rate is not a number in [0, 1), noiseShape is invalid, or an option is unknown. */
  constructor(args: AlphaDropoutArgs) {
    super(args);
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    if (kwargs.training !== true || this.rate === 0) return x;
    const shape = this.maskShape(x);
    const uniform = this.seed === null ? null : this.seededUniform(shape);
    const kept = greaterEqual(uniform ?? randomUniformOf(shape), this.rate);
    const alphaP = -SELU_ALPHA * SELU_SCALE;
    const a = ((1 - this.rate) * (1 + this.rate * alphaP ** 2)) ** -0.5;
    const b = -a * alphaP * this.rate;
    // x·kept + alpha'·(1 - kept), then a·(...) + b
    const dropped = add(mul(x, kept), mul(add(mul(kept, -1), 1), alphaP));
    return add(mul(dropped, a), b);
  }
}
registerLayer(AlphaDropout);
/**
 * An {@link AlphaDropout} layer (`tf.layers.alphaDropout`), for networks with SELU activations.
 *
 * @throws Error if rate is not a number in [0, 1).
 *
 * @example
 * ```ts
 * [dense({ units: 64, activation: 'selu', kernelInitializer: 'lecunNormal', inputShape: [16] }), alphaDropout({ rate: 0.1 })];
 * ```
 */
export const alphaDropout = (args: AlphaDropoutArgs): AlphaDropout => new AlphaDropout(args);
