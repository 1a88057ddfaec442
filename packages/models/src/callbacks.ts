/**
 * Callbacks with Keras semantics. A callback is a `Callback` subclass or a
 * plain object with any of the hooks; hooks may be async (fit awaits them).
 * Epochs are 0-based in hooks, as in Keras and TensorFlow.js.
 */
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Tensor } from '@axon/tensor';

export type Logs = Record<string, number>;

/** What a callback can reach of the model being trained (Sequential implements it). */
export interface TrainableModel {
  stopTraining: boolean;
  getWeights(): Tensor[];
  setWeights(weights: readonly Tensor[]): void;
  save(path: string): Promise<void>;
  readonly optimizer: { learningRate: number } | null;
}

export interface TrainingParams {
  epochs: number;
  initialEpoch: number;
  /** Batches per epoch. */
  steps: number;
  samples: number;
  batchSize: number;
  verbose: number;
  /** Names of the logged values ('loss', 'accuracy', 'val_loss', ...). */
  metrics: string[];
}

export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

// The interface adds the optional hooks to the class without making subclasses declare them all.
export interface Callback extends CallbackHooks {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface only declares optional hooks
export abstract class Callback {
  model: TrainableModel | null = null;
  params: TrainingParams | null = null;
  setModel(model: TrainableModel): void {
    this.model = model;
  }
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  protected requireModel(): TrainableModel {
    if (!this.model) throw new Error(`${this.constructor.name}: not attached to a model (pass it in fit({callbacks}))`);
    return this.model;
  }
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/** Dispatches each hook to every callback in order, awaiting each. */
export class CallbackList {
  constructor(readonly callbacks: CallbackHooks[]) {
    callbacks.forEach((cb, i) => {
      if (typeof cb !== 'object' || cb === null || !HOOKS.some((h) => typeof cb[h] === 'function')) {
        throw new Error(
          `callbacks[${i}] must be a Callback or an object with at least one of ${HOOKS.join(', ')}, got ${JSON.stringify(cb)}`,
        );
      }
    });
  }
  setModel(model: TrainableModel): void {
    for (const cb of this.callbacks) if (cb instanceof Callback) cb.setModel(model);
  }
  setParams(params: TrainingParams): void {
    for (const cb of this.callbacks) if (cb instanceof Callback) cb.setParams(params);
  }
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainBegin?.(logs);
  }
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainEnd?.(logs);
  }
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochBegin?.(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochEnd?.(epoch, logs);
  }
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchBegin?.(batch, logs);
  }
  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchEnd?.(batch, logs);
  }
}

/** Returned by fit(): the epochs run and, per logged value, one number per epoch. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  override onTrainBegin(): void {
    this.epoch = [];
    this.history = {};
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) {
      this.history[key] ??= [];
      this.history[key].push(value);
    }
  }
}

export type Mode = 'auto' | 'min' | 'max';

/** 'auto' means max for names ending in acc, accuracy, auc, precision or recall, else min — as Keras. */
function resolveMode(owner: string, mode: Mode, monitor: string): 'min' | 'max' {
  if (mode === 'min' || mode === 'max') return mode;
  if (mode !== 'auto') throw new Error(`${owner}: mode must be 'auto', 'min' or 'max', got '${mode as string}'`);
  return /(acc|accuracy|auc|precision|recall)$/.test(monitor) ? 'max' : 'min';
}

function monitored(owner: string, logs: Logs | undefined, monitor: string): number | undefined {
  const value = logs?.[monitor];
  if (value === undefined) {
    const available = Object.keys(logs ?? {}).join(', ');
    process.emitWarning(`${owner}: the monitored value '${monitor}' is not in the logs (available: ${available || 'none'}); skipping`);
  }
  return value;
}

export interface EarlyStoppingArgs {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  mode?: Mode;
  /** Stop unless the monitored value beats this (default none). */
  baseline?: number | null;
  /** At the end, restore the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (a warm-up; default 0). */
  startFromEpoch?: number;
  verbose?: number;
}

/** Stops training when a monitored value stops improving (Keras' EarlyStopping). */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly verbose: number;
  wait = 0;
  /** The epoch at which training was stopped (0 when it was not). */
  stoppedEpoch = 0;
  best = Infinity;
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      throw new Error(`EarlyStopping: patience must be a non-negative integer, got ${args.patience}`);
    this.mode = resolveMode('EarlyStopping', args.mode ?? 'auto', this.monitor);
    this.baseline = args.baseline ?? null;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.startFromEpoch = args.startFromEpoch ?? 0;
    if (!Number.isInteger(this.startFromEpoch) || this.startFromEpoch < 0) {
      throw new Error(`EarlyStopping: startFromEpoch must be a non-negative integer, got ${args.startFromEpoch}`);
    }
    this.verbose = args.verbose ?? 0;
  }

  private improves(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  override onEpochEnd(epoch: number, logs?: Logs): void {
    const current = monitored('EarlyStopping', logs, this.monitor);
    if (current === undefined || epoch < this.startFromEpoch) return;
    const model = this.requireModel();
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = model.getWeights();
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = model.getWeights();
      // Only restart waiting when the value beats both the previous best and the baseline.
      if (this.baseline === null || this.improves(current, this.baseline)) this.wait = 0;
      // As Keras: an epoch that improves on the best never stops training, even when the
      // baseline is not beaten yet.
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.requireModel().setWeights(this.bestWeights);
    }
  }
}

/**
 * Stops training as soon as a batch's loss is NaN or infinite (Keras' TerminateOnNaN), printing
 * the epoch and batch. fit ends after that batch; the epoch's callbacks still run.
 */
export class TerminateOnNaN extends Callback {
  private epoch = 0;
  /** Where training was stopped (null when it was not). */
  stopped: { epoch: number; batch: number } | null = null;

  constructor(private readonly print: (line: string) => void = (line) => console.log(line)) {
    super();
  }

  override onTrainBegin(): void {
    this.stopped = null;
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override onBatchEnd(batch: number, logs: Logs = {}): void {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.stopped = { epoch: this.epoch, batch };
      this.print(`Epoch ${this.epoch + 1}, batch ${batch}: invalid loss ${loss}, terminating training`);
      this.requireModel().stopTraining = true;
    }
  }
}

/** Keras / TensorFlow.js style factory for TerminateOnNaN. */
export function terminateOnNaN(print?: (line: string) => void): TerminateOnNaN {
  return new TerminateOnNaN(print);
}

/**
 * Python-style formatting of a path template: `{epoch}`, `{epoch:02d}`,
 * `{val_loss:.4f}`. `epoch` is 1-based, as Keras formats it.
 */
export function formatPath(template: string, values: Record<string, number>): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (whole, key: string, spec: string | undefined) => {
    const value = values[key];
    if (value === undefined) {
      throw new Error(
        `ModelCheckpoint: filepath '${template}' refers to '{${key}}', which is not logged (available: ${Object.keys(values).join(', ')})`,
      );
    }
    if (!spec) return String(value);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfe]?)$/.exec(spec);
    if (!m) throw new Error(`ModelCheckpoint: unsupported format '${whole}' in filepath '${template}' (use d, .Nf or .Ne)`);
    const [, zero, width, precision, type] = m;
    let text =
      type === 'd'
        ? String(Math.round(value))
        : type === 'e'
          ? value.toExponential(Number(precision ?? 6))
          : precision !== undefined || type === 'f'
            ? value.toFixed(Number(precision ?? 6))
            : String(value);
    if (width) text = text.padStart(Number(width), zero ? '0' : ' ');
    return text;
  });
}

export interface ModelCheckpointArgs {
  /** Directory to save to; may contain {epoch} and logged values: 'ckpt/epoch-{epoch:02d}-{val_loss:.3f}'. */
  filepath: string;
  monitor?: string;
  /** Save only when the monitored value improves (default false: save every epoch). */
  saveBestOnly?: boolean;
  mode?: Mode;
  verbose?: number;
}

/** Saves the model (model.save format) after every epoch, or only when the monitored value improves. */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: 'min' | 'max';
  readonly verbose: number;
  best: number;
  /** Paths written, in order. */
  readonly saved: string[] = [];

  constructor(args: ModelCheckpointArgs) {
    super();
    if (!args || typeof args.filepath !== 'string' || args.filepath === '') {
      throw new Error(`ModelCheckpoint: filepath must be a non-empty string, got ${JSON.stringify(args?.filepath)}`);
    }
    this.filepath = args.filepath;
    this.monitor = args.monitor ?? 'val_loss';
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.mode = resolveMode('ModelCheckpoint', args.mode ?? 'auto', this.monitor);
    this.verbose = args.verbose ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const path = formatPath(this.filepath, { ...logs, epoch: epoch + 1 });
    if (this.saveBestOnly) {
      const current = monitored('ModelCheckpoint', logs, this.monitor);
      if (current === undefined) return;
      const better = this.mode === 'min' ? current < this.best : current > this.best;
      if (!better) {
        if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best}`);
        return;
      }
      if (this.verbose > 0)
        console.log(`Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best} to ${current}, saving model to ${path}`);
      this.best = current;
    } else if (this.verbose > 0) {
      console.log(`Epoch ${epoch + 1}: saving model to ${path}`);
    }
    await this.requireModel().save(path);
    this.saved.push(path);
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  /** New learning rate = old * factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  mode?: Mode;
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0). */
  minLr?: number;
  verbose?: number;
}

/** Multiplies the learning rate by `factor` when the monitored value plateaus (Keras' ReduceLROnPlateau). */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly verbose: number;
  wait = 0;
  cooldownCounter = 0;
  best = Infinity;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.factor = args.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor >= 0)) throw new Error(`ReduceLROnPlateau: factor must be in [0, 1), got ${args.factor}`);
    this.patience = args.patience ?? 10;
    this.mode = resolveMode('ReduceLROnPlateau', args.mode ?? 'auto', this.monitor);
    this.minDelta = args.minDelta ?? 1e-4;
    this.cooldown = args.cooldown ?? 0;
    this.minLr = args.minLr ?? 0;
    this.verbose = args.verbose ?? 0;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const optimizer = this.requireModel().optimizer;
    if (!optimizer) return;
    logs.learning_rate = optimizer.learningRate;
    const current = monitored('ReduceLROnPlateau', logs, this.monitor);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    const better = this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
    if (better) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = optimizer.learningRate;
        if (old > this.minLr) {
          optimizer.learningRate = Math.max(old * this.factor, this.minLr);
          if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${optimizer.learningRate}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Sets the learning rate at the start of each epoch from schedule(epoch, currentLr) (Keras' LearningRateScheduler). */
export class LearningRateScheduler extends Callback {
  constructor(
    readonly schedule: (epoch: number, learningRate: number) => number,
    readonly verbose = 0,
  ) {
    super();
    if (typeof schedule !== 'function')
      throw new Error(`LearningRateScheduler: schedule must be a function (epoch, lr) => lr, got ${typeof schedule}`);
  }
  override onEpochBegin(epoch: number): void {
    const optimizer = this.requireModel().optimizer;
    if (!optimizer) return;
    const lr = this.schedule(epoch, optimizer.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) {
      throw new Error(`LearningRateScheduler: schedule(${epoch}, ${optimizer.learningRate}) returned ${lr}; expected a positive number`);
    }
    optimizer.learningRate = lr;
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }
  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    const optimizer = this.requireModel().optimizer;
    if (optimizer) logs.learning_rate = optimizer.learningRate;
  }
}

function prepareFile(owner: string, filename: string, append: boolean): boolean {
  if (typeof filename !== 'string' || filename === '')
    throw new Error(`${owner}: filename must be a non-empty string, got ${JSON.stringify(filename)}`);
  mkdirSync(dirname(filename), { recursive: true });
  const hasContent = append && existsSync(filename) && statSync(filename).size > 0;
  if (!append) writeFileSync(filename, '');
  return hasContent;
}

/** Streams epoch results to a CSV file: a header `epoch,<keys sorted>` then one row per epoch (Keras' CSVLogger). */
export class CSVLogger extends Callback {
  private keys: string[] | null = null;
  private headerWritten = false;
  constructor(
    readonly filename: string,
    readonly options: { separator?: string; append?: boolean } = {},
  ) {
    super();
  }
  override onTrainBegin(): void {
    this.headerWritten = prepareFile('CSVLogger', this.filename, this.options.append ?? false);
    this.keys = null;
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const sep = this.options.separator ?? ',';
    this.keys ??= Object.keys(logs).sort();
    if (!this.headerWritten) {
      appendFileSync(this.filename, `${['epoch', ...this.keys].join(sep)}\n`);
      this.headerWritten = true;
    }
    appendFileSync(
      this.filename,
      `${[String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k])))].join(sep)}\n`,
    );
  }
}

/** Streams epoch results as JSON lines: `{"epoch":0,"loss":0.51,...}` per epoch. */
export class JSONLinesLogger extends Callback {
  constructor(
    readonly filename: string,
    readonly options: { append?: boolean } = {},
  ) {
    super();
  }
  override onTrainBegin(): void {
    prepareFile('JSONLinesLogger', this.filename, this.options.append ?? false);
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    appendFileSync(this.filename, `${JSON.stringify({ epoch, ...logs })}\n`);
  }
}
