#!/usr/bin/env node
// Measures the native backend: GEMM against the raw cblas_sgemm call on the
// same arrays (the binding's overhead), and conv2d forward + both backward
// passes for the seed CNN's layers at batch 32 under each threading strategy.
// Usage: node bench/kernels.mjs [--quick]   (after building the package)
import { busy } from './busy.mjs';
import {
  createNativeBackend,
  getNumThreads,
  blasInfo,
  nativeAvailable,
  nativeUnavailableReason,
  nativeTesting,
  setNumThreads,
} from '../dist/index.js';

if (!nativeAvailable) {
  console.log(`native addon unavailable: ${nativeUnavailableReason}`);
  process.exit(0);
}
const quick = process.argv.includes('--quick');

/** Other processes share this machine: wait (up to maxWait ms) until it is quiet before measuring. */
function waitQuiet(maxWait = 180_000) {
  const end = Date.now() + maxWait;
  while (Date.now() < end) if (busy(300) < 0.1) return true;
  console.log('(machine still busy; measuring anyway)');
  return false;
}
const be = createNativeBackend();

/** Median milliseconds of fn over enough runs to fill ~budget ms (after a warm-up). */
function time(fn, budget = quick ? 150 : 600) {
  for (let i = 0; i < 3; i++) fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < 5 || (performance.now() - start < budget && samples.length < 500)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const rand = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const rows = [];

console.log(`OpenBLAS: ${blasInfo().config}; threads ${getNumThreads()}; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}`);
for (const n of [256, 512, 1024]) {
  const a = rand(n * n),
    b = rand(n * n),
    c = new Float32Array(n * n);
  const flop = 2 * n * n * n;
  // Alternate single calls of the two so both see the same machine state; medians.
  waitQuiet();
  const ours = [],
    raw = [];
  const reps = n >= 1024 ? (quick ? 10 : 40) : quick ? 50 : 200;
  for (let i = 0; i < 3; i++) {
    be.gemm(a, b, c, 1, n, n, n, false, false, 1, 0, n * n, n * n);
    nativeTesting.rawSgemm(a, b, c, n, n, n);
  }
  for (let i = 0; i < reps; i++) {
    let t0 = performance.now();
    be.gemm(a, b, c, 1, n, n, n, false, false, 1, 0, n * n, n * n);
    ours.push(performance.now() - t0);
    t0 = performance.now();
    nativeTesting.rawSgemm(a, b, c, n, n, n);
    raw.push(performance.now() - t0);
  }
  const median = (xs) => xs.sort((p, q) => p - q)[xs.length >> 1];
  const tOurs = median(ours),
    tRaw = median(raw);
  rows.push({
    op: `gemm ${n}`,
    'native ms': tOurs.toFixed(3),
    'raw cblas ms': tRaw.toFixed(3),
    'native GFLOP/s': (flop / tOurs / 1e6).toFixed(1),
    'raw GFLOP/s': (flop / tRaw / 1e6).toFixed(1),
    'native/raw': `${((tRaw / tOurs) * 100).toFixed(1)}%`,
  });
}
console.table(rows);

function convInfo(batch, h, w, cin, fh, fw, cout) {
  return {
    batch,
    inHeight: h,
    inWidth: w,
    inChannels: cin,
    outHeight: h - fh + 1,
    outWidth: w - fw + 1,
    outChannels: cout,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padLeft: 0,
  };
}
const convRows = [];
const threadCounts = quick ? [getNumThreads()] : [1, getNumThreads()];
const maxThreads = getNumThreads();
for (const [label, info] of [
  ['conv2 [32,13,13,32]*[3,3,32,64]', convInfo(32, 13, 13, 32, 3, 3, 64)],
  ['conv1 [32,28,28,1]*[3,3,1,32]', convInfo(32, 28, 28, 1, 3, 3, 32)],
]) {
  const xs = info.batch * info.inHeight * info.inWidth * info.inChannels;
  const fs = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const ys = info.batch * info.outHeight * info.outWidth * info.outChannels;
  const x = rand(xs),
    f = rand(fs),
    dy = rand(ys),
    y = new Float32Array(ys),
    dx = new Float32Array(xs),
    df = new Float32Array(fs);
  const flop = (2 * info.batch * info.outHeight * info.outWidth * info.outChannels * fs) / info.outChannels;
  for (const threads of threadCounts) {
    setNumThreads(threads);
    for (const strategy of threads > 1 ? ['batch', 'blas'] : ['blas']) {
      nativeTesting.setConvStrategy(strategy);
      waitQuiet();
      const fwd = time(() => be.conv2d(x, f, y, info));
      const bin = time(() => be.conv2dBackpropInput(dy, f, dx, info));
      const bfl = time(() => be.conv2dBackpropFilter(x, dy, df, info));
      const total = fwd + bin + bfl;
      convRows.push({
        layer: label,
        threads,
        strategy,
        'fwd ms': fwd.toFixed(2),
        'dInput ms': bin.toFixed(2),
        'dFilter ms': bfl.toFixed(2),
        'total ms': total.toFixed(2),
        'GFLOP/s': ((3 * flop) / total / 1e6).toFixed(1),
      });
    }
  }
}
setNumThreads(maxThreads);
nativeTesting.setConvStrategy('auto');
console.table(convRows);
