/**
 * `pnpm bench`: every benchmark side by side with the peer libraries, in one
 * run: the seed models against PyTorch, kernels against TensorFlow.js and raw
 * OpenBLAS, recurrent steps against tfjs and PyTorch, and the memory of ten
 * training epochs, and data-parallel training over Open MPI scaled on paper
 * (distributed.js). Prints tables and writes results/latest.json. `--quick` for
 * a smoke run.
 */
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runKernelBenchmarks } from './kernels.js';
import { runModelBenchmarks } from './models.js';
import { runMemoryBenchmark } from './memory.js';
import { runDistributedBenchmarks } from './distributed.js';
import { writeJson } from './harness.js';

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  env: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, AXON_NUM_THREADS: process.env.AXON_NUM_THREADS ?? null },
};
const quick = process.argv.includes('--quick');
const kernelsOnly = process.argv.includes('--kernels-only');
if (!kernelsOnly) results.models = await runModelBenchmarks();
results.kernels = await runKernelBenchmarks();

const rnnModule = new URL('./rnn.js', import.meta.url);
if (existsSync(fileURLToPath(rnnModule)) && !kernelsOnly) {
  const { runRnnBenchmarks } = await import(rnnModule.href);
  results.rnn = await runRnnBenchmarks();
}

if (!kernelsOnly) {
  results.memory = runMemoryBenchmark(quick ? { epochs: 2, limit: 4000 } : { epochs: 10 });
  // Data-parallel training over Open MPI (skips itself, in one line, without mpirun or the binding).
  results.distributed = await runDistributedBenchmarks();
}

const out = fileURLToPath(new URL('../results/latest.json', import.meta.url));
writeJson(out, results);
console.log(`\nwrote ${out}`);
