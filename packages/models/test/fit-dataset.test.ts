/**
 * fit / evaluate / predict on streams of batches (a Dataset of @axon/data, a generator, an array):
 * the same results as on the equivalent tensors, Keras' stepsPerEpoch semantics, validation,
 * progress with an unknown batch count, and errors that name the batch.
 */
import { describe, expect, it, vi } from 'vitest';
import { type Tensor, randomNormal, setSeed, slice, tensor } from '@axon/tensor';
import { dense, type SymbolicTensor, input } from '@axon/layers';
import { fromTensors } from '@axon/data';
import { Callback, type Sequential, model, sequential } from '../src/index.js';
import { blobs, values } from './helpers.js';

function twin(seed: number): [Sequential, Sequential] {
  const make = () => {
    setSeed(seed);
    const m = sequential([dense({ units: 8, activation: 'relu', inputShape: [4] }), dense({ units: 3, activation: 'softmax' })]);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    return m;
  };
  return [make(), make()];
}

/** The rows of x and y as batches of `size`, in order: what fit cuts from tensors without shuffling. */
function* batchesOf(x: Tensor, y: Tensor, size: number): Generator<{ xs: Tensor; ys: Tensor }> {
  const n = x.shape[0]!;
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    yield { xs: slice(x, start, count), ys: slice(y, start, count) };
  }
}

/** A re-iterable async stream over batchesOf (what a generator-backed dataset is). */
function asyncStream(x: Tensor, y: Tensor, size: number, onPull?: () => void): AsyncIterable<{ xs: Tensor; ys: Tensor }> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const b of batchesOf(x, y, size)) {
        onPull?.();
        yield b;
      }
    },
  };
}

describe('fit on a stream of batches', () => {
  it('gives the same weights and history as fit on the same tensors in the same order', async () => {
    const { x, y } = blobs(100, 3);
    const [onTensors, onStream] = twin(21);
    const a = await onTensors.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
    const b = await onStream.fit(asyncStream(x, y, 16), { epochs: 3, verbose: 0 });
    expect(b.history.loss).toEqual(a.history.loss);
    expect(b.history.accuracy).toEqual(a.history.accuracy);
    expect(onStream.getWeights().flatMap(values)).toEqual(onTensors.getWeights().flatMap(values));
  });

  it('reads a Dataset of @axon/data (fitDataset, tfjs), shuffled with a seed, and validates on tensors or on a dataset', async () => {
    const { x, y } = blobs(120, 5);
    const [m, again] = twin(22);
    const dataset = fromTensors({ xs: x, ys: y }).shuffle(120, { seed: 3 }).batch(20);
    const history = await m.fitDataset(dataset, { epochs: 4, verbose: 0, validationData: [x, y] });
    expect(history.history.loss).toHaveLength(4);
    expect(history.history.loss!.at(-1)!).toBeLessThan(history.history.loss![0]!);
    // The validation logs are evaluate's on the same tensors.
    const evaluated = m.evaluate(x, y, { returnDict: true });
    expect(history.history.val_loss!.at(-1)).toBeCloseTo(evaluated.loss!, 5);
    expect(history.history.val_accuracy!.at(-1)).toBeCloseTo(evaluated.accuracy!, 6);
    // The same seed, the same batches: the same weights.
    await again.fit(fromTensors({ xs: x, ys: y }).shuffle(120, { seed: 3 }).batch(20), {
      epochs: 4,
      verbose: 0,
      validationData: fromTensors({ xs: x, ys: y }).batch(32),
    });
    expect(again.getWeights().flatMap(values)).toEqual(m.getWeights().flatMap(values));
  });

  it('with stepsPerEpoch runs one pass on across epochs, and stops with a warning when the data runs out (Keras)', async () => {
    const { x, y } = blobs(80, 6);
    const [m] = twin(23);
    let pulled = 0;
    const stream = asyncStream(x, y, 16, () => pulled++); // 5 batches per pass
    const two = await m.fit(stream, { epochs: 2, stepsPerEpoch: 2, verbose: 0 });
    expect(two.history.loss).toHaveLength(2);
    expect(pulled).toBe(4); // batches 0-1, then 2-3 of the same pass
    pulled = 0;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const short = await m.fit(stream, { epochs: 4, batchesPerEpoch: 2, verbose: 0 });
    expect(pulled).toBe(5);
    expect(short.history.loss).toHaveLength(3); // epoch 3 ran out after one batch
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/fit: the dataset ran out of batches after 5 \(stepsPerEpoch 2\); training stops/),
    );
    warn.mockRestore();
  });

  it('reports an unknown batch count until the first pass ends', async () => {
    const { x, y } = blobs(48, 7);
    const [m] = twin(24);
    const lines: string[] = [];
    const steps: (number | null)[] = [];
    class StepsSeen extends Callback {
      override onEpochEnd(): void {
        steps.push(this.params!.steps);
      }
    }
    await m.fit(asyncStream(x, y, 16), { epochs: 2, output: { write: (s: string) => lines.push(s) }, callbacks: new StepsSeen() });
    expect(lines[0]).toMatch(/^Epoch 1\/2 - 3\/Unknown batches/);
    expect(lines[1]).toMatch(/^Epoch 2\/2 - 3\/3 batches/);
    expect(steps).toEqual([3, 3]);
  });

  it('trains a model of two inputs from {xs: {a, b}, ys} batches', async () => {
    setSeed(25);
    const a = input({ shape: [2], name: 'a' });
    const b = input({ shape: [2], name: 'b' });
    const { concatenate } = await import('@axon/layers');
    const joined = concatenate().apply([a, b]) as SymbolicTensor;
    const m = model({ inputs: [a, b], outputs: dense({ units: 1 }).apply(joined) as SymbolicTensor });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const xa = randomNormal([32, 2]);
    const xb = randomNormal([32, 2]);
    const target = randomNormal([32, 1]);
    const stream = fromTensors({ xs: { a: xa, b: xb }, ys: target }).batch(8);
    const history = await m.fit(stream, { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    expect(await m.evaluate(stream)).toBeCloseTo(m.evaluate({ a: xa, b: xb }, target, { batchSize: 8 }) as number, 5);
  });
});

describe('evaluate and predict on a stream', () => {
  it('give what they give on the same tensors', async () => {
    const { x, y } = blobs(50, 8);
    const [m] = twin(26);
    await m.fit(x, y, { epochs: 2, verbose: 0 });
    expect(await m.evaluate(asyncStream(x, y, 10))).toEqual(m.evaluate(x, y, { batchSize: 10 }));
    expect(await m.evaluateDataset(asyncStream(x, y, 10), { returnDict: true })).toEqual(
      m.evaluate(x, y, { batchSize: 10, returnDict: true }),
    );
    expect(await m.evaluate(asyncStream(x, y, 10), { steps: 2 })).toEqual(m.evaluate(slice(x, 0, 20), slice(y, 0, 20), { batchSize: 10 }));
    const predicted = await m.predict(fromTensors(x).batch(16));
    expect(values(predicted)).toEqual(values(m.predict(x, { batchSize: 16 })));
  });
});

describe('bad streams', () => {
  it('name the batch and what is wrong', async () => {
    const { x, y } = blobs(20, 9);
    const [m] = twin(27);
    const iterable = <T>(items: T[]): Iterable<T> => ({ [Symbol.iterator]: () => items[Symbol.iterator]() });
    await expect(m.fit(iterable([{ inputs: x, labels: y }]) as never, { verbose: 0 })).rejects.toThrow(
      'fit: batch 0 of the dataset must be {xs, ys} or [xs, ys] (inputs and targets), got object',
    );
    const badLabels = [
      [slice(x, 0, 10), slice(y, 0, 10)],
      [slice(x, 10, 10), tensor([0, 1, 2, 7, 0, 1, 2, 0, 1, 2])],
    ];
    await expect(m.fit(iterable(badLabels) as never, { verbose: 0 })).rejects.toThrow(/fit: batch 1 ys\[3\] is 7, not a valid label/);
    await expect(m.fit([] as never, {} as never)).rejects.toThrow(
      'fit: x is an array of 0, but the model has one input: give x as a Tensor',
    ); // an array is x, not a stream
    await expect(m.fit(fromTensors({ xs: x, ys: y }).take(0).batch(4), { verbose: 0 })).rejects.toThrow('fit: the dataset gave no batch');
    await expect(m.fit(asyncStream(x, y, 4), { epochs: 1, stepsPerEpoch: 0, verbose: 0 })).rejects.toThrow(
      'fit: stepsPerEpoch must be a positive integer, got 0',
    );
    await expect(m.fit(asyncStream(x, y, 4), { stepsPerEpoch: 2, batchesPerEpoch: 2, verbose: 0 })).rejects.toThrow(
      'fit: give stepsPerEpoch or batchesPerEpoch (its tfjs name), not both',
    );
    await expect(m.fit(asyncStream(x, y, 4), { batchSize: 4 } as never)).rejects.toThrow(/fit: unknown option 'batchSize'/);
  });
});
