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
  add,
  cast,
  clone,
  concat,
  formatShape as formatTensorShape,
  gather,
  mul,
  noGrad,
  reshape,
  scope,
  shuffleInPlace,
  slice,
  sum,
  valueAndGrads,
} from '@axon/tensor';
import { checkOptions } from '@axon/layers';
import { CallbackList, History, type CallbackHooks, type Logs, type TrainingParams } from './callbacks.js';
import {
  type DataParallelShare,
  GradientReducer,
  broadcastWeights,
  checkSameOnAllRanks,
  checkStrategy,
  shardOf,
  type DistributedStrategy,
} from './distributed.js';
import type { LossIdentifier } from './losses.js';
import type { MetricIdentifier } from './metrics.js';
import type { OptimizerIdentifier } from './optimizers.js';
import type { Loss } from './losses.js';
import { ProgbarLogger, type OutputStream } from './progbar.js';
import type { Compiled } from './compile.js';
import {
  type ModelData,
  type TrainingHost,
  batchWeights,
  checkClassWeight,
  checkClassWeightLabels,
  checkData,
  checkOnBatchSize,
  checkPositiveInteger,
  checkSampleWeight,
  classWeightTable,
  describe,
  modelData,
  modelInputs,
  resolveBatchSize,
  rows,
} from './training-data.js';

export { Compiled, type CompileArgs } from './compile.js';
export type { ModelData, TrainingHost } from './training-data.js';

const FIT_OPTIONS = [
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

function regularizationLoss(model: TrainingHost): Tensor | null {
  let total: Tensor | null = null;
  for (const penalty of model.regularizationLosses()) total = total ? add(total, penalty) : penalty;
  return total;
}

/**
 * The batch's loss tensors: [total] for one output, [total, ...each output's loss] for several.
 * The total is Σ weight·loss plus the regularization penalties.
 */
function batchLosses(
  model: TrainingHost,
  compiled: Compiled,
  ys: Tensor[],
  yPreds: Tensor[],
  sampleWeight: Tensor | null,
  labelsChecked: boolean,
): Tensor[] {
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
export function trainStep(
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
export class LossMeans {
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

export function lossKeys(compiled: Compiled): string[] {
  return ['loss', ...(compiled.multiOutput ? compiled.targets.map((t) => `${t.name}_loss`) : [])];
}

/**
 * The step's losses and the epoch's metrics so far over every rank: the loss shares summed, each
 * metric averaged over the ranks' samples (exact for the built-in metrics, which are sample means).
 */
function combineAcrossRanks(
  compiled: Compiled,
  strategy: DistributedStrategy | null,
  losses: number[],
  localSeen: number,
): { losses: number[]; metrics: Logs } {
  if (!strategy) return { losses, metrics: compiled.metricLogs() };
  const packed = Float32Array.from([
    ...losses,
    localSeen,
    ...compiled.metrics.map((s) => (localSeen > 0 ? s.metric.result() * localSeen : 0)),
  ]);
  strategy.allReduceSum(packed);
  const seen = packed[losses.length]!;
  const metrics: Logs = {};
  compiled.metrics.forEach((s, k) => (metrics[s.key] = packed[losses.length + 1 + k]! / seen));
  return { losses: Array.from(packed.subarray(0, losses.length)), metrics };
}

/** Loss (with regularization) and metrics over a dataset, in batches, without gradients. */
export function evaluateLogs(
  model: TrainingHost,
  compiled: Compiled,
  data: { xs: Tensor[]; ys: Tensor[]; sampleWeight: Tensor | null },
  batchSize: number,
  labelsChecked: boolean,
): Logs {
  compiled.resetMetrics();
  const n = data.xs[0]!.shape[0]!;
  const means = new LossMeans(lossKeys(compiled));
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const part = (t: Tensor) => rows(t, start, size);
    means.add(
      evaluateBatch(
        model,
        compiled,
        data.xs.map(part),
        data.ys.map(part),
        data.sampleWeight ? part(data.sampleWeight) : null,
        labelsChecked,
      ),
      size,
    );
  }
  return { ...means.logs(), ...compiled.metricLogs() };
}

/** One evaluation batch, without gradients: its loss values (see batchLosses), after updating the metrics. */
export function evaluateBatch(
  model: TrainingHost,
  compiled: Compiled,
  xs: Tensor[],
  ys: Tensor[],
  sampleWeight: Tensor | null,
  labelsChecked: boolean,
): number[] {
  return noGrad(() =>
    scope(`evaluation batch of ${model.name}`, () => {
      const yPreds = model.forward(xs, false);
      return readStepValues(compiled, batchLosses(model, compiled, ys, yPreds, sampleWeight, labelsChecked), ys, yPreds);
    }),
  );
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

/** One batch of fit: its size, this rank's share of it, and its training step (→ the loss values). */
interface FitBatch {
  size: number;
  count: number;
  train: () => number[];
}

/**
 * Where fit's batches come from, epoch after epoch: tensors cut by a (shuffled) index order, or a
 * stream of batches (a Dataset). The epoch loop, callbacks and logs are the same for both.
 */
export interface BatchFeed {
  /** Batches per epoch; null while unknown (a stream's first pass). */
  steps: number | null;
  /** Training samples per epoch, when known. */
  samples: number | null;
  /** The batch size, when the feed cuts the batches. */
  batchSize: number | null;
  startEpoch(): void;
  /** The next batch of the epoch, or null at its end. */
  next(step: number): Promise<FitBatch | null> | FitBatch | null;
  /** The validation logs at the end of an epoch; null without validation data. */
  validate: (() => Promise<Logs> | Logs) | null;
}

/** fit's arguments that say how to run the epochs, whatever feeds them. */
export interface EpochArgs {
  epochs?: number;
  initialEpoch?: number;
  callbacks?: CallbackHooks[] | CallbackHooks;
  verbose?: 0 | 1;
  output?: OutputStream;
}

export function checkEpochArgs(args: EpochArgs): { epochs: number; initialEpoch: number; verbose: 0 | 1 } {
  const epochs = checkPositiveInteger('fit', 'epochs', args.epochs ?? 1);
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new Error(`fit: initialEpoch must be an integer in [0, epochs) = [0, ${epochs}), got ${JSON.stringify(args.initialEpoch)}`);
  }
  const verbose = args.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1) throw new Error(`fit: verbose must be 0 or 1, got ${JSON.stringify(verbose)}`);
  const output = args.output as { write?: unknown } | undefined;
  if (output !== undefined && (output === null || typeof output.write !== 'function')) {
    throw new Error(`fit: output must be a stream with a write() method (e.g. process.stdout), got ${describe(output)}`);
  }
  return { epochs, initialEpoch, verbose };
}

/** fit's validationData as tensors [x, y] or [x, y, sampleWeight], checked as x and y are. */
export function validationTensors(
  model: TrainingHost,
  losses: Loss[],
  vd: unknown,
): { xs: Tensor[]; ys: Tensor[]; sampleWeight: Tensor | null; labelsChecked: boolean } {
  if (!Array.isArray(vd) || vd.length < 2 || vd.length > 3) {
    throw new Error(`fit: validationData must be [x, y] or [x, y, sampleWeight], got ${describe(vd)}`);
  }
  const valid = modelData(model, 'fit', vd[0], vd[1], ['validationData x', 'validationData y']);
  return {
    xs: valid.xs.tensors,
    ys: valid.ys.tensors,
    sampleWeight: vd[2] === undefined ? null : checkSampleWeight('fit', 'validationData sampleWeight', vd[2], valid.n),
    labelsChecked: checkData(model, losses, 'fit', valid),
  };
}

/** Tensors x/y as a feed: batches of `batchSize` rows in a fresh shuffled order each epoch, validation as asked. */
function tensorFeed(
  model: TrainingHost,
  compiled: Compiled,
  x: unknown,
  y: unknown,
  args: FitArgs,
  strategy: DistributedStrategy | null,
): BatchFeed {
  const data = modelData(model, 'fit', x, y);
  if (args.shuffle !== undefined && typeof args.shuffle !== 'boolean')
    throw new Error(`fit: shuffle must be true or false, got ${JSON.stringify(args.shuffle)}`);
  const losses = compiled.targets.map((t) => t.loss);
  const classWeight = checkClassWeight('fit', args.classWeight, model);
  const labelsChecked = checkData(model, losses, 'fit', data, classWeight);
  const weightTable = classWeight ? classWeightTable('fit', classWeight, model.outputShapesFor(data.xs.tensors)[0]!) : null;
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
    ({ labelsChecked: validationLabelsChecked, ...validation } = validationTensors(model, losses, args.validationData));
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
  if (strategy) {
    checkSameOnAllRanks(strategy, 'fit', {
      samples,
      batchSize,
      epochs: args.epochs ?? 1,
      initialEpoch: args.initialEpoch ?? 0,
      validationSamples: validation ? validation.xs[0]!.shape[0]! : 0,
      weights: model.weights.length,
      parameters: model.weights.reduce((n, w) => n + w.size, 0),
    });
  }
  const reducer = strategy ? new GradientReducer(strategy, model.trainableWeights) : null;
  const order = Int32Array.from({ length: samples }, (_, i) => i);
  return {
    steps: Math.ceil(samples / batchSize),
    samples,
    batchSize,
    startEpoch() {
      if (!(args.shuffle ?? true)) return;
      shuffleInPlace(order);
      if (strategy) {
        // Every rank trains on its shard of the same global batches: rank 0's order.
        const shared = Float32Array.from(order);
        strategy.broadcast(shared, 0);
        order.set(shared);
      }
    },
    next(step) {
      const start = step * batchSize;
      const size = Math.min(batchSize, samples - start);
      const shard = strategy ? shardOf(start, size, strategy.rank, strategy.size) : { start, end: start + size };
      const count = shard.end - shard.start;
      const train = () =>
        count === 0
          ? idleStep(model, compiled, reducer!)
          : scope(`batch of ${model.name}.fit`, () => {
              const indices = new Tensor(order.slice(shard.start, shard.end), [count], 'int32');
              const xb = xTrain.map((t) => gather(t, indices, 0));
              const yb = yTrain.map((t) => gather(t, indices, 0));
              const swb = batchWeights(yb[0]!, weightTable, sampleWeight ? gather(sampleWeight, indices, 0) : null);
              return trainStep(model, compiled, xb, yb, swb, labelsChecked, reducer ? { reducer, fraction: count / size } : undefined);
            });
      return { size, count, train };
    },
    validate: validation ? () => evaluateShard(model, compiled, strategy, validation, batchSize, validationLabelsChecked) : null,
  };
}

/**
 * Runs fit's epochs over a feed: callbacks, the progress bar, running means of the losses, the
 * metrics, validation, and with several ranks their agreement on losses, metrics and stopping.
 */
export async function runEpochs(
  model: TrainingHost,
  compiled: Compiled,
  feed: BatchFeed,
  args: EpochArgs,
  strategy: DistributedStrategy | null,
): Promise<History> {
  const { epochs, initialEpoch, verbose } = checkEpochArgs(args);
  const history = new History();
  const userCallbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  // With several ranks, callbacks and the progress bar run on rank 0 only; every rank keeps a History.
  const chief = !strategy || strategy.rank === 0;
  const callbacks = new CallbackList(chief ? [...(verbose ? [new ProgbarLogger(args.output)] : []), ...userCallbacks, history] : [history]);
  if (strategy) broadcastWeights(strategy, model.weights);
  // Rank 0's decision to stop (EarlyStopping, TerminateOnNaN, ...) reaches every rank.
  const agreeOnStop = (): void => {
    if (!strategy) return;
    const flag = Float32Array.of(model.stopTraining ? 1 : 0);
    strategy.broadcast(flag, 0);
    model.stopTraining = flag[0] === 1;
  };
  const keys = compiled.logKeys;
  const params: TrainingParams = {
    epochs,
    initialEpoch,
    steps: feed.steps,
    samples: feed.samples,
    batchSize: feed.batchSize,
    verbose,
    metrics: [...keys, ...(feed.validate ? keys.map((k) => `val_${k}`) : [])],
  };
  callbacks.setModel(model);
  callbacks.setParams(params);

  model.stopTraining = false;
  let lastYield = performance.now();
  await callbacks.onTrainBegin();
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await callbacks.onEpochBegin(epoch);
    compiled.resetMetrics();
    feed.startEpoch();
    let localSeen = 0;
    const means = new LossMeans(lossKeys(compiled));
    const epochLogs: Logs = {};
    let step = 0;
    for (; feed.steps === null || step < feed.steps; step++) {
      const batch = await feed.next(step);
      if (!batch) break;
      await callbacks.onBatchBegin(step, { batch: step, size: batch.size });
      const losses = batch.train();
      localSeen += batch.count;
      const totals = combineAcrossRanks(compiled, strategy, losses, localSeen);
      means.add(totals.losses, batch.size);
      const batchLogs: Logs = { batch: step, size: batch.size, ...means.logs(), ...totals.metrics };
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
    // A stream's first full pass tells how many batches an epoch has (the progress bar's total).
    if (feed.steps === null && !model.stopTraining) feed.steps = params.steps = step;
    delete epochLogs.batch;
    delete epochLogs.size;
    if (feed.validate) {
      for (const [k, value] of Object.entries(await feed.validate())) epochLogs[`val_${k}`] = value;
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
  if (!strategy || strategy.size === 1) {
    checkEpochArgs(args);
    return runEpochs(model, compiled, tensorFeed(model, compiled, x, y, args, strategy), args, strategy);
  }
  try {
    checkEpochArgs(args);
    return await runEpochs(model, compiled, tensorFeed(model, compiled, x, y, args, strategy), args, strategy);
  } catch (e) {
    // The other ranks wait in a collective for this one: stop them all, with the reason.
    strategy.abort(`fit failed on rank ${strategy.rank} of ${strategy.size}: ${(e as Error).message}`);
    throw e; // abort() does not return; a strategy that did would still surface the error
  }
}

/** Keras `model.evaluate` for any model (see Model.evaluate). */
export function evaluate(
  model: TrainingHost,
  compiled: Compiled,
  x: unknown,
  y: unknown,
  args: EvaluateArgs = {},
): number | number[] | Logs {
  checkOptions('evaluate', args, ['batchSize', 'sampleWeight', 'returnDict']);
  const data = modelData(model, 'evaluate', x, y);
  const labelsChecked = checkData(
    model,
    compiled.targets.map((t) => t.loss),
    'evaluate',
    data,
  );
  const batchSize = resolveBatchSize(model, 'evaluate', args.batchSize, [[data.xs.labels[0]!, data.n]]);
  const sw = args.sampleWeight === undefined ? null : checkSampleWeight('evaluate', 'sampleWeight', args.sampleWeight, data.n);
  const logs = evaluateLogs(model, compiled, { xs: data.xs.tensors, ys: data.ys.tensors, sampleWeight: sw }, batchSize, labelsChecked);
  return args.returnDict ? logs : toResult(compiled, logs);
}

/** One optimization step on one batch (see Model.trainOnBatch). */
export function trainOnBatch(
  model: TrainingHost,
  compiled: Compiled,
  x: unknown,
  y: unknown,
  args: TrainOnBatchArgs = {},
): number | number[] {
  checkOptions('trainOnBatch', args, ['sampleWeight', 'classWeight']);
  const data = modelData(model, 'trainOnBatch', x, y);
  checkOnBatchSize(model, 'trainOnBatch', data.xs.tensors[0]!);
  const sw = args.sampleWeight === undefined ? null : checkSampleWeight('trainOnBatch', 'sampleWeight', args.sampleWeight, data.n);
  const classWeight = checkClassWeight('trainOnBatch', args.classWeight, model);
  const output = classWeight ? model.outputShapesFor(data.xs.tensors)[0]! : null;
  if (classWeight) checkClassWeightLabels('trainOnBatch', 'y', data.ys.tensors[0]!, output!);
  compiled.resetMetrics();
  const losses = scope(`${model.name}.trainOnBatch`, () => {
    const weights = batchWeights(data.ys.tensors[0]!, classWeight ? classWeightTable('trainOnBatch', classWeight, output!) : null, sw);
    return trainStep(model, compiled, data.xs.tensors, data.ys.tensors, weights, false);
  });
  return toResult(compiled, { ...Object.fromEntries(lossKeys(compiled).map((k, i) => [k, losses[i]!])), ...compiled.metricLogs() });
}

/** Loss and metrics on one batch, without updating the weights (see Model.testOnBatch). */
export function testOnBatch(
  model: TrainingHost,
  compiled: Compiled,
  x: unknown,
  y: unknown,
  args: { sampleWeight?: Tensor } = {},
): number | number[] {
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
    throw new Error(
      `inputGradients: needs a model of one input and one output; model ${model.name} has ${tensors.length} and ${model.outputNames.length}`,
    );
  }
  return scope(`${model.name}.inputGradients`, () => {
    const watched = clone(tensors[0]!);
    const { grads } = valueAndGrads(() => {
      const y = model.forward([watched], false)[0]!;
      if (y.rank !== 2) throw new Error(`inputGradients: the model output must be [batch, classes], got ${formatTensorShape(y.shape)}`);
      const classes = y.shape[1]!;
      if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
        throw new Error(
          `inputGradients: classIndex must be an integer in [0, ${classes - 1}] (the model outputs ${classes} classes), got ${classIndex}`,
        );
      }
      return sum(slice(y, [0, classIndex], [-1, 1]));
    }, [watched]);
    return grads[0]!;
  });
}

export type { LossIdentifier, MetricIdentifier, OptimizerIdentifier };
