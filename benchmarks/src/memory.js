/**
 * Memory of training: the seed CNN on the Fashion-MNIST training set (60,000
 * images; synthetic data of the same size when the data set is absent), batch
 * 32, for several epochs in a fresh process, sampling the resident set size
 * after every batch. Reports each epoch's peak RSS minus the data set's own
 * bytes, and how flat that stays across epochs (recycled buffers: no growth).
 *
 *   node src/memory.js [--epochs N] [--backend native|js] [--quick]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as axon from '@axon/tensor';
import '@axon/kernels-native';
import { seedCnn } from './seed-models.js';
import { loadFashionMnist } from '@axon/data';
import { fmt, printTable } from './harness.js';

const MB = 1024 * 1024;

/** Trains in this process and prints one JSON line: per-epoch peak RSS, data bytes, samples/s. */
async function child(epochs, backend, limit) {
  axon.setBackend(backend);
  axon.setSeed(1);
  let x;
  let y;
  let source = 'Fashion-MNIST';
  try {
    ({
      train: { x, y },
    } = loadFashionMnist({ trainLimit: limit, testLimit: 1 }));
  } catch {
    source = 'synthetic (Fashion-MNIST not found)';
    const n = limit ?? 60000;
    x = axon.randomUniform([n, 28, 28, 1]);
    y = axon.tensor(
      Int32Array.from({ length: n }, (_, i) => i % 10),
      [n],
      'int32',
    );
  }
  const dataBytes = (x.size + y.size) * 4;
  // The loader's temporary buffers (decompressed files) are not the data set: collect them first.
  globalThis.gc?.();
  const beforeFit = process.memoryUsage().rss;
  const model = seedCnn();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const peaks = [];
  let peak = 0;
  const started = performance.now();
  await model.fit(x, y, {
    epochs,
    batchSize: 32,
    verbose: 0,
    callbacks: {
      onEpochBegin: () => {
        peak = process.memoryUsage().rss;
      },
      onBatchEnd: () => {
        peak = Math.max(peak, process.memoryUsage().rss);
      },
      onEpochEnd: () => {
        peaks.push(peak);
      },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      source,
      backend,
      samples: x.shape[0],
      dataBytes,
      beforeFit,
      peaks,
      samplesPerSecond: (x.shape[0] * epochs) / seconds,
      pool: axon.memoryInfo(),
    }),
  );
}

export function runMemoryBenchmark({ epochs = 10, backend = 'native', limit } = {}) {
  const script = fileURLToPath(import.meta.url);
  const args = [
    '--expose-gc',
    script,
    '--child',
    '--epochs',
    String(epochs),
    '--backend',
    backend,
    ...(limit ? ['--limit', String(limit)] : []),
  ];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20, env: process.env });
  if (run.status !== 0) {
    console.log(`\nmemory benchmark failed: ${(run.stderr || run.stdout).trim().split('\n').pop()}`);
    return null;
  }
  const r = JSON.parse(run.stdout.trim().split('\n').pop());
  const beyondData = r.peaks.map((p) => (p - r.dataBytes) / MB);
  const rows = beyondData.map((mb, epoch) => ({ epoch: epoch + 1, rss: r.peaks[epoch] / MB, beyond: mb }));
  const spread = (Math.max(...beyondData) - Math.min(...beyondData)) / Math.min(...beyondData);
  printTable(
    `Peak RSS per epoch, seed CNN on ${r.samples} samples (${r.source}), batch 32, ${r.backend}: data set ${fmt(r.dataBytes / MB, 0)} MB, ` +
      `RSS before fit ${fmt(r.beforeFit / MB, 0)} MB; ` +
      `spread over epochs ${fmt(100 * spread, 1)}%; ${fmt(r.samplesPerSecond, 0)} samples/s`,
    [
      { key: 'epoch', title: 'epoch' },
      { key: 'rss', title: 'peak RSS MB', format: (v) => fmt(v, 1) },
      { key: 'beyond', title: 'minus data MB', format: (v) => fmt(v, 1) },
    ],
    rows,
  );
  return { ...r, beyondDataMB: beyondData, spread };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean' },
      epochs: { type: 'string' },
      backend: { type: 'string' },
      limit: { type: 'string' },
      quick: { type: 'boolean' },
    },
  });
  const epochs = Number(values.epochs ?? (values.quick ? 2 : 10));
  const backend = values.backend ?? axon.listBackends()[0] ?? 'js';
  const limit = values.limit ? Number(values.limit) : values.quick ? 4000 : undefined;
  if (values.child) await child(epochs, backend, limit);
  else runMemoryBenchmark({ epochs, backend, limit });
}
