/**
 * Pictures of explanations: PNG heatmaps, overlays, grids of activation maps and LIME/SHAP segment
 * masks (pixels encoded with pngjs), and bar charts and training curves (vega-lite specs rendered to
 * SVG by vega and rasterized by resvg). Nothing here computes an explanation; it only draws one.
 */
import { checkOptions, resizeImages } from '@axon/layers';
import type { History } from '@axon/models';
import { Tensor, tensor } from '@axon/tensor';
import { Resvg } from '@resvg/resvg-js';
import { interpolateInferno, interpolateViridis } from 'd3-scale-chromatic';
import { PNG } from 'pngjs';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Values without a Tensor: a Float32Array, row-major, and its shape. */
export interface ArrayWithShape {
  /** The values, row-major (`shape`'s product of them). */
  values: Float32Array;
  /** The dimensions, outermost first. */
  shape: readonly number[];
}

/**
 * What the picture functions draw: a Tensor or an {@link ArrayWithShape}. An image is [h, w],
 * [h, w, c] or a batch [n, h, w, c] (its first image is drawn), with c = 1 (gray) or 3 (RGB); a map
 * of one value per pixel is [h, w], [h, w, 1], or a batch [n, h, w] or [n, h, w, 1] (its first map).
 */
export type PictureInput = Tensor | ArrayWithShape;

/**
 * A colour map from low to high values: 'viridis' and 'inferno' (matplotlib's perceptually uniform
 * maps, from d3-scale-chromatic), 'jet' (MATLAB's blue–cyan–yellow–red) or 'gray' (black to white).
 */
export type Colormap = 'viridis' | 'inferno' | 'jet' | 'gray';

/** Options of {@link heatmapPng}. */
export interface HeatmapOptions {
  /** The colour map (default 'viridis'). */
  colormap?: Colormap;
  /** The values drawn as the map's ends, [low, high]; others are clamped (default: the values' min and max). */
  range?: readonly [number, number];
  /** Pixels per value along each side, nearest-neighbour (an integer, default 1), for small maps. */
  scale?: number;
}

/** Options of {@link imagePng}. */
export interface ImageOptions {
  /** The values drawn as black and white, [low, high] (default: the image's min and max). */
  range?: readonly [number, number];
  /** Pixels per image pixel along each side (an integer, default 1). */
  scale?: number;
}

/** Options of {@link overlayPng}. */
export interface OverlayOptions {
  /** The heatmap's weight in the blend, in [0, 1] (default 0.5; 0 shows the image alone, 1 the heatmap alone). */
  alpha?: number;
  /** The heatmap's colour map (default 'jet', the usual one for Grad-CAM overlays). */
  colormap?: Colormap;
  /** The heat values drawn as the colour map's ends (default: their min and max). */
  range?: readonly [number, number];
  /** Pixels per image pixel along each side (an integer, default 1). */
  scale?: number;
}

/** Options of {@link gridPng}. */
export interface GridOptions {
  /** Tiles per row (default: ⌈√maps⌉). */
  columns?: number;
  /** White map pixels between tiles (an integer, default 1). */
  padding?: number;
  /** Pixels per map pixel along each side (an integer, default 1). */
  scale?: number;
  /** The colour map (default 'viridis'). */
  colormap?: Colormap;
}

/** Options of {@link maskPng}. */
export interface MaskOptions {
  /**
   * Show only the k segments of largest weight (largest |weight| unless `positiveOnly`), tinted green
   * (positive) or red (negative), and dim the rest. Without it, every segment is tinted in proportion
   * to its weight (a signed overlay).
   */
  topK?: number;
  /** Only segments of positive weight are shown or tinted (default false). */
  positiveOnly?: boolean;
  /** Pixels per image pixel along each side (an integer, default 1). */
  scale?: number;
}

/** A chart as SVG text and as PNG bytes. */
export interface Chart {
  /** The SVG document. */
  svg: string;
  /** The same chart rasterized to PNG. */
  png: Uint8Array;
}

/** Options of {@link barChart}. */
export interface BarChartOptions {
  /** A title above the chart. */
  title?: string;
}

/** Options of {@link trainingCurves}. */
export interface TrainingCurvesOptions {
  /** The metrics drawn, one panel each (default: every logged name without the `val_` prefix). */
  metrics?: readonly string[];
  /** A title above the chart. */
  title?: string;
}

const COLORMAPS: readonly Colormap[] = ['viridis', 'inferno', 'jet', 'gray'];

/** A value for an error message. */
function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Float32Array || value instanceof Int32Array) return `a ${value.constructor.name} of ${value.length}`;
  if (Array.isArray(value)) return `[${value.map(shown).join(', ')}]`;
  return String(value);
}

function optionError(where: string, option: string, expected: string, given: unknown): Error {
  return new Error(`${where}: option '${option}' must be ${expected}, got ${shown(given)}`);
}

function integerOption(where: string, option: string, value: unknown, fallback: number, min: number, max = 4096): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(where, option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function colormapOption(where: string, value: unknown, fallback: Colormap): Colormap {
  if (value === undefined) return fallback;
  if (!COLORMAPS.includes(value as Colormap)) throw optionError(where, 'colormap', `one of ${COLORMAPS.map(shown).join(', ')}`, value);
  return value as Colormap;
}

function rangeOption(where: string, value: unknown): readonly [number, number] | undefined {
  if (value === undefined) return undefined;
  const ok = Array.isArray(value) && value.length === 2 && value.every(Number.isFinite) && value[0] < value[1];
  if (!ok) throw optionError(where, 'range', 'two finite numbers [low, high] with low < high', value);
  return value as [number, number];
}

/** The first image or map of `input` as [height, width, channels] values; see {@link PictureInput}. */
interface Plane {
  values: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/**
 * Reads `input` as a plane. A rank-3 'map' is a batch [n, h, w] unless its last axis is 1
 * ([h, w, 1]); a rank-3 'image' or 'stack' is [h, w, c]. 'stack' allows any number of channels.
 */
function planeOf(where: string, name: string, input: unknown, layout: 'map' | 'image' | 'stack'): Plane {
  let values: Float32Array;
  let shape: readonly number[];
  if (input instanceof Tensor) {
    values = input.dataSync();
    shape = input.shape;
  } else if (input !== null && typeof input === 'object' && (input as ArrayWithShape).values instanceof Float32Array) {
    ({ values, shape } = input as ArrayWithShape);
    const ok = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
    const size = ok ? shape.reduce((a, b) => a * b, 1) : -1;
    if (size !== values.length) throw new Error(`${where}: ${name}.shape ${shown(shape)} does not fit ${values.length} values`);
  } else {
    throw new Error(`${where}: ${name} must be a Tensor or { values: Float32Array, shape }, got ${shown(input)}`);
  }
  const layouts = {
    map: '[h, w], [h, w, 1], [n, h, w] or [n, h, w, 1]',
    image: '[h, w], [h, w, c] or [n, h, w, c] with c = 1 or 3',
    stack: '[h, w, c] or [n, h, w, c]',
  };
  let dims: readonly number[];
  if (shape.length === 2 && layout !== 'stack') dims = [shape[0]!, shape[1]!, 1];
  else if (shape.length === 3) dims = layout === 'map' && shape[2] !== 1 ? [shape[1]!, shape[2]!, 1] : shape;
  else if (shape.length === 4) dims = shape.slice(1);
  else throw new Error(`${where}: ${name} must have shape ${layouts[layout]}, got ${shown([...shape])}`);
  const [height, width, channels] = dims as [number, number, number];
  const badChannels = (layout === 'map' && channels !== 1) || (layout === 'image' && channels !== 1 && channels !== 3);
  if (badChannels || height < 1 || width < 1 || channels < 1 || values.length === 0) {
    const hint = layout === 'map' && channels > 1 ? ' (reduce the channels first, say to the largest |value| over them)' : '';
    throw new Error(`${where}: ${name} must have shape ${layouts[layout]}, got ${shown([...shape])}${hint}`);
  }
  const first = values.subarray(0, height * width * channels);
  const bad = first.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${where}: ${name} has a non-finite value (${first[bad]}) at index ${bad}`);
  return { values: first, height, width, channels };
}

/** Every `stride`-th value from `offset`, scaled from `range` (default: their min and max) to [0, 1], clamped. */
function normalized(values: Float32Array, range?: readonly [number, number], offset = 0, stride = 1): Float32Array {
  const out = new Float32Array(Math.ceil((values.length - offset) / stride));
  for (let i = 0; i < out.length; i++) out[i] = values[offset + i * stride]!;
  let [low, high] = range ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (!range) for (const v of out) [low, high] = [Math.min(low, v), Math.max(high, v)];
  // A constant map has no contrast to show: it is drawn as the low end rather than dividing by zero.
  const span = high - low;
  for (let i = 0; i < out.length; i++) out[i] = span > 0 ? Math.min(1, Math.max(0, (out[i]! - low) / span)) : 0;
  return out;
}

/** `channels`-interleaved values in [0, 1] as RGB in [0, 1] (gray is repeated). */
function toRgb(unit: Float32Array, channels: number): Float32Array {
  if (channels === 3) return unit;
  const rgb = new Float32Array(unit.length * 3);
  unit.forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
  return rgb;
}

/** An image's pixels as RGB in [0, 1], scaled from `range` (default: its min and max). */
function imageRgb(image: Plane, range?: readonly [number, number]): Float32Array {
  return toRgb(normalized(image.values, range), image.channels);
}

function hexColor(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/**
 * MATLAB's jet, as the piecewise-linear ramps it is defined by (the continuous limit of `jet(n)`):
 * dark blue at 0, cyan, yellow, dark red at 1. d3-scale-chromatic has no jet (it recommends turbo).
 */
function jet(t: number): [number, number, number] {
  const ramp = (center: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - center))));
  return [ramp(3), ramp(2), ramp(1)];
}

const tables = new Map<Colormap, Uint8Array>();

/** The colour map as 256 RGB entries (entry i for the value i/255). */
function colorTable(name: Colormap): Uint8Array {
  let table = tables.get(name);
  if (table) return table;
  const color = (t: number): [number, number, number] => {
    // d3's viridis and inferno are matplotlib's 256-entry tables: entry i is interpolate(i / 255) exactly.
    if (name === 'viridis') return hexColor(interpolateViridis(t));
    if (name === 'inferno') return hexColor(interpolateInferno(t));
    if (name === 'jet') return jet(t);
    return [Math.round(255 * t), Math.round(255 * t), Math.round(255 * t)];
  };
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) table.set(color(i / 255), i * 3);
  tables.set(name, table);
  return table;
}

/** Values in [0, 1] as RGB in [0, 1] through the colour map. */
function colorized(unit: Float32Array, name: Colormap): Float32Array {
  const table = colorTable(name);
  const rgb = new Float32Array(unit.length * 3);
  unit.forEach((t, i) => {
    const at = Math.round(t * 255) * 3;
    for (let k = 0; k < 3; k++) rgb[i * 3 + k] = table[at + k]! / 255;
  });
  return rgb;
}

/** RGB in [0, 1] as PNG bytes, each pixel a `scale` × `scale` block. */
function encodePng(rgb: Float32Array, width: number, height: number, scale: number): Uint8Array {
  const png = new PNG({ width: width * scale, height: height * scale, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const bytes = Buffer.alloc(width * scale * height * scale * 3);
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const from = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 3;
      const to = (y * width * scale + x) * 3;
      for (let k = 0; k < 3; k++) bytes[to + k] = Math.round(255 * rgb[from + k]!);
    }
  }
  png.data = bytes;
  // pngjs deflates with zlib's Z_RLE strategy by default: no hash-chain match search (the part zlib
  // builds differ in), so the same pixels give the same bytes across Node versions (the golden test relies on it).
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/**
 * A map of one value per pixel (a saliency map, Grad-CAM, occlusion, an activation) as a PNG
 * through a colour map: the low end of `range` (default: the values' min) gets the map's first
 * colour, the high end its last.
 *
 * @param values - [h, w], [h, w, 1], or a batch [n, h, w] / [n, h, w, 1] (its first map is drawn).
 * @returns PNG bytes, RGB, w·scale × h·scale pixels.
 * @throws Error if the shape is not a map's, a value is not finite, or an option is unknown or invalid.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * const png = heatmapPng(gradCam(model, x, { layer: 'conv2d_2' }), { colormap: 'inferno', scale: 4 });
 * writeFileSync('cam.png', png);
 * ```
 */
export function heatmapPng(values: PictureInput, options: HeatmapOptions = {}): Uint8Array {
  const where = 'heatmapPng';
  checkOptions(where, options, ['colormap', 'range', 'scale']);
  const map = planeOf(where, 'values', values, 'map');
  const rgb = colorized(normalized(map.values, rangeOption(where, options.range)), colormapOption(where, options.colormap, 'viridis'));
  return encodePng(rgb, map.width, map.height, integerOption(where, 'scale', options.scale, 1, 1, 64));
}

/**
 * An image (a model's input) as a PNG, gray or RGB, its values scaled from `range` (default: the
 * image's min and max) to black … white.
 *
 * @param image - [h, w], [h, w, c] or a batch [n, h, w, c] (its first image), c = 1 or 3.
 * @returns PNG bytes, RGB, w·scale × h·scale pixels.
 * @throws Error if the shape is not an image's, a value is not finite, or an option is unknown or invalid.
 */
export function imagePng(image: PictureInput, options: ImageOptions = {}): Uint8Array {
  const where = 'imagePng';
  checkOptions(where, options, ['range', 'scale']);
  const plane = planeOf(where, 'image', image, 'image');
  return encodePng(
    imageRgb(plane, rangeOption(where, options.range)),
    plane.width,
    plane.height,
    integerOption(where, 'scale', options.scale, 1, 1, 64),
  );
}

/**
 * A heatmap blended over an image: each pixel is (1 − alpha)·image + alpha·colour(heat). A heatmap
 * of another size (Grad-CAM's, at a conv layer's resolution) is first resized to the image,
 * bilinearly as tf.image.resize does (half-pixel centres).
 *
 * @param image - The image, as for {@link imagePng} (scaled from its min and max).
 * @param heat - The map, as for {@link heatmapPng}.
 * @returns PNG bytes, RGB, the image's size times `scale`.
 * @throws Error if a shape is wrong, a value is not finite, or an option is unknown or invalid.
 *
 * @example
 * ```ts
 * const png = overlayPng(x, gradCam(model, x, { layer: 'conv2d_2' }), { alpha: 0.4 });
 * ```
 */
export function overlayPng(image: PictureInput, heat: PictureInput, options: OverlayOptions = {}): Uint8Array {
  const where = 'overlayPng';
  checkOptions(where, options, ['alpha', 'colormap', 'range', 'scale']);
  const alpha = options.alpha ?? 0.5;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw optionError(where, 'alpha', 'a number in [0, 1]', alpha);
  const colormap = colormapOption(where, options.colormap, 'jet');
  const scale = integerOption(where, 'scale', options.scale, 1, 1, 64);
  const base = planeOf(where, 'image', image, 'image');
  const map = planeOf(where, 'heat', heat, 'map');
  let unit = normalized(map.values, rangeOption(where, options.range));
  if (map.height !== base.height || map.width !== base.width) {
    unit = resizeImages(tensor(unit, [1, map.height, map.width, 1]), base.height, base.width, 'bilinear').dataSync();
  }
  const color = colorized(unit, colormap);
  const rgb = imageRgb(base).map((v, i) => (1 - alpha) * v + alpha * color[i]!);
  return encodePng(rgb, base.width, base.height, scale);
}

/**
 * A stack of feature maps (a conv layer's activations) as a grid of tiles, one per channel, left to
 * right and top to bottom, each scaled from its own min and max so weak filters stay visible.
 *
 * @param maps - [h, w, c] or a batch [n, h, w, c] (its first item): c tiles of h × w.
 * @returns PNG bytes, RGB: (columns·w + (columns − 1)·padding)·scale wide, on white.
 * @throws Error if the shape is wrong, a value is not finite, or an option is unknown or invalid.
 *
 * @example
 * ```ts
 * const png = gridPng(activationMaps(model, x, { layer: 'conv2d_1' }), { columns: 8, scale: 3 });
 * ```
 */
export function gridPng(maps: PictureInput, options: GridOptions = {}): Uint8Array {
  const where = 'gridPng';
  checkOptions(where, options, ['columns', 'padding', 'scale', 'colormap']);
  const stack = planeOf(where, 'maps', maps, 'stack');
  const { height, width, channels } = stack;
  const columns = integerOption(where, 'columns', options.columns, Math.ceil(Math.sqrt(channels)), 1);
  const padding = integerOption(where, 'padding', options.padding, 1, 0, 64);
  const scale = integerOption(where, 'scale', options.scale, 1, 1, 64);
  const colormap = colormapOption(where, options.colormap, 'viridis');
  const rows = Math.ceil(channels / columns);
  const gridWidth = columns * width + (columns - 1) * padding;
  const gridHeight = rows * height + (rows - 1) * padding;
  const rgb = new Float32Array(gridWidth * gridHeight * 3).fill(1);
  for (let c = 0; c < channels; c++) {
    const tile = colorized(normalized(stack.values, undefined, c, channels), colormap);
    const left = (c % columns) * (width + padding);
    const top = Math.floor(c / columns) * (height + padding);
    for (let y = 0; y < height; y++) rgb.set(tile.subarray(y * width * 3, (y + 1) * width * 3), ((top + y) * gridWidth + left) * 3);
  }
  return encodePng(rgb, gridWidth, gridHeight, scale);
}

/** The dimmed pixels' brightness in a top-k mask: dark, but the object's outline stays readable. */
const DIMMED = 0.25;
/** The tint of a chosen segment in a top-k mask. */
const TOP_K_TINT = 0.35;
/** The strongest tint of the signed overlay (the segment of largest |weight|). */
const SIGNED_TINT = 0.6;

/**
 * The superpixels that LIME or SHAP found to matter, over the image. With `topK`, the k segments of
 * largest weight (|weight|, or weight with `positiveOnly`) are tinted green (positive) or red
 * (negative) and the rest dimmed; without it, every segment is tinted green or red in proportion to
 * its weight over the largest |weight| (a signed overlay; negative ones left alone with `positiveOnly`).
 *
 * @param image - The image, as for {@link imagePng}.
 * @param segments - The segment of each pixel, row-major (h·w labels), or an object holding them as
 *   `labels` (what `slic` returns).
 * @param weights - One weight per segment, indexed by label.
 * @returns PNG bytes, RGB, the image's size times `scale`.
 * @throws Error if the labels do not cover the image or index past the weights, a weight is not
 *   finite, or an option is unknown or invalid.
 *
 * @example
 * ```ts
 * const lime = limeImage(predict, image, { classIndex: 3 });
 * const png = maskPng(image, lime.segments, lime.weights, { topK: 5, positiveOnly: true });
 * ```
 */
export function maskPng(
  image: PictureInput,
  segments: Int32Array | { labels: Int32Array },
  weights: ArrayLike<number>,
  options: MaskOptions = {},
): Uint8Array {
  const where = 'maskPng';
  checkOptions(where, options, ['topK', 'positiveOnly', 'scale']);
  const base = planeOf(where, 'image', image, 'image');
  const labels = segments instanceof Int32Array ? segments : segments?.labels;
  if (!(labels instanceof Int32Array) || labels.length !== base.height * base.width) {
    throw new Error(
      `${where}: segments must be an Int32Array (or { labels: Int32Array }) of ${base.height * base.width} labels, one per pixel of the ${base.height} × ${base.width} image, got ${shown(labels ?? segments)}`,
    );
  }
  const w = Array.from(weights ?? [], Number);
  const badWeight = w.findIndex((v) => !Number.isFinite(v));
  if (w.length === 0 || badWeight >= 0) {
    throw new Error(
      `${where}: weights must be finite numbers, one per segment, got ${badWeight >= 0 ? `${w[badWeight]} at index ${badWeight}` : 'none'}`,
    );
  }
  const badLabel = labels.findIndex((l) => l < 0 || l >= w.length);
  if (badLabel >= 0) throw new Error(`${where}: segments[${badLabel}] is ${labels[badLabel]}, not a segment of the ${w.length} weights`);
  const positiveOnly = options.positiveOnly ?? false;
  if (typeof positiveOnly !== 'boolean') throw optionError(where, 'positiveOnly', 'a boolean', positiveOnly);
  const topK = options.topK === undefined ? undefined : integerOption(where, 'topK', options.topK, 1, 1, w.length);
  const scale = integerOption(where, 'scale', options.scale, 1, 1, 64);

  // Per segment: the tint's strength (0 for none) and whether the segment is dimmed.
  const strength = w.map((v) => (positiveOnly && v <= 0 ? 0 : Math.abs(v)));
  const tint = new Float32Array(w.length);
  const dimmed = new Array<boolean>(w.length).fill(topK !== undefined);
  if (topK !== undefined) {
    const chosen = strength.map((s, i) => [s, i] as const).filter(([s]) => s > 0);
    chosen.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of chosen.slice(0, topK)) [tint[i], dimmed[i]] = [TOP_K_TINT, false];
  } else {
    const largest = Math.max(...strength);
    strength.forEach((s, i) => (tint[i] = largest > 0 ? (SIGNED_TINT * s) / largest : 0));
  }
  const rgb = imageRgb(base);
  labels.forEach((label, p) => {
    const color = w[label]! > 0 ? [0, 1, 0] : [1, 0, 0];
    for (let k = 0; k < 3; k++) {
      const v = dimmed[label] ? DIMMED * rgb[p * 3 + k]! : rgb[p * 3 + k]!;
      rgb[p * 3 + k] = (1 - tint[label]!) * v + tint[label]! * color[k]!;
    }
  });
  return encodePng(rgb, base.width, base.height, scale);
}

/** Renders a vega-lite spec headless: vega draws the SVG, resvg rasterizes it with the system's fonts. */
async function render(spec: TopLevelSpec): Promise<Chart> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png };
}

/**
 * A horizontal bar chart, one bar per label from top to bottom in the order given: the top
 * features of a LIME or SHAP explanation, or class probabilities. Positive values are green,
 * negative red.
 *
 * @returns The chart as SVG and PNG.
 * @throws Error if labels and values differ in length or are empty, a label repeats, a value is not
 *   finite, or an option is unknown or invalid.
 *
 * @example
 * ```ts
 * const { svg, png } = await barChart(['pixel block 3', 'pixel block 7'], [0.21, -0.05], { title: 'LIME' });
 * ```
 */
export async function barChart(labels: readonly string[], values: ArrayLike<number>, options: BarChartOptions = {}): Promise<Chart> {
  const where = 'barChart';
  checkOptions(where, options, ['title']);
  const numbers = Array.from(values ?? [], Number);
  if (!Array.isArray(labels) || labels.length === 0 || labels.length !== numbers.length) {
    throw new Error(
      `${where}: labels and values must be non-empty and of one length, got ${labels?.length} labels and ${numbers.length} values`,
    );
  }
  const repeated = labels.find((l, i) => labels.indexOf(l) !== i);
  if (repeated !== undefined) throw new Error(`${where}: labels must be distinct (one bar each), '${repeated}' repeats`);
  const bad = numbers.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${where}: values[${bad}] is ${numbers[bad]}, not a finite number`);
  if (options.title !== undefined && typeof options.title !== 'string') throw optionError(where, 'title', 'a string', options.title);
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    width: 360,
    data: {
      values: labels.map((label, i) => ({ label: String(label), value: numbers[i], sign: numbers[i]! >= 0 ? 'positive' : 'negative' })),
    },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: null },
      color: {
        field: 'sign',
        type: 'nominal',
        scale: { domain: ['positive', 'negative'], range: ['#2e7d32', '#c62828'] },
        legend: null,
      },
    },
  });
}

/**
 * Training curves from a `History` (what `model.fit` returns): one panel per metric, its value per
 * epoch on the training data and, where `val_<metric>` was logged, on the validation data.
 *
 * @param history - A History, or its `history` record (name → one value per epoch).
 * @returns The chart as SVG and PNG.
 * @throws Error if nothing was logged, a metric asked for was not, a value is not finite, or an
 *   option is unknown or invalid.
 *
 * @example
 * ```ts
 * const history = await model.fit(x, y, { epochs: 5, validationSplit: 0.1 });
 * const { png } = await trainingCurves(history, { metrics: ['loss', 'accuracy'] });
 * ```
 */
export async function trainingCurves(history: History | Record<string, number[]>, options: TrainingCurvesOptions = {}): Promise<Chart> {
  const where = 'trainingCurves';
  checkOptions(where, options, ['metrics', 'title']);
  const logged: Record<string, number[]> =
    history !== null && typeof history === 'object' && 'history' in history && typeof history.history === 'object'
      ? (history as History).history
      : (history as Record<string, number[]>);
  const names = Object.keys(logged ?? {});
  const known = names.filter((n) => !n.startsWith('val_'));
  if (known.length === 0) throw new Error(`${where}: history logged no metrics (got names: ${shown(names)})`);
  const metrics = options.metrics ?? known;
  if (!Array.isArray(metrics) || metrics.length === 0)
    throw optionError(where, 'metrics', 'a non-empty array of logged metric names', metrics);
  const missing = metrics.find((m) => !known.includes(m));
  if (missing !== undefined)
    throw new Error(`${where}: option 'metrics' names '${missing}', which was not logged; logged: ${known.join(', ')}`);
  if (options.title !== undefined && typeof options.title !== 'string') throw optionError(where, 'title', 'a string', options.title);
  const rows: { metric: string; data: string; epoch: number; value: number }[] = [];
  for (const metric of metrics) {
    for (const [name, data] of [
      [metric, 'training'],
      [`val_${metric}`, 'validation'],
    ] as const) {
      const series = logged[name] ?? [];
      const bad = series.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`${where}: ${name}[${bad}] is ${series[bad]}, not a finite number`);
      series.forEach((value, epoch) => rows.push({ metric, data, epoch: epoch + 1, value }));
    }
  }
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [...metrics] } },
    spec: {
      width: 240,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
        color: { field: 'data', type: 'nominal', title: null, sort: ['training', 'validation'] },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}
