import { threadId } from 'node:worker_threads';
import { tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { array } from '../src/index.js';

const fixture = new URL('./fixtures/worker-map.mjs', import.meta.url);
const elements = Array.from({ length: 12 }, (_, i) => ({ x: Float32Array.of(i, -i), i }));

interface Doubled {
  x: Float32Array;
  i: number;
  thread: number;
}

describe('mapInWorkers', () => {
  it('maps in worker threads, in order, on every pass', async () => {
    const ds = array(elements).mapInWorkers<Doubled>(fixture, 'doubleSlowEvens', { workers: 3 });
    for (let pass = 0; pass < 2; pass++) {
      const out = await ds.toArray();
      expect(out.map((o) => o.i)).toEqual(elements.map((e) => e.i));
      expect(out.map((o) => Array.from(o.x))).toEqual(elements.map((e) => [2 * e.i, -2 * e.i]));
      const threads = new Set(out.map((o) => o.thread));
      expect(threads.has(threadId)).toBe(false); // not the main thread
      expect(threads.size).toBe(3);
    }
  });

  it('its results batch and take a module path as well as a URL', async () => {
    const [batch] = await array(elements.slice(0, 4))
      .mapInWorkers<Doubled>(fixture.pathname, 'double')
      .map(({ x }) => x)
      .batch(4)
      .toArray();
    expect(batch!.toArray()).toEqual([
      [0, -0],
      [2, -2],
      [4, -4],
      [6, -6],
    ]);
  });

  it('names the element whose function failed, and stops the pass', async () => {
    await expect(array(elements).mapInWorkers(fixture, 'failOnThree', { workers: 2 }).toArray()).rejects.toThrow(
      /mapInWorkers: failOnThree of file:.*worker-map\.mjs failed on element 3: element 3 is cursed/,
    );
  });

  it('says when the export or the module is not there, or an element holds a Tensor', async () => {
    await expect(array(elements).mapInWorkers(fixture, 'notAFunction').toArray()).rejects.toThrow(
      /mapInWorkers: cannot run notAFunction of .*worker-map\.mjs: its export "notAFunction" is not a function/,
    );
    await expect(array(elements).mapInWorkers(fixture, 'nope').toArray()).rejects.toThrow(/its export "nope" is missing/);
    await expect(array(elements).mapInWorkers('/no/such/module.mjs', 'f').toArray()).rejects.toThrow(
      /mapInWorkers: cannot run f of file:\/\/\/no\/such\/module\.mjs: it cannot be imported/,
    );
    await expect(
      array([{ x: tensor([1]), i: 0 }])
        .mapInWorkers(fixture, 'double')
        .toArray(),
    ).rejects.toThrow('mapInWorkers: element 0 holds a Tensor at .x; elements sent to workers must be plain data');
  });

  it('rejects bad options naming them', () => {
    expect(() => array(elements).mapInWorkers(fixture, 'double', { workers: 0 })).toThrow(
      'mapInWorkers: workers must be a positive integer, got 0',
    );
    expect(() => array(elements).mapInWorkers(fixture, 'double', { threads: 2 } as never)).toThrow(
      "mapInWorkers: unknown option 'threads'",
    );
    expect(() => array(elements).mapInWorkers(fixture, 3 as never)).toThrow('mapInWorkers: exportName must be a string, got a number');
  });
});
