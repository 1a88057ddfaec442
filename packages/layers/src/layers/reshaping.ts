/**
 * Layers that move, repeat, pad or cut values without weights (Keras' reshaping layers):
 * UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D, Permute, RepeatVector. Each composes
 * @axon/tensor shape ops (broadcastTo, reshape, pad, slice, transpose), so autograd gives
 * their gradients on every backend.
 */
import { broadcastTo, pad, reshape, slice, transpose, type Tensor } from '@axon/tensor';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { formatShape, normalizePair, singleShape, type Shape } from '../shape.js';
import { channelsLastOnly, oneTensor, positiveInteger } from './util.js';

/** A size along one axis, null when unknown. */
const times = (d: number | null | undefined, k: number): number | null => (d == null ? null : d * k);
const plus = (d: number | null | undefined, [a, b]: readonly [number, number]): number | null => (d == null ? null : d + a + b);
const minus = (d: number | null | undefined, [a, b]: readonly [number, number]): number | null => (d == null ? null : d - a - b);

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * `n` → [n, n], `[a, b]` → [a, b]: non-negative integers (amounts to pad or crop before and after).
 *
 * @throws Error naming the layer and option otherwise.
 */
function countPair(layer: string, option: string, value: unknown): [number, number] {
  if (isCount(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every(isCount)) return [value[0] as number, value[1] as number];
  throw new Error(
    `Layer ${layer}: ${option} must be a non-negative integer or an array of 2 non-negative integers [before, after], got ${JSON.stringify(value)}`,
  );
}

/**
 * Keras' 2-D padding/cropping amounts: `n` (every side), `[rows, cols]` (symmetric per axis) or
 * `[[top, bottom], [left, right]]`.
 *
 * @throws Error naming the layer and option otherwise.
 */
function countPairs(layer: string, option: string, value: unknown): [[number, number], [number, number]] {
  if (isCount(value))
    return [
      [value, value],
      [value, value],
    ];
  if (Array.isArray(value) && value.length === 2) {
    if (value.every(isCount)) {
      return [
        [value[0] as number, value[0] as number],
        [value[1] as number, value[1] as number],
      ];
    }
    if (value.every((p) => Array.isArray(p) && p.length === 2 && p.every(isCount))) {
      const [[a, b], [c, d]] = value as [[number, number], [number, number]];
      return [
        [a, b],
        [c, d],
      ];
    }
  }
  throw new Error(
    `Layer ${layer}: ${option} must be a non-negative integer, [rows, cols] or [[top, bottom], [left, right]] of non-negative integers, got ${JSON.stringify(value)}`,
  );
}

// ---- UpSampling1D ---------------------------------------------------------------------------

/** Arguments of {@link UpSampling1D}. */
export interface UpSampling1DArgs extends LayerArgs {
  /** How many times each step is repeated; default 2. */
  size?: number;
}

/** Repeats each step `size` times (Keras `UpSampling1D`): [b, steps, c] → [b, steps * size, c]. */
export class UpSampling1D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['size'];
  static override className = 'UpSampling1D';
  /** Repetitions of each step. */
  readonly size: number;

  /** @throws Error if size is not a positive integer. */
  constructor(args: UpSampling1DArgs = {}) {
    super(args);
    this.size = positiveInteger(this.name, 'size', args.size ?? 2);
    this.inputSpec = [{ ndim: 3 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [b, s, c] = x.shape as [number, number, number];
    return reshape(broadcastTo(reshape(x, [b, s, 1, c]), [b, s, this.size, c]), [b, s * this.size, c]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, times(shape[1], this.size), shape[2] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { size: this.size, ...super.getConfig() };
  }
}
registerLayer(UpSampling1D);
/**
 * An {@link UpSampling1D} layer.
 *
 * @example
 * ```ts
 * upSampling1d({ size: 3 }); // [b, 4, c] → [b, 12, c]: steps a, a, a, b, b, b, ...
 * ```
 */
export const upSampling1d = (args: UpSampling1DArgs = {}): UpSampling1D => new UpSampling1D(args);

// ---- UpSampling2D ---------------------------------------------------------------------------

/** Arguments of {@link UpSampling2D}. */
export interface UpSampling2DArgs extends LayerArgs {
  /** Repetitions of rows and columns, one number or [rows, cols]; default [2, 2]. */
  size?: number | [number, number];
  /** Only 'nearest' (the default) is supported: each pixel becomes a size[0] x size[1] block. */
  interpolation?: 'nearest';
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/**
 * Nearest-neighbour upsampling of NHWC images (Keras `UpSampling2D`):
 * [b, h, w, c] → [b, h * size[0], w * size[1], c], each pixel repeated as a block.
 * 'bilinear' interpolation is not supported (Keras and TensorFlow.js place the sample points
 * differently, so no single result would match both).
 */
export class UpSampling2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['size', 'interpolation', 'dataFormat'];
  static override className = 'UpSampling2D';
  /** [rows, cols] repetitions. */
  readonly size: [number, number];
  /** Always 'nearest'. */
  readonly interpolation = 'nearest' as const;
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;

  /** @throws Error if size is not positive integers, interpolation is not 'nearest', or dataFormat is not channels-last. */
  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    this.size = normalizePair(this.name, 'size', args.size ?? 2);
    const interpolation = args.interpolation as unknown;
    if (interpolation != null && interpolation !== 'nearest') {
      throw new Error(
        `Layer ${this.name}: interpolation must be 'nearest' (Axon does not implement 'bilinear' upsampling), got ${JSON.stringify(interpolation)}`,
      );
    }
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const [sh, sw] = this.size;
    return reshape(broadcastTo(reshape(x, [b, h, 1, w, 1, c]), [b, h, sh, w, sw, c]), [b, h * sh, w * sw, c]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, times(shape[1], this.size[0]), times(shape[2], this.size[1]), shape[3] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { size: [...this.size], dataFormat: this.dataFormat, interpolation: this.interpolation, ...super.getConfig() };
  }
}
registerLayer(UpSampling2D);
/**
 * An {@link UpSampling2D} layer (nearest neighbour).
 *
 * @example
 * ```ts
 * upSampling2d({ size: 2 });      // [b, 7, 7, c] → [b, 14, 14, c]
 * upSampling2d({ size: [2, 3] }); // [b, 7, 7, c] → [b, 14, 21, c]
 * ```
 */
export const upSampling2d = (args: UpSampling2DArgs = {}): UpSampling2D => new UpSampling2D(args);

// ---- ZeroPadding1D --------------------------------------------------------------------------

/** Arguments of {@link ZeroPadding1D}. */
export interface ZeroPadding1DArgs extends LayerArgs {
  /** Zero steps added at the start and end: one number (both) or [start, end]; default 1. */
  padding?: number | [number, number];
}

/** Adds zero steps at the start and end (Keras `ZeroPadding1D`): [b, steps, c] → [b, start + steps + end, c]. */
export class ZeroPadding1D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['padding'];
  static override className = 'ZeroPadding1D';
  /** [start, end] zero steps. */
  readonly padding: [number, number];

  /** @throws Error if padding is not a non-negative integer or a pair of them. */
  constructor(args: ZeroPadding1DArgs = {}) {
    super(args);
    this.padding = countPair(this.name, 'padding', args.padding ?? 1);
    this.inputSpec = [{ ndim: 3 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return pad(oneTensor(this.name, inputs), [[0, 0], this.padding, [0, 0]]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, plus(shape[1], this.padding), shape[2] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { padding: [...this.padding], ...super.getConfig() };
  }
}
registerLayer(ZeroPadding1D);
/**
 * A {@link ZeroPadding1D} layer.
 *
 * @example
 * ```ts
 * zeroPadding1d({ padding: [2, 0] }); // [b, 10, c] → [b, 12, c], two zero steps first
 * ```
 */
export const zeroPadding1d = (args: ZeroPadding1DArgs = {}): ZeroPadding1D => new ZeroPadding1D(args);

// ---- ZeroPadding2D --------------------------------------------------------------------------

/** Arguments of {@link ZeroPadding2D}. */
export interface ZeroPadding2DArgs extends LayerArgs {
  /** `n` (every side), `[rows, cols]` (both sides of each axis) or `[[top, bottom], [left, right]]`; default 1. */
  padding?: number | [number, number] | [[number, number], [number, number]];
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** Adds rows and columns of zeros around NHWC images (Keras `ZeroPadding2D`). */
export class ZeroPadding2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['padding', 'dataFormat'];
  static override className = 'ZeroPadding2D';
  /** [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;

  /** @throws Error if padding is malformed or dataFormat is not channels-last. */
  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    this.padding = countPairs(this.name, 'padding', args.padding ?? 1);
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return pad(oneTensor(this.name, inputs), [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, plus(shape[1], this.padding[0]), plus(shape[2], this.padding[1]), shape[3] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { padding: [[...this.padding[0]], [...this.padding[1]]], dataFormat: this.dataFormat, ...super.getConfig() };
  }
}
registerLayer(ZeroPadding2D);
/**
 * A {@link ZeroPadding2D} layer.
 *
 * @example
 * ```ts
 * zeroPadding2d({ padding: 1 });                // [b, 28, 28, c] → [b, 30, 30, c]
 * zeroPadding2d({ padding: [[0, 1], [0, 1]] }); // one row below, one column right
 * ```
 */
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}): ZeroPadding2D => new ZeroPadding2D(args);

// ---- Cropping1D -----------------------------------------------------------------------------

/** Arguments of {@link Cropping1D}. */
export interface Cropping1DArgs extends LayerArgs {
  /** Steps removed at the start and end: one number (both) or [start, end]; default [1, 1]. */
  cropping?: number | [number, number];
}

/** Removes steps at the start and end (Keras `Cropping1D`): [b, steps, c] → [b, steps - start - end, c]. */
export class Cropping1D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['cropping'];
  static override className = 'Cropping1D';
  /** [start, end] steps removed. */
  readonly cropping: [number, number];

  /** @throws Error if cropping is not a non-negative integer or a pair of them. */
  constructor(args: Cropping1DArgs = {}) {
    super(args);
    this.cropping = countPair(this.name, 'cropping', args.cropping ?? 1);
    this.inputSpec = [{ ndim: 3 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const kept = x.shape[1]! - this.cropping[0] - this.cropping[1];
    if (kept <= 0) {
      throw new Error(
        `Layer ${this.name}: cropping [${this.cropping.join(', ')}] leaves no steps of the input of shape ${formatShape(x.shape)}`,
      );
    }
    return slice(x, [0, this.cropping[0], 0], [-1, kept, -1]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, minus(shape[1], this.cropping), shape[2] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { cropping: [...this.cropping], ...super.getConfig() };
  }
}
registerLayer(Cropping1D);
/**
 * A {@link Cropping1D} layer.
 *
 * @example
 * ```ts
 * cropping1d({ cropping: [1, 2] }); // [b, 10, c] → [b, 7, c]
 * ```
 */
export const cropping1d = (args: Cropping1DArgs = {}): Cropping1D => new Cropping1D(args);

// ---- Cropping2D -----------------------------------------------------------------------------

/** Arguments of {@link Cropping2D}. */
export interface Cropping2DArgs extends LayerArgs {
  /** `n` (every side), `[rows, cols]` (both sides of each axis) or `[[top, bottom], [left, right]]`; default 0. */
  cropping?: number | [number, number] | [[number, number], [number, number]];
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** Removes rows and columns at the borders of NHWC images (Keras `Cropping2D`). */
export class Cropping2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['cropping', 'dataFormat'];
  static override className = 'Cropping2D';
  /** [[top, bottom], [left, right]]. */
  readonly cropping: [[number, number], [number, number]];
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;

  /** @throws Error if cropping is malformed or dataFormat is not channels-last. */
  constructor(args: Cropping2DArgs = {}) {
    super(args);
    this.cropping = countPairs(this.name, 'cropping', args.cropping ?? 0);
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [[top, bottom], [left, right]] = this.cropping;
    const rows = x.shape[1]! - top - bottom;
    const cols = x.shape[2]! - left - right;
    if (rows <= 0 || cols <= 0) {
      throw new Error(
        `Layer ${this.name}: cropping ${JSON.stringify(this.cropping)} leaves nothing of the input of shape ${formatShape(x.shape)}`,
      );
    }
    return slice(x, [0, top, left, 0], [-1, rows, cols, -1]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, minus(shape[1], this.cropping[0]), minus(shape[2], this.cropping[1]), shape[3] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { cropping: [[...this.cropping[0]], [...this.cropping[1]]], dataFormat: this.dataFormat, ...super.getConfig() };
  }
}
registerLayer(Cropping2D);
/**
 * A {@link Cropping2D} layer.
 *
 * @example
 * ```ts
 * cropping2d({ cropping: [[2, 2], [4, 4]] }); // [b, 28, 28, c] → [b, 24, 20, c]
 * ```
 */
export const cropping2d = (args: Cropping2DArgs = {}): Cropping2D => new Cropping2D(args);

// ---- Permute --------------------------------------------------------------------------------

/** Arguments of {@link Permute}. */
export interface PermuteArgs extends LayerArgs {
  /** The new order of the non-batch axes, 1-based as in Keras: [2, 1] swaps the two axes after the batch. */
  dims: number[];
}

/** Reorders the non-batch axes (Keras `Permute`); output axis i + 1 is input axis dims[i]. */
export class Permute extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['dims'];
  static override className = 'Permute';
  /** The 1-based permutation of the non-batch axes. */
  readonly dims: number[];

  /** @throws Error if dims is not a permutation of 1..n. */
  constructor(args: PermuteArgs) {
    super(args ?? {});
    const dims = args?.dims as unknown;
    if (
      !Array.isArray(dims) ||
      dims.length === 0 ||
      !dims
        .slice()
        .sort((a, b) => a - b)
        .every((d, i) => d === i + 1)
    ) {
      throw new Error(
        `Layer ${this.name}: dims must be a permutation of 1..n (1-based axes after the batch axis, e.g. [2, 1]), got ${JSON.stringify(dims)}`,
      );
    }
    this.dims = [...(dims as number[])];
    this.inputSpec = [{ ndim: this.dims.length + 1 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return transpose(oneTensor(this.name, inputs), [0, ...this.dims]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, ...this.dims.map((d) => shape[d] ?? null)];
  }

  override getConfig(): Record<string, unknown> {
    return { dims: [...this.dims], ...super.getConfig() };
  }
}
registerLayer(Permute);
/**
 * A {@link Permute} layer.
 *
 * @throws Error if dims is not a permutation of 1..n.
 *
 * @example
 * ```ts
 * permute({ dims: [2, 1] }); // [b, 10, 64] → [b, 64, 10]
 * ```
 */
export const permute = (args: PermuteArgs): Permute => new Permute(args);

// ---- RepeatVector ---------------------------------------------------------------------------

/** Arguments of {@link RepeatVector}. */
export interface RepeatVectorArgs extends LayerArgs {
  /** How many times the input is repeated (a positive integer). */
  n: number;
}

/** Repeats each sample's vector n times (Keras `RepeatVector`): [b, features] → [b, n, features]. */
export class RepeatVector extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['n'];
  static override className = 'RepeatVector';
  /** Repetitions. */
  readonly n: number;

  /** @throws Error if n is not a positive integer. */
  constructor(args: RepeatVectorArgs) {
    super(args ?? {});
    this.n = positiveInteger(this.name, 'n', args?.n);
    this.inputSpec = [{ ndim: 2 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [b, f] = x.shape as [number, number];
    return broadcastTo(reshape(x, [b, 1, f]), [b, this.n, f]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, this.n, shape[1] ?? null];
  }

  override getConfig(): Record<string, unknown> {
    return { n: this.n, ...super.getConfig() };
  }
}
registerLayer(RepeatVector);
/**
 * A {@link RepeatVector} layer, e.g. feeding an encoder's summary vector to every step of a decoder.
 *
 * @throws Error if n is not a positive integer.
 *
 * @example
 * ```ts
 * repeatVector({ n: 5 }); // [b, 32] → [b, 5, 32]
 * ```
 */
export const repeatVector = (args: RepeatVectorArgs): RepeatVector => new RepeatVector(args);
