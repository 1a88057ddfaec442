/** setNumThreads / AXON_NUM_THREADS set our pool and OpenBLAS together; results do not depend on the count. */
import { spawnSync } from 'node:child_process';
import type { CompleteHostBackend } from '@axon/tensor';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { blasInfo, createNativeBackend, getNumThreads, nativeTesting, setNumThreads } from '../src/index.js';
import { nativeSuiteName, skipNative } from './util.js';

describe.skipIf(skipNative)(nativeSuiteName('native thread control'), () => {
  it('setNumThreads sets both pools and the results stay identical', () => {
    const before = getNumThreads();
    const be = createNativeBackend() as CompleteHostBackend;
    const n = 7 * 43_000;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const run = (): Float32Array => {
      const y = new Float32Array(n);
      be.unary('tanh', x, y);
      const s = new Float32Array(7);
      be.reduce('sum', y, s, 7, n / 7, 1);
      return s;
    };
    try {
      expect(setNumThreads(1)).toBe(1);
      expect(getNumThreads()).toBe(1);
      expect(blasInfo()?.threads).toBe(1);
      const one = run();
      expect(setNumThreads(3)).toBe(3);
      expect(blasInfo()?.threads).toBe(3);
      expect(Array.from(run())).toEqual(Array.from(one));
      expect(setNumThreads(0)).toBeGreaterThanOrEqual(1); // all cores
    } finally {
      setNumThreads(before);
    }
  });

  it('conv2d passes: identical bits for any thread count (batch split), deterministic run to run', () => {
    const be = createNativeBackend() as CompleteHostBackend;
    const info = {
      batch: 32,
      inHeight: 13,
      inWidth: 13,
      inChannels: 32,
      outHeight: 11,
      outWidth: 11,
      outChannels: 64,
      filterHeight: 3,
      filterWidth: 3,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 0,
      padLeft: 0,
    };
    const x = Float32Array.from({ length: 32 * 13 * 13 * 32 }, (_, i) => Math.sin(i * 0.37));
    const dy = Float32Array.from({ length: 32 * 11 * 11 * 64 }, (_, i) => Math.cos(i * 0.11));
    const f = Float32Array.from({ length: 9 * 32 * 64 }, (_, i) => Math.sin(i * 1.3));
    const run = (): Float32Array[] => {
      const y = new Float32Array(dy.length),
        dx = new Float32Array(x.length),
        df = new Float32Array(f.length);
      be.conv2d(x, f, y, info);
      be.conv2dBackpropInput(dy, f, dx, info);
      be.conv2dBackpropFilter(x, dy, df, info);
      return [y, dx, df];
    };
    const mismatches = (a: Float32Array[], b: Float32Array[]): number[] =>
      a.map((arr, k) => arr.reduce((n, v, i) => n + (Object.is(v, b[k]![i]) ? 0 : 1), 0));
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const reference = run();
      for (const threads of [2, 3]) {
        setNumThreads(threads);
        for (const strategy of ['batch', 'auto'] as const) {
          nativeTesting.setConvStrategy(strategy);
          expect(mismatches(run(), reference), `${threads} threads, ${strategy}`).toEqual([0, 0, 0]);
        }
        // OpenBLAS's own threading may change the last bit, but not from run to run.
        nativeTesting.setConvStrategy('blas');
        const blas = run();
        expect(mismatches(run(), blas), `${threads} threads, blas, rerun`).toEqual([0, 0, 0]);
      }
    } finally {
      nativeTesting.setConvStrategy('auto');
      setNumThreads(before);
    }
  });

  it('AXON_NUM_THREADS applies at import', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const k = await import(${JSON.stringify(dist)}); console.log(k.getNumThreads(), k.blasInfo().threads);`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, AXON_NUM_THREADS: '1' },
      },
    );
    expect(r.stdout.trim()).toBe('1 1');
  });

  it('AXON_DETERMINISTIC=1: GEMMs and convs give the same bits for 1, 2 and 3 threads; OpenBLAS stays single-threaded', () => {
    // A square GEMM past 2^27 multiply-adds, a Dense-like product and a single-image conv (which
    // OpenBLAS would thread) differ across thread counts without the mode (see the README).
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const code = `
      const k = await import(${JSON.stringify(dist)});
      const be = k.createNativeBackend();
      const data = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
      const conv = { batch: 1, inHeight: 32, inWidth: 32, inChannels: 16, outHeight: 32, outWidth: 32, outChannels: 32,
        filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1 };
      const run = () => {
        const square = new Float32Array(640 * 640), dense = new Float32Array(64 * 64);
        be.gemm(data(640 * 640, 1), data(640 * 640, 2), square, 1, 640, 640, 640, false, false, 1, 0, 0, 0);
        be.gemm(data(64 * 3872, 3), data(3872 * 64, 4), dense, 1, 64, 64, 3872, false, false, 1, 0, 0, 0);
        const y = new Float32Array(32 * 32 * 32), dw = new Float32Array(3 * 3 * 16 * 32);
        be.conv2d(data(32 * 32 * 16, 5), data(3 * 3 * 16 * 32, 6), y, conv);
        be.conv2dBackpropFilter(data(32 * 32 * 16, 5), data(32 * 32 * 32, 7), dw, conv);
        return [square, dense, y, dw].map((a) => Array.from(a));
      };
      const results = [1, 2, 3].map((n) => (k.setNumThreads(n), [k.blasInfo().threads, run()]));
      console.log(JSON.stringify(results));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: { ...process.env, AXON_DETERMINISTIC: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const [[blas1, one], [blas2, two], [blas3, three]] = JSON.parse(r.stdout) as [number, number[][]][];
    expect([blas1, blas2, blas3]).toEqual([1, 1, 1]);
    expect(two).toEqual(one);
    expect(three).toEqual(one);
  });
});
