/**
 * Superpixels for LIME on images: SLIC (Achanta et al. 2012), as scikit-image's
 * `segmentation.slic` — k-means on colour (CIELAB) plus position, the position weighted by
 * `compactness`, then connectivity enforcement so every segment is one connected region.
 */
import { checkOptions } from '@axon/layers';
import type { Tensor } from '@axon/tensor';
import { imagePixels, positiveInt, positiveNumber } from './attribution-utils.js';

/** A segmentation of an image into `count` regions: `labels[y * width + x]` is in [0, count). */
export interface Segmentation {
  /** The segment of each pixel, row-major ([height * width]). */
  labels: Int32Array;
  /** How many segments there are; every label in [0, count) is used. */
  count: number;
}

/** Options of {@link slic}. */
export interface SlicOptions {
  /** About how many segments to make (the k-means starts from a grid of this many centres). Default 100, as scikit-image. */
  segments?: number;
  /**
   * Balances colour against position: higher makes squarer segments, lower follows edges more
   * closely. Colour is in CIELAB (L in [0, 100]; a grey image is scaled to that range too), so
   * scikit-image's advice applies: try 1, 10 (the default), 100. Default 10.
   */
  compactness?: number;
}

/** The k-means refinement passes; scikit-image's default `max_num_iter` (SLIC converges in about 10). */
const ITERATIONS = 10;

/**
 * Splits an image into superpixels with SLIC: about `segments` compact regions of similar colour,
 * each one connected region.
 *
 * @param image - [height, width, channels] or [1, height, width, channels] (NHWC), with 1 channel
 *   (intensity) or 3 (RGB). Values in [0, 1], or in [0, 255] (taken as such when any exceeds 1).
 * @returns labels (one per pixel, row-major) and the segment count.
 * @throws Error if image is not such a Tensor or an option is not a positive number.
 *
 * @example
 * ```ts
 * const { labels, count } = slic(image, { segments: 50, compactness: 10 });
 * ```
 */
export function slic(image: Tensor, options: SlicOptions = {}): Segmentation {
  checkOptions('slic', options, ['segments', 'compactness']);
  const { height, width, channels, pixels } = imagePixels('slic', image);
  const k = positiveInt('slic', 'segments', options.segments, 100);
  const m = positiveNumber('slic', 'compactness', options.compactness, 10);
  const features = channels === 3 ? rgbToLab(pixels) : intensityAsLightness(pixels);
  const raw = kMeans(features, height, width, k, m);
  return enforceConnectivity(raw, height, width, Math.max(1, Math.floor((0.5 * height * width) / k)));
}

/** [L, a, b] per pixel (D65 white) from sRGB; values above 1 anywhere mean the image is 0–255. */
function rgbToLab(rgb: Float32Array): Float64Array {
  const scale = rgb.some((v) => v > 1) ? 1 / 255 : 1;
  const linear = (v: number): number => {
    const c = Math.min(1, Math.max(0, v * scale));
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);
  const out = new Float64Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const [r, g, b] = [linear(rgb[i]!), linear(rgb[i + 1]!), linear(rgb[i + 2]!)];
    const x = f((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047);
    const y = f(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
    const z = f((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883);
    out[i] = 116 * y - 16;
    out[i + 1] = 500 * (x - y);
    out[i + 2] = 200 * (y - z);
  }
  return out;
}

/** Intensity scaled to [0, 100] like Lab's L, so one compactness scale serves grey and colour. */
function intensityAsLightness(values: Float32Array): Float64Array {
  const scale = values.some((v) => v > 1) ? 100 / 255 : 100;
  return Float64Array.from(values, (v) => v * scale);
}

/**
 * SLIC's k-means: centres start on a regular grid of step S = sqrt(pixels / k); each pass
 * assigns each pixel, among the centres within 2S, to the nearest by
 * D² = colour distance² + (spatial distance / S)² · compactness², then moves each centre to
 * the mean of its pixels. A pixel no centre reaches keeps label -1 (connectivity fixes it).
 */
function kMeans(features: Float64Array, height: number, width: number, k: number, compactness: number): Int32Array {
  const channels = features.length / (height * width);
  const step = Math.sqrt((height * width) / k);
  const rows = Math.max(1, Math.round(height / step));
  const cols = Math.max(1, Math.round(width / step));
  const dims = channels + 2; // colour, then y, x
  const centres = new Float64Array(rows * cols * dims);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const y = Math.min(height - 1, Math.floor(((r + 0.5) * height) / rows));
      const x = Math.min(width - 1, Math.floor(((c + 0.5) * width) / cols));
      const at = (r * cols + c) * dims;
      for (let ch = 0; ch < channels; ch++) centres[at + ch] = features[(y * width + x) * channels + ch]!;
      centres[at + channels] = y;
      centres[at + channels + 1] = x;
    }
  }
  const count = rows * cols;
  const labels = new Int32Array(height * width).fill(-1);
  const distance = new Float64Array(height * width);
  const spatialWeight = (compactness / step) ** 2;
  const reach = Math.ceil(2 * step);
  for (let iter = 0; iter < ITERATIONS; iter++) {
    distance.fill(Number.POSITIVE_INFINITY);
    for (let s = 0; s < count; s++) {
      const at = s * dims;
      const cy = centres[at + channels]!;
      const cx = centres[at + channels + 1]!;
      const y0 = Math.max(0, Math.floor(cy - reach));
      const y1 = Math.min(height - 1, Math.ceil(cy + reach));
      const x0 = Math.max(0, Math.floor(cx - reach));
      const x1 = Math.min(width - 1, Math.ceil(cx + reach));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const p = y * width + x;
          let d = spatialWeight * ((y - cy) ** 2 + (x - cx) ** 2);
          for (let ch = 0; ch < channels; ch++) d += (features[p * channels + ch]! - centres[at + ch]!) ** 2;
          if (d < distance[p]!) {
            distance[p] = d;
            labels[p] = s;
          }
        }
      }
    }
    const sums = new Float64Array(count * dims);
    const sizes = new Float64Array(count);
    for (let p = 0; p < labels.length; p++) {
      const s = labels[p]!;
      if (s < 0) continue;
      sizes[s]!++;
      for (let ch = 0; ch < channels; ch++) sums[s * dims + ch]! += features[p * channels + ch]!;
      sums[s * dims + channels]! += Math.floor(p / width);
      sums[s * dims + channels + 1]! += p % width;
    }
    // A centre that lost all its pixels stays where it is (it may win some back next pass).
    for (let s = 0; s < count; s++)
      if (sizes[s]! > 0) for (let d = 0; d < dims; d++) centres[s * dims + d] = sums[s * dims + d]! / sizes[s]!;
  }
  return labels;
}

/**
 * Makes every segment one connected region. Each k-means cluster keeps its largest 4-connected
 * component as a seed; the stray pieces join the seed they reach first (a breadth-first growth
 * from all seeds at once, so each grown segment stays connected); then segments smaller than
 * `minSize` merge into the neighbour they share the longest border with. scikit-image instead
 * merges each small piece into the piece before it in raster order, which on a noisy image
 * cascades into one giant segment; growing from per-cluster seeds keeps about one segment per
 * cluster.
 */
function enforceConnectivity(raw: Int32Array, height: number, width: number, minSize: number): Segmentation {
  const n = raw.length;
  const neighbours = (p: number): number[] => {
    const y = Math.floor(p / width);
    const x = p % width;
    return [y > 0 ? p - width : -1, y < height - 1 ? p + width : -1, x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1].filter((q) => q >= 0);
  };
  // Connected components of the k-means labels, and each cluster's largest one.
  const component = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const largest = new Map<number, { id: number; size: number }>();
  let components = 0;
  for (let start = 0; start < n; start++) {
    if (component[start] !== -1) continue;
    let size = 0;
    queue[size++] = start;
    component[start] = components;
    for (let head = 0; head < size; head++) {
      for (const q of neighbours(queue[head]!)) {
        if (component[q] === -1 && raw[q] === raw[start]) {
          component[q] = components;
          queue[size++] = q;
        }
      }
    }
    const best = largest.get(raw[start]!);
    // Pixels no centre reached (label -1) never seed a segment.
    if (raw[start] !== -1 && (best === undefined || size > best.size)) largest.set(raw[start]!, { id: components, size });
    components++;
  }
  // Grow the seeds over the stray pieces.
  const seedLabel = new Int32Array(components).fill(-1);
  let count = 0;
  for (const { id } of largest.values()) seedLabel[id] = count++;
  const labels = new Int32Array(n).fill(-1);
  let tail = 0;
  for (let p = 0; p < n; p++) {
    if (seedLabel[component[p]!] === -1) continue;
    labels[p] = seedLabel[component[p]!]!;
    queue[tail++] = p;
  }
  if (tail === 0) return { labels: labels.fill(0), count: 1 };
  for (let head = 0; head < tail; head++) {
    const p = queue[head]!;
    for (const q of neighbours(p)) {
      if (labels[q] !== -1) continue;
      labels[q] = labels[p]!;
      queue[tail++] = q;
    }
  }
  return mergeSmall(labels, count, neighbours, minSize);
}

/** Merges segments under `minSize` pixels, smallest first, into the neighbour with the longest shared border; numbers the rest 0..count−1. */
function mergeSmall(labels: Int32Array, count: number, neighbours: (p: number) => number[], minSize: number): Segmentation {
  const sizes = new Int32Array(count);
  for (const s of labels) sizes[s]!++;
  let remaining = count;
  while (remaining > 1) {
    let small = -1;
    for (let s = 0; s < count; s++) if (sizes[s]! > 0 && sizes[s]! < minSize && (small === -1 || sizes[s]! < sizes[small]!)) small = s;
    if (small === -1) break;
    const border = new Map<number, number>();
    labels.forEach((s, p) => {
      if (s !== small) return;
      for (const q of neighbours(p)) if (labels[q] !== small) border.set(labels[q]!, (border.get(labels[q]!) ?? 0) + 1);
    });
    let into = -1;
    for (const [s, length] of border) if (into === -1 || length > border.get(into)!) into = s;
    labels.forEach((s, p) => {
      if (s === small) labels[p] = into;
    });
    sizes[into]! += sizes[small]!;
    sizes[small] = 0;
    remaining--;
  }
  const renumber = new Int32Array(count).fill(-1);
  let next = 0;
  for (let s = 0; s < count; s++) if (sizes[s]! > 0) renumber[s] = next++;
  return { labels: labels.map((s) => renumber[s]!), count: next };
}
