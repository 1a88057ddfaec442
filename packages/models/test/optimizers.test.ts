import '@axon/kernels-js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Variable, add, mul, tensor } from '@axon/tensor';
import { Adagrad, Adam, AdamW, OPTIMIZER_NAMES, RMSprop, SGD, getOptimizer, train } from '../src/index.js';

interface OptimizerCase {
  name: string;
  config: Record<string, number | boolean>;
  steps: number[][][];
}
const ref = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8')).optimizers as {
  p0: number[][];
  g0: number[][];
  cases: Record<string, OptimizerCase>;
};

describe('optimizer steps match Keras update rules (float64 reference)', () => {
  for (const [key, c] of Object.entries(ref.cases)) {
    it(key, () => {
      const optimizer = getOptimizer(c.name, c.config);
      const p = new Variable(tensor(ref.p0), { name: 'p' });
      const g0 = tensor(ref.g0);
      c.steps.forEach((expected, t) => {
        // g_t = g0 * (t + 1) - 0.1 * p_t, as in the reference script.
        const g = add(mul(g0, t + 1), mul(p, -0.1));
        optimizer.applyGradients([p], [g]);
        const actual = Array.from(p.dataSync());
        expected
          .flat()
          .forEach((e, i) => expect(Math.abs(actual[i]! - e), `step ${t + 1}, element ${i}: ${actual[i]} vs ${e}`).toBeLessThan(2e-6));
      });
      expect(optimizer.iterations).toBe(c.steps.length);
    });
  }
});

describe('defaults and construction', () => {
  it('uses the Keras defaults', () => {
    expect(new SGD().getConfig()).toEqual({ learningRate: 0.01, momentum: 0, nesterov: false });
    expect(new Adam().getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    expect(new AdamW().getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 });
    expect(new RMSprop().getConfig()).toEqual({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
    expect(new Adagrad().getConfig()).toEqual({ learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 });
  });

  it('resolves names case- and underscore-insensitively, and tfjs / Keras config keys', () => {
    expect(getOptimizer('Adam')).toBeInstanceOf(Adam);
    expect(getOptimizer('RMSProp', { learning_rate: 0.5, decay: 0.8 }).getConfig()).toMatchObject({ learningRate: 0.5, rho: 0.8 });
    expect(getOptimizer('Momentum', { learningRate: 0.2, momentum: 0.5, useNesterov: true }).getConfig()).toEqual({
      learningRate: 0.2,
      momentum: 0.5,
      nesterov: true,
    });
    expect(getOptimizer('adam', { beta_1: 0.8 }).getConfig()).toMatchObject({ beta1: 0.8 });
  });

  it('has tfjs-style factories', () => {
    expect(train.adam(0.01).learningRate).toBe(0.01);
    expect(train.momentum(0.1, 0.9, true)).toMatchObject({ momentum: 0.9, nesterov: true });
    expect(train.rmsprop(0.01, 0.95).rho).toBe(0.95);
  });

  it('rejects unknown names listing the valid ones, and bad hyper-parameters', () => {
    expect(() => getOptimizer('adamax')).toThrow(`Unknown optimizer 'adamax'. Valid optimizer names: ${OPTIMIZER_NAMES.join(', ')}`);
    expect(() => new Adam({ learningRate: -1 })).toThrow('Adam: learningRate must be a positive number, got -1');
    expect(() => new SGD({ momentum: 1.5 })).toThrow('SGD: momentum must be in [0, 1), got 1.5');
  });

  it('maps to the class names tfjs-layers knows, or null when it has none', () => {
    expect(new SGD().toTfjs()).toEqual({ className: 'SGD', config: { learningRate: 0.01 } });
    expect(new SGD({ momentum: 0.9 }).toTfjs()?.className).toBe('Momentum');
    expect(new RMSprop().toTfjs()?.config).toMatchObject({ decay: 0.9 });
    expect(new AdamW().toTfjs()).toBeNull();
  });

  it('keeps separate state per variable and rejects mismatched gradients', () => {
    const a = new Variable(tensor([1, 2]), { name: 'a' });
    const b = new Variable(tensor([3]), { name: 'b' });
    const opt = new SGD({ learningRate: 0.1, momentum: 0.5 });
    opt.applyGradients([a, b], [tensor([1, 1]), tensor([2])]);
    opt.applyGradients([a, b], [tensor([1, 1]), tensor([2])]);
    // v1 = -0.1 g, v2 = 0.5 v1 - 0.1 g = -0.15 g: p = p0 - 0.25 g.
    expect(Array.from(a.dataSync())).toEqual([0.75, 1.75].map((v) => Math.fround(v)));
    expect(b.dataSync()[0]).toBeCloseTo(2.5, 6);
    expect(() => opt.applyGradients([a], [tensor([1, 2, 3])])).toThrow("SGD: gradient for 'a' has shape [3], expected [2]");
  });
});
