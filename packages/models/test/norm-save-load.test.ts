/**
 * LayerNormalization, the activation layers and the noise layers in the TensorFlow.js layers format:
 * Axon save → load predicts the same; an Axon-saved model loads in tfjs-layers and predicts the
 * same; a tfjs-saved model loads in Axon and predicts the same. The noise layers are the identity
 * in prediction, so predictions agree exactly although training drew random masks/noise.
 */
import '@axon/kernels-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as L from '@axon/layers';
import { Tensor, listBackends, randomNormal, setBackend, setSeed } from '@axon/tensor';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequential, type Sequential } from '../src/index.js';
import { loadSequential } from './helpers.js';
import { axonDirHandler, maxAbsDiff, tfPredict, tfjsNodeStyleSaver } from './tfjs-io.js';

try {
  await import('@axon/kernels-native');
} catch {
  // absent: the tests run on 'js' only
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-norm-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One-hot targets [n, classes] cycling through the classes. */
function targets(n: number, classes: number): Tensor {
  return new Tensor(
    Float32Array.from({ length: n * classes }, (_, i) => (Math.floor(i / classes) % classes === i % classes ? 1 : 0)),
    [n, classes],
  );
}

/** Models using every new layer; `tfjsCompatible` ones use only options TensorFlow.js implements. */
const axonModels: Record<string, { make: () => Sequential; input: number[]; tfjsCompatible: boolean }> = {
  dense: {
    make: () =>
      sequential([
        L.dense({ units: 8, inputShape: [6] }),
        L.layerNormalization(),
        L.reLU({ maxValue: 1.5 }),
        L.gaussianNoise({ stddev: 0.2 }),
        L.dense({ units: 8 }),
        L.leakyReLU({ alpha: 0.2 }),
        L.gaussianDropout({ rate: 0.3 }),
        L.dense({ units: 8, activation: 'selu' }),
        L.alphaDropout({ rate: 0.2 }),
        L.dense({ units: 8 }),
        L.prelu({ alphaInitializer: { className: 'Constant', config: { value: 0.25 } } }),
        L.dense({ units: 8 }),
        L.elu(),
        L.dense({ units: 3 }),
        L.softmax(),
      ]),
    input: [6],
    tfjsCompatible: true,
  },
  sequence: {
    make: () =>
      sequential([
        L.dense({ units: 6, inputShape: [5, 4] }),
        L.spatialDropout1d({ rate: 0.3 }),
        L.layerNormalization({ axis: [1, 2], epsilon: 0.01 }),
        L.prelu({ sharedAxes: [1], alphaInitializer: 'randomUniform' }),
        L.flatten(),
        L.dense({ units: 3 }),
        L.softmax({ axis: 1 }),
      ]),
    input: [5, 4],
    tfjsCompatible: true,
  },
  keras_only_options: {
    make: () =>
      sequential([
        L.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2] }),
        L.spatialDropout2d({ rate: 0.25 }),
        L.layerNormalization({ axis: [1, 2, 3], center: false }),
        L.reLU({ maxValue: 2, negativeSlope: 0.1, threshold: 0.1 }),
        L.globalAveragePooling2d(),
        L.dense({ units: 4 }),
        L.elu({ alpha: 0.5 }),
        L.dense({ units: 3, activation: 'softmax' }),
      ]),
    input: [6, 6, 2],
    tfjsCompatible: false,
  },
};

async function trained(name: string): Promise<{ model: Sequential; input: number[] }> {
  setSeed(5);
  const { make, input } = axonModels[name]!;
  const model = make();
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  // fit trains with `training: true`: the noise layers draw masks and noise.
  await model.fit(randomNormal([12, ...input]), targets(12, 3), { epochs: 2, batchSize: 4, verbose: 0 });
  return { model, input };
}

describe.each(listBackends())('on the %s backend', (backend) => {
  beforeAll(() => {
    setBackend(backend);
  });

  describe('Axon save → load predicts the same', () => {
    for (const name of Object.keys(axonModels)) {
      it(name, async () => {
        const { model, input } = await trained(name);
        const target = join(dir, `${backend}-axon-${name}`);
        await model.save(target);
        const loaded = await loadSequential(target);
        expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
        expect(loaded.layers.map((l) => L.serializeLayer(l))).toEqual(model.layers.map((l) => L.serializeLayer(l)));
        const x = randomNormal([5, ...input]);
        const expected = model.predict(x).dataSync();
        expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(expected));
        // Prediction runs the noise layers as the identity: the same input gives the same output.
        expect(Array.from(model.predict(x).dataSync())).toEqual(Array.from(expected));
      });
    }
  });
});

describe('an Axon-saved model loads in tfjs-layers and predicts the same', () => {
  for (const name of Object.keys(axonModels).filter((n) => axonModels[n]!.tfjsCompatible)) {
    it(name, async () => {
      setBackend('js');
      const { model, input } = await trained(name);
      const target = join(dir, `tfjs-from-axon-${name}`);
      await model.save(target);
      const loaded = await tfl.loadLayersModel(axonDirHandler(target));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([6, ...input]);
      expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
    });
  }

  it('writes Keras snake_case configs for the new layers', async () => {
    setBackend('js');
    const { model } = await trained('sequence');
    const target = join(dir, 'format');
    await model.save(target);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
      weightsManifest: { weights: { name: string; shape: number[] }[] }[];
    };
    const layers = json.modelTopology.config.layers;
    expect(layers.map((l) => l.class_name)).toEqual([
      'Dense',
      'SpatialDropout1D',
      'LayerNormalization',
      'PReLU',
      'Flatten',
      'Dense',
      'Softmax',
    ]);
    expect(layers[2]!.config).toMatchObject({ axis: [1, 2], epsilon: 0.01, center: true, scale: true });
    expect(layers[3]!.config).toMatchObject({ shared_axes: [1] });
    const names = json.weightsManifest[0]!.weights.map((w) => [w.name, w.shape]);
    expect(names).toContainEqual([`${model.layers[2]!.name}/gamma`, [5, 6]]);
    expect(names).toContainEqual([`${model.layers[2]!.name}/beta`, [5, 6]]);
    expect(names).toContainEqual([`${model.layers[3]!.name}/alpha`, [1, 6]]);
  });
});

describe('a tfjs-saved model loads in Axon and predicts the same', () => {
  const tfjsModels: Record<string, { make: () => tfl.Sequential; input: number[] }> = {
    dense: {
      make: () =>
        tfl.sequential({
          layers: [
            tfl.layers.dense({ units: 8, inputShape: [5] }),
            tfl.layers.layerNormalization({ epsilon: 0.01 }),
            tfl.layers.reLU({ maxValue: 1 }),
            tfl.layers.gaussianNoise({ stddev: 0.3 }),
            tfl.layers.dense({ units: 8 }),
            tfl.layers.leakyReLU(),
            tfl.layers.gaussianDropout({ rate: 0.2 }),
            tfl.layers.dense({ units: 8 }),
            tfl.layers.prelu({ alphaInitializer: 'glorotUniform' }),
            tfl.layers.alphaDropout({ rate: 0.1 }),
            tfl.layers.dense({ units: 8 }),
            tfl.layers.elu(),
            tfl.layers.dense({ units: 3 }),
            tfl.layers.softmax(),
          ],
        }),
      input: [5],
    },
    sequence: {
      make: () =>
        tfl.sequential({
          layers: [
            tfl.layers.dense({ units: 4, inputShape: [3, 5] }),
            tfl.layers.spatialDropout1d({ rate: 0.3 }),
            tfl.layers.layerNormalization({ axis: [1, 2] }),
            tfl.layers.prelu({ sharedAxes: 1, alphaInitializer: 'glorotUniform' }),
            tfl.layers.softmax({ axis: -1 }),
            tfl.layers.flatten(),
            tfl.layers.dense({ units: 3 }),
            // tfjs' Softmax defaults to axis 1 (Keras: -1); the saved config says which.
            tfl.layers.softmax(),
          ],
        }),
      input: [3, 5],
    },
  };

  for (const [name, { make, input }] of Object.entries(tfjsModels)) {
    it(name, async () => {
      setBackend('js');
      const model = make();
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
      await model.fit(tf.randomNormal([8, ...input]), ys, { epochs: 2, batchSize: 4, verbose: 0 });
      const target = join(dir, `tfjs-${name}`);
      await model.save(tfjsNodeStyleSaver(target));

      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const x = randomNormal([6, ...input]);
      expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(model, x))).toBeLessThan(1e-5);
      // And it keeps training in Axon (the noise layers active again).
      loaded.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      await loaded.fit(x, targets(6, 3), { epochs: 1, verbose: 0 });
    });
  }
});
