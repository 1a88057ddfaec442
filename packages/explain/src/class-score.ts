/**
 * What the gradient, Grad-CAM and occlusion methods explain: one score per sample, the model's
 * output for a class — or, when the last layer ends in a softmax (a Dense with activation
 * 'softmax', or an Activation('softmax') layer), the logit before it, as tf-keras-vis (its
 * ReplaceToLinear) and Captum users do: the softmax couples the classes, so a probability's
 * gradient mixes in every other class's evidence and vanishes as the probability saturates.
 *
 * Internal to the package: the shared plumbing of gradients.ts, activations.ts and occlusion.ts.
 */
import { ActivationLayer, Dense, type Layer, formatShape } from '@axon/layers';
import { Model } from '@axon/models';
import { Tensor, add, argMax, clone, matmul, mul, noGrad, oneHot, scope, sum, valueAndGrads } from '@axon/tensor';

/** Replaces (or just reads) one layer application's output while the model runs. */
export type Substitute = (layer: Layer, output: Tensor) => Tensor;

/** What `value` is, for error messages. */
export function describe(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor of shape ${formatShape(value.shape)}`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return typeof value === 'string' ? `'${value}'` : typeof value === 'object' ? (value?.constructor?.name ?? 'null') : String(value);
}

/**
 * Checks that `model` is a Model of one input and one output and that `x` is a batch for it.
 *
 * @throws Error naming `fn` otherwise.
 */
export function checkModelInput(fn: string, model: unknown, x: unknown): asserts model is Model {
  if (!(model instanceof Model))
    throw new Error(`${fn}: model must be an @axon/models Model (Sequential or functional), got ${describe(model)}`);
  if (model.inputNames.length !== 1 || model.outputNames.length !== 1) {
    throw new Error(
      `${fn}: needs a model of one input and one output; model ${model.name} has ${model.inputNames.length} and ${model.outputNames.length}`,
    );
  }
  checkBatch(fn, 'x', x);
  const expected = model.batchInputShapes[0];
  if (expected && (expected.length !== x.rank || expected.some((d, k) => k > 0 && d !== null && d !== x.shape[k]))) {
    throw new Error(`${fn}: x has shape ${formatShape(x.shape)}, but model ${model.name} expects ${formatShape(expected)}`);
  }
}

/** @throws Error naming `fn` and `name` unless `x` is a Tensor with a batch axis and at least one sample. */
export function checkBatch(fn: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor) || x.rank < 2 || x.shape[0] === 0) {
    throw new Error(`${fn}: ${name} must be a Tensor [batch, ...] of at least one sample, got ${describe(x)}`);
  }
}

/**
 * The layer of `model` named `name`.
 *
 * @throws Error naming `fn` and listing the model's layers when there is none.
 */
export function findLayer(fn: string, model: Model, name: unknown): Layer {
  const layers = model.layers;
  const found = typeof name === 'string' ? layers.find((l) => l.name === name) : undefined;
  if (!found) {
    throw new Error(`${fn}: model ${model.name} has no layer ${describe(name)}; its layers: ${layers.map((l) => l.name).join(', ')}`);
  }
  return found;
}

/**
 * Runs the model on x and returns what `layer` output, with autograd recording.
 *
 * @throws Error naming `fn` unless the model applies the layer exactly once.
 */
export function layerOutput(fn: string, model: Model, x: Tensor, layer: Layer): Tensor {
  const outputs: Tensor[] = [];
  model.forward([x], false, (l, output) => {
    if (l === layer) outputs.push(output);
    return output;
  });
  if (outputs.length !== 1) {
    const why = outputs.length === 0 ? 'is not applied by the model (an input layer?)' : `is applied ${outputs.length} times (shared)`;
    throw new Error(`${fn}: layer '${layer.name}' ${why}; choose a layer the model applies once`);
  }
  return outputs[0]!;
}

/** The logits feeding `layer`'s softmax, or null when the layer does not end in one. */
function beforeSoftmax(layer: Layer, input: Tensor | Tensor[]): Tensor | null {
  if (Array.isArray(input) || input.rank !== 2) return null;
  if (layer instanceof ActivationLayer && layer.activation.name === 'softmax') return input;
  if (layer instanceof Dense && layer.activation.name === 'softmax') {
    const z = matmul(input, layer.kernel!);
    return layer.bias ? add(z, layer.bias) : z;
  }
  return null;
}

/**
 * The class scores [batch, classes] of `x` (see the module comment: logits before a final softmax,
 * else the output), with autograd recording; `substitute` sees every layer application.
 *
 * @throws Error naming `fn` if the scores are not [batch, classes].
 */
export function classScores(fn: string, model: Model, x: Tensor, substitute?: Substitute): Tensor {
  const last = model.getLayer(model.outputNames[0]!);
  let logits: Tensor | null = null;
  const [y] = model.forward([x], false, (layer, output, input) => {
    if (layer === last) logits = beforeSoftmax(layer, input);
    return substitute ? substitute(layer, output) : output;
  });
  const scores = logits ?? y!;
  if (scores.rank !== 2) throw new Error(`${fn}: the model's output must be [batch, classes], got ${formatShape(scores.shape)}`);
  return scores;
}

/**
 * One class per sample: `classIndex` (one for all samples, or one each), or the class of the
 * highest score (the predicted class, the same for logits and probabilities).
 *
 * @throws Error naming `fn` if classIndex is not an integer in [0, classes) or has the wrong length.
 */
export function targetClasses(fn: string, scores: Tensor, classIndex: unknown): number[] {
  const [n, classes] = scores.shape as [number, number];
  if (classIndex === undefined) return Array.from(noGrad(() => argMax(scores, 1)).dataSync());
  const given = Array.isArray(classIndex) ? classIndex : Array.from({ length: n }, () => classIndex);
  const valid = (c: unknown) => Number.isInteger(c) && (c as number) >= 0 && (c as number) < classes;
  if (given.length !== n || !given.every(valid)) {
    throw new Error(
      `${fn}: classIndex must be an integer in [0, ${classes - 1}] (the model has ${classes} classes) or an array of ${n} (one per sample), got ${describe(classIndex)}`,
    );
  }
  return given as number[];
}

/** Each sample's score for its class, [batch] (differentiable). */
export function selectScores(scores: Tensor, classes: readonly number[]): Tensor {
  return sum(mul(scores, oneHot(classes, scores.shape[1]!)), 1);
}

/**
 * The gradient of each sample's class score with respect to that sample: summing over the batch
 * gives every sample its own gradient, since samples do not interact in inference mode.
 */
export function scoreGradient(fn: string, model: Model, x: Tensor, classes: readonly number[]): Tensor {
  return scope(fn, () => {
    const watched = clone(x);
    return valueAndGrads(() => sum(selectScores(classScores(fn, model, watched), classes)), [watched]).grads[0]!;
  });
}

/** The class scores and the target classes of `x`, without gradients. */
export function scoresAndClasses(fn: string, model: Model, x: Tensor, classIndex: unknown): { scores: Tensor; classes: number[] } {
  const scores = noGrad(() => classScores(fn, model, x));
  return { scores, classes: targetClasses(fn, scores, classIndex) };
}

/** @throws Error naming `fn` and `name` unless `value` is an integer in [min, max]. */
export function checkInteger(fn: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${fn}: ${name} must be an integer ${range}, got ${describe(value)}`);
  }
  return value as number;
}

/** @throws Error naming `fn` and `name` unless `value` is a finite number >= 0. */
export function checkNonNegative(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${fn}: ${name} must be a finite number >= 0, got ${describe(value)}`);
  }
  return value;
}
