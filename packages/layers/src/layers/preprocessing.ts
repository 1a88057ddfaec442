/**
 * Keras' deterministic preprocessing layers: Rescaling, Normalization (with adapt), Resizing and
 * CenterCrop. They act the same in training and inference, so they can sit at a model's input and
 * be saved with it.
 */
import { Tensor, add, cast, div, maximum, mul, reshape, sqrt, sub, tensor, type Variable } from '@axon/tensor';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { formatShape, singleShape, type Shape } from '../shape.js';
import {
  asImageBatch,
  cropImages,
  fromImageBatch,
  interpolationOption,
  resizeImages,
  smartResize,
  type ImageInterpolation,
} from './image-ops.js';
import { bool, oneTensor, positiveInteger } from './util.js';

/** A finite number option (default `fallback`); the error names the layer and option. */
function finiteNumber(layer: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`Layer ${layer}: ${option} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** [batch?, height, width, channels] with height and width replaced: the output shape of the image-sizing layers. */
export function resizedImageShape(layer: string, inputShape: Shape | Shape[], height: number, width: number): Shape {
  const shape = singleShape(layer, inputShape);
  if (shape.length !== 3 && shape.length !== 4) {
    throw new Error(`Layer ${layer}: expected an input shape of rank 3 or 4 (channels-last images), got ${formatShape(shape)}`);
  }
  const out = [...shape];
  out[out.length - 3] = height;
  out[out.length - 2] = width;
  return out;
}

// ---- Rescaling ------------------------------------------------------------------------------

/** Arguments of {@link Rescaling}. */
export interface RescalingArgs extends LayerArgs {
  /** The factor every value is multiplied by, e.g. 1 / 255. */
  scale: number;
  /** Added after scaling; default 0. */
  offset?: number;
}

/** x · scale + offset, as float32 (Keras `Rescaling`): e.g. `scale: 1 / 255` maps [0, 255] pixels to [0, 1]. */
export class Rescaling extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['scale', 'offset'];
  static override className = 'Rescaling';
  /** The multiplier. */
  readonly scale: number;
  /** The offset added after scaling. */
  readonly offset: number;

  /** @throws Error if scale is missing or scale / offset is not a finite number, or an option is unknown. */
  constructor(args: RescalingArgs) {
    super(args ?? {});
    if (args?.scale === undefined || args.scale === null) throw new Error(`Layer ${this.name}: scale is required (a finite number)`);
    this.scale = finiteNumber(this.name, 'scale', args.scale, 1);
    this.offset = finiteNumber(this.name, 'offset', args.offset, 0);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = cast(oneTensor(this.name, inputs), 'float32');
    return add(mul(x, this.scale), this.offset);
  }

  override getConfig(): Record<string, unknown> {
    return { scale: this.scale, offset: this.offset, ...super.getConfig() };
  }
}
registerLayer(Rescaling);
/**
 * A {@link Rescaling} layer (`tf.layers.rescaling`).
 *
 * @throws Error if scale is not a finite number.
 *
 * @example
 * ```ts
 * rescaling({ scale: 1 / 127.5, offset: -1 }); // [0, 255] → [-1, 1]
 * ```
 */
export const rescaling = (args: RescalingArgs): Rescaling => new Rescaling(args);

// ---- Normalization --------------------------------------------------------------------------

/** Arguments of {@link Normalization}. */
export interface NormalizationArgs extends LayerArgs {
  /**
   * The axis or axes that keep a separate mean and variance (default -1, the features); the others
   * are averaged over. null: one mean and variance for everything. The batch axis 0 cannot be kept.
   */
  axis?: number | number[] | null;
  /** A fixed mean instead of `adapt`: one number, or one per index of the kept axes (flattened). Needs `variance`. */
  mean?: number | number[] | null;
  /** A fixed variance instead of `adapt`, shaped as `mean`. */
  variance?: number | number[] | null;
  /** Undo the normalization instead (x · std + mean); default false. */
  invert?: boolean;
}

/** Keras' epsilon: the standard deviation is never taken below it. */
const EPSILON = 1e-7;

/** What adapt reads: a tensor of samples, or batches of them from any (async) iterable, e.g. a Dataset. */
export type AdaptData = Tensor | Iterable<Tensor> | AsyncIterable<Tensor>;

/**
 * Feature-wise standardization (Keras `Normalization`): (x - mean) / max(sqrt(variance), 1e-7),
 * or the inverse with `invert`. The mean and variance are given, or learned by
 * {@link Normalization.adapt} from data; adapted statistics are the layer's non-trainable weights
 * `mean` and `variance` (as Keras), so they are saved with the model.
 *
 * @example
 * ```ts
 * const norm = normalization();
 * norm.adapt(trainFeatures); // [n, features]: a mean and variance per feature
 * norm.apply(trainFeatures); // mean 0, variance 1 per feature
 * ```
 */
export class Normalization extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['axis', 'mean', 'variance', 'invert'];
  static override className = 'Normalization';
  /** The kept axes as given (negative counting from the end), or null for one scalar mean and variance. */
  readonly axis: number[] | null;
  /** Whether the layer undoes the normalization. */
  readonly invert: boolean;
  /** The fixed mean, or null when the statistics are adapted. */
  readonly inputMean: number | number[] | null;
  /** The fixed variance, or null when the statistics are adapted. */
  readonly inputVariance: number | number[] | null;
  /** The adapted mean (a non-trainable weight, shaped as the kept axes), or null with a fixed mean or before build. */
  adaptMean: Variable | null = null;
  /** The adapted variance, shaped as {@link Normalization.adaptMean}. */
  adaptVariance: Variable | null = null;
  private keptAxes: number[] = [];
  private broadcastShape: number[] = [];
  private fixed: { mean: Tensor; variance: Tensor } | null = null;

  /**
   * @throws Error if axis is not an integer, an array of integers or null; if only one of mean and
   *   variance is given or either is not a finite number (array); if a variance is negative; or if
   *   an option is unknown.
   */
  constructor(args: NormalizationArgs = {}) {
    super(args);
    const axis = args.axis === undefined ? -1 : args.axis;
    if (axis !== null && !Number.isInteger(axis) && !(Array.isArray(axis) && axis.length > 0 && axis.every(Number.isInteger))) {
      throw new Error(`Layer ${this.name}: axis must be an integer, a non-empty array of integers or null, got ${JSON.stringify(axis)}`);
    }
    this.axis = axis === null ? null : typeof axis === 'number' ? [axis] : [...axis];
    this.invert = args.invert ?? false;
    if (typeof this.invert !== 'boolean')
      throw new Error(`Layer ${this.name}: invert must be a boolean, got ${JSON.stringify(args.invert)}`);
    const mean = args.mean ?? null;
    const variance = args.variance ?? null;
    if ((mean === null) !== (variance === null)) {
      throw new Error(
        `Layer ${this.name}: mean and variance must be given together (or neither, to adapt), got mean ${JSON.stringify(mean)} and variance ${JSON.stringify(variance)}`,
      );
    }
    for (const [option, value] of [
      ['mean', mean],
      ['variance', variance],
    ] as const) {
      const values = value === null ? null : Array.isArray(value) ? value : [value];
      if (values !== null && (values.length === 0 || !values.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
        throw new Error(
          `Layer ${this.name}: ${option} must be a finite number or a non-empty array of finite numbers, got ${JSON.stringify(value)}`,
        );
      }
    }
    if (variance !== null && (Array.isArray(variance) ? variance : [variance]).some((v) => v < 0)) {
      throw new Error(`Layer ${this.name}: variance must be >= 0, got ${JSON.stringify(variance)}`);
    }
    this.inputMean = mean === null ? null : Array.isArray(mean) ? [...mean] : mean;
    this.inputVariance = variance === null ? null : Array.isArray(variance) ? [...variance] : variance;
  }

  /**
   * Resolves the kept axes for the input's rank, then creates the `mean` and `variance` weights (to
   * be adapted) or the fixed statistics' tensors.
   *
   * @throws Error if a kept axis is out of range, is the batch axis or has an unknown size, or if a
   *   fixed mean / variance has neither 1 value nor one per index of the kept axes.
   */
  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const rank = shape.length;
    this.keptAxes = (this.axis ?? []).map((a) => {
      const axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank)
        throw new Error(`Layer ${this.name}: axis ${a} is out of range for inputs of shape ${formatShape(shape)}`);
      if (axis === 0) throw new Error(`Layer ${this.name}: axis may not include the batch axis 0 (inputs of shape ${formatShape(shape)})`);
      if (shape[axis] == null) throw new Error(`Layer ${this.name}: the kept axis ${a} of ${formatShape(shape)} must have a known size`);
      return axis;
    });
    const statsShape = this.keptAxes.map((a) => shape[a] as number);
    this.broadcastShape = shape.map((d, i) => (this.keptAxes.includes(i) ? (d as number) : 1));
    if (this.inputMean === null) {
      this.adaptMean = this.addWeight('mean', statsShape, 'zeros', null, false);
      this.adaptVariance = this.addWeight('variance', statsShape, 'ones', null, false);
    } else {
      const size = statsShape.reduce((a, b) => a * b, 1);
      const fill = (option: string, value: number | number[]): Tensor => {
        const values = Array.isArray(value) ? value : [value];
        if (values.length !== 1 && values.length !== size) {
          throw new Error(
            `Layer ${this.name}: ${option} must have 1 value or ${size} (one per index of the kept axes, shape ${formatShape(statsShape)}), got ${values.length}`,
          );
        }
        return tensor(
          Float32Array.from({ length: size }, (_, i) => values[values.length === 1 ? 0 : i]!),
          this.broadcastShape,
        );
      };
      this.fixed = { mean: fill('mean', this.inputMean), variance: fill('variance', this.inputVariance!) };
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = cast(oneTensor(this.name, inputs), 'float32');
    if (x.rank !== this.broadcastShape.length) {
      throw new Error(`Layer ${this.name}: built for inputs of rank ${this.broadcastShape.length}, got shape ${formatShape(x.shape)}`);
    }
    const mean = this.fixed?.mean ?? reshape(this.adaptMean!, this.broadcastShape);
    const variance = this.fixed?.variance ?? reshape(this.adaptVariance!, this.broadcastShape);
    const std = maximum(sqrt(variance), EPSILON);
    return this.invert ? add(mean, mul(x, std)) : div(sub(x, mean), std);
  }

  /**
   * Learns the mean and variance (population variance, as Keras) of the data over every axis but
   * the kept ones, replacing earlier statistics; builds the layer from the data's shape if needed.
   * A tensor or a (sync) iterable of batches is read at once; an async iterable (a streaming
   * Dataset) returns a promise.
   *
   * @param data - samples [n, ...features], or batches of them.
   * @throws Error if the layer has a fixed mean and variance, an element is not a Tensor, a batch's
   *   shape differs from the layer's input shape, or there is no data.
   */
  adapt(data: Tensor | Iterable<Tensor>): void;
  adapt(data: AsyncIterable<Tensor>): Promise<void>;
  adapt(data: AdaptData): void | Promise<void> {
    if (this.inputMean !== null) {
      throw new Error(`Layer ${this.name}: cannot adapt a Normalization layer given a fixed mean and variance`);
    }
    const moments = new MomentsAccumulator();
    if (data instanceof Tensor) {
      this.addBatch(moments, data);
      return this.finishAdapt(moments);
    }
    if (data !== null && typeof data === 'object' && Symbol.iterator in data) {
      for (const batch of data) this.addBatch(moments, batch);
      return this.finishAdapt(moments);
    }
    if (data !== null && typeof data === 'object' && Symbol.asyncIterator in data) {
      return (async () => {
        for await (const batch of data) this.addBatch(moments, batch);
        this.finishAdapt(moments);
      })();
    }
    throw new Error(
      `Layer ${this.name}: adapt expects a Tensor or an (async) iterable of Tensors, got ${data === null ? 'null' : typeof data}`,
    );
  }

  private addBatch(moments: MomentsAccumulator, batch: unknown): void {
    if (!(batch instanceof Tensor)) {
      throw new Error(
        `Layer ${this.name}: adapt expects Tensors, got ${batch === null ? 'null' : Array.isArray(batch) ? 'an array' : typeof batch}`,
      );
    }
    if (!this.built) this.ensureBuilt([null, ...batch.shape.slice(1)]);
    const expected = this.broadcastShape;
    if (batch.rank !== expected.length || this.keptAxes.some((a) => batch.shape[a] !== expected[a])) {
      throw new Error(
        `Layer ${this.name}: adapt got a batch of shape ${formatShape(batch.shape)}, expected rank ${expected.length} with sizes ${formatShape(expected.map((d, i) => (this.keptAxes.includes(i) ? d : null)))}`,
      );
    }
    moments.add(batch.dataSync(), batch.shape, this.keptAxes);
  }

  private finishAdapt(moments: MomentsAccumulator): void {
    if (moments.count === 0) throw new Error(`Layer ${this.name}: adapt got no data`);
    const shape = this.adaptMean!.shape;
    this.adaptMean!.assign(tensor(Float32Array.from(moments.mean), shape));
    this.adaptVariance!.assign(tensor(Float32Array.from(moments.variance()), shape));
  }

  override getConfig(): Record<string, unknown> {
    return {
      axis: this.axis === null ? null : this.axis.length === 1 ? this.axis[0] : [...this.axis],
      invert: this.invert,
      mean: this.inputMean,
      variance: this.inputVariance,
      ...super.getConfig(),
    };
  }
}
registerLayer(Normalization);

/**
 * Running mean and variance per index of the kept axes, combined batch by batch in float64 with
 * Chan et al.'s parallel formula (what Keras' adapt does), so a stream gives the statistics of the
 * whole data.
 */
class MomentsAccumulator {
  count = 0;
  mean: Float64Array = new Float64Array(0);
  private m2: Float64Array = new Float64Array(0);

  add(values: Float32Array, shape: readonly number[], keptAxes: readonly number[]): void {
    const statIndex = keptIndices(shape, keptAxes);
    const size = keptAxes.reduce((n, a) => n * shape[a]!, 1);
    const n = values.length / size;
    if (n === 0) return;
    const batchMean = new Float64Array(size);
    for (let i = 0; i < values.length; i++) batchMean[statIndex[i]!]! += values[i]!;
    for (let k = 0; k < size; k++) batchMean[k]! /= n;
    const batchM2 = new Float64Array(size);
    for (let i = 0; i < values.length; i++) batchM2[statIndex[i]!]! += (values[i]! - batchMean[statIndex[i]!]!) ** 2;
    if (this.count === 0) {
      this.mean = batchMean;
      this.m2 = batchM2;
      this.count = n;
      return;
    }
    const total = this.count + n;
    for (let k = 0; k < size; k++) {
      const delta = batchMean[k]! - this.mean[k]!;
      this.mean[k]! += (delta * n) / total;
      this.m2[k]! += batchM2[k]! + (delta * delta * this.count * n) / total;
    }
    this.count = total;
  }

  variance(): Float64Array {
    return this.m2.map((m) => m / this.count);
  }
}

/** For each element of a row-major tensor of `shape`: the flat index of its kept-axes coordinates. */
function keptIndices(shape: readonly number[], keptAxes: readonly number[]): Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const strides = new Array<number>(shape.length).fill(0);
  let stride = 1;
  for (let k = keptAxes.length - 1; k >= 0; k--) {
    strides[keptAxes[k]!] = stride;
    stride *= shape[keptAxes[k]!]!;
  }
  const out = new Int32Array(size);
  const coords = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    let index = 0;
    for (let a = 0; a < shape.length; a++) index += coords[a]! * strides[a]!;
    out[i] = index;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++coords[a]! < shape[a]!) break;
      coords[a] = 0;
    }
  }
  return out;
}

/**
 * A {@link Normalization} layer (Keras `keras.layers.Normalization`).
 *
 * @example
 * ```ts
 * normalization({ mean: [0.5, 10], variance: [0.25, 4] }); // fixed statistics per feature
 * ```
 */
export const normalization = (args: NormalizationArgs = {}): Normalization => new Normalization(args);

// ---- Resizing -------------------------------------------------------------------------------

/** Arguments of {@link Resizing}. */
export interface ResizingArgs extends LayerArgs {
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
  /** 'bilinear' (default) or 'nearest'; Keras' other methods are not supported. */
  interpolation?: ImageInterpolation;
  /** Crop the largest centered window of the output's aspect ratio before resizing, so nothing is stretched; default false. */
  cropToAspectRatio?: boolean;
  /** Not supported (only false). */
  padToAspectRatio?: boolean;
  /** Not supported (only false): TensorFlow's resize without antialiasing, as Keras' default. */
  antialias?: boolean;
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/**
 * Resizes images [batch, height, width, channels] (or one image [height, width, channels]) to
 * [height, width] (Keras `Resizing`), as tf.image.resize: half-pixel centers, no antialiasing.
 * Output is float32.
 */
export class Resizing extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'height',
    'width',
    'interpolation',
    'cropToAspectRatio',
    'padToAspectRatio',
    'antialias',
    'dataFormat',
  ];
  static override className = 'Resizing';
  /** Output height. */
  readonly height: number;
  /** Output width. */
  readonly width: number;
  /** The sampling method. */
  readonly interpolation: ImageInterpolation;
  /** Whether the input is first cropped to the output's aspect ratio. */
  readonly cropToAspectRatio: boolean;

  /**
   * @throws Error if height or width is not a positive integer, interpolation is unknown, or an
   *   unsupported option (padToAspectRatio, antialias, channels-first) is set.
   */
  constructor(args: ResizingArgs) {
    super(args ?? {});
    this.height = positiveInteger(this.name, 'height', args?.height);
    this.width = positiveInteger(this.name, 'width', args.width);
    this.interpolation = interpolationOption(this.name, args.interpolation);
    this.cropToAspectRatio = bool(this.name, 'cropToAspectRatio', args.cropToAspectRatio, false);
    rejectImageOptions(this.name, args);
    this.inputSpec = [{ minNDim: 3, maxNDim: 4 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const { images, unbatched } = asImageBatch(this.name, oneTensor(this.name, inputs));
    const y = this.cropToAspectRatio
      ? smartResize(images, this.height, this.width, this.interpolation)
      : resizeImages(images, this.height, this.width, this.interpolation);
    return fromImageBatch(y, unbatched);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return resizedImageShape(this.name, inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return {
      height: this.height,
      width: this.width,
      interpolation: this.interpolation,
      cropToAspectRatio: this.cropToAspectRatio,
      ...super.getConfig(),
    };
  }
}
registerLayer(Resizing);

/**
 * Rejects the Keras image options Axon does not implement instead of ignoring them.
 *
 * @throws Error naming the layer and option.
 */
export function rejectImageOptions(layer: string, args: { padToAspectRatio?: unknown; antialias?: unknown; dataFormat?: unknown }): void {
  // Only false is supported; anything else (a falsy 0 included) is refused rather than read as false.
  if (bool(layer, 'padToAspectRatio', args.padToAspectRatio, false))
    throw new Error(`Layer ${layer}: padToAspectRatio is not supported (only false), got ${JSON.stringify(args.padToAspectRatio)}`);
  if (bool(layer, 'antialias', args.antialias, false))
    throw new Error(`Layer ${layer}: antialias is not supported (only false), got ${JSON.stringify(args.antialias)}`);
  const format = args.dataFormat;
  if (format !== undefined && format !== null && format !== 'channelsLast' && format !== 'channels_last') {
    throw new Error(`Layer ${layer}: dataFormat must be 'channelsLast' (Axon images are NHWC), got ${JSON.stringify(format)}`);
  }
}

/**
 * A {@link Resizing} layer (`tf.layers.resizing`).
 *
 * @example
 * ```ts
 * resizing({ height: 224, width: 224, cropToAspectRatio: true });
 * ```
 */
export const resizing = (args: ResizingArgs): Resizing => new Resizing(args);

// ---- CenterCrop -----------------------------------------------------------------------------

/** Arguments of {@link CenterCrop}. */
export interface CenterCropArgs extends LayerArgs {
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/**
 * Crops the central [height, width] window of each image (Keras `CenterCrop`): the window starts at
 * floor((size - target) / 2). An image smaller than the target in either dimension is instead
 * cropped to the target's aspect ratio and resized (bilinear), as Keras does.
 */
export class CenterCrop extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['height', 'width', 'dataFormat'];
  static override className = 'CenterCrop';
  /** Output height. */
  readonly height: number;
  /** Output width. */
  readonly width: number;

  /** @throws Error if height or width is not a positive integer, dataFormat is channels-first, or an option is unknown. */
  constructor(args: CenterCropArgs) {
    super(args ?? {});
    this.height = positiveInteger(this.name, 'height', args?.height);
    this.width = positiveInteger(this.name, 'width', args.width);
    rejectImageOptions(this.name, args);
    this.inputSpec = [{ minNDim: 3, maxNDim: 4 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const { images, unbatched } = asImageBatch(this.name, oneTensor(this.name, inputs));
    const [height, width] = [images.shape[1]!, images.shape[2]!];
    const y =
      height >= this.height && width >= this.width
        ? cropImages(images, {
            top: Math.trunc((height - this.height) / 2),
            left: Math.trunc((width - this.width) / 2),
            height: this.height,
            width: this.width,
          })
        : smartResize(images, this.height, this.width, 'bilinear');
    return fromImageBatch(y, unbatched);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return resizedImageShape(this.name, inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return { height: this.height, width: this.width, ...super.getConfig() };
  }
}
registerLayer(CenterCrop);
/**
 * A {@link CenterCrop} layer (`tf.layers.centerCrop`).
 *
 * @example
 * ```ts
 * centerCrop({ height: 24, width: 24 }); // [b, 28, 28, c] → [b, 24, 24, c]
 * ```
 */
export const centerCrop = (args: CenterCropArgs): CenterCrop => new CenterCrop(args);
