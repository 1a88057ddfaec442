/**
 * Weight initializers with Keras' semantics and defaults. An initializer is
 * allowed to compute on plain arrays: it fills one and wraps it in a tensor.
 * Unseeded initializers draw from @axon/tensor's global seeded generator (so
 * `setSeed()` makes model construction reproducible); a `seed` option gives a
 * private generator, so the same seeded initializer always yields the same values
 * (Keras 2.7+ behaviour).
 */
import { randomFloat, randomStandardNormal, tensor, type Tensor } from '@axon/tensor';
import { camelCaseKeys, isSerializedObject, looseKey, serializedClassName, type SerializedObject } from './serialization.js';

interface Rng {
  uniform(): number;
  normal(): number;
}

const globalRng: Rng = { uniform: randomFloat, normal: randomStandardNormal };

/**
 * mulberry32 with Box–Muller: a small private generator for seeded initializers and layers.
 * Returns an object with `uniform()` (in [0, 1)) and `normal()` (standard normal).
 */
export function seededRng(seed: number): Rng {
  let state = Math.floor(seed) >>> 0;
  let spare: number | null = null;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

function rngFor(seed: number | null): Rng {
  return seed === null ? globalRng : seededRng(seed);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fillWith(shape: readonly number[], sample: () => number): Tensor {
  const values = new Float32Array(size(shape));
  for (let i = 0; i < values.length; i++) values[i] = sample();
  return tensor(values, shape);
}

/** Normal samples redrawn until within two standard deviations, as TensorFlow's truncated_normal. */
function truncated(rng: Rng): number {
  let z: number;
  do z = rng.normal();
  while (Math.abs(z) > 2);
  return z;
}

/**
 * Keras' fan computation: a dense kernel [in, out] has fans in and out; a conv
 * kernel [...receptive, in, out] multiplies both by the receptive field size.
 */
export function computeFans(shape: readonly number[]): {
  /** Inputs feeding each output unit. */
  fanIn: number;
  /** Outputs each input unit feeds. */
  fanOut: number;
} {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = size(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/**
 * The base class of weight initializers (Keras `initializers.Initializer`). Layers take an
 * initializer as an instance, a name (`'heNormal'`, `'he_normal'`) or a `{className, config}`
 * object; see {@link getInitializer}.
 *
 * @example
 * ```ts
 * dense({ units: 64, kernelInitializer: 'heNormal' });
 * dense({ units: 64, kernelInitializer: new RandomNormal({ stddev: 0.01, seed: 1 }) });
 * new GlorotUniform().apply([3, 4]); // a [3, 4] tensor
 * ```
 */
export abstract class Initializer {
  /** The serialized class name ('GlorotUniform', ...). Every subclass sets its own. */
  static className = 'Initializer';
  /** A tensor of the given shape with this initializer's values. */
  abstract apply(shape: readonly number[]): Tensor;
  /** The constructor arguments, as TensorFlow.js serializes them (camelCase). */
  getConfig(): Record<string, unknown> {
    return {};
  }
  /** The serialized class name of this instance. */
  getClassName(): string {
    return (this.constructor as typeof Initializer).className;
  }
}

function seedOf(args: { seed?: number | null } | undefined): number | null {
  const seed = args?.seed ?? null;
  if (seed !== null && !Number.isFinite(seed)) throw new Error(`Initializer seed must be a finite number or null, got ${seed}`);
  return seed;
}

/** Every value 0 (`'zeros'`; the default bias initializer). */
export class Zeros extends Initializer {
  static override className = 'Zeros';
  apply(shape: readonly number[]): Tensor {
    return tensor(new Float32Array(size(shape)), shape);
  }
}

/** Every value 1 (`'ones'`). */
export class Ones extends Initializer {
  static override className = 'Ones';
  apply(shape: readonly number[]): Tensor {
    return tensor(new Float32Array(size(shape)).fill(1), shape);
  }
}

/** Every value `value` (default 0). */
export class Constant extends Initializer {
  static override className = 'Constant';
  /** The fill value. */
  readonly value: number;
  /** @throws Error if value is not a finite number. */
  constructor(args: { value?: number } = {}) {
    super();
    this.value = args.value ?? 0;
    if (!Number.isFinite(this.value)) throw new Error(`Constant initializer: value must be a finite number, got ${args.value}`);
  }
  apply(shape: readonly number[]): Tensor {
    return tensor(new Float32Array(size(shape)).fill(this.value), shape);
  }
  override getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

/** Uniform in [minval, maxval), default [-0.05, 0.05) (Keras `RandomUniform`). */
export class RandomUniform extends Initializer {
  static override className = 'RandomUniform';
  /** Lower bound (inclusive). */
  readonly minval: number;
  /** Upper bound (exclusive). */
  readonly maxval: number;
  /** The private generator's seed, or null for the global generator (see `setSeed`). */
  readonly seed: number | null;
  /** @throws Error if maxval < minval or seed is not finite. */
  constructor(args: { minval?: number; maxval?: number; seed?: number | null } = {}) {
    super();
    this.minval = args.minval ?? -0.05;
    this.maxval = args.maxval ?? 0.05;
    this.seed = seedOf(args);
    if (!(this.maxval >= this.minval))
      throw new Error(`RandomUniform initializer: maxval (${this.maxval}) must be >= minval (${this.minval})`);
  }
  apply(shape: readonly number[]): Tensor {
    const rng = rngFor(this.seed);
    return fillWith(shape, () => this.minval + (this.maxval - this.minval) * rng.uniform());
  }
  override getConfig(): Record<string, unknown> {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed };
  }
}

/** Normal with mean (default 0) and stddev (default 0.05) (Keras `RandomNormal`). */
export class RandomNormal extends Initializer {
  static override className = 'RandomNormal';
  /** Mean of the distribution. */
  readonly mean: number;
  /** Standard deviation of the distribution. */
  readonly stddev: number;
  /** The private generator's seed, or null for the global generator (see `setSeed`). */
  readonly seed: number | null;
  /** @throws Error if stddev < 0 or seed is not finite. */
  constructor(args: { mean?: number; stddev?: number; seed?: number | null } = {}) {
    super();
    this.mean = args.mean ?? 0;
    this.stddev = args.stddev ?? 0.05;
    this.seed = seedOf(args);
    if (!(this.stddev >= 0)) {
      const name = (this.constructor as typeof RandomNormal).className;
      throw new Error(`${name} initializer: stddev must be >= 0, got ${this.stddev}`);
    }
  }
  /** One standard-normal draw; TruncatedNormal redraws beyond two standard deviations. */
  protected standardDraw(rng: Rng): number {
    return rng.normal();
  }
  apply(shape: readonly number[]): Tensor {
    const rng = rngFor(this.seed);
    return fillWith(shape, () => this.mean + this.stddev * this.standardDraw(rng));
  }
  override getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
  }
}

/** Normal with mean and stddev, values beyond two standard deviations redrawn (Keras `TruncatedNormal`). */
export class TruncatedNormal extends RandomNormal {
  static override className = 'TruncatedNormal';
  protected override standardDraw(rng: Rng): number {
    return truncated(rng);
  }
}

/** Which fan {@link VarianceScaling} divides by: inputs, outputs, or their average (see {@link computeFans}). */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** The distribution {@link VarianceScaling} samples from ('normal' is Keras' legacy alias of 'truncatedNormal'). */
export type Distribution = 'truncatedNormal' | 'untruncatedNormal' | 'normal' | 'uniform';

const fanModes: Record<string, FanMode> = { fanin: 'fanIn', fanout: 'fanOut', fanavg: 'fanAvg' };
const distributions: Record<string, Distribution> = {
  truncatednormal: 'truncatedNormal',
  untruncatednormal: 'untruncatedNormal',
  normal: 'normal',
  uniform: 'uniform',
};

/** Keras' correction so that a normal truncated at 2 stddev still has the requested variance. */
const TRUNCATED_STDDEV_CORRECTION = 0.87962566103423978;

/** Arguments of {@link VarianceScaling} (Keras spellings are accepted too). */
export interface VarianceScalingArgs {
  /** Variance multiplier (positive); default 1. */
  scale?: number;
  /** The fan to divide by; default 'fanIn'. */
  mode?: FanMode | 'fan_in' | 'fan_out' | 'fan_avg';
  /** The distribution; default 'truncatedNormal'. */
  distribution?: Distribution | 'truncated_normal' | 'untruncated_normal';
  /** Seed of a private generator; default null (the global generator). */
  seed?: number | null;
}

/**
 * Samples with variance scale / fan: 'truncatedNormal' (and Keras' legacy
 * 'normal', an alias of it) uses stddev sqrt(scale/fan)/0.8796, 'untruncatedNormal'
 * sqrt(scale/fan), 'uniform' limit sqrt(3*scale/fan).
 */
export class VarianceScaling extends Initializer {
  static override className = 'VarianceScaling';
  /** Variance multiplier. */
  readonly scale: number;
  /** The fan divided by. */
  readonly mode: FanMode;
  /** The distribution sampled. */
  readonly distribution: Distribution;
  /** The private generator's seed, or null for the global generator. */
  readonly seed: number | null;
  /** @throws Error if scale is not positive, mode or distribution is unknown, or seed is not finite. */
  constructor(args: VarianceScalingArgs = {}) {
    super();
    this.scale = args.scale ?? 1;
    if (!(this.scale > 0)) throw new Error(`VarianceScaling initializer: scale must be positive, got ${args.scale}`);
    const mode = fanModes[looseKey(args.mode ?? 'fanIn')];
    if (!mode) throw new Error(`VarianceScaling initializer: mode must be one of fanIn, fanOut, fanAvg, got '${args.mode}'`);
    this.mode = mode;
    const distribution = distributions[looseKey(args.distribution ?? 'truncatedNormal')];
    if (!distribution) {
      throw new Error(
        `VarianceScaling initializer: distribution must be one of truncatedNormal, untruncatedNormal, normal, uniform, got '${args.distribution}'`,
      );
    }
    this.distribution = distribution;
    this.seed = seedOf(args);
  }
  apply(shape: readonly number[]): Tensor {
    const { fanIn, fanOut } = computeFans(shape);
    const fan = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, fan);
    const rng = rngFor(this.seed);
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * scale);
      return fillWith(shape, () => limit * (2 * rng.uniform() - 1));
    }
    if (this.distribution === 'untruncatedNormal') {
      const stddev = Math.sqrt(scale);
      return fillWith(shape, () => stddev * rng.normal());
    }
    const stddev = Math.sqrt(scale) / TRUNCATED_STDDEV_CORRECTION;
    return fillWith(shape, () => stddev * truncated(rng));
  }
  override getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed };
  }
}

type SeedArgs = { seed?: number | null };
type PresetSpec = { readonly scale: number; readonly mode: FanMode; readonly distribution: Distribution };

/**
 * A VarianceScaling preset, its scale/mode/distribution given by the subclass'
 * static `preset`; serialized as Keras does, `{className: 'GlorotUniform', config: {seed}}`.
 */
abstract class VarianceScalingPreset extends VarianceScaling {
  /** The preset's scale, mode and distribution. */
  declare static readonly preset: PresetSpec;
  constructor(args: SeedArgs = {}) {
    const { scale, mode, distribution } = (new.target as unknown as typeof VarianceScalingPreset).preset;
    super({ scale, mode, distribution, seed: seedOf(args) });
  }
  /** `{seed}` only, as Keras serializes a preset. */
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed };
  }
}

/** Glorot (Xavier) uniform: limit sqrt(6 / (fanIn + fanOut)) (`'glorotUniform'`; the default kernel initializer, as in Keras). Takes `{ seed }`. */
export class GlorotUniform extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'GlorotUniform';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 1, mode: 'fanAvg', distribution: 'uniform' };
}
/** Glorot (Xavier) normal: truncated, stddev sqrt(2 / (fanIn + fanOut)) (`'glorotNormal'`). Takes `{ seed }`. */
export class GlorotNormal extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'GlorotNormal';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal' };
}
/** He normal: truncated, stddev sqrt(2 / fanIn) (`'heNormal'`), suited to relu layers. Takes `{ seed }`. */
export class HeNormal extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'HeNormal';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' };
}
/** He uniform: limit sqrt(6 / fanIn) (`'heUniform'`). Takes `{ seed }`. */
export class HeUniform extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'HeUniform';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 2, mode: 'fanIn', distribution: 'uniform' };
}
/** LeCun normal: truncated, stddev sqrt(1 / fanIn) (`'leCunNormal'`), suited to selu layers. Takes `{ seed }`. */
export class LeCunNormal extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'LeCunNormal';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' };
}
/** LeCun uniform: limit sqrt(3 / fanIn) (`'leCunUniform'`). Takes `{ seed }`. */
export class LeCunUniform extends VarianceScalingPreset {
  /** The serialized class name. */
  static override className = 'LeCunUniform';
  /** The VarianceScaling parameters of this preset. */
  static override readonly preset: PresetSpec = { scale: 1, mode: 'fanIn', distribution: 'uniform' };
}

/**
 * A (semi-)orthogonal matrix, as Keras: QR of a normal [prod(shape[:-1]), shape[-1]]
 * matrix (of its transpose when it is wide), Q's columns sign-corrected by diag(R),
 * times `gain`. Modified Gram–Schmidt in float64 yields R with a positive diagonal.
 */
export class Orthogonal extends Initializer {
  static override className = 'Orthogonal';
  /** Multiplies the matrix; default 1. */
  readonly gain: number;
  /** The private generator's seed, or null for the global generator. */
  readonly seed: number | null;
  /** @throws Error if seed is not finite. */
  constructor(args: { gain?: number; seed?: number | null } = {}) {
    super();
    this.gain = args.gain ?? 1;
    this.seed = seedOf(args);
  }
  apply(shape: readonly number[]): Tensor {
    if (shape.length < 2) throw new Error(`Orthogonal initializer: the shape must have rank >= 2, got [${shape.join(',')}]`);
    const cols0 = shape[shape.length - 1]!;
    const rows0 = size(shape) / Math.max(cols0, 1);
    const wide = rows0 < cols0;
    const m = wide ? cols0 : rows0; // tall matrix m x n, m >= n
    const n = wide ? rows0 : cols0;
    const rng = rngFor(this.seed);
    // Column-major storage: q[j] is column j.
    const q: Float64Array[] = Array.from({ length: n }, () => Float64Array.from({ length: m }, () => rng.normal()));
    for (let j = 0; j < n; j++) {
      const v = q[j]!;
      for (let i = 0; i < j; i++) {
        const qi = q[i]!;
        let dot = 0;
        for (let r = 0; r < m; r++) dot += qi[r]! * v[r]!;
        for (let r = 0; r < m; r++) v[r] -= dot * qi[r]!;
      }
      let norm = 0;
      for (let r = 0; r < m; r++) norm += v[r]! * v[r]!;
      norm = Math.sqrt(norm) || 1;
      for (let r = 0; r < m; r++) v[r] /= norm;
    }
    const out = new Float32Array(rows0 * cols0);
    for (let r = 0; r < rows0; r++) {
      for (let c = 0; c < cols0; c++) out[r * cols0 + c] = this.gain * (wide ? q[r]![c]! : q[c]![r]!);
    }
    return tensor(out, shape);
  }
  override getConfig(): Record<string, unknown> {
    return { gain: this.gain, seed: this.seed };
  }
}

/** The identity matrix times `gain` (2-D shapes only), as Keras' `Identity`. */
export class Identity extends Initializer {
  static override className = 'Identity';
  /** The diagonal value; default 1. */
  readonly gain: number;
  /** Takes `{ gain }`. */
  constructor(args: { gain?: number } = {}) {
    super();
    this.gain = args.gain ?? 1;
  }
  apply(shape: readonly number[]): Tensor {
    if (shape.length !== 2) throw new Error(`Identity initializer: the shape must have rank 2, got [${shape.join(',')}]`);
    const [rows, cols] = shape as [number, number];
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = this.gain;
    return tensor(out, shape);
  }
  override getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}

type InitializerClass = new (args?: never) => Initializer;

const initializerClasses: InitializerClass[] = [
  Zeros,
  Ones,
  Constant,
  RandomUniform,
  RandomNormal,
  TruncatedNormal,
  VarianceScaling,
  GlorotUniform,
  GlorotNormal,
  HeNormal,
  HeUniform,
  LeCunNormal,
  LeCunUniform,
  Orthogonal,
  Identity,
];
const byKey = new Map<string, InitializerClass>(
  initializerClasses.map((cls) => [looseKey((cls as unknown as typeof Initializer).className), cls]),
);
byKey.set('zero', Zeros);
byKey.set('one', Ones);

/**
 * An initializer as layers accept it: a name (`'glorotUniform'`, `'glorot_uniform'`,
 * `'GlorotUniform'`), an {@link Initializer}, or a serialized `{className, config}` object.
 */
export type InitializerIdentifier = string | Initializer | SerializedObject;

/** Names accepted by getInitializer, in TensorFlow.js spelling (snake_case and class names work too). */
export function initializerNames(): string[] {
  return initializerClasses.map((cls) => {
    const name = (cls as unknown as typeof Initializer).className;
    return name[0]!.toLowerCase() + name.slice(1);
  });
}

/**
 * Resolves `'glorotUniform'` / `'glorot_uniform'` / `'GlorotUniform'`, a
 * `{className, config}` object (Keras or TensorFlow.js), or an Initializer.
 * A name gives the initializer with its default arguments.
 *
 * @throws Error listing the valid names if the name or className is unknown, or as the
 *   initializer's constructor does for an invalid config.
 */
export function getInitializer(identifier: InitializerIdentifier): Initializer {
  if (identifier instanceof Initializer) return identifier;
  const className =
    typeof identifier === 'string' ? identifier : isSerializedObject(identifier) ? serializedClassName(identifier) : undefined;
  const cls = className === undefined ? undefined : byKey.get(looseKey(className));
  if (!cls) {
    throw new Error(
      `Unknown initializer ${typeof identifier === 'string' ? `'${identifier}'` : JSON.stringify(identifier)}. ` +
        `Valid names: ${initializerNames().join(', ')}`,
    );
  }
  const config = typeof identifier === 'string' ? {} : camelCaseKeys(identifier.config);
  return new (cls as unknown as new (args: Record<string, unknown>) => Initializer)(config);
}

/** An initializer → `{className, config}`, as TensorFlow.js writes it in model.json. */
export function serializeInitializer(initializer: Initializer): SerializedObject {
  return { className: initializer.getClassName(), config: initializer.getConfig() };
}
