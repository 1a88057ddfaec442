import '@axon/kernels-js';
import { setSeed, type Tensor } from '@axon/tensor';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  activationNames,
  computeFans,
  getActivation,
  getInitializer,
  getRegularizer,
  initializerNames,
  l1,
  l1l2,
  l2,
  serializeActivation,
  serializeInitializer,
  serializeRegularizer,
} from '../src/index.js';

function stats(t: Tensor): { mean: number; std: number; maxAbs: number } {
  const v = t.dataSync();
  let s = 0;
  let s2 = 0;
  let maxAbs = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), maxAbs };
}

describe('initializers', () => {
  beforeEach(() => setSeed(1));

  it('computes fans as Keras (conv kernels multiply by the receptive field)', () => {
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 });
    expect(computeFans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(computeFans([30, 20])).toEqual({ fanIn: 30, fanOut: 20 });
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
  });

  it('glorotUniform: uniform within sqrt(6 / (fanIn + fanOut))', () => {
    const w = getInitializer('glorotUniform').apply([200, 300]);
    const limit = Math.sqrt(6 / 500);
    const s = stats(w);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
  });

  it.each([
    ['glorotNormal', [300, 200], Math.sqrt(2 / 500)],
    ['heNormal', [3, 3, 20, 40], Math.sqrt(2 / 180)],
    ['lecunNormal', [400, 100], Math.sqrt(1 / 400)],
  ] as const)('%s: truncated normal with the requested stddev (Keras 0.8796 correction)', (name, shape, stddev) => {
    const s = stats(getInitializer(name).apply(shape));
    expect(Math.abs(s.std / stddev - 1)).toBeLessThan(0.03);
    expect(s.maxAbs).toBeLessThanOrEqual((2 * stddev) / 0.87962566103423978 + 1e-6);
    expect(Math.abs(s.mean)).toBeLessThan(stddev * 0.03);
  });

  it.each([
    ['heUniform', [400, 100], Math.sqrt(6 / 400)],
    ['lecunUniform', [400, 100], Math.sqrt(3 / 400)],
  ] as const)('%s: uniform within its limit', (name, shape, limit) => {
    const s = stats(getInitializer(name).apply(shape));
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
  });

  it('randomNormal, randomUniform, truncatedNormal, constant, zeros, ones', () => {
    expect(stats(getInitializer('randomNormal').apply([100, 100])).std).toBeCloseTo(0.05, 3);
    expect(stats(getInitializer('random_uniform').apply([100, 100])).maxAbs).toBeLessThanOrEqual(0.05);
    const t = stats(getInitializer({ className: 'TruncatedNormal', config: { mean: 1, stddev: 0.5 } }).apply([100, 100]));
    expect(t.mean).toBeCloseTo(1, 1);
    expect(t.maxAbs).toBeLessThanOrEqual(2);
    expect(
      Array.from(
        getInitializer({ className: 'Constant', config: { value: 3 } })
          .apply([2])
          .dataSync(),
      ),
    ).toEqual([3, 3]);
    expect(Array.from(getInitializer('zeros').apply([2]).dataSync())).toEqual([0, 0]);
    expect(Array.from(getInitializer('Ones').apply([2]).dataSync())).toEqual([1, 1]);
  });

  it('varianceScaling modes and distributions', () => {
    const vs = (config: Record<string, unknown>): Tensor => getInitializer({ className: 'VarianceScaling', config }).apply([400, 100]);
    expect(stats(vs({ scale: 2, mode: 'fanOut', distribution: 'untruncatedNormal' })).std).toBeCloseTo(Math.sqrt(2 / 100), 2);
    expect(stats(vs({ scale: 1, mode: 'fan_avg', distribution: 'uniform' })).maxAbs).toBeLessThanOrEqual(Math.sqrt(3 / 250));
    expect(() => vs({ mode: 'fanMiddle' })).toThrow(/mode must be one of fanIn, fanOut, fanAvg, got 'fanMiddle'/);
  });

  describe('orthogonal', () => {
    it.each([[[6, 6]], [[10, 4]], [[4, 10]], [[2, 3, 5]]] as const)('shape %j gives orthonormal rows or columns', (shape) => {
      const w = getInitializer({ className: 'Orthogonal', config: { gain: 2 } }).apply(shape);
      expect(w.shape).toEqual(shape);
      const cols = shape[shape.length - 1]!;
      const rows = w.size / cols;
      const mat = new Float64Array(w.dataSync());
      const tall = rows >= cols;
      const n = tall ? cols : rows;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let dot = 0;
          if (tall) for (let r = 0; r < rows; r++) dot += mat[r * cols + i]! * mat[r * cols + j]!;
          else for (let c = 0; c < cols; c++) dot += mat[i * cols + c]! * mat[j * cols + c]!;
          expect(dot).toBeCloseTo(i === j ? 4 : 0, 4);
        }
      }
    });
  });

  it('a seed makes an initializer deterministic without touching the global generator', () => {
    const a = getInitializer({ className: 'GlorotUniform', config: { seed: 5 } }).apply([3, 4]);
    setSeed(99);
    const b = getInitializer({ className: 'GlorotUniform', config: { seed: 5 } }).apply([3, 4]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    setSeed(7);
    const c = getInitializer('glorotUniform').apply([3, 4]);
    setSeed(7);
    const d = getInitializer('glorotUniform').apply([3, 4]);
    expect(Array.from(c.dataSync())).toEqual(Array.from(d.dataSync()));
  });

  it('serializes presets as Keras does and accepts every spelling', () => {
    expect(serializeInitializer(getInitializer('glorot_uniform'))).toEqual({ className: 'GlorotUniform', config: { seed: null } });
    expect(serializeInitializer(getInitializer('heNormal'))).toEqual({ className: 'HeNormal', config: { seed: null } });
    expect(serializeInitializer(getInitializer('leCunNormal'))).toEqual({ className: 'LeCunNormal', config: { seed: null } });
    expect(serializeInitializer(getInitializer('randomUniform'))).toEqual({
      className: 'RandomUniform',
      config: { minval: -0.05, maxval: 0.05, seed: null },
    });
    expect(serializeInitializer(getInitializer('orthogonal'))).toEqual({ className: 'Orthogonal', config: { gain: 1, seed: null } });
    expect(initializerNames()).toContain('glorotUniform');
    expect(() => getInitializer('xavier')).toThrow(/Unknown initializer 'xavier'. Valid names: zeros, ones, constant, .*glorotUniform/);
  });
});

describe('activations', () => {
  it('resolves names and Keras aliases, and serializes to the tfjs name', () => {
    expect(serializeActivation(getActivation('leaky_relu'))).toBe('leakyRelu');
    expect(serializeActivation(getActivation(undefined))).toBe('linear');
    expect(serializeActivation(getActivation('silu'))).toBe('swish');
    for (const name of [
      'relu',
      'sigmoid',
      'tanh',
      'softmax',
      'linear',
      'elu',
      'selu',
      'softplus',
      'softsign',
      'gelu',
      'swish',
      'leakyRelu',
    ]) {
      expect(activationNames()).toContain(name);
      expect(getActivation(name).name).toBe(name);
    }
    expect(() => getActivation('rectifier')).toThrow(/Unknown activation 'rectifier'. Valid names: linear, relu, .*leakyRelu, leaky_relu/);
  });
});

describe('regularizers', () => {
  it('l1, l2, l1l2 default to 0.01 and serialize as L1L2', () => {
    expect(serializeRegularizer(l1())).toEqual({ className: 'L1L2', config: { l1: 0.01, l2: 0 } });
    expect(serializeRegularizer(l2({ l2: 0.5 }))).toEqual({ className: 'L1L2', config: { l1: 0, l2: 0.5 } });
    expect(serializeRegularizer(l1l2())).toEqual({ className: 'L1L2', config: { l1: 0.01, l2: 0.01 } });
    expect(serializeRegularizer(getRegularizer('l1_l2'))).toEqual({ className: 'L1L2', config: { l1: 0.01, l2: 0.01 } });
    expect(serializeRegularizer(getRegularizer(null))).toBeNull();
    expect(() => getRegularizer('l3')).toThrow(/Unknown regularizer 'l3'. Valid names: l1, l2, l1l2/);
    expect(() => l1({ l1: -1 })).toThrow(/l1 must be a non-negative number, got -1/);
  });
});
