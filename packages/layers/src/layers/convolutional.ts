import {
  add,
  conv2d as conv2dOp,
  gather,
  mul,
  pad,
  reshape,
  slice,
  sum,
  tensor,
  transpose,
  type Tensor,
  type Variable,
} from '@axon/tensor';
import { serializeActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { formatShape, normalizePair, singleShape, type Shape } from '../shape.js';
import {
  KERNEL_BIAS_OPTIONS,
  activationOption,
  biasAndActivation,
  channelsLastOnly,
  bool,
  convOutputLength,
  initializerOption,
  kernelBiasOptions,
  oneTensor,
  paddingOption,
  positiveInteger,
  regularizerOption,
  rejectConstraint,
  type KernelBiasArgs,
  type KernelBiasOptions,
  type PaddingMode,
} from './util.js';

/**
 * Arguments of {@link Conv2D} (Keras `Conv2D`): filters and kernelSize, the geometry options, plus
 * the activation, initializer and regularizer options and the base layer options.
 */
export interface Conv2DArgs extends LayerArgs, KernelBiasArgs {
  /** Output channels (a positive integer). */
  filters: number;
  /** Filter height and width: one number for both, or [height, width]. */
  kernelSize: number | [number, number];
  /** Step between windows, one number or [height, width]; default 1. */
  strides?: number | [number, number];
  /** 'valid' (default, no padding) or 'same' (output size ceil(in / stride)). */
  padding?: PaddingMode;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Spacing between filter taps, one number or [height, width]; default 1. Not with strides other than 1. */
  dilationRate?: number | [number, number];
  /**
   * Channel groups (Keras `groups`, default 1): input channels and filters are split into this many
   * groups, each convolved with its own filters; the kernel is [kh, kw, inChannels / groups, filters].
   * Both the input channels and filters must be divisible by it. (Not known to tfjs-layers 4.22.)
   */
  groups?: number;
}

/**
 * 2-D convolution over NHWC input (Keras `Conv2D`); kernel [kh, kw, in, filters], then bias and
 * activation. Input [batch, height, width, channels], output [batch, outHeight, outWidth, filters].
 * Make one with {@link conv2d}.
 */
export class Conv2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    ...KERNEL_BIAS_OPTIONS,
    'filters',
    'kernelSize',
    'strides',
    'padding',
    'dataFormat',
    'dilationRate',
    'groups',
  ];
  static override className = 'Conv2D';
  /** Output channels. */
  readonly filters: number;
  /** [height, width] of the filter. */
  readonly kernelSize: [number, number];
  /** [height, width] step between windows. */
  readonly strides: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: PaddingMode;
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;
  /** [height, width] spacing between filter taps. */
  readonly dilationRate: [number, number];
  /** Channel groups (1: an ordinary convolution). */
  readonly groups: number;
  /** The activation applied to the output (linear when none was given). */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  readonly kernelInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** The kernel's regularizer, or null. */
  readonly kernelRegularizer: Regularizer | null;
  /** The filter [kh, kw, inChannels / groups, filters], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** The bias [filters], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if filters, kernelSize, strides or dilationRate are not positive integers, both
   *   strides and dilationRate differ from 1, padding or dataFormat is unsupported, groups is not a
   *   positive integer dividing filters, or an option is unknown.
   */
  constructor(args: Conv2DArgs) {
    super(args ?? {});
    this.filters = positiveInteger(this.name, 'filters', args?.filters);
    this.groups = positiveInteger(this.name, 'groups', args.groups ?? 1);
    if (this.filters % this.groups !== 0) {
      throw new Error(`Layer ${this.name}: filters (${this.filters}) must be divisible by groups (${this.groups})`);
    }
    this.kernelSize = normalizePair(this.name, 'kernelSize', args.kernelSize);
    this.strides = normalizePair(this.name, 'strides', args.strides ?? 1);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.dilationRate = normalizePair(this.name, 'dilationRate', args.dilationRate ?? 1);
    if (this.strides.some((s) => s !== 1) && this.dilationRate.some((d) => d !== 1)) {
      throw new Error(
        `Layer ${this.name}: strides ${JSON.stringify(this.strides)} and dilationRate ${JSON.stringify(this.dilationRate)} ` +
          'cannot both differ from 1 (as in Keras)',
      );
    }
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = kernelBiasOptions(this.name, args));
    this.inputSpec = [{ ndim: 4 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const channels = shape[3];
    if (shape.length !== 4 || channels == null) {
      throw new Error(`Layer ${this.name}: expected an NHWC input of rank 4 with known channels, got shape ${formatShape(shape)}`);
    }
    if (channels % this.groups !== 0) {
      throw new Error(`Layer ${this.name}: the input channels (${channels}) must be divisible by groups (${this.groups})`);
    }
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, channels / this.groups, this.filters],
      this.kernelInitializer,
      this.kernelRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: channels } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilationRate;
    const effH = (kh - 1) * dh + 1;
    const effW = (kw - 1) * dw + 1;
    if (this.padding === 'valid' && (x.shape[1]! < effH || x.shape[2]! < effW)) {
      throw new Error(
        `Layer ${this.name}: the ${effH}x${effW} kernel (dilated) does not fit the input of shape ${formatShape(x.shape)} with 'valid' padding`,
      );
    }
    const kernel = this.groups === 1 ? this.kernel! : blockDiagonal(this.kernel!, this.groups);
    const y = conv2dOp(x, kernel, this.strides, this.padding, this.dilationRate);
    return biasAndActivation(y, this.bias, this.activation);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    const rows = convOutputLength(shape[1] ?? null, this.kernelSize[0], this.padding, this.strides[0], this.dilationRate[0]);
    const cols = convOutputLength(shape[2] ?? null, this.kernelSize[1], this.padding, this.strides[1], this.dilationRate[1]);
    return [shape[0] ?? null, rows, cols, this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      kernelConstraint: null,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [...this.dilationRate],
      ...(this.groups === 1 ? {} : { groups: this.groups }),
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      biasConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(Conv2D);
/**
 * A {@link Conv2D} layer, exported as `conv2d` from `@axon/layers` (Keras `layers.Conv2D`). Input
 * images are NHWC: [batch, height, width, channels].
 *
 * @throws Error as the {@link Conv2D} constructor does.
 *
 * @example
 * ```ts
 * import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
 * import { Sequential } from '@axon/models';
 *
 * const model = new Sequential({
 *   layers: [
 *     conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }), // → [26, 26, 32]
 *     maxPooling2d({ poolSize: 2 }),                                                     // → [13, 13, 32]
 *     conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),       // → [13, 13, 64]
 *     flatten(),
 *     dense({ units: 10, activation: 'softmax' }),
 *   ],
 * });
 * ```
 */
export const conv2dLayer = (args: Conv2DArgs): Conv2D => new Conv2D(args);

/**
 * The dense [kh, kw, groups * inPerGroup, filters] kernel equivalent to a grouped kernel
 * [kh, kw, inPerGroup, filters]: zero between a group's input channels and another group's filters,
 * so that one conv2d computes the grouped convolution (filters of group g are g * filters/groups ...).
 */
function blockDiagonal(kernel: Tensor, groups: number): Tensor {
  const [kh, kw, inPerGroup, filters] = kernel.shape as [number, number, number, number];
  const perGroup = filters / groups;
  const eye = new Float32Array(groups * groups);
  for (let g = 0; g < groups; g++) eye[g * groups + g] = 1;
  const mask = tensor(eye, [1, 1, groups, 1, groups, 1]);
  const masked = mul(reshape(kernel, [kh, kw, 1, inPerGroup, groups, perGroup]), mask);
  return reshape(masked, [kh, kw, groups * inPerGroup, filters]);
}

/**
 * Up to this many input channels DepthwiseConv2D runs as one conv2d with a block-diagonal kernel
 * (cost ∝ channels², one fast op); above, as a sum over the filter taps of strided input slices
 * times the tap's weights (cost ∝ channels, a few tensor ops per tap). Measured crossover (forward
 * and backward, 3×3, batch 8, 16×16): about 100 channels on both backends.
 */
export const DEPTHWISE_DENSE_MAX_CHANNELS = 96;

/**
 * Depthwise convolution of NHWC x with kernel [kh, kw, in, m] (output channel c * m + j) as
 * Σ over taps of (the input window shifted to the tap, every stride-th cell) × kernel[tap].
 */
function depthwiseByTaps(x: Tensor, kernel: Tensor, strides: [number, number], padding: PaddingMode, dilations: [number, number]): Tensor {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const [kh, kw, , multiplier] = kernel.shape as [number, number, number, number];
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const axis = (size: number, k: number, s: number, d: number): { out: number; before: number; after: number } => {
    const effective = (k - 1) * d + 1;
    const out = padding === 'same' ? Math.ceil(size / s) : Math.floor((size - effective) / s) + 1;
    const before = padding === 'same' ? Math.floor(Math.max((out - 1) * s + effective - size, 0) / 2) : 0;
    // Every tap reads out * s cells from its offset (the last s - 1 of them unused).
    return { out, before, after: (k - 1) * d + out * s - size - before };
  };
  const rows = axis(height, kh, sh, dh);
  const cols = axis(width, kw, sw, dw);
  const padded = pad(x, [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ]);
  let y: Tensor | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      let window = slice(padded, [0, i * dh, j * dw, 0], [batch, rows.out * sh, cols.out * sw, channels]);
      if (sh > 1 || sw > 1) {
        window = reshape(window, [batch, rows.out, sh, cols.out, sw, channels]);
        window = slice(window, [0, 0, 0, 0, 0, 0], [batch, rows.out, 1, cols.out, 1, channels]);
      }
      const tap = reshape(slice(kernel, [i, j, 0, 0], [1, 1, channels, multiplier]), [channels, multiplier]);
      const term = mul(reshape(window, [batch, rows.out, cols.out, channels, 1]), tap);
      y = y === null ? term : add(y, term);
    }
  }
  return reshape(y!, [batch, rows.out, cols.out, channels * multiplier]);
}

/** The dense [kh, kw, in, in * multiplier] kernel of a depthwise kernel [kh, kw, in, multiplier] (output channel c * multiplier + m). */
function depthwiseAsDense(kernel: Tensor): Tensor {
  const [kh, kw, channels, multiplier] = kernel.shape as [number, number, number, number];
  return blockDiagonal(reshape(kernel, [kh, kw, 1, channels * multiplier]), channels);
}

/**
 * The dense [kh, kw, in, filters] kernel of a depthwise [kh, kw, in, m] followed by a pointwise
 * [1, 1, in * m, filters] convolution (both linear, so one convolution computes them).
 */
function separableAsDense(depthwise: Tensor, pointwise: Tensor): Tensor {
  const [kh, kw, channels, multiplier] = depthwise.shape as [number, number, number, number];
  const filters = pointwise.shape[3]!;
  const d = reshape(depthwise, [kh * kw, channels, multiplier, 1]);
  const p = reshape(pointwise, [1, channels, multiplier, filters]);
  return reshape(sum(mul(d, p), 2), [kh, kw, channels, filters]);
}

/** A positive integer or an array of one, as Keras' 1-D size options. */
function normalizeOne(layer: string, option: string, value: unknown): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!Number.isInteger(v) || (v as number) <= 0) {
    throw new Error(`Layer ${layer}: ${option} must be a positive integer or an array of 1 positive integer, got ${JSON.stringify(value)}`);
  }
  return v as number;
}

/** Padding of the 1-D convolutions: 'valid', 'same' or 'causal' (left padding only: output t sees inputs up to t). */
export type Padding1D = 'valid' | 'same' | 'causal';

function padding1DOption(layer: string, value: unknown): Padding1D {
  if (value === undefined || value === null) return 'valid';
  if (value === 'valid' || value === 'same' || value === 'causal') return value;
  throw new Error(`Layer ${layer}: padding must be 'valid', 'same' or 'causal', got ${JSON.stringify(value)}`);
}

function noStridedDilation(layer: string, strides: readonly number[], dilationRate: readonly number[]): void {
  if (strides.some((s) => s !== 1) && dilationRate.some((d) => d !== 1)) {
    throw new Error(
      `Layer ${layer}: strides ${JSON.stringify(strides)} and dilationRate ${JSON.stringify(dilationRate)} ` +
        'cannot both differ from 1 (as in Keras)',
    );
  }
}

function inputChannels(layer: string, inputShape: Shape | Shape[], rank: 3 | 4): number {
  const shape = singleShape(layer, inputShape);
  const channels = shape[rank - 1];
  if (shape.length !== rank || channels == null) {
    const what = rank === 3 ? '[batch, steps, channels] input' : 'NHWC input of rank 4';
    throw new Error(`Layer ${layer}: expected an ${what} with known channels, got shape ${formatShape(shape)}`);
  }
  return channels;
}

/**
 * x [batch, steps, channels] convolved with the dense kernel [k, in, out] through conv2d on
 * [batch, 1, steps, channels]: 'causal' pads (k - 1) * dilation steps on the left only.
 */
function conv1dThrough2d(layer: string, x: Tensor, kernel: Tensor, stride: number, padding: Padding1D, dilation: number): Tensor {
  const [k, kin, out] = kernel.shape as [number, number, number];
  const x4 = conv1dInput(layer, x, k, padding, dilation);
  const y = conv2dOp(x4, reshape(kernel, [1, k, kin, out]), [1, stride], padding === 'same' ? 'same' : 'valid', [1, dilation]);
  return reshape(y, [x.shape[0]!, y.shape[2]!, out]);
}

/**
 * x [batch, steps, channels] as [batch, 1, steps, channels], left-padded for 'causal'; then a
 * 'valid' ('causal') or 'same' conv2d over it is the 1-D convolution.
 *
 * @throws Error if with 'valid' padding the (dilated) kernel is longer than the input.
 */
function conv1dInput(layer: string, x: Tensor, k: number, padding: Padding1D, dilation: number): Tensor {
  const [batch, steps, channels] = x.shape as [number, number, number];
  const effective = (k - 1) * dilation + 1;
  if (padding === 'valid' && steps < effective) {
    throw new Error(
      `Layer ${layer}: the kernel of ${effective} steps (dilated) does not fit the input of shape ${formatShape(x.shape)} with 'valid' padding`,
    );
  }
  let x4 = reshape(x, [batch, 1, steps, channels]);
  if (padding === 'causal')
    x4 = pad(x4, [
      [0, 0],
      [0, 0],
      [effective - 1, 0],
      [0, 0],
    ]);
  return x4;
}

function conv1dOutputLength(steps: number | null, k: number, padding: Padding1D, stride: number, dilation: number): number | null {
  if (padding !== 'causal') return convOutputLength(steps, k, padding, stride, dilation);
  return convOutputLength(steps === null ? null : steps + (k - 1) * dilation, k, 'valid', stride, dilation);
}

/** Arguments of {@link Conv1D} (Keras `Conv1D`). */
export interface Conv1DArgs extends LayerArgs, KernelBiasArgs {
  /** Output channels (a positive integer). */
  filters: number;
  /** Filter length: a number or [length]. */
  kernelSize: number | [number];
  /** Step between windows, a number or [step]; default 1. */
  strides?: number | [number];
  /** 'valid' (default), 'same' (output ceil(steps / stride)) or 'causal' (left padding of (kernelSize - 1) * dilationRate). */
  padding?: Padding1D;
  /** Only 'channelsLast' ([batch, steps, channels]). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Spacing between filter taps, a number or [rate]; default 1. Not with strides other than 1. */
  dilationRate?: number | [number];
  /**
   * Channel groups (Keras `groups`, default 1), as in {@link Conv2DArgs.groups}: kernel
   * [kernelSize, inChannels / groups, filters]. (Not known to tfjs-layers 4.22.)
   */
  groups?: number;
}

/**
 * 1-D convolution over [batch, steps, channels] (Keras `Conv1D`); kernel [kernelSize, in, filters],
 * then bias and activation; output [batch, outSteps, filters]. Runs on the conv2d op (input viewed as
 * [batch, 1, steps, channels]). Make one with {@link conv1d}.
 */
export class Conv1D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    ...KERNEL_BIAS_OPTIONS,
    'filters',
    'kernelSize',
    'strides',
    'padding',
    'dataFormat',
    'dilationRate',
    'groups',
  ];
  static override className = 'Conv1D';
  /** Output channels. */
  readonly filters: number;
  /** Filter length. */
  readonly kernelSize: number;
  /** Step between windows. */
  readonly strides: number;
  /** 'valid', 'same' or 'causal'. */
  readonly padding: Padding1D;
  /** Always 'channelsLast'. */
  readonly dataFormat = 'channelsLast' as const;
  /** Spacing between filter taps. */
  readonly dilationRate: number;
  /** Channel groups (1: an ordinary convolution). */
  readonly groups: number;
  /** The activation applied to the output (linear when none was given). */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  readonly kernelInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The kernel's regularizer, or null. */
  readonly kernelRegularizer: Regularizer | null;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** The filter [kernelSize, inChannels, filters], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** The bias [filters], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if filters, kernelSize, strides or dilationRate are not positive integers, both
   *   strides and dilationRate differ from 1, padding or dataFormat is unsupported, groups is not a
   *   positive integer dividing filters, or an option is unknown.
   */
  constructor(args: Conv1DArgs) {
    super(args ?? {});
    this.filters = positiveInteger(this.name, 'filters', args?.filters);
    this.groups = positiveInteger(this.name, 'groups', args.groups ?? 1);
    if (this.filters % this.groups !== 0) {
      throw new Error(`Layer ${this.name}: filters (${this.filters}) must be divisible by groups (${this.groups})`);
    }
    this.kernelSize = normalizeOne(this.name, 'kernelSize', args.kernelSize);
    this.strides = normalizeOne(this.name, 'strides', args.strides ?? 1);
    this.padding = padding1DOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.dilationRate = normalizeOne(this.name, 'dilationRate', args.dilationRate ?? 1);
    noStridedDilation(this.name, [this.strides], [this.dilationRate]);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = kernelBiasOptions(this.name, args));
    this.inputSpec = [{ ndim: 3 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const channels = inputChannels(this.name, inputShape, 3);
    if (channels % this.groups !== 0) {
      throw new Error(`Layer ${this.name}: the input channels (${channels}) must be divisible by groups (${this.groups})`);
    }
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize, channels / this.groups, this.filters],
      this.kernelInitializer,
      this.kernelRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ ndim: 3, axes: { [-1]: channels } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    let kernel: Tensor = this.kernel!;
    if (this.groups !== 1) {
      const [k, inPerGroup, filters] = kernel.shape as [number, number, number];
      kernel = reshape(blockDiagonal(reshape(kernel, [1, k, inPerGroup, filters]), this.groups), [k, inPerGroup * this.groups, filters]);
    }
    const y = conv1dThrough2d(this.name, x, kernel, this.strides, this.padding, this.dilationRate);
    return biasAndActivation(y, this.bias, this.activation);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [
      shape[0] ?? null,
      conv1dOutputLength(shape[1] ?? null, this.kernelSize, this.padding, this.strides, this.dilationRate),
      this.filters,
    ];
  }

  override getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      kernelConstraint: null,
      kernelSize: [this.kernelSize],
      strides: [this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [this.dilationRate],
      ...(this.groups === 1 ? {} : { groups: this.groups }),
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      biasConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(Conv1D);
/**
 * A {@link Conv1D} layer (Keras `layers.Conv1D`) over [batch, steps, channels].
 *
 * @throws Error as the {@link Conv1D} constructor does.
 *
 * @example
 * ```ts
 * import { conv1d } from '@axon/layers';
 *
 * conv1d({ filters: 16, kernelSize: 3, padding: 'causal', dilationRate: 2, inputShape: [100, 8] }); // → [100, 16]
 * ```
 */
export const conv1d = (args: Conv1DArgs): Conv1D => new Conv1D(args);

/** The depthwise options shared by {@link DepthwiseConv2D} and the separable convolutions. */
export interface DepthwiseArgs {
  /** Output channels per input channel of the depthwise step; default 1. */
  depthMultiplier?: number;
  /** Initializer of the depthwise kernel; default 'glorotUniform'. */
  depthwiseInitializer?: InitializerIdentifier;
  /** Penalty on the depthwise kernel; default none. */
  depthwiseRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  depthwiseConstraint?: null;
}

/** Arguments of {@link DepthwiseConv2D} (Keras `DepthwiseConv2D`). */
export interface DepthwiseConv2DArgs extends LayerArgs, DepthwiseArgs {
  /** Filter height and width: one number for both, or [height, width]. */
  kernelSize: number | [number, number];
  /** Step between windows, one number or [height, width]; default 1. */
  strides?: number | [number, number];
  /** 'valid' (default) or 'same'. */
  padding?: PaddingMode;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Spacing between filter taps, one number or [height, width]; default 1. Not with strides other than 1. */
  dilationRate?: number | [number, number];
  /** Applied to the output; default linear (none). */
  activation?: ActivationIdentifier | null;
  /** Whether to add a bias; default true. */
  useBias?: boolean;
  /** Initializer of the bias; default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** Penalty on the bias; default none. */
  biasRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the output; default none. */
  activityRegularizer?: RegularizerIdentifier | null;
  /** Not supported (anything but null is rejected). */
  biasConstraint?: null;
}

const DEPTHWISE_OPTIONS = [
  'kernelSize',
  'strides',
  'padding',
  'dataFormat',
  'dilationRate',
  'depthMultiplier',
  'depthwiseInitializer',
  'depthwiseRegularizer',
  'depthwiseConstraint',
  'activation',
  'useBias',
  'biasInitializer',
  'biasRegularizer',
  'activityRegularizer',
  'biasConstraint',
] as const;

/**
 * Depthwise 2-D convolution over NHWC input (Keras `DepthwiseConv2D`): each input channel is
 * convolved with its own depthMultiplier filters; kernel `depthwise_kernel` [kh, kw, in,
 * depthMultiplier]; output channel c * depthMultiplier + m. Up to {@link DEPTHWISE_DENSE_MAX_CHANNELS}
 * input channels it runs as one conv2d with a block-diagonal kernel; above, as a sum over the filter
 * taps of strided input slices times the tap's weights. Make one with {@link depthwiseConv2d}.
 */
export class DepthwiseConv2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...DEPTHWISE_OPTIONS];
  static override className = 'DepthwiseConv2D';
  /** [height, width] of the filter. */
  readonly kernelSize: [number, number];
  /** [height, width] step between windows. */
  readonly strides: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: PaddingMode;
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;
  /** [height, width] spacing between filter taps. */
  readonly dilationRate: [number, number];
  /** Output channels per input channel. */
  readonly depthMultiplier: number;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The depthwise kernel's initializer. */
  readonly depthwiseInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The depthwise kernel's regularizer, or null. */
  readonly depthwiseRegularizer: Regularizer | null;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** [kh, kw, inChannels, depthMultiplier], `<name>/depthwise_kernel`; null until built. */
  depthwiseKernel: Variable | null = null;
  /** [inChannels * depthMultiplier], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if kernelSize, strides, dilationRate or depthMultiplier are not positive integers,
   *   both strides and dilationRate differ from 1, padding or dataFormat is unsupported, or an option is unknown.
   */
  constructor(args: DepthwiseConv2DArgs) {
    super(args ?? {});
    this.kernelSize = normalizePair(this.name, 'kernelSize', args?.kernelSize);
    this.strides = normalizePair(this.name, 'strides', args.strides ?? 1);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.dilationRate = normalizePair(this.name, 'dilationRate', args.dilationRate ?? 1);
    noStridedDilation(this.name, this.strides, this.dilationRate);
    this.depthMultiplier = positiveInteger(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.depthwiseInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.depthwiseRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = depthwiseOptions(this.name, args));
    this.inputSpec = [{ ndim: 4 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const channels = inputChannels(this.name, inputShape, 4);
    this.depthwiseKernel = this.addWeight(
      'depthwise_kernel',
      [...this.kernelSize, channels, this.depthMultiplier],
      this.depthwiseInitializer,
      this.depthwiseRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [channels * this.depthMultiplier], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: channels } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    checkFits(this.name, x, this.kernelSize, this.dilationRate, this.padding);
    const y =
      x.shape[3]! <= DEPTHWISE_DENSE_MAX_CHANNELS
        ? conv2dOp(x, depthwiseAsDense(this.depthwiseKernel!), this.strides, this.padding, this.dilationRate)
        : depthwiseByTaps(x, this.depthwiseKernel!, this.strides, this.padding, this.dilationRate);
    return biasAndActivation(y, this.bias, this.activation);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    const rows = convOutputLength(shape[1] ?? null, this.kernelSize[0], this.padding, this.strides[0], this.dilationRate[0]);
    const cols = convOutputLength(shape[2] ?? null, this.kernelSize[1], this.padding, this.strides[1], this.dilationRate[1]);
    const channels = shape[3] == null ? null : shape[3] * this.depthMultiplier;
    return [shape[0] ?? null, rows, cols, channels];
  }

  override getConfig(): Record<string, unknown> {
    return {
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [...this.dilationRate],
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      biasConstraint: null,
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      depthwiseRegularizer: serializeRegularizer(this.depthwiseRegularizer),
      depthwiseConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(DepthwiseConv2D);
/**
 * A {@link DepthwiseConv2D} layer (Keras `layers.DepthwiseConv2D`) over NHWC input.
 *
 * @throws Error as the {@link DepthwiseConv2D} constructor does.
 *
 * @example
 * ```ts
 * import { depthwiseConv2d } from '@axon/layers';
 *
 * depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', inputShape: [32, 32, 8] }); // → [32, 32, 16]
 * ```
 */
export const depthwiseConv2d = (args: DepthwiseConv2DArgs): DepthwiseConv2D => new DepthwiseConv2D(args);

/** Resolves the depthwise + bias options (the depthwise kernel in the kernel slots of KernelBiasOptions). */
function depthwiseOptions(
  layer: string,
  args: DepthwiseArgs & Omit<KernelBiasArgs, 'kernelInitializer' | 'kernelRegularizer'>,
): KernelBiasOptions {
  rejectConstraint(layer, 'depthwiseConstraint', args.depthwiseConstraint);
  rejectConstraint(layer, 'biasConstraint', args.biasConstraint);
  return {
    activation: activationOption(layer, 'activation', args.activation),
    useBias: bool(layer, 'useBias', args.useBias, true),
    kernelInitializer: initializerOption(layer, 'depthwiseInitializer', args.depthwiseInitializer, 'glorotUniform'),
    biasInitializer: initializerOption(layer, 'biasInitializer', args.biasInitializer, 'zeros'),
    kernelRegularizer: regularizerOption(layer, 'depthwiseRegularizer', args.depthwiseRegularizer),
    biasRegularizer: regularizerOption(layer, 'biasRegularizer', args.biasRegularizer),
    activityRegularizer: regularizerOption(layer, 'activityRegularizer', args.activityRegularizer),
  };
}

function checkFits(layer: string, x: Tensor, kernelSize: readonly number[], dilationRate: readonly number[], padding: string): void {
  const effH = (kernelSize[0]! - 1) * dilationRate[0]! + 1;
  const effW = (kernelSize[1]! - 1) * dilationRate[1]! + 1;
  if (padding === 'valid' && (x.shape[1]! < effH || x.shape[2]! < effW)) {
    throw new Error(
      `Layer ${layer}: the ${effH}x${effW} kernel (dilated) does not fit the input of shape ${formatShape(x.shape)} with 'valid' padding`,
    );
  }
}

/** Arguments of {@link SeparableConv2D} and {@link SeparableConv1D} (Keras `SeparableConv2D` / `SeparableConv1D`). */
export interface SeparableConvArgs extends LayerArgs, DepthwiseArgs {
  /** Output channels of the pointwise step (a positive integer). */
  filters: number;
  /** Filter size: one number, or one per spatial axis. */
  kernelSize: number | number[];
  /** Step between windows: one number, or one per spatial axis; default 1. */
  strides?: number | number[];
  /** 'valid' (default) or 'same'; SeparableConv1D also takes 'causal'. */
  padding?: Padding1D;
  /** Only 'channelsLast'. */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Spacing between filter taps: one number, or one per spatial axis; default 1. Not with strides other than 1. */
  dilationRate?: number | number[];
  /** Initializer of the pointwise kernel; default 'glorotUniform'. */
  pointwiseInitializer?: InitializerIdentifier;
  /** Penalty on the pointwise kernel; default none. */
  pointwiseRegularizer?: RegularizerIdentifier | null;
  /** Not supported (anything but null is rejected). */
  pointwiseConstraint?: null;
  /** Applied to the output; default linear (none). */
  activation?: ActivationIdentifier | null;
  /** Whether to add a bias; default true. */
  useBias?: boolean;
  /** Initializer of the bias; default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** Penalty on the bias; default none. */
  biasRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the output; default none. */
  activityRegularizer?: RegularizerIdentifier | null;
  /** Not supported (anything but null is rejected). */
  biasConstraint?: null;
}

const SEPARABLE_OPTIONS = [...DEPTHWISE_OPTIONS, 'filters', 'pointwiseInitializer', 'pointwiseRegularizer', 'pointwiseConstraint'] as const;

/**
 * The depthwise-then-pointwise convolution shared by {@link SeparableConv1D} (rank 1) and
 * {@link SeparableConv2D} (rank 2): weights `depthwise_kernel` [...kernelSize, in, depthMultiplier],
 * `pointwise_kernel` [...ones, in * depthMultiplier, filters], `bias` [filters]. Up to
 * {@link DEPTHWISE_DENSE_MAX_CHANNELS} input channels the two linear steps are folded into one dense
 * kernel [...kernelSize, in, filters] and run as one convolution; above, the depthwise step is a sum
 * over the filter taps (as {@link DepthwiseConv2D}'s) followed by the 1×1 convolution.
 */
export abstract class SeparableConv extends Layer {
  /** 1 or 2 spatial axes. */
  abstract readonly rank: 1 | 2;
  /** Output channels. */
  readonly filters: number;
  /** Filter size per spatial axis. */
  readonly kernelSize: number[];
  /** Step between windows per spatial axis. */
  readonly strides: number[];
  /** 'valid', 'same' or (rank 1) 'causal'. */
  readonly padding: Padding1D;
  /** Always 'channelsLast'. */
  readonly dataFormat = 'channelsLast' as const;
  /** Spacing between filter taps per spatial axis. */
  readonly dilationRate: number[];
  /** Depthwise output channels per input channel. */
  readonly depthMultiplier: number;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The depthwise kernel's initializer. */
  readonly depthwiseInitializer: Initializer;
  /** The pointwise kernel's initializer. */
  readonly pointwiseInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The depthwise kernel's regularizer, or null. */
  readonly depthwiseRegularizer: Regularizer | null;
  /** The pointwise kernel's regularizer, or null. */
  readonly pointwiseRegularizer: Regularizer | null;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** `<name>/depthwise_kernel`; null until built. */
  depthwiseKernel: Variable | null = null;
  /** `<name>/pointwise_kernel`; null until built. */
  pointwiseKernel: Variable | null = null;
  /** `<name>/bias` [filters]; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if a size option is not a positive integer (or an array of `rank` of them), both
   *   strides and dilationRate differ from 1, padding or dataFormat is unsupported, or an option is unknown.
   */
  constructor(args: SeparableConvArgs, rank: 1 | 2) {
    super(args ?? {});
    const sizes = (option: string, value: unknown): number[] =>
      rank === 1 ? [normalizeOne(this.name, option, value)] : normalizePair(this.name, option, value);
    this.filters = positiveInteger(this.name, 'filters', args?.filters);
    this.kernelSize = sizes('kernelSize', args.kernelSize);
    this.strides = sizes('strides', args.strides ?? 1);
    this.padding = rank === 1 ? padding1DOption(this.name, args.padding) : paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.dilationRate = sizes('dilationRate', args.dilationRate ?? 1);
    noStridedDilation(this.name, this.strides, this.dilationRate);
    this.depthMultiplier = positiveInteger(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.depthwiseInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.depthwiseRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = depthwiseOptions(this.name, args));
    this.pointwiseInitializer = initializerOption(this.name, 'pointwiseInitializer', args.pointwiseInitializer, 'glorotUniform');
    this.pointwiseRegularizer = regularizerOption(this.name, 'pointwiseRegularizer', args.pointwiseRegularizer);
    rejectConstraint(this.name, 'pointwiseConstraint', args.pointwiseConstraint);
    this.inputSpec = [{ ndim: rank + 2 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const channels = inputChannels(this.name, inputShape, this.rank === 1 ? 3 : 4);
    const ones = this.kernelSize.map(() => 1);
    this.depthwiseKernel = this.addWeight(
      'depthwise_kernel',
      [...this.kernelSize, channels, this.depthMultiplier],
      this.depthwiseInitializer,
      this.depthwiseRegularizer,
    );
    this.pointwiseKernel = this.addWeight(
      'pointwise_kernel',
      [...ones, channels * this.depthMultiplier, this.filters],
      this.pointwiseInitializer,
      this.pointwiseRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ ndim: this.rank + 2, axes: { [-1]: channels } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const d = this.depthwiseKernel!;
    const p = this.pointwiseKernel!;
    let y: Tensor;
    const [channels, m] = d.shape.slice(-2) as [number, number];
    if (channels > DEPTHWISE_DENSE_MAX_CHANNELS) {
      // Wide: the depthwise step as a sum over taps (linear in the channels), then the 1×1 conv2d.
      const pointwise = reshape(p, [1, 1, channels * m, this.filters]);
      if (this.rank === 1) {
        const k = this.kernelSize[0]!;
        const x4 = conv1dInput(this.name, x, k, this.padding, this.dilationRate[0]!);
        const padding = this.padding === 'same' ? 'same' : 'valid';
        const depthwise = depthwiseByTaps(x4, reshape(d, [1, k, channels, m]), [1, this.strides[0]!], padding, [1, this.dilationRate[0]!]);
        const y4 = conv2dOp(depthwise, pointwise);
        y = reshape(y4, [x.shape[0]!, y4.shape[2]!, this.filters]);
      } else {
        checkFits(this.name, x, this.kernelSize, this.dilationRate, this.padding);
        const strides = this.strides as [number, number];
        const dilations = this.dilationRate as [number, number];
        y = conv2dOp(depthwiseByTaps(x, d, strides, this.padding as PaddingMode, dilations), pointwise);
      }
    } else if (this.rank === 1) {
      const [k, channels, m] = d.shape as [number, number, number];
      const dense = separableAsDense(reshape(d, [1, k, channels, m]), reshape(p, [1, 1, channels * m, this.filters]));
      y = conv1dThrough2d(this.name, x, reshape(dense, [k, channels, this.filters]), this.strides[0]!, this.padding, this.dilationRate[0]!);
    } else {
      checkFits(this.name, x, this.kernelSize, this.dilationRate, this.padding);
      const padding = this.padding as PaddingMode;
      y = conv2dOp(x, separableAsDense(d, p), this.strides as [number, number], padding, this.dilationRate as [number, number]);
    }
    return biasAndActivation(y, this.bias, this.activation);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    const spatial = this.kernelSize.map((k, i) =>
      conv1dOutputLength(shape[i + 1] ?? null, k, this.padding, this.strides[i]!, this.dilationRate[i]!),
    );
    return [shape[0] ?? null, ...spatial, this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [...this.dilationRate],
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      biasConstraint: null,
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      pointwiseInitializer: serializeInitializer(this.pointwiseInitializer),
      depthwiseRegularizer: serializeRegularizer(this.depthwiseRegularizer),
      pointwiseRegularizer: serializeRegularizer(this.pointwiseRegularizer),
      depthwiseConstraint: null,
      pointwiseConstraint: null,
      ...super.getConfig(),
    };
  }
}

/**
 * Separable 2-D convolution over NHWC input (Keras `SeparableConv2D`): a depthwise convolution
 * (kernel `depthwise_kernel` [kh, kw, in, depthMultiplier]) then a 1×1 convolution (`pointwise_kernel`
 * [1, 1, in * depthMultiplier, filters]), bias and activation. Make one with {@link separableConv2d}.
 */
export class SeparableConv2D extends SeparableConv {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...SEPARABLE_OPTIONS];
  static override className = 'SeparableConv2D';
  readonly rank = 2 as const;
  /** @throws Error as {@link SeparableConv}'s constructor does. */
  constructor(args: SeparableConvArgs) {
    super(args, 2);
  }
}
registerLayer(SeparableConv2D);
/**
 * A {@link SeparableConv2D} layer (Keras `layers.SeparableConv2D`) over NHWC input.
 *
 * @throws Error as the {@link SeparableConv} constructor does.
 *
 * @example
 * ```ts
 * import { separableConv2d } from '@axon/layers';
 *
 * separableConv2d({ filters: 32, kernelSize: 3, padding: 'same', inputShape: [28, 28, 8] }); // → [28, 28, 32]
 * ```
 */
export const separableConv2d = (args: SeparableConvArgs): SeparableConv2D => new SeparableConv2D(args);

/**
 * Separable 1-D convolution over [batch, steps, channels] (Keras `SeparableConv1D`; not in
 * tfjs-layers): `depthwise_kernel` [kernelSize, in, depthMultiplier], `pointwise_kernel` [1, in *
 * depthMultiplier, filters], bias. Padding 'valid', 'same' or 'causal'. Make one with {@link separableConv1d}.
 */
export class SeparableConv1D extends SeparableConv {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...SEPARABLE_OPTIONS];
  static override className = 'SeparableConv1D';
  readonly rank = 1 as const;
  /** @throws Error as {@link SeparableConv}'s constructor does. */
  constructor(args: SeparableConvArgs) {
    super(args, 1);
  }
}
registerLayer(SeparableConv1D);
/**
 * A {@link SeparableConv1D} layer (Keras `layers.SeparableConv1D`) over [batch, steps, channels].
 *
 * @throws Error as the {@link SeparableConv} constructor does.
 *
 * @example
 * ```ts
 * import { separableConv1d } from '@axon/layers';
 *
 * separableConv1d({ filters: 16, kernelSize: 5, padding: 'same', inputShape: [100, 8] }); // → [100, 16]
 * ```
 */
export const separableConv1d = (args: SeparableConvArgs): SeparableConv1D => new SeparableConv1D(args);

/** Arguments of {@link Conv2DTranspose} (Keras `Conv2DTranspose`). */
export interface Conv2DTransposeArgs extends LayerArgs, KernelBiasArgs {
  /** Output channels (a positive integer). */
  filters: number;
  /** Filter height and width: one number for both, or [height, width]. */
  kernelSize: number | [number, number];
  /** Upsampling step, one number or [height, width]; default 1. */
  strides?: number | [number, number];
  /** 'valid' (default; output in * stride + max(kernel - stride, 0)) or 'same' (output in * stride). */
  padding?: PaddingMode;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Only 1 (dilated transposed convolutions are not implemented). */
  dilationRate?: number | [number, number];
  /**
   * Extra output cells at the end of each axis, one number or [height, width], each smaller than
   * its stride; default null (the output sizes above). With it the output is (in - 1) * stride +
   * kernel - 2 * pad + outputPadding, pad = floor(kernel / 2) for 'same' and 0 for 'valid' (Keras;
   * not known to tfjs-layers 4.22).
   */
  outputPadding?: number | [number, number] | null;
}

/**
 * Transposed 2-D convolution over NHWC input (Keras `Conv2DTranspose`, the gradient of Conv2D with
 * respect to its input): kernel [kh, kw, filters, inChannels], then bias and activation. Output
 * [batch, outHeight, outWidth, filters] with out = in * stride ('same') or in * stride + max(kernel -
 * stride, 0) ('valid'), unless outputPadding is given. Computed as a conv2d of the zero-upsampled, padded input with the flipped
 * kernel. Make one with {@link conv2dTranspose}.
 */
export class Conv2DTranspose extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    ...KERNEL_BIAS_OPTIONS,
    'filters',
    'kernelSize',
    'strides',
    'padding',
    'dataFormat',
    'dilationRate',
    'outputPadding',
  ];
  static override className = 'Conv2DTranspose';
  /** Output channels. */
  readonly filters: number;
  /** [height, width] of the filter. */
  readonly kernelSize: [number, number];
  /** [height, width] upsampling step. */
  readonly strides: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: PaddingMode;
  /** Always 'channelsLast' (NHWC). */
  readonly dataFormat = 'channelsLast' as const;
  /** Always [1, 1]. */
  readonly dilationRate: [number, number] = [1, 1];
  /** [height, width] extra output cells, or null (Keras' default sizes). */
  readonly outputPadding: [number, number] | null;
  /** The activation applied to the output (linear when none was given). */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  readonly kernelInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The kernel's regularizer, or null. */
  readonly kernelRegularizer: Regularizer | null;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** The filter [kh, kw, filters, inChannels], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** The bias [filters], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if filters, kernelSize or strides are not positive integers, dilationRate is not 1,
   *   outputPadding is not a non-negative integer below the stride, padding or dataFormat is unsupported, or an option is unknown.
   */
  constructor(args: Conv2DTransposeArgs) {
    super(args ?? {});
    this.filters = positiveInteger(this.name, 'filters', args?.filters);
    this.kernelSize = normalizePair(this.name, 'kernelSize', args.kernelSize);
    this.strides = normalizePair(this.name, 'strides', args.strides ?? 1);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    const dilation = normalizePair(this.name, 'dilationRate', args.dilationRate ?? 1);
    if (dilation.some((d) => d !== 1)) {
      throw new Error(
        `Layer ${this.name}: dilationRate must be 1 (dilated transposed convolutions are not implemented), got ${JSON.stringify(args.dilationRate)}`,
      );
    }
    this.outputPadding = null;
    if (args.outputPadding !== undefined && args.outputPadding !== null) {
      const op = typeof args.outputPadding === 'number' ? [args.outputPadding, args.outputPadding] : args.outputPadding;
      if (!Array.isArray(op) || op.length !== 2 || !op.every((p, i) => Number.isInteger(p) && p >= 0 && p < this.strides[i]!)) {
        throw new Error(
          `Layer ${this.name}: outputPadding must be a non-negative integer or 2 of them, each smaller than its stride ` +
            `${JSON.stringify(this.strides)}, got ${JSON.stringify(args.outputPadding)}`,
        );
      }
      this.outputPadding = [op[0]!, op[1]!];
    }
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = kernelBiasOptions(this.name, args));
    this.inputSpec = [{ ndim: 4 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const channels = inputChannels(this.name, inputShape, 4);
    this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, channels], this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: channels } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const [batch, height, width, channels] = x.shape as [number, number, number, number];
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.strides;
    const rows = this.axisGeometry(height, 0);
    const cols = this.axisGeometry(width, 1);
    // The input with stride - 1 zeros after each cell: [batch, height * sh, width * sw, channels].
    let z = reshape(x, [batch, height, 1, width, 1, channels]);
    z = pad(z, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    z = reshape(z, [batch, height * sh, width * sw, channels]);
    // Padding of the forward convolution this one transposes; cells past the end are cut.
    z = pad(z, [
      [0, 0],
      [kh - 1 - rows.before, Math.max(rows.after, 0)],
      [kw - 1 - cols.before, Math.max(cols.after, 0)],
      [0, 0],
    ]);
    if (rows.after < 0 || cols.after < 0) {
      z = slice(z, [0, 0, 0, 0], [batch, z.shape[1]! + Math.min(rows.after, 0), z.shape[2]! + Math.min(cols.after, 0), channels]);
    }
    const reversed = (n: number): number[] => Array.from({ length: n }, (_, i) => n - 1 - i);
    const flipped = gather(gather(transpose(this.kernel!, [0, 1, 3, 2]), reversed(kh), 0), reversed(kw), 1);
    const y = conv2dOp(z, flipped, 1, 'valid');
    return biasAndActivation(y, this.bias, this.activation);
  }

  /**
   * Output length along one axis, and the padding (before, after: negative cuts) of the
   * zero-upsampled input: TensorFlow's conv2d_transpose, whose forward convolution maps the output
   * length back to the input length.
   */
  private axisGeometry(size: number, axis: 0 | 1): { out: number; before: number; after: number } {
    const k = this.kernelSize[axis];
    const s = this.strides[axis];
    const op = this.outputPadding?.[axis];
    let out: number;
    if (op === undefined) {
      out = this.padding === 'same' ? size * s : size * s + Math.max(k - s, 0);
    } else {
      out = (size - 1) * s + k - 2 * (this.padding === 'same' ? Math.floor(k / 2) : 0) + op;
      if (this.padding === 'same' && Math.ceil(out / s) !== size) {
        throw new Error(
          `Layer ${this.name}: outputPadding ${op} gives ${out} output cells along axis ${axis + 1}, which 'same' with stride ${s} ` +
            `does not map back to the input's ${size} (kernel ${k}); use another outputPadding`,
        );
      }
    }
    const before = this.padding === 'same' ? Math.floor(Math.max((size - 1) * s + k - out, 0) / 2) : 0;
    return { out, before, after: out + before - size * s };
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    const length = (size: number | null | undefined, i: 0 | 1): number | null => (size == null ? null : this.axisGeometry(size, i).out);
    return [shape[0] ?? null, length(shape[1], 0), length(shape[2], 1), this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      kernelConstraint: null,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: [...this.dilationRate],
      ...(this.outputPadding ? { outputPadding: [...this.outputPadding] } : {}),
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      biasConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(Conv2DTranspose);
/**
 * A {@link Conv2DTranspose} layer (Keras `layers.Conv2DTranspose`) over NHWC input.
 *
 * @throws Error as the {@link Conv2DTranspose} constructor does.
 *
 * @example
 * ```ts
 * import { conv2dTranspose } from '@axon/layers';
 *
 * conv2dTranspose({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', inputShape: [7, 7, 32] }); // → [14, 14, 16]
 * ```
 */
export const conv2dTranspose = (args: Conv2DTransposeArgs): Conv2DTranspose => new Conv2DTranspose(args);
