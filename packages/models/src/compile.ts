/**
 * compile(): the optimizer, each output's loss and loss weight, and the metrics with the keys fit
 * and evaluate log them under — given once for all outputs, as an array in output order, or as an
 * object by output name.
 */
import { closestOption, checkOptions } from '@axon/layers';
import type { Logs } from './callbacks.js';
import { getLoss, type Loss, type LossIdentifier } from './losses.js';
import { getMetric, type Metric, type MetricIdentifier } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from './optimizers.js';
import { describe, type TrainingHost } from './training-data.js';

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

const isLossId = (v: unknown): v is LossIdentifier =>
  typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && 'compute' in v);
const isMetricId = (v: unknown): v is MetricIdentifier =>
  typeof v === 'string' || typeof v === 'function' || (v !== null && typeof v === 'object' && 'update' in v && 'result' in v);

/**
 * compile's metrics as one list per output: nothing, one metric or a flat list apply to every output
 * (as tfjs); an array of lists (in output order) or an object by output name choose per output.
 */
function metricsPerOutput(metrics: CompileArgs['metrics'], names: string[]): MetricIdentifier[][] {
  const asList = (v: MetricIdentifier | MetricIdentifier[]): MetricIdentifier[] => (Array.isArray(v) ? v : [v]);
  if (metrics === undefined || metrics === null) return names.map(() => []);
  if (isMetricId(metrics) || (Array.isArray(metrics) && !metrics.some(Array.isArray))) {
    return names.map(() => asList(metrics as MetricIdentifier | MetricIdentifier[]));
  }
  const perName = metrics as MetricIdentifier[][] | { [output: string]: MetricIdentifier | MetricIdentifier[] };
  return perOutput('compile', 'metrics', perName, names, (v): v is never => false, []).map(asList);
}

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

    const metricIds = metricsPerOutput(args.metrics, names);
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
