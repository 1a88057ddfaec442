/**
 * Fused, in-place optimizer steps with Keras semantics (keras.optimizers.SGD,
 * Adam/AdamW, RMSprop): one pass over the parameter instead of the five or
 * six element-wise ops a composite would take.
 */

import type { AdamConfig, RmspropConfig, SgdConfig } from '@axon/tensor';
import { checkLength, fail } from './validate.js';
import { simdAdam } from './wasm/simd.js';

function checkState(kernel: string, param: Float32Array, arrays: Record<string, Float32Array | null>): void {
  for (const [name, array] of Object.entries(arrays)) {
    if (array) checkLength(kernel, name, array, param.length);
  }
}

/**
 * momentum = 0: p -= lr * g.
 * Otherwise v = momentum * v - lr * g, then p += v, or with Nesterov
 * p += momentum * v - lr * g.
 */
export function sgdUpdate(param: Float32Array, grad: Float32Array, velocity: Float32Array | null, config: SgdConfig): void {
  const { lr, momentum, nesterov } = config;
  checkState('sgdUpdate', param, { grad, velocity });
  const n = param.length;
  if (momentum === 0) {
    for (let i = 0; i < n; i++) param[i] -= lr * grad[i];
    return;
  }
  if (!velocity) fail('sgdUpdate', `momentum is ${momentum} but no velocity buffer was given`);
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const v = momentum * velocity[i] - lr * g;
    velocity[i] = v;
    param[i] += nesterov ? momentum * v - lr * g : v;
  }
}

/**
 * lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
 * m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g²; p -= lr_t m / (sqrt(v) + eps).
 * AdamW's decoupled decay p -= lr * weightDecay * p comes first, as in Keras.
 */
export function adamUpdate(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  config: AdamConfig,
  simd = false,
): void {
  const { lr, beta1, beta2, epsilon, step, weightDecay } = config;
  checkState('adamUpdate', param, { grad, m, v });
  if (!(step >= 1)) fail('adamUpdate', `step must be >= 1 (it is 1-based), got ${step}`);
  const lrT = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  const decay = 1 - lr * weightDecay;
  const n = param.length;
  // simd: the whole multiples of 4 in the WebAssembly module (float64x2 lanes, the same operations), the rest here.
  const vectors = simd && n >= 64 && simdAdam(param, grad, m, v, n & ~3, beta1, beta2, lrT, decay, epsilon) ? n & ~3 : 0;
  for (let i = vectors; i < n; i++) {
    const g = grad[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - (lrT * mi) / (Math.sqrt(vi) + epsilon);
  }
}

/**
 * ms = rho ms + (1 - rho) g²; centered: mg = rho mg + (1 - rho) g and the
 * denominator is ms - mg² (else ms); step = lr g / sqrt(denominator + eps).
 * With momentum: mom = momentum mom + step, p -= mom; else p -= step.
 */
export function rmspropUpdate(
  param: Float32Array,
  grad: Float32Array,
  meanSquare: Float32Array,
  mom: Float32Array | null,
  meanGrad: Float32Array | null,
  config: RmspropConfig,
): void {
  const { lr, rho, momentum, epsilon, centered } = config;
  checkState('rmspropUpdate', param, { grad, meanSquare, mom, meanGrad });
  const momBuffer = momentum === 0 ? null : (mom ?? fail('rmspropUpdate', `momentum is ${momentum} but no mom buffer was given`));
  const meanGradBuffer = centered ? (meanGrad ?? fail('rmspropUpdate', 'centered is true but no meanGrad buffer was given')) : null;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const ms = rho * meanSquare[i] + (1 - rho) * g * g;
    meanSquare[i] = ms;
    let denominator = ms;
    if (meanGradBuffer) {
      const mg = rho * meanGradBuffer[i] + (1 - rho) * g;
      meanGradBuffer[i] = mg;
      denominator -= mg * mg;
    }
    const increment = (lr * g) / Math.sqrt(denominator + epsilon);
    if (momBuffer) {
      const next = momentum * momBuffer[i] + increment;
      momBuffer[i] = next;
      param[i] -= next;
    } else {
      param[i] -= increment;
    }
  }
}
