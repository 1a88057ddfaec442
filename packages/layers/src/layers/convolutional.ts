import { conv2d as conv2dOp, type Tensor, type Variable } from '@axon/tensor';
import { serializeActivation, type Activation } from '../activations.js';
import { serializeInitializer, type Initializer } from '../initializers.js';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer } from '../regularizers.js';
import { formatShape, normalizePair, singleShape, type Shape } from '../shape.js';
import {
  biasAndActivation,
  channelsLastOnly,
  convOutputLength,
  kernelBiasOptions,
  oneTensor,
  paddingOption,
  positiveInteger,
  type KernelBiasArgs,
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
}

/**
 * 2-D convolution over NHWC input (Keras `Conv2D`); kernel [kh, kw, in, filters], then bias and
 * activation. Input [batch, height, width, channels], output [batch, outHeight, outWidth, filters].
 * Make one with {@link conv2d}.
 */
export class Conv2D extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'activation',
    'useBias',
    'kernelInitializer',
    'biasInitializer',
    'kernelRegularizer',
    'biasRegularizer',
    'activityRegularizer',
    'kernelConstraint',
    'biasConstraint',
    'filters',
    'kernelSize',
    'strides',
    'padding',
    'dataFormat',
    'dilationRate',
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
  /** The filter [kh, kw, inChannels, filters], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** The bias [filters], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /**
   * @throws Error if filters, kernelSize, strides or dilationRate are not positive integers, both
   *   strides and dilationRate differ from 1, padding or dataFormat is unsupported, or an option is unknown.
   */
  constructor(args: Conv2DArgs) {
    super(args ?? {});
    this.filters = positiveInteger(this.name, 'filters', args?.filters);
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
    this.kernel = this.addWeight('kernel', [...this.kernelSize, channels, this.filters], this.kernelInitializer, this.kernelRegularizer);
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
    const y = conv2dOp(x, this.kernel!, this.strides, this.padding, this.dilationRate);
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
