import { avgPool2d, cast, div, max, maxPool2d, mean, mul, reshape, sum, type Tensor } from '@axon/tensor';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import { formatShape, normalizePair, singleShape, type Shape } from '../shape.js';
import { bool, channelsLastOnly, convOutputLength, oneTensor, paddingOption, type PaddingMode } from './util.js';

// Each pooling class lists its own options (the Layer base checks only a class's own list, so a
// user's subclass with options of its own is not refused): the lists the classes share.
/** The options of the windowed pooling layers. */
const POOLING_OPTIONS: readonly string[] = ['poolSize', 'strides', 'padding', 'dataFormat'];
/** The options of the global pooling layers. */
const GLOBAL_POOLING_OPTIONS: readonly string[] = ['dataFormat', 'keepdims'];

/** Arguments of {@link MaxPooling2D} and {@link AveragePooling2D} (Keras' pooling layers). */
export interface Pooling2DArgs extends LayerArgs {
  /** Window size; default [2, 2]. */
  poolSize?: number | [number, number];
  /** Step between windows, one number or [height, width]; default: poolSize (non-overlapping windows). */
  strides?: number | [number, number] | null;
  /** 'valid' (default) or 'same'; padded cells never count. */
  padding?: PaddingMode;
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** Shared by MaxPooling2D and AveragePooling2D (NHWC; 'same' padding never counts padded cells). */
abstract class Pooling2D extends Layer {
  /** [height, width] of the window. */
  readonly poolSize: [number, number];
  /** [height, width] step between windows. */
  readonly strides: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: PaddingMode;
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;

  /** @throws Error if poolSize or strides are not positive integers, or padding or dataFormat is unsupported. */
  constructor(args: Pooling2DArgs = {}) {
    super(args);
    this.poolSize = normalizePair(this.name, 'poolSize', args.poolSize ?? 2);
    this.strides = args.strides == null ? [...this.poolSize] : normalizePair(this.name, 'strides', args.strides);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

  /** The pooling op over an NHWC input. */
  protected abstract pool(x: Tensor): Tensor;

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    if (this.padding === 'valid' && (x.shape[1]! < this.poolSize[0] || x.shape[2]! < this.poolSize[1])) {
      throw new Error(
        `Layer ${this.name}: the ${this.poolSize[0]}x${this.poolSize[1]} pool does not fit the input of shape ${formatShape(x.shape)} with 'valid' padding`,
      );
    }
    return this.pool(x);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [
      shape[0] ?? null,
      convOutputLength(shape[1] ?? null, this.poolSize[0], this.padding, this.strides[0]),
      convOutputLength(shape[2] ?? null, this.poolSize[1], this.padding, this.strides[1]),
      shape[3] ?? null,
    ];
  }

  override getConfig(): Record<string, unknown> {
    return {
      poolSize: [...this.poolSize],
      padding: this.padding,
      strides: [...this.strides],
      dataFormat: this.dataFormat,
      ...super.getConfig(),
    };
  }
}

/**
 * Max pooling over NHWC input (Keras `MaxPooling2D`): [batch, h, w, c] → [batch, outH, outW, c],
 * each output the largest value of its window. Make one with {@link maxPooling2d}.
 */
export class MaxPooling2D extends Pooling2D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = POOLING_OPTIONS;
  static override className = 'MaxPooling2D';
  protected pool(x: Tensor): Tensor {
    return maxPool2d(x, this.poolSize, this.strides, this.padding);
  }
}
registerLayer(MaxPooling2D);
/**
 * A {@link MaxPooling2D} layer; the default 2x2 window with stride 2 halves height and width.
 *
 * @example
 * ```ts
 * maxPooling2d({ poolSize: 2 });                       // [b, 26, 26, c] → [b, 13, 13, c]
 * maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' });
 * ```
 */
export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);

/**
 * Average pooling over NHWC input (Keras `AveragePooling2D`); padded cells are not counted in the
 * average. Make one with {@link averagePooling2d}.
 */
export class AveragePooling2D extends Pooling2D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = POOLING_OPTIONS;
  static override className = 'AveragePooling2D';
  protected pool(x: Tensor): Tensor {
    return avgPool2d(x, this.poolSize, this.strides, this.padding);
  }
}
registerLayer(AveragePooling2D);
/** An {@link AveragePooling2D} layer (default 2x2 window, stride 2). */
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);

/** Arguments of {@link GlobalMaxPooling2D} and {@link GlobalAveragePooling2D}. */
export interface GlobalPooling2DArgs extends LayerArgs {
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Keep the spatial axes as size 1 ([batch, 1, 1, channels]); default false. */
  keepdims?: boolean;
}

/** Reduces the spatial axes of NHWC input: [batch, h, w, c] → [batch, c]. */
abstract class GlobalPooling2D extends Layer {
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;
  /** Whether the output keeps the spatial axes as size 1. */
  readonly keepdims: boolean;

  /** @throws Error if dataFormat is not channels-last. */
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args);
    channelsLastOnly(this.name, args.dataFormat);
    this.keepdims = bool(this.name, 'keepdims', args.keepdims, false);
    this.inputSpec = [{ ndim: 4 }];
  }

  /** The reduction over the spatial axes 1 and 2. */
  protected abstract reduce(x: Tensor): Tensor;

  override call(inputs: Tensor | Tensor[]): Tensor {
    return this.reduce(oneTensor(this.name, inputs));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return this.keepdims ? [shape[0] ?? null, 1, 1, shape[3] ?? null] : [shape[0] ?? null, shape[3] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { dataFormat: this.dataFormat, ...(this.keepdims ? { keepdims: true } : {}), ...super.getConfig() };
  }
}

/** The largest value of each channel over the whole image (Keras `GlobalMaxPooling2D`): [b, h, w, c] → [b, c]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = GLOBAL_POOLING_OPTIONS;
  static override className = 'GlobalMaxPooling2D';
  protected reduce(x: Tensor): Tensor {
    return max(x, [1, 2], this.keepdims);
  }
}
registerLayer(GlobalMaxPooling2D);
/** A {@link GlobalMaxPooling2D} layer. */
export const globalMaxPooling2d = (args: GlobalPooling2DArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);

/** The mean of each channel over the whole image (Keras `GlobalAveragePooling2D`): [b, h, w, c] → [b, c]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = GLOBAL_POOLING_OPTIONS;
  static override className = 'GlobalAveragePooling2D';
  protected reduce(x: Tensor): Tensor {
    return mean(x, [1, 2], this.keepdims);
  }
}
registerLayer(GlobalAveragePooling2D);
/**
 * A {@link GlobalAveragePooling2D} layer, often used instead of flatten() before the classifier.
 *
 * @example
 * ```ts
 * [conv2d({ filters: 64, kernelSize: 3, inputShape: [32, 32, 3] }), globalAveragePooling2d(), dense({ units: 10 })];
 * ```
 */
export const globalAveragePooling2d = (args: GlobalPooling2DArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);

// ---- 1-D pooling -------------------------------------------------------------------------

/** Arguments of {@link MaxPooling1D} and {@link AveragePooling1D} (Keras' 1-D pooling layers). */
export interface Pooling1DArgs extends LayerArgs {
  /** Window length, a number or [n]; default 2. */
  poolSize?: number | [number];
  /** Step between windows, a number or [n]; default: poolSize (non-overlapping windows). */
  strides?: number | [number] | null;
  /** 'valid' (default) or 'same'; padded cells never count. */
  padding?: PaddingMode;
  /** Only channels-last ([batch, steps, channels]) is supported; Keras writes it, tfjs does not. */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** `n` or `[n]` as a positive integer, naming the layer and option in errors. */
function single(layer: string, option: string, value: unknown): number {
  const n = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!Number.isInteger(n) || (n as number) <= 0) {
    throw new Error(`Layer ${layer}: ${option} must be a positive integer or an array of 1 positive integer, got ${JSON.stringify(value)}`);
  }
  return n as number;
}

/** Shared by MaxPooling1D and AveragePooling1D: [batch, steps, channels], pooled along the steps. */
abstract class Pooling1D extends Layer {
  /** Window length. */
  readonly poolSize: number;
  /** Step between windows. */
  readonly strides: number;
  /** 'valid' or 'same'. */
  readonly padding: PaddingMode;

  /** @throws Error if poolSize or strides are not positive integers, or padding is unsupported. */
  constructor(args: Pooling1DArgs = {}) {
    super(args);
    this.poolSize = single(this.name, 'poolSize', args.poolSize ?? 2);
    this.strides = args.strides == null ? this.poolSize : single(this.name, 'strides', args.strides);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 3 }];
  }

  /** The 2-D pooling op over the [batch, 1, steps, channels] view of the input. */
  protected abstract pool(x: Tensor, poolSize: [number, number], strides: [number, number]): Tensor;

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [batch, steps, channels] = x.shape as [number, number, number];
    if (this.padding === 'valid' && steps < this.poolSize) {
      throw new Error(
        `Layer ${this.name}: the pool of ${this.poolSize} steps does not fit the input of shape ${formatShape(x.shape)} with 'valid' padding`,
      );
    }
    const y = this.pool(reshape(x, [batch, 1, steps, channels]), [1, this.poolSize], [1, this.strides]);
    return reshape(y, [batch, y.shape[2]!, channels]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, convOutputLength(shape[1] ?? null, this.poolSize, this.padding, this.strides), shape[2] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { poolSize: [this.poolSize], padding: this.padding, strides: [this.strides], ...super.getConfig() };
  }
}

/**
 * Max pooling over the steps of [batch, steps, channels] input (Keras `MaxPooling1D`), each output
 * the largest value of its window. Make one with {@link maxPooling1d}.
 */
export class MaxPooling1D extends Pooling1D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = POOLING_OPTIONS;
  static override className = 'MaxPooling1D';
  protected pool(x: Tensor, poolSize: [number, number], strides: [number, number]): Tensor {
    return maxPool2d(x, poolSize, strides, this.padding);
  }
}
registerLayer(MaxPooling1D);
/**
 * A {@link MaxPooling1D} layer; the default window of 2 with stride 2 halves the steps.
 *
 * @example
 * ```ts
 * maxPooling1d({ poolSize: 2 });                          // [b, 10, c] → [b, 5, c]
 * maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }); // [b, 10, c] → [b, 5, c]
 * ```
 */
export const maxPooling1d = (args: Pooling1DArgs = {}): MaxPooling1D => new MaxPooling1D(args);

/**
 * Average pooling over the steps of [batch, steps, channels] input (Keras `AveragePooling1D`);
 * padded cells are not counted in the average. Make one with {@link averagePooling1d}.
 */
export class AveragePooling1D extends Pooling1D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = POOLING_OPTIONS;
  static override className = 'AveragePooling1D';
  protected pool(x: Tensor, poolSize: [number, number], strides: [number, number]): Tensor {
    return avgPool2d(x, poolSize, strides, this.padding);
  }
}
registerLayer(AveragePooling1D);
/** An {@link AveragePooling1D} layer (default window 2, stride 2). */
export const averagePooling1d = (args: Pooling1DArgs = {}): AveragePooling1D => new AveragePooling1D(args);

/** Arguments of {@link GlobalMaxPooling1D} and {@link GlobalAveragePooling1D}. */
export interface GlobalPooling1DArgs extends LayerArgs {
  /** Only channels-last is supported ([batch, steps, channels]). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Keep the steps axis as size 1 ([batch, 1, channels]); default false. */
  keepdims?: boolean;
}

/** Reduces the steps axis of [batch, steps, channels] input to [batch, channels]. */
abstract class GlobalPooling1D extends Layer {
  /** Whether the output keeps the steps axis as size 1. */
  readonly keepdims: boolean;
  private readonly dataFormat: 'channelsLast' | null;

  /** @throws Error if dataFormat is not channels-last. */
  constructor(args: GlobalPooling1DArgs = {}) {
    super(args);
    this.dataFormat = args.dataFormat == null ? null : channelsLastOnly(this.name, args.dataFormat);
    this.keepdims = bool(this.name, 'keepdims', args.keepdims, false);
    this.inputSpec = [{ ndim: 3 }];
  }

  /** The reduction over axis 1. */
  protected abstract reduce(x: Tensor): Tensor;

  override call(inputs: Tensor | Tensor[]): Tensor {
    return this.reduce(oneTensor(this.name, inputs));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return this.keepdims ? [shape[0] ?? null, 1, shape[2] ?? null] : [shape[0] ?? null, shape[2] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...(this.dataFormat ? { dataFormat: this.dataFormat } : {}),
      ...(this.keepdims ? { keepdims: true } : {}),
      ...super.getConfig(),
    };
  }
}

/**
 * The largest value of each channel over all steps (Keras `GlobalMaxPooling1D`): [b, steps, c] → [b, c].
 * Make one with {@link globalMaxPooling1d}.
 */
export class GlobalMaxPooling1D extends GlobalPooling1D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = GLOBAL_POOLING_OPTIONS;
  static override className = 'GlobalMaxPooling1D';
  protected reduce(x: Tensor): Tensor {
    return max(x, [1], this.keepdims);
  }
}
registerLayer(GlobalMaxPooling1D);
/**
 * A {@link GlobalMaxPooling1D} layer: what a Kim-style text CNN applies after each convolution.
 *
 * @example
 * ```ts
 * globalMaxPooling1d().apply(randomNormal([8, 50, 100])); // [8, 50, 100] → [8, 100]: each feature's strongest response
 * ```
 */
export const globalMaxPooling1d = (args: GlobalPooling1DArgs = {}): GlobalMaxPooling1D => new GlobalMaxPooling1D(args);

/**
 * The mean of each channel over all steps (Keras `GlobalAveragePooling1D`): [b, steps, c] → [b, c].
 * Make one with {@link globalAveragePooling1d}.
 */
export class GlobalAveragePooling1D extends GlobalPooling1D {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = GLOBAL_POOLING_OPTIONS;
  static override className = 'GlobalAveragePooling1D';
  protected reduce(x: Tensor): Tensor {
    return mean(x, [1], this.keepdims);
  }

  /** With a mask ([batch, steps] of 0/1, e.g. from Embedding's maskZero) only the unmasked steps are averaged, as in Keras. */
  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs = {}): Tensor {
    const x = oneTensor(this.name, inputs);
    const mask = kwargs.mask;
    if (!mask) return this.reduce(x);
    const [batch, steps] = x.shape as [number, number, number];
    if (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== steps) {
      throw new Error(
        `Layer ${this.name}: the mask of shape ${formatShape(mask.shape)} does not fit the input of shape ${formatShape(x.shape)}`,
      );
    }
    const m = reshape(cast(mask, 'float32'), [batch, steps, 1]);
    return div(sum(mul(x, m), [1], this.keepdims), sum(m, [1], this.keepdims));
  }
}
registerLayer(GlobalAveragePooling1D);
/** A {@link GlobalAveragePooling1D} layer: [b, steps, c] → [b, c]. */
export const globalAveragePooling1d = (args: GlobalPooling1DArgs = {}): GlobalAveragePooling1D => new GlobalAveragePooling1D(args);
