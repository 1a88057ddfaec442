/**
 * The seed CNN on Fashion-MNIST, data-parallel over MPI: run one process per rank with
 *
 *   mpirun -np 2 node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--output DIR]
 *
 * Every rank loads the data and builds the model; fit({ distributed }) starts every rank from rank
 * 0's weights, trains each on its shard of every global batch and sums the gradients, so the run
 * reaches the weights one process would with the same global batch. Rank 0 prints progress,
 * evaluates and saves.
 */
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@axon/kernels-native';
import { dataParallel, libraryVersion } from '@axon/distributed';
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { sequential } from '@axon/models';
import { loadFashionMnist } from '@axon/data';
import { getBackend, setSeed } from '@axon/tensor';

const USAGE = 'usage: mpirun -np N node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--output DIR]';

function positiveInt(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got '${value}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      output: { type: 'string' },
    },
  });
  const epochs = positiveInt('epochs', values.epochs, 3)!;
  const limit = positiveInt('limit', values.limit, undefined);
  const batchSize = positiveInt('batch-size', values['batch-size'], 64)!;
  const output = resolve(values.output ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'output'));

  const strategy = dataParallel();
  const chief = strategy.rank === 0;
  const log = (line: string): void => {
    if (chief) console.log(line);
  };
  log(`${strategy.size} rank(s) on ${libraryVersion().split(',')[0]}, backend ${getBackend().name}; global batch ${batchSize}`);

  setSeed(42);
  const { train, test } = loadFashionMnist({ trainLimit: limit });
  const model = sequential([
    conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    maxPooling2d({ poolSize: 2 }),
    flatten(),
    dense({ units: 128, activation: 'relu' }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

  const start = performance.now();
  await model.fit(train.x, train.y, { epochs, batchSize, validationData: [test.x, test.y], distributed: strategy });
  const seconds = (performance.now() - start) / 1000;
  const samples = train.x.shape[0]! * epochs;
  log(
    `Trained ${epochs} epoch(s) on ${train.x.shape[0]} samples in ${seconds.toFixed(1)} s: ${(samples / seconds).toFixed(0)} samples/s over ${strategy.size} rank(s)`,
  );

  if (chief) {
    const [, accuracy] = model.evaluate(test.x, test.y, { batchSize: 256 }) as number[];
    log(`Test accuracy ${(accuracy! * 100).toFixed(2)}%`);
    await model.save(output);
    log(`Saved the model to ${output}`);
  }
  strategy.finalize();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
