/**
 * The functional API's acceptance models on Fashion-MNIST: a ResNet-style block, a two-input
 * model (image + metadata → concatenate) and a two-output model (class + regression, two losses
 * with lossWeights). Each trains on real data, round-trips through save / loadModel with identical
 * predictions, and interoperates with tfjs-layers both ways (tfjs loads Axon's directory and
 * predicts the same; a model built and saved by tfjs loads in Axon and predicts the same).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { type Tensor, concat, mean, reshape, setSeed, slice, square, sub } from '@axon/tensor';
import { type SymbolicTensor, activation, add, concatenate, conv2d, dense, flatten, input, maxPooling2d } from '@axon/layers';
import { loadFashionMnist } from '@axon/data';
import { Adam, Functional, Sequential, loadModel, model, sequential } from '../src/index.js';
import { values } from './helpers.js';
import { axonDirHandler, maxAbsDiff, tfjsNodeStyleSaver } from './tfjs-io.js';

let dir: string;
let data: ReturnType<typeof fashionWithMetadata>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-functional-'));
  data = fashionWithMetadata();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * 2,000 training and 500 test images, each with a metadata vector of 4 image statistics (mean
 * intensity, its square, and the mean of the top and bottom halves) and the mean intensity as a
 * regression target.
 */
function fashionWithMetadata() {
  const { train, test } = loadFashionMnist({ trainLimit: 2000, testLimit: 500 });
  const withMeta = (x: Tensor, y: Tensor) => {
    const n = x.shape[0]!;
    const intensity = reshape(mean(x, [1, 2, 3]), [n, 1]);
    const top = reshape(mean(slice(x, [0, 0, 0, 0], [-1, 14, -1, -1]), [1, 2, 3]), [n, 1]);
    const bottom = reshape(mean(slice(x, [0, 14, 0, 0], [-1, 14, -1, -1]), [1, 2, 3]), [n, 1]);
    return { image: x, meta: concat([intensity, square(intensity), top, bottom], 1), label: y, intensity };
  };
  return { train: withMeta(train.x, train.y), test: withMeta(test.x, test.y) };
}

const sample = (t: Tensor) => slice(t, 0, 16);

/** The predictions of an Axon model and a tfjs model on the same inputs, output by output. */
function tfjsOutputs(m: tfl.LayersModel, xs: Tensor[]): Float32Array[] {
  const out = m.predict(xs.map((x) => tf.tensor(Array.from(x.dataSync()), [...x.shape]))) as tf.Tensor | tf.Tensor[];
  return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
}

function axonOutputs(m: Functional | Sequential, xs: Tensor[]): Float32Array[] {
  const out = m.predict(xs.length === 1 ? xs[0]! : xs);
  return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(values(t)));
}

/** Saves, reloads, and checks the reload predicts exactly the same; then tfjs loads the directory and predicts the same. */
async function roundTrips(name: string, m: Functional, xs: Tensor[]): Promise<Functional> {
  const target = join(dir, name);
  await m.save(target);
  const loaded = await loadModel(target);
  expect(loaded).toBeInstanceOf(Functional);
  expect(loaded.outputNames).toEqual(m.outputNames);
  const expected = axonOutputs(m, xs);
  axonOutputs(loaded as Functional, xs).forEach((got, k) => expect(Array.from(got)).toEqual(Array.from(expected[k]!)));
  const inTfjs = await tfl.loadLayersModel(axonDirHandler(target));
  tfjsOutputs(inTfjs, xs).forEach((got, k) => expect(maxAbsDiff(got, expected[k]!)).toBeLessThan(1e-4));
  return loaded as Functional;
}

/** tfjs builds a model, saves it as tfjs-node would; Axon loads it and predicts what tfjs predicts. */
async function fromTfjs(name: string, m: tfl.LayersModel, xs: Tensor[]): Promise<Functional> {
  const target = join(dir, name);
  // With includeOptimizer tfjs writes its training config (when compiled) and optimizer state.
  await m.save(tfjsNodeStyleSaver(target), { includeOptimizer: true });
  const loaded = await loadModel(target);
  expect(loaded).toBeInstanceOf(Functional);
  const expected = tfjsOutputs(m, xs);
  axonOutputs(loaded as Functional, xs).forEach((got, k) => expect(maxAbsDiff(got, expected[k]!)).toBeLessThan(1e-4));
  return loaded as Functional;
}

describe('a ResNet-style block (conv → conv → add with the skip)', () => {
  it('trains on Fashion-MNIST, round-trips through save/loadModel, and interoperates with tfjs-layers', async () => {
    setSeed(11);
    const x = input({ shape: [28, 28, 1], name: 'image' });
    const stem = conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' }).apply(x) as SymbolicTensor;
    const inner = conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'inner' }).apply(stem) as SymbolicTensor;
    const branch = conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'branch' }).apply(inner) as SymbolicTensor;
    const residual = activation({ activation: 'relu', name: 'residual' }).apply(
      add({ name: 'skip' }).apply([stem, branch]) as SymbolicTensor,
    ) as SymbolicTensor;
    const pooled = flatten({ name: 'flat' }).apply(
      maxPooling2d({ poolSize: 2, name: 'pool' }).apply(residual) as SymbolicTensor,
    ) as SymbolicTensor;
    const resnet = model({
      inputs: x,
      outputs: dense({ units: 10, activation: 'softmax', name: 'class' }).apply(pooled) as SymbolicTensor,
      name: 'resnet',
    });
    resnet.compile({ optimizer: new Adam({ learningRate: 0.005 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await resnet.fit(data.train.image, data.train.label, { epochs: 2, batchSize: 32, verbose: 0 });
    const [, accuracy] = resnet.evaluate(data.test.image, data.test.label) as number[];
    expect(accuracy).toBeGreaterThan(0.6); // 10 classes: chance is 0.1
    const loaded = await roundTrips('resnet', resnet, [sample(data.test.image)]);
    // Compiled from the saved training config: the same loss and accuracy.
    const again = loaded.evaluate(data.test.image, data.test.label) as number[];
    expect(again[1]).toBeCloseTo(accuracy!, 6);

    const tx = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const tStem = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' })
      .apply(tx) as tfl.SymbolicTensor;
    const tBranch = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'branch' }).apply(tStem) as tfl.SymbolicTensor;
    const tSum = tfl.layers.add({ name: 'skip' }).apply([tStem, tBranch]) as tfl.SymbolicTensor;
    const tOut = tfl.layers
      .dense({ units: 10, activation: 'softmax', name: 'class' })
      .apply(tfl.layers.flatten({ name: 'flat' }).apply(tSum)) as tfl.SymbolicTensor;
    await fromTfjs('resnet-from-tfjs', tfl.model({ inputs: tx, outputs: tOut }), [sample(data.test.image)]);
  }, 180_000);
});

describe('a two-input model (image + metadata → concatenate)', () => {
  it('trains on Fashion-MNIST from name-keyed and ordered inputs, round-trips, and interoperates with tfjs-layers', async () => {
    setSeed(12);
    const image = input({ shape: [28, 28, 1], name: 'image' });
    const meta = input({ shape: [4], name: 'meta' });
    const features = flatten({ name: 'flat' }).apply(
      maxPooling2d({ poolSize: 2, name: 'pool' }).apply(
        conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'conv' }).apply(image) as SymbolicTensor,
      ) as SymbolicTensor,
    ) as SymbolicTensor;
    const metaFeatures = dense({ units: 8, activation: 'relu', name: 'meta_dense' }).apply(meta) as SymbolicTensor;
    const joined = concatenate({ name: 'join' }).apply([features, metaFeatures]) as SymbolicTensor;
    const twoIn = model({
      inputs: [image, meta],
      outputs: dense({ units: 10, activation: 'softmax', name: 'class' }).apply(joined) as SymbolicTensor,
    });
    expect(twoIn.inputNames).toEqual(['image', 'meta']);
    twoIn.compile({ optimizer: new Adam({ learningRate: 0.005 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const history = await twoIn.fit({ image: data.train.image, meta: data.train.meta }, data.train.label, {
      epochs: 2,
      batchSize: 32,
      verbose: 0,
      validationData: [[data.test.image, data.test.meta], data.test.label],
    });
    expect(history.history.val_accuracy!.at(-1)).toBeGreaterThan(0.6);
    const byName = twoIn.evaluate({ meta: data.test.meta, image: data.test.image }, data.test.label) as number[];
    const byOrder = twoIn.evaluate([data.test.image, data.test.meta], data.test.label) as number[];
    expect(byName).toEqual(byOrder);
    await roundTrips('two-inputs', twoIn, [sample(data.test.image), sample(data.test.meta)]);
    expect(() => twoIn.predict(data.test.image)).toThrow(/predict: x is one Tensor, but the model has 2 inputs \(image, meta\)/);
    expect(() => twoIn.predict({ image: data.test.image, metadata: data.test.meta })).toThrow(
      /predict: x names input 'metadata', which the model does not have; its inputs: image, meta/,
    );

    const tImage = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const tMeta = tfl.input({ shape: [4], name: 'meta' });
    const tFeatures = tfl.layers
      .flatten({ name: 'flat' })
      .apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: 'conv' }).apply(tImage)) as tfl.SymbolicTensor;
    const tJoined = tfl.layers
      .concatenate({ name: 'join' })
      .apply([tFeatures, tfl.layers.dense({ units: 8, name: 'meta_dense' }).apply(tMeta) as tfl.SymbolicTensor]);
    const tOut = tfl.layers.dense({ units: 10, activation: 'softmax', name: 'class' }).apply(tJoined) as tfl.SymbolicTensor;
    await fromTfjs('two-inputs-from-tfjs', tfl.model({ inputs: [tImage, tMeta], outputs: tOut }), [
      sample(data.test.image),
      sample(data.test.meta),
    ]);
  }, 180_000);
});

describe('a two-output model (class + regression, two losses with lossWeights)', () => {
  it('trains both heads on Fashion-MNIST, logs each loss, round-trips with its training config, and interoperates with tfjs-layers', async () => {
    setSeed(13);
    const image = input({ shape: [28, 28, 1], name: 'image' });
    const trunk = flatten({ name: 'flat' }).apply(
      maxPooling2d({ poolSize: 2, name: 'pool' }).apply(
        conv2d({ filters: 8, kernelSize: 3, activation: 'relu', name: 'conv' }).apply(image) as SymbolicTensor,
      ) as SymbolicTensor,
    ) as SymbolicTensor;
    const cls = dense({ units: 10, activation: 'softmax', name: 'class' }).apply(trunk) as SymbolicTensor;
    const intensity = dense({ units: 1, name: 'intensity' }).apply(
      dense({ units: 16, activation: 'relu', name: 'hidden' }).apply(trunk) as SymbolicTensor,
    ) as SymbolicTensor;
    const twoOut = model({ inputs: image, outputs: [cls, intensity] });
    expect(twoOut.outputNames).toEqual(['class', 'intensity']);
    twoOut.compile({
      optimizer: new Adam({ learningRate: 0.005 }),
      loss: { class: 'sparseCategoricalCrossentropy', intensity: 'meanSquaredError' },
      lossWeights: { class: 1, intensity: 0.5 },
      metrics: { class: ['accuracy'] },
    });
    const history = await twoOut.fit(
      data.train.image,
      { class: data.train.label, intensity: data.train.intensity },
      { epochs: 2, batchSize: 32, verbose: 0 },
    );
    const h = history.history;
    expect(Object.keys(h).sort()).toEqual(['class_accuracy', 'class_loss', 'intensity_loss', 'loss']);
    // The total is the weighted sum of the heads' losses (no regularization here).
    h.loss!.forEach((total, e) => expect(total).toBeCloseTo(h.class_loss![e]! + 0.5 * h.intensity_loss![e]!, 4));
    const logs = twoOut.evaluate(data.test.image, [data.test.label, data.test.intensity], { returnDict: true });
    expect(logs.class_accuracy).toBeGreaterThan(0.6);
    // The regression head beats predicting the mean intensity (the target's variance).
    const variance = values(mean(square(sub(data.test.intensity, mean(data.test.intensity)))))[0]!;
    expect(logs.intensity_loss).toBeLessThan(0.5 * variance);
    const loaded = await roundTrips('two-outputs', twoOut, [sample(data.test.image)]);
    const reloaded = loaded.evaluate(data.test.image, [data.test.label, data.test.intensity], { returnDict: true });
    expect(reloaded.loss).toBeCloseTo(logs.loss!, 5); // compiled from the saved config: same losses and weights
    expect(reloaded.class_accuracy).toBeCloseTo(logs.class_accuracy!, 6);

    const tImage = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const tTrunk = tfl.layers
      .flatten({ name: 'flat' })
      .apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, name: 'conv' }).apply(tImage));
    const tModel = tfl.model({
      inputs: tImage,
      outputs: [
        tfl.layers.dense({ units: 10, activation: 'softmax', name: 'class' }).apply(tTrunk) as tfl.SymbolicTensor,
        tfl.layers.dense({ units: 1, name: 'intensity' }).apply(tTrunk) as tfl.SymbolicTensor,
      ],
    });
    tModel.compile({
      optimizer: 'adam',
      loss: { class: 'sparseCategoricalCrossentropy', intensity: 'meanSquaredError' },
      metrics: { class: 'accuracy' },
    });
    const fromTf = await fromTfjs('two-outputs-from-tfjs', tModel, [sample(data.test.image)]);
    // tfjs' training config compiled in Axon: one loss per output, by name.
    expect(fromTf.losses.map((l) => l.name)).toEqual(['sparse_categorical_crossentropy', 'mean_squared_error']);
  }, 180_000);
});

describe('nested models and resumed training', () => {
  it('a Sequential inside a functional model saves, loads and resumes with its optimizer state', async () => {
    setSeed(14);
    const features = sequential({
      layers: [conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', inputShape: [28, 28, 1] }), flatten()],
      name: 'features',
    });
    const build = () => {
      const image = input({ shape: [28, 28, 1], name: 'image' });
      return model({
        inputs: image,
        outputs: dense({ units: 10, activation: 'softmax', name: 'class' }).apply(
          features.apply(image) as SymbolicTensor,
        ) as SymbolicTensor,
      });
    };
    const x = slice(data.train.image, 0, 256);
    const y = slice(data.train.label, 0, 256);
    const fitArgs = { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 as const };
    const nested = build();
    expect(nested.layers.map((l) => l.name)).toEqual(['image', 'features', 'class']);
    nested.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const start = nested.getWeights();
    // Straight: 2 epochs. Resumed: 1 epoch, save, load, 1 more — the same weights to float tolerance.
    await nested.fit(x, y, { ...fitArgs, epochs: 2 });
    const straight = nested.getWeights().flatMap(values);
    nested.setWeights(start);
    nested.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    await nested.fit(x, y, fitArgs);
    await roundTrips('nested-tfjs', nested, [sample(x)]); // tfjs-layers loads the nested model too
    await nested.save(join(dir, 'nested'));
    const resumed = (await loadModel(join(dir, 'nested'))) as Functional;
    expect(resumed.getLayer('features')).toBeInstanceOf(Sequential);
    expect(resumed.optimizer?.iterations).toBe(4);
    await resumed.fit(x, y, fitArgs);
    const after = resumed.getWeights().flatMap(values);
    expect(after.length).toBe(straight.length);
    after.forEach((v, i) => expect(v).toBeCloseTo(straight[i]!, 4));
    // Freezing the nested model freezes its layers: fit leaves them alone.
    resumed.getLayer('features').trainable = false;
    const frozen = resumed.getLayer('features').getWeights().flatMap(values);
    resumed.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await resumed.fit(x, y, fitArgs);
    expect(resumed.getLayer('features').getWeights().flatMap(values)).toEqual(frozen);
  }, 120_000);
});
