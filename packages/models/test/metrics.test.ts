import '@axon/kernels-js';
import { describe, expect, it } from 'vitest';
import { tensor } from '@axon/tensor';
import { METRIC_NAMES, getLoss, getMetric, metrics } from '../src/index.js';

function evaluate(name: string, yTrue: number[] | number[][], yPred: number[][], loss?: string): number {
  const m = getMetric(name, loss ? getLoss(loss) : null);
  m.update(tensor(yTrue), tensor(yPred));
  return m.result();
}

describe('accuracy resolution (as Keras)', () => {
  const probs = [[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]];
  it('is sparse categorical for integer labels', () => {
    expect(evaluate('accuracy', [1, 0, 0, 2], probs, 'sparseCategoricalCrossentropy')).toBe(0.5);
    expect(evaluate('acc', [[1], [0], [0], [2]], probs)).toBe(0.5); // from the shapes, no loss
  });
  it('is categorical for one-hot labels', () => {
    const onehot = [[0, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]];
    expect(evaluate('accuracy', onehot, probs, 'categoricalCrossentropy')).toBe(0.5);
    expect(evaluate('accuracy', onehot, probs)).toBe(0.5);
  });
  it('is binary (threshold 0.5) for one output unit or binary cross-entropy', () => {
    expect(evaluate('accuracy', [[1], [0], [1], [0]], [[0.9], [0.2], [0.4], [0.6]])).toBe(0.5);
    expect(evaluate('accuracy', [[1, 0], [0, 1]], [[0.9, 0.2], [0.4, 0.6]], 'binaryCrossentropy')).toBe(1);
  });
  it('accumulates over batches until reset', () => {
    const m = getMetric('accuracy', getLoss('sparseCategoricalCrossentropy'));
    m.update(tensor([1]), tensor([[0.1, 0.9]]));
    m.update(tensor([0, 0, 0]), tensor([[0.1, 0.9], [0.1, 0.9], [0.9, 0.1]]));
    expect(m.result()).toBe(0.5);
    m.reset();
    expect(m.result()).toBe(0);
  });
});

describe('other metrics', () => {
  it('mse and mae average over elements and samples', () => {
    expect(evaluate('mse', [[1, 2], [3, 4]], [[1, 0], [3, 5]])).toBeCloseTo(1.25, 6);
    expect(evaluate('mean_absolute_error', [[1, 2], [3, 4]], [[1, 0], [3, 5]])).toBeCloseTo(0.75, 6);
  });
  it('precision and recall count thresholded predictions', () => {
    const yTrue = [[1], [1], [0], [0], [1]];
    const yPred = [[0.9], [0.2], [0.7], [0.1], [0.6]];
    expect(evaluate('precision', yTrue, yPred)).toBeCloseTo(2 / 3, 6); // tp 2, fp 1
    expect(evaluate('recall', yTrue, yPred)).toBeCloseTo(2 / 3, 6); // tp 2, fn 1
    const p = metrics.precision();
    p.update(tensor([[0]]), tensor([[0.1]]));
    expect(p.result()).toBe(0); // no positive predictions: 0, not NaN
  });
  it('accepts Keras snake_case names and reports under the given name', () => {
    for (const name of ['categorical_accuracy', 'sparse_categorical_accuracy', 'binary_accuracy', 'mean_squared_error', 'sparse_categorical_crossentropy']) {
      expect(getMetric(name).name).toBe(name);
    }
    expect(evaluate('sparse_categorical_accuracy', [2, 0], [[0, 0, 1], [0, 1, 0]])).toBe(0.5);
  });
  it('rejects unknown names listing the valid ones', () => {
    expect(() => getMetric('f1')).toThrow(`Unknown metric 'f1'. Valid metric names: ${METRIC_NAMES.join(', ')}`);
  });
  it('rejects labels whose shape does not fit', () => {
    expect(() => evaluate('categorical_accuracy', [[1, 0]], [[0.2, 0.3, 0.5]])).toThrow(/categoricalAccuracy: labels have shape \[1,2\] but the model outputs \[1,3\]/);
  });
});
