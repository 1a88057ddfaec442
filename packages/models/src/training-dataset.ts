/**
 * fit, evaluate and predict on a stream of batches — a `Dataset` of @axon/data, or any sync or async
 * iterable — as Keras' `fit(dataset)` and tfjs' `fitDataset`: the data never has to be in memory
 * at once. Each batch is checked as fit checks tensors (shapes, finite values, labels), when it
 * arrives; the epoch loop, callbacks and logs are those of training.ts.
 */
import { type Tensor, concat, noGrad, scope } from '@axon/tensor';
import { checkOptions } from '@axon/layers';
import type { CallbackHooks, History, Logs } from './callbacks.js';
import type { Compiled } from './compile.js';
import type { OutputStream } from './progbar.js';
import {
  type BatchFeed,
  LossMeans,
  evaluateBatch,
  evaluateLogs,
  lossKeys,
  runEpochs,
  checkEpochArgs,
  toResult,
  trainStep,
  validationTensors,
} from './training.js';
import {
  type ModelData,
  type TrainingHost,
  batchWeights,
  checkClassWeight,
  checkData,
  checkPositiveInteger,
  classWeightTable,
  describe,
  modelData,
  modelInputs,
} from './training-data.js';

/** The object form of a {@link DatasetBatch}. */
export interface BatchOfInputsAndTargets {
  /** The batch's inputs, as fit takes x (a Tensor, an array or an object by input name). */
  xs: ModelData;
  /** The batch's targets, as fit takes y. */
  ys: ModelData;
}

/** A batch of a dataset that fit and evaluate read: `{xs, ys}` or `[xs, ys]` (tfjs' `fitDataset`), each as fit takes x and y. */
export type DatasetBatch = BatchOfInputsAndTargets | [ModelData, ModelData];

/**
 * What fit, evaluate and predict read besides tensors: any async or sync iterable of batches,
 * iterated afresh for each epoch — a `Dataset` of @axon/data, or an object whose
 * `[Symbol.asyncIterator]` starts a generator. An array is never a stream: it is x (the inputs of a
 * model of several inputs).
 */
export type BatchStream<T> = AsyncIterable<T> | Iterable<T>;

/** Arguments of `model.fit(dataset)` / `model.fitDataset` (Keras `fit` on a dataset, tfjs `fitDataset`). */
export interface FitDatasetArgs {
  /** Number of epochs; default 1. */
  epochs?: number;
  /**
   * Batches per epoch (Keras `steps_per_epoch`, tfjs `batchesPerEpoch`). Given, one pass of the
   * dataset runs across epochs and training stops, with a warning, when it runs out (use
   * `repeat()`); left out, each epoch is one whole pass of the dataset.
   */
  stepsPerEpoch?: number;
  /** tfjs' name of {@link FitDatasetArgs.stepsPerEpoch}. */
  batchesPerEpoch?: number;
  /** Evaluated after every epoch: a dataset of batches, or tensors [x, y] / [x, y, sampleWeight]. */
  validationData?: BatchStream<DatasetBatch> | [ModelData, ModelData] | [ModelData, ModelData, Tensor];
  /** Batches of a validation dataset to evaluate (default: all of it). */
  validationSteps?: number;
  /** tfjs' name of {@link FitDatasetArgs.validationSteps}. */
  validationBatches?: number;
  /** Epoch to start from (for resuming). */
  initialEpoch?: number;
  /** Per-class loss weights {class: weight} (models of one output). */
  classWeight?: Record<number, number>;
  /** Callbacks, called in order after the progress bar. */
  callbacks?: CallbackHooks[] | CallbackHooks;
  /** 0 silent, 1 progress bar (default 1); the first epoch's batch count shows as `Unknown` until a pass ends. */
  verbose?: 0 | 1;
  /** Where verbose output goes (default process.stdout). */
  output?: OutputStream;
}

/** Arguments of `model.evaluate(dataset)` / `model.evaluateDataset`. */
export interface EvaluateDatasetArgs {
  /** Batches to evaluate (Keras `steps`, tfjs `batches`); default all. */
  steps?: number;
  /** tfjs' name of {@link EvaluateDatasetArgs.steps}. */
  batches?: number;
  /** Return {loss, <metric>: value} instead of a number or [loss, ...]. */
  returnDict?: boolean;
}

/** Arguments of `model.predict(dataset)`. */
export interface PredictDatasetArgs {
  /** Batches to predict; default all. */
  steps?: number;
}

/** Whether x is a stream of batches (iterable, but not a Tensor or an array of Tensors). */
export function isBatchStream(x: unknown): x is BatchStream<unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const it = x as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
  return typeof it[Symbol.asyncIterator] === 'function' || typeof it[Symbol.iterator] === 'function';
}

type AnyIterator<T> = AsyncIterator<T> | Iterator<T>;

function iteratorOf<T>(stream: BatchStream<T>): AnyIterator<T> {
  const s = stream as { [Symbol.asyncIterator]?: () => AsyncIterator<T>; [Symbol.iterator]?: () => Iterator<T> };
  return s[Symbol.asyncIterator] ? s[Symbol.asyncIterator]!() : s[Symbol.iterator]!();
}

/** One of two option names (Keras' and tfjs'), a positive integer, or undefined. */
function stepsOption(method: string, args: Record<string, unknown>, name: string, alias: string): number | undefined {
  if (args[name] !== undefined && args[alias] !== undefined)
    throw new Error(`${method}: give ${name} or ${alias} (its tfjs name), not both`);
  const value = args[name] ?? args[alias];
  return value === undefined ? undefined : checkPositiveInteger(method, args[name] !== undefined ? name : alias, value);
}

/** A batch's inputs and targets, from `{xs, ys}` or `[xs, ys]`. */
function splitBatch(method: string, element: unknown, index: number): { xs: unknown; ys: unknown } {
  if (Array.isArray(element) && element.length === 2) return { xs: element[0], ys: element[1] };
  if (element !== null && typeof element === 'object' && 'xs' in element && 'ys' in element) {
    const { xs, ys } = element as { xs: unknown; ys: unknown };
    return { xs, ys };
  }
  throw new Error(`${method}: batch ${index} of the dataset must be {xs, ys} or [xs, ys] (inputs and targets), got ${describe(element)}`);
}

/** Runs `each` on the stream's batches (at most `steps`), closing the iterator when it stops early. */
async function forEachBatch<T>(
  stream: BatchStream<T>,
  steps: number | undefined,
  each: (element: T, index: number) => void,
): Promise<number> {
  const iterator = iteratorOf(stream);
  let index = 0;
  try {
    for (; steps === undefined || index < steps; index++) {
      const next = await iterator.next();
      if (next.done) break;
      each(next.value, index);
    }
  } finally {
    if (steps !== undefined && index >= steps) await iterator.return?.();
  }
  return index;
}

/** Loss and metrics over a stream of batches (fit's validation, evaluate(dataset)). */
async function streamLogs(
  model: TrainingHost,
  compiled: Compiled,
  method: string,
  stream: BatchStream<unknown>,
  steps: number | undefined,
): Promise<Logs> {
  const losses = compiled.targets.map((t) => t.loss);
  compiled.resetMetrics();
  const means = new LossMeans(lossKeys(compiled));
  const count = await forEachBatch(stream, steps, (element, index) => {
    const { xs, ys } = splitBatch(method, element, index);
    const data = modelData(model, method, xs, ys, [`batch ${index} xs`, `batch ${index} ys`]);
    const labelsChecked = checkData(model, losses, method, data);
    means.add(evaluateBatch(model, compiled, data.xs.tensors, data.ys.tensors, null, labelsChecked), data.n);
  });
  if (count === 0) throw new Error(`${method}: the dataset gave no batch`);
  return { ...means.logs(), ...compiled.metricLogs() };
}

const FIT_DATASET_OPTIONS = [
  'epochs',
  'stepsPerEpoch',
  'batchesPerEpoch',
  'validationData',
  'validationSteps',
  'validationBatches',
  'initialEpoch',
  'classWeight',
  'callbacks',
  'verbose',
  'output',
];

/** fit on a stream of batches (see Model.fit). */
export async function fitDataset(
  model: TrainingHost,
  compiled: Compiled,
  stream: BatchStream<unknown>,
  args: FitDatasetArgs = {},
): Promise<History> {
  checkOptions('fit', args, FIT_DATASET_OPTIONS);
  checkEpochArgs(args);
  const stepsPerEpoch = stepsOption('fit', args as Record<string, unknown>, 'stepsPerEpoch', 'batchesPerEpoch');
  const validationSteps = stepsOption('fit', args as Record<string, unknown>, 'validationSteps', 'validationBatches');
  const classWeight = checkClassWeight('fit', args.classWeight, model);
  const losses = compiled.targets.map((t) => t.loss);
  const vd = args.validationData;
  let validate: BatchFeed['validate'] = null;
  if (isBatchStream(vd)) validate = () => streamLogs(model, compiled, 'fit', vd, validationSteps);
  else if (vd !== undefined) {
    const { labelsChecked, ...tensors } = validationTensors(model, losses, vd);
    validate = () => evaluateLogs(model, compiled, tensors, 32, labelsChecked); // in batches of 32, as Keras' default
  }
  let iterator: AnyIterator<unknown> | null = null;
  let seen = 0;
  const feed: BatchFeed = {
    steps: stepsPerEpoch ?? null,
    samples: null,
    batchSize: null,
    startEpoch() {
      // Without stepsPerEpoch every epoch is a new pass; with it, one pass runs on across epochs (Keras, tfjs).
      if (stepsPerEpoch === undefined || iterator === null) iterator = iteratorOf(stream);
    },
    async next() {
      const next = await iterator!.next();
      if (next.done) {
        if (seen === 0) throw new Error('fit: the dataset gave no batch');
        if (stepsPerEpoch !== undefined) {
          console.warn(
            `fit: the dataset ran out of batches after ${seen} (stepsPerEpoch ${stepsPerEpoch}); training stops: repeat() the dataset or give fewer stepsPerEpoch`,
          );
          model.stopTraining = true;
        }
        return null;
      }
      const index = seen++;
      const { xs, ys } = splitBatch('fit', next.value, index);
      const data = modelData(model, 'fit', xs, ys, [`batch ${index} xs`, `batch ${index} ys`]);
      const labelsChecked = checkData(model, losses, 'fit', data, classWeight);
      const table = classWeight ? classWeightTable('fit', classWeight, model.outputShapesFor(data.xs.tensors)[0]!) : null;
      const train = () =>
        scope(`batch of ${model.name}.fit`, () =>
          trainStep(model, compiled, data.xs.tensors, data.ys.tensors, batchWeights(data.ys.tensors[0]!, table, null), labelsChecked),
        );
      return { size: data.n, count: data.n, train };
    },
    validate,
  };
  return runEpochs(model, compiled, feed, args, null);
}

/** evaluate on a stream of batches (see Model.evaluate). */
export async function evaluateDataset(
  model: TrainingHost,
  compiled: Compiled,
  stream: BatchStream<unknown>,
  args: EvaluateDatasetArgs = {},
): Promise<number | number[] | Logs> {
  checkOptions('evaluate', args, ['steps', 'batches', 'returnDict']);
  const steps = stepsOption('evaluate', args as Record<string, unknown>, 'steps', 'batches');
  const logs = await streamLogs(model, compiled, 'evaluate', stream, steps);
  return args.returnDict ? logs : toResult(compiled, logs);
}

/** predict on a stream of inputs — each element a batch of x (or `{xs}`) — concatenated per output (see Model.predict). */
export async function predictDataset(model: TrainingHost, stream: BatchStream<unknown>, args: PredictDatasetArgs = {}): Promise<Tensor[]> {
  checkOptions('predict', args, ['steps']);
  const steps = args.steps === undefined ? undefined : checkPositiveInteger('predict', 'steps', args.steps);
  const parts: Tensor[][] = model.outputNames.map(() => []);
  const count = await forEachBatch(stream, steps, (element, index) => {
    const x = element !== null && typeof element === 'object' && 'xs' in element ? (element as { xs: unknown }).xs : element;
    const { tensors } = modelInputs(model, 'predict', `batch ${index}`, x);
    noGrad(() => scope(`prediction batch of ${model.name}`, () => model.forward(tensors, false))).forEach((y, k) => parts[k]!.push(y));
  });
  if (count === 0) throw new Error('predict: the dataset gave no batch');
  return parts.map((p) => (p.length === 1 ? p[0]! : concat(p, 0)));
}
