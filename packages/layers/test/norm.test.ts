/**
 * LayerNormalization, the activation layers and the noise layers beyond the PyTorch fixtures
 * (scripts/make-fixtures-norm.py): shapes, configs, errors, unknown options, and the random
 * layers' behaviour: identity outside training, reproducible under setSeed, and their training
 * statistics as Keras defines them.
 */
import { mean, randomNormal, setSeed, sub, sum, tensor, valueAndGrads, ones, zeros, type Tensor } from '@axon/tensor';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AlphaDropout,
  alphaDropout,
  deserializeLayer,
  ELU,
  eLU,
  elu,
  GaussianDropout,
  gaussianDropout,
  GaussianNoise,
  gaussianNoise,
  LayerNormalization,
  layerNormalization,
  LeakyReLU,
  leakyReLU,
  PReLU,
  pReLU,
  prelu,
  ReLU,
  reLU,
  serializeLayer,
  Softmax,
  softmax,
  SpatialDropout1D,
  spatialDropout1d,
  SpatialDropout2D,
  spatialDropout2d,
  type Layer,
} from '../src/index.js';
import { BACKENDS, seeded, useBackend } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const run = (layer: Layer, x: Tensor, training?: boolean): Tensor => layer.apply(x, training === undefined ? {} : { training }) as Tensor;
const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const varianceOf = (v: number[]): number => {
  const m = meanOf(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
};

describe.each(BACKENDS)('normalization, activation and noise layers on the %s backend', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(7);
  });

  describe('output shapes agree with computeOutputShape', () => {
    const cases: [string, () => Layer, number[]][] = [
      ['layerNormalization', () => layerNormalization(), [2, 3, 4]],
      ['layerNormalization axes', () => layerNormalization({ axis: [1, 2] }), [2, 3, 4]],
      ['reLU', () => reLU({ maxValue: 1 }), [2, 5]],
      ['leakyReLU', () => leakyReLU(), [2, 3, 4]],
      ['prelu', () => prelu({ sharedAxes: 1 }), [2, 3, 4]],
      ['elu', () => elu(), [2, 5]],
      ['softmax', () => softmax({ axis: 1 }), [2, 3, 4]],
      ['spatialDropout1d', () => spatialDropout1d({ rate: 0.5 }), [2, 3, 4]],
      ['spatialDropout2d', () => spatialDropout2d({ rate: 0.5 }), [2, 3, 3, 4]],
      ['gaussianNoise', () => gaussianNoise({ stddev: 1 }), [2, 5]],
      ['gaussianDropout', () => gaussianDropout({ rate: 0.5 }), [2, 5]],
      ['alphaDropout', () => alphaDropout({ rate: 0.5 }), [2, 5]],
    ];
    it.each(cases)('%s', (_name, make, shape) => {
      const layer = make();
      for (const training of [false, true]) {
        const y = run(layer, seeded(shape, 3), training);
        expect(y.shape).toEqual(shape);
        expect(layer.computeOutputShape([null, ...shape.slice(1)])).toEqual([null, ...shape.slice(1)]);
      }
    });
  });

  describe('LayerNormalization', () => {
    it('has Keras defaults, gamma then beta shaped as the normalized axes, and round-trips', () => {
      const layer = layerNormalization({ name: 'ln' });
      run(layer, seeded([2, 3, 4], 1));
      expect(layer.weights.map((w) => [w.name, [...w.shape], w.trainable])).toEqual([
        ['ln/gamma', [4], true],
        ['ln/beta', [4], true],
      ]);
      expect(serializeLayer(layer)).toEqual({
        className: 'LayerNormalization',
        config: {
          axis: -1,
          epsilon: 0.001,
          center: true,
          scale: true,
          betaInitializer: { className: 'Zeros', config: {} },
          gammaInitializer: { className: 'Ones', config: {} },
          betaRegularizer: null,
          gammaRegularizer: null,
          name: 'ln',
          trainable: true,
          dtype: 'float32',
        },
      });
      const multi = layerNormalization({ axis: [1, 2], center: false });
      run(multi, seeded([2, 3, 4], 1));
      expect(multi.weights.map((w) => [...w.shape])).toEqual([[3, 4]]);
      const copy = deserializeLayer(JSON.parse(JSON.stringify(serializeLayer(multi))));
      expect(copy).toBeInstanceOf(LayerNormalization);
      expect((copy as LayerNormalization).axis).toEqual([1, 2]);
    });

    it('gives each sample zero mean and unit variance, the same in training and inference', () => {
      const layer = layerNormalization({ epsilon: 1e-6 });
      const x = seeded([3, 50], 4, -3, 5);
      const y = run(layer, x, true);
      expect(values(y)).toEqual(values(run(layer, x, false)));
      const rows = y.toArray() as number[][];
      for (const row of rows) {
        expect(Math.abs(meanOf(row))).toBeLessThan(1e-5);
        expect(varianceOf(row)).toBeCloseTo(1, 4);
      }
    });

    it('adds the regularizers to the losses and takes Keras snake_case configs', () => {
      const layer = layerNormalization({ gammaRegularizer: 'l2', betaRegularizer: 'l1' });
      run(layer, seeded([2, 3], 2));
      expect(layer.regularizationLosses()).toHaveLength(2);
      const keras = deserializeLayer({
        class_name: 'LayerNormalization',
        config: { axis: [2], epsilon: 0.01, beta_initializer: 'ones' },
      } as never);
      expect(serializeLayer(keras).config).toMatchObject({ axis: [2], epsilon: 0.01, betaInitializer: { className: 'Ones', config: {} } });
    });

    it('reports bad options clearly', () => {
      expect(() => layerNormalization({ name: 'l', axis: 1.5 })).toThrow(
        'Layer l: axis must be an integer or a non-empty array of integers, got 1.5',
      );
      expect(() => layerNormalization({ name: 'l', epsilon: 0 })).toThrow('Layer l: epsilon must be a positive number, got 0');
      expect(() => layerNormalization({ name: 'l', gammaConstraint: 'nonNeg' as never })).toThrow(
        /Layer l: gammaConstraint is not supported/,
      );
      expect(() => run(layerNormalization({ name: 'l', axis: 3 }), seeded([2, 3], 1))).toThrow(
        'Layer l: axis 3 is out of range for an input of rank 2',
      );
      expect(() => run(layerNormalization({ name: 'l', axis: [1, -1] }), seeded([2, 3], 1))).toThrow(
        /Layer l: axis \[1,-1\] names an axis twice/,
      );
      expect(() => layerNormalization({ epsilom: 1 } as never)).toThrow(
        /LayerNormalization: unknown option 'epsilom' \(did you mean 'epsilon'\?\)/,
      );
      const built = layerNormalization({ name: 'l' });
      run(built, seeded([2, 3], 1));
      expect(() => run(built, seeded([2, 4], 1))).toThrow(/Layer l: expected axis 1 of the input to have size 3/);
    });
  });

  describe('activation layers', () => {
    it('compute Keras formulas', () => {
      const x = tensor([[-2, -0.5, 0, 0.25, 1, 3, 7]]);
      const close = (t: Tensor, expected: number[]): void =>
        values(t).forEach((v, i) => expect(v, `value ${i}`).toBeCloseTo(expected[i]!, 5));
      close(run(reLU(), x), [0, 0, 0, 0.25, 1, 3, 7]);
      close(run(reLU({ maxValue: 6 }), x), [0, 0, 0, 0.25, 1, 3, 6]);
      close(run(reLU({ maxValue: 2, negativeSlope: 0.1, threshold: 0.5 }), x), [-0.25, -0.1, -0.05, -0.025, 1, 2, 2]);
      close(run(reLU({ threshold: 1.5 }), x), [0, 0, 0, 0, 0, 3, 7]);
      close(run(leakyReLU(), x), [-0.6, -0.15, 0, 0.25, 1, 3, 7]);
      close(run(leakyReLU({ alpha: 0.01 }), x), [-0.02, -0.005, 0, 0.25, 1, 3, 7]);
      close(run(elu(), x), [Math.expm1(-2), Math.expm1(-0.5), 0, 0.25, 1, 3, 7]);
      close(run(elu({ alpha: 2 }), x), [2 * Math.expm1(-2), 2 * Math.expm1(-0.5), 0, 0.25, 1, 3, 7]);
      close(run(prelu({ alphaInitializer: 'ones' }), x), values(x));
      const e = values(x).map(Math.exp);
      close(
        run(softmax(), x),
        e.map((v) => v / e.reduce((a, b) => a + b, 0)),
      );
    });

    it('have Keras / TensorFlow.js defaults and configs', () => {
      expect(serializeLayer(reLU({ name: 'r' }))).toEqual({
        className: 'ReLU',
        config: { maxValue: null, negativeSlope: 0, threshold: 0, name: 'r', trainable: true, dtype: 'float32' },
      });
      expect(serializeLayer(leakyReLU({ name: 'l' })).config).toEqual({ alpha: 0.3, name: 'l', trainable: true, dtype: 'float32' });
      expect(serializeLayer(elu({ name: 'e' })).config).toEqual({ alpha: 1, name: 'e', trainable: true, dtype: 'float32' });
      expect(serializeLayer(softmax({ name: 's' })).config).toEqual({ axis: -1, name: 's', trainable: true, dtype: 'float32' });
      expect(serializeLayer(prelu({ name: 'p' }))).toEqual({
        className: 'PReLU',
        config: {
          alphaInitializer: { className: 'Zeros', config: {} },
          alphaRegularizer: null,
          alphaConstraint: null,
          sharedAxes: null,
          name: 'p',
          trainable: true,
          dtype: 'float32',
        },
      });
      expect(reLU()).toBeInstanceOf(ReLU);
      expect(leakyReLU()).toBeInstanceOf(LeakyReLU);
      expect(elu()).toBeInstanceOf(ELU);
      expect(softmax()).toBeInstanceOf(Softmax);
      expect(prelu()).toBeInstanceOf(PReLU);
      expect(pReLU).toBe(prelu);
      expect(eLU).toBe(elu);
      // Keras saves Softmax's axis as a list.
      expect((deserializeLayer({ className: 'Softmax', config: { axis: [1] } }) as Softmax).axis).toBe(1);
    });

    it('PReLU learns one slope per unshared axis, and its gradient reaches alpha', () => {
      const layer = prelu({ name: 'p', sharedAxes: [1, 2], alphaInitializer: 'ones' });
      const x = seeded([2, 3, 4, 5], 9, -1, 1, 0.01);
      run(layer, x);
      expect(layer.weights.map((w) => [w.name, [...w.shape]])).toEqual([['p/alpha', [1, 1, 5]]]);
      const { grads } = valueAndGrads(() => sum(run(layer, x)), [layer.alpha!]);
      const negatives = values(x).reduce((s, v) => s + Math.min(v, 0), 0);
      expect(values(grads[0]!).reduce((a, b) => a + b, 0)).toBeCloseTo(negatives, 3);
      expect(() => run(layer, seeded([2, 3, 4, 6], 1))).toThrow(/Layer p: expected axis 3 of the input to have size 5/);
      expect(() => run(prelu({ name: 'q', sharedAxes: 3 }), seeded([2, 3], 1))).toThrow(
        'Layer q: sharedAxes [3] is out of range for input shape [2,3]',
      );
    });

    it('report bad options clearly', () => {
      expect(() => reLU({ name: 'r', maxValue: -1 })).toThrow('Layer r: maxValue must be a finite number >= 0, got -1');
      expect(() => reLU({ name: 'r', negativeSlope: -0.1 })).toThrow('Layer r: negativeSlope must be a finite number >= 0, got -0.1');
      expect(() => reLU({ name: 'r', threshold: 'x' as never })).toThrow('Layer r: threshold must be a finite number >= 0, got "x"');
      expect(() => reLU({ name: 'r', threshold: -0.5 })).toThrow('Layer r: threshold must be a finite number >= 0, got -0.5');
      expect(() => leakyReLU({ name: 'l', alpha: -1 })).toThrow('Layer l: alpha must be a finite number >= 0, got -1');
      expect(() => elu({ name: 'e', alpha: Number.NaN })).toThrow('Layer e: alpha must be a finite number >= 0, got null');
      expect(() => softmax({ name: 's', axis: 0.5 })).toThrow('Layer s: axis must be an integer, got 0.5');
      expect(() => run(softmax({ name: 's', axis: 2 }), seeded([2, 3], 1))).toThrow(
        'Layer s: axis 2 is out of range for an input of shape [2,3]',
      );
      expect(() => prelu({ name: 'p', sharedAxes: [0] })).toThrow(/Layer p: sharedAxes must be a positive integer or an array of them/);
      expect(() => prelu({ name: 'p', alphaConstraint: 'nonNeg' as never })).toThrow(/Layer p: alphaConstraint is not supported/);
      expect(() => reLU({ max_value: 6 } as never)).toThrow(/ReLU: unknown option 'max_value' \(did you mean 'maxValue'\?\)/);
      expect(() => leakyReLU({ negativeSlope: 0.1 } as never)).toThrow(/LeakyReLU: unknown option 'negativeSlope'/);
      expect(() => prelu({ shared_axes: [1] } as never)).toThrow(/PReLU: unknown option 'shared_axes' \(did you mean 'sharedAxes'\?\)/);
      expect(() => elu({ alfa: 1 } as never)).toThrow(/ELU: unknown option 'alfa' \(did you mean 'alpha'\?\)/);
      expect(() => softmax({ axes: 1 } as never)).toThrow(/Softmax: unknown option 'axes' \(did you mean 'axis'\?\)/);
    });
  });

  describe('noise layers', () => {
    const randomLayers: [string, () => Layer, number[]][] = [
      ['spatialDropout1d', () => spatialDropout1d({ rate: 0.4 }), [4, 6, 5]],
      ['spatialDropout2d', () => spatialDropout2d({ rate: 0.4 }), [3, 4, 4, 5]],
      ['gaussianNoise', () => gaussianNoise({ stddev: 0.5 }), [6, 7]],
      ['gaussianDropout', () => gaussianDropout({ rate: 0.4 }), [6, 7]],
      ['alphaDropout', () => alphaDropout({ rate: 0.4 }), [6, 7]],
    ];

    it.each(randomLayers)('%s is the identity outside training', (_name, make, shape) => {
      const layer = make();
      const x = seeded(shape, 5);
      expect(values(run(layer, x))).toEqual(values(x));
      expect(values(run(layer, x, false))).toEqual(values(x));
      // ... and not in training.
      expect(values(run(layer, x, true))).not.toEqual(values(x));
    });

    it.each(randomLayers)('%s is reproducible under setSeed', (_name, make, shape) => {
      const x = seeded(shape, 6);
      setSeed(11);
      const a = values(run(make(), x, true));
      setSeed(11);
      const b = values(run(make(), x, true));
      setSeed(12);
      const c = values(run(make(), x, true));
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
    });

    it('a layer seed gives the same noise whatever the global seed', () => {
      const x = seeded([5, 6], 7);
      const makers = [
        () => spatialDropout1d({ rate: 0.5, seed: 3 }),
        () => gaussianNoise({ stddev: 1, seed: 3 }),
        () => gaussianDropout({ rate: 0.5, seed: 3 }),
        () => alphaDropout({ rate: 0.5, seed: 3 }),
      ];
      for (const make of makers) {
        const input = make() instanceof SpatialDropout1D ? seeded([2, 5, 6], 7) : x;
        setSeed(1);
        const a = values(run(make(), input, true));
        setSeed(2);
        expect(values(run(make(), input, true))).toEqual(a);
      }
    });

    it('SpatialDropout1D drops whole channels at the rate, scaling the kept ones by 1/(1-rate)', () => {
      const rate = 0.3;
      const [batch, steps, channels] = [100, 4, 50];
      const y = run(spatialDropout1d({ rate }), ones([batch, steps, channels]), true).toArray() as number[][][];
      let dropped = 0;
      for (let b = 0; b < batch; b++) {
        for (let c = 0; c < channels; c++) {
          const channel = y[b]!.map((row) => row[c]!);
          const first = channel[0]!;
          expect(first === 0 || Math.abs(first - 1 / (1 - rate)) < 1e-6).toBe(true);
          expect(channel.every((v) => v === first)).toBe(true); // the whole channel, every timestep
          if (first === 0) dropped++;
        }
      }
      expect(Math.abs(dropped / (batch * channels) - rate)).toBeLessThan(0.03);
    });

    it('SpatialDropout2D drops whole feature maps at the rate and keeps the mean', () => {
      const rate = 0.5;
      const [batch, h, w, channels] = [80, 3, 3, 40];
      const y = run(spatialDropout2d({ rate }), ones([batch, h, w, channels]), true);
      const maps = (y.toArray() as number[][][][]).flatMap((sample) =>
        Array.from({ length: channels }, (_, c) => sample.flatMap((row) => row.map((pixel) => pixel[c]!))),
      );
      for (const map of maps) expect(map.every((v) => v === map[0])).toBe(true);
      const dropped = maps.filter((m) => m[0] === 0).length / maps.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.03);
      expect(Math.abs(mean(y).item() - 1)).toBeLessThan(0.06);
      expect(() => spatialDropout2d({ rate, dataFormat: 'channelsFirst' as never, name: 'sd' })).toThrow(
        /Layer sd: dataFormat must be 'channelsLast'/,
      );
      expect(() => run(spatialDropout2d({ rate, name: 'sd' }), ones([2, 3, 4]), true)).toThrow(/Layer sd: expected input of rank 4/);
    });

    it('GaussianNoise adds noise of mean 0 and standard deviation stddev', () => {
      const x = seeded([100, 200], 8);
      const noise = values(sub(run(gaussianNoise({ stddev: 0.5 }), x, true), x));
      expect(Math.abs(meanOf(noise))).toBeLessThan(0.01);
      expect(Math.sqrt(varianceOf(noise))).toBeCloseTo(0.5, 2);
    });

    it('GaussianDropout multiplies by noise of mean 1 and variance rate/(1-rate)', () => {
      const rate = 0.2;
      const y = values(run(gaussianDropout({ rate }), ones([100, 200]), true));
      expect(Math.abs(meanOf(y) - 1)).toBeLessThan(0.01);
      expect(varianceOf(y)).toBeCloseTo(rate / (1 - rate), 2);
      expect(values(run(gaussianDropout({ rate: 0 }), ones([2, 2]), true))).toEqual([1, 1, 1, 1]);
    });

    it('AlphaDropout keeps zero mean and unit variance, setting dropped units to a·alpha′ + b', () => {
      const rate = 0.2;
      const alphaP = -1.6732632423543772 * 1.0507009873554805;
      const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
      const b = -a * alphaP * rate;
      const x = randomNormal([100, 200]);
      const y = values(run(alphaDropout({ rate }), x, true));
      expect(Math.abs(meanOf(y))).toBeLessThan(0.02);
      expect(varianceOf(y)).toBeCloseTo(1, 1);
      const droppedValue = a * alphaP + b;
      const dropped = y.filter((v) => Math.abs(v - droppedValue) < 1e-5).length / y.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.01);
      // Kept units are a·x + b.
      const xs = values(x);
      const i = y.findIndex((v) => Math.abs(v - droppedValue) > 1e-3);
      expect(y[i]!).toBeCloseTo(a * xs[i]! + b, 5);
    });

    it('the gradient in training is the mask (spatial dropout) or the noise (gaussian dropout)', () => {
      const x = seeded([3, 4, 5], 12);
      const layer = spatialDropout1d({ rate: 0.5, seed: 4 });
      let y: Tensor | null = null;
      const { grads } = valueAndGrads(() => {
        y = run(layer, x, true);
        return sum(y);
      }, [x]);
      const expected = values(y!).map((v, i) => v / values(x)[i]!);
      values(grads[0]!).forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 5));
    });

    it('configs: Keras defaults, round trips, clear errors', () => {
      expect(serializeLayer(spatialDropout1d({ rate: 0.2, name: 's' }))).toEqual({
        className: 'SpatialDropout1D',
        config: { rate: 0.2, noiseShape: null, seed: null, name: 's', trainable: true, dtype: 'float32' },
      });
      expect(serializeLayer(spatialDropout2d({ rate: 0.2, name: 's' })).config).toMatchObject({ rate: 0.2, dataFormat: 'channelsLast' });
      expect(serializeLayer(gaussianNoise({ stddev: 0.3, name: 'g' })).config).toEqual({
        stddev: 0.3,
        seed: null,
        name: 'g',
        trainable: true,
        dtype: 'float32',
      });
      expect(serializeLayer(gaussianDropout({ rate: 0.3, name: 'g' })).config).toMatchObject({ rate: 0.3, seed: null });
      expect(serializeLayer(alphaDropout({ rate: 0.3, name: 'a' })).config).toMatchObject({ rate: 0.3, noiseShape: null, seed: null });
      for (const cls of [SpatialDropout1D, SpatialDropout2D, GaussianNoise, GaussianDropout, AlphaDropout]) {
        expect(deserializeLayer({ className: cls.className, config: { rate: 0.1, stddev: 0.1 } })).toBeInstanceOf(cls);
      }
      expect(() => spatialDropout1d({ rate: 1, name: 's' })).toThrow('Layer s: rate must be a number in [0, 1), got 1');
      expect(() => spatialDropout1d({ rate: 0.1, noiseShape: [1, 1, 1] } as never)).toThrow(
        /SpatialDropout1D: unknown option 'noiseShape'/,
      );
      expect(() => run(spatialDropout1d({ rate: 0.1, name: 's' }), ones([2, 3]), true)).toThrow(/Layer s: expected input of rank 3/);
      expect(() => gaussianNoise({ stddev: -1, name: 'g' })).toThrow('Layer g: stddev must be a finite number >= 0, got -1');
      expect(() => gaussianNoise({ stdev: 1 } as never)).toThrow(/GaussianNoise: unknown option 'stdev' \(did you mean 'stddev'\?\)/);
      expect(() => gaussianDropout({ rate: -0.1, name: 'g' })).toThrow('Layer g: rate must be a number in [0, 1), got -0.1');
      expect(() => gaussianDropout({ rate: 0.1, seed: 'x' as never, name: 'g' })).toThrow(
        'Layer g: seed must be a finite number or null, got "x"',
      );
      expect(() => alphaDropout({ rate: 2, name: 'a' })).toThrow('Layer a: rate must be a number in [0, 1), got 2');
      expect(() => alphaDropout({ rates: 0.1 } as never)).toThrow(/AlphaDropout: unknown option 'rates' \(did you mean 'rate'\?\)/);
      expect(values(run(alphaDropout({ rate: 0 }), zeros([2]), true))).toEqual([0, 0]);
    });
  });
});
