/**
 * The data side of the training loop: x and y given as a Tensor, an array or an object by name,
 * put in the model's input and output order and checked once before any batch (shapes, sample
 * counts, finite values, sparse labels); sample and class weights; the batch size a model allows.
 */
import {
  Tensor,
  type Variable,
  argMax,
  cast,
  formatShape as formatTensorShape,
  gather,
  mul,
  noGrad,
  reshape,
  round,
  slice,
} from '@axon/tensor';
import { type Shape, closestOption, formatShape, shapeCompatible } from '@axon/layers';
import type { TrainableModel } from './callbacks.js';
import { SparseCategoricalCrossentropy, type Loss } from './losses.js';

/**
 * A model's inputs or targets: one Tensor (for a model of one input or output), an array in the
 * model's order, or an object keyed by input or output name (Keras accepts all three).
 */
export type ModelData = Tensor | Tensor[] | { [name: string]: Tensor };

/** What the training loop needs of a model (Model implements it; see there for each member). */
export interface TrainingHost extends TrainableModel {
  /** The model's name, for messages. */
  readonly name: string;
  /** The inputs' names, in order. */
  readonly inputNames: string[];
  /** The outputs' names, in order. */
  readonly outputNames: string[];
  /** The weights the optimizer updates. */
  readonly trainableWeights: Variable[];
  /** Every weight (synchronised across ranks by data-parallel fit). */
  readonly weights: Variable[];
  /** Whether a layer keeps state between batches. */
  readonly stateful: boolean;
  /** The batch shape of each input, or null while unknown (an unbuilt Sequential). */
  readonly batchInputShapes: (Shape | null)[];
  /** The batch shape of each output (the model builds from `inputs` first when it has to). */
  outputShapesFor(inputs: Tensor[]): Shape[];
  /** One batch through the model: every output, with autograd recording. */
  forward(inputs: Tensor[], training: boolean): Tensor[];
  /** The layers' penalties, added to the loss. */
  regularizationLosses(): Tensor[];
  /** Where input `index`'s declared shape comes from, for messages. */
  describeInput(index: number): string;
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (isTensor(x)) return `a Tensor of shape ${formatTensorShape(x.shape)}`;
  return typeof x;
}

export function checkPositiveInteger(owner: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`${owner}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** `[4,1,0]`: the multi-index of flat position `flat` in a row-major tensor of `shape`. */
export function indexOf(shape: readonly number[], flat: number): string {
  const index: number[] = new Array(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${index.join(',')}]`;
}

/** `[3]` for a rank-1 tensor, `[3,1,0] (sample 3)` otherwise. */
export function elementAt(t: Tensor, flat: number): string {
  return t.rank <= 1 ? indexOf(t.shape, flat) : `${indexOf(t.shape, flat)} (sample ${Math.floor(flat / (t.size / t.shape[0]!))})`;
}

/** Throws, naming the argument and the first element, when a float tensor holds NaN or ±Infinity. */
export function checkFinite(method: string, argument: string, t: Tensor): void {
  if (t.dtype !== 'float32') return;
  const values = t.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new Error(
        `${method}: ${argument}${elementAt(t, i)} is ${v}; the data must be finite: remove or impute missing values before training`,
      );
    }
  }
}

export function rows(x: Tensor, start: number, count: number): Tensor {
  return start === 0 && count === x.shape[0] ? x : slice(x, start, count);
}

/** Tensors given for a model's inputs (or outputs), checked and put in the model's order. */
export interface NamedData {
  tensors: Tensor[];
  /** The argument name of each tensor for messages: `x`, `x[1]`, `x.meta`. */
  labels: string[];
}

/** Puts x (or y) in the model's input (or output) order from a Tensor, an array or an object by name. */
export function toList(method: string, argument: string, value: unknown, names: string[], kind: 'input' | 'output'): NamedData {
  const expected = `model has ${names.length} ${kind}s (${names.join(', ')}): give ${argument} as an array of ${names.length} Tensors or as {${names.join(', ')}}`;
  if (isTensor(value)) {
    if (names.length !== 1) throw new Error(`${method}: ${argument} is one Tensor, but the ${expected}`);
    return { tensors: [value], labels: [argument] };
  }
  if (Array.isArray(value)) {
    // An array of numbers is data, not a list of tensors: tensors are made with tensor().
    if (names.length === 1 && !value.every(isTensor)) throw new Error(`${method}: ${argument} must be a Tensor, got an array`);
    if (value.length !== names.length) {
      throw new Error(
        `${method}: ${argument} is an array of ${value.length}, but the ${names.length === 1 ? `model has one ${kind}: give ${argument} as a Tensor` : expected}`,
      );
    }
    value.forEach((t, i) => {
      if (!isTensor(t)) throw new Error(`${method}: ${argument}[${i}] must be a Tensor, got ${describe(t)}`);
    });
    return { tensors: value as Tensor[], labels: names.length === 1 ? [argument] : names.map((_, i) => `${argument}[${i}]`) };
  }
  if (value !== null && typeof value === 'object') {
    const byName = value as Record<string, unknown>;
    for (const key of Object.keys(byName)) {
      if (!names.includes(key)) {
        const close = closestOption(key, names);
        throw new Error(
          `${method}: ${argument} names ${kind} '${key}', which the model does not have${close ? ` (did you mean '${close}'?)` : ''}; its ${kind}s: ${names.join(', ')}`,
        );
      }
    }
    const tensors = names.map((n) => {
      const t = byName[n];
      if (t === undefined) throw new Error(`${method}: ${argument} has no entry for ${kind} '${n}' (its ${kind}s: ${names.join(', ')})`);
      if (!isTensor(t)) throw new Error(`${method}: ${argument}.${n} must be a Tensor, got ${describe(t)}`);
      return t;
    });
    return { tensors, labels: names.map((n) => `${argument}.${n}`) };
  }
  throw new Error(
    `${method}: ${argument} must be a Tensor${names.length > 1 ? ', an array of Tensors or an object by name' : ''}, got ${describe(value)}`,
  );
}

/** The model's inputs from x: checked against the declared shapes, all with the same sample count. */
export function modelInputs(model: TrainingHost, method: string, argument: string, x: unknown): NamedData {
  const data = toList(method, argument, x, model.inputNames, 'input');
  const shapes = model.batchInputShapes;
  data.tensors.forEach((t, i) => {
    const expected = shapes[i];
    // Only the non-batch dims are compared: x is the whole dataset, cut into batches later. A declared
    // batch size is checked against the batchSize argument instead (resolveBatchSize), as Keras does.
    if (expected && !shapeCompatible([null, ...expected.slice(1)], t.shape)) {
      throw new Error(
        `${method}: ${data.labels[i]} has shape ${formatTensorShape(t.shape)}, but model ${model.name} expects input shape ${formatShape(expected)} (${model.describeInput(i)})`,
      );
    }
  });
  sameSampleCount(method, data, data);
  return data;
}

export function sameSampleCount(method: string, a: NamedData, b: NamedData): number {
  const first = a.tensors[0]!;
  for (const [t, label] of [
    ...a.tensors.map((t, i) => [t, a.labels[i]!] as const),
    ...b.tensors.map((t, i) => [t, b.labels[i]!] as const),
  ]) {
    if (t.rank === 0 || first.rank === 0 || t.shape[0] !== first.shape[0]) {
      throw new Error(
        `${method}: ${a.labels[0]} and ${label} must have the same number of samples: ${a.labels[0]} has ${first.shape[0] ?? 'no batch axis'} ` +
          `(shape ${formatTensorShape(first.shape)}), ${label} has ${t.shape[0] ?? 'no batch axis'} (shape ${formatTensorShape(t.shape)})`,
      );
    }
  }
  if (first.shape[0] === 0) throw new Error(`${method}: ${a.labels[0]} has no samples (shape ${formatTensorShape(first.shape)})`);
  return first.shape[0]!;
}

/** Inputs and targets, checked, with their sample count. */
export interface CheckedData {
  xs: NamedData;
  ys: NamedData;
  n: number;
}

export function modelData(model: TrainingHost, method: string, x: unknown, y: unknown, names: [string, string] = ['x', 'y']): CheckedData {
  const xs = modelInputs(model, method, names[0], x);
  const ys = toList(method, names[1], y, model.outputNames, 'output');
  return { xs, ys, n: sameSampleCount(method, xs, ys) };
}

export function checkSampleWeight(method: string, name: string, w: unknown, n: number): Tensor {
  if (!isTensor(w) || w.size !== n || w.shape[0] !== n) {
    throw new Error(`${method}: ${name} must be a Tensor of shape [${n}] (one weight per sample), got ${describe(w)}`);
  }
  checkFinite(method, name, w); // a NaN weight would train every weight to NaN
  return reshape(w, [n]);
}

export function checkClassWeight(method: string, classWeight: unknown, model: TrainingHost): Record<number, number> | undefined {
  if (classWeight === undefined || classWeight === null) return undefined;
  if (typeof classWeight !== 'object' || Array.isArray(classWeight))
    throw new Error(`${method}: classWeight must be an object {classIndex: weight}, got ${JSON.stringify(classWeight)}`);
  for (const [k, v] of Object.entries(classWeight)) {
    if (!/^\d+$/.test(k) || typeof v !== 'number' || !(v >= 0)) {
      throw new Error(
        `${method}: classWeight must map class indices to non-negative numbers, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
      );
    }
  }
  if (model.outputNames.length > 1) {
    throw new Error(
      `${method}: classWeight is for models of one output; model ${model.name} has ${model.outputNames.length} (${model.outputNames.join(', ')}): use sampleWeight`,
    );
  }
  return classWeight as Record<number, number>;
}

/**
 * classWeight reads one class per sample: from class indices [n] or [n, 1], or the arg-max of
 * one-hot / probability labels [n, C] for a model that outputs [n, C]. Keras raises for 3+
 * dimensional targets; per-timestep labels [n, T] (for an output [n, T, C]) would be arg-maxed
 * over time, so they are refused too instead of silently weighting the wrong thing.
 */
export function checkClassWeightLabels(method: string, name: string, y: Tensor, output: Shape): void {
  if (y.rank === 1 || (y.rank === 2 && y.shape[1] === 1)) return;
  if (y.rank === 2 && output.length === 2 && (output[1] === null || output[1] === y.shape[1])) return;
  throw new Error(
    `${method}: classWeight needs one class per sample: labels of shape [n] or [n,1] (class indices) or ` +
      `[n,C] (one-hot or class probabilities for a model output [n,C]), but ${name} has shape ${formatTensorShape(y.shape)} ` +
      `and the model outputs ${formatShape(output)}; classWeight is not supported for per-timestep or higher-rank labels`,
  );
}

/** classWeight as a table indexed by class (classes it does not list weigh 1), on the device. */
export function classWeightTable(method: string, classWeight: Record<number, number>, output: Shape): Tensor {
  const classes = output[output.length - 1];
  // One sigmoid unit has the classes 0 and 1.
  const known = typeof classes === 'number' ? Math.max(classes, 2) : null;
  const keys = Object.keys(classWeight).map(Number);
  const unknown = known === null ? undefined : keys.find((k) => k >= known);
  if (unknown !== undefined) {
    throw new Error(`${method}: classWeight names class ${unknown}, but the model outputs ${known} classes (0 to ${known! - 1})`);
  }
  const size = Math.max(known ?? 2, ...keys.map((k) => k + 1));
  return new Tensor(
    Float32Array.from({ length: size }, (_, c) => classWeight[c] ?? 1),
    [size],
  );
}

/** Per-sample weights from the class weight table (by label) times sampleWeight, or null when neither is given. */
export function batchWeights(y: Tensor, weightTable: Tensor | null, sampleWeight: Tensor | null): Tensor | null {
  if (!weightTable) return sampleWeight;
  return noGrad(() => {
    const n = y.shape[0]!;
    const labels = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1) ? reshape(y, [n]) : cast(argMax(y, -1), 'float32');
    // Class indices are rounded, as Keras does (binary labels given as probabilities); on the device.
    const weights = gather(weightTable, cast(round(labels), 'int32'));
    return sampleWeight ? mul(sampleWeight, weights) : weights;
  });
}

/**
 * Checks a whole dataset once, before any batch (so errors name the sample's index in the
 * arguments as given, not in a shuffled batch): finite inputs and targets, sparse labels in
 * [0, classes), and labels classWeight can read. Returns whether the labels were checked for the
 * losses (their validate() then need not run per batch).
 */
export function checkData(
  model: TrainingHost,
  losses: Loss[],
  method: string,
  data: CheckedData,
  classWeight?: Record<number, number>,
): boolean {
  data.xs.tensors.forEach((t, i) => checkFinite(method, data.xs.labels[i]!, t));
  data.ys.tensors.forEach((t, i) => checkFinite(method, data.ys.labels[i]!, t));
  const outputs = model.outputShapesFor(data.xs.tensors);
  let labelsChecked = true;
  losses.forEach((loss, k) => {
    if (!(loss instanceof SparseCategoricalCrossentropy)) return;
    const output = outputs[k]!;
    const classes = output[output.length - 1];
    if (typeof classes !== 'number') {
      labelsChecked = false;
      return;
    }
    const y = data.ys.tensors[k]!;
    const values = y.dtype === 'int32' ? y.intDataSync() : y.dataSync();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= classes) {
        throw new Error(
          `${method}: ${data.ys.labels[k]}${elementAt(y, i)} is ${v}, not a valid label for ` +
            `${loss.displayName}: labels must be integers in [0, ${classes}) (the ${model.outputNames.length > 1 ? `output ${model.outputNames[k]}` : 'model'} outputs ${classes} classes)`,
        );
      }
    }
  });
  if (classWeight) checkClassWeightLabels(method, data.ys.labels[0]!, data.ys.tensors[0]!, outputs[0]!);
  return labelsChecked;
}

/** Where the declared batch size comes from, for messages. */
export function batchSource(model: TrainingHost): string {
  return model.describeInput(0).replace(/^the inputShape of/, `batchInputShape ${formatShape(model.batchInputShapes[0]!)} of`);
}

/** The batch size the model declares (its first input's batch dim, e.g. for a stateful RNN), or null. */
export function declaredBatchSize(model: TrainingHost): number | null {
  return model.batchInputShapes[0]?.[0] ?? null;
}

/**
 * The batch size to run with: the argument, or the declared batch size when the model fixes one
 * (as Keras infers it), else 32. With a declared batch size the argument must equal it, and every
 * sample count must be a multiple of it (Keras raises for both).
 */
export function resolveBatchSize(model: TrainingHost, method: string, given: unknown, counts: [string, number][]): number {
  const declared = declaredBatchSize(model);
  if (given !== undefined) checkPositiveInteger(method, 'batchSize', given);
  if (declared !== null && given !== undefined && given !== declared) {
    throw new Error(
      `${method}: batchSize ${given as number} does not match the batch size ${declared} that model ${model.name} declares ` +
        `(${batchSource(model)}); pass batchSize: ${declared} or leave it out`,
    );
  }
  const batchSize = (given as number | undefined) ?? declared ?? 32;
  // Stateful layers carry states of the declared batch size, and layers check the declared batch
  // dim of their input, so every batch must be full: no smaller last batch.
  if (declared !== null) {
    for (const [argument, n] of counts) {
      if (n % batchSize !== 0) {
        const kind = model.stateful ? 'in a stateful model' : `in a model with a fixed batch size (${batchSource(model)})`;
        throw new Error(
          `${method}: ${kind} the number of samples must be a multiple of the batch size ${batchSize}: ${argument} has ${n} samples`,
        );
      }
    }
  }
  return batchSize;
}

/** With a declared batch size, a single batch must have exactly that many samples. */
export function checkOnBatchSize(model: TrainingHost, method: string, x: Tensor): void {
  const declared = declaredBatchSize(model);
  if (declared !== null && x.shape[0] !== declared) {
    throw new Error(
      `${method}: x has ${x.shape[0]} samples (shape ${formatTensorShape(x.shape)}), but ${model.stateful ? 'stateful ' : ''}model ${model.name} ` +
        `declares batch size ${declared} (${batchSource(model)})`,
    );
  }
}
