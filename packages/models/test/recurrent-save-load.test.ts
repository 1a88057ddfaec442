/**
 * Recurrent models (@axon/recurrent) in the TensorFlow.js layers format
 * (model.json + weight shards), both ways:
 * - files written by hand following Keras' conventions (what the TensorFlow.js
 *   converter writes for a Keras 2 model: snake_case configs, reset_after,
 *   `<layer>/kernel` weight names, and Keras 2's cell-scoped names
 *   `lstm/lstm_cell/kernel`) load and predict the PyTorch reference values of
 *   @axon/recurrent's fixtures (read from packages/recurrent/test/fixtures);
 * - Axon saves and reloads recurrent models, and tfjs-layers loads them;
 * - models saved by tfjs-layers load in Axon.
 */
import '@axon/kernels-js';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '@axon/layers';
import type { Layer } from '@axon/layers';
import * as R from '@axon/recurrent';
import { type Tensor, listBackends, oneHot, randomNormal, randomUniform, setBackend, setSeed, tensor } from '@axon/tensor';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sequential, type Sequential } from '../src/index.js';
import { loadSequential } from './helpers.js';

try {
  await import('@axon/kernels-native');
} catch {
  // absent: the tests run on 'js' only
}

/** Every registered backend: the tests run once on each. */
const BACKENDS: string[] = listBackends();
const useBackend = (name: string): void => {
  setBackend(name);
};

// ---- @axon/recurrent's PyTorch fixtures -----------------------------------------------------------

interface Encoded {
  shape: number[];
  values: number[];
}

/** The parts of a fixture (see packages/recurrent/test/helpers.ts) these tests use. */
interface Fixture {
  name: string;
  layer: { className: string; config: Record<string, unknown> };
  embedding?: { indices: Encoded; table: Encoded };
  input: Encoded;
  weights: Encoded[];
  outputs: Encoded[];
}

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '../../recurrent/test/fixtures');

function loadFixtures(file: string): Fixture[] {
  return JSON.parse(readFileSync(join(fixtureDir, `${file}.json`), 'utf8')) as Fixture[];
}

function decode(e: Encoded): Tensor {
  return tensor(Float32Array.from(e.values), e.shape);
}

/** |actual - expected| <= rtol * (|expected| + max |expected|) + atol, element-wise. */
function expectClose(actual: Tensor, expected: Encoded, what: string, rtol = 2e-5, atol = 1e-6): void {
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expected.values.forEach((e, i) => {
    const err = Math.abs(a[i]! - e);
    if (!(err <= rtol * (Math.abs(e) + scale) + atol)) {
      throw new Error(`${what}: value ${i} is ${a[i]}, expected ${e} (|error| ${err.toExponential(2)})`);
    }
  });
}

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'axon-recurrent-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- files following Keras' conventions ---------------------------------------------------------

const initializer = (className: string, config: Record<string, unknown> = {}): Record<string, unknown> => ({
  module: 'keras.initializers',
  class_name: className,
  config,
  registered_name: null,
});

/** A Keras 2.15 RNN layer config, as model.to_json() writes it. */
function kerasRnnConfig(className: string, config: Record<string, unknown>): Record<string, unknown> {
  const rnn: Record<string, unknown> = {
    name: config.name,
    trainable: true,
    dtype: 'float32',
    return_sequences: config.returnSequences ?? false,
    return_state: false,
    go_backwards: config.goBackwards ?? false,
    stateful: false,
    unroll: false,
    time_major: false,
    units: config.units,
    activation: 'tanh',
    use_bias: config.useBias ?? true,
    kernel_initializer: initializer('GlorotUniform', { seed: null }),
    recurrent_initializer: initializer('Orthogonal', { gain: 1.0, seed: null }),
    bias_initializer: initializer('Zeros'),
    kernel_regularizer: null,
    recurrent_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    recurrent_constraint: null,
    bias_constraint: null,
    dropout: 0.0,
    recurrent_dropout: 0.0,
  };
  if (className === 'SimpleRNN') return rnn;
  rnn.recurrent_activation = 'sigmoid';
  rnn.implementation = 2;
  if (className === 'LSTM') rnn.unit_forget_bias = true;
  if (className === 'GRU') rnn.reset_after = config.resetAfter ?? true;
  return rnn;
}

/** A model.json + one shard, as the TensorFlow.js converter writes a Keras Sequential model. */
function writeKerasModel(target: string, layers: Record<string, unknown>[], weights: { name: string; value: Tensor }[]): void {
  mkdirSync(target, { recursive: true });
  const bytes = Buffer.concat(weights.map((w) => Buffer.from(w.value.dataSync().buffer.slice(0))));
  writeFileSync(join(target, 'group1-shard1of1.bin'), bytes);
  const json = {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: { class_name: 'Sequential', config: { name: 'sequential', layers } },
    },
    weightsManifest: [
      { paths: ['group1-shard1of1.bin'], weights: weights.map((w) => ({ name: w.name, shape: [...w.value.shape], dtype: 'float32' })) },
    ],
  };
  writeFileSync(join(target, 'model.json'), JSON.stringify(json));
}

function fixture(file: string, name: string): Fixture {
  const f = loadFixtures(file).find((c) => c.name === name);
  if (!f) throw new Error(`no fixture '${name}' in ${file}.json`);
  return f;
}

/** Embedding(maskZero) → recurrent layer, from a masking fixture, with Keras names: the PyTorch values must come out. */
function kerasEmbeddingModel(target: string, f: Fixture, rnnName: string, weightNames: (layer: string) => string[]): Tensor {
  const indices = decode(f.embedding!.indices);
  const table = decode(f.embedding!.table);
  const batchSteps = indices.shape[1]!;
  const layers = [
    {
      class_name: 'InputLayer',
      config: { batch_input_shape: [null, batchSteps], dtype: 'float32', sparse: false, ragged: false, name: 'embedding_input' },
    },
    {
      class_name: 'Embedding',
      config: {
        name: 'embedding',
        trainable: true,
        dtype: 'float32',
        batch_input_shape: [null, batchSteps],
        input_dim: table.shape[0],
        output_dim: table.shape[1],
        embeddings_initializer: initializer('RandomUniform', { minval: -0.05, maxval: 0.05, seed: null }),
        embeddings_regularizer: null,
        activity_regularizer: null,
        embeddings_constraint: null,
        mask_zero: true,
        input_length: batchSteps,
      },
    },
    { class_name: f.layer.className, config: kerasRnnConfig(f.layer.className, { ...f.layer.config, name: rnnName }) },
  ];
  const names = ['embedding/embeddings', ...weightNames(rnnName)];
  writeKerasModel(
    target,
    layers,
    [table, ...f.weights.map(decode)].map((value, i) => ({ name: names[i]!, value })),
  );
  return indices;
}

const tfjsNames = (layer: string): string[] => [`${layer}/kernel`, `${layer}/recurrent_kernel`, `${layer}/bias`];

describe.each(BACKENDS)('Keras-convention files load and predict the reference on %s', (backend) => {
  beforeEach(() => useBackend(backend));

  it('Embedding(maskZero) → GRU with reset_after: true (bias [2, 3u])', async () => {
    const f = fixture('masking', 'Embedding(maskZero) -> GRU, last output');
    expect(f.layer.config.resetAfter).toBe(true);
    const target = join(dir, `keras-gru-${backend}`);
    const x = kerasEmbeddingModel(target, f, 'gru', tfjsNames);
    const model = await loadSequential(target);
    expect(model.weights.map((w) => [w.name, [...w.shape]])).toEqual([
      ['embedding/embeddings', [7, 3]],
      ['gru/kernel', [3, 12]],
      ['gru/recurrent_kernel', [4, 12]],
      ['gru/bias', [2, 12]],
    ]);
    expectClose(model.predict(x), f.outputs[0]!, 'GRU prediction');
  });

  it('Embedding(maskZero) → LSTM returning sequences', async () => {
    const f = fixture('masking', 'Embedding(maskZero) -> LSTM, returnSequences');
    const target = join(dir, `keras-lstm-${backend}`);
    const x = kerasEmbeddingModel(target, f, 'lstm', tfjsNames);
    const model = await loadSequential(target);
    expectClose(model.predict(x), f.outputs[0]!, 'LSTM prediction');
  });

  it('an LSTM with go_backwards, and a Bidirectional(LSTM)', async () => {
    for (const [file, name] of [
      ['lstm', 'LSTM: goBackwards, last output'],
      ['bidirectional', 'Bidirectional(LSTM) concat'],
    ] as const) {
      const f = fixture(file, name);
      const x = decode(f.input);
      const input = {
        class_name: 'InputLayer',
        config: { batch_input_shape: [null, ...x.shape.slice(1)], dtype: 'float32', name: 'input_1' },
      };
      let layer: Record<string, unknown>;
      let names: string[];
      if (f.layer.className === 'Bidirectional') {
        const inner = f.layer.config.layer as { className: string; config: Record<string, unknown> };
        layer = {
          class_name: 'Bidirectional',
          config: {
            name: 'bidirectional',
            trainable: true,
            dtype: 'float32',
            merge_mode: f.layer.config.mergeMode,
            layer: { class_name: inner.className, config: kerasRnnConfig(inner.className, { ...inner.config, name: 'lstm' }) },
          },
        };
        names = [...tfjsNames('bidirectional/forward_lstm'), ...tfjsNames('bidirectional/backward_lstm')];
      } else {
        layer = { class_name: 'LSTM', config: kerasRnnConfig('LSTM', { ...f.layer.config, name: 'lstm_1' }) };
        names = tfjsNames('lstm_1');
      }
      const target = join(dir, `keras-${file}-${backend}`);
      writeKerasModel(
        target,
        [input, layer],
        f.weights.map((w, i) => ({ name: names[i]!, value: decode(w) })),
      );
      const model = await loadSequential(target);
      expectClose(model.predict(x), f.outputs[0]!, `${name} prediction`);
    }
  });

  // Keras 2.x names an RNN's weights after its cell's scope (`gru/gru_cell/kernel`), which a
  // converted model keeps; the loader maps them to Axon's `gru/kernel`.
  it('loads Keras 2 cell-scoped weight names (gru/gru_cell/kernel)', async () => {
    const f = fixture('masking', 'Embedding(maskZero) -> GRU, last output');
    const target = join(dir, `keras-gru-cell-${backend}`);
    const x = kerasEmbeddingModel(target, f, 'gru', (l) => tfjsNames(`${l}/gru_cell`));
    const model = await loadSequential(target);
    expectClose(model.predict(x), f.outputs[0]!, 'GRU prediction');
  });
});

// ---- Axon → Axon, Axon → tfjs-layers, tfjs-layers → Axon -----------------------------------------

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A tfjs load handler over a model directory (model.json + shards). */
function dirHandler(modelDir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const all = Buffer.concat(manifest.flatMap((group) => group.paths.map((p) => readFileSync(join(modelDir, p)))));
        return [tf.io.getWeightSpecs(manifest), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

/** A tfjs save handler writing what tfjs-node's file:// handler writes. */
function tfjsSaver(modelDir: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      mkdirSync(modelDir, { recursive: true });
      writeFileSync(join(modelDir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      const json = {
        ...artifacts,
        weightData: undefined,
        weightSpecs: undefined,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(modelDir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
}
const tfPredict = (model: tfl.LayersModel, x: Tensor): Float32Array =>
  (model.predict(tf.tensor(Array.from(x.dataSync()), [...x.shape])) as tf.Tensor).dataSync() as Float32Array;

describe.each(BACKENDS)('recurrent models round-trip on %s', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(11);
  });

  async function trained(layers: Layer[], inputShape: number[], classes: number): Promise<Sequential> {
    const model = sequential(layers);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const labels = Array.from({ length: 16 }, (_, i) => i % classes);
    await model.fit(randomNormal([16, ...inputShape]), oneHot(labels, classes), { epochs: 2, batchSize: 4, verbose: 0 });
    return model;
  }

  it('Axon saves and reloads every recurrent layer (predictions and training continue)', async () => {
    const model = await trained(
      [
        R.lstm({ units: 5, returnSequences: true, inputShape: [6, 3] }),
        R.bidirectional({ layer: R.gru({ units: 3, returnSequences: true }), mergeMode: 'concat' }),
        R.timeDistributed({ layer: L.dense({ units: 4, activation: 'relu' }) }),
        R.gru({ units: 4, resetAfter: false, returnSequences: true, goBackwards: true }),
        R.rnn({ cell: [R.simpleRNNCell({ units: 3 }), R.lstmCell({ units: 3 })] }),
        L.dense({ units: 2, activation: 'softmax' }),
      ],
      [6, 3],
      2,
    );
    const path = join(dir, `axon-${backend}`);
    await model.save(path);
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    };
    const saved = json.modelTopology.config.layers;
    expect(saved.map((l) => l.class_name)).toEqual(['LSTM', 'Bidirectional', 'TimeDistributed', 'GRU', 'RNN', 'Dense']);
    expect(saved[0]!.config).toMatchObject({ units: 5, return_sequences: true, recurrent_activation: 'sigmoid', unit_forget_bias: true });
    expect(saved[3]!.config).toMatchObject({ reset_after: false, go_backwards: true });
    const loaded = await loadSequential(path);
    expect(loaded.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name));
    const x = randomNormal([5, 6, 3]);
    expect(maxAbsDiff(loaded.predict(x).dataSync(), model.predict(x).dataSync())).toBeLessThan(1e-6);
    await loaded.fit(randomNormal([8, 6, 3]), oneHot([0, 1, 0, 1, 0, 1, 0, 1], 2), { epochs: 1, batchSize: 4, verbose: 0 });
  });

  it('tfjs-layers loads LSTM, GRU (resetAfter: false), SimpleRNN and Bidirectional models saved by Axon', async () => {
    const model = await trained(
      [
        R.lstm({ units: 4, returnSequences: true, inputShape: [5, 3] }),
        R.bidirectional({ layer: R.simpleRNN({ units: 3, returnSequences: true }), mergeMode: 'sum' }),
        R.gru({ units: 4, resetAfter: false }),
        L.dense({ units: 3, activation: 'softmax' }),
      ],
      [5, 3],
      3,
    );
    const path = join(dir, `to-tfjs-${backend}`);
    await model.save(path);
    const loaded = await tfl.loadLayersModel(dirHandler(path));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['LSTM', 'Bidirectional', 'GRU', 'Dense']);
    const x = randomNormal([4, 5, 3]);
    expect(maxAbsDiff(tfPredict(loaded, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
  });

  it('Axon loads recurrent models saved by tfjs-layers (its GRU is resetAfter: false, its LSTM hardSigmoid)', async () => {
    // (tfjs' orthogonal initializer needs linalg ops tfjs-backend-cpu lacks here; the weights are replaced anyway.)
    const init = { recurrentInitializer: 'glorotUniform' } as const;
    const tm = tfl.sequential({
      layers: [
        tfl.layers.lstm({ units: 4, returnSequences: true, inputShape: [5, 3], ...init }),
        tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 3, returnSequences: true, ...init }) as tfl.RNN, mergeMode: 'ave' }),
        tfl.layers.simpleRNN({ units: 3, goBackwards: true, ...init }),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    // Random non-trivial biases too (tfjs initialises them to zeros / unit forget bias).
    tm.setWeights(tm.getWeights().map((w) => tf.randomUniform(w.shape, -0.5, 0.5)));
    const path = join(dir, `from-tfjs-${backend}`);
    await tm.save(tfjsSaver(path));
    const loaded = await loadSequential(path);
    expect((loaded.layers[0]!.getConfig() as { recurrentActivation: string }).recurrentActivation).toBe('hardSigmoid');
    const x = randomUniform([4, 5, 3], -1, 1);
    expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(tm, x))).toBeLessThan(1e-5);
    // And back: the reloaded model saves the same weights.
    expect(maxAbsDiff(loaded.getWeights()[0]!.dataSync(), tm.getWeights()[0]!.dataSync() as Float32Array)).toBe(0);
  });

  it('TimeDistributed models load both ways (the wrapped weights are named after the wrapper)', async () => {
    // tfjs-layers → Axon
    const tm = tfl.sequential({
      layers: [
        tfl.layers.simpleRNN({ units: 3, returnSequences: true, inputShape: [4, 2], recurrentInitializer: 'glorotUniform' }),
        tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 2, activation: 'tanh' }) }),
      ],
    });
    tm.setWeights(tm.getWeights().map((w) => tf.randomUniform(w.shape, -0.5, 0.5)));
    const fromTfjs = join(dir, `td-from-tfjs-${backend}`);
    await tm.save(tfjsSaver(fromTfjs));
    const loaded = await loadSequential(fromTfjs);
    const x = randomUniform([3, 4, 2], -1, 1);
    expect(maxAbsDiff(loaded.predict(x).dataSync(), tfPredict(tm, x))).toBeLessThan(1e-5);
    // Axon → tfjs-layers
    const model = sequential([
      R.lstm({ units: 3, returnSequences: true, inputShape: [4, 2] }),
      R.timeDistributed({ layer: L.dense({ units: 2, name: 'inner_dense' }), name: 'td' }),
    ]);
    expect(model.weights.slice(3).map((w) => w.name)).toEqual(['td/kernel', 'td/bias']);
    const toTfjs = join(dir, `td-to-tfjs-${backend}`);
    await model.save(toTfjs);
    const back = await tfl.loadLayersModel(dirHandler(toTfjs));
    expect(back.layers.map((l) => l.getClassName())).toEqual(['LSTM', 'TimeDistributed']);
    expect(maxAbsDiff(tfPredict(back, x), model.predict(x).dataSync())).toBeLessThan(1e-5);
  });

  it('Keras 2 cell-scoped names inside Bidirectional load (bidirectional/forward_lstm/lstm_cell/kernel)', async () => {
    const model = sequential([
      R.bidirectional({ layer: R.lstm({ units: 3, returnSequences: true, name: 'lstm' }), name: 'bidirectional', inputShape: [4, 2] }),
      R.gru({ units: 2, name: 'gru' }),
    ]);
    const path = join(dir, `keras2-bidi-${backend}`);
    await model.save(path);
    const file = join(path, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: { weights: { name: string }[] }[] };
    // What tf.keras 2 writes: a scope per cell (numbered when there are several) and TensorFlow's ':0'.
    const keras2 = (name: string): string =>
      name
        .replace(/^bidirectional\/forward_lstm\//, 'bidirectional/forward_lstm/lstm_cell/')
        .replace(/^bidirectional\/backward_lstm\/(.*)$/, 'bidirectional/backward_lstm/lstm_cell_1/$1:0')
        .replace(/^gru\//, 'gru/gru_cell_2/');
    const names = json.weightsManifest.flatMap((g) => g.weights.map((w) => w.name));
    expect(names).toEqual(model.weights.map((w) => w.name));
    for (const group of json.weightsManifest) for (const w of group.weights) w.name = keras2(w.name);
    expect(json.weightsManifest[0]!.weights[0]!.name).toBe('bidirectional/forward_lstm/lstm_cell/kernel');
    expect(json.weightsManifest[0]!.weights[3]!.name).toBe('bidirectional/backward_lstm/lstm_cell_1/kernel:0');
    writeFileSync(file, JSON.stringify(json));
    const loaded = await loadSequential(path);
    expect(loaded.weights.map((w) => w.name)).toEqual(names);
    const x = randomNormal([2, 4, 2]);
    expect(maxAbsDiff(loaded.predict(x).dataSync(), model.predict(x).dataSync())).toBeLessThan(1e-6);
  });
});
