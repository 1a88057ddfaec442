/**
 * fit({ distributed }) without MPI: the strategy contract with in-process fakes (the MPI runs are
 * in @axon/distributed's tests). A one-rank strategy must leave training exactly as without it; the
 * gradient buckets are filled in the order the backward pass finishes gradients, and each one's
 * sum starts before the backward pass ends (communication overlaps computation).
 */
import { Tensor, randomNormal, setSeed, sum, tensor, valueAndGrads } from '@axon/tensor';
import { dense } from '@axon/layers';
import { describe, expect, it } from 'vitest';

import { type DistributedStrategy, sequential } from '../src/index.js';
import { GradientReducer, shardOf } from '../src/distributed.js';

/** A strategy for one rank whose collectives are identities, recording what is asked of it. */
function oneRank(bucketBytes: number, events: string[] = []): DistributedStrategy {
  return {
    rank: 0,
    size: 1,
    bucketBytes,
    broadcast: () => events.push('broadcast'),
    allReduceSum: () => events.push('allReduceSum'),
    allReduceSumAsync: (values) => {
      events.push(`start ${values.length}`);
      return () => events.push(`wait ${values.length}`);
    },
    abort: (message) => {
      throw new Error(`aborted: ${message}`);
    },
  };
}

async function trainedWeights(distributed?: DistributedStrategy): Promise<number[][]> {
  setSeed(3);
  const model = sequential([dense({ units: 6, activation: 'tanh', inputShape: [4] }), dense({ units: 3, activation: 'softmax' })]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = randomNormal([40, 4]);
  const y = tensor(Array.from({ length: 40 }, (_, i) => i % 3));
  await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationSplit: 0.2, ...(distributed ? { distributed } : {}) });
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

describe('fit({ distributed })', () => {
  it('with one rank trains exactly as without (broadcast, buckets and combined logs change nothing)', async () => {
    const events: string[] = [];
    const plain = await trainedWeights();
    const distributed = await trainedWeights(oneRank(64, events));
    expect(distributed).toEqual(plain);
    expect(events[0]).toBe('broadcast'); // weights from rank 0 first
    expect(events.filter((e) => e.startsWith('start')).length).toBeGreaterThan(4); // several buckets per step
  });

  it('rejects a strategy that lacks a member, naming it', async () => {
    const model = sequential([dense({ units: 1, inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const { allReduceSumAsync: _, ...incomplete } = oneRank(64);
    await expect(
      model.fit(tensor([[1, 2]]), tensor([[1]]), { distributed: incomplete as unknown as DistributedStrategy, verbose: 0 }),
    ).rejects.toThrow(/fit: distributed must be a DistributedStrategy .*missing: allReduceSumAsync\(\)/);
  });

  it('splits a global batch into contiguous shards covering it once', () => {
    const shards = [0, 1, 2].map((r) => shardOf(64, 32, r, 3));
    expect(shards).toEqual([
      { start: 64, end: 74 },
      { start: 74, end: 85 },
      { start: 85, end: 96 },
    ]);
    expect(shardOf(0, 1, 0, 2)).toEqual({ start: 0, end: 0 }); // a rank may get no sample
  });
});

describe('GradientReducer', () => {
  it('buckets gradients in reverse order and starts each sum before the backward pass ends', () => {
    const events: string[] = [];
    setSeed(1);
    const layers = [dense({ units: 8, inputShape: [5] }), dense({ units: 8 }), dense({ units: 2 })];
    const model = sequential(layers);
    const x = randomNormal([4, 5]);
    model.predict(x);
    const variables = model.trainableWeights; // 6: kernel, bias per layer (first layer first)
    const reducer = new GradientReducer(oneRank(4 * 8 * 8 + 4 * 8, events), variables);
    const grads = valueAndGrads(() => sum(model.call(x, { training: true }) as Tensor), variables, {
      onGradient: (i, g) => {
        events.push(`grad ${variables[i]!.name}`);
        reducer.onGradient(i, g);
      },
    }).grads;
    const summed = reducer.finish();
    // The last layer's gradients are final first, and its bucket's sum starts before the first layer's gradients exist.
    const firstStart = events.findIndex((e) => e.startsWith('start'));
    const lastGrad = events.length - 1 - [...events].reverse().findIndex((e) => e.startsWith('grad'));
    expect(events[0]).toMatch(/^grad dense_\d+\/(kernel|bias)$/);
    expect(events[0]).toContain(layers[2]!.name);
    expect(firstStart).toBeLessThan(lastGrad);
    expect(reducer.bucketCount).toBeGreaterThan(1);
    summed.forEach((g, i) => {
      expect(g).toBeInstanceOf(Tensor);
      expect(g.shape).toEqual(variables[i]!.shape);
      expect(Array.from(g.dataSync())).toEqual(Array.from(grads[i]!.dataSync()));
    });
  });

  it('starts the buckets in one order whatever order their gradients complete in (ranks must pair the same buckets)', () => {
    const events: string[] = [];
    const model = sequential([dense({ units: 4, inputShape: [3] }), dense({ units: 5 })]);
    model.predict(tensor([[1, 2, 3]]));
    const variables = model.trainableWeights; // kernel 3x4, bias 4, kernel 4x5, bias 5
    const reducer = new GradientReducer(oneRank(4 * 5, events), variables); // buckets: [bias5], [kernel4x5], [bias4], [kernel3x4]
    expect(reducer.bucketCount).toBe(4);
    // The first layer's gradients arrive first: nothing may start before the last layer's bucket.
    reducer.onGradient(0, tensor(new Array(12).fill(1), [3, 4]));
    reducer.onGradient(1, tensor(new Array(4).fill(1)));
    expect(events).toEqual([]);
    reducer.onGradient(3, tensor(new Array(5).fill(1)));
    expect(events).toEqual(['start 5']);
    reducer.onGradient(2, tensor(new Array(20).fill(1), [4, 5]));
    expect(events).toEqual(['start 5', 'start 20', 'start 4', 'start 12']);
    reducer.finish();
    reducer.contributeZeros();
    expect(events.slice(-4)).toEqual(['start 5', 'start 20', 'start 4', 'start 12']);
  });
});
