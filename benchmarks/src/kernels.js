/**
 * Kernel microbenchmarks: matmul and the seed CNN's conv2d layers (forward plus
 * both backward passes) on every Axon backend, side by side with TensorFlow.js'
 * CPU backend, in one run. Axon is timed through its public ops (allocation
 * and autograd included), tfjs through its own.
 */
import * as axon from '@axon/tensor';
import '@axon/kernels-js';
import * as nativePkg from '@axon/kernels-native';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core registers no gradients by itself; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import { fmt, printTable, randomArray, timeIt } from './harness.js';

const quick = process.argv.includes('--quick');

const matmulSizes = quick ? [256] : [256, 512, 1024];
/** The seed CNN's two conv layers at batch 32 (DESIGN.md). */
const convShapes = [
  { name: 'conv1 [32,28,28,1]*[3,3,1,32]', x: [32, 28, 28, 1], f: [3, 3, 1, 32] },
  { name: 'conv2 [32,13,13,32]*[3,3,32,64]', x: [32, 13, 13, 32], f: [3, 3, 32, 64] },
];

function convFlops(x, f) {
  const [n, h, w] = x;
  const [kh, kw, cin, cout] = f;
  const outputs = n * (h - kh + 1) * (w - kw + 1) * cout;
  return 3 * 2 * outputs * kh * kw * cin; // forward + dInput + dFilter
}

/**
 * The matmul op (allocation from the pool, dispatch, autograd bookkeeping) and,
 * interleaved with it, the active backend's gemm kernel alone on the same arrays
 * and a preallocated output: best median of three rounds each. The results are
 * dropped as user code drops them, in a plain loop.
 */
async function axonMatmul(size) {
  const a = axon.tensor(randomArray(size * size, 1), [size, size]);
  const b = axon.tensor(randomArray(size * size, 2), [size, size]);
  const backend = axon.getBackend();
  const c = new Float32Array(size * size);
  const av = a.dataSync();
  const bv = b.dataSync();
  let op = Infinity;
  let kernel = Infinity;
  for (let round = 0; round < 3; round++) {
    op = Math.min(op, await timeIt(() => axon.matmul(a, b), { budgetMs: 700, maxReps: 400 }));
    kernel = Math.min(
      kernel,
      await timeIt(() => backend.gemm(av, bv, c, 1, size, size, size, false, false, 1, 0, 0, 0), { budgetMs: 700, maxReps: 400 }),
    );
  }
  return { op, kernel };
}

async function axonConv(shape) {
  const x = axon.tensor(
    randomArray(
      shape.x.reduce((p, d) => p * d),
      3,
    ),
    shape.x,
  );
  const f = axon.tensor(
    randomArray(
      shape.f.reduce((p, d) => p * d),
      4,
    ),
    shape.f,
  );
  return timeIt(() => axon.valueAndGrads(() => axon.sum(axon.conv2d(x, f, 1, 'valid')), [x, f]));
}

async function tfjsMatmul(size) {
  const a = tf.tensor2d(randomArray(size * size, 1), [size, size]);
  const b = tf.tensor2d(randomArray(size * size, 2), [size, size]);
  return timeIt(() => tf.tidy(() => tf.matMul(a, b).dataSync()), { budgetMs: 3000, minReps: size >= 1024 ? 2 : 3, warmup: 1 });
}

async function tfjsConv(shape) {
  const x = tf.tensor4d(
    randomArray(
      shape.x.reduce((p, d) => p * d),
      3,
    ),
    shape.x,
  );
  const f = tf.tensor4d(
    randomArray(
      shape.f.reduce((p, d) => p * d),
      4,
    ),
    shape.f,
  );
  const g = tf.grads((a, b) => tf.sum(tf.conv2d(a, b, 1, 'valid')));
  // tfjs-backend-cpu takes seconds here: one timed run after one warm-up.
  return timeIt(() => tf.tidy(() => g([x, f]).forEach((t) => t.dataSync())), { budgetMs: 0, minReps: 1, warmup: 1 });
}

async function rawSgemm(size) {
  const a = randomArray(size * size, 1);
  const b = randomArray(size * size, 2);
  const c = new Float32Array(size * size);
  return timeIt(() => nativePkg.nativeTesting.rawSgemm(a, b, c, size, size, size));
}

/** Runs an async benchmark with `name` active (withBackend would restore before the promise settles). */
export async function onBackend(name, fn) {
  const previous = axon.getBackend().name;
  axon.setBackend(name);
  try {
    return await fn();
  } finally {
    axon.setBackend(previous);
  }
}

export async function runKernelBenchmarks() {
  await tf.setBackend('cpu');
  const backends = axon.listBackends().filter((n) => n === 'js' || n === 'native');
  const rows = [];
  for (const size of matmulSizes) {
    const row = { op: 'matmul', shape: `${size}x${size}x${size}`, flop: 2 * size ** 3 };
    for (const name of backends) {
      const { op, kernel } = await onBackend(name, () => axonMatmul(size));
      row[name] = op;
      row[`${name}Kernel`] = kernel;
    }
    if (nativePkg.nativeAvailable) row.rawBlas = await rawSgemm(size);
    row.tfjs = await tfjsMatmul(size);
    rows.push(row);
  }
  for (const shape of quick ? convShapes.slice(0, 1) : convShapes) {
    const row = { op: 'conv2d fwd+bwd', shape: shape.name, flop: convFlops(shape.x, shape.f) };
    for (const name of backends) row[name] = await onBackend(name, () => axonConv(shape));
    row.tfjs = await tfjsConv(shape);
    rows.push(row);
  }
  const columns = [
    { key: 'op', title: 'op' },
    { key: 'shape', title: 'shape' },
    ...backends.map((n) => ({ key: n, title: `axon ${n} ms`, format: (v) => fmt(v) })),
    ...(nativePkg.nativeAvailable ? [{ key: 'rawBlas', title: 'raw sgemm ms', format: (v) => fmt(v) }] : []),
    { key: 'tfjs', title: 'tfjs-cpu ms', format: (v) => fmt(v) },
    ...backends.map((n) => ({ key: n, title: `tfjs/${n}`, format: (v, r) => `${fmt(r.tfjs / v, 1)}x` })),
    ...(nativePkg.nativeAvailable
      ? [{ key: 'native', title: 'native/raw', format: (v, r) => (r.rawBlas ? `${fmt((100 * r.rawBlas) / v, 0)}%` : '-') }]
      : []),
    ...backends.map((n) => ({
      key: n,
      title: `${n} op/kernel`,
      format: (v, r) => (r[`${n}Kernel`] ? `${fmt(r[`${n}Kernel`] / v, 2)}x` : '-'),
    })),
    ...backends.map((n) => ({ key: n, title: `${n} GFLOP/s`, format: (v, r) => fmt(r.flop / v / 1e6, 1) })),
  ];
  printTable('Kernels (median ms; ratios > 1x mean Axon is faster; native/raw = share of raw OpenBLAS speed)', columns, rows);
  return rows;
}
