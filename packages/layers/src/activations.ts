import * as ops from '@axon/tensor';
import type { Tensor } from '@axon/tensor';

/** An element-wise (or, for softmax, last-axis) activation function with its serialized name. */
export interface Activation {
  /** The name TensorFlow.js serializes (`'relu'`, `'leakyRelu'`, ...). */
  readonly name: string;
  /** Computes the activation of x (differentiable). */
  apply(x: Tensor): Tensor;
}

/**
 * An activation by name, or an {@link Activation} object. Names: linear, relu, relu6, sigmoid,
 * tanh, softmax, logSoftmax, elu, selu, softplus, softsign, gelu, swish, leakyRelu, and the
 * aliases leaky_relu, log_softmax, silu and None.
 */
export type ActivationIdentifier = string | Activation;

const builtins: Record<string, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu: ops.relu,
  relu6: ops.relu6,
  sigmoid: ops.sigmoid,
  tanh: ops.tanh,
  softmax: (x) => ops.softmax(x, -1),
  logSoftmax: (x) => ops.logSoftmax(x, -1),
  elu: (x) => ops.elu(x, 1),
  selu: ops.selu,
  softplus: ops.softplus,
  softsign: ops.softsign,
  gelu: ops.gelu,
  swish: ops.swish,
  /** Keras' `leaky_relu` activation uses a negative slope of 0.2. */
  leakyRelu: (x) => ops.leakyRelu(x, 0.2),
};

/** Keras / snake_case spellings accepted as aliases of the canonical names. */
const aliases: Record<string, string> = {
  leaky_relu: 'leakyRelu',
  log_softmax: 'logSoftmax',
  silu: 'swish',
  None: 'linear',
};

const cache = new Map<string, Activation>();

/** The names `getActivation` accepts (canonical ones first, then aliases). */
export function activationNames(): string[] {
  return [...Object.keys(builtins), ...Object.keys(aliases)];
}

/**
 * Resolves an activation by name (`'relu'`, `'leaky_relu'`, ...) or passes an
 * Activation object through; null/undefined means linear.
 *
 * @throws Error listing the valid names if the name is unknown or the object is not an Activation.
 *
 * @example
 * ```ts
 * getActivation('relu').apply(tensor([-1, 2])).toArray(); // [0, 2]
 * // A custom activation: any object with a name and a differentiable apply.
 * const mish = { name: 'mish', apply: (x: Tensor) => mul(x, tanh(softplus(x))) };
 * dense({ units: 8, activation: mish });
 * ```
 */
export function getActivation(identifier: ActivationIdentifier | null | undefined): Activation {
  if (identifier === null || identifier === undefined) return getActivation('linear');
  if (typeof identifier !== 'string') {
    if (typeof identifier === 'object' && typeof identifier.apply === 'function' && typeof identifier.name === 'string') return identifier;
    throw new Error(`Unknown activation ${JSON.stringify(identifier)}: expected a name (${activationNames().join(', ')}) or an Activation`);
  }
  const name = aliases[identifier] ?? identifier;
  const fn = Object.hasOwn(builtins, name) ? builtins[name] : undefined;
  if (!fn) throw new Error(`Unknown activation '${identifier}'. Valid names: ${activationNames().join(', ')}`);
  let activation = cache.get(name);
  if (!activation) {
    activation = { name, apply: fn };
    cache.set(name, activation);
  }
  return activation;
}

/** The serialized form TensorFlow.js writes: the activation's name. */
export function serializeActivation(activation: Activation): string {
  return activation.name;
}
