/**
 * The training loop every model shares (Keras' `Model.compile/fit/evaluate/predict`): the
 * compiled losses and metrics per output, fit's epochs and batches (validation, class and sample
 * weights, callbacks, data-parallel ranks), evaluation and batched inference. It sees a model only
 * through {@link TrainingHost}, so Sequential and functional models run the same code.
 *
 * A step runs the forward pass under autograd (training = true), sums each output's loss times its
 * loss weight plus the layers' regularization penalties, takes the gradients of the trainable
 * weights and applies the optimizer without recording.
 */
import {
  Tensor,
  type Variable,
  add,
  argMax,
  cast,
  clone,
  concat,
  formatShape as formatTensorShape,
  gather,
  mul,
  noGrad,
  reshape,
  round,
  scope,
  shuffleInPlace,
  slice,
  sum,
  valueAndGrads,
} from '@axon/tensor';
import { type Shape, checkOptions, closestOption, formatShape, shapeCompatible } from '@axon/layers';
import { CallbackList, History, type CallbackHooks, type Logs, type TrainableModel } from './callbacks.js';
import {
  type DataParallelShare,
  GradientReducer,
  broadcastWeights,
  checkSameOnAllRanks,
  checkStrategy,
  shardOf,
  type DistributedStrategy,
} from './distributed.js';
import { getLoss, type Loss, SparseCategoricalCrossentropy, type LossIdentifier } from './losses.js';
import { getMetric, type Metric, type MetricIdentifier } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from './optimizers.js';
import { ProgbarLogger, type OutputStream } from './progbar.js';

/**
 * A model's inputs or targets: one Tensor (for a model of one input or output), an array in the
 * model's order, or an object keyed by input or output name (Keras accepts all three).
 */
export type ModelData = Tensor | Tensor[] | { [name: string]: Tensor };

/** Arguments of `model.compile` (Keras `model.compile`). */
export interface CompileArgs {
  /**
   * The optimizer: a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', with default settings)
   * or an {@link Optimizer} such as `new Adam({ learningRate: 1e-3 })`. Required.
   */
  optimizer: OptimizerIdentifier;
  /**
   * The loss: a name ('mse', 'mae', 'huber', 'binaryCrossentropy', 'categoricalCrossentropy',
   * 'sparseCategoricalCrossentropy', or the Keras snake_case spelling), a {@link Loss}, or a
   * function (yTrue, yPred) → per-sample losses. Required. For a model of several outputs: one
   * loss for every output, an array (one per output, in order) or an object by output name.
   */
  loss: LossIdentifier | LossIdentifier[] | { [output: string]: LossIdentifier };
  /**
   * For a model of several outputs: the weight of each output's loss in the total the optimizer
   * minimizes (an array in output order or an object by output name; default 1 each).
   */
  lossWeights?: number[] | { [output: string]: number };
  /**
   * Metrics reported by fit and evaluate: names ('accuracy', 'mse', 'precision', ...), {@link Metric}
   * objects or functions; see {@link getMetric}. Each is logged under its name — for a model of
   * several outputs under `<output>_<name>`. With several outputs a flat array applies to every
   * output (as tfjs does); give an array of arrays (one per output) or an object by output name
   * to choose per output.
   */
  metrics?: MetricIdentifier | MetricIdentifier[] | MetricIdentifier[][] | { [output: string]: MetricIdentifier | MetricIdentifier[] };
}

export const FIT_OPTIONS = [
  'epochs',
  'batchSize',
  'validationData',
  'validationSplit',
  'shuffle',
  'classWeight',
  'sampleWeight',
  'initialEpoch',
  'callbacks',
  'verbose',
  'output',
  'distributed',
];

/** Arguments of `model.fit` (Keras `model.fit`). */
export interface FitArgs {
  /** Number of passes over the training data; default 1. */
  epochs?: number;
  /** Samples per gradient step; default 32 (or the batch size the model declares). The last batch may be smaller. */
  batchSize?: number;
  /** Evaluated after every epoch: [x, y] or [x, y, sampleWeight]. Takes precedence over validationSplit. */
  validationData?: [ModelData, ModelData] | [ModelData, ModelData, Tensor];
  /** Fraction of the samples, taken from the end before shuffling, held out for validation (Keras). */
  validationSplit?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** Per-class loss weights {class: weight}; classes not listed weigh 1. Models of one output only. */
  classWeight?: Record<number, number>;
  /** Per-sample loss weights [n] (applied to every output's loss). */
  sampleWeight?: Tensor;
  /** Epoch to start from (for resuming): epochs run from initialEpoch to epochs - 1. */
  initialEpoch?: number;
  /** Callbacks (EarlyStopping, ModelCheckpoint, ... or objects with hooks), called in order after the progress bar. */
  callbacks?: CallbackHooks[] | CallbackHooks;
  /** 0 silent, 1 progress bar on a terminal or one line per epoch otherwise (default 1). */
  verbose?: 0 | 1;
  /** Where verbose output goes (default process.stdout). */
  output?: OutputStream;
  /**
   * Data-parallel training across processes (e.g. `dataParallel()` from `@axon/distributed`, run
   * under `mpirun -np N`): every rank calls fit with the same data and arguments; weights start
   * from rank 0's, each rank trains on its shard of every global batch of `batchSize`, gradients are
   * summed across ranks before each update, loss and metrics are reported for the whole batch, and
   * callbacks and the progress bar run on rank 0 only (their stopTraining reaches every rank).
   */
  distributed?: DistributedStrategy;
}

/** Arguments of `model.evaluate` (Keras `model.evaluate`). */
export interface EvaluateArgs {
  /** Samples per batch; default 32 (or the batch size the model declares). Affects speed and memory, not the result (up to rounding). */
  batchSize?: number;
  /** Per-sample loss weights [n]. */
  sampleWeight?: Tensor;
  /** Return {loss, <metric>: value} instead of a number or [loss, ...metrics]. */
  returnDict?: boolean;
}

/** Arguments of `model.predict`. */
export interface PredictArgs {
  /** Samples per batch (default 32, or the batch size the model declares). */
  batchSize?: number;
}

/** Arguments of `model.trainOnBatch`. */
export interface TrainOnBatchArgs {
  /** Per-sample loss weights [n]. */
  sampleWeight?: Tensor;
  /** Per-class loss weights {class: weight} (models of one output). */
  classWeight?: Record<number, number>;
}

/** What the training loop needs of a model (Model implements it). */
export interface TrainingHost extends TrainableModel {
  readonly name: string;
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly trainableWeights: Variable[];
  readonly weights: Variable[];
  readonly stateful: boolean;
  /** The batch shape of each input, or null while unknown (an unbuilt Sequential). */
  readonly batchInputShapes: (Shape | null)[];
  /** The batch shape of each output (the model builds from `inputs` first when it has to). */
  outputShapesFor(inputs: Tensor[]): Shape[];
  forward(inputs: Tensor[], training: boolean): Tensor[];
  regularizationLosses(): Tensor[];
  describeInput(index: number): string;
}

interface Target {
  /** The output's name (its layer's). */
  name: string;
  loss: Loss;
  weight: number;
}

interface MetricSlot {
  /** The log key: the metric's name, prefixed with the output's for a model of several outputs. */
  key: string;
  output: number;
  metric: Metric;
}

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (isTensor(x)) return `a Tensor of shape ${formatTensorShape(x.shape)}`;
  return typeof x;
}

function checkPositiveInteger(owner: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`${owner}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/**
 * A per-output setting given as one value for all, an array in output order or an object by
 * output name, spread into one value per output.
 */
function perOutput<T>(
  method: string,
  option: string,
  value: T | T[] | { [name: string]: T },
  names: string[],
  isSingle: (v: unknown) => v is T,
  fallback?: T,
): T[] {
  if (isSingle(value)) return names.map(() => value);
  if (Array.isArray(value)) {
    if (value.length !== names.length) {
      throw new Error(
        `${method}: ${option} has ${value.length} entries, but the model has ${names.length} output(s) (${names.join(', ')})`,
      );
    }
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const byName = value as { [name: string]: T };
    for (const key of Object.keys(byName)) {
      if (!names.includes(key)) {
        const close = closestOption(key, names);
        throw new Error(
          `${method}: ${option} names output '${key}', which the model does not have${close ? ` (did you mean '${close}'?)` : ''}; its outputs: ${names.join(', ')}`,
        );
      }
    }
    return names.map((n) => {
      if (byName[n] !== undefined) return byName[n]!;
      if (fallback !== undefined) return fallback;
      throw new Error(`${method}: ${option} has no entry for output '${n}' (its outputs: ${names.join(', ')})`);
    });
  }
  throw new Error(`${method}: ${option} must be one value, an array or an object by output name, got ${describe(value)}`);
}

const isLossId = (v: unknown): v is LossIdentifier => typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && 'compute' in v);
const isMetricId = (v: unknown): v is MetricIdentifier =>
  typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && 'update' in v && 'result' in v);

/** A model's compile() configuration: the optimizer, each output's loss and weight, and the metrics. */
export class Compiled {
  readonly optimizer: Optimizer;
  readonly targets: Target[];
  readonly metrics: MetricSlot[];
  /** The identifiers as given, per output, for the saved training config. */
  readonly given: { losses: LossIdentifier[]; metrics: MetricIdentifier[][]; lossWeights: number[] | null };

  constructor(model: TrainingHost, args: CompileArgs) {
    checkOptions('compile', args, ['optimizer', 'loss', 'lossWeights', 'metrics']);
    if (!args || typeof args !== 'object') throw new Error(`compile: expected {optimizer, loss, metrics?}, got ${JSON.stringify(args)}`);
    if (args.optimizer === undefined || args.optimizer === null)
      throw new Error("compile: optimizer is required (e.g. 'adam', 'sgd', or new Adam({learningRate: 0.01}))");
    if (args.loss === undefined || args.loss === null)
      throw new Error("compile: loss is required (e.g. 'sparseCategoricalCrossentropy', 'mse')");
    const names = model.outputNames;
    const multi = names.length > 1;
    this.optimizer = getOptimizer(args.optimizer);
    const lossIds = perOutput('compile', 'loss', args.loss, names, isLossId);
    const isWeight = (v: unknown): v is number => typeof v === 'number';
    const weights = args.lossWeights === undefined ? null : perOutput('compile', 'lossWeights', args.lossWeights, names, isWeight, 1);
    weights?.forEach((w, k) => {
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
        throw new Error(`compile: lossWeights for output '${names[k]}' must be a finite number >= 0, got ${JSON.stringify(w)}`);
    });
    this.targets = names.map((name, k) => ({ name, loss: getLoss(lossIds[k]!), weight: weights?.[k] ?? 1 }));

    let metricIds: MetricIdentifier[][];
    const m = args.metrics;
    if (m === undefined || m === null) metricIds = names.map(() => []);
    else if (isMetricId(m)) metricIds = names.map(() => [m]);
    else if (Array.isArray(m) && m.some(Array.isArray)) {
      metricIds = perOutput('compile', 'metrics', m as MetricIdentifier[][], names, (v): v is MetricIdentifier[] => false);
      metricIds = metricIds.map((list) => (Array.isArray(list) ? list : [list as MetricIdentifier]));
    } else if (Array.isArray(m)) metricIds = names.map(() => m as MetricIdentifier[]);
    else {
      metricIds = perOutput('compile', 'metrics', m as { [output: string]: MetricIdentifier | MetricIdentifier[] }, names, (v): v is never => false, []).map(
        (v) => (Array.isArray(v) ? v : [v]),
      );
    }
    const shared = new Set<object>();
    this.metrics = metricIds.flatMap((ids, output) =>
      ids.map((id) => {
        // One Metric object accumulates one output's values: sharing it would mix them.
        if (typeof id === 'object' && id !== null) {
          if (shared.has(id))
            throw new Error(
              `compile: the same Metric object is given for several outputs; a Metric accumulates one output's values: give each output its own (e.g. metrics: {${names.join(': [...], ')}: [...]})`,
            );
          shared.add(id);
        }
        const metric = getMetric(id, this.targets[output]!.loss);
        return { key: multi ? `${names[output]}_${metric.name}` : metric.name, output, metric };
      }),
    );
    const keys = new Set<string>(['loss', ...(multi ? names.map((n) => `${n}_loss`) : [])]);
    for (const slot of this.metrics) {
      if (keys.has(slot.key)) throw new Error(`compile: metric name '${slot.key}' appears twice (or clashes with a loss's name)`);
      keys.add(slot.key);
    }
    this.given = { losses: lossIds, metrics: metricIds, lossWeights: weights };
  }

  /** Whether per-output losses are logged (models of several outputs, as Keras). */
  get multiOutput(): boolean {
    return this.targets.length > 1;
  }

  /** The keys fit and evaluate log, in order: loss, each output's loss (several outputs), then the metrics. */
  get logKeys(): string[] {
    return ['loss', ...(this.multiOutput ? this.targets.map((t) => `${t.name}_loss`) : []), ...this.metrics.map((s) => s.key)];
  }

  resetMetrics(): void {
    for (const s of this.metrics) s.metric.reset();
  }

  metricLogs(): Logs {
    const logs: Logs = {};
    for (const s of this.metrics) logs[s.key] = s.metric.result();
    return logs;
  }
}

/** `[4,1,0]`: the multi-index of flat position `flat` in a row-major tensor of `shape`. */
function indexOf(shape: readonly number[], flat: number): string {
  const index: number[] = new Array(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${index.join(',')}]`;
}

/** `[3]` for a rank-1 tensor, `[3,1,0] (sample 3)` otherwise. */
function elementAt(t: Tensor, flat: number): string {
  return t.rank <= 1 ? indexOf(t.shape, flat) : `${indexOf(t.shape, flat)} (sample ${Math.floor(flat / (t.size / t.shape[0]!))})`;
}

/** Throws, naming the argument and the first element, when a float tensor holds NaN or ±Infinity. */
function checkFinite(method: string, argument: string, t: Tensor): void {
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

function rows(x: Tensor, start: number, count: number): Tensor {
  return start === 0 && count === x.shape[0] ? x : slice(x, start, count);
}

/** Tensors given for a model's inputs (or outputs), checked and put in the model's order. */
interface NamedData {
  tensors: Tensor[];
  /** The argument name of each tensor for messages: `x`, `x[1]`, `x.meta`. */
  labels: string[];
}

/** Puts x (or y) in the model's input (or output) order from a Tensor, an array or an object by name. */
function toList(method: string, argument: string, value: unknown, names: string[], kind: 'input' | 'output'): NamedData {
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
  throw new Error(`${method}: ${argument} must be a Tensor${names.length > 1 ? ', an array of Tensors or an object by name' : ''}, got ${describe(value)}`);
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

function sameSampleCount(method: string, a: NamedData, b: NamedData): number {
  const first = a.tensors[0]!;
  for (const [t, label] of [...a.tensors.map((t, i) => [t, a.labels[i]!] as const), ...b.tensors.map((t, i) => [t, b.labels[i]!] as const)]) {
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
interface Dataset {
  xs: NamedData;
  ys: NamedData;
  n: number;
}

function modelData(model: TrainingHost, method: string, x: unknown, y: unknown, names: [string, string] = ['x', 'y']): Dataset {
  const xs = modelInputs(model, method, names[0], x);
  const ys = toList(method, names[1], y, model.outputNames, 'output');
  return { xs, ys, n: sameSampleCount(method, xs, ys) };
}

function checkSampleWeight(method: string, name: string, w: unknown, n: number): Tensor {
  if (!isTensor(w) || w.size !== n || w.shape[0] !== n) {
    throw new Error(`${method}: ${name} must be a Tensor of shape [${n}] (one weight per sample), got ${describe(w)}`);
  }
  return reshape(w, [n]);
}

function checkClassWeight(method: string, classWeight: unknown, model: TrainingHost): Record<number, number> | undefined {
  if (classWeight === undefined || classWeight === null) return undefined;
  if (typeof classWeight !== 'object' || Array.isArray(classWeight))
    throw new Error(`${method}: classWeight must be an object {classIndex: weight}, got ${JSON.stringify(classWeight)}`);
  for (const [k, v] of Object.entries(classWeight)) {
    if (!/^\d+$/.test(k) || typeof v !== 'number' || !(v >= 0)) {
      throw new Error(`${method}: classWeight must map class indices to non-negative numbers, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
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
function checkClassWeightLabels(method: string, name: string, y: Tensor, output: Shape): void {
  if (y.rank === 1 || (y.rank === 2 && y.shape[1] === 1)) return;
  if (y.rank === 2 && output.length === 2 && (output[1] === null || output[1] === y.shape[1])) return;
  throw new Error(
    `${method}: classWeight needs one class per sample: labels of shape [n] or [n,1] (class indices) or ` +
      `[n,C] (one-hot or class probabilities for a model output [n,C]), but ${name} has shape ${formatTensorShape(y.shape)} ` +
      `and the model outputs ${formatShape(output)}; classWeight is not supported for per-timestep or higher-rank labels`,
  );
}

/** classWeight as a table indexed by class (classes it does not list weigh 1), on the device. */
function classWeightTable(classWeight: Record<number, number>, output: Shape): Tensor {
  const classes = output[output.length - 1];
  const size = Math.max(typeof classes === 'number' && classes > 1 ? classes : 2, ...Object.keys(classWeight).map((k) => Number(k) + 1));
  return new Tensor(
    Float32Array.from({ length: size }, (_, c) => classWeight[c] ?? 1),
    [size],
  );
}

/** Per-sample weights from the class weight table (by label) times sampleWeight, or null when neither is given. */
function batchWeights(y: Tensor, weightTable: Tensor | null, sampleWeight: Tensor | null): Tensor | null {
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
function checkData(model: TrainingHost, compiled: Compiled, method: string, data: Dataset, classWeight?: Record<number, number>): boolean {
  data.xs.tensors.forEach((t, i) => checkFinite(method, data.xs.labels[i]!, t));
  data.ys.tensors.forEach((t, i) => checkFinite(method, data.ys.labels[i]!, t));
  const outputs = model.outputShapesFor(data.xs.tensors);
  let labelsChecked = true;
  compiled.targets.forEach((target, k) => {
    if (!(target.loss instanceof SparseCategoricalCrossentropy)) return;
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
            `${target.loss.displayName}: labels must be integers in [0, ${classes}) (the ${model.outputNames.length > 1 ? `output ${target.name}` : 'model'} outputs ${classes} classes)`,
        );
      }
    }
  });
  if (classWeight) checkClassWeightLabels(method, data.ys.labels[0]!, data.ys.tensors[0]!, outputs[0]!);
  return labelsChecked;
}

/** Where the declared batch size comes from, for messages. */
function batchSource(model: TrainingHost): string {
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
function resolveBatchSize(model: TrainingHost, method: string, given: unknown, counts: [string, number][]): number {
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
        throw new Error(`${method}: ${kind} the number of samples must be a multiple of the batch size ${batchSize}: ${argument} has ${n} samples`);
      }
    }
  }
  return batchSize;
}

/** With a declared batch size, a single batch must have exactly that many samples. */
function checkOnBatchSize(model: TrainingHost, method: string, x: Tensor): void {
  const declared = declaredBatchSize(model);
  if (declared !== null && x.shape[0] !== declared) {
    throw new Error(
      `${method}: x has ${x.shape[0]} samples (shape ${formatTensorShape(x.shape)}), but ${model.stateful ? 'stateful ' : ''}model ${model.name} ` +
        `declares batch size ${declared} (${batchSource(model)})`,
    );
  }
}

function regularizationLoss(model: TrainingHost): Tensor | null {
  let total: Tensor | null = null;
  for (const penalty of model.regularizationLosses()) total = total ? add(total, penalty) : penalty;
  return total;
}

/**
 * The batch's loss tensors: [total] for one output, [total, ...each output's loss] for several.
 * The total is Σ weight·loss plus the regularization penalties.
 */
function batchLosses(model: TrainingHost, compiled: Compiled, ys: Tensor[], yPreds: Tensor[], sampleWeight: Tensor | null, labelsChecked: boolean): Tensor[] {
  const each = compiled.targets.map((t, k) => t.loss.compute(ys[k]!, yPreds[k]!, sampleWeight, { labelsChecked }));
  let total = compiled.targets.reduce<Tensor | null>((acc, t, k) => {
    const term = t.weight === 1 ? each[k]! : mul(each[k]!, t.weight);
    return acc ? add(acc, term) : term;
  }, null)!;
  const penalty = regularizationLoss(model);
  if (penalty) total = add(total, penalty);
  return compiled.multiOutput ? [total, ...each] : [total];
}

/**
 * The step's loss values as numbers, after updating every metric on (yTrue, yPred): all the values
 * come back in one read (a device is synchronised once per step, not once per metric).
 */
function readStepValues(compiled: Compiled, losses: Tensor[], ys: Tensor[], yPreds: Tensor[]): number[] {
  return noGrad(() => {
    const values: Tensor[] = losses.map((l) => reshape(l, [1]));
    const commits: { from: number; to: number; commit: (read: ArrayLike<number>) => void }[] = [];
    for (const { metric, output } of compiled.metrics) {
      if (!metric.pendingUpdate) {
        metric.update(ys[output]!, yPreds[output]!);
        continue;
      }
      const pending = metric.pendingUpdate(ys[output]!, yPreds[output]!);
      commits.push({ from: values.length, to: values.length + pending.values.length, commit: pending.commit });
      for (const v of pending.values) values.push(reshape(v, [1]));
    }
    // toArray copies: the step's buffer goes back to the pool (dataSync would hand it out for good).
    const read = values.length === 1 ? [losses[0]!.item()] : (concat(values, 0).toArray() as number[]);
    for (const c of commits) c.commit(read.slice(c.from, c.to));
    return read.slice(0, losses.length);
  });
}

/**
 * One optimization step, then the metrics' updates on its predictions; returns the batch's loss
 * values (see batchLosses). Runs in a scope: every tensor the step makes goes back to the pool
 * when it returns (only numbers leave it).
 */
function trainStep(
  model: TrainingHost,
  compiled: Compiled,
  xs: Tensor[],
  ys: Tensor[],
  sampleWeight: Tensor | null,
  labelsChecked: boolean,
  share?: DataParallelShare,
): number[] {
  const variables = model.trainableWeights;
  return scope(`training step of ${model.name}`, () => {
    let yPreds: Tensor[] = [];
    let losses: Tensor[] = [];
    const { grads } = valueAndGrads(
      () => {
        yPreds = model.forward(xs, true);
        // A rank's share of the global batch loss: the shares (and their gradients) sum to it.
        losses = batchLosses(model, compiled, ys, yPreds, sampleWeight, labelsChecked).map((l) => (share ? mul(l, share.fraction) : l));
        return losses[0]!;
      },
      variables,
      share ? { onGradient: share.reducer.onGradient } : {},
    );
    compiled.optimizer.applyGradients(variables, share ? share.reducer.finish() : grads);
    return readStepValues(compiled, losses, ys, yPreds);
  });
}

/** A step in which this rank has no samples (a global batch smaller than the ranks): zero gradients, the same update. */
function idleStep(model: TrainingHost, compiled: Compiled, reducer: GradientReducer): number[] {
  scope(`idle training step of ${model.name}`, () => {
    reducer.contributeZeros();
    compiled.optimizer.applyGradients(model.trainableWeights, reducer.finish());
  });
  return compiled.multiOutput ? compiled.targets.map(() => 0).concat(0) : [0];
}

/** Running means of the loss values over an epoch, weighted by batch size. */
class LossMeans {
  private totals: number[] = [];
  private seen = 0;
  constructor(private readonly keys: string[]) {}
  add(values: number[], size: number): void {
    values.forEach((v, i) => (this.totals[i] = (this.totals[i] ?? 0) + v * size));
    this.seen += size;
  }
  logs(): Logs {
    return Object.fromEntries(this.keys.map((k, i) => [k, (this.totals[i] ?? 0) / this.seen]));
  }
}

function lossKeys(compiled: Compiled): string[] {
  return ['loss', ...(compiled.multiOutput ? compiled.targets.map((t) => `${t.name}_loss`) : [])];
}

/**
 * The step's losses and the epoch's metrics so far over every rank: the loss shares summed, each
 * metric averaged over the ranks' samples (exact for the built-in metrics, which are sample means).
 */
function combineAcrossRanks(compiled: Compiled, strategy: DistributedStrategy | null, losses: number[], localSeen: number): { losses: number[]; metrics: Logs } {
  if (!strategy) return { losses, metrics: compiled.metricLogs() };
  const packed = Float32Array.from([...losses, localSeen, ...compiled.metrics.map((s) => (localSeen > 0 ? s.metric.result() * localSeen : 0))]);
  strategy.allReduceSum(packed);
  const seen = packed[losses.length]!;
  const metrics: Logs = {};
  compiled.metrics.forEach((s, k) => (metrics[s.key] = packed[losses.length + 1 + k]! / seen));
  return { losses: Array.from(packed.subarray(0, losses.length)), metrics };
}

/** Loss (with regularization) and metrics over a dataset, in batches, without gradients. */
function evaluateLogs(
  model: TrainingHost,
  compiled: Compiled,
  data: { xs: Tensor[]; ys: Tensor[]; sampleWeight: Tensor | null },
  batchSize: number,
  labelsChecked: boolean,
): Logs {
  compiled.resetMetrics();
  const n = data.xs[0]!.shape[0]!;
  const means = new LossMeans(lossKeys(compiled));
  noGrad(() => {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const values = scope(`evaluation batch of ${model.name}`, () => {
        const xb = data.xs.map((x) => rows(x, start, size));
        const yb = data.ys.map((y) => rows(y, start, size));
        const yPreds = model.forward(xb, false);
        const sw = data.sampleWeight ? rows(data.sampleWeight, start, size) : null;
        return readStepValues(compiled, batchLosses(model, compiled, yb, yPreds, sw, labelsChecked), yb, yPreds);
      });
      means.add(values, size);
    }
  });
  return { ...means.logs(), ...compiled.metricLogs() };
}

/** evaluateLogs on this rank's shard of the validation data, combined over the ranks. */
function evaluateShard(
  model: TrainingHost,
  compiled: Compiled,
  strategy: DistributedStrategy | null,
  data: { xs: Tensor[]; ys: Tensor[]; sampleWeight: Tensor | null },
  batchSize: number,
  labelsChecked: boolean,
): Logs {
  if (!strategy) return evaluateLogs(model, compiled, data, batchSize, labelsChecked);
  const { start, end } = shardOf(0, data.xs[0]!.shape[0]!, strategy.rank, strategy.size);
  const count = end - start;
  const part = (t: Tensor) => rows(t, start, count);
  const local =
    count > 0
      ? evaluateLogs(
          model,
          compiled,
          { xs: data.xs.map(part), ys: data.ys.map(part), sampleWeight: data.sampleWeight ? part(data.sampleWeight) : null },
          batchSize,
          labelsChecked,
        )
      : null;
  const keys = compiled.logKeys;
  const packed = Float32Array.from([count, ...keys.map((k) => (local ? local[k]! * count : 0))]);
  strategy.allReduceSum(packed);
  return Object.fromEntries(keys.map((k, i) => [k, packed[1 + i]! / packed[0]!]));
}

/** Keras' evaluate result: the loss alone without metrics (and one output), else [loss, ...the rest] in logKeys order. */
export function toResult(compiled: Compiled, logs: Logs): number | number[] {
  const keys = compiled.logKeys;
  return keys.length === 1 ? logs.loss! : keys.map((k) => logs[k]!);
}

/** fit on this process (or as one rank of a data-parallel run). */
async function fitOnThisProcess(
  model: TrainingHost,
  compiled: Compiled,
  x: unknown,
  y: unknown,
  args: FitArgs,
  strategy: DistributedStrategy | null,
): Promise<History> {
  const data = modelData(model, 'fit', x, y);
  const epochs = checkPositiveInteger('fit', 'epochs', args.epochs ?? 1);
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new Error(`fit: initialEpoch must be an integer in [0, epochs) = [0, ${epochs}), got ${JSON.stringify(args.initialEpoch)}`);
  }
  const verbose = args.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1) throw new Error(`fit: verbose must be 0 or 1, got ${JSON.stringify(verbose)}`);
  const classWeight = checkClassWeight('fit', args.classWeight, model);
  const labelsChecked = checkData(model, compiled, 'fit', data, classWeight);
  const weightTable = classWeight ? classWeightTable(classWeight, model.outputShapesFor(data.xs.tensors)[0]!) : null;
  const n = data.n;
  let sampleWeight = args.sampleWeight === undefined ? null : checkSampleWeight('fit', 'sampleWeight', args.sampleWeight, n);

  // Validation data: explicit, or the last fraction of x/y before any shuffling (as Keras).
  // Labels are gathered every batch: convert int32 labels to float32 once rather than per batch.
  const labels = data.ys.tensors.map((t) => cast(t, 'float32'));
  let xTrain = data.xs.tensors;
  let yTrain = labels;
  let validation: { xs: Tensor[]; ys: Tensor[]; sampleWeight: Tensor | null } | null = null;
  let validationLabelsChecked = labelsChecked;
  if (args.validationData !== undefined) {
    const vd = args.validationData as unknown;
    if (!Array.isArray(vd) || vd.length < 2 || vd.length > 3) {
      throw new Error(`fit: validationData must be [x, y] or [x, y, sampleWeight], got ${describe(vd)}`);
    }
    const valid = modelData(model, 'fit', vd[0], vd[1], ['validationData x', 'validationData y']);
    validationLabelsChecked = checkData(model, compiled, 'fit', valid);
    validation = {
      xs: valid.xs.tensors,
      ys: valid.ys.tensors,
      sampleWeight: vd[2] === undefined ? null : checkSampleWeight('fit', 'validationData sampleWeight', vd[2], valid.n),
    };
  } else if (args.validationSplit !== undefined && args.validationSplit !== 0) {
    const split = args.validationSplit;
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      throw new Error(`fit: validationSplit must be a number in [0, 1), got ${JSON.stringify(split)}`);
    const trainCount = Math.floor(n * (1 - split));
    if (trainCount === 0 || trainCount === n) {
      throw new Error(
        `fit: validationSplit ${split} of ${n} samples leaves ${trainCount} for training and ${n - trainCount} for validation; both must be non-empty`,
      );
    }
    const head = (t: Tensor) => rows(t, 0, trainCount);
    const tail = (t: Tensor) => rows(t, trainCount, n - trainCount);
    xTrain = data.xs.tensors.map(head);
    yTrain = labels.map(head);
    validation = { xs: data.xs.tensors.map(tail), ys: labels.map(tail), sampleWeight: sampleWeight ? tail(sampleWeight) : null };
    if (sampleWeight) sampleWeight = head(sampleWeight);
  }

  const samples = xTrain[0]!.shape[0]!;
  const split = args.validationData === undefined && validation ? ` (after validationSplit ${args.validationSplit})` : '';
  const batchSize = resolveBatchSize(model, 'fit', args.batchSize, [
    [`x${split}`, samples],
    ...(validation ? [[split ? `the validation split` : 'validationData x', validation.xs[0]!.shape[0]!] as [string, number]] : []),
  ]);
  const steps = Math.ceil(samples / batchSize);
  const history = new History();
  const userCallbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  // With several ranks, callbacks and the progress bar run on rank 0 only; every rank keeps a History.
  const chief = !strategy || strategy.rank === 0;
  const callbacks = new CallbackList(chief ? [...(verbose ? [new ProgbarLogger(args.output)] : []), ...userCallbacks, history] : [history]);
  if (strategy) {
    checkSameOnAllRanks(strategy, 'fit', {
      samples,
      batchSize,
      epochs,
      initialEpoch,
      validationSamples: validation ? validation.xs[0]!.shape[0]! : 0,
      weights: model.weights.length,
      parameters: model.weights.reduce((n, w) => n + w.size, 0),
    });
    broadcastWeights(strategy, model.weights);
  }
  const reducer = strategy ? new GradientReducer(strategy, model.trainableWeights) : null;
  // Rank 0's decision to stop (EarlyStopping, TerminateOnNaN, ...) reaches every rank.
  const agreeOnStop = (): void => {
    if (!strategy) return;
    const flag = Float32Array.of(model.stopTraining ? 1 : 0);
    strategy.broadcast(flag, 0);
    model.stopTraining = flag[0] === 1;
  };
  const keys = compiled.logKeys;
  callbacks.setModel(model);
  callbacks.setParams({
    epochs,
    initialEpoch,
    steps,
    samples,
    batchSize,
    verbose,
    metrics: [...keys, ...(validation ? keys.map((k) => `val_${k}`) : [])],
  });

  model.stopTraining = false;
  const order = Int32Array.from({ length: samples }, (_, i) => i);
  let lastYield = performance.now();
  await callbacks.onTrainBegin();
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await callbacks.onEpochBegin(epoch);
    compiled.resetMetrics();
    if (args.shuffle ?? true) {
      shuffleInPlace(order);
      if (strategy) {
        // Every rank trains on its shard of the same global batches: rank 0's order.
        const shared = Float32Array.from(order);
        strategy.broadcast(shared, 0);
        order.set(shared);
      }
    }
    let localSeen = 0;
    const means = new LossMeans(lossKeys(compiled));
    const epochLogs: Logs = {};
    for (let step = 0; step < steps; step++) {
      const start = step * batchSize;
      const size = Math.min(batchSize, samples - start);
      await callbacks.onBatchBegin(step, { batch: step, size });
      const shard = strategy ? shardOf(start, size, strategy.rank, strategy.size) : { start, end: start + size };
      const count = shard.end - shard.start;
      const losses =
        count === 0
          ? idleStep(model, compiled, reducer!)
          : scope(`batch of ${model.name}.fit`, () => {
              const indices = new Tensor(order.slice(shard.start, shard.end), [count], 'int32');
              const xb = xTrain.map((t) => gather(t, indices, 0));
              const yb = yTrain.map((t) => gather(t, indices, 0));
              const swb = batchWeights(yb[0]!, weightTable, sampleWeight ? gather(sampleWeight, indices, 0) : null);
              return trainStep(model, compiled, xb, yb, swb, labelsChecked, reducer ? { reducer, fraction: count / size } : undefined);
            });
      localSeen += count;
      const totals = combineAcrossRanks(compiled, strategy, losses, localSeen);
      means.add(totals.losses, size);
      const batchLogs: Logs = { batch: step, size, ...means.logs(), ...totals.metrics };
      await callbacks.onBatchEnd(step, batchLogs);
      agreeOnStop();
      Object.assign(epochLogs, batchLogs);
      if (performance.now() - lastYield > 200) {
        // Let timers and I/O (progress output, signals) run during long epochs.
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (model.stopTraining) break;
    }
    delete epochLogs.batch;
    delete epochLogs.size;
    if (validation) {
      const v = evaluateShard(model, compiled, strategy, validation, batchSize, validationLabelsChecked);
      for (const [k, value] of Object.entries(v)) epochLogs[`val_${k}`] = value;
    }
    await callbacks.onEpochEnd(epoch, epochLogs);
    agreeOnStop();
  }
  await callbacks.onTrainEnd();
  return history;
}

/** Keras `model.fit` for any model (see Model.fit). */
export async function fit(model: TrainingHost, compiled: Compiled, x: unknown, y: unknown, args: FitArgs = {}): Promise<History> {
  checkOptions('fit', args, FIT_OPTIONS);
  const strategy = args.distributed === undefined ? null : checkStrategy('fit', args.distributed);
  if (!strategy || strategy.size === 1) return fitOnThisProcess(model, compiled, x, y, args, strategy);
  try {
    return await fitOnThisProcess(model, compiled, x, y, args, strategy);
  } catch (e) {
    // The other ranks wait in a collective for this one: stop them all, with the reason.
    strategy.abort(`fit failed on rank ${strategy.rank} of ${strategy.size}: ${(e as Error).message}`);
    throw e; // abort() does not return; a strategy that did would still surface the error
  }
}

/** Keras `model.evaluate` for any model (see Model.evaluate). */
export function evaluate(model: TrainingHost, compiled: Compiled, x: unknown, y: unknown, args: EvaluateArgs = {}): number | number[] | Logs {
  checkOptions('evaluate', args, ['batchSize', 'sampleWeight', 'returnDict']);
  const data = modelData(model, 'evaluate', x, y);
  const labelsChecked = checkData(model, compiled, 'evaluate', data);
  const batchSize = resolveBatchSize(model, 'evaluate', args.batchSize, [[data.xs.labels[0]!, data.n]]);
  const sw = args.sampleWeight === undefined ? null : checkSampleWeight('evaluate', 'sampleWeight', args.sampleWeight, data.n);
  const logs = evaluateLogs(model, compiled, { xs: data.xs.tensors, ys: data.ys.tensors, sampleWeight: sw }, batchSize, labelsChecked);
  return args.returnDict ? logs : toResult(compiled, logs);
}

/** One optimization step on one batch (see Model.trainOnBatch). */
export function trainOnBatch(model: TrainingHost, compiled: Compiled, x: unknown, y: unknown, args: TrainOnBatchArgs = {}): number | number[] {
  checkOptions('trainOnBatch', args, ['sampleWeight', 'classWeight']);
  const data = modelData(model, 'trainOnBatch', x, y);
  checkOnBatchSize(model, 'trainOnBatch', data.xs.tensors[0]!);
  const sw = args.sampleWeight === undefined ? null : checkSampleWeight('trainOnBatch', 'sampleWeight', args.sampleWeight, data.n);
  const classWeight = checkClassWeight('trainOnBatch', args.classWeight, model);
  const output = classWeight ? model.outputShapesFor(data.xs.tensors)[0]! : null;
  if (classWeight) checkClassWeightLabels('trainOnBatch', 'y', data.ys.tensors[0]!, output!);
  compiled.resetMetrics();
  const losses = scope(`${model.name}.trainOnBatch`, () => {
    const weights = batchWeights(data.ys.tensors[0]!, classWeight ? classWeightTable(classWeight, output!) : null, sw);
    return trainStep(model, compiled, data.xs.tensors, data.ys.tensors, weights, false);
  });
  return toResult(compiled, { ...Object.fromEntries(lossKeys(compiled).map((k, i) => [k, losses[i]!])), ...compiled.metricLogs() });
}

/** Loss and metrics on one batch, without updating the weights (see Model.testOnBatch). */
export function testOnBatch(model: TrainingHost, compiled: Compiled, x: unknown, y: unknown, args: { sampleWeight?: Tensor } = {}): number | number[] {
  checkOptions('testOnBatch', args, ['sampleWeight']);
  const data = modelData(model, 'testOnBatch', x, y);
  checkOnBatchSize(model, 'testOnBatch', data.xs.tensors[0]!);
  const sw = args.sampleWeight === undefined ? null : checkSampleWeight('testOnBatch', 'sampleWeight', args.sampleWeight, data.n);
  const logs = evaluateLogs(model, compiled, { xs: data.xs.tensors, ys: data.ys.tensors, sampleWeight: sw }, data.n, false);
  return toResult(compiled, logs);
}

/**
 * The outputs for x in batches, in inference mode, without gradients (see Model.predict): one
 * tensor per output, each [n, ...].
 */
export function predict(model: TrainingHost, x: unknown, args: PredictArgs = {}): Tensor[] {
  checkOptions('predict', args, ['batchSize']);
  const { tensors: xs, labels } = modelInputs(model, 'predict', 'x', x);
  const n = xs[0]!.shape[0]!;
  const batchSize = resolveBatchSize(model, 'predict', args.batchSize, [[labels[0]!, n]]);
  // Each batch in a scope of its own (its intermediates are recycled at once); the outputs are
  // joined in one more, which then lets the per-batch outputs go.
  return noGrad(() =>
    scope(`${model.name}.predict`, () => {
      const parts: Tensor[][] = model.outputNames.map(() => []);
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const out = scope(`prediction batch of ${model.name}`, () =>
          model.forward(
            xs.map((t) => rows(t, start, size)),
            false,
          ),
        );
        out.forEach((y, k) => parts[k]!.push(y));
      }
      return parts.map((p) => (p.length === 1 ? p[0]! : concat(p, 0)));
    }),
  );
}

/** The outputs for one batch, without batching or gradients (see Model.predictOnBatch). */
export function predictOnBatch(model: TrainingHost, x: unknown): Tensor[] {
  const { tensors } = modelInputs(model, 'predictOnBatch', 'x', x);
  checkOnBatchSize(model, 'predictOnBatch', tensors[0]!);
  return noGrad(() => scope(`${model.name}.predictOnBatch`, () => model.forward(tensors, false)));
}

/**
 * The gradient of output `classIndex` (summed over the batch, so each sample gets its own
 * gradient) with respect to the input, for a model of one input and one [batch, classes] output.
 */
export function inputGradients(model: TrainingHost, x: unknown, classIndex: number): Tensor {
  const { tensors } = modelInputs(model, 'inputGradients', 'x', x);
  if (tensors.length !== 1 || model.outputNames.length !== 1) {
    throw new Error(`inputGradients: needs a model of one input and one output; model ${model.name} has ${tensors.length} and ${model.outputNames.length}`);
  }
  return scope(`${model.name}.inputGradients`, () => {
    const watched = clone(tensors[0]!);
    const { grads } = valueAndGrads(() => {
      const y = model.forward([watched], false)[0]!;
      if (y.rank !== 2) throw new Error(`inputGradients: the model output must be [batch, classes], got ${formatTensorShape(y.shape)}`);
      const classes = y.shape[1]!;
      if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
        throw new Error(`inputGradients: classIndex must be an integer in [0, ${classes - 1}] (the model outputs ${classes} classes), got ${classIndex}`);
      }
      return sum(slice(y, [0, classIndex], [-1, 1]));
    }, [watched]);
    return grads[0]!;
  });
}

export type { LossIdentifier, MetricIdentifier, OptimizerIdentifier };
