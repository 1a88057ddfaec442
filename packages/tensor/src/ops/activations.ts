/** The activations the fused kernels compute, as ordinary ops: the composite paths' definition. */
import type { FusedActivation } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { add, clip, mul, relu, sigmoid, tanh } from './elementwise.js';
import { assertTensor } from './util.js';

/** Every activation a fused kernel computes (FusedActivation). */
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'hardSigmoid'];

/** hardSigmoid as Keras 2 and TensorFlow.js define it: clip(0.2x + 0.5, 0, 1). */
export function hardSigmoid(x: Tensor): Tensor {
  assertTensor('hardSigmoid', x);
  return clip(add(mul(x, 0.2), 0.5), 0, 1);
}

/** A fused activation as an op. */
export function fusedActivationOp(activation: FusedActivation): (x: Tensor) => Tensor {
  switch (activation) {
    case 'linear':
      return (x) => x;
    case 'relu':
      return relu;
    case 'sigmoid':
      return sigmoid;
    case 'tanh':
      return tanh;
    case 'hardSigmoid':
      return hardSigmoid;
  }
}
