/** Weight (and activity) regularizers: a penalty added to the training loss. */
import { abs, add, mul, scalar, square, sum, type Tensor } from '@axon/tensor';
import { camelCaseKeys, isSerializedObject, looseKey, serializedClassName, type SerializedObject } from './serialization.js';

/**
 * The base class of regularizers (Keras `regularizers.Regularizer`): a penalty on a weight (or
 * a layer's output) added to the training loss. Layers take one as an instance, a name or a
 * `{className, config}` object; see {@link getRegularizer}.
 */
export abstract class Regularizer {
  /** The serialized class name. Every subclass sets its own. */
  static className = 'Regularizer';
  /** The penalty for `x`, a scalar tensor (differentiable). */
  abstract apply(x: Tensor): Tensor;
  /** The constructor arguments, as TensorFlow.js serializes them. */
  getConfig(): Record<string, unknown> {
    return {};
  }
  /** The serialized class name of this instance. */
  getClassName(): string {
    return (this.constructor as typeof Regularizer).className;
  }
}

/** l1 * sum(|x|) + l2 * sum(x^2). */
export class L1L2 extends Regularizer {
  static override className = 'L1L2';
  /** The L1 factor (0 = none). */
  readonly l1: number;
  /** The L2 factor (0 = none). */
  readonly l2: number;
  /**
   * Both factors default to 0.
   *
   * @throws Error if a factor is negative or not finite.
   */
  constructor(args: { l1?: number; l2?: number } = {}) {
    super();
    this.l1 = args.l1 ?? 0;
    this.l2 = args.l2 ?? 0;
    for (const [k, v] of [
      ['l1', this.l1],
      ['l2', this.l2],
    ] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new Error(`L1L2 regularizer: ${k} must be a non-negative number, got ${v}`);
    }
  }
  apply(x: Tensor): Tensor {
    let penalty = scalar(0);
    if (this.l1 > 0) penalty = add(penalty, mul(sum(abs(x)), this.l1));
    if (this.l2 > 0) penalty = add(penalty, mul(sum(square(x)), this.l2));
    return penalty;
  }
  override getConfig(): Record<string, unknown> {
    return { l1: this.l1, l2: this.l2 };
  }
}

/** Keras' default factor for the l1 / l2 / l1l2 shortcuts. */
const DEFAULT_FACTOR = 0.01;

/** An L1 penalty l1 * sum(|x|), factor default 0.01 (Keras `regularizers.l1`). */
export function l1(args: { l1?: number } = {}): Regularizer {
  return new L1L2({ l1: args.l1 ?? DEFAULT_FACTOR });
}
/**
 * An L2 penalty l2 * sum(x²), factor default 0.01 (Keras `regularizers.l2`).
 *
 * @example
 * ```ts
 * dense({ units: 64, kernelRegularizer: l2({ l2: 1e-4 }) });
 * ```
 */
export function l2(args: { l2?: number } = {}): Regularizer {
  return new L1L2({ l2: args.l2 ?? DEFAULT_FACTOR });
}
/** Both penalties, each factor default 0.01 (Keras `regularizers.l1_l2`). */
export function l1l2(args: { l1?: number; l2?: number } = {}): Regularizer {
  return new L1L2({ l1: args.l1 ?? DEFAULT_FACTOR, l2: args.l2 ?? DEFAULT_FACTOR });
}

/** A regularizer as layers accept it: a name (factor 0.01), a {@link Regularizer}, or a `{className, config}` object. */
export type RegularizerIdentifier = 'l1' | 'l2' | 'l1l2' | 'l1_l2' | string | Regularizer | SerializedObject;

const byName: Record<string, () => Regularizer> = { l1: () => l1(), l2: () => l2(), l1l2: () => l1l2() };

/**
 * Resolves `'l1'`, `'l2'`, `'l1l2'` (`'l1_l2'`; factor 0.01), a `{className:
 * 'L1L2', config}` object, or a Regularizer. null/undefined mean none.
 *
 * @throws Error if the name or object is not a known regularizer.
 */
export function getRegularizer(identifier: RegularizerIdentifier | null | undefined): Regularizer | null {
  if (identifier === null || identifier === undefined) return null;
  if (identifier instanceof Regularizer) return identifier;
  if (typeof identifier === 'string') {
    const make = byName[looseKey(identifier)];
    if (!make) throw new Error(`Unknown regularizer '${identifier}'. Valid names: l1, l2, l1l2`);
    return make();
  }
  if (isSerializedObject(identifier)) {
    const key = looseKey(serializedClassName(identifier));
    const config = camelCaseKeys(identifier.config) as { l1?: number; l2?: number };
    if (key === 'l1l2') return new L1L2(config);
    if (key === 'l1') return new L1L2({ l1: config.l1 ?? DEFAULT_FACTOR });
    if (key === 'l2') return new L1L2({ l2: config.l2 ?? DEFAULT_FACTOR });
  }
  throw new Error(`Unknown regularizer ${JSON.stringify(identifier)}. Valid names: l1, l2, l1l2, or {className: 'L1L2', config: {l1, l2}}`);
}

/** `null`, or `{className: 'L1L2', config: {l1, l2}}` as TensorFlow.js writes it. */
export function serializeRegularizer(regularizer: Regularizer | null): SerializedObject | null {
  return regularizer === null ? null : { className: regularizer.getClassName(), config: regularizer.getConfig() };
}
