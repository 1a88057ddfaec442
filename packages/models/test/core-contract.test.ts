/**
 * The Core v2 contract as a model sees it, on every registered backend (js,
 * native when it loads, and the simulated device 'sim'):
 * - the seed CNN and LSTM train on the simulated device to the same weights
 *   as on the host, and a fit step uploads only the batch (its indices) and
 *   downloads only the numbers fit reports;
 * - predict over 10,000 samples (313 batches, one concat of 313 parts);
 * - a step's memory is recycled: after the first epoch the pool serves every
 *   buffer, and a tensor a layer keeps across steps without keep() fails with
 *   an error naming the step's scope.
 */
import '@axon/kernels-native';
import { type Tensor, getBackend, listBackends, memoryInfo, randomUniform, setBackend, setSeed, tensor } from '@axon/tensor';
import { Layer, conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { lstm } from '@axon/recurrent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedDevice } from '@axon/tensor/testing';
import { sequential, type Sequential } from '../src/index.js';

const BACKENDS = listBackends();

function seedCnn(): Sequential {
  return sequential([
    conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1] }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
    flatten(),
    dense({ units: 8, activation: 'relu' }),
    dense({ units: 3, activation: 'softmax' }),
  ]);
}

function seedLstm(): Sequential {
  return sequential([
    lstm({ units: 5, returnSequences: true, inputShape: [6, 4] }),
    lstm({ units: 5 }),
    dense({ units: 3, activation: 'softmax' }),
  ]);
}

const MODELS = [
  { name: 'seed CNN', make: seedCnn, input: [10, 10, 1] },
  { name: 'seed LSTM', make: seedLstm, input: [6, 4] },
] as const;

/** Trains `steps` batches of 8 from fixed data and returns the weights' values. */
async function train(backend: string, model: (typeof MODELS)[number], samples = 24): Promise<{ weights: number[][]; losses: number[] }> {
  setBackend(backend);
  setSeed(11);
  const m = model.make();
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = randomUniform([samples, ...model.input]);
  const y = tensor(
    Int32Array.from({ length: samples }, (_, i) => i % 3),
    [samples],
    'int32',
  );
  const history = await m.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
  return { weights: m.getWeights().map((w) => Array.from(w.dataSync())), losses: history.history.loss as number[] };
}

describe.each(MODELS)('the $name on the simulated device', (model) => {
  let previous = '';
  beforeAll(() => {
    previous = getBackend().name;
  });
  afterAll(() => {
    setBackend(previous);
  });

  it('trains to the weights the host backend reaches', async () => {
    const onHost = await train('js', model);
    const onDevice = await train('sim', model);
    expect(onDevice.losses).toHaveLength(2);
    onDevice.losses.forEach((l, i) => expect(l).toBeCloseTo(onHost.losses[i]!, 5));
    onDevice.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - onHost.weights[i]![j]!)).toBeLessThan(1e-5)));
  });

  it('uploads only the batch and downloads only what fit reports, step after step', async () => {
    const device = setBackend('sim').device as SimulatedDevice;
    setSeed(3);
    const m = model.make();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const batch = 8;
    const x = randomUniform([32, ...model.input]);
    const y = tensor(
      Int32Array.from({ length: 32 }, (_, i) => i % 3),
      [32],
      'int32',
    );
    const perStep: { uploads: number; uploadBytes: number; downloads: number; downloadBytes: number }[] = [];
    await m.fit(x, y, {
      epochs: 2,
      batchSize: batch,
      verbose: 0,
      callbacks: {
        onBatchBegin: () => device.resetCounters(),
        onBatchEnd: () => {
          const { uploads, uploadBytes, downloads, downloadBytes } = device.counters;
          perStep.push({ uploads, uploadBytes, downloads, downloadBytes });
        },
      },
    });
    expect(perStep).toHaveLength(8);
    for (const step of perStep) {
      // The batch's sample indices (the data set already lives on the device) ...
      expect(step).toMatchObject({ uploads: 1, uploadBytes: batch * 4 });
      // ... and back only the loss and the accuracy's sum, in one read.
      expect(step).toMatchObject({ downloads: 1, downloadBytes: 8 });
    }
  });
});

describe.each(BACKENDS)('on %s', (backend) => {
  let previous = '';
  beforeAll(() => {
    previous = getBackend().name;
    setBackend(backend);
  });
  afterAll(() => {
    setBackend(previous);
  });

  it('predicts 10,000 samples in 313 batches, as each batch alone', () => {
    setSeed(5);
    const m = sequential([dense({ units: 6, activation: 'relu', inputShape: [8] }), dense({ units: 2 })]);
    const x = randomUniform([10_000, 8]);
    const out = m.predict(x) as Tensor;
    expect(out.shape).toEqual([10_000, 2]);
    const all = out.dataSync();
    for (const start of [0, 4992, 9984]) {
      const part = m.predictOnBatch(tensor(x.dataSync().slice(start * 8, (start + 16) * 8), [16, 8])).dataSync();
      for (let i = 0; i < part.length; i++) expect(all[start * 2 + i]).toBeCloseTo(part[i]!, 6);
    }
  });

  it('serves every buffer of later epochs from the pool', async () => {
    setSeed(9);
    const m = seedCnn();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = randomUniform([40, 10, 10, 1]);
    const y = tensor(
      Int32Array.from({ length: 40 }, (_, i) => i % 3),
      [40],
      'int32',
    );
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const warm = memoryInfo();
    await m.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    const after = memoryInfo();
    // fit's own setup (the label cast, the data check) may allocate; its steps must not.
    expect(after.misses - warm.misses).toBeLessThanOrEqual(4);
    expect(after.hits - warm.hits).toBeGreaterThan(100);
  });

  it('fails with an error naming the step when a layer keeps a tensor of a step without keep()', async () => {
    class Remembering extends Layer {
      last: Tensor | null = null;
      override call(inputs: Tensor | Tensor[]): Tensor {
        const x = inputs as Tensor;
        // Reads what the previous step left behind: released with that step's scope.
        if (this.last) this.last.dataSync();
        this.last = x;
        return x;
      }
      override computeOutputShape(shape: (number | null)[]): (number | null)[] {
        return shape;
      }
    }
    const m = sequential([dense({ units: 2, inputShape: [3] }), new Remembering({ name: 'remembering' })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(
      m.fit(
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        tensor([
          [0, 1],
          [1, 0],
        ]),
        { epochs: 2, batchSize: 1, verbose: 0 },
      ),
    ).rejects.toThrow(/was released when scope 'training step of sequential_\d+' ended/);
  });
});
