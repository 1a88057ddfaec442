// Quick single-threaded throughput check of the js backend's GEMM and conv2d.
// Run after building: `npx tsc -p tsconfig.build.json && node bench/kernels.mjs`.
import { createJsBackend } from '../dist/index.js';

const backend = createJsBackend();

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/**
 * Best wall time of fn in ms over `reps` runs after two warm-ups. The best,
 * not the median, because other processes on a shared machine only ever add
 * time; the median is printed alongside.
 */
function time(fn, reps) {
  fn();
  fn();
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  medians.push(times[Math.floor(times.length / 2)]);
  return times[0];
}
const medians = [];
const median = () => medians[medians.length - 1].toFixed(1);

// Let TurboFan optimise the kernels before anything is timed.
{
  const w = random(384 * 384), out = new Float32Array(384 * 384);
  for (let i = 0; i < 10; i++) backend.gemm(w, w, out, 1, 384, 384, 384, i % 2 === 0, i % 3 === 0, 1, 0, 0, 0);
}

for (const s of [256, 512, 1024]) {
  const a = random(s * s), b = random(s * s), c = new Float32Array(s * s);
  for (const [transA, transB] of [[false, false], [true, true]]) {
    const ms = time(() => backend.gemm(a, b, c, 1, s, s, s, transA, transB, 1, 0, 0, 0), s === 1024 ? 9 : 25);
    console.log(`gemm ${s}x${s}x${s}${transA ? ' transA' : ''}${transB ? ' transB' : ''}: best ${ms.toFixed(1)} ms (median ${median()}), ${((2 * s ** 3) / ms / 1e6).toFixed(2)} GFLOP/s`);
  }
}

const info = {
  batch: 32, inHeight: 13, inWidth: 13, inChannels: 32, outHeight: 11, outWidth: 11, outChannels: 64,
  filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padTop: 0, padLeft: 0,
};
const x = random(32 * 13 * 13 * 32), w = random(3 * 3 * 32 * 64), y = new Float32Array(32 * 11 * 11 * 64);
const dy = random(y.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
const flops = 2 * 32 * 11 * 11 * 64 * 3 * 3 * 32;
const fwd = time(() => backend.conv2d(x, w, y, info), 25);
const bin = time(() => backend.conv2dBackpropInput(dy, w, dx, info), 25);
const bfl = time(() => backend.conv2dBackpropFilter(x, dy, dw, info), 25);
const g = (ms) => `${ms.toFixed(1)} ms (${(flops / ms / 1e6).toFixed(2)} GFLOP/s)`;
console.log(`conv2d [32,13,13,32] * [3,3,32,64] valid: forward ${g(fwd)}, backprop input ${g(bin)}, backprop filter ${g(bfl)}, total ${(fwd + bin + bfl).toFixed(1)} ms`);
