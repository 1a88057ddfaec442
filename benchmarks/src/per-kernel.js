/**
 * Every kernel both CPU backends implement, at the sizes the seed models give
 * it, timed on 'js' and on 'native' side by side (best of interleaved rounds):
 * the measurement behind which kernels the native addon implements and which
 * it leaves to 'js' (kernels-native README, "Kernels it leaves to js").
 *
 *   node src/per-kernel.js
 */
import { fileURLToPath } from 'node:url';
import { createJsBackend } from '@axon/kernels-js';
import { createNativeBackend, nativeAvailable } from '@axon/kernels-native';
import { KERNEL_NAMES } from '@axon/tensor';
import { fmt, printTable, randomArray } from './harness.js';

const f32 = (n, seed = 1) => randomArray(n, seed);
const pool = (h, c, b = 32) => ({
  batch: b,
  inHeight: h,
  inWidth: h,
  channels: c,
  outHeight: h >> 1,
  outWidth: h >> 1,
  filterHeight: 2,
  filterWidth: 2,
  strideHeight: 2,
  strideWidth: 2,
  padTop: 0,
  padLeft: 0,
});

/** One representative call per kernel: the largest the seed CNN/LSTM make at batch 32. */
function cases() {
  const conv1 = 32 * 26 * 26 * 32;
  const x = f32(conv1),
    y = new Float32Array(conv1),
    dy = f32(conv1, 2);
  const logits = f32(32 * 10),
    probs = new Float32Array(32 * 10);
  const labels = Int32Array.from({ length: 32 }, (_, i) => i % 10);
  const p1 = pool(26, 32);
  const pooled = 32 * 13 * 13 * 32,
    argmax = new Int32Array(pooled),
    dyPool = f32(pooled, 3);
  const params = 1600 * 128,
    w = f32(params),
    g = f32(params, 4),
    m = new Float32Array(params),
    v = new Float32Array(params);
  const seq = f32(32 * 28 * 64),
    seqT = new Float32Array(32 * 28 * 64);
  const ints = new Int32Array(conv1);
  return [
    ['fill', (b) => b.fill(y, 0)],
    ['cast', (b) => b.cast(x, 'float32', ints, 'int32')],
    ['unary', (b) => b.unary('exp', x, y)],
    ['binary', (b) => b.binary('mul', x, [conv1], dy, [conv1], y, [conv1])],
    ['select', (b) => b.select(x, [conv1], dy, [conv1], x, [conv1], y, [conv1])],
    ['reduce', (b) => b.reduce('sum', x, new Float32Array(32), 1, 21632, 32)],
    ['argReduce', (b) => b.argReduce('max', logits, new Int32Array(32), 32, 10, 1)],
    ['softmax', (b) => b.softmax(logits, probs, 32, 10, 1, false)],
    ['transpose', (b) => b.transpose(seq, [32, 28, 64], [1, 0, 2], seqT)],
    ['slice', (b) => b.slice(seq, [32, 28, 64], [0, 27, 0], [32, 1, 64], new Float32Array(32 * 64))],
    ['pad', (b) => b.pad(seq, [32, 28, 64], [0, 1, 0], [0, 0, 0], 0, new Float32Array(32 * 29 * 64))],
    ['concat', (b) => b.concat([seq, seq], [28, 28], 32, 64, new Float32Array(2 * seq.length))],
    ['gather', (b) => b.gather(x, labels, new Float32Array(32 * 21632), 1, 32, 21632)],
    ['scatterAdd', (b) => b.scatterAdd(dy.subarray(0, 32 * 21632), labels, y, 1, 32, 21632)],
    ['oneHot', (b) => b.oneHot(labels, 10, 1, 0, probs)],
    ['maxPool2d', (b) => b.maxPool2d(x, new Float32Array(pooled), argmax, p1)],
    ['maxPool2dBackprop', (b) => b.maxPool2dBackprop(dyPool, argmax, y, p1)],
    ['avgPool2d', (b) => b.avgPool2d(x, new Float32Array(pooled), p1)],
    ['avgPool2dBackprop', (b) => b.avgPool2dBackprop(dyPool, y, p1)],
    ['biasActivation', (b) => b.biasActivation(x, f32(32), y, 21632, 32, 'relu')],
    ['biasActivationGrad', (b) => b.biasActivationGrad(x, dy, y, new Float32Array(32), 21632, 32, 'relu')],
    ['sgdUpdate', (b) => b.sgdUpdate(w, g, m, { lr: 0.01, momentum: 0.9, nesterov: false })],
    ['adamUpdate', (b) => b.adamUpdate(w, g, m, v, { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, weightDecay: 0 })],
    ['rmspropUpdate', (b) => b.rmspropUpdate(w, g, m, null, null, { lr: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false })],
  ];
}

function best(fn, ms = 150) {
  for (let i = 0; i < 3; i++) fn();
  let bestMs = Infinity;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return bestMs;
}

export function runPerKernel() {
  if (!nativeAvailable) return null;
  const js = createJsBackend();
  const native = createNativeBackend();
  const rows = [];
  for (const [kernel, call] of cases()) {
    const row = { kernel, js: Infinity, native: Infinity, inNative: typeof native[kernel] === 'function' };
    for (let round = 0; round < 3; round++) {
      row.js = Math.min(
        row.js,
        best(() => call(js)),
      );
      if (row.inNative)
        row.native = Math.min(
          row.native,
          best(() => call(native)),
        );
    }
    rows.push(row);
  }
  const untimed = KERNEL_NAMES.filter((k) => !rows.some((r) => r.kernel === k));
  printTable(
    `Per kernel at the seed models' sizes (best ms; batch 32). Timed elsewhere: ${untimed.join(', ')}`,
    [
      { key: 'kernel', title: 'kernel' },
      { key: 'js', title: 'js ms', format: (v) => fmt(v, 3) },
      { key: 'native', title: 'native ms', format: (v, r) => (r.inNative ? fmt(v, 3) : '(js serves)') },
      { key: 'native', title: 'js/native', format: (v, r) => (r.inNative ? `${fmt(r.js / v, 1)}x` : '-') },
    ],
    rows,
  );
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runPerKernel();
