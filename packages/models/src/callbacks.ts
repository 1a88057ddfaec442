/**
 * Callbacks with Keras semantics. A callback is a `Callback` subclass or a
 * plain object with any of the hooks; hooks may be async (fit awaits them).
 * Epochs are 0-based in hooks, as in Keras and TensorFlow.js.
 */
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Tensor } from '@axon/tensor';
import { checkOptions } from '@axon/layers';

/**
 * The values a hook receives, by name: `loss`, each metric (`accuracy`, ...), `val_`-prefixed
 * validation values at epoch end, and `batch` / `size` in batch hooks.
 */
export type Logs = Record<string, number>;

/** What a callback can reach of the model being trained (Sequential implements it). */
export interface TrainableModel {
  /** Set it to true to end fit after the current batch. */
  stopTraining: boolean;
  /** Copies of the weights (see {@link Model.getWeights}). */
  getWeights(): Tensor[];
  /** Sets the weights (see {@link Model.setWeights}). */
  setWeights(weights: readonly Tensor[]): void;
  /** Saves the model to a directory (see {@link Model.save}). */
  save(path: string): Promise<void>;
  /** The optimizer, whose learning rate callbacks may change; null before compile. */
  readonly optimizer: {
    /** The current learning rate. */
    learningRate: number;
  } | null;
}

/** What fit tells its callbacks before training (Callback.params). */
export interface TrainingParams {
  /** The epoch count fit runs to. */
  epochs: number;
  /** The first epoch (0-based). */
  initialEpoch: number;
  /** Batches per epoch. */
  steps: number;
  /** Training samples (after any validation split). */
  samples: number;
  /** Samples per batch. */
  batchSize: number;
  /** fit's verbose setting. */
  verbose: number;
  /** Names of the logged values ('loss', 'accuracy', 'val_loss', ...). */
  metrics: string[];
}

/**
 * The hooks fit calls, each optional and possibly async (fit awaits it). A plain object with any
 * of them is a valid callback.
 *
 * @example
 * ```ts
 * await model.fit(x, y, {
 *   epochs: 5,
 *   callbacks: { onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss) },
 * });
 * ```
 */
export interface CallbackHooks {
  /** Before the first epoch. */
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  /** After the last epoch (or after training was stopped). */
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /** Before each epoch; epoch is 0-based. */
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /** After each epoch, with its mean loss and metrics and the validation values. */
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  /** Before each batch; logs hold `batch` and `size`. */
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** After each batch; logs hold the epoch's running loss and metrics so far. */
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

// The interface adds the optional hooks to the class without making subclasses declare them all.
/** The hooks a Callback subclass may implement (see {@link CallbackHooks}). */
export interface Callback extends CallbackHooks {}
/**
 * The base class of callbacks (Keras `callbacks.Callback`): fit gives it the model and the
 * training parameters before training, then calls the hooks it implements.
 *
 * @example
 * ```ts
 * class StopAtAccuracy extends Callback {
 *   override onEpochEnd(_epoch: number, logs?: Logs): void {
 *     if ((logs?.accuracy ?? 0) > 0.95) this.requireModel().stopTraining = true;
 *   }
 * }
 * await model.fit(x, y, { epochs: 100, callbacks: [new StopAtAccuracy()] });
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface only declares optional hooks
export abstract class Callback {
  /** The model being trained (set by fit), or null. */
  model: TrainableModel | null = null;
  /** The training parameters (set by fit), or null. */
  params: TrainingParams | null = null;
  /** Called by fit before training. */
  setModel(model: TrainableModel): void {
    this.model = model;
  }
  /** Called by fit before training. */
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  /**
   * The model, for use in hooks.
   *
   * @throws Error if the callback is not attached to a model.
   */
  protected requireModel(): TrainableModel {
    if (!this.model) throw new Error(`${this.constructor.name}: not attached to a model (pass it in fit({callbacks}))`);
    return this.model;
  }
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/** Dispatches each hook to every callback in order, awaiting each. fit builds one from its callbacks. */
export class CallbackList {
  /**
   * @param callbacks - The callbacks, in call order.
   * @throws Error if an entry has none of the hooks.
   */
  constructor(readonly callbacks: CallbackHooks[]) {
    callbacks.forEach((cb, i) => {
      if (typeof cb !== 'object' || cb === null || !HOOKS.some((h) => typeof cb[h] === 'function')) {
        throw new Error(
          `callbacks[${i}] must be a Callback or an object with at least one of ${HOOKS.join(', ')}, got ${JSON.stringify(cb)}`,
        );
      }
    });
  }
  /** Gives the model to every {@link Callback} in the list. */
  setModel(model: TrainableModel): void {
    for (const cb of this.callbacks) if (cb instanceof Callback) cb.setModel(model);
  }
  /** Gives the training parameters to every {@link Callback} in the list. */
  setParams(params: TrainingParams): void {
    for (const cb of this.callbacks) if (cb instanceof Callback) cb.setParams(params);
  }
  /** Calls every callback's onTrainBegin, in order. */
  async onTrainBegin(logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainBegin?.(logs);
  }
  /** Calls every callback's onTrainEnd, in order. */
  async onTrainEnd(logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onTrainEnd?.(logs);
  }
  /** Calls every callback's onEpochBegin, in order. */
  async onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochBegin?.(epoch, logs);
  }
  /** Calls every callback's onEpochEnd, in order. */
  async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onEpochEnd?.(epoch, logs);
  }
  /** Calls every callback's onBatchBegin, in order. */
  async onBatchBegin(batch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchBegin?.(batch, logs);
  }
  /** Calls every callback's onBatchEnd, in order. */
  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    for (const cb of this.callbacks) await cb.onBatchEnd?.(batch, logs);
  }
}

/** Returned by fit(): the epochs run and, per logged value, one number per epoch. */
export class History extends Callback {
  /** The epochs run (0-based). */
  epoch: number[] = [];
  /** Per logged value ('loss', 'accuracy', 'val_loss', ...), one number per epoch. */
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

/**
 * Whether a monitored value improves by going down ('min') or up ('max'); 'auto' picks max for
 * names ending in acc, accuracy, auc, precision or recall, else min (as Keras).
 */
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

/** Arguments of {@link EarlyStopping} (Keras' names and defaults). */
export interface EarlyStoppingArgs {
  /** Logged value to watch (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** Whether the value should go down or up (default 'auto'). */
  mode?: Mode;
  /** Stop unless the monitored value beats this (default none). */
  baseline?: number | null;
  /** At the end, restore the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (a warm-up; default 0). */
  startFromEpoch?: number;
  /** 1 prints a line when training stops and when weights are restored (default 0). */
  verbose?: number;
}

/**
 * Stops training when a monitored value stops improving (Keras' EarlyStopping).
 *
 * @example
 * ```ts
 * const stop = new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true });
 * await model.fit(x, y, { epochs: 100, validationSplit: 0.2, callbacks: [stop] });
 * console.log(stop.stoppedEpoch, stop.bestEpoch);
 * ```
 */
export class EarlyStopping extends Callback {
  /** The logged value watched. */
  readonly monitor: string;
  /** Smallest change that counts as an improvement (non-negative). */
  readonly minDelta: number;
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** The direction of improvement ('auto' resolved). */
  readonly mode: 'min' | 'max';
  /** The value to beat, or null. */
  readonly baseline: number | null;
  /** Whether the best epoch's weights are restored at the end. */
  readonly restoreBestWeights: boolean;
  /** Epochs ignored at the start. */
  readonly startFromEpoch: number;
  /** Whether to print when stopping. */
  readonly verbose: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch at which training was stopped (0 when it was not). */
  stoppedEpoch = 0;
  /** The best monitored value so far. */
  best = Infinity;
  /** The epoch of the best value (0-based). */
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;

  /** @throws Error if patience or startFromEpoch is not a non-negative integer, or mode is unknown. */
  constructor(args: EarlyStoppingArgs = {}) {
    super();
    checkOptions('EarlyStopping', args, [
      'monitor',
      'minDelta',
      'patience',
      'mode',
      'baseline',
      'restoreBestWeights',
      'startFromEpoch',
      'verbose',
    ]);
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
  stopped: {
    /** The epoch (0-based). */
    epoch: number;
    /** The batch within the epoch. */
    batch: number;
  } | null = null;

  /** @param print - Receives the message when training stops; default console.log. */
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
 * `{val_loss:.4f}`. `epoch` is 1-based, as Keras formats it. Used by {@link ModelCheckpoint}.
 *
 * @throws Error if the template names a value not in `values` or uses an unsupported format.
 *
 * @example
 * ```ts
 * formatPath('ckpt/epoch-{epoch:02d}-{val_loss:.3f}', { epoch: 3, val_loss: 0.41234 }); // 'ckpt/epoch-03-0.412'
 * ```
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

/** Arguments of {@link ModelCheckpoint} (Keras' names and defaults). */
export interface ModelCheckpointArgs {
  /** Directory to save to; may contain {epoch} and logged values: 'ckpt/epoch-{epoch:02d}-{val_loss:.3f}'. */
  filepath: string;
  /** The logged value saveBestOnly compares (default 'val_loss'). */
  monitor?: string;
  /** Save only when the monitored value improves (default false: save every epoch). */
  saveBestOnly?: boolean;
  /** Whether the value should go down or up (default 'auto'). */
  mode?: Mode;
  /** 1 prints a line per epoch (default 0). */
  verbose?: number;
}

/**
 * Saves the model (model.save format) after every epoch, or only when the monitored value
 * improves (Keras' ModelCheckpoint).
 *
 * @example
 * ```ts
 * const checkpoint = new ModelCheckpoint({ filepath: 'ckpt/best', monitor: 'val_accuracy', saveBestOnly: true });
 * await model.fit(x, y, { epochs: 20, validationSplit: 0.1, callbacks: [checkpoint] });
 * const best = await loadModel('ckpt/best');
 * ```
 */
export class ModelCheckpoint extends Callback {
  /** The path template. */
  readonly filepath: string;
  /** The logged value compared. */
  readonly monitor: string;
  /** Whether only improvements are saved. */
  readonly saveBestOnly: boolean;
  /** The direction of improvement ('auto' resolved). */
  readonly mode: 'min' | 'max';
  /** Whether to print per epoch. */
  readonly verbose: number;
  /** The best monitored value so far. */
  best: number;
  /** Paths written, in order. */
  readonly saved: string[] = [];

  /** @throws Error if filepath is not a non-empty string, or mode is unknown. */
  constructor(args: ModelCheckpointArgs) {
    super();
    checkOptions('ModelCheckpoint', args, ['filepath', 'monitor', 'saveBestOnly', 'mode', 'verbose']);
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

/** Arguments of {@link ReduceLROnPlateau} (Keras' names and defaults). */
export interface ReduceLROnPlateauArgs {
  /** The logged value watched (default 'val_loss'). */
  monitor?: string;
  /** New learning rate = old * factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** Whether the value should go down or up (default 'auto'). */
  mode?: Mode;
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0). */
  minLr?: number;
  /** 1 prints a line at each reduction (default 0). */
  verbose?: number;
}

/**
 * Multiplies the learning rate by `factor` when the monitored value plateaus (Keras' ReduceLROnPlateau).
 * Also logs the current rate as `learning_rate` at each epoch end.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 50, validationSplit: 0.2, callbacks: [new ReduceLROnPlateau({ factor: 0.5, patience: 3 })] });
 * ```
 */
export class ReduceLROnPlateau extends Callback {
  /** The logged value watched. */
  readonly monitor: string;
  /** The multiplier applied at a plateau. */
  readonly factor: number;
  /** Epochs without improvement before reducing. */
  readonly patience: number;
  /** The direction of improvement ('auto' resolved). */
  readonly mode: 'min' | 'max';
  /** Smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Epochs to wait after a reduction. */
  readonly cooldown: number;
  /** Lower bound of the learning rate. */
  readonly minLr: number;
  /** Whether to print at each reduction. */
  readonly verbose: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Cooldown epochs left. */
  cooldownCounter = 0;
  /** The best monitored value so far. */
  best = Infinity;

  /** @throws Error if factor is not in [0, 1) or mode is unknown. */
  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    checkOptions('ReduceLROnPlateau', args, ['monitor', 'factor', 'patience', 'mode', 'minDelta', 'cooldown', 'minLr', 'verbose']);
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

/**
 * Sets the learning rate at the start of each epoch from schedule(epoch, currentLr) (Keras' LearningRateScheduler).
 * Also logs the rate as `learning_rate` at each epoch end.
 *
 * @example
 * ```ts
 * // Halve the rate every 10 epochs.
 * const scheduler = new LearningRateScheduler((epoch, lr) => (epoch > 0 && epoch % 10 === 0 ? lr / 2 : lr));
 * ```
 */
export class LearningRateScheduler extends Callback {
  /**
   * @param schedule - (epoch (0-based), current rate) → the new rate, a positive number.
   * @param verbose - 1 prints the rate each epoch.
   * @throws Error if schedule is not a function (and, during fit, if it returns a non-positive or
   *   non-finite rate).
   */
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
  /**
   * @param filename - The file to write (its directory is created); truncated at the start of fit
   *   unless `append`.
   * @param options - `separator` (default ',') and `append` (default false).
   */
  constructor(
    readonly filename: string,
    readonly options: {
      /** Column separator; default ','. */
      separator?: string;
      /** Append to an existing file (the header is written only if it is empty); default false. */
      append?: boolean;
    } = {},
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
  /**
   * @param filename - The file to write (its directory is created); truncated at the start of fit
   *   unless `append`.
   * @param options - `append` (default false).
   */
  constructor(
    readonly filename: string,
    readonly options: {
      /** Append to an existing file; default false. */
      append?: boolean;
    } = {},
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
