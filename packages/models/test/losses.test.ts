import '@axon/kernels-js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor, grad, tensor } from '@axon/tensor';
import {
  BinaryCrossentropy,
  CategoricalCrossentropy,
  Huber,
  LOSS_NAMES,
  MeanSquaredError,
  SparseCategoricalCrossentropy,
  getLoss,
  losses,
} from '../src/index.js';

interface LossCase {
  yTrue: number[] | number[][];
  yPred: number[][];
  perSample: number[];
  mean: number;
  weighted: number | null;
  fromLogits?: boolean;
  labelSmoothing?: number;
  delta?: number;
  grad?: number[][];
}
const ref = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')) as Record<string, LossCase>;

function close(actual: Tensor | number, expected: number | number[] | number[][], tol = 1e-5): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual.dataSync());
  const e = typeof expected === 'number' ? [expected] : (expected as number[]).flat(2);
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expect(Math.abs(v - e[i]!), `index ${i}: ${v} vs ${e[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))));
}

const cases: [string, string][] = [
  ['mse', 'meanSquaredError'],
  ['mae', 'meanAbsoluteError'],
  ['huber', 'huber'],
  ['huber_delta_0.5', 'huber'],
  ['bce_probs', 'binaryCrossentropy'],
  ['bce_logits', 'binaryCrossentropy'],
  ['bce_logits_smooth_0.1', 'binaryCrossentropy'],
  ['cce_probs', 'categoricalCrossentropy'],
  ['cce_logits', 'categoricalCrossentropy'],
  ['cce_logits_smooth_0.2', 'categoricalCrossentropy'],
  ['scce_logits', 'sparseCategoricalCrossentropy'],
  ['scce_probs', 'sparseCategoricalCrossentropy'],
];

describe('losses match PyTorch reference values', () => {
  for (const [key, name] of cases) {
    it(`${key}`, () => {
      const c = ref[key]!;
      const config: Record<string, unknown> = {};
      if (c.fromLogits) config.fromLogits = true;
      if (c.labelSmoothing) config.labelSmoothing = c.labelSmoothing;
      if (c.delta) config.delta = c.delta;
      const loss = getLoss(name, config);
      const yTrue = name === 'sparseCategoricalCrossentropy' ? tensor(Int32Array.from(c.yTrue as number[]), [3], 'int32') : tensor(c.yTrue);
      const yPred = tensor(c.yPred);
      close(loss.perSample(yTrue, yPred), c.perSample);
      close(loss.compute(yTrue, yPred), c.mean);
      if (c.weighted !== null) close(loss.compute(yTrue, yPred, tensor([1, 0.5, 2])), c.weighted);
    });
  }

  it('gradients of the logit losses match PyTorch', () => {
    const bce = ref.bce_logits!;
    const g1 = grad((p) => new BinaryCrossentropy({ fromLogits: true }).compute(tensor(bce.yTrue), p))(tensor(bce.yPred));
    close(g1, bce.grad!);
    const sc = ref.scce_logits!;
    const g2 = grad((p) => new SparseCategoricalCrossentropy({ fromLogits: true }).compute(tensor(sc.yTrue as number[]), p))(
      tensor(sc.yPred),
    );
    close(g2, sc.grad!);
  });
});

describe('sparse categorical cross-entropy labels', () => {
  const logits = tensor([
    [1, 2, 3],
    [3, 1, 0],
  ]);
  const loss = new SparseCategoricalCrossentropy({ fromLogits: true });
  const expected = loss.compute(tensor(Int32Array.from([2, 0]), [2], 'int32'), logits).item();

  it('accepts int32 or float labels of shape [n] or [n, 1]', () => {
    for (const labels of [tensor([2, 0]), tensor([[2], [0]]), tensor(Int32Array.from([2, 0]), [2, 1], 'int32')]) {
      expect(loss.compute(labels, logits).item()).toBeCloseTo(expected, 6);
    }
  });

  it('rejects labels out of range, naming the loss, the label, its index and the valid range', () => {
    expect(() => loss.compute(tensor([2, 3]), logits)).toThrow(
      'sparseCategoricalCrossentropy: label 3 at index 1 is out of range: valid labels are integers 0..2 (the model outputs 3 classes)',
    );
    expect(() => loss.compute(tensor([-1, 0]), logits)).toThrow(/label -1 at index 0 is out of range/);
    expect(() => loss.compute(tensor([0.5, 0]), logits)).toThrow(/label 0.5 \(not an integer\) at index 0/);
  });

  it('rejects labels that do not fit the output', () => {
    expect(() => loss.compute(tensor([0, 1, 2]), logits)).toThrow(/labels of shape \[3\] do not fit the model output \[2,3\]/);
  });
});

describe('numerical stability', () => {
  it('logit losses stay finite for huge logits', () => {
    const big = tensor([[1000, -1000, 0]]);
    expect(Number.isFinite(new SparseCategoricalCrossentropy({ fromLogits: true }).compute(tensor([1]), big).item())).toBe(true);
    expect(Number.isFinite(new BinaryCrossentropy({ fromLogits: true }).compute(tensor([[0, 1, 1]]), big).item())).toBe(true);
  });

  it('probability losses clip 0 and 1 instead of returning Infinity', () => {
    const p = tensor([[0, 1, 0]]);
    const value = new CategoricalCrossentropy().compute(tensor([[1, 0, 0]]), p).item();
    expect(value).toBeCloseTo(-Math.log(1e-7), 3);
    expect(Number.isFinite(new BinaryCrossentropy().compute(tensor([[1, 0, 1]]), p).item())).toBe(true);
  });
});

describe('loss names', () => {
  it('accepts camelCase, Keras snake_case and short aliases', () => {
    expect(getLoss('sparse_categorical_crossentropy').name).toBe('sparse_categorical_crossentropy');
    expect(getLoss('SparseCategoricalCrossentropy').displayName).toBe('sparseCategoricalCrossentropy');
    expect(getLoss('mse').name).toBe('mean_squared_error');
    expect(getLoss('mean_absolute_error').name).toBe('mean_absolute_error');
    expect(getLoss('categorical_crossentropy').name).toBe('categorical_crossentropy');
  });

  it('rejects unknown names listing the valid ones', () => {
    expect(() => getLoss('crossEntropy')).toThrow(`Unknown loss 'crossEntropy'. Valid loss names: ${LOSS_NAMES.join(', ')}`);
  });

  it('categorical cross-entropy with integer labels hints at the sparse loss', () => {
    expect(() =>
      new CategoricalCrossentropy().compute(
        tensor([0, 1]),
        tensor([
          [0.5, 0.5],
          [0.2, 0.8],
        ]),
      ),
    ).toThrow(/labels have shape \[2\] but the model outputs \[2,2\].*sparseCategoricalCrossentropy/);
  });

  it('accepts a custom function returning per-sample losses', () => {
    const loss = getLoss(function doubled(yTrue: Tensor, yPred: Tensor) {
      return new MeanSquaredError().perSample(yTrue, yPred);
    });
    expect(loss.compute(tensor([[1], [2]]), tensor([[0], [0]])).item()).toBeCloseTo(2.5, 6);
  });
});

describe('the losses namespace (as tf.losses)', () => {
  const yTrue = tensor([
    [1, 2],
    [3, 4],
  ]);
  const yPred = tensor([
    [1, 4],
    [3, 3],
  ]);

  it('computes the loss of (yTrue, yPred) as a scalar Tensor', () => {
    const mse = losses.meanSquaredError(yTrue, yPred);
    expect(mse).toBeInstanceOf(Tensor);
    expect(mse.shape).toEqual([]);
    expect(mse.item()).toBeCloseTo(1.25, 6); // (0 + 4 + 0 + 1) / 4, as tf.losses.meanSquaredError
    expect(losses.meanAbsoluteError(yTrue, yPred).item()).toBeCloseTo(0.75, 6);
    expect(losses.huber(yTrue, yPred, { delta: 1 }).item()).toBeCloseTo((0 + 1.5 + 0 + 0.5) / 4, 6);
    const logits = tensor([
      [1, 2, 3],
      [3, 1, 0],
    ]);
    const sparse = losses.sparseCategoricalCrossentropy(tensor([2, 0]), logits, { fromLogits: true });
    expect(sparse.item()).toBeCloseTo(new SparseCategoricalCrossentropy({ fromLogits: true }).compute(tensor([2, 0]), logits).item(), 6);
    const onehot = tensor([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(losses.categoricalCrossentropy(onehot, logits, { fromLogits: true }).item()).toBeCloseTo(sparse.item(), 6);
    expect(losses.binaryCrossentropy(tensor([[1], [0]]), tensor([[0.9], [0.2]])).item()).toBeCloseTo(
      -(Math.log(0.9) + Math.log(0.8)) / 2,
      5,
    );
  });

  it('is differentiable', () => {
    const g = grad((p) => losses.meanSquaredError(yTrue, p))(yPred);
    close(g, [
      [0, 1],
      [0, -0.5],
    ]);
  });

  it('keeps configured Loss objects as PascalCase classes, in the namespace too (as keras.losses)', () => {
    expect(new losses.Huber({ delta: 2 })).toBeInstanceOf(Huber);
    expect(losses.MeanSquaredError).toBe(MeanSquaredError);
    expect(new losses.CategoricalCrossentropy({ labelSmoothing: 0.1 }).getConfig()).toEqual({ labelSmoothing: 0.1 });
    expect(losses.BinaryCrossentropy).toBe(BinaryCrossentropy);
    expect(losses.CategoricalCrossentropy).toBe(CategoricalCrossentropy);
  });

  it('refuses the old factory style instead of ignoring the arguments', () => {
    expect(() => (losses.huber as unknown as (o: object) => unknown)({ delta: 2 })).toThrow(
      "losses.huber(yTrue, yPred) computes the loss as a Tensor (as tf.losses.huber does), got (an object, nothing); for a loss object to compile with, use new Huber(...) or the name 'huber'",
    );
  });
});
