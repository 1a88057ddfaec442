/** The convolution layers beyond Conv2D (Conv1D, groups, DepthwiseConv2D, SeparableConv1D/2D, Conv2DTranspose): shapes, configs, errors. */
import {
  add,
  conv2d as conv2dOp,
  mul,
  pad,
  randomNormal,
  reshape,
  setSeed,
  slice,
  sum,
  tensor,
  valueAndGrads,
  type Tensor,
} from '@axon/tensor';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Conv1D,
  Conv2DTranspose,
  conv1d,
  DEPTHWISE_DENSE_MAX_CHANNELS,
  conv2d,
  conv2dTranspose,
  DepthwiseConv2D,
  depthwiseConv2d,
  deserializeLayer,
  SeparableConv1D,
  SeparableConv2D,
  separableConv1d,
  separableConv2d,
  serializeLayer,
  type Layer,
  type Shape,
} from '../src/index.js';
import { BACKENDS, seeded, useBackend } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

function expectNear(a: Tensor, b: Tensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  const x = values(a);
  const y = values(b);
  const worst = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
  expect(worst).toBeLessThan(tol);
}

describe.each(BACKENDS)('convolution layers on the %s backend', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(7);
  });

  describe('output shapes agree with computeOutputShape', () => {
    const cases: [string, () => Layer, number[]][] = [
      ['conv1d valid', () => conv1d({ filters: 4, kernelSize: 3 }), [2, 9, 3]],
      ['conv1d same stride 2', () => conv1d({ filters: 2, kernelSize: 4, strides: 2, padding: 'same' }), [2, 9, 3]],
      ['conv1d causal dilated', () => conv1d({ filters: 2, kernelSize: 3, padding: 'causal', dilationRate: 3 }), [1, 7, 2]],
      ['conv1d causal stride 3', () => conv1d({ filters: 2, kernelSize: 2, padding: 'causal', strides: 3 }), [1, 8, 2]],
      ['conv2d groups', () => conv2d({ filters: 6, kernelSize: 3, groups: 3, padding: 'same' }), [2, 5, 6, 3]],
      ['depthwiseConv2d', () => depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 3 }), [2, 6, 5, 2]],
      ['depthwiseConv2d same stride 2', () => depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), [1, 7, 6, 4]],
      ['separableConv2d', () => separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2 }), [2, 6, 6, 3]],
      ['separableConv2d same stride 2', () => separableConv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), [1, 7, 5, 2]],
      ['separableConv1d causal', () => separableConv1d({ filters: 3, kernelSize: 3, padding: 'causal' }), [2, 6, 2]],
      ['separableConv1d valid stride 2', () => separableConv1d({ filters: 3, kernelSize: 2, strides: 2 }), [2, 7, 2]],
      ['conv2dTranspose valid', () => conv2dTranspose({ filters: 3, kernelSize: 3 }), [2, 4, 5, 2]],
      ['conv2dTranspose same stride 2', () => conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), [2, 4, 5, 2]],
      ['conv2dTranspose valid kernel < stride', () => conv2dTranspose({ filters: 1, kernelSize: 2, strides: 3 }), [1, 3, 2, 2]],
    ];
    it.each(cases)('%s', (_name, make, shape) => {
      const layer = make();
      const y = layer.apply(randomNormal(shape)) as Tensor;
      const symbolic: Shape = [null, ...shape.slice(1)];
      expect(layer.computeOutputShape(symbolic)).toEqual([null, ...y.shape.slice(1)]);
    });
  });

  describe('Conv1D', () => {
    it('serializes as TensorFlow.js and round-trips', () => {
      const layer = conv1d({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2, inputShape: [10, 2], name: 'c' });
      const s = serializeLayer(layer);
      expect(s.className).toBe('Conv1D');
      expect(s.config).toMatchObject({
        filters: 4,
        kernelSize: [3],
        strides: [1],
        padding: 'causal',
        dataFormat: 'channelsLast',
        dilationRate: [2],
        activation: 'linear',
        useBias: true,
        kernelInitializer: { className: 'GlorotUniform', config: { seed: null } },
        biasInitializer: { className: 'Zeros', config: {} },
        name: 'c',
        batchInputShape: [null, 10, 2],
      });
      const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
      expect(copy).toBeInstanceOf(Conv1D);
      expect(serializeLayer(copy)).toEqual(s);
    });

    it('has a Keras-layout kernel [kernelSize, in, filters] and equals a conv2d of height 1', () => {
      const layer = conv1d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', name: 'c' });
      const x = seeded([2, 7, 4], 1);
      const y = layer.apply(x) as Tensor;
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
        ['c/kernel', [2, 4, 3]],
        ['c/bias', [3]],
      ]);
      const expected = conv2dOp(reshape(x, [2, 1, 7, 4]), reshape(layer.weights[0]!, [1, 2, 4, 3]), [1, 2], 'same');
      expectNear(y, reshape(expected, [2, 4, 3]));
    });

    it('causal: output t does not depend on inputs after t', () => {
      const layer = conv1d({ filters: 2, kernelSize: 3, padding: 'causal', dilationRate: 2 });
      const x = seeded([1, 8, 2], 2);
      const y = values(layer.apply(x) as Tensor);
      const changed = Float32Array.from(x.dataSync());
      changed[2 * 5] = 100; // step 5, channel 0
      const z = values(layer.apply(tensor(changed, [1, 8, 2])) as Tensor);
      expect(z.slice(0, 2 * 5)).toEqual(y.slice(0, 2 * 5));
      expect(z.slice(2 * 5)).not.toEqual(y.slice(2 * 5));
    });

    it('accepts numbers or one-element arrays; rejects bad options and inputs', () => {
      expect(conv1d({ filters: 2, kernelSize: [3], strides: [2] }).strides).toBe(2);
      expect(() => conv1d({ filters: 2, kernelSize: [3, 3] as unknown as [number], name: 'c' })).toThrow(
        /Layer c: kernelSize must be a positive integer or an array of 1 positive integer, got \[3,3\]/,
      );
      expect(() => conv1d({ filters: 0, kernelSize: 3, name: 'c' })).toThrow(/Layer c: filters must be a positive integer, got 0/);
      expect(() => conv1d({ filters: 2, kernelSize: 3, padding: 'full' as 'same', name: 'c' })).toThrow(
        /Layer c: padding must be 'valid', 'same' or 'causal', got "full"/,
      );
      expect(() => conv1d({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2, name: 'c' })).toThrow(/cannot both differ from 1/);
      expect(() => conv1d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst' as 'channelsLast', name: 'c' })).toThrow(
        /Layer c: dataFormat must be 'channelsLast'/,
      );
      expect(() => conv1d({ filters: 2, kernelSize: 3, kernel_size: 3, name: 'c' } as never)).toThrow(
        /Conv1D: unknown option 'kernel_size' \(did you mean 'kernelSize'\?\)/,
      );
      const free = conv1d({ filters: 2, kernelSize: 4, name: 'f' });
      expect(() => free.apply(seeded([2, 8, 8, 1], 1))).toThrow(/Layer f: expected input of rank 3/);
      expect(() => free.apply(seeded([1, 3, 1], 1))).toThrow(/Layer f: the kernel of 4 steps \(dilated\) does not fit/);
    });
  });

  describe('Conv2D groups', () => {
    it('kernel [kh, kw, in / groups, filters]; each group sees only its channels', () => {
      const layer = conv2d({ filters: 4, kernelSize: 2, groups: 2, useBias: false, name: 'g' });
      const x = seeded([1, 4, 4, 6], 3);
      const y = layer.apply(x) as Tensor;
      expect(layer.weights[0]!.shape).toEqual([2, 2, 3, 4]);
      const k = layer.weights[0]!;
      // Group 1: input channels 3..5, filters 2..3.
      const x1 = slice(x, [0, 0, 0, 3], [1, 4, 4, 3]);
      const k1 = slice(k, [0, 0, 0, 2], [2, 2, 3, 2]);
      expectNear(slice(y, [0, 0, 0, 2], [1, 3, 3, 2]), conv2dOp(x1, k1));
      expect(serializeLayer(layer).config.groups).toBe(2);
      expect(serializeLayer(conv2d({ filters: 4, kernelSize: 2 })).config).not.toHaveProperty('groups');
      const copy = deserializeLayer(serializeLayer(layer));
      expect((copy as typeof layer).groups).toBe(2);
    });

    it('Conv1D takes groups too: kernel [k, in / groups, filters], in the config only when not 1', () => {
      const layer = conv1d({ filters: 4, kernelSize: 3, groups: 2, name: 'g' });
      layer.apply(seeded([1, 6, 6], 1));
      expect(layer.weights[0]!.shape).toEqual([3, 3, 4]);
      expect(serializeLayer(layer).config.groups).toBe(2);
      expect(serializeLayer(conv1d({ filters: 4, kernelSize: 3 })).config).not.toHaveProperty('groups');
      expect((deserializeLayer(serializeLayer(layer)) as Conv1D).groups).toBe(2);
      expect(() => conv1d({ filters: 3, kernelSize: 2, groups: 2, name: 'g' })).toThrow(
        /Layer g: filters \(3\) must be divisible by groups \(2\)/,
      );
      expect(() => layer.apply(seeded([1, 6, 5], 1))).toThrow(/Layer g: expected axis -1 of the input to have size 6/);
      expect(() => conv1d({ filters: 4, kernelSize: 2, groups: 4, name: 'h' }).apply(seeded([1, 6, 6], 1))).toThrow(
        /Layer h: the input channels \(6\) must be divisible by groups \(4\)/,
      );
    });

    it('rejects groups that do not divide filters or channels', () => {
      expect(() => conv2d({ filters: 5, kernelSize: 2, groups: 2, name: 'g' })).toThrow(
        /Layer g: filters \(5\) must be divisible by groups \(2\)/,
      );
      expect(() => conv2d({ filters: 4, kernelSize: 2, groups: 0, name: 'g' })).toThrow(
        /Layer g: groups must be a positive integer, got 0/,
      );
      const layer = conv2d({ filters: 4, kernelSize: 2, groups: 2, name: 'g' });
      expect(() => layer.apply(seeded([1, 4, 4, 3], 1))).toThrow(/Layer g: the input channels \(3\) must be divisible by groups \(2\)/);
    });
  });

  describe('DepthwiseConv2D', () => {
    it('serializes as TensorFlow.js, round-trips, names its weights as Keras', () => {
      const layer = depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'd', inputShape: [5, 5, 3] });
      const s = serializeLayer(layer);
      expect(s.className).toBe('DepthwiseConv2D');
      expect(s.config).toMatchObject({
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: 'same',
        dilationRate: [1, 1],
        depthMultiplier: 2,
        depthwiseInitializer: { className: 'GlorotUniform', config: { seed: null } },
        depthwiseRegularizer: null,
        depthwiseConstraint: null,
        useBias: true,
      });
      expect(s.config).not.toHaveProperty('filters');
      expect(deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s)).toBeInstanceOf(DepthwiseConv2D);
      layer.apply(seeded([1, 5, 5, 3], 1));
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
        ['d/depthwise_kernel', [3, 3, 3, 2]],
        ['d/bias', [6]],
      ]);
    });

    it('output channel c * depthMultiplier + m convolves input channel c with depthwise_kernel[..., c, m]', () => {
      const layer = depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, useBias: false });
      const x = seeded([1, 4, 5, 3], 4);
      const y = layer.apply(x) as Tensor;
      const k = layer.weights[0]!;
      const c = 2;
      const m = 1;
      const expected = conv2dOp(slice(x, [0, 0, 0, c], [1, 4, 5, 1]), slice(k, [0, 0, c, m], [2, 2, 1, 1]));
      expectNear(slice(y, [0, 0, 0, c * 2 + m], [1, 3, 4, 1]), expected);
    });

    // Above DEPTHWISE_DENSE_MAX_CHANNELS the layer sums over filter taps instead of the block-diagonal
    // conv2d that the PyTorch fixtures check: both must agree, values and gradients.
    const wide = DEPTHWISE_DENSE_MAX_CHANNELS + 3;
    it.each([
      ['same, stride 2, multiplier 2', [2, 5, 4, wide], { kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 }],
      ['valid, dilation 2', [1, 6, 5, wide], { kernelSize: [2, 2], dilationRate: 2 }],
      ['same, strides [1, 3], kernel [2, 3]', [1, 4, 7, wide], { kernelSize: [2, 3], strides: [1, 3], padding: 'same' }],
      ['valid, stride 2, odd size', [1, 7, 6, wide], { kernelSize: 3, strides: 2, depthMultiplier: 1 }],
    ] as const)('over %s channels: the tap sum equals the block-diagonal conv2d, values and gradients (%s)', (_name, shape, args) => {
      const layer = depthwiseConv2d({ ...args, biasInitializer: 'randomNormal' } as never);
      const x = seeded([...shape], 8);
      layer.build([...shape]);
      const [kernel, bias] = [layer.trainableWeights[0]!, layer.trainableWeights[1]!];
      const [kh, kw, c, m] = kernel.shape as [number, number, number, number];
      const dense = (k: Tensor): Tensor => {
        const eye = new Float32Array(c * c);
        for (let i = 0; i < c; i++) eye[i * c + i] = 1;
        return reshape(mul(reshape(k, [kh, kw, 1, c, m]), tensor(eye, [1, 1, c, c, 1])), [kh, kw, c, c * m]);
      };
      const layerArgs = layer as unknown as { strides: [number, number]; padding: 'same' | 'valid'; dilationRate: [number, number] };
      const reference = (input: Tensor, k: Tensor, b: Tensor): Tensor =>
        add(conv2dOp(input, dense(k), layerArgs.strides, layerArgs.padding, layerArgs.dilationRate), b);
      const projection = seeded([...reference(x, kernel, bias).shape], 9);
      const ours = valueAndGrads(() => sum(mul(layer.apply(x) as Tensor, projection)), [x, kernel, bias]);
      const theirs = valueAndGrads(() => sum(mul(reference(x, kernel, bias), projection)), [x, kernel, bias]);
      expectNear(layer.apply(x) as Tensor, reference(x, kernel, bias), 1e-4);
      ours.grads.forEach((g, i) => expectNear(g, theirs.grads[i]!, 1e-4));
      expect(layer.computeOutputShape([null, ...shape.slice(1)])).toEqual([null, ...(layer.apply(x) as Tensor).shape.slice(1)]);
    });

    it('rejects bad options', () => {
      expect(() => depthwiseConv2d({ kernelSize: 3, depthMultiplier: 0, name: 'd' })).toThrow(
        /Layer d: depthMultiplier must be a positive integer, got 0/,
      );
      expect(() => depthwiseConv2d({ kernelSize: 3, filters: 3, name: 'd' } as never)).toThrow(/DepthwiseConv2D: unknown option 'filters'/);
      expect(() => depthwiseConv2d({ kernelSize: 3, depthwiseConstraint: { className: 'MaxNorm' }, name: 'd' } as never)).toThrow(
        /Layer d: depthwiseConstraint is not supported/,
      );
      expect(() => depthwiseConv2d({ kernelSize: 3, depthwiseInitializer: 'nope', name: 'd' } as never)).toThrow(
        /Layer d: invalid depthwiseInitializer/,
      );
      const layer = depthwiseConv2d({ kernelSize: 3, name: 'd' });
      expect(() => layer.apply(seeded([1, 2, 5, 1], 1))).toThrow(/Layer d: the 3x3 kernel \(dilated\) does not fit/);
    });
  });

  describe('SeparableConv2D and SeparableConv1D', () => {
    it('equal a depthwise then a pointwise convolution; weights depthwise_kernel, pointwise_kernel, bias', () => {
      const layer = separableConv2d({ filters: 3, kernelSize: 2, depthMultiplier: 2, name: 's', biasInitializer: 'ones' });
      const x = seeded([2, 4, 5, 2], 5);
      const y = layer.apply(x) as Tensor;
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
        ['s/depthwise_kernel', [2, 2, 2, 2]],
        ['s/pointwise_kernel', [1, 1, 4, 3]],
        ['s/bias', [3]],
      ]);
      const depthwise = depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, useBias: false });
      depthwise.build([2, 4, 5, 2]);
      depthwise.setWeights([layer.weights[0]!]);
      const expected = add(conv2dOp(depthwise.apply(x) as Tensor, layer.weights[1]!), 1);
      expectNear(y, expected);
    });

    it('serialize (tfjs SeparableConv2D config) and round-trip', () => {
      const layer = separableConv2d({ filters: 3, kernelSize: 3, name: 's', pointwiseRegularizer: 'l2' });
      const s = serializeLayer(layer);
      expect(s.config).toMatchObject({
        filters: 3,
        kernelSize: [3, 3],
        depthMultiplier: 1,
        depthwiseInitializer: { className: 'GlorotUniform', config: { seed: null } },
        pointwiseInitializer: { className: 'GlorotUniform', config: { seed: null } },
        pointwiseRegularizer: { className: 'L1L2' },
        pointwiseConstraint: null,
      });
      expect(s.config).not.toHaveProperty('kernelInitializer');
      const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
      expect(copy).toBeInstanceOf(SeparableConv2D);
      expect(serializeLayer(copy)).toEqual(s);
      const one = separableConv1d({ filters: 2, kernelSize: 3, padding: 'causal', name: 't' });
      const s1 = serializeLayer(one);
      expect(s1.className).toBe('SeparableConv1D');
      expect(s1.config).toMatchObject({ kernelSize: [3], strides: [1], dilationRate: [1], padding: 'causal' });
      expect(deserializeLayer(s1)).toBeInstanceOf(SeparableConv1D);
      one.apply(seeded([1, 5, 2], 1));
      expect(one.weights.map((w) => [w.name, w.shape])).toEqual([
        ['t/depthwise_kernel', [3, 2, 1]],
        ['t/pointwise_kernel', [1, 2, 2]],
        ['t/bias', [2]],
      ]);
    });

    // Above DEPTHWISE_DENSE_MAX_CHANNELS: taps then the 1×1 conv2d, instead of the folded kernel that the
    // PyTorch fixtures check; both must agree, values and gradients.
    it.each([
      [
        '2-D same, stride 2, multiplier 2',
        2,
        [2, 5, 4, DEPTHWISE_DENSE_MAX_CHANNELS + 2],
        { kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 },
      ],
      ['2-D valid, dilation 2', 2, [1, 6, 5, DEPTHWISE_DENSE_MAX_CHANNELS + 1], { kernelSize: [2, 3], dilationRate: 2 }],
      ['1-D causal, dilation 2', 1, [2, 7, DEPTHWISE_DENSE_MAX_CHANNELS + 1], { kernelSize: 3, padding: 'causal', dilationRate: 2 }],
      [
        '1-D same, stride 2, multiplier 2',
        1,
        [1, 8, DEPTHWISE_DENSE_MAX_CHANNELS + 2],
        { kernelSize: 2, strides: 2, padding: 'same', depthMultiplier: 2 },
      ],
    ] as const)('wide (%s): taps + pointwise equal the folded kernel, values and gradients', (_name, rank, shape, args) => {
      const make = rank === 1 ? separableConv1d : separableConv2d;
      const layer = make({ filters: 5, ...args, biasInitializer: 'randomNormal' } as never);
      const x = seeded([...shape], 10);
      layer.build([...shape]);
      const [d, p, b] = [layer.trainableWeights[0]!, layer.trainableWeights[1]!, layer.trainableWeights[2]!];
      const c = shape[shape.length - 1]!;
      const m = d.shape[d.shape.length - 1]!;
      const taps = d.shape.slice(0, -2).reduce((a, v) => a * v, 1);
      const folded = (dk: Tensor, pk: Tensor): Tensor =>
        reshape(sum(mul(reshape(dk, [taps, c, m, 1]), reshape(pk, [1, c, m, 5])), 2), [...d.shape.slice(0, -2), c, 5]);
      const l = layer as unknown as { strides: number[]; padding: string; dilationRate: number[] };
      const reference = (input: Tensor, dk: Tensor, pk: Tensor, bias: Tensor): Tensor => {
        if (rank === 2) {
          const padding = l.padding as 'same' | 'valid';
          return add(conv2dOp(input, folded(dk, pk), l.strides as [number, number], padding, l.dilationRate as [number, number]), bias);
        }
        const k = d.shape[0]!;
        let x4 = reshape(input, [input.shape[0]!, 1, input.shape[1]!, c]);
        if (l.padding === 'causal')
          x4 = pad(x4, [
            [0, 0],
            [0, 0],
            [(k - 1) * l.dilationRate[0]!, 0],
            [0, 0],
          ]);
        const y4 = conv2dOp(x4, reshape(folded(dk, pk), [1, k, c, 5]), [1, l.strides[0]!], l.padding === 'same' ? 'same' : 'valid', [
          1,
          l.dilationRate[0]!,
        ]);
        return add(reshape(y4, [y4.shape[0]!, y4.shape[2]!, 5]), bias);
      };
      const projection = seeded([...reference(x, d, p, b).shape], 11);
      const ours = valueAndGrads(() => sum(mul(layer.apply(x) as Tensor, projection)), [x, d, p, b]);
      const theirs = valueAndGrads(() => sum(mul(reference(x, d, p, b), projection)), [x, d, p, b]);
      expectNear(layer.apply(x) as Tensor, reference(x, d, p, b), 1e-4);
      ours.grads.forEach((g, i) => expectNear(g, theirs.grads[i]!, 1e-4));
    });

    it('reject bad options', () => {
      expect(() => separableConv2d({ filters: 2, kernelSize: 3, padding: 'causal', name: 's' })).toThrow(
        /Layer s: padding must be 'valid' or 'same', got "causal"/,
      );
      expect(() => separableConv2d({ filters: 2, kernelSize: 3, kernelInitializer: 'ones', name: 's' } as never)).toThrow(
        /SeparableConv2D: unknown option 'kernelInitializer'/,
      );
      expect(() => separableConv1d({ filters: 2, kernelSize: [3, 3], name: 's' })).toThrow(
        /Layer s: kernelSize must be a positive integer or an array of 1/,
      );
      expect(() => separableConv2d({ filters: 2, kernelSize: 3, pointwiseConstraint: {}, name: 's' } as never)).toThrow(
        /Layer s: pointwiseConstraint is not supported/,
      );
    });
  });

  describe('Conv2DTranspose', () => {
    it('is the input gradient of conv2d (same padding, stride 2)', () => {
      const layer = conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 't' });
      const x = seeded([1, 3, 4, 3], 6);
      const y = layer.apply(x) as Tensor;
      expect(y.shape).toEqual([1, 6, 8, 2]);
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([['t/kernel', [3, 3, 2, 3]]]);
      // conv2dTranspose(x, k) = d/dz sum(conv2d(z, k) * x) for z of the output shape.
      const z = seeded([1, 6, 8, 2], 7);
      const { grads } = valueAndGrads(() => sum(mul(conv2dOp(z, layer.weights[0]!, 2, 'same'), x)), [z]);
      expectNear(y, grads[0]!);
    });

    it('serializes as TensorFlow.js and round-trips', () => {
      const layer = conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: 2, name: 't', inputShape: [4, 4, 1] });
      const s = serializeLayer(layer);
      expect(s.config).toMatchObject({ filters: 2, kernelSize: [3, 2], strides: [2, 2], padding: 'valid', dilationRate: [1, 1] });
      const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
      expect(copy).toBeInstanceOf(Conv2DTranspose);
      expect(serializeLayer(copy)).toEqual(s);
    });

    it('outputPadding: Keras output sizes, kept in the config (only when given)', () => {
      const layer = conv2dTranspose({ filters: 2, kernelSize: 3, strides: [2, 3], outputPadding: [1, 2], name: 't' });
      expect((layer.apply(seeded([1, 3, 4, 1], 1)) as Tensor).shape).toEqual([1, 8, 14, 2]); // (3-1)*2+3+1, (4-1)*3+3+2
      expect(layer.computeOutputShape([null, 3, 4, 1])).toEqual([null, 8, 14, 2]);
      const s = serializeLayer(layer);
      expect(s.config.outputPadding).toEqual([1, 2]);
      expect(serializeLayer(deserializeLayer(s))).toEqual(s);
      expect(serializeLayer(conv2dTranspose({ filters: 2, kernelSize: 3 })).config).not.toHaveProperty('outputPadding');
      const same = conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', outputPadding: 0 });
      expect((same.apply(seeded([1, 3, 3, 1], 1)) as Tensor).shape).toEqual([1, 5, 5, 1]); // (3-1)*2+3-2+0
    });

    it('rejects what it does not implement', () => {
      expect(() => conv2dTranspose({ filters: 2, kernelSize: 3, dilationRate: 2, name: 't' })).toThrow(/Layer t: dilationRate must be 1/);
      expect(() => conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2, name: 't' })).toThrow(
        /Layer t: outputPadding must be a non-negative integer or 2 of them, each smaller than its stride \[2,2\], got 2/,
      );
      const even = conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', outputPadding: 0, name: 't' });
      expect(() => even.apply(seeded([1, 3, 3, 1], 1))).toThrow(
        /Layer t: outputPadding 0 gives 4 output cells along axis 1, which 'same' with stride 2 does not map back to the input's 3/,
      );
      expect(() => conv2dTranspose({ filters: 2, kernelSize: 3, output_padding: 1, name: 't' } as never)).toThrow(
        /Conv2DTranspose: unknown option 'output_padding' \(did you mean 'outputPadding'\?\)/,
      );
    });
  });
});
