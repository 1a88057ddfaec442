/**
 * Where a training step's time goes: wraps every kernel of the active backend
 * (and of the backend it falls back to) with a timer, runs the seed model's
 * trainOnBatch many times, and prints the time per step in each kernel (unary,
 * binary and reduce split by op) and what is left outside kernels (the op
 * layer, autograd, the training loop, allocation).
 *
 *   node src/profile.js [--backend native|js] [--model cnn|lstm] [--batch 32] [--steps 100] [--predict]
 */
import { parseArgs } from 'node:util';
import * as axon from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { seedCnn, seedLstm } from './seed-models.js';
import { randomArray } from './harness.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    model: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    predict: { type: 'boolean' },
  },
});
const backendName = values.backend ?? axon.listBackends()[0];
const which = values.model ?? 'cnn';
const batch = Number(values.batch ?? 32);
const steps = Number(values.steps ?? 100);

const stats = new Map();
/** Replaces each kernel of every registered backend by a timed wrapper (before the dispatcher binds them). */
for (const name of axon.listBackends()) {
  const backend = axon.setBackend(name);
  for (const kernel of axon.KERNEL_NAMES) {
    const f = backend[kernel];
    if (typeof f !== 'function') continue;
    backend[kernel] = (...args) => {
      const t0 = performance.now();
      try {
        return f.apply(backend, args);
      } finally {
        const op =
          kernel === 'unary' || kernel === 'binary' || kernel === 'reduce'
            ? `${kernel} ${args[0]}`
            : kernel === 'biasActivation'
              ? `${kernel} ${args[5]}`
              : kernel === 'biasActivationGrad'
                ? `${kernel} ${args[6]}`
                : kernel;
        const key = `${op} (${name})`;
        const s = stats.get(key) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - t0;
        stats.set(key, s);
      }
    };
  }
}
axon.setBackend(backendName);
axon.setSeed(1);

const model = which === 'cnn' ? seedCnn() : seedLstm();
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
const x = axon.tensor(
  randomArray(batch * 784, 3).map((v) => (v + 1) / 2),
  which === 'cnn' ? [batch, 28, 28, 1] : [batch, 28, 28],
);
const y = axon.tensor(
  Int32Array.from({ length: batch }, (_, i) => i % 10),
  [batch],
  'int32',
);
const step = values.predict ? () => model.predictOnBatch(x) : () => model.trainOnBatch(x, y);

for (let i = 0; i < 10; i++) step();
stats.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const perStep = (performance.now() - t0) / steps;

let inKernels = 0;
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(
  `${which} ${values.predict ? 'predict' : 'train'} batch ${batch} on ${backendName}: ${perStep.toFixed(2)} ms/step, ${Math.round((1000 * batch) / perStep)} samples/s`,
);
console.log(`${'kernel (backend)'.padEnd(36)} ${'calls'.padStart(6)} ${'ms/step'.padStart(8)} ${'share'.padStart(6)}`);
for (const [key, s] of rows) {
  inKernels += s.ms;
  const ms = s.ms / steps;
  if (ms < 0.005) continue;
  console.log(
    `${key.padEnd(36)} ${(s.calls / steps).toFixed(1).padStart(6)} ${ms.toFixed(3).padStart(8)} ${((100 * ms) / perStep).toFixed(1).padStart(5)}%`,
  );
}
const outside = perStep - inKernels / steps;
console.log(
  `${'outside kernels (ops, autograd, loop)'.padEnd(36)} ${''.padStart(6)} ${outside.toFixed(3).padStart(8)} ${((100 * outside) / perStep).toFixed(1).padStart(5)}%`,
);
