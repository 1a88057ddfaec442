import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CompleteHostBackend as Backend, Conv2DInfo } from '@axon/tensor';
import { Rng, assertClose, conformanceCases } from '@axon/tensor/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJsBackend, getNumThreads, setNumThreads } from '../src/index.js';
import { parallelTesting } from '../src/parallel.js';
import { FAULT_EXIT, FAULT_HANG, FAULT_NONE, FAULT_THROW } from '../src/tasks.js';
import { poolTesting } from '../src/threads.js';

// The workers run dist/worker.js (the main thread runs src/ here): build first.
const distIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const builtWorker = fileURLToPath(poolTesting.workerUrl);

const serial = createJsBackend({ threads: 1 });
const serialSimd = serial;
/** Workers on for everything that can be split, however small. */
const threaded = createJsBackend({ threads: 2, parallelThreshold: 0 });
const threadedSimd = threaded;
/** The same two with the WebAssembly SIMD kernels off (the pure-TypeScript path). */
const serialJs = createJsBackend({ threads: 1, simd: false });
const threadedJs = createJsBackend({ threads: 2, parallelThreshold: 0, simd: false });

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts the pool and waits until its worker is running. */
async function poolReady(): Promise<void> {
  threaded.gemm(new Float32Array(64), new Float32Array(64), new Float32Array(64), 1, 8, 8, 8, false, false, 1, 0, 0, 0);
  await until(() => (poolTesting.pool()?.stats().ready ?? 0) >= 1, 'the worker to start');
}

const workerChunks = (): number => poolTesting.pool()?.stats().workerChunks ?? 0;

/**
 * Runs fn until the worker has taken part in at least one call (a call whose
 * chunks the main thread finishes before the worker wakes is legitimate, and
 * happens on a busy machine), checking its result every time.
 */
function expectWorkerTakesPart(fn: () => void): void {
  const before = workerChunks();
  for (let i = 0; i < 20 && workerChunks() === before; i++) fn();
  expect(workerChunks()).toBeGreaterThan(before);
}

function convInfo(batch: number, size: number, cin: number, f: number, cout: number, stride: number, pad: number): Conv2DInfo {
  const out = Math.floor((size + 2 * pad - f) / stride) + 1;
  return {
    batch,
    inHeight: size,
    inWidth: size,
    inChannels: cin,
    outHeight: out,
    outWidth: out,
    outChannels: cout,
    filterHeight: f,
    filterWidth: f,
    strideHeight: stride,
    strideWidth: stride,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: pad,
    padLeft: pad,
  };
}

function gemmBoth(
  simd: boolean,
  rng: Rng,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  beta: number,
  strideA = m * k,
  strideB = k * n,
): [Float32Array, Float32Array] {
  const a = rng.floats(Math.max(1, (batch - 1) * strideA + m * k)),
    b = rng.floats(Math.max(1, (batch - 1) * strideB + k * n));
  const c = rng.floats(batch * m * n);
  const [mine, theirs] = [c.slice(), c.slice()];
  (simd ? threaded : threadedJs).gemm(a, b, mine, batch, m, n, k, transA, transB, 0.75, beta, strideA, strideB);
  (simd ? serial : serialJs).gemm(a, b, theirs, batch, m, n, k, transA, transB, 0.75, beta, strideA, strideB);
  return [mine, theirs];
}

function convAll(backend: Backend, info: Conv2DInfo, x: Float32Array, w: Float32Array, dy: Float32Array): Float32Array[] {
  const y = new Float32Array(dy.length).fill(NaN),
    dx = new Float32Array(x.length).fill(NaN),
    dw = new Float32Array(w.length).fill(NaN);
  backend.conv2d(x, w, y, info);
  backend.conv2dBackpropInput(dy, w, dx, info);
  backend.conv2dBackpropFilter(x, dy, dw, info);
  return [y, dx, dw];
}

beforeAll(async () => {
  if (!existsSync(builtWorker)) throw new Error(`${builtWorker} is missing: build @axon/kernels-js first (npx tsc -p tsconfig.build.json)`);
  await poolReady();
});

describe('kernel conformance with worker threads on for every size', () => {
  for (const c of conformanceCases) it(c.name, () => c.run(threaded));
  for (const c of conformanceCases) it(`${c.name} (simd off)`, () => c.run(threadedJs));

  it('had the worker run chunks', () => {
    expect(workerChunks()).toBeGreaterThan(0);
  });
});

for (const simd of [true, false])
  describe(`threaded gemm (simd ${simd})`, () => {
    const serial = simd ? serialSimd : serialJs;
    it('is bit-for-bit the single-threaded result: rows, columns and batch splits, every transpose, beta', () => {
      const rng = new Rng(11);
      for (const [transA, transB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const [batch, m, n, k] of [
          [1, 203, 131, 263],
          [1, 37, 301, 45],
          [1, 9, 10, 600],
          [3, 50, 41, 29],
          [6, 13, 17, 300],
        ]) {
          for (const beta of [0, 0.5]) {
            const [mine, theirs] = gemmBoth(simd, rng, batch, m, n, k, transA, transB, beta);
            expect(mine, `gemm ${batch}x${m}x${n}x${k} ${transA} ${transB} beta ${beta}`).toEqual(theirs);
          }
        }
      }
      // Broadcast operands (stride 0), including the folded taller GEMM.
      for (const [strideA, strideB] of [
        [0, 40 * 30],
        [25 * 40, 0],
        [0, 0],
      ]) {
        const [mine, theirs] = gemmBoth(simd, rng, 5, 25, 30, 40, false, false, 1, strideA, strideB);
        expect(mine).toEqual(theirs);
      }
    });

    it('is bit-for-bit the single-threaded result on a large GEMM with the default threshold', () => {
      const rng = new Rng(12);
      const big = createJsBackend({ threads: 2, simd });
      const [m, n, k] = [300, 260, 520];
      const a = rng.floats(m * k),
        b = rng.floats(k * n);
      const theirs = new Float32Array(m * n);
      serial.gemm(a, b, theirs, 1, m, n, k, false, true, 1, 0, 0, 0);
      expectWorkerTakesPart(() => {
        const mine = new Float32Array(m * n);
        big.gemm(a, b, mine, 1, m, n, k, false, true, 1, 0, 0, 0);
        expect(mine).toEqual(theirs);
      });
    });

    it('leaves matrix-vector products and calls below the threshold on the calling thread', () => {
      const rng = new Rng(13);
      const before = workerChunks();
      gemmBoth(simd, rng, 1, 1, 500, 300, false, false, 0);
      gemmBoth(simd, rng, 1, 500, 1, 300, true, false, 0);
      const small = createJsBackend({ threads: 2, simd });
      small.gemm(rng.floats(64 * 64), rng.floats(64 * 64), new Float32Array(64 * 64), 1, 64, 64, 64, false, false, 1, 0, 0, 0);
      expect(workerChunks()).toBe(before);
    });
  });

for (const simd of [true, false])
  describe(`threaded conv2d (simd ${simd})`, () => {
    const [serial, threaded] = simd ? [serialSimd, threadedSimd] : [serialJs, threadedJs];
    const cases: [string, Conv2DInfo][] = [
      ['[32,13,13,32] * [3,3,32,64] valid', convInfo(32, 13, 32, 3, 64, 1, 0)],
      ['[32,28,28,1] * [3,3,1,32] valid', convInfo(32, 28, 1, 3, 32, 1, 0)],
      ['[5,9,9,3] * [3,3,3,4] same, stride 2', convInfo(5, 9, 3, 3, 4, 2, 1)],
      ['[3,6,6,8] * [1,1,8,300] pointwise', convInfo(3, 6, 8, 1, 300, 1, 0)],
    ];
    for (const [name, info] of cases) {
      it(`matches single-threaded: ${name}`, () => {
        const rng = new Rng(14);
        const x = rng.floats(info.batch * info.inHeight * info.inWidth * info.inChannels);
        const w = rng.floats(info.filterHeight * info.filterWidth * info.inChannels * info.outChannels);
        const dy = rng.floats(info.batch * info.outHeight * info.outWidth * info.outChannels);
        const [y1, dx1, dw1] = convAll(serial, info, x, w, dy);
        const check = (): void => {
          const [y, dx, dw] = convAll(threaded, info, x, w, dy);
          // Each image's rows go through the same GEMM arithmetic: forward and backprop input are identical.
          expect(y).toEqual(y1);
          expect(dx).toEqual(dx1);
          // dFilter sums the partials of the same fixed image groups in the same order on one thread or several.
          expect(dw).toEqual(dw1);
        };
        // The big cases must see the worker take part; a tiny one may be over before it wakes.
        if (info.batch === 32) expectWorkerTakesPart(check);
        else check();
      });
    }

    it('keeps a tiny im2col budget per thread', () => {
      const info = convInfo(4, 7, 3, 3, 4, 1, 1);
      const rng = new Rng(15);
      const x = rng.floats(4 * 7 * 7 * 3),
        w = rng.floats(3 * 3 * 3 * 4),
        dy = rng.floats(4 * 7 * 7 * 4);
      const tiny = createJsBackend({ threads: 2, parallelThreshold: 0, im2colBytes: 64, simd });
      const [y, dx, dw] = convAll(tiny, info, x, w, dy);
      const [y1, dx1, dw1] = convAll(serial, info, x, w, dy);
      assertClose(y, y1, 1e-5, 1e-5, 'y');
      assertClose(dx, dx1, 1e-5, 1e-5, 'dx');
      assertClose(dw, dw1, 1e-5, 1e-4, 'dFilter');
    });
  });

describe('threaded max pooling', () => {
  it('is exactly the single-threaded result (values and argmax), NaNs and padding included', () => {
    const rng = new Rng(18);
    const cases = [
      [12, 26, 32, 2, 2, 0],
      [5, 9, 3, 3, 2, 1],
      [3, 5, 2, 3, 1, 2],
    ].map(([batch, size, channels, f, stride, pad]) => {
      const out = Math.floor((size + 2 * pad - f) / stride) + 1;
      const info = {
        batch,
        inHeight: size,
        inWidth: size,
        channels,
        outHeight: out,
        outWidth: out,
        filterHeight: f,
        filterWidth: f,
        strideHeight: stride,
        strideWidth: stride,
        padTop: pad,
        padLeft: pad,
      };
      const x = rng.floats(batch * size * size * channels);
      for (let i = 0; i < x.length; i += 37) x[i] = NaN;
      const y = new Float32Array(batch * out * out * channels),
        argmax = new Int32Array(y.length);
      serial.maxPool2d(x, y, argmax, info);
      return { info, x, y, argmax };
    });
    expectWorkerTakesPart(() => {
      for (const c of cases) {
        const y = new Float32Array(c.y.length),
          argmax = new Int32Array(c.y.length);
        threaded.maxPool2d(c.x, y, argmax, c.info);
        expect(y).toEqual(c.y);
        expect(argmax).toEqual(c.argmax);
      }
    });
  });
});

describe('thread count', () => {
  afterEach(() => setNumThreads(0));

  it('setNumThreads sets the default of backends without `threads`; n <= 0 means one per core', () => {
    expect(setNumThreads(1)).toBe(1);
    const before = workerChunks();
    const rng = new Rng(16);
    createJsBackend({ parallelThreshold: 0 }).gemm(
      rng.floats(64 * 64),
      rng.floats(64 * 64),
      new Float32Array(64 * 64),
      1,
      64,
      64,
      64,
      false,
      false,
      1,
      0,
      0,
      0,
    );
    expect(workerChunks()).toBe(before);
    expect(setNumThreads(0)).toBe(getNumThreads());
    expect(getNumThreads()).toBeGreaterThanOrEqual(1);
    expect(setNumThreads(3.7)).toBe(3);
  });

  it('rejects bad options', () => {
    expect(() => createJsBackend({ threads: 0 })).toThrow(/threads must be a positive integer, got 0/);
    expect(() => createJsBackend({ parallelThreshold: -1 })).toThrow(/parallelThreshold must be >= 0/);
  });
});

/** Runs node with `code` (an ES module body); returns its exit code, output and wall time. */
function runNode(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
  const start = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

describe('process lifetime and environment', () => {
  it('a process that ran a big threaded GEMM exits by itself', () => {
    const r = runNode(
      `
      import { createJsBackend, getNumThreads } from ${JSON.stringify(distIndex)};
      const n = 384, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
      createJsBackend().gemm(a, a, c, 1, n, n, n, false, false, 1, 0, 0, 0);
      console.log(getNumThreads(), c[0], c[n * n - 1]);
    `,
      { AXON_NUM_THREADS: '2' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('2 384 384');
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('AXON_NUM_THREADS sets the count; a bad value is ignored with one line', () => {
    const code = `import { getNumThreads } from ${JSON.stringify(distIndex)}; console.log(getNumThreads());`;
    expect(runNode(code, { AXON_NUM_THREADS: '1' }).stdout.trim()).toBe('1');
    expect(runNode(code, { AXON_NUM_THREADS: '3' }).stdout.trim()).toBe('3');
    const bad = runNode(code, { AXON_NUM_THREADS: 'many' });
    expect(bad.stderr).toMatch(/ignoring AXON_NUM_THREADS=many/);
    expect(Number(bad.stdout)).toBeGreaterThanOrEqual(1);
  });

  it('AXON_WASM_SIMD=0 switches the WebAssembly SIMD kernels off (the GEMM still runs, threaded, in TypeScript)', () => {
    const simdModule = JSON.stringify(fileURLToPath(new URL('../dist/wasm/simd.js', import.meta.url)));
    const code = `
      import { createJsBackend } from ${JSON.stringify(distIndex)};
      import { simdAvailable, simdUnavailableReason } from ${simdModule};
      const n = 300, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
      createJsBackend({ threads: 2 }).gemm(a, a, c, 1, n, n, n, false, false, 1, 0, 0, 0);
      console.log(simdAvailable, simdUnavailableReason, c[0], c[n * n - 1]);
    `;
    const off = runNode(code, { AXON_WASM_SIMD: '0' });
    expect(off.stderr).toBe('');
    expect(off.stdout.trim()).toBe('false AXON_WASM_SIMD=0 300 300');
    expect(runNode(code, { AXON_WASM_SIMD: '1' }).stdout.trim()).toBe('true undefined 300 300');
  });
});

describe('failures', () => {
  const timeout = poolTesting.timeoutMs;
  const startup = poolTesting.startupMs;
  const workerUrl = poolTesting.workerUrl;
  const rng = new Rng(17);
  const [m, n, k] = [256, 256, 256];
  const a = rng.floats(m * k),
    b = rng.floats(k * n);
  const expected = new Float32Array(m * n);
  serial.gemm(a, b, expected, 1, m, n, k, false, false, 1, 0, 0, 0);
  const run = (): Float32Array => {
    const c = new Float32Array(m * n);
    threaded.gemm(a, b, c, 1, m, n, k, false, false, 1, 0, 0, 0);
    return c;
  };

  afterEach(async () => {
    parallelTesting.fault = FAULT_NONE;
    poolTesting.timeoutMs = timeout;
    poolTesting.startupMs = startup;
    poolTesting.workerUrl = workerUrl;
    poolTesting.reset();
    await poolReady();
  });
  afterAll(() => poolTesting.reset());

  it('rethrows an error thrown in a worker, naming the kernel; the pool keeps working', () => {
    parallelTesting.fault = FAULT_THROW;
    let error: unknown;
    // The worker must claim a chunk for the fault to fire; it nearly always does at once.
    for (let i = 0; i < 50 && error === undefined; i++) {
      try {
        run();
      } catch (e) {
        error = e;
      }
    }
    expect(String(error)).toMatch(/^Error: gemm: a worker thread failed: injected fault/);
    parallelTesting.fault = FAULT_NONE;
    expectWorkerTakesPart(() => expect(run()).toEqual(expected));
  });

  for (const [name, fault] of [
    ['exits', FAULT_EXIT],
    ['hangs', FAULT_HANG],
  ] as const) {
    it(`recovers when a worker ${name} mid-call: the call completes single-threaded and threads switch off`, () => {
      poolTesting.timeoutMs = 200;
      parallelTesting.fault = fault;
      for (let i = 0; i < 50 && poolTesting.unavailable() === undefined; i++) expect(run()).toEqual(expected);
      expect(poolTesting.unavailable()).toMatch(/gemm: a worker thread did not finish its share in time/);
      expect(getNumThreads()).toBe(1);
      expect(run()).toEqual(expected);
    });
  }

  it('runs single-threaded when the worker cannot start', async () => {
    poolTesting.reset();
    poolTesting.workerUrl = new URL('./no-such-worker.js', workerUrl);
    expect(run()).toEqual(expected);
    await until(() => poolTesting.unavailable() !== undefined, 'the failed worker to be noticed');
    expect(poolTesting.unavailable()).toMatch(/worker threads stopped/);
    expect(run()).toEqual(expected);
  });

  it('gives up on workers that never start even if the event loop never turns', () => {
    poolTesting.reset();
    poolTesting.workerUrl = new URL('./no-such-worker.js', workerUrl);
    poolTesting.startupMs = 50;
    expect(run()).toEqual(expected);
    const start = Date.now();
    while (Date.now() - start < 100) expect(run()).toEqual(expected);
    expect(poolTesting.unavailable()).toMatch(/worker threads did not start within 50 ms/);
  });
});
