/**
 * `pnpm bench`: every benchmark side by side with the peer libraries, in one
 * run. Prints tables and writes results/latest.json. `--quick` for a smoke run.
 */
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runKernelBenchmarks } from './kernels.js';
import { writeJson } from './harness.js';

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  env: { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? null, AXON_NUM_THREADS: process.env.AXON_NUM_THREADS ?? null },
};
results.kernels = await runKernelBenchmarks();

const rnnModule = new URL('./rnn.js', import.meta.url);
if (existsSync(fileURLToPath(rnnModule)) && !process.argv.includes('--kernels-only')) {
  const { runRnnBenchmarks } = await import(rnnModule.href);
  results.rnn = await runRnnBenchmarks();
}

const out = fileURLToPath(new URL('../results/latest.json', import.meta.url));
writeJson(out, results);
console.log(`\nwrote ${out}`);
