/**
 * Save / load of the 1-D pooling and reshaping layers (MaxPooling1D, AveragePooling1D,
 * GlobalMax/AveragePooling1D, UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D, Permute,
 * RepeatVector): Axon → Axon, Axon → tfjs-layers and tfjs-layers → Axon, with the same predictions.
 * tfjs-layers 4.22 has no UpSampling1D, ZeroPadding1D or Cropping1D, so the models exchanged with
 * it leave those three out (they round-trip through Axon only).
 */
import '@axon/kernels-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { randomNormal, setSeed, tensor } from '@axon/tensor';
import {
  averagePooling1d,
  conv2d,
  cropping1d,
  cropping2d,
  dense,
  embedding,
  flatten,
  globalAveragePooling1d,
  globalMaxPooling1d,
  maxPooling1d,
  maxPooling2d,
  permute,
  repeatVector,
  upSampling1d,
  upSampling2d,
  zeroPadding1d,
  zeroPadding2d,
} from '@axon/layers';
import { sequential, type ModelJSON, type Sequential } from '../src/index.js';
import { loadSequential } from './helpers.js';
import { axonDirHandler, maxAbsDiff, tfPredict, tfjsNodeStyleSaver } from './tfjs-io.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-shape-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every layer of this file, including the three tfjs lacks. */
const axonOnly: Record<string, () => { model: Sequential; input: number[] }> = {
  sequence: () => ({
    model: sequential([
      zeroPadding1d({ padding: [1, 2], inputShape: [12, 3] }), // [15, 3]
      dense({ units: 4, activation: 'tanh' }),
      maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }), // [8, 4]
      upSampling1d({ size: 2 }), // [16, 4]
      cropping1d({ cropping: [1, 1] }), // [14, 4]
      averagePooling1d(), // [7, 4]
      permute({ dims: [2, 1] }), // [4, 7]
      globalMaxPooling1d(), // [7]
      repeatVector({ n: 3 }), // [3, 7]
      globalAveragePooling1d(), // [7]
      dense({ units: 2, activation: 'softmax' }),
    ]),
    input: [12, 3],
  }),
};

/** Models of the layers tfjs-layers 4.22 also has. */
const shared: Record<string, () => { model: Sequential; input: number[] }> = {
  textCnn: () => ({
    model: sequential([
      dense({ units: 5, activation: 'relu', inputShape: [10, 3] }),
      maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }), // [5, 5]
      averagePooling1d({ poolSize: 2, strides: 1 }), // [4, 5]
      permute({ dims: [2, 1] }), // [5, 4]
      globalMaxPooling1d(), // [4]
      repeatVector({ n: 3 }), // [3, 4]
      globalAveragePooling1d(), // [4]
      dense({ units: 2, activation: 'softmax' }),
    ]),
    input: [10, 3],
  }),
  image: () => ({
    model: sequential([
      zeroPadding2d({
        padding: [
          [1, 0],
          [0, 2],
        ],
        inputShape: [5, 4, 2],
      }), // [6, 6, 2]
      conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }), // [4, 4, 3]
      upSampling2d({ size: [2, 1] }), // [8, 4, 3]
      cropping2d({
        cropping: [
          [1, 1],
          [0, 1],
        ],
      }), // [6, 3, 3]
      zeroPadding2d({ padding: 1 }), // [8, 5, 3]
      cropping2d({ cropping: 1 }), // [6, 3, 3]
      maxPooling2d({ poolSize: 2 }), // [3, 1, 3]
      flatten(),
      dense({ units: 2 }),
    ]),
    input: [5, 4, 2],
  }),
};

describe('a model of these layers saved by Axon loads in Axon with identical predictions', () => {
  for (const [name, make] of Object.entries({ ...axonOnly, ...shared })) {
    it(name, async () => {
      setSeed(11);
      const { model, input } = make();
      const target = join(dir, `axon-axon-${name}`);
      await model.save(target);
      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      expect(loaded.layers.map((l) => l.getConfig())).toEqual(model.layers.map((l) => l.getConfig()));
      const x = randomNormal([4, ...input]);
      expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(model.predict(x).dataSync()));
    });
  }

  it('globalAveragePooling1d after embedding({ maskZero }) ignores the padding steps, before and after loading', async () => {
    setSeed(14);
    const model = sequential([
      embedding({ inputDim: 6, outputDim: 4, maskZero: true, inputShape: [null] }),
      globalAveragePooling1d(),
      dense({ units: 2 }),
    ]);
    const short = tensor([3, 1, 0, 0, 0, 5, 2, 4, 0, 0], [2, 5]);
    const unpadded = [tensor([3, 1], [1, 2]), tensor([5, 2, 4], [1, 3])];
    const target = join(dir, 'masked');
    await model.save(target);
    const loaded = await loadSequential(target);
    for (const m of [model, loaded]) {
      const padded = Array.from(m.predict(short).dataSync());
      // The same sequences without padding, through the layers one by one (no mask at all).
      const direct = unpadded.flatMap((seq) => {
        let y = seq;
        for (const layer of m.layers) y = layer.apply(y) as typeof y;
        return Array.from(y.dataSync());
      });
      expect(maxAbsDiff(padded, direct)).toBeLessThan(1e-6);
    }
  });

  it('writes Keras snake_case configs', async () => {
    setSeed(12);
    const target = join(dir, 'format');
    await axonOnly.sequence!().model.save(target);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as ModelJSON;
    const layers = (json.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
    const byClass = Object.fromEntries(layers.map((l) => [l.class_name, l.config]));
    expect(byClass.ZeroPadding1D).toMatchObject({ padding: [1, 2] });
    expect(byClass.MaxPooling1D).toMatchObject({ pool_size: [3], strides: [2], padding: 'same' });
    expect(byClass.UpSampling1D).toMatchObject({ size: 2 });
    expect(byClass.Cropping1D).toMatchObject({ cropping: [1, 1] });
    expect(byClass.Permute).toMatchObject({ dims: [2, 1] });
    expect(byClass.RepeatVector).toMatchObject({ n: 3 });
  });
});

describe('a model of these layers saved by Axon loads in tfjs-layers and predicts the same', () => {
  for (const [name, make] of Object.entries(shared)) {
    it(name, async () => {
      setSeed(13);
      const { model, input } = make();
      const target = join(dir, `axon-tfjs-${name}`);
      await model.save(target);
      const loaded = await tfl.loadLayersModel(axonDirHandler(target));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([5, ...input]);
      expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
    });
  }
});

describe('a model of these layers built and saved by tfjs-layers loads in Axon and predicts the same', () => {
  const tfjsModels: Record<string, () => { model: tfl.Sequential; input: number[] }> = {
    textCnn: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.dense({ units: 6, activation: 'relu', inputShape: [9, 2] }),
          tfl.layers.maxPooling1d({ poolSize: 2 }), // [4, 6]
          tfl.layers.averagePooling1d({ poolSize: 3, strides: 1, padding: 'same' }), // [4, 6]
          tfl.layers.permute({ dims: [2, 1] }), // [6, 4]
          tfl.layers.globalMaxPooling1d({}), // [4]
          tfl.layers.repeatVector({ n: 2 }), // [2, 4]
          tfl.layers.globalAveragePooling1d({}), // [4]
          tfl.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
      input: [9, 2],
    }),
    image: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.zeroPadding2d({ padding: [2, 1], inputShape: [4, 4, 1] }), // [8, 6, 1]
          tfl.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh' }), // [6, 4, 2]
          tfl.layers.upSampling2d({ size: [1, 2] }), // [6, 8, 2]
          tfl.layers.cropping2D({
            cropping: [
              [1, 2],
              [3, 0],
            ],
          }), // [3, 5, 2]
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
      input: [4, 4, 1],
    }),
  };

  for (const [name, make] of Object.entries(tfjsModels)) {
    it(name, async () => {
      const { model, input } = make();
      const target = join(dir, `tfjs-axon-${name}`);
      await model.save(tfjsNodeStyleSaver(target));
      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([6, ...input]);
      expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(model, x))).toBeLessThan(1e-5);
    });
  }
});
