import { avgPool2d, max, maxPool2d, mean, type Tensor } from '@axon/tensor';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { formatShape, normalizePair, singleShape, type Shape } from '../shape.js';
import { channelsLastOnly, convOutputLength, oneTensor, paddingOption, type PaddingMode } from './util.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Window size; default [2, 2]. */
  poolSize?: number | [number, number];
  /** Default: poolSize. */
  strides?: number | [number, number] | null;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** Shared by MaxPooling2D and AveragePooling2D (NHWC; 'same' padding never counts padded cells). */
abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingMode;
  readonly dataFormat = 'channelsLast' as const;

  constructor(args: Pooling2DArgs = {}) {
    super(args);
    this.poolSize = normalizePair(this.name, 'poolSize', args.poolSize ?? 2);
    this.strides = args.strides == null ? [...this.poolSize] : normalizePair(this.name, 'strides', args.strides);
    this.padding = paddingOption(this.name, args.padding);
    channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ ndim: 4 }];
  }

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

export class MaxPooling2D extends Pooling2D {
  static override className = 'MaxPooling2D';
  protected pool(x: Tensor): Tensor {
    return maxPool2d(x, this.poolSize, this.strides, this.padding);
  }
}
registerLayer(MaxPooling2D);
export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);

export class AveragePooling2D extends Pooling2D {
  static override className = 'AveragePooling2D';
  protected pool(x: Tensor): Tensor {
    return avgPool2d(x, this.poolSize, this.strides, this.padding);
  }
}
registerLayer(AveragePooling2D);
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);

export interface GlobalPooling2DArgs extends LayerArgs {
  dataFormat?: 'channelsLast' | 'channels_last';
  /** Keep the spatial axes as size 1 ([batch, 1, 1, channels]); default false. */
  keepdims?: boolean;
}

/** Reduces the spatial axes of NHWC input: [batch, h, w, c] → [batch, c]. */
abstract class GlobalPooling2D extends Layer {
  readonly dataFormat = 'channelsLast' as const;
  readonly keepdims: boolean;

  constructor(args: GlobalPooling2DArgs = {}) {
    super(args);
    channelsLastOnly(this.name, args.dataFormat);
    this.keepdims = args.keepdims ?? false;
    this.inputSpec = [{ ndim: 4 }];
  }

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

export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override className = 'GlobalMaxPooling2D';
  protected reduce(x: Tensor): Tensor {
    return max(x, [1, 2], this.keepdims);
  }
}
registerLayer(GlobalMaxPooling2D);
export const globalMaxPooling2d = (args: GlobalPooling2DArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);

export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override className = 'GlobalAveragePooling2D';
  protected reduce(x: Tensor): Tensor {
    return mean(x, [1, 2], this.keepdims);
  }
}
registerLayer(GlobalAveragePooling2D);
export const globalAveragePooling2d = (args: GlobalPooling2DArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);
