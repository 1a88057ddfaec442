/**
 * Interop with TensorFlow.js layers (tfjs-core + tfjs-backend-cpu; the
 * file:// handler needs tfjs-node, so a custom IOHandler reads and writes the
 * same files tfjs-node would).
 */
import '@axon/kernels-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { Tensor, randomNormal, setSeed } from '@axon/tensor';
import { averagePooling2d, batchNormalization, conv2d, dense, dropout, flatten, globalAveragePooling2d, maxPooling2d } from '@axon/layers';
import { Adagrad, RMSprop, SGD, loadModel, sequential, type ModelJSON, type Sequential } from '../src/index.js';
import { loadSequential } from './helpers.js';
import { axonDirHandler, maxAbsDiff, tfPredict, tfjsNodeStyleSaver } from './tfjs-io.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-interop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const axonModels: Record<string, () => { model: Sequential; input: number[] }> = {
  dense: () => ({
    model: sequential([dense({ units: 8, activation: 'relu', inputShape: [5] }), dense({ units: 3, activation: 'softmax' })]),
    input: [5],
  }),
  cnn: () => ({
    model: sequential([
      conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same', inputShape: [8, 8, 2] }),
      maxPooling2d({ poolSize: 2 }),
      conv2d({ filters: 3, kernelSize: [2, 3], strides: [1, 2], activation: 'tanh' }),
      averagePooling2d({ poolSize: 1 }),
      flatten(),
      dense({ units: 6, activation: 'elu' }),
      dropout({ rate: 0.3 }),
      dense({ units: 2, activation: 'sigmoid' }),
    ]),
    input: [8, 8, 2],
  }),
  batchnorm: () => ({
    model: sequential([
      conv2d({ filters: 3, kernelSize: 3, inputShape: [6, 6, 1] }),
      batchNormalization(),
      globalAveragePooling2d(),
      dense({ units: 2, activation: 'softmax' }),
    ]),
    input: [6, 6, 1],
  }),
};

describe('a model saved by Axon loads in tfjs-layers and predicts the same', () => {
  for (const [name, make] of Object.entries(axonModels)) {
    it(name, async () => {
      setSeed(123);
      const { model, input } = make();
      model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      // Train a little so every weight (BatchNormalization's moving statistics too) is non-trivial.
      const xTrain = randomNormal([16, ...input]);
      const yTrain = tf
        .oneHot(
          tf.tensor1d(
            Array.from({ length: 16 }, (_, i) => i % 2),
            'int32',
          ),
          model.outputShape[1]!,
        )
        .arraySync() as number[][];
      await model.fit(xTrain, new Tensor(Float32Array.from(yTrain.flat()), [16, model.outputShape[1]!]), {
        epochs: 2,
        batchSize: 4,
        verbose: 0,
      });
      const target = join(dir, `axon-${name}`);
      await model.save(target);

      const loaded = await tfl.loadLayersModel(axonDirHandler(target));
      expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      // trainingConfig was understood: tfjs compiled the model with our loss and optimizer.
      expect(loaded.optimizer?.getClassName()).toBe('Adam');
      const x = randomNormal([5, ...input]);
      expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
      // The optimizer group (iter, <weight>/m, <weight>/v) is read by tfjs' Adam.setWeights.
      expect(loaded.optimizer?.iterations).toBe(8);
      const tfState = await loaded.optimizer!.getWeights();
      const axonVariables = model.trainableWeights;
      expect(tfState.length).toBe(1 + 2 * axonVariables.length);
      const firstMoment = model.optimizer!.stateOf(axonVariables[0]!)!.m!;
      expect(maxAbsDiff(tfState[1]!.tensor.dataSync() as Float32Array, firstMoment.dataSync())).toBe(0);
    });
  }

  for (const [name, optimizer] of Object.entries({
    'SGD with momentum': () => new SGD({ learningRate: 0.05, momentum: 0.9 }),
    'RMSprop without momentum (tfjs keeps zero momentum slots)': () => new RMSprop({ learningRate: 0.01 }),
    'centered RMSprop with momentum': () => new RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true }),
    Adagrad: () => new Adagrad({ learningRate: 0.05 }),
  })) {
    it(`tfjs restores the optimizer state of ${name} and keeps training`, async () => {
      setSeed(5);
      const { model, input } = axonModels.dense!();
      model.compile({ optimizer: optimizer(), loss: 'categoricalCrossentropy' });
      const x = randomNormal([8, ...input]);
      const y = new Tensor(
        new Float32Array(24).map((_, i) => (i % 4 === 0 ? 1 : 0)),
        [8, 3],
      );
      await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
      const target = join(dir, `axon-optimizer-${name.replace(/\W+/g, '-')}`);
      await model.save(target);
      const loaded = await tfl.loadLayersModel(axonDirHandler(target));
      expect(loaded.optimizer?.iterations).toBe(2);
      const tfNames = (await loaded.optimizer!.getWeights()).map((w) => w.name);
      const axonNames = (JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as ModelJSON).weightsManifest
        .flatMap((g) => g.weights)
        .filter((w) => w.group === 'optimizer')
        .map((w) => w.name);
      expect(tfNames).toEqual(axonNames);
      await loaded.fit(tf.tensor(Array.from(x.dataSync()), [8, ...input]), tf.tensor(Array.from(y.dataSync()), [8, 3]), {
        epochs: 1,
        batchSize: 4,
        verbose: 0,
      });
      expect(loaded.optimizer?.iterations).toBe(4);
    });
  }

  it('still loads in tfjs when the training config has names tfjs lacks (huber, recall, AdamW)', async () => {
    setSeed(2);
    const { model, input } = axonModels.dense!();
    model.compile({ optimizer: 'adamw', loss: 'huber', metrics: ['recall', 'sparse_categorical_accuracy'] });
    const target = join(dir, 'axon-huber');
    await model.save(target);
    const loaded = await tfl.loadLayersModel(axonDirHandler(target));
    const x = randomNormal([3, ...input]);
    expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
    expect((await loadModel(target)).loss?.name).toBe('huber');
  });

  it('writes the tfjs layers-model format', async () => {
    setSeed(1);
    const { model } = axonModels.dense!();
    const target = join(dir, 'format');
    await model.save(target);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.convertedBy).toBeNull();
    expect(json.generatedBy).toMatch(/^Axon @axon\/models v/);
    const topology = json.modelTopology as {
      class_name: string;
      config: { name: string; layers: { class_name: string; config: Record<string, unknown> }[] };
    };
    expect(topology.class_name).toBe('Sequential');
    const first = topology.config.layers[0]!;
    expect(first.class_name).toBe('Dense');
    expect(first.config.batch_input_shape).toEqual([null, 5]);
    expect(first.config.kernel_initializer).toEqual({ class_name: 'GlorotUniform', config: { seed: null } });
    expect(first.config.use_bias).toBe(true);
    expect(json.weightsManifest).toEqual([
      {
        paths: ['group1-shard1of1.bin'],
        weights: model.weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' })),
      },
    ]);
    expect(readFileSync(join(target, 'group1-shard1of1.bin')).byteLength).toBe(model.countParams() * 4);
  });
});

describe('a model built and saved by tfjs-layers loads in Axon and predicts the same', () => {
  const tfjsModels: Record<string, () => { model: tfl.Sequential; input: number[] }> = {
    dense: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.dense({ units: 7, activation: 'relu', inputShape: [4], kernelRegularizer: tfl.regularizers.l2({ l2: 0.01 }) }),
          tfl.layers.dense({ units: 3, activation: 'softmax', useBias: false }),
        ],
      }),
      input: [4],
    }),
    cnn: () => ({
      model: tfl.sequential({
        layers: [
          tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [9, 9, 1], padding: 'same', strides: 2 }),
          tfl.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
          tfl.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 1, activation: 'selu' }),
          tfl.layers.batchNormalization(),
          tfl.layers.flatten(),
          tfl.layers.dropout({ rate: 0.5 }),
          tfl.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
      input: [9, 9, 1],
    }),
  };

  for (const [name, make] of Object.entries(tfjsModels)) {
    it(name, async () => {
      const { model, input } = make();
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const xs = tf.randomNormal([12, ...input]);
      const ys = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: 12 }, (_, i) => i % 3),
          'int32',
        ),
        3,
      );
      await model.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0 });
      const target = join(dir, `tfjs-${name}`);
      await model.save(tfjsNodeStyleSaver(target), { includeOptimizer: true });

      const warn = vi.spyOn(console, 'warn');
      const loaded = await loadSequential(target);
      expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      expect(loaded.optimizer?.className).toBe('Adam');
      // tfjs' optimizer group (iter, <weight>/m, <weight>/v) is restored, not skipped.
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();
      expect(loaded.optimizer?.iterations).toBe(6);
      const tfState = await model.optimizer.getWeights();
      const secondMoment = loaded.optimizer!.stateOf(loaded.trainableWeights.at(-1)!)!.v!;
      expect(maxAbsDiff(secondMoment.dataSync(), tfState.at(-1)!.tensor.dataSync() as Float32Array)).toBe(0);
      expect(loaded.optimizer?.learningRate).toBeCloseTo(0.01, 8);
      const x = randomNormal([6, ...input]);
      expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(model, x))).toBeLessThan(1e-5);
      // And it keeps training in Axon.
      await loaded.fit(
        x,
        new Tensor(
          new Float32Array(18).map((_, i) => (i % 4 === 0 ? 1 : 0)),
          [6, 3],
        ),
        { epochs: 1, verbose: 0 },
      );
    });
  }

  for (const [name, make] of Object.entries({
    momentum: () => tf.train.momentum(0.05, 0.9),
    'rmsprop without momentum': () => tf.train.rmsprop(0.01),
    'centered rmsprop': () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7, true),
    adagrad: () => tf.train.adagrad(0.05),
  })) {
    it(`restores the optimizer state of a tfjs ${name}`, async () => {
      // Seeded weights, data and batch order: tfjs' own centered RMSProp turns its state to NaN for some
      // random starts (about 1 in 8 unseeded, and some seeds), which would make this test flaky.
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({
            units: 4,
            inputShape: [3],
            activation: 'tanh',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
          }),
          tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      model.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await model.fit(tf.randomNormal([6, 3], 0, 1, 'float32', 1), tf.randomNormal([6, 2], 0, 1, 'float32', 2), {
        epochs: 1,
        batchSize: 3,
        verbose: 0,
        shuffle: false, // tfjs shuffles with Math.random: the same batches every run
      });
      const target = join(dir, `tfjs-optimizer-${name.replace(/\W+/g, '-')}`);
      await model.save(tfjsNodeStyleSaver(target), { includeOptimizer: true });
      const warn = vi.spyOn(console, 'warn');
      const loaded = await loadSequential(target);
      expect(warn).not.toHaveBeenCalled();
      warn.mockRestore();
      expect(loaded.optimizer?.iterations).toBe(2);
      const tfState = (await model.optimizer.getWeights()).slice(1);
      for (const { name: slotName, tensor } of tfState) {
        expect(Array.from(tensor.dataSync()).every(Number.isFinite), `tfjs' own ${slotName} is finite`).toBe(true);
      }
      const optimizer = loaded.optimizer!;
      for (const { name: slotName, tensor } of tfState) {
        const cut = slotName.lastIndexOf('/');
        const variable = loaded.trainableWeights.find((w) => w.name === slotName.slice(0, cut))!;
        const slot = optimizer.stateOf(variable)![slotName.slice(cut + 1)];
        // null: RMSprop without momentum keeps no momentum slot (tfjs' holds its last step, which
        // momentum 0 never reads).
        if (slot) expect(maxAbsDiff(slot.dataSync(), tensor.dataSync() as Float32Array)).toBe(0);
        else expect(slotName.endsWith('/momentum')).toBe(true);
      }
    });
  }
});
