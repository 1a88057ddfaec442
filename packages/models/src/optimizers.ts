/**
 * Optimizers with Keras semantics and defaults. SGD, Adam, AdamW and RMSprop
 * run the fused in-place update ops of @axon/tensor on each variable, with
 * their state in variables of the same device; Adagrad is composed from
 * tensor ops.
 */
import {
  type Tensor,
  Variable,
  adamUpdate,
  add,
  clip,
  div,
  fill,
  mul,
  noGrad,
  rmspropUpdate,
  sgdUpdate,
  sqrt,
  square,
  sub,
  sum,
  formatShape,
  zeros,
} from '@axon/tensor';
import { checkOptions } from '@axon/layers';
import { looseKey, toCamelCase } from './names.js';

/** An optimizer's hyper-parameters by name, camelCase ({learningRate, beta1, ...}). */
export type OptimizerConfig = Record<string, number | boolean>;

/**
 * Gradient clipping, taken by every optimizer (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`):
 * the remedy for exploding gradients. Applied in Keras' order — each gradient's norm, then the
 * global norm, then each value — before the update.
 */
export interface ClipArgs {
  /** Each gradient is rescaled so its L2 norm is at most this (tf.clip_by_norm). */
  clipnorm?: number;
  /** Each gradient value is clipped to [-clipvalue, clipvalue]. */
  clipvalue?: number;
  /** All gradients are rescaled together so their global L2 norm is at most this (tf.clip_by_global_norm). Not with clipnorm. */
  globalClipnorm?: number;
}

const CLIP_OPTIONS = ['clipnorm', 'clipvalue', 'globalClipnorm'] as const;

/**
 * The base class of optimizers (Keras `optimizers.Optimizer`): given the gradients of a step,
 * updates the variables in place. Pass one to `compile({ optimizer })`, or call applyGradients in
 * a custom loop. Its per-variable state (moments, velocities) is created on first use.
 *
 * @example
 * ```ts
 * const w = variable(randomNormal([3, 1]));
 * const optimizer = new Adam({ learningRate: 0.01 });
 * for (let step = 0; step < 100; step++) {
 *   const { grads } = valueAndGrads(() => mean(square(sub(matmul(x, w), y))), [w]);
 *   optimizer.applyGradients([w], grads);
 * }
 * ```
 */
export abstract class Optimizer {
  /** Keras' class name ('Adam', 'SGD', ...). */
  abstract readonly className: string;
  /** Mutable: ReduceLROnPlateau and LearningRateScheduler change it between epochs. */
  learningRate: number;
  /** Number of update steps applied so far. */
  iterations = 0;
  /** Gradient clipping (empty when none). */
  readonly clipping: Readonly<ClipArgs>;

  /**
   * @throws Error if learningRate is not a positive finite number, a clipping bound is not positive,
   * or both clipnorm and globalClipnorm are given.
   */
  constructor(learningRate: number, clipping: ClipArgs = {}) {
    const owner = this.constructor.name;
    this.learningRate = checkPositive(owner, 'learningRate', learningRate);
    const bounds: ClipArgs = {};
    for (const k of CLIP_OPTIONS) {
      const v = clipping[k];
      if (v !== undefined && v !== null) bounds[k] = checkPositive(owner, k, v);
    }
    if (bounds.clipnorm !== undefined && bounds.globalClipnorm !== undefined) {
      throw new Error(`${owner}: give clipnorm or globalClipnorm, not both (as Keras)`);
    }
    this.clipping = bounds;
  }

  /** The clipping options that are set, for getConfig. */
  protected clipConfig(): OptimizerConfig {
    return { ...this.clipping } as OptimizerConfig;
  }

  /** The gradients after clipping (the same array when there is none). */
  private clipGradients(gradients: readonly Tensor[]): readonly Tensor[] {
    const { clipnorm, clipvalue, globalClipnorm } = this.clipping;
    let gs = gradients;
    // g · c / max(‖g‖, c): unchanged when the norm is within the bound.
    const rescale = (g: Tensor, norm: Tensor, c: number): Tensor => mul(g, div(fill([], c), maximumOf(norm, c)));
    if (clipnorm !== undefined) gs = gs.map((g) => rescale(g, sqrt(sum(square(g))), clipnorm));
    if (globalClipnorm !== undefined && gs.length > 0) {
      const global = sqrt(gs.map((g) => sum(square(g))).reduce((a, b) => add(a, b)));
      gs = gs.map((g) => rescale(g, global, globalClipnorm));
    }
    if (clipvalue !== undefined) gs = gs.map((g) => clip(g, -clipvalue, clipvalue));
    return gs;
  }

  /**
   * Applies one update step to every variable given its gradient, in place and
   * without recording gradients. Counts one iteration.
   *
   * @throws Error if the counts differ or a gradient's shape is not its variable's.
   */
  applyGradients(variables: readonly Variable[], gradients: readonly Tensor[]): void {
    if (variables.length !== gradients.length) {
      throw new Error(`${this.className}.applyGradients: ${variables.length} variables but ${gradients.length} gradients`);
    }
    variables.forEach((v, i) => {
      const g = gradients[i]!;
      if (g.rank !== v.rank || g.shape.some((d, j) => d !== v.shape[j])) {
        throw new Error(`${this.className}: gradient for '${v.name}' has shape ${formatShape(g.shape)}, expected ${formatShape(v.shape)}`);
      }
    });
    this.iterations++;
    noGrad(() => {
      const clipped = this.clipGradients(gradients);
      variables.forEach((v, i) => this.updateVariable(v, clipped[i]!));
    });
  }

  /** Updates one variable in place from its gradient (what a subclass implements). */
  protected abstract updateVariable(variable: Variable, gradient: Tensor): void;

  /**
   * The names of the per-variable state slots, in the order TensorFlow.js' `getWeights()` lists
   * them (`m`, `v` for Adam; `momentum` for SGD with momentum; `rms`, `momentum`, `mg` for RMSprop;
   * `accumulator` for Adagrad). Saved as `<variable>/<slot>`; empty when the optimizer keeps no
   * per-variable state.
   */
  stateSlotNames(): readonly string[] {
    return [];
  }

  /**
   * The state variables of `variable` by slot name (see {@link Optimizer.stateSlotNames}), or null
   * when it has none yet and `create` is false. A slot the optimizer does not use (RMSprop's
   * `momentum` when momentum is 0) is null.
   */
  stateOf(_variable: Variable, _create = false): Readonly<Record<string, Variable | null>> | null {
    return null;
  }

  /** Hyper-parameters, camelCase, Keras names ({learningRate, beta1, ...}). */
  abstract getConfig(): OptimizerConfig;

  /**
   * The {className, config} TensorFlow.js' optimizer registry understands
   * ('SGD', 'Momentum', 'Adam', 'RMSProp', 'Adagrad'), or null when tfjs has no
   * equivalent.
   */
  abstract toTfjs(): {
    /** TensorFlow.js' optimizer class name. */
    className: string;
    /** Its config in TensorFlow.js' keys. */
    config: OptimizerConfig;
  } | null;
}

/** max(t, c) for a scalar tensor t and a number c. */
function maximumOf(t: Tensor, c: number): Tensor {
  return clip(t, c, Number.POSITIVE_INFINITY);
}

function checkPositive(owner: string, name: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new Error(`${owner}: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function checkRange(owner: string, name: string, value: number, low: number, high: number): number {
  if (!(typeof value === 'number' && value >= low && value < high)) {
    throw new Error(`${owner}: ${name} must be in [${low}, ${high}), got ${value}`);
  }
  return value;
}

/** Per-variable optimizer state, created on first use, keyed by the variable object. */
class Slots<T> {
  private readonly map = new WeakMap<Variable, T>();
  constructor(private readonly create: (v: Variable) => T) {}
  /** The state of v, or undefined when it was never created. */
  peek(v: Variable): T | undefined {
    return this.map.get(v);
  }
  get(v: Variable): T {
    let slot = this.map.get(v);
    if (!slot) {
      slot = this.create(v);
      this.map.set(v, slot);
    }
    return slot;
  }
}

/** Optimizer state for a variable: zeros of its shape, on its device, never trained. */
function slot(v: Variable, what: string): Variable {
  return new Variable(zeros(v.shape), { trainable: false, name: `${v.name}/${what}` });
}

/** Arguments of {@link SGD} (Keras' names and defaults). */
export interface SgdArgs extends ClipArgs {
  /** Default 0.01. */
  learningRate?: number;
  /** Momentum factor in [0, 1); default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum; default false. */
  nesterov?: boolean;
}

/**
 * Keras SGD: lr 0.01; momentum v = m v - lr g, p += v (Nesterov: p += m v - lr g).
 *
 * @example
 * ```ts
 * model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }), loss: 'mse' });
 * ```
 */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  /** Momentum factor. */
  readonly momentum: number;
  /** Whether Nesterov momentum is used. */
  readonly nesterov: boolean;
  private readonly velocity = new Slots<Variable | null>((v) => (this.momentum > 0 ? slot(v, 'momentum') : null));

  /** @throws Error if learningRate is not positive or momentum is not in [0, 1). */
  constructor(args: SgdArgs = {}) {
    super(args.learningRate ?? 0.01, args);
    if (new.target === SGD) checkOptions('SGD', args, ['learningRate', 'momentum', 'nesterov', ...CLIP_OPTIONS]);
    this.momentum = checkRange('SGD', 'momentum', args.momentum ?? 0, 0, 1);
    this.nesterov = args.nesterov ?? false;
  }
  protected updateVariable(v: Variable, g: Tensor): void {
    sgdUpdate(v, g, this.velocity.get(v), { lr: this.learningRate, momentum: this.momentum, nesterov: this.nesterov });
  }
  override stateSlotNames(): readonly string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }
  override stateOf(v: Variable, create = false): Readonly<Record<string, Variable | null>> | null {
    if (this.momentum === 0) return null;
    const velocity = create ? this.velocity.get(v) : this.velocity.peek(v);
    return velocity ? { momentum: velocity } : null;
  }
  getConfig(): OptimizerConfig {
    return { learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov, ...this.clipConfig() };
  }
  toTfjs(): {
    /** TensorFlow.js' optimizer class name. */
    className: string;
    /** Its config in TensorFlow.js' keys. */
    config: OptimizerConfig;
  } {
    if (this.momentum === 0 && !this.nesterov) return { className: 'SGD', config: { learningRate: this.learningRate } };
    return { className: 'Momentum', config: { learningRate: this.learningRate, momentum: this.momentum, useNesterov: this.nesterov } };
  }
}

/** Arguments of {@link Adam} and {@link AdamW} (Keras' names and defaults). */
export interface AdamArgs extends ClipArgs {
  /** Default 0.001. */
  learningRate?: number;
  /** Decay of the first moment estimate, in [0, 1); default 0.9. */
  beta1?: number;
  /** Decay of the second moment estimate, in [0, 1); default 0.999. */
  beta2?: number;
  /** Added to the denominator for stability; default 1e-7. */
  epsilon?: number;
}

/**
 * Keras Adam: lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7. The update rule is
 * {@link @axon/tensor!index.AdamConfig}'s (bias correction folded into the step size).
 *
 * @example
 * ```ts
 * model.compile({ optimizer: new Adam({ learningRate: 3e-4 }), loss: 'sparseCategoricalCrossentropy' });
 * ```
 */
export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  /** Decay of the first moment estimate. */
  readonly beta1: number;
  /** Decay of the second moment estimate. */
  readonly beta2: number;
  /** Added to the denominator for stability. */
  readonly epsilon: number;
  /** The moment estimates of each variable (`<weight>/m`, `<weight>/v`), created on first use. */
  protected readonly moments = new Slots((v) => ({
    /** The first moment estimate. */
    m: slot(v, 'm'),
    /** The second moment estimate. */
    v: slot(v, 'v'),
  }));

  /** @throws Error if learningRate or epsilon is not positive, or beta1 or beta2 is not in [0, 1). */
  constructor(args: AdamArgs = {}) {
    super(args.learningRate ?? 0.001, args);
    if (new.target === Adam) checkOptions('Adam', args, ['learningRate', 'beta1', 'beta2', 'epsilon', ...CLIP_OPTIONS]);
    this.beta1 = checkRange(this.constructor.name, 'beta1', args.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRange(this.constructor.name, 'beta2', args.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkPositive(this.constructor.name, 'epsilon', args.epsilon ?? 1e-7);
  }
  /** The decoupled weight decay of a step: 0 for Adam (AdamW overrides it). */
  protected weightDecay(): number {
    return 0;
  }
  protected updateVariable(variable: Variable, g: Tensor): void {
    const { m, v } = this.moments.get(variable);
    adamUpdate(variable, g, m, v, {
      lr: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      step: this.iterations,
      weightDecay: this.weightDecay(),
    });
  }
  override stateSlotNames(): readonly string[] {
    return ['m', 'v'];
  }
  override stateOf(v: Variable, create = false): Readonly<Record<string, Variable | null>> | null {
    return (create ? this.moments.get(v) : this.moments.peek(v)) ?? null;
  }
  getConfig(): OptimizerConfig {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, ...this.clipConfig() };
  }
  toTfjs(): {
    /** TensorFlow.js' optimizer class name. */
    className: string;
    /** Its config in TensorFlow.js' keys. */
    config: OptimizerConfig;
  } | null {
    return { className: 'Adam', config: this.getConfig() };
  }
}

/** Keras AdamW: Adam with decoupled weight decay p -= lr * weightDecay * p (default 0.004). */
export class AdamW extends Adam {
  override readonly className = 'AdamW';
  /** The weight decay factor. */
  readonly decay: number;
  /**
   * @param args - Adam's arguments plus `weightDecay` (default 0.004).
   * @throws Error as Adam's constructor does, or if weightDecay is negative.
   */
  constructor(args: AdamArgs & { weightDecay?: number } = {}) {
    super(args);
    if (new.target === AdamW) checkOptions('AdamW', args, ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', ...CLIP_OPTIONS]);
    const wd = args.weightDecay ?? 0.004;
    if (!(wd >= 0)) throw new Error(`AdamW: weightDecay must be >= 0, got ${wd}`);
    this.decay = wd;
  }
  protected override weightDecay(): number {
    return this.decay;
  }
  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), weightDecay: this.decay };
  }
  /** null: TensorFlow.js has no AdamW. */
  override toTfjs(): null {
    return null;
  }
}

/** Arguments of {@link RMSprop} (Keras' names and defaults). */
export interface RmspropArgs extends ClipArgs {
  /** Default 0.001. */
  learningRate?: number;
  /** Decay of the moving averages, in [0, 1); default 0.9. */
  rho?: number;
  /** Momentum factor in [0, 1); default 0. */
  momentum?: number;
  /** Added under the square root for stability; default 1e-7. */
  epsilon?: number;
  /** Normalise by the estimated variance instead of the second moment; default false. */
  centered?: boolean;
}

/** Keras RMSprop: lr 0.001, rho 0.9, momentum 0, epsilon 1e-7, not centered. The update rule is {@link @axon/tensor!index.RmspropConfig}'s. */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  /** Decay of the moving averages. */
  readonly rho: number;
  /** Momentum factor. */
  readonly momentum: number;
  /** Added under the square root. */
  readonly epsilon: number;
  /** Whether the update is centered. */
  readonly centered: boolean;
  private readonly state = new Slots((v) => ({
    meanSquare: slot(v, 'rms'),
    mom: this.momentum > 0 ? slot(v, 'momentum') : null,
    meanGrad: this.centered ? slot(v, 'mg') : null,
  }));

  /** @throws Error if learningRate or epsilon is not positive, or rho or momentum is not in [0, 1). */
  constructor(args: RmspropArgs = {}) {
    super(args.learningRate ?? 0.001, args);
    if (new.target === RMSprop) checkOptions('RMSprop', args, ['learningRate', 'rho', 'momentum', 'epsilon', 'centered', ...CLIP_OPTIONS]);
    this.rho = checkRange('RMSprop', 'rho', args.rho ?? 0.9, 0, 1);
    this.momentum = checkRange('RMSprop', 'momentum', args.momentum ?? 0, 0, 1);
    this.epsilon = checkPositive('RMSprop', 'epsilon', args.epsilon ?? 1e-7);
    this.centered = args.centered ?? false;
  }
  protected updateVariable(v: Variable, g: Tensor): void {
    const s = this.state.get(v);
    rmspropUpdate(v, g, s.meanSquare, s.mom, s.meanGrad, {
      lr: this.learningRate,
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      centered: this.centered,
    });
  }
  /** tfjs' RMSProp always keeps a `momentum` slot; Axon's only when momentum > 0 (saved as zeros otherwise). */
  override stateSlotNames(): readonly string[] {
    return this.centered ? ['rms', 'momentum', 'mg'] : ['rms', 'momentum'];
  }
  override stateOf(v: Variable, create = false): Readonly<Record<string, Variable | null>> | null {
    const s = create ? this.state.get(v) : this.state.peek(v);
    return s ? { rms: s.meanSquare, momentum: s.mom, mg: s.meanGrad } : null;
  }
  getConfig(): OptimizerConfig {
    return {
      learningRate: this.learningRate,
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      centered: this.centered,
      ...this.clipConfig(),
    };
  }
  toTfjs(): {
    /** TensorFlow.js' optimizer class name. */
    className: string;
    /** Its config in TensorFlow.js' keys. */
    config: OptimizerConfig;
  } {
    return {
      className: 'RMSProp',
      config: { learningRate: this.learningRate, decay: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered },
    };
  }
}

/** Arguments of {@link Adagrad} (Keras' names and defaults). */
export interface AdagradArgs extends ClipArgs {
  /** Default 0.001. */
  learningRate?: number;
  /** Starting value of the per-weight accumulator of squared gradients; default 0.1. */
  initialAccumulatorValue?: number;
  /** Added under the square root for stability; default 1e-7. */
  epsilon?: number;
}

/** Keras Adagrad: acc += g²; p -= lr g / sqrt(acc + epsilon). lr 0.001, initial accumulator 0.1, epsilon 1e-7. */
export class Adagrad extends Optimizer {
  readonly className = 'Adagrad';
  /** Starting value of the accumulators. */
  readonly initialAccumulatorValue: number;
  /** Added under the square root. */
  readonly epsilon: number;
  private readonly accumulators = new Slots(
    (v) => new Variable(fill(v.shape, this.initialAccumulatorValue), { trainable: false, name: `${v.name}/accumulator` }),
  );

  /** @throws Error if learningRate or epsilon is not positive, or initialAccumulatorValue is negative. */
  constructor(args: AdagradArgs = {}) {
    super(args.learningRate ?? 0.001, args);
    if (new.target === Adagrad) checkOptions('Adagrad', args, ['learningRate', 'initialAccumulatorValue', 'epsilon', ...CLIP_OPTIONS]);
    this.initialAccumulatorValue = args.initialAccumulatorValue ?? 0.1;
    if (!(this.initialAccumulatorValue >= 0)) {
      throw new Error(`Adagrad: initialAccumulatorValue must be >= 0, got ${args.initialAccumulatorValue}`);
    }
    this.epsilon = checkPositive('Adagrad', 'epsilon', args.epsilon ?? 1e-7);
  }
  protected updateVariable(v: Variable, g: Tensor): void {
    const accumulator = this.accumulators.get(v);
    accumulator.assign(add(accumulator, square(g)));
    v.assign(sub(v, div(mul(g, this.learningRate), sqrt(add(accumulator, this.epsilon)))));
  }
  override stateSlotNames(): readonly string[] {
    return ['accumulator'];
  }
  override stateOf(v: Variable, create = false): Readonly<Record<string, Variable | null>> | null {
    const accumulator = create ? this.accumulators.get(v) : this.accumulators.peek(v);
    return accumulator ? { accumulator } : null;
  }
  getConfig(): OptimizerConfig {
    return {
      learningRate: this.learningRate,
      initialAccumulatorValue: this.initialAccumulatorValue,
      epsilon: this.epsilon,
      ...this.clipConfig(),
    };
  }
  toTfjs(): {
    /** TensorFlow.js' optimizer class name. */
    className: string;
    /** Its config in TensorFlow.js' keys. */
    config: OptimizerConfig;
  } {
    return { className: 'Adagrad', config: { learningRate: this.learningRate, initialAccumulatorValue: this.initialAccumulatorValue } };
  }
}

/**
 * TensorFlow.js-style factories: `train.adam(0.01)`. Omitted arguments take the Keras defaults.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: train.momentum(0.01, 0.9), loss: 'mse' });
 * ```
 */
export const train = {
  /** An {@link SGD} (tf.train.sgd). */
  sgd: (learningRate?: number): SGD => new SGD({ learningRate }),
  /** An {@link SGD} with momentum (tf.train.momentum). */
  momentum: (learningRate: number, momentum: number, useNesterov = false): SGD =>
    new SGD({ learningRate, momentum, nesterov: useNesterov }),
  /** An {@link Adam} (tf.train.adam). */
  adam: (learningRate?: number, beta1?: number, beta2?: number, epsilon?: number): Adam =>
    new Adam({ learningRate, beta1, beta2, epsilon }),
  /** An {@link AdamW}. */
  adamw: (learningRate?: number, weightDecay?: number): AdamW => new AdamW({ learningRate, weightDecay }),
  /** An {@link RMSprop} (tf.train.rmsprop). */
  rmsprop: (learningRate?: number, rho?: number, momentum?: number, epsilon?: number, centered?: boolean): RMSprop =>
    new RMSprop({ learningRate, rho, momentum, epsilon, centered }),
  /** An {@link Adagrad} (tf.train.adagrad). */
  adagrad: (learningRate?: number, initialAccumulatorValue?: number): Adagrad => new Adagrad({ learningRate, initialAccumulatorValue }),
};

type OptimizerFactory = (config: Record<string, unknown>) => Optimizer;

/** Reads a hyper-parameter under any of its spellings (Keras snake_case, tfjs camelCase, tfjs' own names). */
function pick(config: Record<string, unknown>, ...names: string[]): never | undefined {
  for (const name of names) {
    const value = config[name];
    if (value !== undefined && value !== null) return value as never;
  }
  return undefined;
}

/** The clipping options of a saved optimizer config (Keras writes global_clipnorm). */
function clipFrom(config: Record<string, unknown>): ClipArgs {
  return {
    clipnorm: pick(config, 'clipnorm'),
    clipvalue: pick(config, 'clipvalue'),
    globalClipnorm: pick(config, 'globalClipnorm', 'global_clipnorm'),
  };
}

const OPTIMIZERS: [string[], OptimizerFactory][] = [
  [
    ['sgd'],
    (c) =>
      new SGD({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        momentum: pick(c, 'momentum'),
        nesterov: pick(c, 'nesterov', 'useNesterov'),
      }),
  ],
  [
    ['momentum'],
    (c) =>
      new SGD({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        momentum: pick(c, 'momentum') ?? 0.9,
        nesterov: pick(c, 'useNesterov', 'nesterov'),
      }),
  ],
  [
    ['adam'],
    (c) =>
      new Adam({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        beta1: pick(c, 'beta1'),
        beta2: pick(c, 'beta2'),
        epsilon: pick(c, 'epsilon'),
      }),
  ],
  [
    ['adamw'],
    (c) =>
      new AdamW({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        beta1: pick(c, 'beta1'),
        beta2: pick(c, 'beta2'),
        epsilon: pick(c, 'epsilon'),
        weightDecay: pick(c, 'weightDecay'),
      }),
  ],
  [
    ['rmsprop'],
    (c) =>
      new RMSprop({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        rho: pick(c, 'rho', 'decay'),
        momentum: pick(c, 'momentum'),
        epsilon: pick(c, 'epsilon'),
        centered: pick(c, 'centered'),
      }),
  ],
  [
    ['adagrad'],
    (c) =>
      new Adagrad({
        ...clipFrom(c),
        learningRate: pick(c, 'learningRate', 'lr'),
        initialAccumulatorValue: pick(c, 'initialAccumulatorValue'),
        epsilon: pick(c, 'epsilon'),
      }),
  ],
];
const OPTIMIZER_TABLE = new Map(OPTIMIZERS.flatMap(([names, f]) => names.map((n) => [looseKey(n), f] as const)));
/** Names accepted by compile({optimizer}). */
export const OPTIMIZER_NAMES: readonly string[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/** An optimizer as compile() accepts it: a name (see {@link OPTIMIZER_NAMES}) or an {@link Optimizer}. */
export type OptimizerIdentifier = string | Optimizer;

/**
 * An optimizer from a name ('adam', 'Adam', 'rmsprop', ...) with Keras defaults,
 * or an Optimizer instance. `config` (camelCase or snake_case keys) overrides
 * defaults; it also accepts TensorFlow.js' class names and keys ('Momentum',
 * 'RMSProp' with `decay`), so trainingConfig from tfjs or Keras files loads.
 *
 * @throws Error listing the valid names if the name is unknown, or as the optimizer's constructor
 *   does for an invalid config value.
 */
export function getOptimizer(identifier: OptimizerIdentifier, config: Record<string, unknown> = {}): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier !== 'string') {
    throw new Error(`optimizer must be a name (${OPTIMIZER_NAMES.join(', ')}) or an Optimizer, got ${JSON.stringify(identifier)}`);
  }
  const factory = OPTIMIZER_TABLE.get(looseKey(identifier));
  if (!factory) throw new Error(`Unknown optimizer '${identifier}'. Valid optimizer names: ${OPTIMIZER_NAMES.join(', ')}`);
  const camel: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) camel[toCamelCase(k)] = v;
  // Keras writes beta_1 / beta_2, which camel-case to beta1 / beta2 already.
  return factory(camel);
}
