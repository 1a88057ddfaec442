/**
 * The seed models end to end, side by side with PyTorch CPU in one run:
 * the CNN (Conv2D 32 > MaxPool > Conv2D 64 > MaxPool > Dense 128 > Dense 10 on
 * [B, 28, 28, 1]) and the LSTM (LSTM 64 seq > LSTM 64 > Dense 10 on [B, 28, 28]),
 * a training step (trainOnBatch: forward, backward, Adam) at batch 32 and 128,
 * and prediction (predictOnBatch) at batch 256.
 *
 * PyTorch's speed on this shared machine swings by several times between runs,
 * so the runners are interleaved: every round times each workload on each Axon
 * backend and in a persistent PyTorch worker (torch_models.py, 2 threads), one
 * right after the other, and a runner's figure is its best round (each round
 * reports the median step). Each workload is also given as GFLOP/s and as a
 * share of raw cblas_sgemm measured in the same process (1024³, best of rounds).
 *
 *   node src/models.js [--quick]      (also run by src/run.js as part of `pnpm bench`)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as axon from '@axon/tensor';
import '@axon/kernels-js';
import * as nativePkg from '@axon/kernels-native';
import { seedCnn, seedLstm } from './seed-models.js';
import { fmt, printTable, randomArray, timeIt, torchPython } from './harness.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const BUDGET_MS = quick ? 400 : 2000;

/** The targets (samples/s), for the table. */
const WORKLOADS = [
  { model: 'cnn', mode: 'train', batch: 32, target: { native: 8000, js: 600 } },
  { model: 'cnn', mode: 'train', batch: 128, target: { native: 10000 } },
  { model: 'lstm', mode: 'train', batch: 32, target: { native: 6000, js: 600 } },
  { model: 'lstm', mode: 'train', batch: 128, target: { native: 9000 } },
  { model: 'cnn', mode: 'predict', batch: 256, target: { native: 18000 } },
  { model: 'lstm', mode: 'predict', batch: 256, target: { native: 30000 } },
];

/** Multiply-adds x2 of one step (backward = 2 forward GEMMs per layer, minus the first conv's dInput). */
function flopsPerStep({ model, mode, batch: B }) {
  if (model === 'cnn') {
    const conv1 = 2 * B * 26 * 26 * 32 * 9;
    const conv2 = 2 * B * 11 * 11 * 64 * 288;
    const dense1 = 2 * B * 1600 * 128;
    const dense2 = 2 * B * 128 * 10;
    return mode === 'predict' ? conv1 + conv2 + dense1 + dense2 : 2 * conv1 + 3 * (conv2 + dense1 + dense2);
  }
  const layer = (inputs) => 2 * B * 28 * 4 * 64 * (inputs + 64);
  const forward = layer(28) + layer(64) + 2 * B * 64 * 10;
  return mode === 'predict' ? forward : 3 * forward;
}

/** A function running one step of the workload on `backend` (built once, reused every round). */
function axonWorkload(backend, w) {
  axon.setBackend(backend);
  axon.setSeed(1);
  const model = w.model === 'cnn' ? seedCnn() : seedLstm();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const shape = w.model === 'cnn' ? [w.batch, 28, 28, 1] : [w.batch, 28, 28];
  const x = axon.tensor(
    randomArray(w.batch * 784, 3).map((v) => (v + 1) / 2),
    shape,
  );
  const y = axon.tensor(
    Int32Array.from({ length: w.batch }, (_, i) => i % 10),
    [w.batch],
    'int32',
  );
  return w.mode === 'train' ? () => model.trainOnBatch(x, y) : () => model.predictOnBatch(x);
}

async function timeAxon(backend, step) {
  axon.setBackend(backend);
  return timeIt(step, { budgetMs: BUDGET_MS, minReps: 3, maxReps: 2000, warmup: 3 });
}

/** The PyTorch worker, or null when /usr/bin/python3 has no torch. */
async function startTorch() {
  const python = torchPython();
  if (!python) return null;
  const script = fileURLToPath(new URL('../torch_models.py', import.meta.url));
  const child = spawn(python, [script, '2'], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  const hello = await next();
  return {
    version: hello.torch,
    async time(w) {
      child.stdin.write(`${JSON.stringify({ model: w.model, mode: w.mode, batch: w.batch, budget: BUDGET_MS / 1000 })}\n`);
      return (await next()).ms;
    },
    stop() {
      child.stdin.end();
    },
  };
}

function rawSgemmGflops() {
  if (!nativePkg.nativeAvailable) return null;
  const n = 1024;
  const a = randomArray(n * n, 1),
    b = randomArray(n * n, 2),
    c = new Float32Array(n * n);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    nativePkg.nativeTesting.rawSgemm(a, b, c, n, n, n);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * n ** 3) / best / 1e6;
}

export async function runModelBenchmarks() {
  const backends = axon.listBackends().filter((n) => n === 'native' || n === 'js');
  const previous = axon.getBackend().name;
  const torch = await startTorch();
  const steps = new Map();
  const best = new Map();
  const keep = (key, ms) => best.set(key, Math.min(best.get(key) ?? Infinity, ms));
  let sgemm = 0;
  for (let round = 0; round < ROUNDS; round++) {
    sgemm = Math.max(sgemm, rawSgemmGflops() ?? 0);
    for (const w of WORKLOADS) {
      const id = `${w.model} ${w.mode} b${w.batch}`;
      for (const backend of backends) {
        // The js backend takes seconds per large step: only the workloads with a js target.
        if (backend === 'js' && !w.target.js) continue;
        const key = `${id} ${backend}`;
        if (!steps.has(key)) steps.set(key, axonWorkload(backend, w));
        keep(key, await timeAxon(backend, steps.get(key)));
      }
      if (torch) keep(`${id} torch`, await torch.time(w));
    }
  }
  torch?.stop();
  axon.setBackend(previous);
  const rows = WORKLOADS.map((w) => {
    const id = `${w.model} ${w.mode} b${w.batch}`;
    const row = { workload: id, flop: flopsPerStep(w), batch: w.batch, target: w.target };
    for (const r of [...backends, 'torch']) row[r] = best.get(`${id} ${r}`) ?? null;
    return row;
  });
  const perSecond = (ms, r) => (ms ? fmt((1000 * r.batch) / ms, 0) : '-');
  const columns = [
    { key: 'workload', title: 'workload' },
    ...backends.map((n) => ({ key: n, title: `axon ${n} samples/s`, format: perSecond })),
    ...(torch ? [{ key: 'torch', title: 'torch samples/s', format: perSecond }] : []),
    ...(torch && backends.includes('native')
      ? [{ key: 'native', title: 'native/torch', format: (v, r) => (v && r.torch ? `${fmt(r.torch / v, 2)}x` : '-') }]
      : []),
    ...backends.map((n) => ({ key: n, title: `${n} target`, format: (_v, r) => (r.target[n] ? String(r.target[n]) : '-') })),
    ...(backends.includes('native')
      ? [
          { key: 'native', title: 'native GFLOP/s', format: (v, r) => (v ? fmt(r.flop / v / 1e6, 0) : '-') },
          { key: 'native', title: 'of sgemm', format: (v, r) => (v && sgemm ? `${fmt((100 * r.flop) / v / 1e6 / sgemm, 0)}%` : '-') },
        ]
      : []),
  ];
  printTable(
    `Seed models (best of ${ROUNDS} interleaved rounds of median steps; samples/s)` +
      (torch ? `; PyTorch ${torch.version}, 2 threads` : '') +
      (sgemm ? `; raw cblas_sgemm 1024³: ${fmt(sgemm, 0)} GFLOP/s` : ''),
    columns,
    rows,
  );
  return { rows, sgemmGflops: sgemm, torch: torch?.version ?? null };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runModelBenchmarks();
}
