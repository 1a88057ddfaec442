import { add, biasActivation, type FusedActivation, type Tensor } from '@axon/tensor';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { getInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';

/** The single input of a one-input layer. */
export function oneTensor(layer: string, inputs: Tensor | Tensor[]): Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`Layer ${layer} expects a single input tensor, got ${inputs.length}`);
    return inputs[0]!;
  }
  return inputs;
}

/** Wraps a resolver so that its error names the layer and the option. */
export function named<T>(layer: string, option: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (e) {
    throw new Error(`Layer ${layer}: invalid ${option}: ${(e as Error).message}`);
  }
}

/** Resolves an activation option with {@link getActivation}; the error names the layer and option. */
export function activationOption(layer: string, option: string, id: ActivationIdentifier | null | undefined): Activation {
  return named(layer, option, () => getActivation(id));
}

/**
 * Resolves an initializer option with {@link getInitializer}, `fallback` (a name) when it is null
 * or undefined; the error names the layer and option.
 */
export function initializerOption(
  layer: string,
  option: string,
  id: InitializerIdentifier | null | undefined,
  fallback: string,
): Initializer {
  return named(layer, option, () => getInitializer(id ?? fallback));
}

/** Resolves a regularizer option with {@link getRegularizer} (null when absent); the error names the layer and option. */
export function regularizerOption(layer: string, option: string, id: RegularizerIdentifier | null | undefined): Regularizer | null {
  return named(layer, option, () => getRegularizer(id));
}

/**
 * Constraints are not implemented; a config carrying one is rejected rather than silently ignored.
 *
 * @throws Error naming the layer and option if value is neither undefined nor null.
 */
export function rejectConstraint(layer: string, option: string, value: unknown): void {
  if (value !== undefined && value !== null) {
    throw new Error(
      `Layer ${layer}: ${option} is not supported by Axon (weight constraints are not implemented), got ${JSON.stringify(value)}`,
    );
  }
}

/** The activation/kernel/bias options that Dense and Conv2D share, as given in their args. */
/** The names of {@link KernelBiasArgs}: the options of every layer with a kernel and a bias. */
export const KERNEL_BIAS_OPTIONS = [
  'activation',
  'useBias',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
  'activityRegularizer',
  'kernelConstraint',
  'biasConstraint',
] as const;

export interface KernelBiasArgs {
  /** Applied to the output (e.g. 'relu', 'softmax'); default linear (none). See {@link getActivation}. */
  activation?: ActivationIdentifier | null;
  /** Whether to add a bias; default true. */
  useBias?: boolean;
  /** Initializer of the kernel; default 'glorotUniform' (as Keras). */
  kernelInitializer?: InitializerIdentifier;
  /** Initializer of the bias; default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** Penalty on the kernel added to the loss, e.g. `'l2'` or `l2({ l2: 1e-4 })`; default none. */
  kernelRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the bias added to the loss; default none. */
  biasRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the layer's output added to the loss; default none. */
  activityRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  kernelConstraint?: null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  biasConstraint?: null;
}

export interface KernelBiasOptions {
  activation: Activation;
  useBias: boolean;
  kernelInitializer: Initializer;
  biasInitializer: Initializer;
  kernelRegularizer: Regularizer | null;
  biasRegularizer: Regularizer | null;
  activityRegularizer: Regularizer | null;
}

/**
 * Resolves KernelBiasArgs with Keras' defaults (glorotUniform kernel, zeros
 * bias, a bias used) and rejects constraints; errors name the layer and option.
 */
export function kernelBiasOptions(layer: string, args: KernelBiasArgs): KernelBiasOptions {
  const options: KernelBiasOptions = {
    activation: activationOption(layer, 'activation', args.activation),
    useBias: bool(layer, 'useBias', args.useBias, true),
    kernelInitializer: initializerOption(layer, 'kernelInitializer', args.kernelInitializer, 'glorotUniform'),
    biasInitializer: initializerOption(layer, 'biasInitializer', args.biasInitializer, 'zeros'),
    kernelRegularizer: regularizerOption(layer, 'kernelRegularizer', args.kernelRegularizer),
    biasRegularizer: regularizerOption(layer, 'biasRegularizer', args.biasRegularizer),
    activityRegularizer: regularizerOption(layer, 'activityRegularizer', args.activityRegularizer),
  };
  rejectConstraint(layer, 'kernelConstraint', args.kernelConstraint);
  rejectConstraint(layer, 'biasConstraint', args.biasConstraint);
  return options;
}

/**
 * A boolean option (undefined or null: `fallback`). A truthy string such as 'no' would otherwise
 * switch the option on: anything but a boolean is an error naming the layer and option.
 *
 * @throws Error naming the layer and option if value is not a boolean.
 */
export function bool(layer: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new Error(`Layer ${layer}: ${option} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * value, checked to be a positive integer.
 *
 * @throws Error naming the layer and option otherwise.
 */
export function positiveInteger(layer: string, option: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new Error(`Layer ${layer}: ${option} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** seed, checked to be null/undefined or a finite number. */
export function seedOption(layer: string, seed: unknown): number | null {
  if (seed === undefined || seed === null) return null;
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new Error(`Layer ${layer}: seed must be a finite number or null, got ${JSON.stringify(seed)}`);
  return seed;
}

export type DataFormat = 'channelsLast' | 'channelsFirst';

/** Only channels-last (NHWC) is supported, as every Axon image op is NHWC. */
export function channelsLastOnly(layer: string, value: unknown): 'channelsLast' {
  if (value === undefined || value === null || value === 'channelsLast' || value === 'channels_last') return 'channelsLast';
  throw new Error(`Layer ${layer}: dataFormat must be 'channelsLast' (Axon images are NHWC), got ${JSON.stringify(value)}`);
}

/** Padding of convolution and pooling layers: 'valid' (none, the default) or 'same' (output size ceil(in / stride)). */
export type PaddingMode = 'valid' | 'same';

export function paddingOption(layer: string, value: unknown): PaddingMode {
  if (value === undefined || value === null) return 'valid';
  if (value === 'valid' || value === 'same') return value;
  throw new Error(`Layer ${layer}: padding must be 'valid' or 'same', got ${JSON.stringify(value)}`);
}

/**
 * Output length of one spatial axis, as Keras' conv_output_length: null for an unknown size.
 *
 * @example
 * ```ts
 * convOutputLength(28, 3, 'valid', 1); // 26
 * convOutputLength(28, 3, 'same', 2);  // 14
 * ```
 */
export function convOutputLength(size: number | null, kernel: number, padding: PaddingMode, stride: number, dilation = 1): number | null {
  if (size === null) return null;
  const effective = (kernel - 1) * dilation + 1;
  const length = padding === 'same' ? size : size - effective + 1;
  return Math.max(0, Math.floor((length + stride - 1) / stride));
}

/** The built-in activations the backends fuse with the bias add (@axon/tensor biasActivation). */
const FUSED: readonly FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh'];

/**
 * activation(y + bias) over the last axis: one fused op (a single pass each
 * way) for the built-in linear, relu, sigmoid and tanh; otherwise the add
 * followed by the activation.
 */
export function biasAndActivation(y: Tensor, bias: Tensor | null, activation: Activation): Tensor {
  const name = activation.name as FusedActivation;
  if (FUSED.includes(name) && activation === getActivation(name)) return biasActivation(y, bias, name);
  return activation.apply(bias ? add(y, bias) : y);
}
