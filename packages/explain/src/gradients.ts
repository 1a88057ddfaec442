/**
 * Gradient attributions: saliency, SmoothGrad and Integrated Gradients (one value per input
 * element), and Grad-CAM / Grad-CAM++ (one map per sample at a convolution's resolution).
 * Every method explains one class score per sample — the logit before a final softmax, else the
 * model's output (see class-score.ts) — for `classIndex`, by default the predicted class.
 */
import { checkOptions, formatShape, resizeImages } from '@axon/layers';
import type { Model } from '@axon/models';
import {
  Tensor,
  abs,
  add,
  clone,
  div,
  fill,
  max,
  maximum,
  mean,
  min,
  mul,
  noGrad,
  notEqual,
  randomNormal,
  relu,
  reshape,
  scope,
  square,
  sub,
  sum,
  valueAndGrads,
  where,
} from '@axon/tensor';
import {
  checkInteger,
  checkModelInput,
  checkNonNegative,
  classScores,
  describe,
  findLayer,
  scoreGradient,
  scoresAndClasses,
  selectScores,
  layerOutput,
} from './class-score.js';

/** Options of {@link saliency}. */
export interface SaliencyOptions {
  /** The class to explain (one, or one per sample); default each sample's predicted class. */
  classIndex?: number | number[];
}

/**
 * Vanilla gradient saliency (Simonyan et al. 2014): |∂ class score / ∂ x| for each sample, the
 * shape of x. The score is the logit when the model ends in a softmax, else the output.
 *
 * @param model - A Sequential or functional model of one input and one output [batch, classes].
 * @param x - A batch of inputs [n, ...inputShape] (images NHWC).
 * @throws Error if the model or x does not fit, or classIndex is out of range.
 *
 * @example
 * ```ts
 * const map = saliency(classifier, images, { classIndex: 3 }); // images' shape, >= 0
 * ```
 */
export function saliency(model: Model, x: Tensor, options: SaliencyOptions = {}): Tensor {
  checkOptions('saliency', options, ['classIndex']);
  checkModelInput('saliency', model, x);
  const { classes } = scoresAndClasses('saliency', model, x, options.classIndex);
  return scope('saliency', () => abs(scoreGradient('saliency', model, x, classes)));
}

/** Options of {@link smoothGrad}. */
export interface SmoothGradOptions {
  /** The class to explain (one, or one per sample); default each sample's predicted class. */
  classIndex?: number | number[];
  /** How many noisy copies of each sample to average over (default 25). */
  samples?: number;
  /** The noise's standard deviation as a fraction of each sample's value range max − min (default 0.15). */
  noise?: number;
}

/**
 * SmoothGrad (Smilkov et al. 2017): the saliency averaged over noisy copies of each sample,
 * mean over k of |∂ score / ∂ x| at x + N(0, σ²), σ = noise · (max(x) − min(x)) per sample — the
 * mean of absolute gradients, as Captum's NoiseTunnel over Saliency. With noise 0 it is
 * {@link saliency}. The noise comes from the global generator (`setSeed` makes it repeatable);
 * the class is chosen on the clean x.
 *
 * @throws Error as saliency does, or if samples is not a positive integer or noise is negative.
 *
 * @example
 * ```ts
 * setSeed(1);
 * const map = smoothGrad(classifier, images, { samples: 50, noise: 0.2 });
 * ```
 */
export function smoothGrad(model: Model, x: Tensor, options: SmoothGradOptions = {}): Tensor {
  checkOptions('smoothGrad', options, ['classIndex', 'samples', 'noise']);
  checkModelInput('smoothGrad', model, x);
  const samples = checkInteger('smoothGrad', 'samples', options.samples ?? 25, 1);
  const noise = checkNonNegative('smoothGrad', 'noise', options.noise ?? 0.15);
  const { classes } = scoresAndClasses('smoothGrad', model, x, options.classIndex);
  return scope('smoothGrad', () => {
    const axes = x.shape.slice(1).map((_, k) => k + 1);
    const sigma = mul(sub(max(x, axes, true), min(x, axes, true)), noise);
    let total: Tensor | null = null;
    for (let k = 0; k < samples; k++) {
      const noisy = add(x, mul(randomNormal(x.shape), sigma));
      const g = abs(scoreGradient('smoothGrad', model, noisy, classes));
      total = total ? add(total, g) : g;
    }
    return div(total!, samples);
  });
}

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  /** The class to explain (one, or one per sample); default each sample's predicted class. */
  classIndex?: number | number[];
  /** Where the path starts: a Tensor of x's shape, one sample [1, ...] for all, or a number filling every element (default 0). */
  baseline?: Tensor | number;
  /** Intervals of the path integral (default 50): the gradient is evaluated at steps + 1 points. */
  steps?: number;
}

/**
 * Integrated Gradients (Sundararajan et al. 2017): (x − baseline) times the mean gradient of the
 * class score along the straight path from the baseline to x, the integral taken by the
 * trapezoidal rule over `steps` equal intervals (gradients at α = 0, 1/steps, ..., 1; half weight
 * at the ends). Attributions sum to score(x) − score(baseline) (completeness) up to the rule's
 * error, which shrinks as 1/steps² on smooth models. The class is chosen on x.
 *
 * @returns Attributions of x's shape.
 * @throws Error as saliency does, or if steps is not a positive integer or the baseline's shape
 *   differs from x's (or [1, ...x's sample shape]).
 *
 * @example
 * ```ts
 * const attributions = integratedGradients(classifier, images, { steps: 100, baseline: 0 });
 * ```
 */
export function integratedGradients(model: Model, x: Tensor, options: IntegratedGradientsOptions = {}): Tensor {
  const fn = 'integratedGradients';
  checkOptions(fn, options, ['classIndex', 'baseline', 'steps']);
  checkModelInput(fn, model, x);
  const steps = checkInteger(fn, 'steps', options.steps ?? 50, 1);
  const baseline = options.baseline ?? 0;
  const fits = (b: Tensor) => b.rank === x.rank && b.shape.every((d, k) => d === x.shape[k] || (k === 0 && d === 1));
  if (!(typeof baseline === 'number' && Number.isFinite(baseline)) && !(baseline instanceof Tensor && fits(baseline))) {
    throw new Error(
      `${fn}: baseline must be a finite number or a Tensor of x's shape ${formatShape(x.shape)} (or [1, ...]), got ${describe(baseline)}`,
    );
  }
  const { classes } = scoresAndClasses(fn, model, x, options.classIndex);
  return scope(fn, () => {
    const start = typeof baseline === 'number' ? fill(x.shape, baseline) : baseline;
    const path = sub(x, start);
    let total: Tensor | null = null;
    for (let k = 0; k <= steps; k++) {
      const weight = k === 0 || k === steps ? 0.5 / steps : 1 / steps;
      const g = mul(scoreGradient(fn, model, add(start, mul(path, k / steps)), classes), weight);
      total = total ? add(total, g) : g;
    }
    return mul(path, total!);
  });
}

/** Options of {@link gradCam} and {@link gradCamPlusPlus}. */
export interface GradCamOptions {
  /** The name of the layer to explain: a convolution (or any layer of 4-D output [batch, h, w, channels]). */
  layer: string;
  /** The class to explain (one, or one per sample); default each sample's predicted class. */
  classIndex?: number | number[];
}

/** A layer's output A [n, h, w, c] for x and the gradient G of the class scores with respect to it. */
function activationsAndGradients(fn: string, model: Model, x: Tensor, options: GradCamOptions): { a: Tensor; g: Tensor } {
  if (options === null || typeof options !== 'object')
    throw new Error(`${fn}: options {layer, classIndex?} are required, got ${describe(options)}`);
  checkOptions(fn, options, ['layer', 'classIndex']);
  checkModelInput(fn, model, x);
  const layer = findLayer(fn, model, options.layer);
  const a = noGrad(() => layerOutput(fn, model, x, layer));
  if (a.rank !== 4) {
    const maps: string[] = [];
    noGrad(() =>
      model.forward([x], false, (l, output) => {
        if (output.rank === 4 && !maps.includes(l.name)) maps.push(l.name);
        return output;
      }),
    );
    throw new Error(
      `${fn}: layer '${layer.name}' (${layer.getClassName()}) outputs ${formatShape(a.shape)}; Grad-CAM needs a 4-D output [batch, height, width, channels], such as a convolution's. This model's: ${maps.join(', ') || 'none'}`,
    );
  }
  const { classes } = scoresAndClasses(fn, model, x, options.classIndex);
  // The model again, with a watched copy in place of the layer's output: the gradient reaches it.
  const watched = clone(a);
  const { grads } = valueAndGrads(
    () =>
      sum(
        selectScores(
          classScores(fn, model, x, (l, output) => (l === layer ? watched : output)),
          classes,
        ),
      ),
    [watched],
  );
  return { a, g: grads[0]! };
}

/** relu(Σ_c weights_c · A_c) per sample, scaled to [0, 1] by its maximum (all zeros when nothing is positive). */
function weightedMap(a: Tensor, weights: Tensor): Tensor {
  const cam = relu(sum(mul(a, weights), 3));
  return div(cam, maximum(max(cam, [1, 2], true), 1e-30));
}

/**
 * Grad-CAM (Selvaraju et al. 2017): for each sample, the channels of a convolution's output A
 * weighted by the mean over positions of ∂ score / ∂ A, summed, passed through ReLU and scaled to
 * [0, 1] (divided by the map's maximum) — where in the image the layer saw evidence for the class.
 * The map has the layer's resolution; {@link upsample} brings it to the input's.
 *
 * @returns A Tensor [n, h, w] in [0, 1].
 * @throws Error if `layer` names no layer (the message lists them), the layer's output is not
 *   4-D, it is shared, or as saliency does.
 *
 * @example
 * ```ts
 * const cams = gradCam(classifier, images, { layer: 'conv2d_2' }); // [n, h, w]
 * const full = upsample(cams, [28, 28]);                             // [n, 28, 28]
 * ```
 */
export function gradCam(model: Model, x: Tensor, options: GradCamOptions): Tensor {
  return scope('gradCam', () => {
    const { a, g } = activationsAndGradients('gradCam', model, x, options);
    return weightedMap(a, mean(g, [1, 2], true));
  });
}

/**
 * Grad-CAM++ (Chattopadhay et al. 2018): as {@link gradCam}, with each channel weighted by
 * Σ_ij α_ij · relu(∂score/∂A_ij), α = g² / (2g² + Σ_ab A_ab · g³) (g the gradient; the closed form
 * for an exponential of the score, as the paper and pytorch-grad-cam use), which credits every
 * region of evidence rather than the largest. Same result shape and errors as gradCam.
 *
 * @example
 * ```ts
 * const cams = gradCamPlusPlus(classifier, images, { layer: 'conv2d_2', classIndex: 0 });
 * ```
 */
export function gradCamPlusPlus(model: Model, x: Tensor, options: GradCamOptions): Tensor {
  return scope('gradCamPlusPlus', () => {
    const { a, g } = activationsAndGradients('gradCamPlusPlus', model, x, options);
    const g2 = square(g);
    const denominator = add(mul(g2, 2), mul(sum(a, [1, 2], true), mul(g2, g)));
    const alpha = div(g2, where(notEqual(denominator, 0), denominator, 1));
    return weightedMap(a, sum(mul(alpha, relu(g)), [1, 2], true));
  });
}

/**
 * Bilinear resizing of maps [n, h, w] to [n, height, width] (half-pixel centres, as
 * tf.image.resize and OpenCV), to lay a Grad-CAM map over its input image.
 *
 * @throws Error if maps is not [n, h, w] or size is not two positive integers.
 *
 * @example
 * ```ts
 * upsample(gradCam(classifier, images, { layer: 'conv' }), [28, 28]);
 * ```
 */
export function upsample(maps: Tensor, size: [number, number]): Tensor {
  if (!(maps instanceof Tensor) || maps.rank !== 3) throw new Error(`upsample: maps must be a Tensor [n, h, w], got ${describe(maps)}`);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`upsample: size must be [height, width], two positive integers, got ${describe(size)}`);
  }
  const [n, h, w] = maps.shape as [number, number, number];
  const [height, width] = size;
  // tf.image.resize's bilinear sampling (half-pixel centres), shared with the Resizing layer.
  return noGrad(() => reshape(resizeImages(reshape(maps, [n, h, w, 1]), height, width, 'bilinear'), [n, height, width]));
}
