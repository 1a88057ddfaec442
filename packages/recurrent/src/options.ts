/**
 * Option parsing of the recurrent layers: every error names the layer and the option. The helpers
 * common to all layers (positiveInteger, initializerOption, ...) come from @axon/layers.
 */
import { getActivation, looseKey, named, type ActivationIdentifier } from '@axon/layers';
import { add, clip, mul, type RnnActivation, type RnnActivationLike, type Tensor } from '@axon/tensor';

/** A dropout rate in [0, 1); default 0. */
export function rate(layer: string, option: string, value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new Error(`Layer ${layer}: ${option} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A recurrent layer's activation: its serialized name, the name the fused
 * kernels know it by (null when they don't: the composite path runs), and
 * the function itself.
 */
export interface RecurrentActivation {
  /** The serialized name ('tanh', 'hardSigmoid', ...). */
  readonly name: string;
  /** The name the fused kernels know (tanh, sigmoid, relu, linear, hardSigmoid), or null. */
  readonly fused: RnnActivation | null;
  /** Computes the activation (differentiable). */
  apply(x: Tensor): Tensor;
}

const FUSED: readonly string[] = ['tanh', 'sigmoid', 'relu', 'linear'];

/** Keras 2 / TensorFlow.js hard sigmoid: clip(0.2x + 0.5, 0, 1). */
const hardSigmoid: RecurrentActivation = {
  name: 'hardSigmoid',
  fused: 'hardSigmoid',
  apply: (x) => clip(add(mul(x, 0.2), 0.5), 0, 1),
};

/**
 * Resolves an activation name (Keras spellings too, and 'hardSigmoid' which recurrent layers add) or object;
 * undefined gives `fallback`, null gives linear.
 *
 * @throws Error naming the layer and option if the activation is unknown.
 */
export function activationOption(
  layer: string,
  option: string,
  id: ActivationIdentifier | null | undefined,
  fallback: string,
): RecurrentActivation {
  const identifier = id === undefined ? fallback : id;
  if (typeof identifier === 'string' && looseKey(identifier) === 'hardsigmoid') return hardSigmoid;
  const a = named(layer, option, () => getActivation(identifier));
  return { name: a.name, fused: FUSED.includes(a.name) ? (a.name as RnnActivation) : null, apply: (x) => a.apply(x) };
}

/** What the sequence ops take: the fused name when there is one, else the function. */
export function forOp(a: RecurrentActivation): RnnActivationLike {
  return a.fused ?? ((x: Tensor) => a.apply(x));
}
