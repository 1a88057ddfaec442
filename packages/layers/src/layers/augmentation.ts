/**
 * Keras' image augmentation layers: RandomCrop, RandomFlip, RandomRotation, RandomTranslation,
 * RandomZoom, RandomContrast, RandomBrightness. They change images only in training
 * (`training: true`, as in fit) and are the identity otherwise (RandomCrop resizes instead, as
 * Keras). Their random parameters come from the global generator (reproducible with setSeed) or,
 * given a `seed`, from the layer's own generator; each image of a batch draws its own (a crop's
 * window is shared by the batch, as Keras).
 */
import { add, clip, mean, mul, randomFloat, sub, tensor, type Tensor } from '@axon/tensor';
import { seededRng } from '../initializers.js';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import type { Shape } from '../shape.js';
import {
  affineTransform,
  asImageBatch,
  cropImages,
  fillModeOption,
  fromImageBatch,
  interpolationOption,
  rotationTransform,
  smartResize,
  translationTransform,
  zoomTransform,
  type FillMode,
  type ImageInterpolation,
  type ProjectiveTransform,
} from './image-ops.js';
import { rejectImageOptions, resizedImageShape } from './preprocessing.js';
import { oneTensor, positiveInteger, seedOption } from './util.js';

/** A factor as Keras takes it: one number, or [lower, upper]. */
export type Factor = number | [number, number];

/**
 * Keras' symmetric factor: `f` → [-|f|, |f|], `[a, b]` → [min, max], every value in [-1, 1].
 *
 * @throws Error naming the layer and option otherwise.
 */
function factorRange(layer: string, option: string, value: unknown): [number, number] {
  const inRange = (v: unknown): v is number => typeof v === 'number' && v >= -1 && v <= 1;
  if (inRange(value)) return [-Math.abs(value), Math.abs(value)];
  if (Array.isArray(value) && value.length === 2 && value.every(inRange)) return [Math.min(...value), Math.max(...value)];
  throw new Error(
    `Layer ${layer}: ${option} must be a number or an array [lower, upper] of numbers in [-1, 1], got ${JSON.stringify(value)}`,
  );
}

/**
 * valueRange (default [0, 255]): two finite numbers, sorted.
 *
 * @throws Error naming the layer otherwise.
 */
function valueRangeOption(layer: string, value: unknown): [number, number] {
  if (value === undefined || value === null) return [0, 255];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return [Math.min(...value), Math.max(...value)];
  }
  throw new Error(`Layer ${layer}: valueRange must be an array [low, high] of two finite numbers, got ${JSON.stringify(value)}`);
}

/** The given factor, copied for getConfig (a pair stays a pair). */
const factorConfig = (factor: Factor): Factor => (Array.isArray(factor) ? [factor[0], factor[1]] : factor);

/** Arguments of every augmentation layer. */
export interface RandomLayerArgs extends LayerArgs {
  /** Seed of the layer's own generator; without it the global (setSeed) generator is used. */
  seed?: number | null;
  /** Only channels-last is supported (Axon images are NHWC). */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/**
 * The base of the augmentation layers: images [batch, height, width, channels] or one image
 * [height, width, channels] are augmented in training by {@link RandomImageLayer.augment} and
 * passed through otherwise.
 */
export abstract class RandomImageLayer extends Layer {
  /** The layer's own seed, or null to use the global generator. */
  readonly seed: number | null;
  private readonly rng: { uniform(): number };

  /** @throws Error if seed is not a finite number or dataFormat is channels-first. */
  constructor(args: RandomLayerArgs) {
    super(args);
    this.seed = seedOption(this.name, args.seed);
    this.rng = this.seed === null ? { uniform: randomFloat } : seededRng(this.seed);
    rejectImageOptions(this.name, args);
    this.inputSpec = [{ minNDim: 3, maxNDim: 4 }];
  }

  /** A uniform number in [lower, upper) from the layer's generator. */
  protected uniform(lower: number, upper: number): number {
    return lower + (upper - lower) * this.rng.uniform();
  }

  /** `count` uniform numbers in [lower, upper). */
  protected uniforms(count: number, lower: number, upper: number): number[] {
    return Array.from({ length: count }, () => this.uniform(lower, upper));
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    const { images, unbatched } = asImageBatch(this.name, x);
    if (kwargs.training !== true) {
      const y = this.infer(images);
      return y === images ? x : fromImageBatch(y, unbatched);
    }
    return fromImageBatch(this.augment(images), unbatched);
  }

  /** The training transform of a batch [batch, height, width, channels]. */
  protected abstract augment(images: Tensor): Tensor;

  /** The inference transform; the identity except for RandomCrop. */
  protected infer(images: Tensor): Tensor {
    return images;
  }

  override getConfig(): Record<string, unknown> {
    return { seed: this.seed, ...super.getConfig() };
  }
}

/** Arguments shared by the layers built on the affine transform (rotation, translation, zoom). */
export interface AffineLayerArgs extends RandomLayerArgs {
  /** How points outside the input are filled: 'reflect' (default), 'wrap', 'constant' or 'nearest'. */
  fillMode?: FillMode;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: ImageInterpolation;
  /** The value of points outside the input with fillMode 'constant'; default 0. */
  fillValue?: number;
}

/** The layers that resample each image through a projective transform (TensorFlow's ImageProjectiveTransformV3). */
export abstract class RandomAffineLayer extends RandomImageLayer {
  /** How points outside the input are filled. */
  readonly fillMode: FillMode;
  /** The sampling method. */
  readonly interpolation: ImageInterpolation;
  /** The fill value of fillMode 'constant'. */
  readonly fillValue: number;

  /** @throws Error if fillMode or interpolation is unknown or fillValue is not a finite number. */
  constructor(args: AffineLayerArgs) {
    super(args);
    this.fillMode = fillModeOption(this.name, args.fillMode);
    this.interpolation = interpolationOption(this.name, args.interpolation);
    const fillValue = args.fillValue ?? 0;
    if (typeof fillValue !== 'number' || !Number.isFinite(fillValue)) {
      throw new Error(`Layer ${this.name}: fillValue must be a finite number, got ${JSON.stringify(args.fillValue)}`);
    }
    this.fillValue = fillValue;
  }

  protected override augment(images: Tensor): Tensor {
    const [batch, height, width] = images.shape as [number, number, number, number];
    return affineTransform(images, this.transforms(batch, height, width), {
      interpolation: this.interpolation,
      fillMode: this.fillMode,
      fillValue: this.fillValue,
    });
  }

  /** One random transform per image. */
  protected abstract transforms(batch: number, height: number, width: number): ProjectiveTransform[];

  override getConfig(): Record<string, unknown> {
    return { fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue, ...super.getConfig() };
  }
}

// ---- RandomRotation -------------------------------------------------------------------------

/** Arguments of {@link RandomRotation}. */
export interface RandomRotationArgs extends AffineLayerArgs {
  /**
   * The rotation as a fraction of a full turn (2π): `f` draws from [-f, f], `[lower, upper]` from
   * that range; positive is counter-clockwise. Values in [-1, 1].
   */
  factor: Factor;
}

/** Rotates each image by a random angle about its center in training (Keras `RandomRotation`). */
export class RandomRotation extends RandomAffineLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['factor', 'fillMode', 'interpolation', 'fillValue', 'seed', 'dataFormat'];
  static override className = 'RandomRotation';
  /** The factor as given. */
  readonly factor: Factor;
  private readonly range: [number, number];

  /** @throws Error if factor is not a number or [lower, upper] in [-1, 1], or another option is invalid. */
  constructor(args: RandomRotationArgs) {
    super(args ?? {});
    this.range = factorRange(this.name, 'factor', args?.factor);
    this.factor = factorConfig(args.factor);
  }

  protected override transforms(batch: number, height: number, width: number): ProjectiveTransform[] {
    const [lower, upper] = this.range;
    return this.uniforms(batch, lower * 2 * Math.PI, upper * 2 * Math.PI).map((angle) => rotationTransform(angle, height, width));
  }

  override getConfig(): Record<string, unknown> {
    return { factor: factorConfig(this.factor), ...super.getConfig() };
  }
}
registerLayer(RandomRotation);
/**
 * A {@link RandomRotation} layer (Keras `RandomRotation`).
 *
 * @example
 * ```ts
 * randomRotation({ factor: 0.1, fillMode: 'constant' }); // up to ±36°, corners filled with 0
 * ```
 */
export const randomRotation = (args: RandomRotationArgs): RandomRotation => new RandomRotation(args);

// ---- RandomTranslation ----------------------------------------------------------------------

/** Arguments of {@link RandomTranslation}. */
export interface RandomTranslationArgs extends AffineLayerArgs {
  /** Vertical shift as a fraction of the height: `f` draws from [-f, f] (positive moves the content down). */
  heightFactor: Factor;
  /** Horizontal shift as a fraction of the width: `f` draws from [-f, f] (positive moves the content right). */
  widthFactor: Factor;
}

/** Shifts each image by a random offset in training (Keras `RandomTranslation`). */
export class RandomTranslation extends RandomAffineLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'heightFactor',
    'widthFactor',
    'fillMode',
    'interpolation',
    'fillValue',
    'seed',
    'dataFormat',
  ];
  static override className = 'RandomTranslation';
  /** The height factor as given. */
  readonly heightFactor: Factor;
  /** The width factor as given. */
  readonly widthFactor: Factor;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number];

  /** @throws Error if a factor is not a number or [lower, upper] in [-1, 1], or another option is invalid. */
  constructor(args: RandomTranslationArgs) {
    super(args ?? {});
    this.heightRange = factorRange(this.name, 'heightFactor', args?.heightFactor);
    this.widthRange = factorRange(this.name, 'widthFactor', args.widthFactor);
    this.heightFactor = factorConfig(args.heightFactor);
    this.widthFactor = factorConfig(args.widthFactor);
  }

  protected override transforms(batch: number, height: number, width: number): ProjectiveTransform[] {
    // As Keras: every image's vertical shift is drawn, then every horizontal one.
    const dy = this.uniforms(batch, ...this.heightRange).map((f) => f * height);
    const dx = this.uniforms(batch, ...this.widthRange).map((f) => f * width);
    return dy.map((y, i) => translationTransform(dx[i]!, y));
  }

  override getConfig(): Record<string, unknown> {
    return { heightFactor: factorConfig(this.heightFactor), widthFactor: factorConfig(this.widthFactor), ...super.getConfig() };
  }
}
registerLayer(RandomTranslation);
/**
 * A {@link RandomTranslation} layer (Keras `RandomTranslation`).
 *
 * @example
 * ```ts
 * randomTranslation({ heightFactor: 0.1, widthFactor: 0.1 }); // up to ±10% each way, reflected edges
 * ```
 */
export const randomTranslation = (args: RandomTranslationArgs): RandomTranslation => new RandomTranslation(args);

// ---- RandomZoom -----------------------------------------------------------------------------

/** Arguments of {@link RandomZoom}. */
export interface RandomZoomArgs extends AffineLayerArgs {
  /**
   * Vertical zoom: the image is scaled by 1 + a draw from the range (`f` → [-f, f]); a positive
   * value zooms out (the output shows more), a negative one zooms in. Values in [-1, 1].
   */
  heightFactor: Factor;
  /** Horizontal zoom, as heightFactor; default null: the vertical zoom, so the aspect ratio is kept. */
  widthFactor?: Factor | null;
}

/** Zooms each image in or out about its center by a random amount in training (Keras `RandomZoom`). */
export class RandomZoom extends RandomAffineLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'heightFactor',
    'widthFactor',
    'fillMode',
    'interpolation',
    'fillValue',
    'seed',
    'dataFormat',
  ];
  static override className = 'RandomZoom';
  /** The height factor as given. */
  readonly heightFactor: Factor;
  /** The width factor as given, or null to zoom both axes alike. */
  readonly widthFactor: Factor | null;
  private readonly heightRange: [number, number];
  private readonly widthRange: [number, number] | null;

  /** @throws Error if a factor is not a number or [lower, upper] in [-1, 1], or another option is invalid. */
  constructor(args: RandomZoomArgs) {
    super(args ?? {});
    this.heightRange = factorRange(this.name, 'heightFactor', args?.heightFactor);
    const widthFactor = args.widthFactor ?? null;
    this.widthRange = widthFactor === null ? null : factorRange(this.name, 'widthFactor', widthFactor);
    this.heightFactor = factorConfig(args.heightFactor);
    this.widthFactor = widthFactor === null ? null : factorConfig(widthFactor);
  }

  protected override transforms(batch: number, height: number, width: number): ProjectiveTransform[] {
    // As Keras: every image's vertical zoom is drawn, then every horizontal one (if separate).
    const zy = this.uniforms(batch, 1 + this.heightRange[0], 1 + this.heightRange[1]);
    const zx = this.widthRange === null ? zy : this.uniforms(batch, 1 + this.widthRange[0], 1 + this.widthRange[1]);
    return zy.map((y, i) => zoomTransform(zx[i]!, y, height, width));
  }

  override getConfig(): Record<string, unknown> {
    return {
      heightFactor: factorConfig(this.heightFactor),
      widthFactor: this.widthFactor === null ? null : factorConfig(this.widthFactor),
      ...super.getConfig(),
    };
  }
}
registerLayer(RandomZoom);
/**
 * A {@link RandomZoom} layer (Keras `RandomZoom`).
 *
 * @example
 * ```ts
 * randomZoom({ heightFactor: [-0.2, 0.2] }); // zoom in or out by up to 20%, aspect ratio kept
 * ```
 */
export const randomZoom = (args: RandomZoomArgs): RandomZoom => new RandomZoom(args);

// ---- RandomFlip -----------------------------------------------------------------------------

/** The flips of {@link RandomFlip} (Keras' names). */
export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

/** Arguments of {@link RandomFlip}. */
export interface RandomFlipArgs extends RandomLayerArgs {
  /** 'horizontal' (left-right), 'vertical' (up-down) or 'horizontal_and_vertical' (default: both, independently). */
  mode?: FlipMode;
}

/**
 * Flips each image left-right and/or up-down, each with probability 1/2, in training (Keras
 * `RandomFlip`). With 'horizontal_and_vertical' the two flips are drawn independently, as
 * tf.keras did.
 */
export class RandomFlip extends RandomImageLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['mode', 'seed', 'dataFormat'];
  static override className = 'RandomFlip';
  /** Which flips are drawn. */
  readonly mode: FlipMode;

  /** @throws Error if mode is unknown or another option is invalid. */
  constructor(args: RandomFlipArgs = {}) {
    super(args);
    // A saved model.json camel-cases string values (as tfjs does), so 'horizontalAndVertical' comes back.
    const mode = args.mode === ('horizontalAndVertical' as string) ? 'horizontal_and_vertical' : (args.mode ?? 'horizontal_and_vertical');
    if (mode !== 'horizontal' && mode !== 'vertical' && mode !== 'horizontal_and_vertical') {
      throw new Error(
        `Layer ${this.name}: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(mode)}`,
      );
    }
    this.mode = mode;
  }

  protected override augment(images: Tensor): Tensor {
    const [batch, height, width] = images.shape as [number, number, number, number];
    const draw = (enabled: boolean): boolean[] => Array.from({ length: batch }, () => enabled && this.uniform(0, 1) < 0.5);
    const horizontal = draw(this.mode !== 'vertical');
    const vertical = draw(this.mode !== 'horizontal');
    // A flip is the projective transform x → width - 1 - x (y → height - 1 - y): exact at pixel centers.
    const transforms = horizontal.map((h, i): ProjectiveTransform => {
      const v = vertical[i]!;
      return [h ? -1 : 1, 0, h ? width - 1 : 0, 0, v ? -1 : 1, v ? height - 1 : 0, 0, 0];
    });
    return affineTransform(images, transforms, { interpolation: 'nearest', fillMode: 'nearest' });
  }

  override getConfig(): Record<string, unknown> {
    return { mode: this.mode, ...super.getConfig() };
  }
}
registerLayer(RandomFlip);
/**
 * A {@link RandomFlip} layer (Keras `RandomFlip`).
 *
 * @example
 * ```ts
 * randomFlip({ mode: 'horizontal' });
 * ```
 */
export const randomFlip = (args: RandomFlipArgs = {}): RandomFlip => new RandomFlip(args);

// ---- RandomCrop -----------------------------------------------------------------------------

/** Arguments of {@link RandomCrop}. */
export interface RandomCropArgs extends RandomLayerArgs {
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
}

/**
 * In training, crops a random [height, width] window, the same for the whole batch (Keras
 * `RandomCrop`). At inference, and in training for an image smaller than the window, it crops the
 * largest centered window of the target's aspect ratio and resizes it (bilinear) to
 * [height, width], as Keras does, so the output size is always [height, width].
 */
export class RandomCrop extends RandomImageLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['height', 'width', 'seed', 'dataFormat'];
  static override className = 'RandomCrop';
  /** Output height. */
  readonly height: number;
  /** Output width. */
  readonly width: number;

  /** @throws Error if height or width is not a positive integer, or another option is invalid. */
  constructor(args: RandomCropArgs) {
    super(args ?? {});
    this.height = positiveInteger(this.name, 'height', args?.height);
    this.width = positiveInteger(this.name, 'width', args.width);
  }

  protected override augment(images: Tensor): Tensor {
    const [height, width] = [images.shape[1]!, images.shape[2]!];
    if (height < this.height || width < this.width) return this.infer(images);
    const top = Math.floor(this.uniform(0, height - this.height + 1));
    const left = Math.floor(this.uniform(0, width - this.width + 1));
    return cropImages(images, { top, left, height: this.height, width: this.width });
  }

  protected override infer(images: Tensor): Tensor {
    return smartResize(images, this.height, this.width, 'bilinear');
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return resizedImageShape(this.name, inputShape, this.height, this.width);
  }

  override getConfig(): Record<string, unknown> {
    return { height: this.height, width: this.width, ...super.getConfig() };
  }
}
registerLayer(RandomCrop);
/**
 * A {@link RandomCrop} layer (Keras `RandomCrop`).
 *
 * @example
 * ```ts
 * randomCrop({ height: 24, width: 24, seed: 1 }); // [b, 28, 28, c] → [b, 24, 24, c]
 * ```
 */
export const randomCrop = (args: RandomCropArgs): RandomCrop => new RandomCrop(args);

// ---- RandomContrast -------------------------------------------------------------------------

/** Arguments of {@link RandomContrast}. */
export interface RandomContrastArgs extends RandomLayerArgs {
  /**
   * `f` draws the contrast factor from [1 - f, 1 + f]; `[lower, upper]` from [1 - lower, 1 + upper].
   * Values in [0, 1].
   */
  factor: Factor;
  /** The images' value range [low, high]; outputs are clipped to it. Default [0, 255]. */
  valueRange?: [number, number];
}

/**
 * Scales each image's deviation from its per-channel mean by a random contrast factor in
 * training: (x - mean) · c + mean, clipped to valueRange (Keras `RandomContrast`).
 */
export class RandomContrast extends RandomImageLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['factor', 'valueRange', 'seed', 'dataFormat'];
  static override className = 'RandomContrast';
  /** The factor as given. */
  readonly factor: Factor;
  /** The value range outputs are clipped to. */
  readonly valueRange: [number, number];
  private readonly lower: number;
  private readonly upper: number;

  /** @throws Error if factor is not a number or [lower, upper] in [0, 1], or valueRange is not two numbers. */
  constructor(args: RandomContrastArgs) {
    super(args ?? {});
    const factor = args?.factor;
    const inRange = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
    if (inRange(factor)) [this.lower, this.upper] = [factor, factor];
    else if (Array.isArray(factor) && factor.length === 2 && factor.every(inRange)) [this.lower, this.upper] = factor;
    else {
      throw new Error(
        `Layer ${this.name}: factor must be a number or an array [lower, upper] of numbers in [0, 1], got ${JSON.stringify(factor)}`,
      );
    }
    this.factor = factorConfig(factor);
    this.valueRange = valueRangeOption(this.name, args.valueRange);
  }

  protected override augment(images: Tensor): Tensor {
    const batch = images.shape[0]!;
    const factors = tensor(Float32Array.from(this.uniforms(batch, 1 - this.lower, 1 + this.upper)), [batch, 1, 1, 1]);
    return adjustContrast(images, factors, this.valueRange);
  }

  override getConfig(): Record<string, unknown> {
    return { factor: factorConfig(this.factor), valueRange: [...this.valueRange], ...super.getConfig() };
  }
}
registerLayer(RandomContrast);

/**
 * (x - mean) · factor + mean per image and channel (mean over height and width, as
 * tf.image.adjust_contrast), clipped to valueRange.
 *
 * @param factors - [batch, 1, 1, 1] (or a number for every image).
 */
export function adjustContrast(images: Tensor, factors: Tensor | number, valueRange: readonly [number, number]): Tensor {
  const means = mean(images, [1, 2], true);
  return clip(add(mul(sub(images, means), factors), means), valueRange[0], valueRange[1]);
}

/**
 * A {@link RandomContrast} layer (Keras `RandomContrast`).
 *
 * @example
 * ```ts
 * randomContrast({ factor: 0.2 }); // contrast factor in [0.8, 1.2], values kept in [0, 255]
 * ```
 */
export const randomContrast = (args: RandomContrastArgs): RandomContrast => new RandomContrast(args);

// ---- RandomBrightness -----------------------------------------------------------------------

/** Arguments of {@link RandomBrightness}. */
export interface RandomBrightnessArgs extends RandomLayerArgs {
  /**
   * The shift as a fraction of the value range: `f` draws from [-f, f], `[lower, upper]` from that
   * range. Values in [-1, 1].
   */
  factor: Factor;
  /** The images' value range [low, high]; outputs are clipped to it. Default [0, 255]. */
  valueRange?: [number, number];
}

/**
 * Adds a random amount (a draw from the factor range times the width of valueRange) to every value
 * of each image in training, clipped to valueRange (Keras `RandomBrightness`).
 */
export class RandomBrightness extends RandomImageLayer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['factor', 'valueRange', 'seed', 'dataFormat'];
  static override className = 'RandomBrightness';
  /** The factor as given. */
  readonly factor: Factor;
  /** The value range outputs are clipped to. */
  readonly valueRange: [number, number];
  private readonly range: [number, number];

  /** @throws Error if factor is not a number or [lower, upper] in [-1, 1], or valueRange is not two numbers. */
  constructor(args: RandomBrightnessArgs) {
    super(args ?? {});
    this.range = factorRange(this.name, 'factor', args?.factor);
    this.factor = factorConfig(args.factor);
    this.valueRange = valueRangeOption(this.name, args.valueRange);
  }

  protected override augment(images: Tensor): Tensor {
    const batch = images.shape[0]!;
    const [low, high] = this.valueRange;
    const deltas = this.uniforms(batch, ...this.range).map((f) => f * (high - low));
    return clip(add(images, tensor(Float32Array.from(deltas), [batch, 1, 1, 1])), low, high);
  }

  override getConfig(): Record<string, unknown> {
    return { factor: factorConfig(this.factor), valueRange: [...this.valueRange], ...super.getConfig() };
  }
}
registerLayer(RandomBrightness);
/**
 * A {@link RandomBrightness} layer (Keras `RandomBrightness`).
 *
 * @example
 * ```ts
 * randomBrightness({ factor: 0.1, valueRange: [0, 1] }); // shift by up to ±0.1, kept in [0, 1]
 * ```
 */
export const randomBrightness = (args: RandomBrightnessArgs): RandomBrightness => new RandomBrightness(args);
