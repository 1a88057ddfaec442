/**
 * Metrics with Keras semantics: each accumulates over an epoch (reset at its
 * start) and reports one number. Mean metrics average a per-sample value over
 * every sample seen; precision and recall accumulate true/false positive
 * counts. Metrics are computed without gradients and ignore sample weights
 * (Keras' `metrics`, as opposed to `weighted_metrics`).
 */
import { Tensor, abs, argMax, equal, formatShape, greater, mean, mul, noGrad, notEqual, reshape, stack, sub, sum } from '@axon/tensor';
import { getLoss, perSampleMean, type Loss } from './losses.js';
import { looseKey } from './names.js';

/**
 * A metric that accumulates over an epoch (Keras `metrics.Metric`): fit resets it at each epoch's
 * start, updates it after each batch and logs result() under its name. Pass one in
 * `compile({ metrics })`; any object with these members will do.
 *
 * @example
 * ```ts
 * // The largest absolute error seen in the epoch.
 * class MaxError implements Metric {
 *   readonly name = 'max_error';
 *   private worst = 0;
 *   reset(): void { this.worst = 0; }
 *   update(yTrue: Tensor, yPred: Tensor): void {
 *     this.worst = Math.max(this.worst, max(abs(sub(yPred, yTrue))).item());
 *   }
 *   result(): number { return this.worst; }
 * }
 * model.compile({ optimizer: 'adam', loss: 'mse', metrics: [new MaxError()] });
 * ```
 */
export interface Metric {
  /** The key under which fit/evaluate report it: the name the user gave ('acc', 'accuracy', 'mse', ...). */
  readonly name: string;
  /** Forgets everything accumulated (fit calls it at the start of each epoch and of each evaluation). */
  reset(): void;
  /** Accumulates one batch: labels and the model's predictions. Runs without gradients. */
  update(yTrue: Tensor, yPred: Tensor): void;
  /** The value over everything accumulated since reset(). */
  result(): number;
  /**
   * Optional: the update split in two, its values as tensors on the device and how to fold their
   * host values in, so that a training step reads the loss and every metric with one transfer
   * (one synchronisation of a device) instead of one each.
   */
  pendingUpdate?(yTrue: Tensor, yPred: Tensor): PendingUpdate;
}

/** A metric update waiting for its values: `values` on the device, `commit` with the same values read back. */
export interface PendingUpdate {
  readonly values: readonly Tensor[];
  commit(read: ArrayLike<number>): void;
}

/** A metric as a function: (yTrue, yPred) → per-sample values [n] (other shapes are averaged per sample). */
export type MetricFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Averages a per-sample value over all samples seen since reset() (Keras `MeanMetricWrapper`).
 *
 * @example
 * ```ts
 * const within10 = new MeanMetric('within_10', (yTrue, yPred) => lessEqual(abs(sub(yPred, yTrue)), 10));
 * model.compile({ optimizer: 'adam', loss: 'mae', metrics: [within10] });
 * ```
 */
export class MeanMetric implements Metric {
  private total = 0;
  private count = 0;
  /**
   * @param name - The key it is logged under.
   * @param fn - Per-sample values from (yTrue, yPred).
   */
  constructor(
    readonly name: string,
    private readonly fn: MetricFunction,
  ) {}
  reset(): void {
    this.total = 0;
    this.count = 0;
  }
  update(yTrue: Tensor, yPred: Tensor): void {
    const pending = this.pendingUpdate(yTrue, yPred);
    pending.commit([pending.values[0]!.item()]);
  }
  /** See {@link Metric.pendingUpdate}. */
  pendingUpdate(yTrue: Tensor, yPred: Tensor): PendingUpdate {
    return noGrad(() => {
      const values = perSampleMean(this.fn(yTrue, yPred));
      return {
        values: [sum(values)],
        commit: (read: ArrayLike<number>) => {
          this.total += read[0]!;
          this.count += values.size;
        },
      };
    });
  }
  result(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }
}

function sameShape(metric: string, yTrue: Tensor, yPred: Tensor): Tensor {
  if (yTrue.size === yPred.size && yTrue.shape[0] === yPred.shape[0]) return reshape(yTrue, yPred.shape);
  throw new Error(
    `${metric}: labels have shape ${formatShape(yTrue.shape)} but the model outputs ${formatShape(yPred.shape)}; they must match`,
  );
}

/** Mean over the last axis, as tfjs-layers' metrics reduce: [n, C] → [n]; [n] stays [n]. */
function meanLastAxis(x: Tensor): Tensor {
  return x.rank <= 1 ? x : mean(x, -1);
}

/** Per sample (as tf.metrics.binaryAccuracy): the fraction of elements where (yPred > threshold) equals the label. */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  return meanLastAxis(equal(sameShape('binaryAccuracy', yTrue, yPred), greater(yPred, threshold)));
}

/** Per sample: 1 where the arg-max of the one-hot label equals the arg-max of the prediction. */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return equal(argMax(sameShape('categoricalAccuracy', yTrue, yPred), -1), argMax(yPred, -1));
}

/** Per sample: 1 where the integer label equals the arg-max of the prediction. */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const predicted = argMax(yPred, -1);
  if (yTrue.size !== predicted.size) {
    throw new Error(
      `sparseCategoricalAccuracy: labels of shape ${formatShape(yTrue.shape)} do not fit the model output ${formatShape(yPred.shape)}: ` +
        'expected one integer class label per sample',
    );
  }
  return equal(reshape(yTrue, predicted.shape), predicted);
}

/** Per sample: the mean over the last axis of (yPred - yTrue)². */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor): Tensor {
  const d = sub(yPred, sameShape('mse', yTrue, yPred));
  return meanLastAxis(mul(d, d));
}

/** Per sample: the mean over the last axis of |yPred - yTrue|. */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor): Tensor {
  return meanLastAxis(abs(sub(yPred, sameShape('mae', yTrue, yPred))));
}

/**
 * Keras' 'accuracy': binary when the model has one output unit or the loss is
 * binary cross-entropy; sparse when the labels have one value per sample
 * (or the loss is sparse categorical cross-entropy); categorical otherwise.
 */
class Accuracy extends MeanMetric {
  constructor(name: string, loss: Loss | null) {
    let chosen: MetricFunction | null = null;
    const lossName = loss?.name;
    if (lossName === 'binary_crossentropy') chosen = binaryAccuracy;
    else if (lossName === 'sparse_categorical_crossentropy') chosen = sparseCategoricalAccuracy;
    else if (lossName === 'categorical_crossentropy') chosen = categoricalAccuracy;
    super(name, (yTrue, yPred) => {
      chosen ??=
        yPred.shape[yPred.rank - 1] === 1
          ? binaryAccuracy
          : yTrue.size * yPred.shape[yPred.rank - 1]! === yPred.size && yTrue.size !== yPred.size
            ? sparseCategoricalAccuracy
            : categoricalAccuracy;
      return chosen(yTrue, yPred);
    });
  }
}

/** Precision (tp / (tp + fp)) or recall (tp / (tp + fn)) of predictions thresholded at 0.5, over all elements. */
class ConfusionMetric implements Metric {
  private tp = 0;
  private fp = 0;
  private fn = 0;
  constructor(
    /** The key it is logged under. */
    readonly name: string,
    private readonly kind: 'precision' | 'recall',
    private readonly threshold = 0.5,
  ) {}
  /** Zeroes the true-positive, false-positive and false-negative counts. */
  reset(): void {
    this.tp = this.fp = this.fn = 0;
  }
  /** Adds a batch's counts: labels are positive where not 0, predictions where above the threshold. */
  update(yTrue: Tensor, yPred: Tensor): void {
    const pending = this.pendingUpdate(yTrue, yPred);
    pending.commit(stack([...pending.values]).toArray() as number[]);
  }
  /** See {@link Metric.pendingUpdate}. */
  pendingUpdate(yTrue: Tensor, yPred: Tensor): PendingUpdate {
    return noGrad(() => {
      const labels = notEqual(sameShape(this.kind, yTrue, yPred), 0);
      const predicted = greater(yPred, this.threshold);
      return {
        values: [sum(mul(labels, predicted)), sum(predicted), sum(labels)],
        commit: (read: ArrayLike<number>) => {
          const [tp, predictedTotal, labelTotal] = [read[0]!, read[1]!, read[2]!];
          this.tp += tp;
          this.fp += predictedTotal - tp;
          this.fn += labelTotal - tp;
        },
      };
    });
  }
  /** tp / (tp + fp) for precision, tp / (tp + fn) for recall; 0 when the denominator is 0. */
  result(): number {
    const denominator = this.tp + (this.kind === 'precision' ? this.fp : this.fn);
    return denominator === 0 ? 0 : this.tp / denominator;
  }
}

type MetricFactory = (name: string, loss: Loss | null) => Metric;

const METRICS: [string[], MetricFactory][] = [
  [['accuracy', 'acc'], (n, loss) => new Accuracy(n, loss)],
  [['binaryAccuracy', 'binary_accuracy'], (n) => new MeanMetric(n, binaryAccuracy)],
  [['categoricalAccuracy', 'categorical_accuracy'], (n) => new MeanMetric(n, categoricalAccuracy)],
  [['sparseCategoricalAccuracy', 'sparse_categorical_accuracy'], (n) => new MeanMetric(n, sparseCategoricalAccuracy)],
  [['mse', 'meanSquaredError', 'mean_squared_error'], (n) => new MeanMetric(n, meanSquaredError)],
  [['mae', 'meanAbsoluteError', 'mean_absolute_error'], (n) => new MeanMetric(n, meanAbsoluteError)],
  [['precision'], (n) => new ConfusionMetric(n, 'precision')],
  [['recall'], (n) => new ConfusionMetric(n, 'recall')],
  ...[
    'binaryCrossentropy',
    'binary_crossentropy',
    'categoricalCrossentropy',
    'categorical_crossentropy',
    'sparseCategoricalCrossentropy',
    'sparse_categorical_crossentropy',
    'huber',
  ].map((lossName): [string[], MetricFactory] => [
    [lossName],
    (n) => {
      const loss = getLoss(lossName);
      return new MeanMetric(n, (yTrue, yPred) => {
        loss.validate(yTrue, yPred);
        return loss.perSample(yTrue, yPred);
      });
    },
  ]),
];
const METRIC_TABLE = new Map<string, MetricFactory>(METRICS.flatMap(([names, f]) => names.map((n) => [looseKey(n), f] as const)));
/** Every accepted metric name. */
export const METRIC_NAMES: readonly string[] = METRICS.flatMap(([names]) => names);

/** A metric as compile() accepts it: a name (see {@link METRIC_NAMES}), a {@link Metric}, or a {@link MetricFunction}. */
export type MetricIdentifier = string | Metric | MetricFunction;

/**
 * A metric from a name, a Metric, or a function (yTrue, yPred) → per-sample
 * values (averaged). `loss` lets 'accuracy' pick the right kind. A name's metric is logged
 * under that name as given; a function's under its function name (else 'custom_metric').
 *
 * @throws Error listing the valid names if the name is unknown or the identifier is not a metric.
 */
export function getMetric(identifier: MetricIdentifier, loss: Loss | null = null): Metric {
  if (typeof identifier === 'string') {
    const factory = METRIC_TABLE.get(looseKey(identifier));
    if (!factory) throw new Error(`Unknown metric '${identifier}'. Valid metric names: ${METRIC_NAMES.join(', ')}`);
    return factory(identifier, loss);
  }
  if (typeof identifier === 'function') return new MeanMetric(identifier.name || 'custom_metric', identifier);
  if (identifier && typeof identifier === 'object' && typeof identifier.update === 'function' && typeof identifier.result === 'function') {
    return identifier;
  }
  throw new Error(
    `metrics must contain names (${METRIC_NAMES.join(', ')}), Metric objects or functions, got ${JSON.stringify(identifier)}`,
  );
}

/** Keras' BinaryAccuracy: the mean over samples of binaryAccuracy (threshold default 0.5). */
export class BinaryAccuracy extends MeanMetric {
  /** @param options - `name` (default 'binary_accuracy') and `threshold` (default 0.5). */
  constructor(options: { name?: string; threshold?: number } = {}) {
    const threshold = options.threshold ?? 0.5;
    super(options.name ?? 'binary_accuracy', (yTrue, yPred) => binaryAccuracy(yTrue, yPred, threshold));
  }
}

/** Keras' CategoricalAccuracy: the mean over samples of categoricalAccuracy (one-hot labels); name default 'categorical_accuracy'. */
export class CategoricalAccuracy extends MeanMetric {
  /** @param options - `name`: the key it is logged under. */
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'categorical_accuracy', categoricalAccuracy);
  }
}

/** Keras' SparseCategoricalAccuracy: the mean over samples of sparseCategoricalAccuracy (integer labels); name default 'sparse_categorical_accuracy'. */
export class SparseCategoricalAccuracy extends MeanMetric {
  /** @param options - `name`: the key it is logged under. */
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'sparse_categorical_accuracy', sparseCategoricalAccuracy);
  }
}

/** The metric MeanSquaredError (the loss of that name is a different class, as in Keras: metrics.MeanSquaredError). */
class MeanSquaredErrorMetric extends MeanMetric {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mean_squared_error', meanSquaredError);
  }
}

class MeanAbsoluteErrorMetric extends MeanMetric {
  constructor(options: { name?: string } = {}) {
    super(options.name ?? 'mean_absolute_error', meanAbsoluteError);
  }
}

/**
 * Keras' Precision: tp / (tp + fp) over every element seen in the epoch, predictions thresholded
 * (default 0.5). For binary (or multi-label) outputs.
 */
export class Precision extends ConfusionMetric {
  /** @param options - `name` (default 'precision') and `threshold` (default 0.5). */
  constructor(options: { name?: string; threshold?: number } = {}) {
    super(options.name ?? 'precision', 'precision', options.threshold);
  }
}

/**
 * Keras' Recall: tp / (tp + fn) over every element seen in the epoch, predictions thresholded
 * (default 0.5). For binary (or multi-label) outputs.
 */
export class Recall extends ConfusionMetric {
  /** @param options - `name` (default 'recall') and `threshold` (default 0.5). */
  constructor(options: { name?: string; threshold?: number } = {}) {
    super(options.name ?? 'recall', 'recall', options.threshold);
  }
}

function describeArgument(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor ${formatShape(value.shape)}`;
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}

/** Wraps fn so that calling it without two tensors (the old factory style) is a clear error. */
function metricFunction<A extends unknown[]>(name: string, className: string, fn: (yTrue: Tensor, yPred: Tensor, ...rest: A) => Tensor) {
  return (yTrue: Tensor, yPred: Tensor, ...rest: A): Tensor => {
    if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) {
      throw new Error(
        `metrics.${name}(yTrue, yPred) computes the metric as a Tensor (as tf.metrics.${name} does), ` +
          `got (${describeArgument(yTrue)}, ${describeArgument(yPred)}); for a Metric object to compile with, use new metrics.${className}() or the name '${name}'`,
      );
    }
    return fn(yTrue, yPred, ...rest);
  };
}

/** precision / recall of (yTrue, yPred) as a scalar Tensor, as tf.metrics.precision computes it. */
function confusionValue(kind: 'precision' | 'recall', yTrue: Tensor, yPred: Tensor): Tensor {
  const m = new ConfusionMetric(kind, kind);
  m.update(yTrue, yPred);
  return new Tensor(Float32Array.of(m.result()), []);
}

const crossentropy =
  (name: string) =>
  (yTrue: Tensor, yPred: Tensor): Tensor => {
    const loss = getLoss(name);
    loss.validate(yTrue, yPred);
    return loss.perSample(yTrue, yPred);
  };

/**
 * The tf.metrics / keras.metrics namespace: lower-camel functions compute a metric from
 * (yTrue, yPred) and return a Tensor as tf.metrics does (per sample, [n], for the accuracies,
 * errors and cross-entropies; a scalar for precision and recall); the PascalCase classes make
 * Metric objects that accumulate over an epoch, as keras.metrics does.
 */
export const metrics = {
  /** Per sample [n]: the fraction of elements where (yPred > threshold, default 0.5) equals the label. */
  binaryAccuracy: metricFunction('binaryAccuracy', 'BinaryAccuracy', (t, p, threshold?: number) => binaryAccuracy(t, p, threshold)),
  /** Per sample [n]: 1 where the arg-max of the one-hot label equals that of the prediction. */
  categoricalAccuracy: metricFunction('categoricalAccuracy', 'CategoricalAccuracy', categoricalAccuracy),
  /** Per sample [n]: 1 where the integer label equals the arg-max of the prediction. */
  sparseCategoricalAccuracy: metricFunction('sparseCategoricalAccuracy', 'SparseCategoricalAccuracy', sparseCategoricalAccuracy),
  /** Per sample [n]: the mean over the last axis of (yPred - yTrue)². */
  meanSquaredError: metricFunction('meanSquaredError', 'MeanSquaredError', meanSquaredError),
  /** Per sample [n]: the mean over the last axis of |yPred - yTrue|. */
  meanAbsoluteError: metricFunction('meanAbsoluteError', 'MeanAbsoluteError', meanAbsoluteError),
  /** Per sample [n]: the binary cross-entropy (labels checked). */
  binaryCrossentropy: metricFunction('binaryCrossentropy', 'MeanMetric', crossentropy('binaryCrossentropy')),
  /** Per sample [n]: the categorical cross-entropy (labels checked). */
  categoricalCrossentropy: metricFunction('categoricalCrossentropy', 'MeanMetric', crossentropy('categoricalCrossentropy')),
  /** Per sample [n]: the sparse categorical cross-entropy (labels checked). */
  sparseCategoricalCrossentropy: metricFunction(
    'sparseCategoricalCrossentropy',
    'MeanMetric',
    crossentropy('sparseCategoricalCrossentropy'),
  ),
  /** A scalar: the precision of predictions thresholded at 0.5. */
  precision: metricFunction('precision', 'Precision', (t, p) => confusionValue('precision', t, p)),
  /** A scalar: the recall of predictions thresholded at 0.5. */
  recall: metricFunction('recall', 'Recall', (t, p) => confusionValue('recall', t, p)),
  /** The {@link BinaryAccuracy} class. */
  BinaryAccuracy,
  /** The {@link CategoricalAccuracy} class. */
  CategoricalAccuracy,
  /** The {@link SparseCategoricalAccuracy} class. */
  SparseCategoricalAccuracy,
  /** The MeanSquaredError metric class (a MeanMetric of meanSquaredError; name default 'mean_squared_error'). */
  MeanSquaredError: MeanSquaredErrorMetric,
  /** The MeanAbsoluteError metric class (a MeanMetric of meanAbsoluteError; name default 'mean_absolute_error'). */
  MeanAbsoluteError: MeanAbsoluteErrorMetric,
  /** The {@link Precision} class. */
  Precision,
  /** The {@link Recall} class. */
  Recall,
  /** The {@link MeanMetric} class. */
  MeanMetric,
};
