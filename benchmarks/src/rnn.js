/**
 * Recurrent training steps: the seed's model, RNN(64, returnSequences) →
 * RNN(64) → Dense(10, softmax) on [batch, 28, 28] (Fashion-MNIST rows as
 * timesteps), Adam and categorical cross-entropy, for LSTM and GRU at batch
 * 32 and 128, on every Axon backend, side by side with tfjs-layers on
 * tfjs-backend-cpu and, when `/usr/bin/python3 -c 'import torch'` works,
 * PyTorch CPU (benchmarks/torch_rnn.py: 2 threads, OPENBLAS_NUM_THREADS=1).
 *
 * One step = model.trainOnBatch(x, y) (forward, backward, Adam update) on a
 * fixed random batch. The GRU runs with resetAfter: false in Axon because
 * that is the only GRU tfjs-layers has (PyTorch's is the reset-after form;
 * the cost is the same).
 *
 *   node src/rnn.js [--quick]      (also run by src/run.js as part of `pnpm bench`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as axon from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { dense } from '@axon/layers';
import { gru, lstm } from '@axon/recurrent';
import { sequential } from '@axon/models';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { fmt, printTable, randomArray, timeIt, torchPython } from './harness.js';

const quick = process.argv.includes('--quick');
const CONFIGS = quick
  ? [{ cell: 'LSTM', batch: 32 }]
  : [
      { cell: 'LSTM', batch: 32 },
      { cell: 'LSTM', batch: 128 },
      { cell: 'GRU', batch: 32 },
      { cell: 'GRU', batch: 128 },
    ];
const STEPS = 28;
const FEATURES = 28;
const UNITS = 64;
const CLASSES = 10;

function batchData(batch) {
  const x = randomArray(batch * STEPS * FEATURES, 7).map((v) => (v + 1) / 2);
  const y = new Float32Array(batch * CLASSES);
  for (let i = 0; i < batch; i++) y[i * CLASSES + (i % CLASSES)] = 1;
  return { x, y };
}

async function axonStep(backend, cell, batch) {
  const previous = axon.getBackend().name;
  axon.setBackend(backend);
  try {
    axon.setSeed(1);
    const rnn = cell === 'LSTM' ? lstm : (args) => gru({ ...args, resetAfter: false });
    const model = sequential([
      rnn({ units: UNITS, returnSequences: true, inputShape: [STEPS, FEATURES] }),
      rnn({ units: UNITS }),
      dense({ units: CLASSES, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const { x, y } = batchData(batch);
    const xs = axon.tensor(x, [batch, STEPS, FEATURES]);
    const ys = axon.tensor(y, [batch, CLASSES]);
    return await timeIt(() => model.trainOnBatch(xs, ys), { budgetMs: quick ? 500 : 2000, minReps: 3, warmup: 2 });
  } finally {
    axon.setBackend(previous);
  }
}

async function tfjsStep(cell, batch) {
  // tfjs' defaults differ from Keras 2 (hardSigmoid gates, orthogonal init needing linalg ops); use Keras' gates.
  const options = { units: UNITS, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' };
  const rnn = cell === 'LSTM' ? tfl.layers.lstm : tfl.layers.gru;
  const model = tfl.sequential({
    layers: [
      rnn({ ...options, returnSequences: true, inputShape: [STEPS, FEATURES] }),
      rnn(options),
      tfl.layers.dense({ units: CLASSES, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const { x, y } = batchData(batch);
  const xs = tf.tensor3d(x, [batch, STEPS, FEATURES]);
  const ys = tf.tensor2d(y, [batch, CLASSES]);
  // Seconds per step at batch 128: few repetitions.
  return timeIt(() => model.trainOnBatch(xs, ys), { budgetMs: quick ? 0 : 4000, minReps: quick ? 1 : 2, maxReps: 5, warmup: 1 });
}

/** PyTorch's median ms per config, or null when torch is not importable. */
function torchSteps(configs) {
  const python = torchPython();
  if (!python) return null;
  const script = fileURLToPath(new URL('../torch_rnn.py', import.meta.url));
  const run = spawnSync(
    python,
    [script, '--configs', configs.map((c) => `${c.cell}:${c.batch}`).join(','), '--budget', quick ? '0.5' : '2', '--threads', '2'],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' } },
  );
  if (run.status !== 0) {
    console.log(`\nPyTorch: failed (${(run.stderr || '').trim().split('\n').pop()})`);
    return null;
  }
  const results = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  return { version: results[0]?.torch, ms: new Map(results.map((r) => [`${r.cell}:${r.batch}`, r.ms])) };
}

export async function runRnnBenchmarks() {
  await tf.setBackend('cpu');
  const backends = axon.listBackends().filter((n) => n === 'js' || n === 'native');
  const torch = torchSteps(CONFIGS);
  const rows = [];
  for (const { cell, batch } of CONFIGS) {
    const row = { model: `${cell} seed`, batch };
    for (const name of backends) row[name] = await axonStep(name, cell, batch);
    row.tfjs = await tfjsStep(cell, batch);
    row.torch = torch?.ms.get(`${cell}:${batch}`) ?? null;
    row.best = Math.min(...backends.map((n) => row[n]));
    row.bestBackend = backends.find((n) => row[n] === row.best);
    rows.push(row);
  }
  const perSecond = (ms, r) => fmt((1000 * r.batch) / ms, 0);
  const columns = [
    { key: 'model', title: 'model' },
    { key: 'batch', title: 'batch' },
    ...backends.map((n) => ({ key: n, title: `axon ${n} ms`, format: (v) => fmt(v) })),
    { key: 'tfjs', title: 'tfjs-cpu ms', format: (v) => fmt(v) },
    ...(torch ? [{ key: 'torch', title: 'torch ms', format: (v) => fmt(v) }] : []),
    { key: 'best', title: 'axon samples/s', format: perSecond },
    { key: 'tfjs', title: 'tfjs samples/s', format: perSecond },
    { key: 'best', title: 'tfjs/axon', format: (v, r) => `${fmt(r.tfjs / v, 1)}x` },
    ...(torch ? [{ key: 'best', title: 'torch/axon', format: (v, r) => (r.torch ? `${fmt(r.torch / v, 2)}x` : '-') }] : []),
  ];
  printTable(
    "RNN training step: RNN(64, seq) → RNN(64) → Dense(10) on [batch, 28, 28], Adam (median ms; ratios > 1x mean Axon's fastest backend is faster)" +
      (torch ? `; PyTorch ${torch.version}, 2 threads` : ''),
    columns,
    rows,
  );
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runRnnBenchmarks();
}
