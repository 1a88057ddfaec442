/**
 * Differential test: hundreds of random shapes and values (odd sizes, size-1
 * dims, empty dims, broadcasting corners, views at odd offsets, and sizes large
 * enough to take the multi-threaded paths) through 'native' and 'js', which
 * must agree to float rounding.
 */
import { readFileSync } from 'node:fs';

import { createJsBackend } from '@axon/kernels-js';
import type {
  CompleteHostBackend as Backend,
  Conv2DInfo,
  FusedActivation,
  Pool2DInfo,
  ReduceOp,
  RnnActivation,
  RnnBackwardArrays,
  RnnForwardArrays,
  RnnSequenceInfo,
  UnaryOp,
} from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { BINARY_OPS } from '@axon/tensor/testing';

import { createNativeBackend, getNumThreads, nativeAvailable, setNumThreads } from '../src/index.js';
import { Gen, assertClose, assertEqual, copy, nativeSuiteName, skipNative } from './util.js';

const js: Backend = createJsBackend();
// Every kernel the native backend implements (the others come from js and need no differential test).
const native = (nativeAvailable ? createNativeBackend() : undefined) as Backend | undefined;
const nat = (): Backend => native ?? (createNativeBackend() as Backend); // throws the reason under AXON_REQUIRE_NATIVE=1

const UNARY: UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'abs',
  'sign',
  'reciprocal',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'gelu',
  'sigmoid',
  'tanh',
  'softplus',
  'softsign',
  'swish',
  'clip',
  'step',
  'floor',
  'round',
  'erf',
];
const FUSED: FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'hardSigmoid'];
const REDUCE: ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod'];

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A random shape of the given rank with small odd sizes, size-1 dims and the occasional big dim. */
function shapeOf(g: Gen, rank: number, maxDim = 7): number[] {
  return Array.from({ length: rank }, () => (g.bool(0.25) ? 1 : g.int(1, maxDim)));
}

describe.skipIf(skipNative)(nativeSuiteName('native vs js on random inputs'), () => {
  it('gemm: transposes, alpha/beta, batch broadcast (stride 0), k = 0, empty sizes', () => {
    const g = new Gen(1);
    for (let t = 0; t < 300; t++) {
      const big = t % 25 === 0;
      const batch = g.pick([0, 1, 1, 2, 3, 5]);
      const m = big ? g.int(60, 200) : g.pick([0, 1, 2, 3, 7, 16, 33]);
      const n = big ? g.int(60, 200) : g.pick([0, 1, 2, 5, 8, 17, 31]);
      const k = big ? g.int(60, 300) : g.pick([0, 1, 3, 4, 9, 64, 65]);
      const transA = g.bool(),
        transB = g.bool();
      const alpha = g.pick([1, 1, -0.5, 2, 0]),
        beta = g.pick([0, 0, 1, 0.5]);
      const strideA = batch > 1 && g.bool(0.3) ? 0 : m * k + (g.bool(0.2) ? 3 : 0);
      const strideB = batch > 1 && g.bool(0.3) ? 0 : k * n + (g.bool(0.2) ? 2 : 0);
      const a = g.floats(batch > 0 ? (batch - 1) * strideA + m * k : 0);
      const b = g.floats(batch > 0 ? (batch - 1) * strideB + k * n : 0);
      const c = g.floats(batch * m * n);
      if (beta === 0) c.fill(NaN); // beta = 0 must ignore garbage in C
      const cn = copy(c),
        cj = copy(c);
      nat().gemm(a, b, cn, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB);
      js.gemm(a, b, cj, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB);
      assertClose(cn, cj, `gemm #${t} batch=${batch} m=${m} n=${n} k=${k} tA=${transA} tB=${transB}`, 1e-4, 1e-5 * (k + 1));
    }
  });

  it('unary: every op, including in place and large (threaded) arrays', () => {
    const g = new Gen(2);
    for (let t = 0; t < 6; t++) {
      for (const op of UNARY) {
        const n = t === 5 ? 70001 : g.pick([0, 1, 7, 100, 1023]);
        const positive = op === 'log' || op === 'sqrt' || op === 'rsqrt';
        const x = positive ? g.floats(n, 0.05, 4) : g.floats(n, -6, 6);
        if (op === 'reciprocal') for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 0.05) x[i] = 0.5;
        const params =
          op === 'clip'
            ? { alpha: -0.5, beta: g.uniform(0, 2) }
            : op === 'leakyRelu' || op === 'elu'
              ? g.bool()
                ? { alpha: g.uniform(0.01, 1.5) }
                : undefined
              : undefined;
        const yn = new Float32Array(n),
          yj = new Float32Array(n);
        nat().unary(op, x, yn, params);
        js.unary(op, x, yj, params);
        assertClose(yn, yj, `unary ${op} n=${n}`, 2e-6, 1e-7);
        // In place: y aliases x.
        const inPlace = copy(x);
        nat().unary(op, inPlace, inPlace, params);
        assertClose(inPlace, yj, `unary ${op} in place`, 2e-6, 1e-7);
      }
    }
  });

  it('biasActivation and its gradient: every activation, with and without bias, in place, large (threaded) arrays', () => {
    const g = new Gen(21);
    for (let t = 0; t < 8; t++) {
      for (const activation of FUSED) {
        const rows = t === 7 ? 21632 : g.pick([0, 1, 3, 50, 301]);
        const channels = t === 7 ? 32 : g.pick([1, 2, 7, 32, 65]);
        const n = rows * channels;
        const x = g.floats(n, -5, 5);
        const bias = g.bool(0.8) ? g.floats(channels) : null;
        const yn = new Float32Array(n),
          yj = new Float32Array(n);
        nat().biasActivation(x, bias, yn, rows, channels, activation);
        js.biasActivation(x, bias, yj, rows, channels, activation);
        assertClose(yn, yj, `biasActivation ${activation} ${rows}x${channels}`, 2e-6, 1e-7);
        const inPlace = copy(x);
        nat().biasActivation(inPlace, bias, inPlace, rows, channels, activation);
        assertClose(inPlace, yj, `biasActivation ${activation} in place`, 2e-6, 1e-7);
        const dy = g.floats(n);
        const dxn = new Float32Array(n),
          dxj = new Float32Array(n);
        const dbn = bias ? new Float32Array(channels) : null,
          dbj = bias ? new Float32Array(channels) : null;
        nat().biasActivationGrad(yj, dy, dxn, dbn, rows, channels, activation);
        js.biasActivationGrad(yj, dy, dxj, dbj, rows, channels, activation);
        assertClose(dxn, dxj, `biasActivationGrad ${activation} ${rows}x${channels}: dx`, 1e-6, 1e-7);
        if (dbn && dbj)
          assertClose(dbn, dbj, `biasActivationGrad ${activation} ${rows}x${channels}: dBias`, 1e-4, 1e-5 * Math.sqrt(rows + 1));
      }
    }
  });

  it('exp, sigmoid, tanh within 2 ulp, swish within 4, over the whole float range (vectorised; subnormals to 1e-37)', () => {
    const xs: number[] = [
      -Infinity,
      -1e30,
      -1000,
      -104,
      -103.97,
      -103,
      -100,
      -90,
      -87.5,
      -87.3,
      -50,
      50,
      80,
      88.7,
      88.72,
      88.73,
      89,
      100,
      1e30,
      Infinity,
      NaN,
      0,
      -0,
    ];
    for (let v = -20; v <= 20; v += 0.0037) xs.push(v);
    for (let e = -40; e <= 2; e += 0.25) xs.push(2 ** e, -(2 ** e));
    const x = Float32Array.from(xs);
    // Distance in units in the last place between two floats (0 for equal, NaN = NaN).
    const bits = new Int32Array(1);
    const f = new Float32Array(bits.buffer);
    const ordered = (v: number): number => {
      f[0] = v;
      return bits[0]! < 0 ? -(bits[0]! & 0x7fffffff) : bits[0]!;
    };
    for (const op of ['exp', 'sigmoid', 'tanh', 'swish'] as const) {
      const yn = new Float32Array(x.length),
        yj = new Float32Array(x.length);
      nat().unary(op, x, yn);
      js.unary(op, x, yj);
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(yj[i]!) && Number.isNaN(yn[i]!)) continue;
        const ulps = Math.abs(ordered(yn[i]!) - ordered(yj[i]!));
        // (Subnormal results may differ by more ulps: the JS backend rounds once from double.)
        if (!(ulps <= (op === 'swish' ? 4 : 2)) && !(Math.abs(yn[i]! - yj[i]!) < 1e-37))
          throw new Error(`${op}(${x[i]}) = ${yn[i]} (native), ${yj[i]} (js): ${ulps} ulp apart`);
      }
    }
  });

  it('binary with broadcasting: scalars, rank mismatch, size-1 dims, empty dims, large', () => {
    const g = new Gen(3);
    for (let t = 0; t < 400; t++) {
      const rank = g.int(0, 4);
      const outShape = t % 50 === 0 ? [g.int(150, 300), g.int(150, 300)] : shapeOf(g, rank);
      if (t % 37 === 0 && rank > 0) outShape[g.int(0, rank - 1)] = 0;
      const derive = (): number[] => {
        const keep = g.int(0, outShape.length);
        return outShape.slice(outShape.length - keep).map((d) => (g.bool(0.35) ? 1 : d));
      };
      const aShape = derive(),
        bShape = derive();
      // outShape must be exactly the broadcast: recompute it from a and b.
      const r = Math.max(aShape.length, bShape.length, g.bool(0.2) ? outShape.length : 0);
      const out: number[] = [];
      for (let i = 0; i < r; i++) {
        const da = aShape[aShape.length - r + i] ?? 1,
          db = bShape[bShape.length - r + i] ?? 1;
        out.push(da === 1 ? db : da);
      }
      const op = BINARY_OPS[t % BINARY_OPS.length]!;
      const a = op === 'pow' ? g.floats(size(aShape), 0.1, 3) : g.floats(size(aShape), -3, 3);
      const b = g.floats(size(bShape), -3, 3);
      if (op === 'equal' || op === 'notEqual') for (let i = 0; i < b.length; i++) if (g.bool(0.3)) b[i] = a[i % Math.max(1, a.length)] ?? 0;
      const on = new Float32Array(size(out)),
        oj = new Float32Array(size(out));
      nat().binary(op, a, aShape, b, bShape, on, out);
      js.binary(op, a, aShape, b, bShape, oj, out);
      assertClose(on, oj, `binary ${op} [${aShape}] [${bShape}] -> [${out}]`, op === 'pow' ? 1e-6 : 0, 0);
    }
  });

  it('select with three-way broadcasting', () => {
    const g = new Gen(4);
    for (let t = 0; t < 150; t++) {
      const outShape = t % 30 === 0 ? [g.int(200, 260), g.int(140, 200)] : shapeOf(g, g.int(1, 4));
      const derive = (): number[] => outShape.slice(outShape.length - g.int(0, outShape.length)).map((d) => (g.bool(0.4) ? 1 : d));
      const cs = derive(),
        as = derive(),
        bs = [...outShape];
      const cond = g.floats(size(cs));
      for (let i = 0; i < cond.length; i++) cond[i] = cond[i]! > 0 ? 1 : 0;
      const a = g.floats(size(as)),
        b = g.floats(size(bs));
      const on = new Float32Array(size(outShape)),
        oj = new Float32Array(size(outShape));
      nat().select(cond, cs, a, as, b, bs, on, outShape);
      js.select(cond, cs, a, as, b, bs, oj, outShape);
      assertEqual(on, oj, `select [${cs}] [${as}] [${bs}]`);
    }
  });

  it("reduce and softmax over [outer, size, inner] (argReduce is js's)", () => {
    const g = new Gen(5);
    for (let t = 0; t < 300; t++) {
      const big = t % 40 === 0;
      const inner = big ? g.pick([1, 3, 600]) : g.pick([1, 1, 2, 9, 31]);
      const outer = big ? (inner > 100 ? g.int(2, 5) : g.int(100, 400)) : g.pick([0, 1, 2, 3, 7]);
      const sz = big ? g.int(100, 300) : g.pick([0, 1, 2, 5, 17, 64]);
      const x = g.floats(outer * sz * inner, -3, 3);
      if (t % 10 === 3 && x.length > 0) x[g.int(0, x.length - 1)] = NaN;
      const op = REDUCE[t % REDUCE.length]!;
      const xr = op === 'prod' ? Float32Array.from(x, (v) => (Number.isNaN(v) ? v : 0.9 + 0.1 * v)) : x;
      const rn = new Float32Array(outer * inner),
        rj = new Float32Array(outer * inner);
      nat().reduce(op, xr, rn, outer, sz, inner);
      js.reduce(op, xr, rj, outer, sz, inner);
      assertClose(rn, rj, `reduce ${op} [${outer},${sz},${inner}]`, 1e-5, 1e-5);
      for (const log of [false, true]) {
        const sn = new Float32Array(x.length),
          sj = new Float32Array(x.length);
        nat().softmax(x, sn, outer, sz, inner, log);
        js.softmax(x, sj, outer, sz, inner, log);
        assertClose(sn, sj, `softmax log=${log} [${outer},${sz},${inner}]`, 1e-5, 1e-6);
      }
    }
  });

  it('transpose, slice and pad of random ranks (0-5)', () => {
    const g = new Gen(6);
    for (let t = 0; t < 300; t++) {
      const rank = g.int(0, 5);
      const shape = t % 40 === 0 ? [g.int(100, 400), g.int(100, 400)] : shapeOf(g, rank, 6);
      if (t % 29 === 0 && rank > 0) shape[0] = 0;
      const x = g.floats(size(shape));
      const perm = shape.map((_, i) => i);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = g.int(0, i);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const tn = new Float32Array(x.length),
        tj = new Float32Array(x.length);
      nat().transpose(x, shape, perm, tn);
      js.transpose(x, shape, perm, tj);
      assertEqual(tn, tj, `transpose [${shape}] perm [${perm}]`);

      const begin = shape.map((d) => g.int(0, d));
      const sz = shape.map((d, i) => g.int(0, d - begin[i]!));
      const sn = new Float32Array(size(sz)),
        sj = new Float32Array(size(sz));
      nat().slice(x, shape, begin, sz, sn);
      js.slice(x, shape, begin, sz, sj);
      assertEqual(sn, sj, `slice [${shape}] begin [${begin}] size [${sz}]`);

      const before = shape.map(() => g.int(0, 2)),
        after = shape.map(() => g.int(0, 2));
      const padded = shape.map((d, i) => d + before[i]! + after[i]!);
      const value = g.pick([0, -1.5]);
      const pn = new Float32Array(size(padded)),
        pj = new Float32Array(size(padded));
      nat().pad(x, shape, before, after, value, pn);
      js.pad(x, shape, before, after, value, pj);
      assertEqual(pn, pj, `pad [${shape}] before [${before}] after [${after}]`);
    }
  });

  it("concat and scatterAdd (gather and oneHot are js's)", () => {
    const g = new Gen(7);
    for (let t = 0; t < 200; t++) {
      const big = t % 40 === 0;
      const outer = big ? g.int(2, 20) : g.pick([0, 1, 2, 5]);
      const inner = big ? g.int(100, 400) : g.pick([0, 1, 3, 8]);
      const sizes = Array.from({ length: g.int(0, 4) }, () => g.pick([0, 1, 2, 7]));
      const inputs = sizes.map((s) => g.floats(outer * s * inner));
      const total = sizes.reduce((a, b) => a + b, 0);
      const cn = new Float32Array(outer * total * inner),
        cj = new Float32Array(outer * total * inner);
      nat().concat(inputs, sizes, outer, inner, cn);
      js.concat(inputs, sizes, outer, inner, cj);
      assertEqual(cn, cj, `concat sizes [${sizes}] outer ${outer} inner ${inner}`);

      const sz = g.pick([1, 2, 10, 33]);
      const indices = g.ints(big ? 100 : g.int(0, 12), 0, sz - 1);

      const dy = g.floats(outer * indices.length * inner);
      const dx = g.floats(outer * sz * inner);
      const dn = copy(dx),
        dj = copy(dx);
      nat().scatterAdd(dy, indices, dn, outer, sz, inner);
      js.scatterAdd(dy, indices, dj, outer, sz, inner);
      assertClose(dn, dj, `scatterAdd [${outer},${sz},${inner}] ${indices.length} indices`, 1e-6, 1e-6);
    }
  });

  it('conv2d forward and both backward passes: strides, dilation, padding, 1x1, batch split', () => {
    const g = new Gen(8);
    for (let t = 0; t < 200; t++) {
      const big = t % 20 === 0;
      const fh = g.pick([1, 1, 2, 3, 5]),
        fw = g.pick([1, 2, 3]);
      const dh = g.pick([1, 1, 2]),
        dw = g.pick([1, 1, 2]);
      const sh = g.pick([1, 1, 2, 3]),
        sw = g.pick([1, 2]);
      const inH = g.int(1, big ? 16 : 9),
        inW = g.int(1, big ? 16 : 9);
      const padTop = g.int(0, fh - 1),
        padLeft = g.int(0, fw - 1),
        padBottom = g.int(0, fh - 1),
        padRight = g.int(0, fw - 1);
      const outH = Math.floor((inH + padTop + padBottom - dh * (fh - 1) - 1) / sh) + 1;
      const outW = Math.floor((inW + padLeft + padRight - dw * (fw - 1) - 1) / sw) + 1;
      if (outH <= 0 || outW <= 0) continue;
      const info: Conv2DInfo = {
        batch: big ? g.int(4, 12) : g.pick([0, 1, 2, 3]),
        inHeight: inH,
        inWidth: inW,
        inChannels: g.pick([1, 2, 3, 8]),
        outHeight: outH,
        outWidth: outW,
        outChannels: g.pick([1, 2, 5, 16]),
        filterHeight: fh,
        filterWidth: fw,
        strideHeight: sh,
        strideWidth: sw,
        dilationHeight: dh,
        dilationWidth: dw,
        padTop,
        padLeft,
      };
      const xs = info.batch * inH * inW * info.inChannels,
        ys = info.batch * outH * outW * info.outChannels;
      const fs = fh * fw * info.inChannels * info.outChannels;
      const x = g.floats(xs),
        f = g.floats(fs),
        dy = g.floats(ys);
      const what = `conv #${t} ${JSON.stringify(info)}`;
      const tol = 1e-5 * (fh * fw * info.inChannels + 1);
      const yn = new Float32Array(ys).fill(NaN),
        yj = new Float32Array(ys);
      nat().conv2d(x, f, yn, info);
      js.conv2d(x, f, yj, info);
      assertClose(yn, yj, `${what} forward`, 1e-4, tol);
      const dxn = new Float32Array(xs).fill(NaN),
        dxj = new Float32Array(xs);
      nat().conv2dBackpropInput(dy, f, dxn, info);
      js.conv2dBackpropInput(dy, f, dxj, info);
      assertClose(dxn, dxj, `${what} backprop input`, 1e-4, 1e-5 * (fh * fw * info.outChannels + 1));
      const dfn = new Float32Array(fs).fill(NaN),
        dfj = new Float32Array(fs);
      nat().conv2dBackpropFilter(x, dy, dfn, info);
      js.conv2dBackpropFilter(x, dy, dfj, info);
      assertClose(dfn, dfj, `${what} backprop filter`, 1e-4, 1e-5 * (info.batch * outH * outW + 1));
    }
  });

  it('conv2d with im2col chunks that end inside an image (one image > the 4 MB scratch)', () => {
    const g = new Gen(11);
    const info: Conv2DInfo = {
      batch: 2,
      inHeight: 64,
      inWidth: 63,
      inChannels: 32,
      outHeight: 64,
      outWidth: 63,
      outChannels: 8,
      filterHeight: 3,
      filterWidth: 3,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padLeft: 1,
    };
    const xs = 2 * 64 * 63 * 32,
      ys = 2 * 64 * 63 * 8,
      fs = 9 * 32 * 8;
    const x = g.floats(xs),
      f = g.floats(fs),
      dy = g.floats(ys);
    const yn = new Float32Array(ys),
      yj = new Float32Array(ys);
    nat().conv2d(x, f, yn, info);
    js.conv2d(x, f, yj, info);
    assertClose(yn, yj, 'big conv forward', 1e-4, 3e-3);
    const dxn = new Float32Array(xs),
      dxj = new Float32Array(xs);
    nat().conv2dBackpropInput(dy, f, dxn, info);
    js.conv2dBackpropInput(dy, f, dxj, info);
    assertClose(dxn, dxj, 'big conv backprop input', 1e-4, 1e-3);
    const dfn = new Float32Array(fs),
      dfj = new Float32Array(fs);
    nat().conv2dBackpropFilter(x, dy, dfn, info);
    js.conv2dBackpropFilter(x, dy, dfj, info);
    assertClose(dfn, dfj, 'big conv backprop filter', 1e-4, 5e-2);
  });

  it('max and average pooling, forward and backward', () => {
    const g = new Gen(9);
    for (let t = 0; t < 200; t++) {
      const big = t % 25 === 0;
      const fh = g.int(1, 3),
        fw = g.int(1, 3),
        sh = g.int(1, 3),
        sw = g.int(1, 3);
      const inH = g.int(1, big ? 30 : 8),
        inW = g.int(1, big ? 30 : 8);
      const padTop = g.int(0, fh - 1),
        padLeft = g.int(0, fw - 1);
      const outH = Math.floor((inH + padTop + g.int(0, fh - 1) - fh) / sh) + 1;
      const outW = Math.floor((inW + padLeft + g.int(0, fw - 1) - fw) / sw) + 1;
      if (outH <= 0 || outW <= 0) continue;
      const info: Pool2DInfo = {
        batch: big ? g.int(8, 32) : g.pick([0, 1, 2, 3]),
        inHeight: inH,
        inWidth: inW,
        channels: g.pick([1, 3, 8]),
        outHeight: outH,
        outWidth: outW,
        filterHeight: fh,
        filterWidth: fw,
        strideHeight: sh,
        strideWidth: sw,
        padTop,
        padLeft,
      };
      const xs = info.batch * inH * inW * info.channels,
        ys = info.batch * outH * outW * info.channels;
      const x = g.floats(xs);
      if (t % 10 === 0 && xs > 0) x[g.int(0, xs - 1)] = NaN;
      const what = `pool #${t} ${JSON.stringify(info)}`;
      const yn = new Float32Array(ys),
        yj = new Float32Array(ys),
        an = new Int32Array(ys),
        aj = new Int32Array(ys);
      nat().maxPool2d(x, yn, an, info);
      js.maxPool2d(x, yj, aj, info);
      assertEqual(yn, yj, `${what} max`);
      assertEqual(an, aj, `${what} argmax`);
      const dy = g.floats(ys);
      const dxn = new Float32Array(xs).fill(NaN),
        dxj = new Float32Array(xs);
      nat().maxPool2dBackprop(dy, aj, dxn, info);
      js.maxPool2dBackprop(dy, aj, dxj, info);
      assertClose(dxn, dxj, `${what} max backprop`, 1e-6, 1e-7);
      const vn = new Float32Array(ys),
        vj = new Float32Array(ys);
      nat().avgPool2d(x, vn, info);
      js.avgPool2d(x, vj, info);
      assertClose(vn, vj, `${what} avg`, 1e-6, 1e-7);
      const dvn = new Float32Array(xs).fill(NaN),
        dvj = new Float32Array(xs);
      nat().avgPool2dBackprop(dy, dvn, info);
      js.avgPool2dBackprop(dy, dvj, info);
      assertClose(dvn, dvj, `${what} avg backprop`, 1e-6, 1e-7);
    }
  });

  it('fused recurrent kernels: row groups, masks and every option', () => {
    const g = new Gen(12);
    for (let t = 0; t < 48; t++) {
      const c = recurrentCase(g, {
        kind: RNN_KINDS[t % 4]!,
        // Batches around the row-group edges (one group below 16, then groups of at most 32 rows).
        B: g.pick([1, 2, 5, 15, 16, 17, 33, 37, 70, 100]),
        T: g.pick([1, 2, 3, 9, 20]),
        I: g.pick([1, 3, 8, 13]),
        U: g.pick([1, 4, 16, 33]),
      });
      const n = runRecurrent(nat(), c),
        j = runRecurrent(js, c);
      compareRecurrent(n, j, c);
    }
    // Empty batch, no inputs, no units; a batch past 64 groups of 16 (the groups grow).
    for (const [B, T, I, U] of [
      [0, 3, 2, 4],
      [2, 3, 0, 4],
      [20, 3, 0, 5],
      [2, 3, 2, 0],
      [20, 2, 3, 0],
      [1100, 2, 3, 5],
    ] as const) {
      for (const kind of RNN_KINDS) {
        const c = recurrentCase(g, { kind, B, T, I, U });
        compareRecurrent(runRecurrent(nat(), c), runRecurrent(js, c), c);
      }
    }
  });

  it('fused recurrent kernels: the seed model sizes (several row groups)', () => {
    const g = new Gen(13);
    for (const kind of RNN_KINDS) {
      for (const B of [32, 45, 128]) {
        const c = recurrentCase(g, { kind, B, T: 28, I: 28, U: 64, plain: true });
        compareRecurrent(runRecurrent(nat(), c), runRecurrent(js, c), c);
      }
    }
  });

  it('fused recurrent kernels: identical bits for any thread count, deterministic run to run', () => {
    const g = new Gen(14);
    const cases = [
      ...RNN_KINDS.map((kind) => recurrentCase(g, { kind, B: 70, T: 20, I: 9, U: 24, mask: true })),
      ...RNN_KINDS.map((kind) => recurrentCase(g, { kind, B: 37, T: 28, I: 28, U: 64, plain: true })),
      ...RNN_KINDS.map((kind) => recurrentCase(g, { kind, B: 16, T: 3, I: 5, U: 40 })), // two groups of 8
    ];
    // A batch below 16 with large products: one row group, which splits them over the threads
    // itself — unless the CPU lacks AVX2/FMA, where OpenBLAS threads its per-step products and
    // only run-to-run determinism holds.
    const small = RNN_KINDS.map((kind) => recurrentCase(g, { kind, B: 8, T: 3, I: 40, U: 200 }));
    const ownKernels =
      process.env.AXON_SMALL_GEMM !== '0' &&
      process.arch === 'x64' &&
      (() => {
        try {
          const f = readFileSync('/proc/cpuinfo', 'utf8');
          return / avx2( |$)/m.test(f) && / fma( |$)/m.test(f);
        } catch {
          return false;
        }
      })();
    const strict = ownKernels ? [...cases, ...small] : cases;
    const differing = (a: Record<string, Float32Array>, b: Record<string, Float32Array>): Record<string, number> =>
      Object.fromEntries(Object.entries(a).map(([name, x]) => [name, x.reduce((m, v, i) => m + (Object.is(v, b[name]![i]) ? 0 : 1), 0)]));
    const none = (r: Record<string, Float32Array>): Record<string, number> => Object.fromEntries(Object.keys(r).map((k) => [k, 0]));
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const reference = strict.map((c) => runRecurrent(nat(), c));
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        strict.forEach((c, k) => {
          const r = runRecurrent(nat(), c);
          expect(differing(r, reference[k]!), `${c.what} with ${threads} threads`).toEqual(none(r));
        });
        for (const c of small) {
          const r = runRecurrent(nat(), c);
          expect(differing(runRecurrent(nat(), c), r), `${c.what} with ${threads} threads, rerun`).toEqual(none(r));
        }
      }
    } finally {
      setNumThreads(before);
    }
  });

  it('sgd, adam and rmsprop updates over several steps', () => {
    const g = new Gen(10);
    for (let t = 0; t < 60; t++) {
      const n = t % 20 === 0 ? 50001 : g.pick([0, 1, 5, 100]);
      const fresh = (): Float32Array => g.floats(n);
      const pair = (a: Float32Array | null): [Float32Array | null, Float32Array | null] => (a ? [copy(a), copy(a)] : [null, null]);
      const [pn, pj] = pair(fresh()) as [Float32Array, Float32Array];
      const momentum = g.pick([0, 0.9]);
      const [vn, vj] = pair(momentum ? new Float32Array(n) : null);
      const [mn, mj] = pair(new Float32Array(n)) as [Float32Array, Float32Array];
      const [v2n, v2j] = pair(new Float32Array(n)) as [Float32Array, Float32Array];
      const [sn, sj] = pair(new Float32Array(n)) as [Float32Array, Float32Array];
      const centered = g.bool();
      const [gn, gj] = pair(centered ? new Float32Array(n) : null);
      const nesterov = g.bool();
      const weightDecay = g.pick([0, 0.01]);
      for (let step = 1; step <= 3; step++) {
        const grad = fresh();
        nat().sgdUpdate(pn, grad, vn, { lr: 0.1, momentum, nesterov });
        js.sgdUpdate(pj, grad, vj, { lr: 0.1, momentum, nesterov });
        const adam = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step, weightDecay };
        nat().adamUpdate(pn, grad, mn, v2n, adam);
        js.adamUpdate(pj, grad, mj, v2j, adam);
        const rms = { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered };
        nat().rmspropUpdate(pn, grad, sn, vn, gn, rms);
        js.rmspropUpdate(pj, grad, sj, vj, gj, rms);
      }
      assertClose(pn, pj, `optimizers n=${n} momentum=${momentum} centered=${centered}`, 1e-5, 1e-6);
      assertClose(mn, mj, 'adam m', 1e-5, 1e-7);
      assertClose(v2n, v2j, 'adam v', 1e-5, 1e-9);
      assertClose(sn, sj, 'rmsprop meanSquare', 1e-5, 1e-9);
    }
  });
});

// ---- fused recurrent kernels ---------------------------------------------------------------

type RnnKind = 'lstm' | 'gruRa' | 'gru' | 'simpleRnn';
const RNN_KINDS: readonly RnnKind[] = ['lstm', 'gruRa', 'gru', 'simpleRnn'];
const ACTS: readonly RnnActivation[] = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'];

interface RecurrentCase {
  what: string;
  kind: RnnKind;
  info: RnnSequenceInfo;
  forward: RnnForwardArrays;
  backward: Omit<RnnBackwardArrays, 'x' | 'kernel' | 'recurrentKernel' | 'mask' | 'hs' | 'cs' | 'gates' | 'aux'>;
}

/**
 * A random sequence problem: options, mask, initial state, bias and which gradients are wanted
 * drawn at random (plain: the seed model's training call, tanh/sigmoid and no options).
 */
function recurrentCase(
  g: Gen,
  o: { kind: RnnKind; B: number; T: number; I: number; U: number; plain?: boolean; mask?: boolean },
): RecurrentCase {
  const { kind, B, T, I, U } = o;
  const G = kind === 'lstm' ? 4 : kind === 'simpleRnn' ? 1 : 3;
  const isLstm = kind === 'lstm',
    isGru = kind === 'gru' || kind === 'gruRa';
  const plain = o.plain ?? false;
  const info: RnnSequenceInfo = {
    batch: B,
    timesteps: T,
    inputSize: I,
    units: U,
    goBackwards: !plain && g.bool(0.3),
    returnSequences: plain ? g.bool() : g.bool(0.6),
    zeroOutputForMask: !plain && g.bool(0.3),
    activation: plain || g.bool(0.5) ? 'tanh' : g.pick(ACTS),
    recurrentActivation: plain || g.bool(0.5) ? 'sigmoid' : g.pick(ACTS),
    resetAfter: kind === 'gruRa',
  };
  const GU = G * U,
    BU = B * U;
  const opt = (p: number, n: number, lo = -1, hi = 1): Float32Array | null => (g.bool(p) ? g.floats(n, lo, hi) : null);
  let mask: Float32Array | null = null;
  if (o.mask || (!plain && g.bool(0.4))) {
    mask = g.floats(B * T);
    for (let i = 0; i < mask.length; i++) mask[i] = g.bool(0.3) ? 0 : 1;
  }
  // Weights scaled so the states stay O(1) over 28 steps with any activation.
  const kernel = g.floats(I * GU, -1 / Math.sqrt(I), 1 / Math.sqrt(I));
  const recurrentKernel = g.floats(U * GU, -1 / Math.sqrt(U), 1 / Math.sqrt(U));
  const out = (n: number): Float32Array => g.floats(n).fill(NaN); // outputs must be overwritten whole
  const outputSize = info.returnSequences ? B * T * U : BU;
  const forward: RnnForwardArrays = {
    x: g.floats(B * T * I),
    kernel,
    recurrentKernel,
    bias: opt(plain ? 1 : 0.7, (kind === 'gruRa' ? 2 : 1) * GU, -0.5, 0.5),
    h0: plain ? null : opt(0.4, BU),
    c0: null,
    mask,
    output: out(outputSize),
    hT: out(BU),
    cT: isLstm ? out(BU) : null,
    hs: out((T + 1) * BU),
    cs: isLstm ? out((T + 1) * BU) : null,
    gates: kind === 'simpleRnn' ? null : out(T * B * GU),
    aux: isGru ? out(T * BU) : null,
  };
  if (isLstm && forward.h0) forward.c0 = opt(0.7, BU);
  const want = (n: number, p = 0.8): Float32Array | null => (plain || g.bool(p) ? out(n) : null);
  const backward = {
    dOutput: plain || g.bool(0.85) ? g.floats(outputSize) : null,
    dhT: plain || g.bool(0.6) ? g.floats(BU) : null,
    dcT: isLstm && (plain || g.bool(0.6)) ? g.floats(BU) : null,
    dx: want(B * T * I),
    dKernel: want(I * GU),
    dRecurrentKernel: want(U * GU),
    dBias: forward.bias ? want(forward.bias.length) : null,
    dh0: forward.h0 ? want(BU) : null,
    dc0: forward.c0 ? want(BU) : null,
  };
  const what =
    `${kind} B=${B} T=${T} I=${I} U=${U} ${JSON.stringify({ ...info, batch: undefined, timesteps: undefined, inputSize: undefined, units: undefined })}` +
    ` mask=${!!mask} h0=${!!forward.h0} c0=${!!forward.c0} bias=${!!forward.bias}`;
  return { what, kind, info, forward, backward };
}

/** Runs forward then backward on fresh copies of every array; returns each output by name. */
function runRecurrent(be: Backend, c: RecurrentCase): Record<string, Float32Array> {
  const o = be;
  const [fwd, bwd] =
    c.kind === 'lstm'
      ? [o.lstmForward, o.lstmBackward]
      : c.kind === 'simpleRnn'
        ? [o.simpleRnnForward, o.simpleRnnBackward]
        : [o.gruForward, o.gruBackward];
  const cp = (a: Float32Array | null): Float32Array | null => (a ? copy(a) : null);
  const f = Object.fromEntries(Object.entries(c.forward).map(([k, v]) => [k, cp(v)])) as unknown as RnnForwardArrays;
  fwd.call(o, f, c.info);
  const b: RnnBackwardArrays = {
    x: f.x,
    kernel: f.kernel,
    recurrentKernel: f.recurrentKernel,
    mask: f.mask,
    hs: f.hs,
    cs: f.cs,
    gates: f.gates,
    aux: f.aux,
    ...(Object.fromEntries(Object.entries(c.backward).map(([k, v]) => [k, cp(v)])) as unknown as RecurrentCase['backward']),
  };
  bwd.call(o, b, c.info);
  const result: Record<string, Float32Array> = {};
  for (const k of ['output', 'hT', 'cT', 'hs', 'cs', 'gates', 'aux'] as const) if (f[k]) result[k] = f[k];
  for (const k of ['dx', 'dKernel', 'dRecurrentKernel', 'dBias', 'dh0', 'dc0'] as const) if (b[k]) result[k] = b[k];
  return result;
}

/**
 * Native against js: float rounding (and the native gate math's rational tanh, within 3e-7),
 * which compounds over the steps, and the weight gradients sum T*B terms, so the absolute
 * tolerance grows with those counts. (Measured: these cases pass at half these tolerances.)
 */
function compareRecurrent(n: Record<string, Float32Array>, j: Record<string, Float32Array>, c: RecurrentCase): void {
  const { batch: B, timesteps: T } = c.info;
  for (const [name, expected] of Object.entries(j)) {
    const grad = name.startsWith('d');
    const sums = name === 'dKernel' || name === 'dRecurrentKernel' || name === 'dBias';
    const atol = sums ? 1e-6 * B * T : grad ? 1e-6 * T : 1e-5 * T;
    assertClose(n[name]!, expected, `${c.what}: ${name}`, 1e-4, atol);
  }
}
