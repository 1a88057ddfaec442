/** Behaviour of each layer beyond the PyTorch fixtures: shapes, modes, configs, errors. */
import { add, mul, randomNormal, setSeed, sum, tensor, valueAndGrads, type Tensor } from '@axon/tensor';
import { checkGradients } from '@axon/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  inputLayer,
  activation,
  alphaDropout,
  averagePooling1d,
  averagePooling2d,
  cropping1d,
  cropping2d,
  globalAveragePooling1d,
  globalMaxPooling1d,
  maxPooling1d,
  permute,
  repeatVector,
  upSampling1d,
  upSampling2d,
  zeroPadding1d,
  zeroPadding2d,
  batchNormalization,
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  depthwiseConv2d,
  deserializeLayer,
  dropout,
  elu,
  embedding,
  flatten,
  gaussianDropout,
  gaussianNoise,
  globalAveragePooling2d,
  globalMaxPooling2d,
  input,
  InputLayer,
  layerNormalization,
  leakyReLU,
  maxPooling2d,
  prelu,
  registeredLayerNames,
  reLU,
  reshape,
  resetLayerNames,
  separableConv1d,
  separableConv2d,
  serializeLayer,
  softmax,
  spatialDropout1d,
  spatialDropout2d,
  textVectorization,
  rescaling,
  normalization,
  resizing,
  centerCrop,
  randomCrop,
  randomFlip,
  randomRotation,
  randomTranslation,
  randomZoom,
  randomContrast,
  randomBrightness,
  type Layer,
  type Shape,
  add as addLayer,
  subtract,
  multiply,
  average,
  maximum,
  minimum,
  concatenate,
  dot,
} from '../src/index.js';
import { BACKENDS, seeded, useBackend } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe.each(BACKENDS)('layers on the %s backend', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(42);
  });

  describe('output shapes agree with computeOutputShape', () => {
    const cases: [string, () => Layer, number[]][] = [
      ['dense rank 2', () => dense({ units: 3 }), [2, 5]],
      ['dense rank 4', () => dense({ units: 3 }), [2, 3, 4, 5]],
      ['conv2d valid', () => conv2d({ filters: 4, kernelSize: 3 }), [2, 7, 6, 3]],
      ['conv2d same stride 2', () => conv2d({ filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same' }), [1, 7, 5, 2]],
      ['conv2d dilated', () => conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same' }), [1, 9, 8, 2]],
      ['maxPooling2d default', () => maxPooling2d(), [2, 7, 7, 3]],
      ['maxPooling2d same', () => maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), [2, 7, 6, 3]],
      ['averagePooling2d', () => averagePooling2d({ poolSize: [2, 3], strides: 1 }), [2, 5, 6, 1]],
      ['globalMaxPooling2d', () => globalMaxPooling2d(), [2, 4, 5, 3]],
      ['globalAveragePooling2d keepdims', () => globalAveragePooling2d({ keepdims: true }), [2, 4, 5, 3]],
      ['flatten', () => flatten(), [2, 3, 4, 5]],
      ['reshape with -1', () => reshape({ targetShape: [-1, 6] }), [2, 3, 4]],
      ['batchNormalization', () => batchNormalization(), [4, 3, 3, 2]],
      ['embedding', () => embedding({ inputDim: 5, outputDim: 3 }), [2, 4]],
      ['activation', () => activation({ activation: 'gelu' }), [2, 3]],
      ['dropout', () => dropout({ rate: 0.3 }), [2, 3]],
    ];
    it.each(cases)('%s', (_name, make, shape) => {
      const layer = make();
      const x =
        _name === 'embedding'
          ? tensor([
              [0, 1, 2, 3],
              [4, 3, 2, 1],
            ])
          : randomNormal(shape);
      const y = layer.apply(x) as Tensor;
      const symbolic: Shape = [null, ...shape.slice(1)];
      expect(layer.computeOutputShape(symbolic)).toEqual([null, ...y.shape.slice(1)]);
    });
  });

  describe('finite differences on the layers without fixtures', () => {
    it('flatten, reshape, inputLayer', () => {
      const x = seeded([2, 3, 4], 1);
      for (const layer of [flatten(), reshape({ targetShape: [4, -1] }), inputLayer({ inputShape: [3, 4] })]) {
        checkGradients((t) => layer.apply(t) as Tensor, [x]);
      }
    });

    it('dropout in training (same mask each evaluation)', () => {
      const layer = dropout({ rate: 0.4 });
      const x = seeded([3, 5], 2);
      checkGradients(
        (t) => {
          setSeed(7);
          return layer.apply(t, { training: true }) as Tensor;
        },
        [x],
      );
    });

    it('dense with a regularized kernel: the regularization loss is differentiable', () => {
      const layer = dense({ units: 3, kernelRegularizer: { className: 'L1L2', config: { l1: 0.01, l2: 0.02 } } });
      layer.apply(seeded([2, 4], 3));
      const k = layer.weights[0]!;
      const { value, grads } = valueAndGrads(() => layer.regularizationLosses()[0]!, [k]);
      const kv = values(k);
      expect(value.item()).toBeCloseTo(
        kv.reduce((s, v) => s + 0.01 * Math.abs(v) + 0.02 * v * v, 0),
        5,
      );
      values(grads[0]!).forEach((g, i) => expect(g).toBeCloseTo(0.01 * Math.sign(kv[i]!) + 0.04 * kv[i]!, 5));
    });
  });

  describe('Dense', () => {
    it('serializes exactly as TensorFlow.js', () => {
      resetLayerNames();
      const layer = dense({ units: 4, activation: 'relu', inputShape: [3] });
      expect(serializeLayer(layer)).toEqual({
        className: 'Dense',
        config: {
          units: 4,
          activation: 'relu',
          useBias: true,
          kernelInitializer: { className: 'GlorotUniform', config: { seed: null } },
          biasInitializer: { className: 'Zeros', config: {} },
          kernelRegularizer: null,
          biasRegularizer: null,
          activityRegularizer: null,
          kernelConstraint: null,
          biasConstraint: null,
          name: 'dense_1',
          trainable: true,
          batchInputShape: [null, 3],
          dtype: 'float32',
        },
      });
    });

    it('names its weights <layer>/kernel and <layer>/bias with Keras shapes', () => {
      const layer = dense({ units: 4, name: 'fc' });
      layer.apply(seeded([2, 3], 4));
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
        ['fc/kernel', [3, 4]],
        ['fc/bias', [4]],
      ]);
      expect(layer.countParams()).toBe(16);
    });

    it('records the activity regularizer penalty of the last call', () => {
      const layer = dense({ units: 2, activityRegularizer: 'l2', kernelInitializer: 'ones' });
      const y = layer.apply(tensor([[1, 2]])) as Tensor;
      const losses = layer.regularizationLosses();
      expect(losses).toHaveLength(1);
      expect(losses[0]!.item()).toBeCloseTo(0.01 * values(y).reduce((s, v) => s + v * v, 0), 5);
    });

    it('rejects bad options and inputs, naming the layer', () => {
      expect(() => dense({ units: 0, name: 'd' })).toThrow(/Layer d: units must be a positive integer, got 0/);
      expect(() => dense({ units: 2, activation: 'relux', name: 'd' })).toThrow(
        /Layer d: invalid activation: Unknown activation 'relux'. Valid names: .*relu/,
      );
      expect(() => dense({ units: 2, kernelInitializer: 'glorot', name: 'd' })).toThrow(
        /Layer d: invalid kernelInitializer: Unknown initializer 'glorot'/,
      );
      expect(() => dense({ units: 2, kernelRegularizer: 'l3', name: 'd' })).toThrow(
        /Layer d: invalid kernelRegularizer: Unknown regularizer 'l3'/,
      );
      const layer = dense({ units: 2, name: 'd' });
      expect(() => layer.apply(tensor([1, 2, 3]))).toThrow(/Layer d: expected input of rank >= 2, got shape \[3\]/);
      layer.apply(seeded([2, 3], 5));
      expect(() => layer.apply(seeded([2, 4], 5))).toThrow(/Layer d: expected axis -1 of the input to have size 3, got shape \[2,4\]/);
    });
  });

  describe('Conv2D', () => {
    it('serializes as TensorFlow.js and round-trips', () => {
      const layer = conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], name: 'c' });
      const { config } = serializeLayer(layer);
      expect(config).toMatchObject({
        filters: 8,
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: 'valid',
        dataFormat: 'channelsLast',
        dilationRate: [1, 1],
        activation: 'relu',
        useBias: true,
        kernelInitializer: { className: 'GlorotUniform', config: { seed: null } },
        biasInitializer: { className: 'Zeros', config: {} },
        kernelRegularizer: null,
        biasRegularizer: null,
        activityRegularizer: null,
        kernelConstraint: null,
        biasConstraint: null,
        name: 'c',
        trainable: true,
        batchInputShape: [null, 28, 28, 1],
        dtype: 'float32',
      });
    });

    it('has a Keras-layout kernel [kh, kw, in, out]', () => {
      const layer = conv2d({ filters: 5, kernelSize: [3, 2], name: 'c' });
      layer.apply(seeded([1, 6, 6, 3], 6));
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
        ['c/kernel', [3, 2, 3, 5]],
        ['c/bias', [5]],
      ]);
    });

    it('rejects bad options and inputs', () => {
      expect(() => conv2d({ filters: -1, kernelSize: 3, name: 'c' })).toThrow(/Layer c: filters must be a positive integer, got -1/);
      expect(() => conv2d({ filters: 2, kernelSize: 0, name: 'c' })).toThrow(
        /Layer c: kernelSize must be a positive integer or an array of 2/,
      );
      expect(() => conv2d({ filters: 2, kernelSize: 3, padding: 'full' as 'same', name: 'c' })).toThrow(
        /Layer c: padding must be 'valid' or 'same', got "full"/,
      );
      expect(() => conv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst' as 'channelsLast', name: 'c' })).toThrow(
        /Layer c: dataFormat must be 'channelsLast'/,
      );
      expect(() => conv2d({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2, name: 'c' })).toThrow(/cannot both differ from 1/);
      const layer = conv2d({ filters: 2, kernelSize: 3, name: 'c', inputShape: [8, 8, 1] });
      expect(() => layer.apply(seeded([2, 8, 8, 3], 1))).toThrow(/Layer c: expected input shape \[null,8,8,1\], got \[2,8,8,3\]/);
      const free = conv2d({ filters: 2, kernelSize: 3, name: 'f' });
      expect(() => free.apply(seeded([8, 8, 1], 1))).toThrow(/Layer f: expected input of rank 4, got shape \[8,8,1\] \(rank 3\)/);
      free.apply(seeded([1, 8, 8, 1], 1));
      expect(() => free.apply(seeded([1, 8, 8, 2], 1))).toThrow(
        /Layer f: expected axis -1 of the input to have size 1, got shape \[1,8,8,2\]/,
      );
      expect(() => free.apply(seeded([1, 2, 8, 1], 1))).toThrow(
        /Layer f: the 3x3 kernel \(dilated\) does not fit the input of shape \[1,2,8,1\]/,
      );
    });
  });

  describe('pooling', () => {
    it('defaults: poolSize [2, 2], strides = poolSize, padding valid', () => {
      const { config } = serializeLayer(maxPooling2d({ name: 'p' }));
      expect(config).toEqual({
        poolSize: [2, 2],
        padding: 'valid',
        strides: [2, 2],
        dataFormat: 'channelsLast',
        name: 'p',
        trainable: true,
        dtype: 'float32',
      });
      expect(serializeLayer(averagePooling2d({ poolSize: 3, name: 'a' })).config).toMatchObject({ poolSize: [3, 3], strides: [3, 3] });
    });

    it('rejects bad options and inputs', () => {
      expect(() => maxPooling2d({ poolSize: [2, 0], name: 'p' })).toThrow(/Layer p: poolSize must be a positive integer or an array of 2/);
      expect(() => averagePooling2d({ padding: 'causal' as 'same', name: 'p' })).toThrow(/Layer p: padding must be 'valid' or 'same'/);
      expect(() => maxPooling2d({ name: 'p' }).apply(seeded([2, 4, 4], 1))).toThrow(
        /Layer p: expected input of rank 4, got shape \[2,4,4\]/,
      );
      expect(() => maxPooling2d({ poolSize: 3, name: 'p' }).apply(seeded([1, 2, 4, 1], 1))).toThrow(/Layer p: the 3x3 pool does not fit/);
    });
  });

  describe('Flatten and Reshape', () => {
    it('flatten keeps the batch dimension', () => {
      expect((flatten().apply(seeded([3, 2, 2, 2], 1)) as Tensor).shape).toEqual([3, 8]);
    });

    it('reshape infers -1 and reports impossible targets', () => {
      expect((reshape({ targetShape: [3, -1] }).apply(seeded([2, 6, 2], 1)) as Tensor).shape).toEqual([2, 3, 4]);
      const r = reshape({ targetShape: [5, -1], name: 'r' });
      expect(() => r.apply(seeded([2, 6, 2], 1))).toThrow(
        /Layer r: cannot reshape an input of shape \[2,6,2\] \(12 values per sample\) to target shape \[5,-1\]/,
      );
      expect(() => reshape({ targetShape: [-1, -1], name: 'r' })).toThrow(
        /Layer r: targetShape must be an array of positive integers with at most one -1/,
      );
      expect(r.computeOutputShape([null, 10, 2])).toEqual([null, 5, 4]);
    });
  });

  describe('Dropout', () => {
    it('is the identity unless training', () => {
      const x = seeded([4, 5], 1);
      const layer = dropout({ rate: 0.5 });
      expect(layer.apply(x)).toBe(x);
      expect(layer.apply(x, { training: false })).toBe(x);
      expect(dropout({ rate: 0 }).apply(x, { training: true })).toBe(x);
    });

    it('drops about `rate` of the values and scales the rest by 1/(1-rate)', () => {
      const rate = 0.3;
      const x = add(tensor(new Float32Array(20000), [100, 200]), 2);
      const y = values(dropout({ rate }).apply(x, { training: true }) as Tensor);
      const dropped = y.filter((v) => v === 0).length / y.length;
      expect(Math.abs(dropped - rate)).toBeLessThan(0.015);
      for (const v of y) if (v !== 0) expect(v).toBeCloseTo(2 / (1 - rate), 5);
      expect(Math.abs(y.reduce((s, v) => s + v, 0) / y.length - 2)).toBeLessThan(0.05);
    });

    it('is reproducible with setSeed and with its own seed', () => {
      const x = seeded([10, 10], 1, 0.5, 1);
      setSeed(3);
      const a = values(dropout({ rate: 0.5 }).apply(x, { training: true }) as Tensor);
      setSeed(3);
      const b = values(dropout({ rate: 0.5 }).apply(x, { training: true }) as Tensor);
      expect(a).toEqual(b);
      const c = values(dropout({ rate: 0.5, seed: 9 }).apply(x, { training: true }) as Tensor);
      const d = values(dropout({ rate: 0.5, seed: 9 }).apply(x, { training: true }) as Tensor);
      expect(c).toEqual(d);
      expect(c).not.toEqual(a);
    });

    it('shares the mask along axes where noiseShape is 1', () => {
      const x = add(tensor(new Float32Array(2 * 6 * 4), [2, 6, 4]), 1);
      const y = dropout({ rate: 0.5, noiseShape: [null, 1, 4] }).apply(x, { training: true }) as Tensor;
      const rows = y.toArray() as number[][][];
      for (const sample of rows) for (const row of sample) expect(row).toEqual(sample[0]);
      expect(() => dropout({ rate: 0.5, noiseShape: [2, 3], name: 'dr' }).apply(x, { training: true })).toThrow(
        /Layer dr: noiseShape \[2,3\] must have the input's rank 3/,
      );
    });

    it('rejects rates outside [0, 1)', () => {
      expect(() => dropout({ rate: 1, name: 'dr' })).toThrow(/Layer dr: rate must be a number in \[0, 1\), got 1/);
      expect(() => dropout({ rate: -0.1, name: 'dr' })).toThrow(/got -0.1/);
    });
  });

  describe('BatchNormalization', () => {
    it('orders weights gamma, beta, moving_mean, moving_variance, the last two non-trainable', () => {
      const layer = batchNormalization({ name: 'bn' });
      layer.apply(seeded([4, 3], 1));
      expect(layer.weights.map((w) => w.name)).toEqual(['bn/gamma', 'bn/beta', 'bn/moving_mean', 'bn/moving_variance']);
      expect(layer.trainableWeights.map((w) => w.name)).toEqual(['bn/gamma', 'bn/beta']);
      expect(layer.countParams()).toBe(12);
    });

    it('updates the moving statistics only in training, with Keras momentum and the biased variance', () => {
      const layer = batchNormalization({ momentum: 0.8, name: 'bn' });
      const x = tensor([
        [1, 10],
        [3, 20],
        [5, 60],
      ]);
      layer.apply(x);
      expect(values(layer.weights[2]!)).toEqual([0, 0]);
      layer.apply(x, { training: true });
      const mean = [3, 30];
      const biasedVar = [8 / 3, (400 + 100 + 900) / 3];
      values(layer.weights[2]!).forEach((v, i) => expect(v).toBeCloseTo(0.2 * mean[i]!, 4));
      values(layer.weights[3]!).forEach((v, i) => expect(v).toBeCloseTo(0.8 + 0.2 * biasedVar[i]!, 3));
    });

    it('runs in inference mode when frozen (trainable = false), as Keras 2+', () => {
      const layer = batchNormalization({ name: 'bn' });
      const x = seeded([6, 3], 2, 0, 5);
      layer.apply(x);
      layer.trainable = false;
      const y = layer.apply(x, { training: true }) as Tensor;
      expect(values(layer.weights[2]!)).toEqual([0, 0, 0]);
      values(y).forEach((v, i) => expect(v).toBeCloseTo(values(x)[i]! / Math.sqrt(1 + 1e-3), 5));
      expect(layer.trainableWeights).toEqual([]);
    });

    it('serializes as TensorFlow.js', () => {
      expect(serializeLayer(batchNormalization({ name: 'bn' })).config).toEqual({
        axis: -1,
        momentum: 0.99,
        epsilon: 1e-3,
        center: true,
        scale: true,
        betaInitializer: { className: 'Zeros', config: {} },
        gammaInitializer: { className: 'Ones', config: {} },
        movingMeanInitializer: { className: 'Zeros', config: {} },
        movingVarianceInitializer: { className: 'Ones', config: {} },
        betaRegularizer: null,
        gammaRegularizer: null,
        betaConstraint: null,
        gammaConstraint: null,
        name: 'bn',
        trainable: true,
        dtype: 'float32',
      });
    });

    it('without center and scale has only the moving statistics', () => {
      const layer = batchNormalization({ center: false, scale: false, name: 'bn' });
      layer.apply(seeded([4, 3], 1));
      expect(layer.weights.map((w) => w.name)).toEqual(['bn/moving_mean', 'bn/moving_variance']);
    });

    it('rejects an out-of-range axis', () => {
      expect(() => batchNormalization({ axis: 3, name: 'bn' }).apply(seeded([2, 3], 1))).toThrow(
        /Layer bn: axis 3 is out of range for an input of rank 2/,
      );
    });
  });

  describe('Embedding', () => {
    it('looks up rows, initialized uniformly in [-0.05, 0.05]', () => {
      const layer = embedding({ inputDim: 50, outputDim: 8, name: 'e' });
      const y = layer.apply(
        tensor([
          [3, 3],
          [7, 0],
        ]),
      ) as Tensor;
      expect(y.shape).toEqual([2, 2, 8]);
      expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([['e/embeddings', [50, 8]]]);
      const table = values(layer.weights[0]!);
      expect(Math.max(...table.map(Math.abs))).toBeLessThanOrEqual(0.05);
      const rows = y.toArray() as number[][][];
      expect(rows[0]![0]).toEqual(rows[0]![1]);
    });

    it('computes a mask with maskZero and sets the input shape from inputLength', () => {
      const layer = embedding({ inputDim: 5, outputDim: 2, maskZero: true, inputLength: 3, name: 'e' });
      expect(values(layer.computeMask(tensor([[1, 0, 2]]))!)).toEqual([1, 0, 1]);
      expect(layer.batchInputShape).toEqual([null, 3]);
      expect(serializeLayer(layer).config).toMatchObject({
        inputDim: 5,
        outputDim: 2,
        maskZero: true,
        inputLength: 3,
        batchInputShape: [null, 3],
      });
      expect(embedding({ inputDim: 5, outputDim: 2 }).computeMask(tensor([[1, 0]]))).toBeNull();
    });

    it('rejects out-of-range and fractional indices, naming the layer', () => {
      const layer = embedding({ inputDim: 4, outputDim: 2, name: 'e' });
      expect(() => layer.apply(tensor([[1, 4]]))).toThrow(
        /Layer e: indices must lie in \[0, 4\) \(inputDim\): gather: index 4 at position 1 is out of range \[0, 4\)/,
      );
      expect(() => layer.apply(tensor([[-1, 2]]))).toThrow(/Layer e: indices must lie in \[0, 4\)/);
      expect(() => layer.apply(tensor([[1.5, 2]]))).toThrow(/Layer e: .*integers/);
      expect(() => embedding({ inputDim: 0, outputDim: 2, name: 'e' })).toThrow(/Layer e: inputDim must be a positive integer, got 0/);
    });
  });

  describe('InputLayer', () => {
    it('declares the input shape and checks it', () => {
      const layer = inputLayer({ inputShape: [4], name: 'in' });
      expect(layer).toBeInstanceOf(InputLayer);
      expect(layer.built).toBe(true);
      expect(layer.computeOutputShape()).toEqual([null, 4]);
      expect(serializeLayer(layer)).toEqual({
        className: 'InputLayer',
        config: { batchInputShape: [null, 4], dtype: 'float32', sparse: false, name: 'in' },
      });
      const x = seeded([2, 4], 1);
      expect(layer.apply(x)).toBe(x);
      expect(() => layer.apply(seeded([2, 5], 1))).toThrow(/Layer in: expected input shape \[null,4\], got \[2,5\]/);
      expect(() => inputLayer({} as never)).toThrow(/InputLayer needs inputShape or batchInputShape/);
      expect(() => input({} as never)).toThrow(/input: give shape/);
    });

    it('names itself input_N', () => {
      resetLayerNames();
      expect(inputLayer({ inputShape: [1] }).name).toBe('input_1');
    });
  });

  describe('Activation', () => {
    it('applies and serializes by name, accepting Keras aliases', () => {
      const layer = activation({ activation: 'leaky_relu', name: 'a' });
      expect(values(layer.apply(tensor([-1, 2])) as Tensor)).toEqual([expect.closeTo(-0.2, 6), 2]);
      expect(serializeLayer(layer).config).toEqual({ activation: 'leakyRelu', name: 'a', trainable: true, dtype: 'float32' });
      expect(() => activation({ activation: 'nope', name: 'a' })).toThrow(
        /Layer a: invalid activation: Unknown activation 'nope'. Valid names: linear, relu/,
      );
    });
  });

  describe('serialization', () => {
    it('every registered layer round-trips through its config', () => {
      const layers: Layer[] = [
        inputLayer({ inputShape: [3, 3, 2] }),
        conv2d({ filters: 2, kernelSize: 2, padding: 'same', kernelRegularizer: 'l2', biasInitializer: 'ones' }),
        maxPooling2d({ poolSize: 2, strides: 1 }),
        averagePooling2d({ padding: 'same' }),
        globalMaxPooling2d(),
        globalAveragePooling2d(),
        flatten(),
        reshape({ targetShape: [2, -1] }),
        dropout({ rate: 0.25, seed: 3 }),
        activation({ activation: 'selu' }),
        batchNormalization({ momentum: 0.9, trainable: false }),
        embedding({ inputDim: 4, outputDim: 3, maskZero: true }),
        textVectorization({ outputMode: 'multi_hot', maxTokens: 5, padToMaxTokens: true, vocabulary: ['a', 'b'] }),
        dense({
          units: 3,
          activation: 'softmax',
          kernelInitializer: { className: 'VarianceScaling', config: { scale: 2, mode: 'fan_out', distribution: 'uniform', seed: 1 } },
        }),
        layerNormalization({ axis: [1, 2], epsilon: 0.01, center: false, gammaRegularizer: 'l2' }),
        reLU({ maxValue: 6, negativeSlope: 0.1, threshold: 0.5 }),
        leakyReLU({ alpha: 0.1 }),
        prelu({ sharedAxes: [1, 2], alphaInitializer: 'ones', alphaRegularizer: 'l1' }),
        elu({ alpha: 0.5 }),
        softmax({ axis: 1 }),
        spatialDropout1d({ rate: 0.2, seed: 1 }),
        spatialDropout2d({ rate: 0.3 }),
        gaussianNoise({ stddev: 0.5, seed: 2 }),
        gaussianDropout({ rate: 0.1 }),
        alphaDropout({ rate: 0.2, noiseShape: [null, 1] }),
        // 1-D pooling and reshaping layers (more in shape.test.ts)
        maxPooling1d({ poolSize: 3, strides: 1, padding: 'same' }),
        averagePooling1d(),
        globalMaxPooling1d({ keepdims: true }),
        globalAveragePooling1d(),
        upSampling1d({ size: 3 }),
        upSampling2d({ size: [1, 2] }),
        zeroPadding1d({ padding: [0, 2] }),
        zeroPadding2d({ padding: [1, 2] }),
        cropping1d({ cropping: 2 }),
        cropping2d({
          cropping: [
            [1, 0],
            [0, 1],
          ],
        }),
        permute({ dims: [2, 3, 1] }),
        repeatVector({ n: 4 }),
        // The convolution layers of ./conv.test.ts.
        conv1d({ filters: 2, kernelSize: 3, padding: 'causal', dilationRate: 2 }),
        depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, depthwiseRegularizer: 'l2' }),
        separableConv2d({ filters: 3, kernelSize: [2, 3], pointwiseInitializer: 'heNormal' }),
        separableConv1d({ filters: 3, kernelSize: 2, padding: 'same' }),
        conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
        // The merge layers of ./merge.test.ts.
        addLayer(),
        subtract(),
        multiply(),
        average(),
        maximum(),
        minimum(),
        concatenate({ axis: 1 }),
        dot({ axes: [2, 1], normalize: true }),
        // The preprocessing and augmentation layers of ./preprocessing.test.ts.
        rescaling({ scale: 0.5, offset: 1 }),
        normalization({ axis: [1, 2], mean: 1, variance: [2] }),
        resizing({ height: 3, width: 4, interpolation: 'nearest', cropToAspectRatio: true }),
        centerCrop({ height: 2, width: 3 }),
        randomCrop({ height: 2, width: 2, seed: 4 }),
        randomFlip({ mode: 'vertical' }),
        randomRotation({ factor: [-0.1, 0.2], fillMode: 'constant', fillValue: 1, seed: 5 }),
        randomTranslation({ heightFactor: 0.1, widthFactor: [0, 0.2], fillMode: 'wrap', interpolation: 'nearest' }),
        randomZoom({ heightFactor: 0.2 }),
        randomContrast({ factor: [0.1, 0.3], valueRange: [0, 1] }),
        randomBrightness({ factor: 0.2, seed: 1 }),
      ];
      const seen = new Set<string>();
      for (const layer of layers) {
        const s = serializeLayer(layer);
        seen.add(s.className);
        const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
        expect(copy.getClassName()).toBe(s.className);
        expect(serializeLayer(copy)).toEqual(s);
      }
      expect([...seen].sort()).toEqual(registeredLayerNames());
    });

    it('accepts Keras snake_case initializer configs', () => {
      const layer = deserializeLayer({
        className: 'Dense',
        config: {
          units: 2,
          kernelInitializer: {
            className: 'VarianceScaling',
            config: { scale: 1, mode: 'fan_avg', distribution: 'truncated_normal', seed: null },
          },
        },
      });
      expect(serializeLayer(layer).config.kernelInitializer).toEqual({
        className: 'VarianceScaling',
        config: { scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal', seed: null },
      });
    });

    it('accepts Keras (Python) configs with snake_case keys and class_name', () => {
      const conv = deserializeLayer({
        class_name: 'Conv2D',
        config: {
          name: 'k',
          filters: 4,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'same',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: 'relu',
          use_bias: true,
          batch_input_shape: [null, 8, 8, 1],
          dtype: 'float32',
          kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
          bias_initializer: { class_name: 'Zeros', config: {} },
          kernel_regularizer: { class_name: 'L1L2', config: { l1: 0, l2: 0.001 } },
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
        },
      } as never);
      expect(serializeLayer(conv).config).toMatchObject({
        name: 'k',
        filters: 4,
        padding: 'same',
        batchInputShape: [null, 8, 8, 1],
        kernelRegularizer: { className: 'L1L2', config: { l1: 0, l2: 0.001 } },
      });
      const bn = deserializeLayer({
        className: 'BatchNormalization',
        config: { axis: [3], dtype: { class_name: 'DTypePolicy', config: { name: 'float32' } } },
      });
      expect(serializeLayer(bn).config).toMatchObject({ axis: 3, dtype: 'float32' });
      const inp = deserializeLayer({ className: 'InputLayer', config: { batch_shape: [null, 5], name: 'in' } });
      expect(inp.batchInputShape).toEqual([null, 5]);
    });

    it('rejects constraints rather than ignoring them', () => {
      expect(() =>
        deserializeLayer({ className: 'Dense', config: { units: 2, name: 'd', kernelConstraint: { className: 'MaxNorm', config: {} } } }),
      ).toThrow(/Layer d: kernelConstraint is not supported/);
    });
  });

  it('a small CNN trains: the loss decreases under plain gradient descent', () => {
    const model = [
      conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }),
      maxPooling2d(),
      flatten(),
      dense({ units: 2, activation: 'softmax' }),
    ];
    const x = seeded([4, 6, 6, 1], 11);
    const target = tensor([
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
    const lossOf = (): Tensor => {
      let h: Tensor = x;
      for (const l of model) h = l.apply(h, { training: true }) as Tensor;
      return sum(mul(mul(target, -1), h));
    };
    const first = lossOf().item();
    for (let step = 0; step < 20; step++) {
      const weights = model.flatMap((l) => l.trainableWeights);
      const { grads } = valueAndGrads(lossOf, weights);
      weights.forEach((w, i) => w.assign(add(w, mul(grads[i]!, -0.5))));
    }
    expect(lossOf().item()).toBeLessThan(first);
  });
});
