/**
 * SHAP: exactShapley against the permutation definition of Shapley values and the axioms
 * (efficiency, symmetry, dummy); KernelSHAP's efficiency, exactness on linear models and on full
 * enumeration, and its error against exactShapley shrinking as nsamples grows; GradientSHAP's
 * efficiency on smooth models; seeds; errors. Run on the backend AXON_BACKEND names (default native).
 */
import '@axon/kernels-js';
import { dense } from '@axon/layers';
import { sequential } from '@axon/models';
import { matmul, randomNormal, reshape, setSeed, softmax, type Tensor, tanh, tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { exactShapley, gradientShap, kernelShap } from '../src/index.js';

try {
  await import('@axon/kernels-native');
} catch {
  // absent: the tests run on 'js' only
}

/** A model given as a JS function of one row, applied to each row of a batch ([n] outputs). */
function rowwise(g: (x: number[]) => number): (batch: Tensor) => Tensor {
  return (batch) => {
    const m = batch.shape[1]!;
    const v = batch.dataSync();
    return tensor(Float32Array.from({ length: batch.shape[0]! }, (_, r) => g(Array.from(v.subarray(r * m, (r + 1) * m)))));
  };
}

/** A small seeded table of rows [n, m] with values in [−1, 1]. */
function table(n: number, m: number, seed: number): number[][] {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (2 * s) / 2147483648 - 1;
  };
  return Array.from({ length: n }, () => Array.from({ length: m }, next));
}

/** Shapley values from their definition: the mean marginal contribution over all orderings. */
function permutationShapley(g: (x: number[]) => number, x: number[], background: number[][]): number[] {
  const m = x.length;
  const value = (inS: boolean[]): number =>
    background.reduce((s, b) => s + g(b.map((bi, i) => (inS[i] ? x[i]! : bi))), 0) / background.length;
  const phi = new Array<number>(m).fill(0);
  let orderings = 0;
  const permute = (order: number[], rest: number[]): void => {
    if (rest.length === 0) {
      const inS = new Array<boolean>(m).fill(false);
      let before = value(inS);
      for (const i of order) {
        inS[i] = true;
        const after = value(inS);
        phi[i]! += after - before;
        before = after;
      }
      orderings++;
      return;
    }
    rest.forEach((i, k) => permute([...order, i], [...rest.slice(0, k), ...rest.slice(k + 1)]));
  };
  permute(
    [],
    Array.from({ length: m }, (_, i) => i),
  );
  return phi.map((p) => p / orderings);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sumOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Interactions, a non-linearity, and a dummy feature (3), over 5 features. */
const g5 = (x: number[]): number => 2 * x[0]! * x[1]! + x[2]! ** 2 - 0 * x[3]! + Math.sin(2 * x[4]!) + x[0]! * x[4]!;

describe('exactShapley', () => {
  it('equals the permutation definition of Shapley values', () => {
    const x = [0.7, -0.4, 0.9, 0.3, -0.8];
    const background = table(6, 5, 11);
    const { values, baseValue } = exactShapley(rowwise(g5), tensor([x]), tensor(background));
    const reference = permutationShapley(g5, x, background);
    values.forEach((v, i) => expect(v).toBeCloseTo(reference[i]!, 5));
    expect(baseValue).toBeCloseTo(mean(background.map(g5)), 5);
  });

  it('satisfies efficiency, symmetry and dummy', () => {
    // x0 = x1, and the background holds each row with x0 and x1 swapped, so features 0 and 1 are
    // interchangeable for 2·x0·x1 and x0 + x1; feature 3 is ignored by the function.
    const g = (x: number[]): number => 2 * x[0]! * x[1]! + x[0]! + x[1]! + Math.exp(x[2]!) + 0 * x[3]!;
    const x = [0.5, 0.5, -0.3, 0.8];
    const base = table(5, 4, 3);
    const background = [...base, ...base.map(([a, b, c, d]) => [b!, a!, c!, d!])];
    const { values, baseValue } = exactShapley(rowwise(g), tensor(x), tensor(background));
    expect(sumOf(values)).toBeCloseTo(g(x) - mean(background.map(g)), 5);
    expect(baseValue).toBeCloseTo(mean(background.map(g)), 5);
    expect(values[0]).toBeCloseTo(values[1]!, 6);
    expect(values[3]).toBeCloseTo(0, 6);
    expect(Math.abs(values[2]!)).toBeGreaterThan(0.01);
  });

  it('explains the chosen class; by default the arg-max', () => {
    const f = (batch: Tensor): Tensor => {
      const s = rowwise((x) => x[0]! - x[1]!)(batch).dataSync();
      return tensor(Array.from(s, (v) => [v, -v]));
    };
    const x = tensor([1, -1]);
    const background = tensor([[0, 0]]);
    const byDefault = exactShapley(f, x, background);
    expect(byDefault.classIndex).toBe(0); // f(x) = [2, −2]
    expect(byDefault.values[0]).toBeCloseTo(1, 5);
    const second = exactShapley(f, x, background, { classIndex: 1 });
    expect(second.values[1]).toBeCloseTo(-1, 5);
  });
});

describe('kernelShap', () => {
  it("gives a linear model's values w·(x − E[x]) exactly, with few sampled coalitions", () => {
    const w = [0.5, -1.2, 2, 0.3, -0.7, 1.1];
    const f = (batch: Tensor): Tensor => matmul(batch, tensor(w.map((v) => [v])));
    const x = [1, 2, -1, 0.5, 0.25, -2];
    const background = table(10, 6, 5);
    const expected = w.map((wi, i) => wi * (x[i]! - mean(background.map((b) => b[i]!))));
    for (const nsamples of [20, 62]) {
      const { values } = kernelShap(f, tensor(x), tensor(background), { nsamples, seed: 1 });
      values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    }
  });

  it('sums to f(x) − E[f(background)] (efficiency) even with few coalitions', () => {
    const x = [0.7, -0.4, 0.9, 0.3, -0.8];
    const background = table(8, 5, 2);
    const { values, baseValue } = kernelShap(rowwise(g5), tensor([x]), tensor(background), { nsamples: 12, seed: 4 });
    expect(baseValue).toBeCloseTo(mean(background.map(g5)), 5);
    expect(sumOf(values)).toBeCloseTo(g5(x) - baseValue, 5);
  });

  it('is exact when nsamples covers every coalition (2^M − 2)', () => {
    const g = (x: number[]): number => x[0]! * x[1]! * x[2]! + Math.tanh(x[3]! + x[4]!) + x[5]! ** 3 - x[6]! * x[7]!;
    const x = [0.9, -0.8, 0.7, 0.6, -0.5, 0.4, 0.3, -0.2];
    const background = table(5, 8, 9);
    const exact = exactShapley(rowwise(g), tensor(x), tensor(background)).values;
    const { values } = kernelShap(rowwise(g), tensor(x), tensor(background), { nsamples: 254 });
    values.forEach((v, i) => expect(v).toBeCloseTo(exact[i]!, 5));
  });

  it('error against exact Shapley values shrinks as nsamples grows (10 features)', () => {
    const g = (x: number[]): number =>
      x[0]! * x[1]! + Math.sin(3 * x[2]!) * x[3]! + x[4]! ** 2 - x[5]! * x[6]! * x[7]! + Math.exp(x[8]!) + 0.5 * x[9]! * x[0]!;
    const x = [0.9, -0.7, 0.6, 0.8, -0.9, 0.5, 0.7, -0.6, 0.4, 0.95];
    const background = table(4, 10, 21);
    const exact = exactShapley(rowwise(g), tensor(x), tensor(background)).values;
    const scale = mean(exact.map(Math.abs));
    const budgets = [40, 160, 640, 1022];
    const errors = budgets.map((nsamples) =>
      mean(
        [1, 2, 3, 4].map((seed) => {
          const { values } = kernelShap(rowwise(g), tensor(x), tensor(background), { nsamples, seed });
          return mean(values.map((v, i) => Math.abs(v - exact[i]!)));
        }),
      ),
    );
    console.log(
      `kernelShap mean |error| / mean |phi| by nsamples ${budgets.join(', ')}: ${errors.map((e) => (e / scale).toExponential(2)).join(', ')}`,
    );
    for (let k = 1; k < budgets.length; k++) expect(errors[k]!).toBeLessThan(errors[k - 1]!);
    // Stated tolerances, relative to the mean |φ|: 640 of the 1022 coalitions within 10 %, all of them exact.
    expect(errors[2]! / scale).toBeLessThan(0.1);
    expect(errors[3]! / scale).toBeLessThan(1e-5);
  });

  it('gives 0 to features where x equals every background row', () => {
    const background = [
      [0, 1, 5],
      [1, 0, 5],
    ];
    const { values } = kernelShap(
      rowwise((x) => x[0]! * x[1]! + x[2]!),
      tensor([1, 1, 5]),
      tensor(background),
    );
    expect(values[2]).toBe(0);
    expect(values[0]).toBeCloseTo(values[1]!, 6);
  });

  it('is reproducible with a seed', () => {
    const x = tensor([0.7, -0.4, 0.9, 0.3, -0.8]);
    const background = tensor(table(8, 5, 2));
    const a = kernelShap(rowwise(g5), x, background, { nsamples: 14, seed: 7 }).values;
    const b = kernelShap(rowwise(g5), x, background, { nsamples: 14, seed: 7 }).values;
    const c = kernelShap(rowwise(g5), x, background, { nsamples: 14, seed: 8 }).values;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    setSeed(3);
    const d = kernelShap(rowwise(g5), x, background, { nsamples: 14 }).values;
    setSeed(3);
    expect(kernelShap(rowwise(g5), x, background, { nsamples: 14 }).values).toEqual(d);
  });
});

describe('gradientShap', () => {
  // Expected gradients satisfy efficiency in expectation; 2000 samples leave a Monte Carlo error of a few %.
  it('sums to about f(x) − E[f(background)] (within 10 %) on a smooth Model', () => {
    setSeed(5);
    const model = sequential([dense({ units: 8, activation: 'tanh', inputShape: [4] }), dense({ units: 3, activation: 'softmax' })]);
    const x = tensor([[1.5, -1, 0.5, 2]]);
    const background = tensor(table(16, 4, 8));
    const { values, baseValue, classIndex } = gradientShap(model, x, background, { samples: 2000, seed: 1 });
    expect(values.shape).toEqual([1, 4]);
    const fx = (model.predict(x) as Tensor).dataSync()[classIndex]!;
    const target = fx - baseValue;
    const total = sumOf(Array.from(values.dataSync()));
    console.log(`gradientShap (Model, 2000 samples): sum ${total.toFixed(5)} vs f(x) − base ${target.toFixed(5)}`);
    expect(Math.abs(target)).toBeGreaterThan(0.01);
    expect(Math.abs(total - target)).toBeLessThan(0.1 * Math.abs(target) + 1e-3);
  });

  it('sums to about f(x) − E[f(background)] (within 10 %) on a differentiable function of images', () => {
    setSeed(6);
    const w1 = randomNormal([12, 6], 0, 0.5);
    const w2 = randomNormal([6, 2], 0, 0.5);
    const f = (batch: Tensor): Tensor => softmax(matmul(tanh(matmul(reshape(batch, [batch.shape[0]!, 12]), w1)), w2));
    // x away from a tight background: f(x) − E[f(b)] large against the spread of the per-sample terms.
    const x = randomNormal([1, 2, 3, 2], 1, 1);
    const background = randomNormal([10, 2, 3, 2], 0, 0.3);
    const { values, baseValue, classIndex } = gradientShap(f, x, background, { samples: 2000, seed: 2 });
    expect(values.shape).toEqual([1, 2, 3, 2]);
    const target = f(x).dataSync()[classIndex]! - baseValue;
    const total = sumOf(Array.from(values.dataSync()));
    console.log(`gradientShap (function, 2000 samples): sum ${total.toFixed(5)} vs f(x) − base ${target.toFixed(5)}`);
    expect(Math.abs(target)).toBeGreaterThan(0.01);
    expect(Math.abs(total - target)).toBeLessThan(0.1 * Math.abs(target) + 1e-3);
  });

  it('is reproducible with a seed', () => {
    const f = (batch: Tensor): Tensor => tanh(matmul(batch, tensor([[1], [-2], [0.5]])));
    const x = tensor([0.3, 0.2, -0.1]);
    const background = tensor(table(5, 3, 4));
    const a = gradientShap(f, x, background, { samples: 20, seed: 3 }).values.dataSync();
    expect(gradientShap(f, x, background, { samples: 20, seed: 3 }).values.dataSync()).toEqual(a);
    expect(gradientShap(f, x, background, { samples: 20, seed: 4 }).values.dataSync()).not.toEqual(a);
  });
});

describe('SHAP errors', () => {
  const f = rowwise((x) => x[0]! + x[1]!);
  const x = tensor([1, 2]);
  const background = tensor([
    [0, 0],
    [1, 1],
  ]);
  it('names the function, the option, what it expects and what it got', () => {
    expect(() => kernelShap(f, x, background, { nsample: 10 } as never)).toThrow(
      /kernelShap: unknown option 'nsample' \(did you mean 'nsamples'\?\)/,
    );
    expect(() => kernelShap(f, x, background, { nsamples: 0 })).toThrow(/kernelShap: option 'nsamples' must be a positive integer, got 0/);
    expect(() => kernelShap(f, x, background, { seed: Number.NaN })).toThrow(/kernelShap: option 'seed' must be a finite number, got NaN/);
    expect(() => kernelShap(f, x, background, { classIndex: 1 })).toThrow(
      /kernelShap: option 'classIndex' must be an integer in \[0, 0\].*got 1/,
    );
    expect(() => kernelShap(f, tensor([1, 2, 3]), background)).toThrow(
      /kernelShap: background must be \[rows, \.\.\.shape\].*x a Tensor of shape \[3\]/,
    );
    expect(() => kernelShap(f, [1, 2] as never, background)).toThrow(/kernelShap: x must be a Tensor, got an array of length 2/);
    expect(() => kernelShap('f' as never, x, background)).toThrow(/kernelShap: f must be a function .* or a Model, got "f"/);
    expect(() => exactShapley(f, tensor([Number.NaN, 1]), background)).toThrow(/exactShapley: x has a non-finite value/);
    expect(() => exactShapley(f, tensor(new Array(17).fill(1)), tensor([new Array(17).fill(0)]))).toThrow(
      /exactShapley: x has 17 features; enumeration is limited to 16/,
    );
    expect(() => gradientShap(f, x, background, { samples: 2 })).toThrow(
      /gradientShap: the model's output is not differentiable with respect to its input/,
    );
    expect(() => gradientShap(f, x, background, { sample: 3 } as never)).toThrow(
      /gradientShap: unknown option 'sample' \(did you mean 'samples'\?\)/,
    );
  });

  it('rejects a model whose outputs are malformed or not finite', () => {
    expect(() => exactShapley(() => tensor([1]), x, background)).toThrow(
      /exactShapley: the model must return \[2\] or \[2, classes\] for 2 inputs, got \[1\]/,
    );
    expect(() => exactShapley(() => tensor([Number.NaN]), x, background)).toThrow(/exactShapley: the model returned a non-finite output/);
    expect(() => exactShapley(() => 3 as never, x, background)).toThrow(/exactShapley: the model must return a Tensor, got 3/);
  });
});
