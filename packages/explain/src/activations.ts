/**
 * What a layer computes: its feature maps for an input ({@link activationMaps}) and the input
 * pattern that most excites one of its filters ({@link maximizeActivation}, gradient ascent with
 * the usual regularisers of Erhan et al. 2009 and Yosinski et al. 2015).
 */
import { checkOptions, formatShape } from '@axon/layers';
import type { Model } from '@axon/models';
import {
  Tensor,
  abs,
  add,
  clone,
  div,
  mean,
  mul,
  noGrad,
  randomNormal,
  scope,
  slice,
  sqrt,
  square,
  sub,
  valueAndGrads,
} from '@axon/tensor';
import { checkInteger, checkModelInput, checkNonNegative, describe, findLayer, layerOutput } from './class-score.js';

/** Options of {@link activationMaps}. */
export interface ActivationMapsOptions {
  /** The name of the layer whose output to return. */
  layer: string;
}

/**
 * The output of layer `layer` for x — the feature maps [n, h, w, channels] of a convolution —
 * computed with the model's weights, for a Sequential or a functional model alike (the same as
 * predicting with `model({ inputs: m.inputs, outputs: m.getLayer(layer).output })`).
 *
 * @throws Error if `layer` names no layer (the message lists them), or the model or x does not fit.
 *
 * @example
 * ```ts
 * const maps = activationMaps(classifier, images, { layer: 'conv2d_1' }); // [n, 26, 26, 8]
 * ```
 */
export function activationMaps(model: Model, x: Tensor, options: ActivationMapsOptions): Tensor {
  const fn = 'activationMaps';
  if (options === null || typeof options !== 'object') throw new Error(`${fn}: options {layer} are required, got ${describe(options)}`);
  checkOptions(fn, options, ['layer']);
  checkModelInput(fn, model, x);
  const layer = findLayer(fn, model, options.layer);
  return noGrad(() => scope(fn, () => layerOutput(fn, model, x, layer)));
}

/** Options of {@link maximizeActivation}. */
export interface MaximizeActivationOptions {
  /** The name of the layer. */
  layer: string;
  /** The filter (channel: the last axis of the layer's output) to excite. */
  filter: number;
  /** Gradient-ascent steps (default 100). */
  steps?: number;
  /** Step size: each step moves the input by learningRate times the gradient divided by its root mean square (default 0.05). */
  learningRate?: number;
  /** Weight of the L2 penalty, mean(x²), which keeps the pattern from growing without bound (default 0.01). */
  l2?: number;
  /** Weight of the total-variation penalty, mean |x[i+1,j] − x[i,j]| + |x[i,j+1] − x[i,j]|, which favours smooth images (default 0; 4-D inputs only). */
  totalVariation?: number;
  /** The starting input [1, ...inputShape] (default small noise, N(0, 0.1²), from the global generator). */
  start?: Tensor;
}

/** Mean absolute difference of neighbouring pixels of an image batch [1, h, w, c]. */
function totalVariation(x: Tensor): Tensor {
  const [, h, w] = x.shape as [number, number, number, number];
  const down = h > 1 ? mean(abs(sub(slice(x, [0, 1, 0, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1])))) : 0;
  const right = w > 1 ? mean(abs(sub(slice(x, [0, 0, 1, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1])))) : 0;
  return add(down, right);
}

/**
 * Activation maximisation: the input that most excites filter `filter` of layer `layer`, found by
 * gradient ascent on the filter's mean activation (over positions, for a convolution) minus
 * `l2` · mean(x²) and `totalVariation` · TV(x), from `start`. Each step is normalised by the
 * gradient's root mean square, so `learningRate` is the step's typical size whatever the
 * activations' scale.
 *
 * @returns The pattern [1, ...inputShape].
 * @throws Error if `layer` names no layer, filter is not a channel of its output, the model's input
 *   shape is unknown, start's shape differs, or an option is invalid.
 *
 * @example
 * ```ts
 * setSeed(0);
 * const pattern = maximizeActivation(classifier, { layer: 'conv2d_1', filter: 3, steps: 200 });
 * ```
 */
export function maximizeActivation(model: Model, options: MaximizeActivationOptions): Tensor {
  const fn = 'maximizeActivation';
  if (options === null || typeof options !== 'object')
    throw new Error(`${fn}: options {layer, filter, ...} are required, got ${describe(options)}`);
  checkOptions(fn, options, ['layer', 'filter', 'steps', 'learningRate', 'l2', 'totalVariation', 'start']);
  const shape = (model as Partial<Model>)?.batchInputShapes?.[0];
  if (!shape || shape.slice(1).some((d) => d === null)) {
    throw new Error(
      `${fn}: the model's input shape must be known (give the first layer an inputShape), got ${shape ? formatShape(shape) : 'none'}`,
    );
  }
  const inputShape = [1, ...(shape.slice(1) as number[])];
  const start = options.start ?? randomNormal(inputShape, 0, 0.1);
  if (!(start instanceof Tensor) || formatShape(start.shape) !== formatShape(inputShape)) {
    throw new Error(`${fn}: start must be a Tensor ${formatShape(inputShape)} (one input of the model), got ${describe(start)}`);
  }
  checkModelInput(fn, model, start);
  const layer = findLayer(fn, model, options.layer);
  const steps = checkInteger(fn, 'steps', options.steps ?? 100, 1);
  const learningRate = checkNonNegative(fn, 'learningRate', options.learningRate ?? 0.05);
  const l2 = checkNonNegative(fn, 'l2', options.l2 ?? 0.01);
  const tv = checkNonNegative(fn, 'totalVariation', options.totalVariation ?? 0);
  if (tv > 0 && start.rank !== 4)
    throw new Error(`${fn}: totalVariation needs image inputs [1, h, w, c], the model's are ${formatShape(shape)}`);
  const channels = noGrad(() => layerOutput(fn, model, start, layer)).shape.at(-1)!;
  const filter = checkInteger(fn, 'filter', options.filter, 0, channels - 1);
  let x = clone(start);
  for (let step = 0; step < steps; step++) {
    x = scope(fn, () => {
      const watched = clone(x);
      const objective = () => {
        const a = layerOutput(fn, model, watched, layer);
        const begin = a.shape.map((_, k) => (k === a.rank - 1 ? filter : 0));
        const size = a.shape.map((_, k) => (k === a.rank - 1 ? 1 : -1));
        const penalty = add(mul(mean(square(watched)), l2), tv > 0 ? mul(totalVariation(watched), tv) : 0);
        return sub(mean(slice(a, begin, size)), penalty);
      };
      const g = valueAndGrads(objective, [watched]).grads[0]!;
      return noGrad(() => add(x, mul(div(g, add(sqrt(mean(square(g))), 1e-8)), learningRate)));
    });
  }
  return x;
}
