#!/usr/bin/env node
// Does OpenBLAS's thread pool get in the way of ours? Times a threaded
// element-wise kernel alone and right after a multi-threaded sgemm, and the
// per-call cost of switching BLAS to one thread (small convs, BlasSerial).
import { createNativeBackend, nativeTesting } from '../dist/index.js';

const be = createNativeBackend();
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = 1 << 20;
const x = Float32Array.from({ length: n }, () => Math.random() * 2 - 1),
  y = new Float32Array(n);
const N = 512,
  a = new Float32Array(N * N).fill(0.5),
  b = new Float32Array(N * N).fill(0.5),
  c = new Float32Array(N * N);

const alone = [],
  after = [],
  gemmT = [];
for (let r = 0; r < 60; r++) {
  let t0 = performance.now();
  be.unary('tanh', x, y);
  alone.push(performance.now() - t0);
  t0 = performance.now();
  be.gemm(a, b, c, 1, N, N, N, false, false, 1, 0, 0, 0);
  const t1 = performance.now();
  be.unary('tanh', x, y);
  after.push(performance.now() - t1);
  gemmT.push(t1 - t0);
}
console.log(
  `tanh 1M alone ${median(alone).toFixed(3)} ms; right after a threaded sgemm ${median(after).toFixed(3)} ms (sgemm ${median(gemmT).toFixed(3)} ms)`,
);

const info = {
  batch: 4,
  inHeight: 8,
  inWidth: 8,
  inChannels: 8,
  outHeight: 6,
  outWidth: 6,
  outChannels: 8,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  dilationHeight: 1,
  dilationWidth: 1,
  padTop: 0,
  padLeft: 0,
};
const cx = new Float32Array(4 * 64 * 8).fill(1),
  cf = new Float32Array(9 * 64).fill(1),
  cy = new Float32Array(4 * 36 * 8);
for (const s of ['batch', 'blas']) {
  nativeTesting.setConvStrategy(s);
  const ts = [];
  for (let r = 0; r < 2000; r++) {
    const t0 = performance.now();
    be.conv2d(cx, cf, cy, info);
    ts.push(performance.now() - t0);
  }
  console.log(`small conv (strategy ${s}): ${(median(ts) * 1000).toFixed(1)} µs`);
}
nativeTesting.setConvStrategy('auto');
