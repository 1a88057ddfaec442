/**
 * Losses with Keras semantics. Each computes a per-sample loss of shape [n]
 * (averaging over any non-batch axes); `Loss.compute` then takes the weighted
 * mean over the batch as Keras' default 'sum_over_batch_size' reduction does:
 * sum(loss_i * w_i) / n.
 */
import {
  Tensor,
  abs,
  add,
  cast,
  clip,
  log,
  logSoftmax,
  mean,
  minimum,
  mul,
  neg,
  oneHot,
  relu,
  reshape,
  softplus,
  square,
  sub,
  sum,
  div,
  formatShape,
  noGrad,
  notEqual,
  where,
} from '@axon/tensor';
import { looseKey, resolveName } from './names.js';

/** Keras' backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before a log. */
export const EPSILON = 1e-7;

/**
 * A loss as a function: (yTrue, yPred) → per-sample losses [n] (other shapes are averaged per
 * sample; a scalar counts as one sample). Must be differentiable with respect to yPred.
 */
export type LossFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * The base class of losses (Keras `losses.Loss`): per-sample losses, reduced to their
 * (sample-weighted) mean over the batch. Pass one to `compile({ loss })` to set options, e.g.
 * `new CategoricalCrossentropy({ fromLogits: true })`.
 *
 * @example
 * ```ts
 * const loss = new Huber({ delta: 2 });
 * loss.compute(yTrue, yPred).item(); // the batch's mean loss
 * model.compile({ optimizer: 'adam', loss });
 * ```
 */
export abstract class Loss {
  /** The Keras snake_case name ('sparse_categorical_crossentropy'), as written to model.json. */
  abstract readonly name: string;
  /** The camelCase name ('sparseCategoricalCrossentropy') used in messages. */
  abstract readonly displayName: string;

  /** Per-sample losses [n]. Reads no values back from the device (labels are checked by `validate`). */
  abstract perSample(yTrue: Tensor, yPred: Tensor): Tensor;

  /**
   * Checks the label values (not just shapes): throws naming the first bad one. compute() calls
   * it unless told the labels were checked already, as fit does once for the whole data set.
   */
  validate(_yTrue: Tensor, _yPred: Tensor): void {}

  /** Options other than the defaults, camelCase (`{fromLogits: true}`); empty when all are default. */
  getConfig(): Record<string, number | boolean> {
    return {};
  }

  /** Scalar loss: the mean over the batch of perSample * sampleWeight. */
  compute(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null, options: { labelsChecked?: boolean } = {}): Tensor {
    if (!options.labelsChecked) this.validate(yTrue, yPred);
    const perSample = this.perSample(yTrue, yPred);
    return mean(sampleWeight ? mul(perSample, sampleWeight) : perSample);
  }
}

/** Averages everything but the batch axis: [n, ...] → [n] (losses and metrics share it). */
export function perSampleMean(x: Tensor): Tensor {
  if (x.rank <= 1) return x;
  return mean(reshape(x, [x.shape[0]!, -1]), 1);
}

function describe(t: Tensor): string {
  return formatShape(t.shape);
}

/**
 * Labels and predictions must have the same shape; labels of shape [n] are
 * accepted for predictions [n, 1] (and vice versa), as Keras does.
 */
function alignLabels(loss: string, yTrue: Tensor, yPred: Tensor): Tensor {
  if (yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === yPred.shape[i])) return yTrue;
  if (yTrue.size === yPred.size && yTrue.shape[0] === yPred.shape[0] && Math.abs(yTrue.rank - yPred.rank) === 1) {
    const longer = yTrue.rank > yPred.rank ? yTrue : yPred;
    if (longer.shape[longer.rank - 1] === 1) return reshape(yTrue, yPred.shape);
  }
  let hint = '';
  if (loss === 'categoricalCrossentropy' && yPred.rank === yTrue.rank + 1) {
    hint = ' (integer class labels need sparseCategoricalCrossentropy, or one-hot encode them)';
  }
  throw new Error(`${loss}: labels have shape ${describe(yTrue)} but the model outputs ${describe(yPred)}; they must match${hint}`);
}

function checkLabelSmoothing(loss: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new Error(`${loss}: labelSmoothing must be in [0, 1], got ${value}`);
  return value;
}

/** Mean squared error (Keras `MeanSquaredError`, `'mse'`): mean over non-batch axes of (yPred - yTrue)². */
export class MeanSquaredError extends Loss {
  readonly name = 'mean_squared_error';
  readonly displayName = 'meanSquaredError';
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    return perSampleMean(square(sub(yPred, alignLabels(this.displayName, yTrue, yPred))));
  }
}

/** Mean absolute error (Keras `MeanAbsoluteError`, `'mae'`): mean over non-batch axes of |yPred - yTrue|. */
export class MeanAbsoluteError extends Loss {
  readonly name = 'mean_absolute_error';
  readonly displayName = 'meanAbsoluteError';
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    return perSampleMean(abs(sub(yPred, alignLabels(this.displayName, yTrue, yPred))));
  }
}

/** 0.5 e² where |e| <= delta, else delta (|e| - 0.5 delta) (Keras `Huber`, `'huber'`). */
export class Huber extends Loss {
  readonly name = 'huber';
  readonly displayName = 'huber';
  /** Where the loss turns from quadratic to linear. */
  readonly delta: number;
  /**
   * @param options - `delta` (default 1).
   * @throws Error if delta is not positive.
   */
  constructor(options: { delta?: number } = {}) {
    super();
    this.delta = options.delta ?? 1;
    if (!(this.delta > 0)) throw new Error(`huber: delta must be > 0, got ${options.delta}`);
  }
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    const error = abs(sub(yPred, alignLabels(this.displayName, yTrue, yPred)));
    const quadratic = minimum(error, this.delta);
    const linear = sub(error, quadratic);
    return perSampleMean(add(mul(square(quadratic), 0.5), mul(linear, this.delta)));
  }
  override getConfig(): Record<string, number | boolean> {
    return this.delta === 1 ? {} : { delta: this.delta };
  }
}

interface CrossentropyOptions {
  /** The model outputs logits (no sigmoid/softmax); the loss applies it, stably. */
  fromLogits?: boolean;
  /** Mixes the labels with the uniform distribution: y (1 - s) + s / classes (binary: + s / 2). */
  labelSmoothing?: number;
}

/** Binary and categorical crossentropy: their options, checked, and their config (the non-default options). */
abstract class CrossentropyLoss extends Loss {
  /** Whether predictions are logits. */
  readonly fromLogits: boolean;
  /** The label smoothing factor in [0, 1]. */
  readonly labelSmoothing: number;
  constructor(
    /** The Keras snake_case name. */
    readonly name: string,
    /** The camelCase name used in messages. */
    readonly displayName: string,
    options: CrossentropyOptions,
  ) {
    super();
    this.fromLogits = options.fromLogits ?? false;
    this.labelSmoothing = checkLabelSmoothing(displayName, options.labelSmoothing ?? 0);
  }
  override getConfig(): Record<string, number | boolean> {
    const config: Record<string, number | boolean> = {};
    if (this.fromLogits) config.fromLogits = true;
    if (this.labelSmoothing) config.labelSmoothing = this.labelSmoothing;
    return config;
  }
}

/**
 * Binary cross-entropy (Keras `BinaryCrossentropy`, `'binaryCrossentropy'`): for labels in [0, 1]
 * against probabilities (sigmoid outputs), or logits with `fromLogits`. Probabilities are clipped
 * to [EPSILON, 1 - EPSILON].
 */
export class BinaryCrossentropy extends CrossentropyLoss {
  /**
   * @param options - `fromLogits` (default false) and `labelSmoothing` (default 0).
   * @throws Error if labelSmoothing is not in [0, 1].
   */
  constructor(options: CrossentropyOptions = {}) {
    super('binary_crossentropy', 'binaryCrossentropy', options);
  }
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    let z = alignLabels(this.displayName, yTrue, yPred);
    if (this.labelSmoothing > 0) z = add(mul(z, 1 - this.labelSmoothing), 0.5 * this.labelSmoothing);
    let loss: Tensor;
    if (this.fromLogits) {
      // max(x, 0) - x z + log(1 + exp(-|x|)): never overflows.
      loss = add(sub(relu(yPred), mul(yPred, z)), softplus(neg(abs(yPred))));
    } else {
      const p = clip(yPred, EPSILON, 1 - EPSILON);
      loss = neg(add(mul(z, log(p)), mul(sub(1, z), log(sub(1, p)))));
    }
    return perSampleMean(loss);
  }
}

/**
 * labels · log p, with 0 where a label is 0 (0·log 0 = 0, as in the definition of entropy). Logits
 * far apart (say [2e38, -2e38]) give a log-probability of -Infinity in float32; a class the labels
 * give no weight must then add 0 to the loss, not 0·(-Infinity) = NaN.
 */
function labelsTimesLogProbabilities(labels: Tensor, logp: Tensor): Tensor {
  return where(notEqual(labels, 0), mul(labels, logp), 0);
}

/** log-probabilities over the last axis, from logits or from probabilities (renormalised and clipped, as Keras). */
function logProbabilities(yPred: Tensor, fromLogits: boolean): Tensor {
  if (fromLogits) return logSoftmax(yPred, -1);
  const p = div(yPred, sum(yPred, -1, true));
  return log(clip(p, EPSILON, 1 - EPSILON));
}

/**
 * Categorical cross-entropy (Keras `CategoricalCrossentropy`, `'categoricalCrossentropy'`):
 * one-hot (or probability) labels [n, classes] against a softmax output, or logits with
 * `fromLogits`. For integer labels use {@link SparseCategoricalCrossentropy}.
 */
export class CategoricalCrossentropy extends CrossentropyLoss {
  /**
   * @param options - `fromLogits` (default false) and `labelSmoothing` (default 0).
   * @throws Error if labelSmoothing is not in [0, 1].
   */
  constructor(options: CrossentropyOptions = {}) {
    super('categorical_crossentropy', 'categoricalCrossentropy', options);
  }
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    let y = alignLabels(this.displayName, yTrue, yPred);
    const classes = yPred.shape[yPred.rank - 1]!;
    if (this.labelSmoothing > 0) y = add(mul(y, 1 - this.labelSmoothing), this.labelSmoothing / classes);
    return perSampleMean(neg(sum(labelsTimesLogProbabilities(y, logProbabilities(yPred, this.fromLogits)), -1)));
  }
}

/**
 * Integer class labels (int32 or integral floats) of shape [n] or [n, 1]
 * against class scores [n, classes]. Labels are checked: a label outside
 * [0, classes) is an error naming it, where it is, and the valid range.
 */
export class SparseCategoricalCrossentropy extends Loss {
  readonly name = 'sparse_categorical_crossentropy';
  readonly displayName = 'sparseCategoricalCrossentropy';
  /** Whether predictions are logits (softmax applied by the loss). */
  readonly fromLogits: boolean;
  /** @param options - `fromLogits` (default false). */
  constructor(options: { fromLogits?: boolean } = {}) {
    super();
    this.fromLogits = options.fromLogits ?? false;
  }
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    const classes = yPred.shape[yPred.rank - 1]!;
    const rows = yPred.size / classes;
    if (yPred.rank < 2) {
      throw new Error(`${this.displayName}: the model output must be [batch, classes], got ${describe(yPred)}`);
    }
    if (yTrue.size !== rows || yTrue.shape[0] !== yPred.shape[0]) {
      throw new Error(
        `${this.displayName}: labels of shape ${describe(yTrue)} do not fit the model output ${describe(yPred)}: ` +
          `expected one integer class label per sample, shape [${yPred.shape.slice(0, -1).join(',')}] or [${yPred.shape.slice(0, -1).join(',')},1]`,
      );
    }
    // On the device: labels were checked (validate) to be integers in [0, classes).
    const mask = noGrad(() => oneHot(cast(reshape(yTrue, [rows]), 'int32'), classes));
    const logp = reshape(logProbabilities(yPred, this.fromLogits), [rows, classes]);
    const perRow = neg(sum(labelsTimesLogProbabilities(mask, logp), -1));
    return perSampleMean(reshape(perRow, [yPred.shape[0]!, -1]));
  }
  override validate(yTrue: Tensor, yPred: Tensor): void {
    checkSparseLabels(this.displayName, yTrue, yPred.shape[yPred.rank - 1]!);
  }
  override getConfig(): Record<string, number | boolean> {
    return this.fromLogits ? { fromLogits: true } : {};
  }
}

/** Checks that each label is an integer in [0, classes) (reading the labels to the host). */
export function checkSparseLabels(loss: string, yTrue: Tensor, classes: number): void {
  const values = yTrue.dtype === 'int32' ? yTrue.intDataSync() : yTrue.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      const what = Number.isInteger(v) ? `label ${v}` : `label ${v} (not an integer)`;
      throw new Error(
        `${loss}: ${what} at index ${i} is out of range: valid labels are integers 0..${classes - 1} ` +
          `(the model outputs ${classes} classes)`,
      );
    }
  }
}

/** A user loss function (yTrue, yPred) → per-sample losses [n] (or any shape, averaged per sample). */
class FunctionLoss extends Loss {
  readonly name: string;
  readonly displayName: string;
  constructor(private readonly fn: LossFunction) {
    super();
    this.name = fn.name || 'custom_loss';
    this.displayName = this.name;
  }
  perSample(yTrue: Tensor, yPred: Tensor): Tensor {
    const value = this.fn(yTrue, yPred);
    if (!(value instanceof Tensor)) throw new Error(`Loss function ${this.name} must return a Tensor, got ${typeof value}`);
    return value.rank === 0 ? reshape(value, [1]) : perSampleMean(value);
  }
}

type LossFactory = (config?: Record<string, unknown>) => Loss;

const LOSSES: [string[], LossFactory][] = [
  [['meanSquaredError', 'mse', 'mean_squared_error'], () => new MeanSquaredError()],
  [['meanAbsoluteError', 'mae', 'mean_absolute_error'], () => new MeanAbsoluteError()],
  [['huber', 'huber_loss'], (c) => new Huber(c as { delta?: number })],
  [['binaryCrossentropy', 'binary_crossentropy'], (c) => new BinaryCrossentropy(c as CrossentropyOptions)],
  [['categoricalCrossentropy', 'categorical_crossentropy'], (c) => new CategoricalCrossentropy(c as CrossentropyOptions)],
  [
    ['sparseCategoricalCrossentropy', 'sparse_categorical_crossentropy'],
    (c) => new SparseCategoricalCrossentropy(c as { fromLogits?: boolean }),
  ],
];
const LOSS_TABLE = new Map<string, LossFactory>(LOSSES.flatMap(([names, f]) => names.map((n) => [looseKey(n), f] as const)));
/** Every accepted loss name (camelCase and Keras snake_case). */
export const LOSS_NAMES: readonly string[] = LOSSES.flatMap(([names]) => names);

/** A loss as compile() accepts it: a name (see {@link LOSS_NAMES}), a {@link Loss}, or a {@link LossFunction}. */
export type LossIdentifier = string | Loss | LossFunction;

/**
 * A loss from a name ('mse', 'sparse_categorical_crossentropy', ...), a Loss instance or a function.
 * `config` sets a named loss's options (`{ fromLogits: true }`, `{ delta: 2 }`).
 *
 * @throws Error listing the valid names if the name is unknown or the identifier is not a loss.
 */
export function getLoss(identifier: LossIdentifier, config: Record<string, unknown> = {}): Loss {
  if (identifier instanceof Loss) return identifier;
  if (typeof identifier === 'function') return new FunctionLoss(identifier);
  if (typeof identifier !== 'string') {
    throw new Error(`loss must be a name (${LOSS_NAMES.join(', ')}), a Loss or a function, got ${JSON.stringify(identifier)}`);
  }
  return resolveName('loss', identifier, LOSS_TABLE, LOSS_NAMES)(config);
}

function describeArgument(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor ${formatShape(value.shape)}`;
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * losses.<name>(yTrue, yPred, options?) → the scalar loss Tensor (the mean over the batch), as
 * tf.losses.<name>(labels, predictions) computes it. A configured Loss object is a class
 * (`new Huber({delta: 2})`), as in Keras; calling these without tensors is an error, not a factory.
 */
function lossFunction<O extends object>(
  name: string,
  className: string,
  make: (options?: O) => Loss,
): (yTrue: Tensor, yPred: Tensor, options?: O) => Tensor {
  return (yTrue: Tensor, yPred: Tensor, options?: O): Tensor => {
    if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) {
      throw new Error(
        `losses.${name}(yTrue, yPred) computes the loss as a Tensor (as tf.losses.${name} does), ` +
          `got (${describeArgument(yTrue)}, ${describeArgument(yPred)}); for a loss object to compile with, use new ${className}(...) or the name '${name}'`,
      );
    }
    return make(options).compute(yTrue, yPred);
  };
}

/**
 * The tf.losses / keras.losses namespace: lower-camel functions compute a loss from
 * (yTrue, yPred) and return a scalar Tensor, as tf.losses does; the PascalCase classes make
 * configured Loss objects, as keras.losses does.
 */
export const losses = {
  /** The mean squared error of (yTrue, yPred) as a scalar Tensor. */
  meanSquaredError: lossFunction('meanSquaredError', 'MeanSquaredError', () => new MeanSquaredError()),
  /** The mean absolute error of (yTrue, yPred) as a scalar Tensor. */
  meanAbsoluteError: lossFunction('meanAbsoluteError', 'MeanAbsoluteError', () => new MeanAbsoluteError()),
  /** The Huber loss of (yTrue, yPred) as a scalar Tensor; options `{ delta }`. */
  huber: lossFunction('huber', 'Huber', (o?: { delta?: number }) => new Huber(o)),
  /** The binary cross-entropy of (yTrue, yPred) as a scalar Tensor; options `{ fromLogits, labelSmoothing }`. */
  binaryCrossentropy: lossFunction('binaryCrossentropy', 'BinaryCrossentropy', (o?: CrossentropyOptions) => new BinaryCrossentropy(o)),
  /** The categorical cross-entropy of (yTrue, yPred) as a scalar Tensor; options `{ fromLogits, labelSmoothing }`. */
  categoricalCrossentropy: lossFunction(
    'categoricalCrossentropy',
    'CategoricalCrossentropy',
    (o?: CrossentropyOptions) => new CategoricalCrossentropy(o),
  ),
  /** The sparse categorical cross-entropy of (yTrue, yPred) as a scalar Tensor; options `{ fromLogits }`. */
  sparseCategoricalCrossentropy: lossFunction(
    'sparseCategoricalCrossentropy',
    'SparseCategoricalCrossentropy',
    (o?: { fromLogits?: boolean }) => new SparseCategoricalCrossentropy(o),
  ),
  /** The {@link MeanSquaredError} class. */
  MeanSquaredError,
  /** The {@link MeanAbsoluteError} class. */
  MeanAbsoluteError,
  /** The {@link Huber} class. */
  Huber,
  /** The {@link BinaryCrossentropy} class. */
  BinaryCrossentropy,
  /** The {@link CategoricalCrossentropy} class. */
  CategoricalCrossentropy,
  /** The {@link SparseCategoricalCrossentropy} class. */
  SparseCategoricalCrossentropy,
};
