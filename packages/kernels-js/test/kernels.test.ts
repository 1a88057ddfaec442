import { listBackends, setBackend, type CompleteHostBackend as Backend, type Conv2DInfo } from '@axon/tensor';
import { Rng, assertClose, createReferenceBackend } from '@axon/tensor/testing';
import { describe, expect, it } from 'vitest';
import { JS_BACKEND_PRIORITY, createJsBackend, createJsBackend as createBackend, type JsBackendOptions } from '../src/index.js';
import { erf, erfc } from '../src/math.js';

const reference = createReferenceBackend();

function gemmAgainstReference(backend: Backend, rng: Rng, m: number, n: number, k: number, transA: boolean, transB: boolean): void {
  const a = rng.floats(m * k);
  const b = rng.floats(k * n);
  const c0 = rng.floats(m * n);
  const mine = c0.slice();
  const theirs = c0.slice();
  backend.gemm(a, b, mine, 1, m, n, k, transA, transB, 0.75, 0.5, 0, 0);
  reference.gemm(a, b, theirs, 1, m, n, k, transA, transB, 0.75, 0.5, 0, 0);
  assertClose(mine, theirs, 1e-4, 2e-6 * (k + 1), `gemm ${m}x${n}x${k} transA ${transA} transB ${transB}`);
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

function convAgainstReference(backend: Backend, rng: Rng, info: Conv2DInfo): void {
  const xSize = info.batch * info.inHeight * info.inWidth * info.inChannels;
  const wSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const ySize = info.batch * info.outHeight * info.outWidth * info.outChannels;
  const x = rng.floats(xSize),
    w = rng.floats(wSize),
    dy = rng.floats(ySize);
  const run = (b: Pick<Backend, 'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter'>): Float32Array[] => {
    const y = new Float32Array(ySize).fill(NaN),
      dx = new Float32Array(xSize).fill(NaN),
      dw = new Float32Array(wSize).fill(NaN);
    b.conv2d(x, w, y, info);
    b.conv2dBackpropInput(dy, w, dx, info);
    b.conv2dBackpropFilter(x, dy, dw, info);
    return [y, dx, dw];
  };
  const [mine, theirs] = [run(backend), run(reference)];
  const depth = [
    info.filterHeight * info.filterWidth * info.inChannels,
    info.filterHeight * info.filterWidth * info.outChannels,
    info.batch * info.outHeight * info.outWidth,
  ];
  ['y', 'dx', 'dFilter'].forEach((name, i) =>
    assertClose(mine[i], theirs[i], 1e-4, 2e-6 * (depth[i] + 1), `conv ${JSON.stringify(info)}: ${name}`),
  );
}

describe('registration', () => {
  it("registers itself as 'js' on import", () => {
    expect(listBackends()).toContain('js');
    expect(JS_BACKEND_PRIORITY).toBe(10);
    expect(setBackend('js').name).toBe('js');
  });
});

for (const simd of [true, false])
  describe(`gemm (simd ${simd})`, () => {
    const createJsBackend = (options: JsBackendOptions = {}): Backend => createBackend({ simd, ...options });

    it('matches the reference on shapes spanning several cache blocks, every transpose combination', () => {
      const backend = createJsBackend();
      const rng = new Rng(1);
      // m > MC (96; SIMD 128), n > NC (1024), k > KC (256), none a multiple of the 4x4 (SIMD 4x8) micro-tile;
      // then k over two SIMD slabs (KC 512).
      for (const [transA, transB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        gemmAgainstReference(backend, rng, 203, 1031, 263, transA, transB);
        gemmAgainstReference(backend, rng, 133, 45, 1100, transA, transB);
      }
    });

    it('reuses its packing buffers correctly across calls of different shapes', () => {
      const backend = createJsBackend();
      const rng = new Rng(2);
      // Big, then small, then odd: a stale panel from an earlier call must never leak into a later one.
      for (const [m, n, k] of [
        [130, 140, 300],
        [5, 6, 7],
        [97, 3, 2],
        [2, 3, 257],
        [64, 64, 64],
        [9, 1030, 5],
        [7, 13, 5],
      ]) {
        gemmAgainstReference(backend, rng, m, n, k, (m + n) % 2 === 0, k % 2 === 0);
      }
    });

    it('folds a batch sharing B into one GEMM without changing the result', () => {
      const backend = createJsBackend();
      const rng = new Rng(3);
      const [batch, m, n, k] = [5, 7, 9, 11];
      const a = rng.floats(batch * m * k),
        b = rng.floats(k * n);
      const folded = new Float32Array(batch * m * n);
      backend.gemm(a, b, folded, batch, m, n, k, false, false, 1, 0, m * k, 0);
      for (let i = 0; i < batch; i++) {
        const one = new Float32Array(m * n);
        backend.gemm(a.subarray(i * m * k, (i + 1) * m * k), b, one, 1, m, n, k, false, false, 1, 0, 0, 0);
        assertClose(folded.subarray(i * m * n, (i + 1) * m * n), one, 1e-6, 1e-6, `batch entry ${i}`);
      }
    });

    it('works on arrays over a SharedArrayBuffer', () => {
      const backend = createJsBackend();
      const rng = new Rng(4);
      const shared = (data: Float32Array): Float32Array => {
        const out = new Float32Array(new SharedArrayBuffer(data.byteLength));
        out.set(data);
        return out;
      };
      const a = shared(rng.floats(6 * 5)),
        b = shared(rng.floats(5 * 7)),
        c = shared(new Float32Array(6 * 7));
      const expected = new Float32Array(6 * 7);
      backend.gemm(a, b, c, 1, 6, 7, 5, false, false, 1, 0, 0, 0);
      reference.gemm(a, b, expected, 1, 6, 7, 5, false, false, 1, 0, 0, 0);
      assertClose(c, expected, 1e-5, 1e-5, 'gemm over SharedArrayBuffer');
    });

    it('names the kernel, the expected and the actual length when an array is too short', () => {
      const backend = createJsBackend();
      expect(() =>
        backend.gemm(new Float32Array(5), new Float32Array(6), new Float32Array(4), 1, 2, 2, 3, false, false, 1, 0, 0, 0),
      ).toThrow(/gemm: a .* has length 5, needs at least 6/);
      expect(() =>
        backend.gemm(new Float32Array(6), new Float32Array(6), new Float32Array(5), 1, 2, 2, 3, false, false, 1, 0, 0, 0),
      ).toThrow(/gemm: c has length 5, expected 4/);
      expect(() =>
        backend.gemm(new Float32Array(6), new Float32Array(6), new Float32Array(4), 1, 2, 2, 1.5, false, false, 1, 0, 0, 0),
      ).toThrow(/gemm: k must be a non-negative integer, got 1.5/);
    });
  });

for (const simd of [true, false])
  describe(`conv2d (simd ${simd})`, () => {
    const createJsBackend = (options: JsBackendOptions = {}): Backend => createBackend({ simd, ...options });

    it('gives the same results when the im2col budget forces many chunks', () => {
      // 64 bytes = 16 floats: fewer than one 3x3x3 patch, so every output row is its own chunk.
      for (const bytes of [64, 4096]) {
        const backend = createJsBackend({ im2colBytes: bytes });
        const rng = new Rng(5);
        convAgainstReference(backend, rng, convInfo(3, 7, 3, 3, 4, 1, 1));
        convAgainstReference(backend, rng, convInfo(2, 9, 2, 3, 5, 2, 0));
      }
    });

    it('reuses its column buffer across calls of different geometry', () => {
      const backend = createJsBackend();
      const rng = new Rng(6);
      for (const info of [
        convInfo(4, 12, 8, 3, 16, 1, 1),
        convInfo(1, 5, 2, 3, 3, 1, 0),
        convInfo(2, 6, 3, 1, 4, 1, 0),
        convInfo(3, 8, 4, 5, 2, 2, 2),
      ]) {
        convAgainstReference(backend, rng, info);
      }
    });

    it('names the kernel and the array when a length is wrong', () => {
      const backend = createJsBackend();
      const info = convInfo(1, 4, 1, 3, 1, 1, 0);
      expect(() => backend.conv2d(new Float32Array(16), new Float32Array(9), new Float32Array(5), info)).toThrow(
        /conv2d: y \[1, 2, 2, 1\] has length 5, expected 4/,
      );
      expect(() => backend.conv2d(new Float32Array(16), new Float32Array(9), new Float32Array(4), { ...info, strideHeight: 0 })).toThrow(
        /conv2d: strideHeight must be a positive integer/,
      );
    });
  });

describe('erf', () => {
  it('matches tabulated values to float32 precision', () => {
    // Values from Python's math.erf / math.erfc (double precision).
    const table: [number, number, number][] = [
      [0, 0, 1],
      [1e-6, 1.1283791670951364e-6, 0.9999988716208329],
      [0.1, 0.1124629160182849, 0.8875370839817152],
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [0.99, 0.8385080695553698, 0.1614919304446302],
      [1, 0.8427007929497149, 0.15729920705028513],
      [2, 0.9953222650189527, 0.004677734981047266],
      [3.5, 0.9999992569016276, 7.430983723414128e-7],
      [6, 1, 2.1519736712498916e-17],
    ];
    for (const [x, e, ec] of table) {
      expect(Math.abs(erf(x) - e)).toBeLessThanOrEqual(1e-7 * Math.abs(e) + 1e-12);
      expect(Math.abs(erf(-x) + e)).toBeLessThanOrEqual(1e-7 * Math.abs(e) + 1e-12);
      expect(Math.abs(erfc(x) - ec)).toBeLessThanOrEqual(2e-7 * ec);
      expect(Math.abs(erfc(-x) - (2 - ec))).toBeLessThanOrEqual(2e-7 * (2 - ec));
    }
    expect(erf(NaN)).toBeNaN();
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
  });
});

describe('kernels', () => {
  it('gather names the kernel, the bad index and the valid range', () => {
    const backend = createJsBackend();
    expect(() => backend.gather(new Float32Array(10), Int32Array.from([1, 7]), new Float32Array(4), 1, 5, 2)).toThrow(
      'gather: index 7 at position 1 is out of range [0, 5)',
    );
  });

  it('binary repeats over an outShape larger than the broadcast, and rejects an operand that does not fit it', () => {
    const backend = createJsBackend();
    const out = new Float32Array(6);
    backend.binary('add', Float32Array.of(1, 2, 3), [3], Float32Array.of(10), [1], out, [2, 3]);
    expect(Array.from(out)).toEqual([11, 12, 13, 11, 12, 13]);
    expect(() => backend.binary('add', new Float32Array(3), [3], new Float32Array(1), [1], new Float32Array(8), [2, 4])).toThrow(
      /binary 'add': a shape \[3\] does not broadcast to out shape \[2, 4\]/,
    );
  });

  it('softmax of a long contiguous row sums to 1', () => {
    const backend = createJsBackend();
    const x = new Rng(7).floats(10000, -20, 20);
    const y = new Float32Array(x.length);
    backend.softmax(x, y, 1, x.length, 1, false);
    expect(y.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
  });
});

describe('WebAssembly SIMD epilogues, pooling and Adam: the pure-TypeScript bits', () => {
  const simd = createBackend({ threads: 1 }),
    plain = createBackend({ threads: 1, simd: false });
  /** Random values with NaN, ±Infinity, ±0 and exact ties sprinkled in. */
  function awkward(rng: Rng, n: number): Float32Array {
    const x = rng.floats(n, -3, 3);
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1, 1];
    for (let i = 0; i < n; i += 7) x[i] = specials[(i / 7) % specials.length]!;
    return x;
  }

  it('biasActivation relu and linear, biasActivationGrad relu (with and without dBias, in place)', () => {
    const rng = new Rng(30);
    for (const [rows, channels] of [
      [1, 1],
      [3, 4],
      [5, 7],
      [50, 32],
      [9, 130],
    ]) {
      const n = rows * channels;
      const x = awkward(rng, n),
        bias = awkward(rng, channels),
        dy = awkward(rng, n);
      for (const activation of ['relu', 'linear'] as const) {
        const [a, b] = [new Float32Array(n), new Float32Array(n)];
        simd.biasActivation(x, bias, a, rows, channels, activation);
        plain.biasActivation(x, bias, b, rows, channels, activation);
        expect(a, `biasActivation ${activation} ${rows}x${channels}`).toEqual(b);
      }
      const y = new Float32Array(n);
      plain.biasActivation(x, bias, y, rows, channels, 'relu');
      for (let i = 0; i < n; i += 11) y[i] = NaN;
      for (const withBias of [true, false]) {
        const [a, b] = [new Float32Array(n), new Float32Array(n)];
        const [da, db] = withBias ? [new Float32Array(channels), new Float32Array(channels)] : [null, null];
        simd.biasActivationGrad(y, dy, a, da, rows, channels, 'relu');
        plain.biasActivationGrad(y, dy, b, db, rows, channels, 'relu');
        expect(a, `relu grad ${rows}x${channels}`).toEqual(b);
        expect(da, `dBias ${rows}x${channels}`).toEqual(db);
      }
      const [inPlace, other] = [dy.slice(), new Float32Array(n)];
      simd.biasActivationGrad(y, inPlace, inPlace, null, rows, channels, 'relu');
      plain.biasActivationGrad(y, dy, other, null, rows, channels, 'relu');
      expect(inPlace).toEqual(other);
    }
  });

  it('maxPool2dBackprop: the same sums (skipped -1 windows, repeated winners), and the same error for a bad index', () => {
    const rng = new Rng(32);
    const info = {
      batch: 2,
      inHeight: 5,
      inWidth: 5,
      channels: 4,
      outHeight: 4,
      outWidth: 4,
      filterHeight: 2,
      filterWidth: 2,
      strideHeight: 1,
      strideWidth: 1,
      padTop: 0,
      padLeft: 0,
    };
    const x = awkward(rng, 2 * 5 * 5 * 4),
      y = new Float32Array(2 * 4 * 4 * 4),
      argmax = new Int32Array(y.length);
    plain.maxPool2d(x, y, argmax, info);
    for (let i = 0; i < argmax.length; i += 9) argmax[i] = -1;
    const dy = awkward(rng, y.length);
    const [a, b] = [new Float32Array(x.length).fill(NaN), new Float32Array(x.length).fill(NaN)];
    simd.maxPool2dBackprop(dy, argmax, a, info);
    plain.maxPool2dBackprop(dy, argmax, b, info);
    expect(a).toEqual(b);
    argmax[5] = x.length;
    expect(() => simd.maxPool2dBackprop(dy, argmax, a, info)).toThrow(
      `maxPool2dBackprop: argmax[5] = ${x.length} is outside dx [0, ${x.length})`,
    );
  });

  it('adamUpdate: the same float64 arithmetic, bit for bit (vectors of 4 and the rest, weight decay)', () => {
    const rng = new Rng(33);
    for (const n of [64, 67, 1000, 5]) {
      for (const weightDecay of [0, 0.01]) {
        const [p1, m1, v1] = [rng.floats(n), new Float32Array(n), new Float32Array(n)];
        const [p2, m2, v2] = [p1.slice(), m1.slice(), v1.slice()];
        for (let step = 1; step <= 3; step++) {
          const g = awkward(rng, n).map((x) => (Number.isFinite(x) ? x : 0.5));
          const config = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step, weightDecay };
          simd.adamUpdate(p1, g, m1, v1, config);
          plain.adamUpdate(p2, g, m2, v2, config);
        }
        expect(p1, `n ${n}`).toEqual(p2);
        expect(m1).toEqual(m2);
        expect(v1).toEqual(v2);
      }
    }
  });

  it('maxPool2d: values and argmax, NaN, ties, padding and all-padding windows, channels a multiple of 4', () => {
    const rng = new Rng(31);
    const geometries = [
      // batch, size, channels, filter, stride, pad
      [2, 26, 32, 2, 2, 0],
      [3, 7, 4, 3, 2, 1],
      [1, 5, 8, 3, 1, 2],
      [2, 4, 12, 2, 1, 3],
      [1, 6, 4, 4, 3, 0],
    ];
    for (const [batch, size, channels, f, stride, pad] of geometries) {
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
      const x = awkward(rng, batch * size * size * channels);
      for (let i = 3; i < x.length; i += 5) x[i] = Math.round(x[i]!);
      const [ya, yb] = [new Float32Array(batch * out * out * channels), new Float32Array(batch * out * out * channels)];
      const [aa, ab] = [new Int32Array(ya.length), new Int32Array(ya.length)];
      simd.maxPool2d(x, ya, aa, info);
      plain.maxPool2d(x, yb, ab, info);
      expect(ya, JSON.stringify(info)).toEqual(yb);
      expect(aa, JSON.stringify(info)).toEqual(ab);
    }
  });
});
