/**
 * Log-softmax and the cross-entropies from logits for any finite float32 logits, on every backend
 * ('js', 'native' when it loads, 'sim'), against a float64 reference computed here, independently
 * of Axon: (x - max) - log Σ exp(x - max) in double precision, the loss summed over the classes the
 * labels weigh (a class of label 0 adds 0). The logits sweep magnitudes from 1 to float32's largest.
 */
import '@axon/kernels-native';
import { dense } from '@axon/layers';
import { type Tensor, listBackends, logSoftmax, tensor, withBackend } from '@axon/tensor';
import { describe, expect, it } from 'vitest';

import { BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, sequential } from '../src/index.js';

const MAGNITUDES = [1, 1e3, 1e6, 1e12, 1e16, 1e20, 1e29, 3e29, 1e35, 1e38, 2e38, 3e38, 3.4028234663852886e38];

/** Rows of logits at magnitude c: equal logits (the -log n that vanished), opposite extremes, near-ties, mixed scales. */
function rowsAt(c: number): number[][] {
  return [
    [c, c],
    [c, c, c],
    [-c, -c, -c],
    [c, -c],
    [-c, c, 0],
    [c, 0.5 * c, -c],
    [c, Math.fround(c * (1 - 2 ** -20)), 1],
  ].map((row) => row.map(Math.fround));
}

/** log-softmax of one row in float64 (inputs are float32 values, so they are exact in double). */
function referenceLogSoftmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row.map((x) => x - max - logSum);
}

/** -Σ y·log p over the classes with y ≠ 0, in float64. */
function referenceCrossEntropy(labels: readonly number[], row: readonly number[]): number {
  const logp = referenceLogSoftmax(row);
  return -labels.reduce((s, y, i) => (y === 0 ? s : s + y * logp[i]!), 0);
}

/** Binary cross-entropy from a logit, stably in float64: max(x, 0) - x·z + log(1 + e^-|x|). */
function referenceBinaryCrossEntropy(z: number, x: number): number {
  return Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x)));
}

/** float32 result against the float64 reference rounded to float32 (Infinity where it overflows). */
function expectClose(got: number, want: number, what: string): void {
  const rounded = Math.fround(want);
  if (!Number.isFinite(rounded)) {
    expect(got, what).toBe(rounded);
    return;
  }
  expect(Number.isNaN(got), `${what}: NaN`).toBe(false);
  expect(Math.abs(got - rounded), `${what}: ${got} vs ${rounded}`).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(rounded));
}

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

const backends = listBackends();

describe.each(backends)('extreme logits on %s', (backend) => {
  it('logSoftmax matches the float64 reference for every magnitude up to 3.4e38, along the last axis and along axis 0', () => {
    withBackend(backend, () => {
      for (const c of MAGNITUDES) {
        for (const row of rowsAt(c)) {
          const want = referenceLogSoftmax(row);
          values(logSoftmax(tensor([row]))).forEach((v, i) => expectClose(v, want[i]!, `logSoftmax([${row}])[${i}]`));
          // The same row as a column: the strided path of the kernels.
          const column = logSoftmax(
            tensor(
              row.flatMap((x) => [x, x]),
              [row.length, 2],
            ),
            0,
          );
          values(column).forEach((v, i) => expectClose(v, want[Math.floor(i / 2)]!, `logSoftmax(column [${row}], 0)[${i}]`));
        }
      }
    });
  });

  it('categorical and sparse categorical cross-entropy from logits match the reference for every label of every row', () => {
    withBackend(backend, () => {
      const categorical = new CategoricalCrossentropy({ fromLogits: true });
      const sparse = new SparseCategoricalCrossentropy({ fromLogits: true });
      for (const c of MAGNITUDES) {
        for (const row of rowsAt(c)) {
          for (let label = 0; label < row.length; label++) {
            const oneHot = row.map((_, i) => (i === label ? 1 : 0));
            const want = referenceCrossEntropy(oneHot, row);
            expectClose(categorical.compute(tensor([oneHot]), tensor([row])).item(), want, `categorical([${oneHot}], [${row}])`);
            expectClose(sparse.compute(tensor([label], [1], 'int32'), tensor([row])).item(), want, `sparse(${label}, [${row}])`);
          }
        }
      }
    });
  });

  it('binary cross-entropy from logits matches the reference for labels 0, 0.3 and 1', () => {
    withBackend(backend, () => {
      const bce = new BinaryCrossentropy({ fromLogits: true });
      for (const c of MAGNITUDES) {
        for (const x of [c, -c].map(Math.fround)) {
          for (const z of [0, 0.3, 1].map(Math.fround)) {
            expectClose(bce.compute(tensor([[z]]), tensor([[x]])).item(), referenceBinaryCrossEntropy(z, x), `binary(${z}, ${x})`);
          }
        }
      }
    });
  });

  it('the issue reproducers: logits [2e38, -2e38] give 0, and a model with three equal logits of 3e29 evaluates to ln 3', () => {
    withBackend(backend, () => {
      const logits = tensor([[2e38, -2e38]]);
      // -0 or 0: the loss is the negated sum of zeros.
      expect(Math.abs(new CategoricalCrossentropy({ fromLogits: true }).compute(tensor([[1, 0]]), logits).item())).toBe(0);
      expect(Math.abs(new SparseCategoricalCrossentropy({ fromLogits: true }).compute(tensor([0], [1], 'int32'), logits).item())).toBe(0);

      const model = sequential([dense({ units: 3, inputShape: [1] })]);
      model.setWeights([tensor([[0, 0, 0]]), tensor([3e29, 3e29, 3e29])]);
      model.compile({ optimizer: 'sgd', loss: new SparseCategoricalCrossentropy({ fromLogits: true }) });
      const loss = model.evaluate(tensor([[1]]), tensor([2], [1], 'int32')) as number;
      expectClose(loss, Math.log(3), 'evaluate');
    });
  });
});
