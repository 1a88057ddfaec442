/**
 * LIME (Ribeiro et al. 2016), following the `lime` package: perturb the input in an interpretable
 * representation (superpixels on/off, standardized columns, words kept/removed), weight each
 * sample by an exponential kernel of its distance to the input, choose features as lime's
 * 'auto', and fit a weighted ridge regression (alpha 1) on them. The explanation is that linear
 * surrogate: its weights, intercept, weighted R² on the samples (`score`) and its prediction at
 * the input (`localPrediction`).
 */
import { checkOptions } from '@axon/layers';
import type { Tensor } from '@axon/tensor';
import {
  type BatchFunction,
  checkPredictor,
  checkTensor,
  chooseClass,
  describe,
  imagePixels,
  outputColumn,
  positiveInt,
  positiveNumber,
  type Random,
  runBatch,
  runChunked,
  seededRandom,
  weightedRidge,
} from './attribution-utils.js';
import { type Segmentation, slic } from './segmentation.js';

/** A LIME explanation: the weighted linear surrogate fitted around the input. */
export interface LimeExplanation {
  /**
   * One weight per interpretable feature (segment, column or distinct word): the surrogate's
   * coefficient, 0 for the features not selected. Positive pushes the explained class up.
   */
  weights: number[];
  /** The selected features' indices, most important (largest |weight|) first. */
  features: number[];
  /** The surrogate's intercept. */
  intercept: number;
  /** The surrogate's weighted R² on the perturbed samples, as lime's `score`: 1 is a perfect local fit. */
  score: number;
  /** The surrogate's prediction at the input (all features present), as lime's `local_pred`. */
  localPrediction: number;
  /** The explained class (the given `classIndex`, or the model's arg-max on the input). */
  classIndex: number;
}

/** Options of {@link limeImage}. */
export interface LimeImageOptions {
  /** The class to explain; default the model's arg-max on the image. */
  classIndex?: number;
  /** A segmentation to use (from {@link slic} or anything else), or the number of SLIC segments to make. Default 50. */
  segments?: number | Segmentation;
  /** SLIC's compactness when `segments` is a number (see {@link SlicOptions}). Default 10. */
  compactness?: number;
  /** Perturbed samples, the image itself included. Default 1000, as lime. */
  samples?: number;
  /** Width of the kernel on the cosine distance between on/off vectors. Default 0.25, as lime_image. */
  kernelWidth?: number;
  /** How many segments the surrogate may use (lime's 'auto' selection). Default all, as lime_image. */
  numFeatures?: number;
  /** The value a hidden segment's pixels take; default each segment's mean colour, as lime's `hide_color=None`. */
  hideColor?: number;
  /** Seed for the perturbations; without one, drawn from @axon/tensor's generator (see `setSeed`). */
  seed?: number;
}

/** Options of {@link limeTabular}. */
export interface LimeTabularOptions {
  /** Rows [n, columns] the model has seen (a training sample): their mean and standard deviation scale the perturbations. Required. */
  background: Tensor;
  /** Perturbed samples, the row itself included. Default 5000, as lime. */
  samples?: number;
  /** Width of the kernel on the Euclidean distance in standardized units. Default 0.75 · sqrt(columns), as lime_tabular. */
  kernelWidth?: number;
  /** How many columns the surrogate may use (lime's 'auto' selection). Default 10, as lime. */
  numFeatures?: number;
  /** The class to explain; default the model's arg-max on the row. */
  classIndex?: number;
  /** Seed for the perturbations; without one, drawn from @axon/tensor's generator (see `setSeed`). */
  seed?: number;
}

/** Options of {@link limeText}. */
export interface LimeTextOptions {
  /** Perturbed texts, the text itself included. Default 5000, as lime. */
  samples?: number;
  /** The class to explain; default the model's arg-max on the text. */
  classIndex?: number;
  /** How many distinct words the surrogate may use (lime's 'auto' selection). Default 10, as lime. */
  numFeatures?: number;
  /** Seed for the perturbations; without one, drawn from @axon/tensor's generator (see `setSeed`). */
  seed?: number;
}

/** A LIME explanation of an image: {@link LimeExplanation} whose features are the segments. */
export interface LimeImageExplanation extends LimeExplanation {
  /** The superpixels; `weights[s]` belongs to the pixels labelled s. */
  segmentation: Segmentation;
}

/** A LIME explanation of a text: {@link LimeExplanation} whose features are the distinct words. */
export interface LimeTextExplanation extends LimeExplanation {
  /** The distinct words in order of first appearance; `weights[i]` belongs to `tokens[i]`. */
  tokens: string[];
}

/** Images go through the model this many at a time, so the samples never form one huge batch. */
const IMAGE_BATCH = 64;

/**
 * Explains an image classifier's decision with LIME: which superpixels, shown or hidden, move the
 * class score. Each sample hides a random half of the segments (filled with their mean colour or
 * `hideColor`); samples are weighted by sqrt(exp(−d² / kernelWidth²)) of the cosine distance d
 * between their on/off vector and all-on, as lime_image.
 *
 * @param predict - the model: a batch of images [n, h, w, c] → outputs [n, classes] (or a Model).
 * @param image - [h, w, c] or [1, h, w, c], 1 or 3 channels; the batches have the same layout plus n.
 * @throws Error for a bad argument or option (naming it, expected and given), or bad model outputs.
 *
 * @example
 * ```ts
 * const e = limeImage(model, image, { segments: 30, samples: 500, seed: 1 });
 * e.features.slice(0, 5);            // the 5 segments that matter most
 * e.segmentation.labels;             // which pixel belongs to which segment
 * ```
 */
export function limeImage(predict: BatchFunction, image: Tensor, options: LimeImageOptions = {}): LimeImageExplanation {
  const where = 'limeImage';
  checkOptions(where, options, ['classIndex', 'segments', 'compactness', 'samples', 'kernelWidth', 'numFeatures', 'hideColor', 'seed']);
  checkPredictor(where, 'predict', predict);
  const { height, width, channels, pixels } = imagePixels(where, image);
  const segmentation = imageSegmentation(where, image, height * width, options);
  const d = segmentation.count;
  const samples = positiveInt(where, 'samples', options.samples, 1000);
  const kernelWidth = positiveNumber(where, 'kernelWidth', options.kernelWidth, 0.25);
  const numFeatures = positiveInt(where, 'numFeatures', options.numFeatures, d);
  if (options.hideColor !== undefined && (typeof options.hideColor !== 'number' || !Number.isFinite(options.hideColor))) {
    throw new Error(`${where}: option 'hideColor' must be a finite number, got ${describe(options.hideColor)}`);
  }
  const fill = hiddenFill(segmentation, pixels, channels, options.hideColor);
  const data = onOffSamples(seededRandom(where, options.seed), samples, d);
  const outputs = runChunked(
    where,
    predict,
    samples,
    [height, width, channels],
    (r, into) => {
      for (let p = 0; p < height * width; p++) {
        const s = segmentation.labels[p]!;
        const on = data[r * d + s] === 1;
        for (let ch = 0; ch < channels; ch++) into[p * channels + ch] = on ? pixels[p * channels + ch]! : fill[s * channels + ch]!;
      }
    },
    IMAGE_BATCH,
  );
  const classIndex = chooseClass(where, options.classIndex, outputs);
  const weights = kernel(cosineToAllOn(data, samples, d), kernelWidth);
  return { ...explainWithData(data, d, outputColumn(outputs, classIndex), weights, numFeatures), classIndex, segmentation };
}

/**
 * Explains a prediction on one tabular row with LIME (lime_tabular with
 * `discretize_continuous=False`): samples are drawn around the background's mean with its
 * per-column standard deviation (the row itself is sample 0), standardized, and weighted by
 * sqrt(exp(−d² / kernelWidth²)) of their Euclidean distance to the standardized row. The weights
 * are per standard deviation of each column. Columns are numeric; encode categories first.
 *
 * @param predict - the model: rows [n, columns] → outputs [n, classes] or [n] (or a Model).
 * @param row - [columns] or [1, columns].
 * @throws Error for a bad argument or option (naming it, expected and given), or bad model outputs.
 *
 * @example
 * ```ts
 * const e = limeTabular(model, row, { background: xTrain, numFeatures: 3, seed: 1 }); // row: [columns]
 * e.features;   // the 3 columns that matter most for this row
 * ```
 */
export function limeTabular(predict: BatchFunction, row: Tensor, options: LimeTabularOptions): LimeExplanation {
  const where = 'limeTabular';
  if (options === null || typeof options !== 'object')
    throw new Error(`${where}: options must be an object with 'background', got ${describe(options)}`);
  checkOptions(where, options, ['background', 'samples', 'kernelWidth', 'numFeatures', 'classIndex', 'seed']);
  checkPredictor(where, 'predict', predict);
  const x = tabularRow(where, row);
  const d = x.length;
  const background = checkTensor(where, "option 'background'", options.background);
  if (background.rank !== 2 || background.shape[1] !== d || background.shape[0]! < 1) {
    throw new Error(`${where}: option 'background' must be [rows, ${d}] (the row has ${d} columns), got ${describe(background)}`);
  }
  const samples = positiveInt(where, 'samples', options.samples, 5000);
  const kernelWidth = positiveNumber(where, 'kernelWidth', options.kernelWidth, 0.75 * Math.sqrt(d));
  const numFeatures = positiveInt(where, 'numFeatures', options.numFeatures, 10);
  const { mean, scale } = columnStats(where, background.dataSync(), d);
  const rand = seededRandom(where, options.seed);
  const raw = new Float64Array(samples * d);
  raw.set(x);
  for (let i = d; i < raw.length; i++) raw[i] = mean[i % d]! + scale[i % d]! * rand.normal();
  const outputs = runChunked(where, predict, samples, [d], (r, into) => into.set(raw.subarray(r * d, (r + 1) * d)));
  const classIndex = chooseClass(where, options.classIndex, outputs);
  const scaled = raw.map((v, i) => (v - mean[i % d]!) / scale[i % d]!);
  const distances = Float64Array.from({ length: samples }, (_, r) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (scaled[r * d + c]! - scaled[c]!) ** 2;
    return Math.sqrt(s);
  });
  return { ...explainWithData(scaled, d, outputColumn(outputs, classIndex), kernel(distances, kernelWidth), numFeatures), classIndex };
}

/**
 * Explains a text classifier's decision with LIME (lime_text, bag of words): the features are the
 * distinct words (runs of letters, digits and _, split as lime's `\W+`); each sample removes a
 * random number (1 to all) of them, every occurrence, keeping the rest of the text; samples are
 * weighted by sqrt(exp(−(100·d)² / 25²)) of the cosine distance d to the full text, as lime_text.
 *
 * @param predict - the classifier: texts → outputs [n, classes] or [n].
 * @param text - the text to explain; it must contain a word.
 * @throws Error for a bad argument or option (naming it, expected and given), or bad model outputs.
 *
 * @example
 * ```ts
 * const e = limeText(classify, 'a truly excellent film', { samples: 500, seed: 1 });
 * e.tokens[e.features[0]];   // the word that matters most
 * ```
 */
export function limeText(predict: (texts: string[]) => Tensor, text: string, options: LimeTextOptions = {}): LimeTextExplanation {
  const where = 'limeText';
  checkOptions(where, options, ['samples', 'classIndex', 'numFeatures', 'seed']);
  if (typeof predict !== 'function') throw new Error(`${where}: predict must be a function (string[] → Tensor), got ${describe(predict)}`);
  if (typeof text !== 'string') throw new Error(`${where}: text must be a string, got ${describe(text)}`);
  const pieces = text.split(/([\p{L}\p{N}_]+)/u); // odd indices are words, even ones what lies between
  const tokens = [...new Set(pieces.filter((_, i) => i % 2 === 1))];
  if (tokens.length === 0) throw new Error(`${where}: text must contain at least one word, got ${describe(text)}`);
  const d = tokens.length;
  const samples = positiveInt(where, 'samples', options.samples, 5000);
  const numFeatures = positiveInt(where, 'numFeatures', options.numFeatures, 10);
  const rand = seededRandom(where, options.seed);
  const data = new Float64Array(samples * d).fill(1);
  for (let r = 1; r < samples; r++) {
    // lime_text: how many words to remove is uniform in 1..d, then which ones is uniform.
    const order = rand.permutation(d);
    const remove = 1 + rand.int(d);
    for (let i = 0; i < remove; i++) data[r * d + order[i]!] = 0;
  }
  const index = new Map(tokens.map((t, i) => [t, i]));
  const texts = Array.from({ length: samples }, (_, r) =>
    pieces.map((piece, i) => (i % 2 === 1 && data[r * d + index.get(piece)!] === 0 ? '' : piece)).join(''),
  );
  const outputs = runBatch(where, predict, texts);
  const classIndex = chooseClass(where, options.classIndex, outputs);
  const weights = kernel(
    cosineToAllOn(data, samples, d).map((v) => v * 100),
    25,
  );
  return { ...explainWithData(data, d, outputColumn(outputs, classIndex), weights, numFeatures), classIndex, tokens };
}

// ---- the shared parts ------------------------------------------------------------------------

/** The segmentation to perturb: the given one (checked) or SLIC's. */
function imageSegmentation(where: string, image: Tensor, pixels: number, options: LimeImageOptions): Segmentation {
  const given = options.segments;
  if (given !== undefined && typeof given === 'object') {
    if (options.compactness !== undefined) throw new Error(`${where}: option 'compactness' applies only when 'segments' is a number`);
    const { labels, count } = given;
    const valid =
      labels instanceof Int32Array &&
      labels.length === pixels &&
      Number.isInteger(count) &&
      count >= 1 &&
      labels.every((s) => s >= 0 && s < count);
    if (!valid) {
      throw new Error(`${where}: option 'segments' must be a number or { labels: Int32Array of ${pixels} values in [0, count), count }`);
    }
    return given;
  }
  // Checked here so the error names limeImage, not slic.
  const segments = positiveInt(where, 'segments', given, 50);
  return slic(image, { segments, compactness: positiveNumber(where, 'compactness', options.compactness, 10) });
}

/** Per segment and channel, what a hidden segment shows: `hideColor`, or the segment's mean colour. */
function hiddenFill(segmentation: Segmentation, pixels: Float32Array, channels: number, hideColor: number | undefined): Float64Array {
  const fill = new Float64Array(segmentation.count * channels);
  if (hideColor !== undefined) return fill.fill(hideColor);
  const sizes = new Float64Array(segmentation.count);
  segmentation.labels.forEach((s, p) => {
    sizes[s]!++;
    for (let ch = 0; ch < channels; ch++) fill[s * channels + ch]! += pixels[p * channels + ch]!;
  });
  return fill.map((v, i) => v / Math.max(1, sizes[Math.floor(i / channels)]!));
}

/** `samples` rows of d on/off features: row 0 all on (the input), each other entry on with probability 1/2, as lime_image. */
function onOffSamples(rand: Random, samples: number, d: number): Float64Array {
  const data = new Float64Array(samples * d).fill(1);
  for (let i = d; i < data.length; i++) data[i] = rand.next() < 0.5 ? 1 : 0;
  return data;
}

/** Cosine distance of each 0/1 row to the all-ones row: 1 − sqrt(ones / d); an all-off row is at 1 (as scikit-learn). */
function cosineToAllOn(data: Float64Array, samples: number, d: number): Float64Array {
  return Float64Array.from({ length: samples }, (_, r) => {
    let ones = 0;
    for (let c = 0; c < d; c++) ones += data[r * d + c]!;
    return 1 - Math.sqrt(ones / d);
  });
}

/** lime's default kernel: sqrt(exp(−d² / width²)). */
function kernel(distances: Float64Array, width: number): Float64Array {
  return distances.map((d) => Math.sqrt(Math.exp(-(d * d) / (width * width))));
}

function tabularRow(where: string, row: unknown): Float64Array {
  const t = checkTensor(where, 'row', row);
  if (!(t.rank === 1 || (t.rank === 2 && t.shape[0] === 1)) || t.size === 0) {
    throw new Error(`${where}: row must be [columns] or [1, columns], got ${describe(t)}`);
  }
  const x = Float64Array.from(t.dataSync());
  if (x.some((v) => !Number.isFinite(v))) throw new Error(`${where}: row has a non-finite value (NaN or Infinity)`);
  return x;
}

/** Column means and standard deviations; a constant column gets scale 1, as lime. */
function columnStats(where: string, values: Float32Array, d: number): { mean: Float64Array; scale: Float64Array } {
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${where}: option 'background' has a non-finite value (NaN or Infinity)`);
  const n = values.length / d;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  values.forEach((v, i) => (mean[i % d]! += v / n));
  values.forEach((v, i) => (scale[i % d]! += (v - mean[i % d]!) ** 2 / n));
  return { mean, scale: scale.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

/**
 * lime_base's `explain_instance_with_data`: select features ('auto'), fit Ridge(alpha = 1) on them
 * with the kernel weights, and report the fit. Row 0 of `data` is the input.
 */
function explainWithData(
  data: Float64Array,
  d: number,
  labels: Float64Array,
  weights: Float64Array,
  numFeatures: number,
): Omit<LimeExplanation, 'classIndex'> {
  const used = selectFeatures(data, d, labels, weights, numFeatures);
  const fit = weightedRidge(data, d, used, labels, weights, 1);
  const full = new Array<number>(d).fill(0);
  used.forEach((c, j) => (full[c] = fit.coef[j]!));
  const localPrediction = fit.intercept + used.reduce((s, c, j) => s + fit.coef[j]! * data[c]!, 0);
  const features = [...used].sort((a, b) => Math.abs(full[b]!) - Math.abs(full[a]!));
  return { weights: full, features, intercept: fit.intercept, score: fit.score, localPrediction };
}

/**
 * lime's 'auto' feature selection: all features when numFeatures covers them; forward selection
 * (greedily add the feature that most raises the weighted R² of an unregularized fit) for up to 6;
 * otherwise 'highest_weights' (a ridge fit, alpha 0.01, on all features, ranked by |coef · x₀|).
 */
function selectFeatures(data: Float64Array, d: number, labels: Float64Array, weights: Float64Array, numFeatures: number): number[] {
  const all = Array.from({ length: d }, (_, i) => i);
  if (numFeatures >= d) return all;
  if (numFeatures <= 6) {
    const used: number[] = [];
    while (used.length < numFeatures) {
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const c of all) {
        if (used.includes(c)) continue;
        const { score } = weightedRidge(data, d, [...used, c], labels, weights, 0);
        if (score > bestScore) [best, bestScore] = [c, score];
      }
      used.push(best);
    }
    return used;
  }
  const { coef } = weightedRidge(data, d, all, labels, weights, 0.01);
  return all.sort((a, b) => Math.abs(coef[b]! * data[b]!) - Math.abs(coef[a]! * data[a]!)).slice(0, numFeatures);
}
