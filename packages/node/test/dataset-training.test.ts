/**
 * What the Dataset API is for: a model trained on batches from a generator or from IDX files ends
 * with exactly the weights of the same model trained on the equivalent in-memory tensors under the
 * same shuffle seed (batches are fed with trainOnBatch, the public per-step API).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createJsBackend } from '@axon/kernels-js';
import { registerSimulatedBackend } from '@axon/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';

import * as axon from '../src/index.js';

registerSimulatedBackend(createJsBackend); // so that AXON_BACKEND=sim runs this file on the simulated device

const dir = mkdtempSync(join(tmpdir(), 'axon-dataset-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const n = 96;
const features = 6;
const inputs = Array.from({ length: n }, (_, i) => Array.from({ length: features }, (_, k) => (i * 31 + k * 17) % 256));
const labels = inputs.map((row) => (row[0]! + row[3]! > 255 ? 1 : 0));

/** Trains a freshly seeded model for 3 epochs on the batches of `data`; returns its weights. */
async function train(data: axon.Dataset<{ xs: axon.Tensor; ys: axon.Tensor }>): Promise<number[][]> {
  axon.setSeed(5);
  const model = axon.sequential([
    axon.dense({ units: 8, activation: 'relu', inputShape: [features] }),
    axon.dense({ units: 2, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const scaled = data
    .shuffle(32, { seed: 9 })
    .batch(16)
    .map(({ xs, ys }) => ({ xs: axon.ops.div(xs, 255), ys }));
  for (let epoch = 0; epoch < 3; epoch++) {
    for await (const { xs, ys } of scaled) model.trainOnBatch(xs, ys);
  }
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

describe('a model fed by a Dataset', () => {
  it('trains to the same weights from tensors, a generator and IDX files', async () => {
    const fromMemory = await train(axon.fromTensors({ xs: axon.tensor(inputs), ys: axon.tensor(Int32Array.from(labels)) }));
    const fromGenerator = await train(
      axon.fromGenerator(function* () {
        for (let i = 0; i < n; i++) yield { xs: axon.tensor(inputs[i]!), ys: axon.tensor(Int32Array.of(labels[i]!), []) };
      }),
    );
    writeFileSync(join(dir, 'x.idx'), axon.encodeIdx([n, features], Uint8Array.from(inputs.flat())));
    writeFileSync(join(dir, 'y.idx'), axon.encodeIdx([n], Uint8Array.from(labels)));
    const fromFiles = await train(axon.zip({ xs: axon.idx(join(dir, 'x.idx')), ys: axon.idx(join(dir, 'y.idx'), { dtype: 'int32' }) }));

    axon.setSeed(5);
    const untrained = axon.sequential([
      axon.dense({ units: 8, activation: 'relu', inputShape: [features] }),
      axon.dense({ units: 2, activation: 'softmax' }),
    ]);
    expect(fromMemory).not.toEqual(untrained.getWeights().map((w) => Array.from(w.dataSync()))); // training moved them
    expect(fromGenerator).toEqual(fromMemory);
    expect(fromFiles).toEqual(fromMemory);
  });
});
