/**
 * The convolution layers (Conv1D, grouped Conv2D, DepthwiseConv2D, SeparableConv1D/2D,
 * Conv2DTranspose) through save/load: Axon → Axon, Axon → tfjs-layers, tfjs-layers → Axon.
 */
import '@axon/kernels-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { randomNormal, setSeed, type Tensor } from '@axon/tensor';
import {
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  depthwiseConv2d,
  flatten,
  maxPooling2d,
  separableConv1d,
  separableConv2d,
} from '@axon/layers';
import { sequential, type Sequential } from '../src/index.js';
import { loadSequential } from './helpers.js';
import { axonDirHandler, maxAbsDiff, tfPredict, tfjsNodeStyleSaver } from './tfjs-io.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-conv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Models tfjs-layers 4.22 can also read: no groups, no SeparableConv1D, and no 'causal' padding
 * (tfjs 4.22 throws NotImplementedError for it and computes its output length as 'valid').
 */
const tfjsCompatible: Record<string, () => { model: Sequential; input: number[] }> = {
  conv1d: () => ({
    model: sequential([
      conv1d({ filters: 4, kernelSize: 3, dilationRate: 2, activation: 'relu', inputShape: [10, 3] }),
      conv1d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', biasInitializer: 'randomNormal' }),
      conv1d({ filters: 2, kernelSize: 2, activation: 'tanh', biasInitializer: 'randomNormal' }),
      flatten(),
      dense({ units: 2 }),
    ]),
    input: [10, 3],
  }),
  depthwise: () => ({
    model: sequential([
      depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', biasInitializer: 'randomNormal', inputShape: [7, 6, 2] }),
      depthwiseConv2d({ kernelSize: [2, 3], strides: 2, activation: 'relu', biasInitializer: 'randomNormal' }),
      flatten(),
      dense({ units: 3 }),
    ]),
    input: [7, 6, 2],
  }),
  separable: () => ({
    model: sequential([
      separableConv2d({
        filters: 4,
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        biasInitializer: 'randomNormal',
        inputShape: [8, 7, 3],
      }),
      maxPooling2d({ poolSize: 2 }),
      separableConv2d({ filters: 2, kernelSize: 2, strides: 2, activation: 'sigmoid', biasInitializer: 'randomNormal' }),
      flatten(),
      dense({ units: 2 }),
    ]),
    input: [8, 7, 3],
  }),
  transpose: () => ({
    model: sequential([
      conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', biasInitializer: 'randomNormal', inputShape: [4, 3, 2] }),
      conv2dTranspose({ filters: 2, kernelSize: [2, 3], strides: [1, 2], activation: 'tanh', biasInitializer: 'randomNormal' }),
      conv2dTranspose({ filters: 1, kernelSize: 2, strides: 3, biasInitializer: 'randomNormal' }),
      flatten(),
    ]),
    input: [4, 3, 2],
  }),
};

const axonOnly: Record<string, () => { model: Sequential; input: number[] }> = {
  conv1dCausal: () => ({
    model: sequential([
      conv1d({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'relu', inputShape: [10, 3] }),
      conv1d({ filters: 2, kernelSize: 2, strides: 2, padding: 'causal', biasInitializer: 'randomNormal' }),
      conv1d({ filters: 4, kernelSize: 2, groups: 2, padding: 'same', biasInitializer: 'randomNormal' }),
      flatten(),
    ]),
    input: [10, 3],
  }),
  groups: () => ({
    model: sequential([
      conv2d({ filters: 6, kernelSize: 3, groups: 3, padding: 'same', biasInitializer: 'randomNormal', inputShape: [5, 5, 3] }),
      conv2d({ filters: 4, kernelSize: 2, groups: 2, activation: 'relu' }),
      flatten(),
    ]),
    input: [5, 5, 3],
  }),
  separable1d: () => ({
    model: sequential([
      separableConv1d({
        filters: 3,
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'causal',
        biasInitializer: 'randomNormal',
        inputShape: [9, 2],
      }),
      separableConv1d({ filters: 2, kernelSize: 2, strides: 2, activation: 'tanh' }),
      flatten(),
    ]),
    input: [9, 2],
  }),
};

describe('Axon save → Axon load predicts the same', () => {
  for (const [name, make] of Object.entries({ ...tfjsCompatible, ...axonOnly })) {
    it(name, async () => {
      setSeed(11);
      const { model, input } = make();
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const target = join(dir, `axon-axon-${name}`);
      await model.save(target);
      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => [l.name, l.getClassName()])).toEqual(model.layers.map((l) => [l.name, l.getClassName()]));
      expect(loaded.weights.map((w) => [w.name, w.shape])).toEqual(model.weights.map((w) => [w.name, w.shape]));
      const x = randomNormal([3, ...input]);
      expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    });
  }
});

describe('a model saved by Axon loads in tfjs-layers and predicts the same', () => {
  for (const [name, make] of Object.entries(tfjsCompatible)) {
    it(name, async () => {
      setSeed(12);
      const { model, input } = make();
      model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
      const target = join(dir, `axon-tfjs-${name}`);
      await model.save(target);
      const loaded = await tfl.loadLayersModel(axonDirHandler(target));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([4, ...input]);
      expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
    });
  }
});

describe('a model built and saved by tfjs-layers loads in Axon and predicts the same', () => {
  const bias = { biasInitializer: 'randomNormal' as const };
  const tfjsModels: Record<string, () => { model: tfl.Sequential; input: number[] }> = {
    conv1d: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.conv1d({ filters: 4, kernelSize: 3, dilationRate: 2, activation: 'relu', inputShape: [10, 3], ...bias }),
          tfl.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', ...bias }),
          tfl.layers.flatten(),
        ],
      }),
      input: [10, 3],
    }),
    depthwise: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', inputShape: [6, 7, 2], ...bias }),
          tfl.layers.depthwiseConv2d({ kernelSize: 2, strides: 2, activation: 'tanh', ...bias }),
          tfl.layers.flatten(),
        ],
      }),
      input: [6, 7, 2],
    }),
    // depthMultiplier 1 only: tfjs-layers 4.22 leaves depthMultiplier out of SeparableConv2D's saved
    // config, so a tfjs-saved model with another multiplier does not reload (in tfjs either).
    separable: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.separableConv2d({ filters: 3, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2], ...bias }),
          tfl.layers.separableConv2d({ filters: 2, kernelSize: [2, 3], strides: 2, activation: 'relu', ...bias }),
          tfl.layers.flatten(),
        ],
      }),
      input: [6, 6, 2],
    }),
    transpose: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', inputShape: [3, 4, 2], ...bias }),
          tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [2, 1], padding: 'valid', activation: 'sigmoid', ...bias }),
          tfl.layers.flatten(),
        ],
      }),
      input: [3, 4, 2],
    }),
  };

  for (const [name, make] of Object.entries(tfjsModels)) {
    it(name, async () => {
      const { model, input } = make();
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
      const target = join(dir, `tfjs-axon-${name}`);
      await model.save(tfjsNodeStyleSaver(target));
      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([4, ...input]);
      expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(model, x))).toBeLessThan(1e-5);
    });
  }
});

describe("Conv2DTranspose agrees with tfjs-core's conv2dTranspose", () => {
  // tfjs-layers 4.22 has no outputPadding; tfjs-core's op takes the output shape Keras computes from it.
  const cases: [string, number[], number, [number, number], [number, number], 'same' | 'valid', [number, number] | null][] = [
    ['valid', [2, 3, 4, 2], 3, [3, 3], [2, 2], 'valid', null],
    ['same, stride 2', [2, 3, 4, 2], 2, [3, 3], [2, 2], 'same', null],
    ['valid, outputPadding [1, 1]', [1, 3, 2, 2], 2, [3, 3], [2, 2], 'valid', [1, 1]],
    ['same, outputPadding 1, kernel [3, 4]', [2, 3, 3, 2], 3, [3, 4], [2, 2], 'same', [1, 1]],
    ['valid, kernel below stride, outputPadding [0, 1]', [1, 3, 3, 2], 2, [2, 2], [3, 3], 'valid', [0, 1]],
    ['same, stride [3, 2], outputPadding [2, 0]', [1, 2, 3, 1], 2, [3, 3], [3, 2], 'same', [2, 0]],
  ];
  for (const [name, shape, filters, kernelSize, strides, padding, outputPadding] of cases) {
    it(name, () => {
      setSeed(5);
      const layer = conv2dTranspose({ filters, kernelSize, strides, padding, outputPadding, useBias: false });
      const x = randomNormal(shape);
      const y = layer.apply(x) as Tensor;
      const kernel = layer.weights[0]!;
      const expected = tf.conv2dTranspose(
        tf.tensor4d(Array.from(x.dataSync()), shape as [number, number, number, number]),
        tf.tensor4d(Array.from(kernel.dataSync()), [...kernel.shape] as [number, number, number, number]),
        y.shape.slice(0, 3).concat([filters]) as [number, number, number, number],
        strides,
        padding,
      );
      expect(y.shape).toEqual(expected.shape);
      expect(maxAbsDiff(y.dataSync(), expected.dataSync() as Float32Array)).toBeLessThan(1e-5);
    });
  }
});
