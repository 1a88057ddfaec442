/**
 * The addon is context-aware: it loads and computes in worker_threads, several
 * at once, while the main thread keeps using it (the shared pool serves one
 * caller at a time and runs the others inline).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { loadAddon, type NativeAddon } from '../src/addon.js';
import { nativeSuiteName, skipNative } from './util.js';

const loaded = loadAddon();
const workerFile = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

interface Result {
  c: number[];
  threadedSum: number;
  error: string;
}

function runWorker(seed: number, n: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerFile, { workerData: { addonPath: loaded.path, seed, n } });
    w.once('message', (m: Result) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

describe.skipIf(skipNative)(nativeSuiteName('native in worker_threads'), () => {
  it('loads and computes in one worker', async () => {
    const r = await runWorker(1, 100);
    expect(r.c).toEqual([1, 2, 3, 4]);
    expect(r.threadedSum).toBe(1225); // sum of 1..49
    expect(r.error).toMatch(/^gemm: a has 1 elements/);
  });

  it('runs in four workers at once while the main thread computes too', async () => {
    const n = 200_000; // large enough for the thread pool
    const expected = Math.fround(((n / 2 - 1) * (n / 2)) / 2); // the float32 result
    const pending = [1, 2, 3, 4].map((s) => runWorker(s, n));
    const addon = loaded.addon! as Required<NativeAddon>;
    const x = Float32Array.from({ length: n }, (_, i) => i - n / 2);
    const y = new Float32Array(n);
    for (let rep = 0; rep < 50; rep++) addon.unary('relu', x, y);
    const sum = new Float32Array(1);
    addon.reduce('sum', y, sum, 1, n, 1);
    expect(sum[0]).toBe(expected);
    const results = await Promise.all(pending);
    results.forEach((r, i) => {
      expect(r.c).toEqual([1, 2, 3, 4].map((v) => v * (i + 1)));
      expect(r.threadedSum).toBe(expected);
    });
  });
});
