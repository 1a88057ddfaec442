/**
 * The image geometry shared by the preprocessing and augmentation layers: one projective
 * transform (rotation, translation, zoom and flips are all matrices fed to it), resizing and
 * cropping, with TensorFlow's conventions, which Keras uses. Images are channels-last [batch,
 * height, width, channels]. Where each output pixel samples the input (which pixels, with which
 * weights) is computed in a plain loop, the same on every backend; the values are then gathered
 * and blended with tensor ops, so gradients flow through every layer.
 */
import { add, gather, mul, reshape, slice, tensor, type Tensor } from '@axon/tensor';
import { formatShape } from '../shape.js';

/** How points outside the input are filled (Keras' fill_mode). */
export type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';
/** How an image is sampled between pixels. */
export type ImageInterpolation = 'bilinear' | 'nearest';

const FILL_MODES: readonly FillMode[] = ['reflect', 'wrap', 'constant', 'nearest'];
const INTERPOLATIONS: readonly ImageInterpolation[] = ['bilinear', 'nearest'];

/**
 * value (default `fallback`), checked to be one of `allowed`.
 *
 * @throws Error naming the layer and option otherwise.
 */
function oneOf<T extends string>(layer: string, option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (allowed.includes(value as T)) return value as T;
  throw new Error(`Layer ${layer}: ${option} must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
}

/** fillMode option (default 'reflect', as Keras). */
export const fillModeOption = (layer: string, value: unknown): FillMode => oneOf(layer, 'fillMode', value, FILL_MODES, 'reflect');
/** interpolation option (default 'bilinear', as Keras). */
export const interpolationOption = (layer: string, value: unknown): ImageInterpolation =>
  oneOf(layer, 'interpolation', value, INTERPOLATIONS, 'bilinear');

/** A batch of images [batch, height, width, channels] and whether it came as one image [height, width, channels]. */
export interface ImageBatch {
  images: Tensor;
  unbatched: boolean;
}

/**
 * x as a batch: a rank-4 NHWC tensor as is, a rank-3 HWC image as a batch of one (Keras accepts
 * both).
 *
 * @throws Error naming the layer if x is not of rank 3 or 4.
 */
export function asImageBatch(layer: string, x: Tensor): ImageBatch {
  if (x.rank === 4) return { images: x, unbatched: false };
  if (x.rank === 3) return { images: reshape(x, [1, ...x.shape]), unbatched: true };
  throw new Error(
    `Layer ${layer}: expected images [batch, height, width, channels] or one image [height, width, channels], got shape ${formatShape(x.shape)}`,
  );
}

/** y back in the input's form: a rank-3 image when the input was one. */
export function fromImageBatch(y: Tensor, unbatched: boolean): Tensor {
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}

/**
 * A projective transform [a0, a1, a2, b0, b1, b2, c0, c1] (TensorFlow's layout): each output pixel
 * (x, y) samples the input at ((a0·x + a1·y + a2) / k, (b0·x + b1·y + b2) / k), k = c0·x + c1·y + 1,
 * in pixel indices (pixel centers at integers).
 */
export type ProjectiveTransform = readonly number[];

/**
 * Rotation by `angle` radians about the image center, counter-clockwise for a positive angle
 * (Keras' RandomRotation matrix).
 */
export function rotationTransform(angle: number, height: number, width: number): ProjectiveTransform {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const xOffset = (width - 1 - (cos * (width - 1) - sin * (height - 1))) / 2;
  const yOffset = (height - 1 - (sin * (width - 1) + cos * (height - 1))) / 2;
  return [cos, -sin, xOffset, sin, cos, yOffset, 0, 0];
}

/** Shift of the content by dx pixels right and dy pixels down (Keras' RandomTranslation matrix). */
export function translationTransform(dx: number, dy: number): ProjectiveTransform {
  return [1, 0, -dx, 0, 1, -dy, 0, 0];
}

/**
 * Zoom about the image center: zx, zy > 1 zoom out (the output shows more of the input), < 1 zoom
 * in (Keras' RandomZoom matrix).
 */
export function zoomTransform(zx: number, zy: number, height: number, width: number): ProjectiveTransform {
  return [zx, 0, ((width - 1) / 2) * (1 - zx), 0, zy, ((height - 1) / 2) * (1 - zy), 0, 0];
}

/** Rounds half away from zero, as C's round (Math.round rounds -0.5 up to 0). */
const roundHalfAway = (v: number): number => Math.sign(v) * Math.round(Math.abs(v));

/**
 * Maps a coordinate outside [0, len - 1] inside by the fill mode, exactly as TensorFlow's
 * MapCoordinate (image_ops.h) does, quirks included: 'wrap' computes its period with len - 1, and
 * every mode but 'constant' ends clamped to [0, len - 1].
 */
function mapCoordinate(coord: number, len: number, mode: FillMode): number {
  if (mode === 'constant') return coord;
  let c = coord;
  if (mode === 'reflect') {
    if (c < 0) {
      if (len <= 1) c = 0;
      else {
        const period = 2 * len;
        c = period * Math.trunc(-c / period) + c;
        c = c < -len ? c + period : -c - 1;
      }
    } else if (c > len - 1) {
      if (len <= 1) c = 0;
      else {
        const period = 2 * len;
        c -= period * Math.trunc(c / period);
        if (c >= len) c = period - c - 1;
      }
    }
  } else if (mode === 'wrap') {
    if (c < 0) c = len <= 1 ? 0 : c + len * (Math.trunc(-c / (len - 1)) + 1);
    else if (c > len - 1) c = len <= 1 ? 0 : c - len * Math.trunc(c / (len - 1));
  }
  return Math.min(Math.max(c, 0), len - 1);
}

/**
 * Where the output pixels of a batch read the input: for each of `taps` neighbours of every output
 * pixel, the input pixel's row in the flattened [batch · height · width, channels] input (-1 when
 * it lies outside the image) and its weight.
 */
interface Sampling {
  pixels: number;
  taps: number;
  index: Int32Array;
  weight: Float32Array;
}

function newSampling(pixels: number, taps: number): Sampling {
  return { pixels, taps, index: new Int32Array(pixels * taps).fill(-1), weight: new Float32Array(pixels * taps) };
}

/**
 * Σ over taps of weight · input pixel (fillValue for a pixel outside), as tensor ops (a gather per
 * tap), so the result is differentiable with respect to the images.
 *
 * @returns [batch, outHeight, outWidth, channels].
 */
function blend(images: Tensor, sampling: Sampling, outShape: readonly number[], fillValue: number): Tensor {
  const channels = images.shape[3]!;
  const flat = reshape(images, [-1, channels]);
  const { pixels, taps, index, weight } = sampling;
  const fill = new Float32Array(pixels);
  let result: Tensor | null = null;
  for (let t = 0; t < taps; t++) {
    const rows = new Int32Array(pixels);
    const weights = new Float32Array(pixels);
    for (let p = 0; p < pixels; p++) {
      const i = index[p * taps + t]!;
      if (i < 0) fill[p]! += weight[p * taps + t]! * fillValue;
      else {
        rows[p] = i;
        weights[p] = weight[p * taps + t]!;
      }
    }
    const term = mul(gather(flat, rows), tensor(weights, [pixels, 1]));
    result = result === null ? term : add(result, term);
  }
  if (fillValue !== 0) result = add(result!, tensor(fill, [pixels, 1]));
  return reshape(result!, [...outShape]);
}

/** Options of {@link affineTransform}. */
export interface AffineTransformOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: ImageInterpolation;
  /** 'reflect' (default), 'wrap', 'constant' or 'nearest'. */
  fillMode?: FillMode;
  /** The value read outside the input (only visible with 'constant'); default 0. */
  fillValue?: number;
}

/**
 * Applies a projective transform to each image of [batch, height, width, channels], with the
 * semantics of TensorFlow's ImageProjectiveTransformV3 (what Keras' rotation, translation and zoom
 * layers run): the output pixel (x, y) samples the input at the transformed point, whose
 * coordinates are first mapped inside by `fillMode`; a neighbour pixel still outside the input
 * reads `fillValue`. 'nearest' interpolation rounds half away from zero. Differentiable with
 * respect to the images.
 *
 * @param transforms - one transform for every image, or a single one for all.
 * @returns a float32 tensor of the input's shape.
 * @throws Error if images is not rank 4 or the number of transforms is neither 1 nor the batch size.
 */
export function affineTransform(images: Tensor, transforms: readonly ProjectiveTransform[], options: AffineTransformOptions = {}): Tensor {
  if (images.rank !== 4)
    throw new Error(`affineTransform: expected images [batch, height, width, channels], got ${formatShape(images.shape)}`);
  const [batch, height, width] = images.shape as [number, number, number, number];
  if (transforms.length !== 1 && transforms.length !== batch) {
    throw new Error(`affineTransform: expected 1 or ${batch} transforms (one per image), got ${transforms.length}`);
  }
  const nearest = (options.interpolation ?? 'bilinear') === 'nearest';
  const fillMode = options.fillMode ?? 'reflect';
  const fillValue = options.fillValue ?? 0;
  const sampling = newSampling(batch * height * width, nearest ? 1 : 4);
  const taps = sampling.taps;
  const tap = (p: number, t: number, b: number, y: number, x: number, w: number): void => {
    if (y >= 0 && y < height && x >= 0 && x < width) sampling.index[p * taps + t] = (b * height + y) * width + x;
    sampling.weight[p * taps + t] = w;
  };
  let p = 0;
  for (let b = 0; b < batch; b++) {
    const [a0, a1, a2, b0, b1, b2, c0, c1] = transforms.length === 1 ? transforms[0]! : transforms[b]!;
    for (let oy = 0; oy < height; oy++) {
      for (let ox = 0; ox < width; ox++, p++) {
        const k = c0! * ox + c1! * oy + 1;
        if (k === 0) {
          tap(p, 0, b, -1, -1, 1); // a point at infinity: the fill value
          continue;
        }
        const x = mapCoordinate((a0! * ox + a1! * oy + a2!) / k, width, fillMode);
        const y = mapCoordinate((b0! * ox + b1! * oy + b2!) / k, height, fillMode);
        if (nearest) {
          tap(p, 0, b, roundHalfAway(y), roundHalfAway(x), 1);
          continue;
        }
        const y0 = Math.floor(y);
        const x0 = Math.floor(x);
        const dy = y - y0;
        const dx = x - x0;
        tap(p, 0, b, y0, x0, (1 - dy) * (1 - dx));
        tap(p, 1, b, y0, x0 + 1, (1 - dy) * dx);
        tap(p, 2, b, y0 + 1, x0, dy * (1 - dx));
        tap(p, 3, b, y0 + 1, x0 + 1, dy * dx);
      }
    }
  }
  return blend(images, sampling, images.shape, fillValue);
}

/**
 * Resizes [batch, height, width, channels] to [batch, outHeight, outWidth, channels] as
 * TensorFlow's tf.image.resize (no antialiasing), which Keras uses: half-pixel centers, so output
 * pixel i samples the input at (i + 0.5)·in/out - 0.5 ('bilinear', clamped at the edges) or the
 * pixel floor((i + 0.5)·in/out) ('nearest'). Differentiable with respect to the images.
 *
 * @returns a float32 tensor.
 */
export function resizeImages(images: Tensor, outHeight: number, outWidth: number, interpolation: ImageInterpolation): Tensor {
  const [batch, height, width, channels] = images.shape as [number, number, number, number];
  const rows = axisSampling(height, outHeight, interpolation);
  const cols = axisSampling(width, outWidth, interpolation);
  const sampling = newSampling(batch * outHeight * outWidth, 4);
  let p = 0;
  for (let b = 0; b < batch; b++) {
    for (const row of rows) {
      for (const col of cols) {
        const at = (y: number, x: number): number => (b * height + y) * width + x;
        sampling.index.set([at(row.lower, col.lower), at(row.lower, col.upper), at(row.upper, col.lower), at(row.upper, col.upper)], p * 4);
        sampling.weight.set(
          [(1 - row.lerp) * (1 - col.lerp), (1 - row.lerp) * col.lerp, row.lerp * (1 - col.lerp), row.lerp * col.lerp],
          p * 4,
        );
        p++;
      }
    }
  }
  return blend(images, sampling, [batch, outHeight, outWidth, channels], 0);
}

/** For each output index along one axis: the two input indices it blends and the weight of the upper one. */
function axisSampling(
  inSize: number,
  outSize: number,
  interpolation: ImageInterpolation,
): { lower: number; upper: number; lerp: number }[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, i) => {
    if (interpolation === 'nearest') {
      const index = Math.max(0, Math.min(Math.floor((i + 0.5) * scale), inSize - 1));
      return { lower: index, upper: index, lerp: 0 };
    }
    const source = (i + 0.5) * scale - 0.5;
    const floor = Math.floor(source);
    return { lower: Math.max(floor, 0), upper: Math.min(Math.ceil(source), inSize - 1), lerp: source - floor };
  });
}

/** A window of an image: its top-left corner and size, in pixels. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * The largest centered window of the target's aspect ratio (Keras' crop_to_aspect_ratio and
 * smart_resize), computed with Keras' integer truncations.
 */
export function aspectRatioCropBox(height: number, width: number, targetHeight: number, targetWidth: number): CropBox {
  const cropHeight = Math.max(Math.min(height, Math.trunc((width * targetHeight) / targetWidth)), 1);
  const cropWidth = Math.max(Math.min(width, Math.trunc((height * targetWidth) / targetHeight)), 1);
  return { top: Math.trunc((height - cropHeight) / 2), left: Math.trunc((width - cropWidth) / 2), height: cropHeight, width: cropWidth };
}

/** The window `box` of every image of [batch, height, width, channels] (a slice, so differentiable). */
export function cropImages(images: Tensor, box: CropBox): Tensor {
  return slice(images, [0, box.top, box.left, 0], [-1, box.height, box.width, -1]);
}

/**
 * Keras' smart_resize: crops the largest centered window of the target's aspect ratio, then resizes
 * it to [targetHeight, targetWidth].
 */
export function smartResize(images: Tensor, targetHeight: number, targetWidth: number, interpolation: ImageInterpolation): Tensor {
  const box = aspectRatioCropBox(images.shape[1]!, images.shape[2]!, targetHeight, targetWidth);
  return resizeImages(cropImages(images, box), targetHeight, targetWidth, interpolation);
}
