import '@axon/kernels-js';
import { describe, expect, it } from 'vitest';
import { randomNormal, setSeed, slice } from '@axon/tensor';
import { dense } from '@axon/layers';
import { lstm } from '@axon/recurrent';
import { sequential, type Sequential } from '../src/index.js';
import { values } from './helpers.js';

/** A stateful LSTM with a fixed batch size of 4 over sequences [3, 1]. */
function statefulModel(seed = 4): Sequential {
  setSeed(seed);
  const model = sequential([lstm({ units: 2, stateful: true, batchInputShape: [4, 3, 1] }), dense({ units: 1 })]);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  return model;
}

describe('a model with a fixed batch size', () => {
  setSeed(11);
  const x = randomNormal([8, 3, 1]);
  const y = randomNormal([8, 1]);

  it('fits, evaluates and predicts a stateful LSTM over several batches', async () => {
    const model = statefulModel();
    const history = await model.fit(x, y, { batchSize: 4, epochs: 2, shuffle: false, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    history.history.loss!.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    model.resetStates();
    expect(Number.isFinite(model.evaluate(x, y, { batchSize: 4 }) as number)).toBe(true);
    // Without batchSize the declared batch size is used (as Keras infers it).
    model.resetStates();
    const predicted = model.predict(x);
    expect(predicted.shape).toEqual([8, 1]);
    // The second batch starts from the states the first left: the same as two predictOnBatch calls.
    model.resetStates();
    const first = values(model.predictOnBatch(slice(x, 0, 4)));
    const second = values(model.predictOnBatch(slice(x, 4, 4)));
    values(predicted).forEach((v, i) => expect(v).toBeCloseTo([...first, ...second][i]!, 6));
  });

  it('requires batchSize to equal the declared batch size', async () => {
    const model = statefulModel();
    await expect(model.fit(x, y, { batchSize: 2, verbose: 0 })).rejects.toThrow(
      /^fit: batchSize 2 does not match the batch size 4 that model sequential_\d+ declares \(batchInputShape \[4,3,1\] of layer lstm_\d+\); pass batchSize: 4 or leave it out$/,
    );
    expect(() => model.predict(x, { batchSize: 8 })).toThrow(/predict: batchSize 8 does not match the batch size 4/);
    expect(() => model.evaluate(x, y, { batchSize: 3 })).toThrow(/evaluate: batchSize 3 does not match the batch size 4/);
    expect(() => model.predictOnBatch(slice(x, 0, 3))).toThrow(
      /predictOnBatch: x has 3 samples \(shape \[3,3,1\]\), but stateful model .* declares batch size 4/,
    );
  });

  it('in a stateful model requires sample counts that are multiples of the batch size (as Keras)', async () => {
    const model = statefulModel();
    await expect(model.fit(randomNormal([10, 3, 1]), randomNormal([10, 1]), { batchSize: 4, verbose: 0 })).rejects.toThrow(
      'fit: in a stateful model the number of samples must be a multiple of the batch size 4: x has 10 samples',
    );
    await expect(model.fit(x, y, { validationData: [randomNormal([6, 3, 1]), randomNormal([6, 1])], verbose: 0 })).rejects.toThrow(
      'fit: in a stateful model the number of samples must be a multiple of the batch size 4: validationData x has 6 samples',
    );
    expect(() => model.predict(randomNormal([5, 3, 1]))).toThrow(
      'predict: in a stateful model the number of samples must be a multiple of the batch size 4: x has 5 samples',
    );
  });

  it('still checks the non-batch dims', () => {
    const model = statefulModel();
    expect(() => model.predict(randomNormal([8, 3, 2]))).toThrow(
      /predict: x has shape \[8,3,2\], but model .* expects input shape \[4,3,1\]/,
    );
  });

  it('a non-stateful model with a declared batch size fits several full batches', async () => {
    setSeed(2);
    const model = sequential([dense({ units: 1, inputShape: [3], batchSize: 4 })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const history = await model.fit(randomNormal([12, 3]), randomNormal([12, 1]), { verbose: 0 });
    expect(history.epoch).toEqual([0]);
    // Its layers check the declared batch dim, so a smaller last batch is refused up front, clearly.
    await expect(model.fit(randomNormal([10, 3]), randomNormal([10, 1]), { verbose: 0 })).rejects.toThrow(
      /^fit: in a model with a fixed batch size \(batchInputShape \[4,3\] of layer dense_\d+\) the number of samples must be a multiple of the batch size 4: x has 10 samples$/,
    );
  });
});

describe('Sequential.resetStates', () => {
  it('resets the states of the stateful layers', () => {
    const model = statefulModel();
    setSeed(5);
    const x = randomNormal([4, 3, 1]);
    const fresh = values(model.predictOnBatch(x));
    const carried = values(model.predictOnBatch(x));
    expect(carried).not.toEqual(fresh);
    model.resetStates();
    expect(values(model.predictOnBatch(x))).toEqual(fresh);
  });

  it('skips layers that are not stateful', () => {
    const model = sequential([lstm({ units: 2, inputShape: [3, 1] }), dense({ units: 1 })]);
    expect(() => model.resetStates()).not.toThrow();
  });
});
