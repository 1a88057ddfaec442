import '@axon/kernels-js';
import { describe, expect, it } from 'vitest';
import { Tensor, tensor } from '@axon/tensor';
import { BinaryAccuracy, METRIC_NAMES, Precision, Recall, getLoss, getMetric, metrics } from '../src/index.js';

function evaluate(name: string, yTrue: number[] | number[][], yPred: number[][], loss?: string): number {
  const m = getMetric(name, loss ? getLoss(loss) : null);
  m.update(tensor(yTrue), tensor(yPred));
  return m.result();
}

describe('accuracy resolution (as Keras)', () => {
  const probs = [
    [0.1, 0.7, 0.2],
    [0.8, 0.1, 0.1],
    [0.3, 0.3, 0.4],
    [0.2, 0.5, 0.3],
  ];
  it('is sparse categorical for integer labels', () => {
    expect(evaluate('accuracy', [1, 0, 0, 2], probs, 'sparseCategoricalCrossentropy')).toBe(0.5);
    expect(evaluate('acc', [[1], [0], [0], [2]], probs)).toBe(0.5); // from the shapes, no loss
  });
  it('is categorical for one-hot labels', () => {
    const onehot = [
      [0, 1, 0],
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
    ];
    expect(evaluate('accuracy', onehot, probs, 'categoricalCrossentropy')).toBe(0.5);
    expect(evaluate('accuracy', onehot, probs)).toBe(0.5);
  });
  it('is binary (threshold 0.5) for one output unit or binary cross-entropy', () => {
    expect(evaluate('accuracy', [[1], [0], [1], [0]], [[0.9], [0.2], [0.4], [0.6]])).toBe(0.5);
    expect(
      evaluate(
        'accuracy',
        [
          [1, 0],
          [0, 1],
        ],
        [
          [0.9, 0.2],
          [0.4, 0.6],
        ],
        'binaryCrossentropy',
      ),
    ).toBe(1);
  });
  it('accumulates over batches until reset', () => {
    const m = getMetric('accuracy', getLoss('sparseCategoricalCrossentropy'));
    m.update(tensor([1]), tensor([[0.1, 0.9]]));
    m.update(
      tensor([0, 0, 0]),
      tensor([
        [0.1, 0.9],
        [0.1, 0.9],
        [0.9, 0.1],
      ]),
    );
    expect(m.result()).toBe(0.5);
    m.reset();
    expect(m.result()).toBe(0);
  });
});

describe('other metrics', () => {
  it('mse and mae average over elements and samples', () => {
    expect(
      evaluate(
        'mse',
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 0],
          [3, 5],
        ],
      ),
    ).toBeCloseTo(1.25, 6);
    expect(
      evaluate(
        'mean_absolute_error',
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 0],
          [3, 5],
        ],
      ),
    ).toBeCloseTo(0.75, 6);
  });
  it('precision and recall count thresholded predictions', () => {
    const yTrue = [[1], [1], [0], [0], [1]];
    const yPred = [[0.9], [0.2], [0.7], [0.1], [0.6]];
    expect(evaluate('precision', yTrue, yPred)).toBeCloseTo(2 / 3, 6); // tp 2, fp 1
    expect(evaluate('recall', yTrue, yPred)).toBeCloseTo(2 / 3, 6); // tp 2, fn 1
    const p = new metrics.Precision();
    p.update(tensor([[0]]), tensor([[0.1]]));
    expect(p.result()).toBe(0); // no positive predictions: 0, not NaN
  });
  it('accepts Keras snake_case names and reports under the given name', () => {
    for (const name of [
      'categorical_accuracy',
      'sparse_categorical_accuracy',
      'binary_accuracy',
      'mean_squared_error',
      'sparse_categorical_crossentropy',
    ]) {
      expect(getMetric(name).name).toBe(name);
    }
    expect(
      evaluate(
        'sparse_categorical_accuracy',
        [2, 0],
        [
          [0, 0, 1],
          [0, 1, 0],
        ],
      ),
    ).toBe(0.5);
  });
  it('rejects unknown names listing the valid ones', () => {
    expect(() => getMetric('f1')).toThrow(`Unknown metric 'f1'. Valid metric names: ${METRIC_NAMES.join(', ')}`);
  });
  it('rejects labels whose shape does not fit', () => {
    expect(() => evaluate('categorical_accuracy', [[1, 0]], [[0.2, 0.3, 0.5]])).toThrow(
      /categoricalAccuracy: labels have shape \[1,2\] but the model outputs \[1,3\]/,
    );
  });
});

describe('the metrics namespace (as tf.metrics)', () => {
  const values = (t: Tensor): number[] => Array.from(t.dataSync());

  it('computes per-sample values of (yTrue, yPred) as Tensors', () => {
    const acc = metrics.binaryAccuracy(
      tensor([
        [1, 0],
        [0, 0],
      ]),
      tensor([
        [0.9, 0.7],
        [0.2, 0.1],
      ]),
    );
    expect(acc).toBeInstanceOf(Tensor);
    expect(acc.shape).toEqual([2]);
    expect(values(acc)).toEqual([0.5, 1]); // mean over the last axis, as tf.metrics.binaryAccuracy
    expect(values(metrics.binaryAccuracy(tensor([[1], [0]]), tensor([[0.6], [0.4]]), 0.7))).toEqual([0, 1]);
    const probs = tensor([
      [0.1, 0.7, 0.2],
      [0.8, 0.1, 0.1],
    ]);
    expect(
      values(
        metrics.categoricalAccuracy(
          tensor([
            [0, 1, 0],
            [0, 0, 1],
          ]),
          probs,
        ),
      ),
    ).toEqual([1, 0]);
    expect(values(metrics.sparseCategoricalAccuracy(tensor([1, 1]), probs))).toEqual([1, 0]);
    const mse = metrics.meanSquaredError(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      tensor([
        [1, 0],
        [3, 5],
      ]),
    );
    expect(values(mse)).toEqual([2, 0.5]);
    expect(
      values(
        metrics.meanAbsoluteError(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          tensor([
            [1, 0],
            [3, 5],
          ]),
        ),
      ),
    ).toEqual([1, 0.5]);
    const ce = values(metrics.sparseCategoricalCrossentropy(tensor([1, 0]), probs));
    expect(ce[0]).toBeCloseTo(-Math.log(0.7), 5);
    expect(ce[1]).toBeCloseTo(-Math.log(0.8), 5);
  });

  it('precision and recall give scalars', () => {
    const yTrue = tensor([[1], [1], [0], [0], [1]]);
    const yPred = tensor([[0.9], [0.2], [0.7], [0.1], [0.6]]);
    expect(metrics.precision(yTrue, yPred).shape).toEqual([]);
    expect(metrics.precision(yTrue, yPred).item()).toBeCloseTo(2 / 3, 6);
    expect(metrics.recall(yTrue, yPred).item()).toBeCloseTo(2 / 3, 6);
  });

  it('makes accumulating Metric objects with the PascalCase classes (as keras.metrics)', () => {
    const acc = new metrics.BinaryAccuracy({ threshold: 0.8 });
    expect(acc).toBeInstanceOf(BinaryAccuracy);
    expect(acc.name).toBe('binary_accuracy');
    acc.update(tensor([[1], [0]]), tensor([[0.9], [0.85]]));
    acc.update(tensor([[1], [1]]), tensor([[0.7], [0.95]]));
    expect(acc.result()).toBe(0.5);
    const mse = new metrics.MeanSquaredError();
    expect(mse.name).toBe('mean_squared_error');
    mse.update(tensor([[1, 2]]), tensor([[1, 4]]));
    expect(mse.result()).toBe(2);
    expect(new metrics.Recall({ threshold: 0.3 })).toBeInstanceOf(Recall);
    expect(metrics.Precision).toBe(Precision);
    expect(new metrics.SparseCategoricalAccuracy({ name: 'acc' }).name).toBe('acc');
    expect(new metrics.CategoricalAccuracy().name).toBe('categorical_accuracy');
    expect(new metrics.MeanAbsoluteError().name).toBe('mean_absolute_error');
  });

  it('refuses the old factory style instead of ignoring the arguments', () => {
    expect(() => (metrics.binaryAccuracy as unknown as () => unknown)()).toThrow(
      "metrics.binaryAccuracy(yTrue, yPred) computes the metric as a Tensor (as tf.metrics.binaryAccuracy does), got (nothing, nothing); for a Metric object to compile with, use new metrics.BinaryAccuracy() or the name 'binaryAccuracy'",
    );
  });

  it('compiles with Metric objects', async () => {
    const { sequential } = await import('../src/index.js');
    const { dense } = await import('@axon/layers');
    const model = sequential([dense({ units: 1, activation: 'sigmoid', inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: [new metrics.BinaryAccuracy(), new metrics.Precision()] });
    const logs = model.evaluate(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      tensor([1, 0]),
      { returnDict: true },
    );
    expect(Object.keys(logs)).toEqual(['loss', 'binary_accuracy', 'precision']);
  });
});
