/**
 * Recycled memory: scopes release what they made and did not return, the pool
 * serves later allocations, a released tensor fails with an error naming the
 * scope, a host array handed to user code is never reused, and what user code
 * drops outside scopes returns to the pool once garbage-collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { add, keep, matmul, memoryInfo, mul, reshape, scope, sum, tensor, valueAndGrads, variable, type Tensor } from '../src/index.js';
import { useTestBackend } from './test-backend.js';

useTestBackend();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('scopes', () => {
  it('release what they made and did not return; the pool then serves the same sizes', () => {
    const a = tensor([
      [1, 2],
      [3, 4],
    ]);
    let inner: Tensor | undefined;
    const result = scope('test step', () => {
      inner = add(a, 1);
      return mul(inner, 2);
    });
    expect(result.toArray()).toEqual([
      [4, 6],
      [8, 10],
    ]);
    expect(() => inner!.dataSync()).toThrow(/tensor \d+ \[2,2\] was released when scope 'test step' ended/);
    expect(() => add(inner!, 1)).toThrow(/add: .*released when scope 'test step' ended/);
    expect(String(inner)).toContain("released by scope 'test step'");
    // The released buffer is in the pool: the next tensor of that size reuses it.
    const before = memoryInfo();
    const next = scope('second', () => keep(add(a, 5)));
    const after = memoryInfo();
    expect(after.hits).toBeGreaterThan(before.hits);
    expect(next.toArray()).toEqual([
      [6, 7],
      [8, 9],
    ]);
    // Tensors made outside the scope are untouched.
    expect(a.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('let returned tensors (in arrays and objects) and kept tensors out, and release on errors too', () => {
    const x = tensor([1, 2, 3]);
    const { pair, single } = scope('outer', () => {
      const made = scope('inner', () => [add(x, 1), add(x, 2)]);
      // Returned from the inner scope, they belong to the outer one until it returns them.
      return { pair: made, single: add(made[0]!, made[1]!) };
    });
    expect(pair.map((t) => t.toArray())).toEqual([
      [2, 3, 4],
      [3, 4, 5],
    ]);
    expect(single.toArray()).toEqual([5, 7, 9]);
    let kept: Tensor | undefined;
    let dropped: Tensor | undefined;
    expect(() =>
      scope('failing step', () => {
        kept = keep(add(x, 10));
        dropped = add(x, 20);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(kept!.toArray()).toEqual([11, 12, 13]);
    expect(() => dropped!.toArray()).toThrow(/failing step/);
  });

  it('keep a view alive when its base is released (shared buffers are counted)', () => {
    const x = tensor([1, 2, 3, 4]);
    const view = scope('views', () => {
      const base = add(x, 1);
      return reshape(base, [2, 2]);
    });
    // base was released, but the reshape shares its buffer: the values stay.
    scope('churn', () => {
      for (let i = 0; i < 5; i++) add(x, 100);
    });
    expect(view.toArray()).toEqual([
      [2, 3],
      [4, 5],
    ]);
  });

  it('never recycle a buffer whose host array user code holds (dataSync)', () => {
    const x = tensor([1, 2, 3]);
    let array: Float32Array | undefined;
    scope('exposing step', () => {
      array = add(x, 1).dataSync();
    });
    scope('churn', () => {
      for (let i = 0; i < 10; i++) add(x, -50);
    });
    expect(Array.from(array!)).toEqual([2, 3, 4]);
  });

  it('reject a Promise-returning function', () => {
    expect(() => scope('async', () => Promise.resolve(1))).toThrow(/scope 'async': the function returned a Promise/);
  });

  it('train a variable in a loop of scopes with flat pool use', () => {
    const w = variable(tensor([[0.5], [-0.5]]));
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const step = (): number =>
      scope('train step', () => {
        const { value, grads } = valueAndGrads(() => sum(matmul(x, w)), [w]);
        w.assign(add(w, mul(grads[0]!, -0.01)));
        return value.item();
      });
    step();
    const warm = memoryInfo();
    for (let i = 0; i < 20; i++) step();
    const after = memoryInfo();
    // Every buffer of the later steps came from the pool.
    expect(after.misses).toBe(warm.misses);
    expect(after.pooledBuffers).toBe(warm.pooledBuffers);
  });
});

describe('garbage-collected tensors', () => {
  it('do not pile up in a synchronous loop (where no finalizer can run)', () => {
    const x = tensor(new Float32Array(1 << 20), [1 << 20]);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    // 60 results of 4 MB dropped with no turn of the event loop in between.
    for (let i = 0; i < 60; i++) add(x, i);
    gc();
    const grown = (process.memoryUsage().arrayBuffers - before) / (1 << 20);
    // At most the 64 MB held for pooling stay allocated, not all 240 MB.
    expect(grown).toBeLessThan(100);
  }, 60_000); // 240 MB of adds and two full collections: seconds on a loaded 2-core machine

  it('return their buffers to the pool', async () => {
    const x = tensor(new Float32Array(4096).fill(1), [4096]);
    const before = memoryInfo().pooledBuffers;
    (() => {
      for (let i = 0; i < 20; i++) add(x, i);
    })();
    for (let round = 0; round < 5 && memoryInfo().pooledBuffers - before < 10; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(memoryInfo().pooledBuffers - before).toBeGreaterThanOrEqual(10);
  });
});
