import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Tensor, setSeed, tensor } from '@axon/tensor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Dataset, array, encodeIdx, fromGenerator, fromIterable, fromTensors, idx, zip } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-dataset-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A generator dataset of 0..n-1 that records how many elements it produced and whether a pass was closed. */
function counting(n: number): { ds: Dataset<number>; produced: () => number; closed: () => number } {
  let produced = 0;
  let closed = 0;
  const ds = fromGenerator(function* () {
    try {
      for (let i = 0; i < n; i++) {
        produced++;
        yield i;
      }
    } finally {
      closed++;
    }
  });
  return { ds, produced: () => produced, closed: () => closed };
}

const values = (batches: Tensor[]): number[][] => batches.map((b) => Array.from(b.dataSync()));

describe('sources', () => {
  it('array and fromIterable give their elements on every pass; fromGenerator restarts the generator', async () => {
    const ds = array([3, 1, 2]);
    expect(await ds.toArray()).toEqual([3, 1, 2]);
    expect(await ds.toArray()).toEqual([3, 1, 2]);
    expect(await fromIterable(new Set(['a', 'b'])).toArray()).toEqual(['a', 'b']);
    async function* letters(): AsyncGenerator<string> {
      yield 'x';
      yield 'y';
    }
    const gen = fromGenerator(letters);
    expect(await gen.toArray()).toEqual(['x', 'y']);
    expect(await gen.toArray()).toEqual(['x', 'y']);
    const seen: number[] = [];
    for await (const v of array([1, 2])) seen.push(v);
    expect(seen).toEqual([1, 2]);
  });

  it('fromTensors slices every tensor of a structure along axis 0', async () => {
    const xs = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ys = tensor(new Int32Array([7, 8, 9]));
    const rows = await fromTensors({ xs, ys }).toArray();
    expect(rows.map((r) => r.xs.toArray())).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(rows.map((r) => [r.ys.shape, r.ys.dtype, r.ys.item()])).toEqual([
      [[], 'int32', 7],
      [[], 'int32', 8],
      [[], 'int32', 9],
    ]);
    const pairs = await fromTensors([xs, ys]).toArray();
    expect(pairs[2]![0].toArray()).toEqual([5, 6]);
  });

  it('rejects bad sources with errors naming the constructor', () => {
    expect(() => fromTensors({ xs: tensor([[1], [2]]), ys: tensor([1, 2, 3]) })).toThrow(
      'fromTensors: .ys has 3 rows along axis 0, but .xs has 2',
    );
    expect(() => fromTensors({ xs: [1, 2] })).toThrow('fromTensors: .xs must be a Tensor of rank 1 or more, got a number array');
    expect(() => fromIterable(5 as never)).toThrow('fromIterable: expected an iterable or async iterable, got a number');
    expect(() => fromGenerator('x' as never)).toThrow('fromGenerator: expected a function, got a string');
    expect(() => array('abc' as never)).toThrow('array: expected an array of elements, got a string');
  });

  it('a generator function that returns no iterator fails the pass with a clear error', async () => {
    await expect(fromGenerator((() => 3) as never).toArray()).rejects.toThrow('fromGenerator: the function must return an iterator');
  });
});

describe('transformations', () => {
  it('map (sync and async) and filter', async () => {
    const ds = array([1, 2, 3, 4])
      .map((x) => x * 10)
      .map(async (x) => x + 1)
      .filter(async (x) => x !== 21);
    expect(await ds.toArray()).toEqual([11, 31, 41]);
    expect(() => array([1]).map(3 as never)).toThrow('map: expected a function, got a number');
  });

  it('repeat, take, skip and concatenate', async () => {
    const ds = array([1, 2, 3]);
    expect(await ds.repeat(2).toArray()).toEqual([1, 2, 3, 1, 2, 3]);
    expect(await ds.repeat().take(7).toArray()).toEqual([1, 2, 3, 1, 2, 3, 1]);
    expect(await ds.repeat(0).toArray()).toEqual([]);
    expect(await array<number>([]).repeat().toArray()).toEqual([]); // ends instead of spinning forever
    expect(await ds.skip(1).toArray()).toEqual([2, 3]);
    expect(await ds.skip(5).toArray()).toEqual([]);
    expect(await ds.take(0).toArray()).toEqual([]);
    expect(await ds.concatenate(array([9])).toArray()).toEqual([1, 2, 3, 9]);
    expect(() => ds.take(-1)).toThrow('take: count must be a non-negative integer, got -1');
    expect(() => ds.skip(1.5)).toThrow('skip: count must be a non-negative integer, got 1.5');
    expect(() => ds.repeat(-2)).toThrow('repeat: count must be a non-negative integer, got -2');
    expect(() => ds.concatenate([4] as never)).toThrow('concatenate: expected a Dataset, got a number array');
  });

  it('take stops reading the source and closes it', async () => {
    const { ds, produced, closed } = counting(1000);
    expect(await ds.take(3).toArray()).toEqual([0, 1, 2]);
    expect(produced()).toBe(3);
    expect(closed()).toBe(1);
  });

  it('zip pairs datasets as an array or an object and ends with the shortest', async () => {
    expect(await zip([array([1, 2, 3]), array(['a', 'b'])]).toArray()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    const { ds, closed } = counting(10);
    expect(await zip({ xs: ds, ys: array([5, 6]) }).toArray()).toEqual([
      { xs: 0, ys: 5 },
      { xs: 1, ys: 6 },
    ]);
    expect(closed()).toBe(1);
    expect(() => zip([])).toThrow('zip: expected a non-empty array or object of Datasets');
    expect(() => zip({ xs: array([1]), ys: [1] as never })).toThrow('zip: .ys is a number array, not a Dataset');
  });

  it('cache runs the pipeline before it once, and only a complete pass fills it', async () => {
    const { ds, produced } = counting(4);
    const cached = ds.map((x) => x * 2).cache();
    expect(await cached.take(2).toArray()).toEqual([0, 2]); // stopped early: nothing cached
    expect(await cached.toArray()).toEqual([0, 2, 4, 6]);
    expect(await cached.toArray()).toEqual([0, 2, 4, 6]);
    expect(produced()).toBe(2 + 4);
  });

  it('prefetch(n) keeps n elements in flight ahead of the consumer, no more', async () => {
    const { ds, produced, closed } = counting(100);
    const iterator = ds.prefetch(3).iterator();
    expect((await iterator.next()).value).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(produced()).toBe(4); // the element consumed and the 3 in flight
    expect((await iterator.next()).value).toBe(1);
    await iterator.return?.();
    expect(closed()).toBe(1);
    expect(await array([1, 2, 3]).prefetch(8).toArray()).toEqual([1, 2, 3]);
    expect(() => ds.prefetch(0)).toThrow('prefetch: bufferSize must be a positive integer, got 0');
  });

  it('an error in the source reaches the consumer through prefetch', async () => {
    const failing = fromGenerator(function* () {
      yield 1;
      throw new Error('disk on fire');
    });
    await expect(failing.prefetch(4).toArray()).rejects.toThrow('disk on fire');
  });
});

describe('shuffle', () => {
  const n = 40;
  const indices = Array.from({ length: n }, (_, i) => i);

  it('is a permutation, fixed by the seed, different for another seed', async () => {
    const a = await array(indices).shuffle(n, { seed: 3 }).toArray();
    const b = await array(indices).shuffle(n, { seed: 3 }).toArray();
    const c = await array(indices).shuffle(n, { seed: 4 }).toArray();
    expect([...a].sort((x, y) => x - y)).toEqual(indices);
    expect(a).not.toEqual(indices);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('reshuffles each pass (reproducibly) unless told not to', async () => {
    const ds = array(indices).shuffle(n, { seed: 3 });
    const [first, second] = [await ds.toArray(), await ds.toArray()];
    expect(second).not.toEqual(first);
    const again = array(indices).shuffle(n, { seed: 3 });
    expect([await again.toArray(), await again.toArray()]).toEqual([first, second]);
    const fixed = array(indices).shuffle(n, { seed: 3, reshuffleEachIteration: false });
    expect([await fixed.toArray(), await fixed.toArray()]).toEqual([first, first]);
  });

  it('without a seed draws one from the global generator, so setSeed fixes the order', async () => {
    setSeed(11);
    const a = await array(indices).shuffle(n).toArray();
    setSeed(11);
    const b = await array(indices).shuffle(n).toArray();
    expect(b).toEqual(a);
  });

  it('holds only bufferSize elements: with a buffer of 1 the order is unchanged, and no element moves earlier than bufferSize - 1 places', async () => {
    expect(await array(indices).shuffle(1, { seed: 5 }).toArray()).toEqual(indices);
    const out = await array(indices).shuffle(4, { seed: 5 }).toArray();
    // Element k can only be yielded once it is in the buffer, i.e. after at least k - 3 others.
    out.forEach((value, position) => expect(position).toBeGreaterThanOrEqual(value - 3));
    expect(out).not.toEqual(indices);
  });

  it('rejects bad options naming them', () => {
    const ds = array(indices);
    expect(() => ds.shuffle(0)).toThrow('shuffle: bufferSize must be a positive integer, got 0');
    expect(() => ds.shuffle(4, { seed: Number.NaN })).toThrow('shuffle: seed must be a finite number, got NaN');
    expect(() => ds.shuffle(4, { sed: 1 } as never)).toThrow("shuffle: unknown option 'sed' (expected 'seed', 'reshuffleEachIteration')");
  });
});

describe('batch', () => {
  it('stacks tensors, numbers, number arrays, typed arrays and strings, through objects and arrays', async () => {
    const elements = [0, 1, 2].map((i) => ({
      xs: tensor([i, i + 0.5]),
      label: tensor(new Int32Array([i]), []),
      weight: i / 2,
      grid: [
        [i, 1],
        [2, 3],
      ],
      codes: Int32Array.of(i, -i),
      pair: [Float32Array.of(i), `s${i}`] as [Float32Array, string],
    }));
    const [batch] = await array(elements).batch(3).toArray();
    expect(batch!.xs.shape).toEqual([3, 2]);
    expect(batch!.xs.toArray()).toEqual([
      [0, 0.5],
      [1, 1.5],
      [2, 2.5],
    ]);
    expect([batch!.label.dtype, batch!.label.toArray()]).toEqual(['int32', [0, 1, 2]]);
    expect([batch!.weight.dtype, batch!.weight.toArray()]).toEqual(['float32', [0, 0.5, 1]]);
    expect(batch!.grid.shape).toEqual([3, 2, 2]);
    expect(batch!.grid.toArray()).toEqual(elements.map((e) => e.grid));
    expect([batch!.codes.dtype, batch!.codes.toArray()]).toEqual([
      'int32',
      [
        [0, 0],
        [1, -1],
        [2, -2],
      ],
    ]);
    expect(batch!.pair[0].toArray()).toEqual([[0], [1], [2]]);
    expect(batch!.pair[1]).toEqual(['s0', 's1', 's2']);
  });

  it('keeps or drops the smaller last batch', async () => {
    const ds = array([1, 2, 3, 4, 5]);
    expect(values(await ds.batch(2).toArray())).toEqual([[1, 2], [3, 4], [5]]);
    expect(values(await ds.batch(2, { dropRemainder: true }).toArray())).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('rejects a bad size, and elements that do not stack, naming the element and both shapes', async () => {
    const ds = array([1, 2]);
    expect(() => ds.batch(0)).toThrow('batch: size must be a positive integer, got 0');
    expect(() => ds.batch(2, { dropRemainder: true, drop: 1 } as never)).toThrow("batch: unknown option 'drop'");
    const shapes = array([{ xs: tensor([1, 2]) }, { xs: tensor([1, 2]) }, { xs: tensor([1, 2, 3]) }]);
    await expect(shapes.batch(3).toArray()).rejects.toThrow(
      'batch: element 2 at .xs is a float32 Tensor of shape [3], but element 0 at .xs is a float32 Tensor of shape [2]',
    );
    await expect(
      array<unknown>([[1, 2], 'a'])
        .batch(2)
        .toArray(),
    ).rejects.toThrow('batch: element 1 is a string, but element 0 is a number array of shape [2]');
    await expect(
      array<unknown>([{ xs: 1 }, { ys: 1 }])
        .batch(2)
        .toArray(),
    ).rejects.toThrow('batch: element 1 is an object with keys {ys}, but element 0 is an object with keys {xs}');
    await expect(
      array([[[1, 2], [3]]])
        .batch(1)
        .toArray(),
    ).rejects.toThrow('batch: element 0 is a ragged number array');
    await expect(
      array([{ when: new Date(0) }])
        .batch(1)
        .toArray(),
    ).rejects.toThrow('batch: a Date at .when is not a dataset element');
  });
});

describe('exactness: generator and IDX sources give the same batches as fromTensors under the same seed', () => {
  const n = 50;
  const rowValues = Array.from({ length: n }, (_, i) => [(i * 37) % 256, (i * 11 + 5) % 256, 255 - i]);
  const labelValues = Array.from({ length: n }, (_, i) => (i * 7) % 10);
  const pipeline = <T>(ds: Dataset<T>) => ds.shuffle(16, { seed: 7 }).batch(8);
  type Batch = { xs: Tensor; ys: Tensor };
  const describeBatches = (batches: Batch[]) =>
    batches.map((b) => ({ xs: b.xs.toArray(), ys: b.ys.toArray(), dtypes: [b.xs.dtype, b.ys.dtype] }));

  it.each([false, true])('(IDX gzipped: %s)', async (gzip) => {
    const xs = tensor(rowValues);
    const ys = tensor(Int32Array.from(labelValues));
    const fromMemory = await pipeline(fromTensors({ xs, ys })).toArray();

    const generated = fromGenerator(function* () {
      for (let i = 0; i < n; i++) yield { xs: tensor(rowValues[i]!), ys: tensor(Int32Array.of(labelValues[i]!), []) };
    });
    const write = (name: string, shape: number[], data: number[]): string => {
      const bytes = encodeIdx(shape, Uint8Array.from(data));
      writeFileSync(join(dir, name), gzip ? gzipSync(bytes) : bytes);
      return join(dir, name);
    };
    const fromFiles = zip({
      xs: idx(write('x.idx', [n, 3], rowValues.flat())),
      ys: idx(write('y.idx', [n], labelValues), { dtype: 'int32' }),
    });

    const expected = describeBatches(fromMemory);
    expect(expected).toHaveLength(7);
    expect(expected[0]!.dtypes).toEqual(['float32', 'int32']);
    expect(expected.flatMap((b) => b.ys)).not.toEqual(labelValues); // the shuffle did move elements
    expect(describeBatches(await pipeline(generated).toArray())).toEqual(expected);
    expect(describeBatches(await pipeline(fromFiles).toArray())).toEqual(expected);
  });
});
