// Throughput of the js backend's GEMM, conv2d and max pooling, single-threaded and on the worker pool.
// Run after building: `npx tsc -p tsconfig.build.json && node bench/kernels.mjs [--sweep]`.
//   --sweep   also times small GEMMs on 1 and N threads with the threshold off (finds the break-even)
import { availableParallelism } from 'node:os';
import { createJsBackend } from '../dist/index.js';

const threads = Number(process.env.AXON_NUM_THREADS) || availableParallelism();
const one = createJsBackend({ threads: 1 });
const many = createJsBackend({ threads });
const eager = createJsBackend({ threads, parallelThreshold: 0 });

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/**
 * Best wall time of fn in ms over `reps` runs after two warm-ups. The best,
 * not the median, because other processes on a shared machine only ever add
 * time; the median is returned alongside.
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
  return { best: times[0], median: times[Math.floor(times.length / 2)] };
}

/** Times fn(backend) on one thread and on `threads`, alternating the two so load affects both alike. */
function compare(fn, reps, backend = many) {
  const a = [],
    b = [];
  for (let round = 0; round < 3; round++) {
    a.push(time(() => fn(one), Math.ceil(reps / 3)));
    b.push(time(() => fn(backend), Math.ceil(reps / 3)));
  }
  const best = (ts) => ({ best: Math.min(...ts.map((t) => t.best)), median: ts.map((t) => t.median).sort((x, y) => x - y)[1] });
  return [best(a), best(b)];
}

const ms = (t) => t.toFixed(t < 10 ? 2 : 1);
const row = (name, flops, [s, m]) =>
  console.log(
    `${name.padEnd(50)} 1 thread ${ms(s.best).padStart(6)} ms (median ${ms(s.median)}, ${(flops / s.best / 1e6).toFixed(2)} GFLOP/s)` +
      ` | ${threads} threads ${ms(m.best).padStart(6)} ms (median ${ms(m.median)}, ${(flops / m.best / 1e6).toFixed(2)} GFLOP/s)` +
      ` | x${(s.best / m.best).toFixed(2)} (medians x${(s.median / m.median).toFixed(2)})`,
  );

// Let TurboFan optimise the kernels (here and in the workers) before anything is timed.
{
  const w = random(384 * 384),
    out = new Float32Array(384 * 384);
  for (let i = 0; i < 10; i++) {
    one.gemm(w, w, out, 1, 384, 384, 384, i % 2 === 0, i % 3 === 0, 1, 0, 0, 0);
    many.gemm(w, w, out, 1, 384, 384, 384, i % 2 === 0, i % 3 === 0, 1, 0, 0, 0);
  }
}

console.log(`${threads} threads (AXON_NUM_THREADS or one per core); best of N, alternating 1 thread and ${threads}`);
for (const s of [256, 512, 1024]) {
  const a = random(s * s),
    b = random(s * s),
    c = new Float32Array(s * s);
  for (const [transA, transB] of [
    [false, false],
    [true, true],
  ]) {
    const r = compare((be) => be.gemm(a, b, c, 1, s, s, s, transA, transB, 1, 0, 0, 0), s === 1024 ? 9 : 24);
    row(`gemm ${s}x${s}x${s}${transA ? ' transA' : ''}${transB ? ' transB' : ''}`, 2 * s ** 3, r);
  }
}

function conv(batch, size, cin, f, cout) {
  const out = size - f + 1;
  const info = {
    batch,
    inHeight: size,
    inWidth: size,
    inChannels: cin,
    outHeight: out,
    outWidth: out,
    outChannels: cout,
    filterHeight: f,
    filterWidth: f,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padLeft: 0,
  };
  const x = random(batch * size * size * cin),
    w = random(f * f * cin * cout),
    y = new Float32Array(batch * out * out * cout);
  const dy = random(y.length),
    dx = new Float32Array(x.length),
    dw = new Float32Array(w.length);
  const flops = 2 * batch * out * out * cout * f * f * cin;
  const name = `[${batch},${size},${size},${cin}] * [${f},${f},${cin},${cout}]`;
  const results = [
    ['forward', compare((be) => be.conv2d(x, w, y, info), 24)],
    ['backprop input', compare((be) => be.conv2dBackpropInput(dy, w, dx, info), 24)],
    ['backprop filter', compare((be) => be.conv2dBackpropFilter(x, dy, dw, info), 24)],
  ];
  for (const [what, r] of results) row(`conv2d ${name} ${what}`, flops, r);
  const sum = (i) => ({ best: results.reduce((t, [, r]) => t + r[i].best, 0), median: results.reduce((t, [, r]) => t + r[i].median, 0) });
  row(`conv2d ${name} all three`, 3 * flops, [sum(0), sum(1)]);
}
conv(32, 13, 32, 3, 64);
conv(32, 28, 1, 3, 32);

// The seed CNN's pooling layers (2×2, stride 2) at batch 32.
for (const [batch, size, channels] of [
  [32, 26, 32],
  [32, 11, 64],
]) {
  const out = Math.floor(size / 2);
  const info = {
    batch,
    inHeight: size,
    inWidth: size,
    channels,
    outHeight: out,
    outWidth: out,
    filterHeight: 2,
    filterWidth: 2,
    strideHeight: 2,
    strideWidth: 2,
    padTop: 0,
    padLeft: 0,
  };
  const x = random(batch * size * size * channels),
    y = new Float32Array(batch * out * out * channels),
    argmax = new Int32Array(y.length);
  // "GFLOP/s" here counts one op per window tap.
  row(
    `maxPool2d [${batch},${size},${size},${channels}] 2x2`,
    y.length * 4,
    compare((be) => be.maxPool2d(x, y, argmax, info), 60),
  );
}

if (process.argv.includes('--sweep')) {
  console.log('\nbreak-even: square GEMMs with the threshold off');
  for (const s of [32, 48, 64, 80, 96, 128, 160, 192]) {
    const a = random(s * s),
      b = random(s * s),
      c = new Float32Array(s * s);
    row(
      `gemm ${s}^3 = ${(s ** 3 / 1e6).toFixed(2)}M multiply-adds`,
      2 * s ** 3,
      compare((be) => be.gemm(a, b, c, 1, s, s, s, false, false, 1, 0, 0, 0), 300, eager),
    );
  }
}
