import { noGrad, valueAndGrads } from '../autograd.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Finite-difference step (central differences); default 1e-2. */
  eps?: number;
  /** Relative tolerance; default 2e-2. */
  rtol?: number;
  /** Absolute tolerance; default 2e-3. */
  atol?: number;
  /** Check at most this many coordinates per input (chosen evenly), to bound the cost; default 64. */
  maxChecksPerInput?: number;
}

/**
 * Compares the autograd gradients of f at `inputs` with central finite
 * differences. f's output is reduced to a scalar by a fixed random projection
 * so that every output element's gradient is exercised. Throws an Error naming
 * the input and coordinate of the first mismatch; returns the largest error.
 */
export function checkGradients(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradCheckOptions = {}): number {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 2e-2;
  const atol = options.atol ?? 2e-3;
  const maxChecks = options.maxChecksPerInput ?? 64;
  const probe = noGrad(() => f(...inputs));
  let seed = 12345;
  const weights = new Float32Array(probe.size).map(() => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return 0.5 + seed / 4294967296; // in [0.5, 1.5): avoids cancellation
  });
  const projection = new Tensor(weights, probe.shape);
  const scalarOf = (...xs: Tensor[]): Tensor => sum(mul(f(...xs), projection));
  // The numeric side sums in float64 so the difference of two nearby sums keeps its digits.
  const projectInFloat64 = (...xs: Tensor[]): number => {
    const y = noGrad(() => f(...xs)).dataSync();
    let total = 0;
    for (let j = 0; j < y.length; j++) total += y[j]! * weights[j]!;
    return total;
  };
  const hostValues = inputs.map((x) => Float32Array.from(x.dataSync()));
  // Fresh tensors from the host values at every evaluation: the backend's device may not be host memory.
  const current = (): Tensor[] => hostValues.map((v, i) => new Tensor(Float32Array.from(v), inputs[i]!.shape));
  const watched = current();
  const analytic = valueAndGrads(() => scalarOf(...watched), watched).grads;
  let worst = 0;
  watched.forEach((x, inputIndex) => {
    const values = hostValues[inputIndex]!;
    const g = analytic[inputIndex]!.dataSync();
    const stride = Math.max(1, Math.floor(values.length / maxChecks));
    for (let i = 0; i < values.length; i += stride) {
      const original = values[i]!;
      values[i] = original + eps;
      const plus = projectInFloat64(...current());
      values[i] = original - eps;
      const minus = projectInFloat64(...current());
      values[i] = original;
      const numeric = (plus - minus) / (2 * eps);
      const error = Math.abs(numeric - g[i]!);
      worst = Math.max(worst, error);
      if (!(error <= atol + rtol * Math.abs(numeric))) {
        throw new Error(
          `gradient mismatch for input ${inputIndex} ${formatShape(x.shape)} at flat index ${i}: ` +
            `autograd ${g[i]}, finite difference ${numeric} (|diff| ${error.toExponential(2)})`,
        );
      }
    }
  });
  return worst;
}
