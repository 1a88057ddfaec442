/**
 * The seed's CNN on Fashion-MNIST: Conv2D(32) → MaxPool → Conv2D(64) → MaxPool
 * → Flatten → Dense(128) → Dense(10, softmax), Adam, sparse categorical
 * cross-entropy, 10 epochs at batch 32 with the test set as validation data.
 *
 *   node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--output DIR] [--seed N]
 */
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argMax, backendStatus, getBackend, setBackend, setSeed, slice } from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { sequential } from '@axon/models';
import { FASHION_MNIST_CLASSES, fashionMnistDir, loadFashionMnist } from '@axon/data';

const USAGE = 'usage: node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--output DIR] [--seed N]';

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
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the parseArgs assignment below (control-flow typing)
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        epochs: { type: 'string' },
        limit: { type: 'string' },
        'batch-size': { type: 'string' },
        backend: { type: 'string' },
        output: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const epochs = positiveInt('epochs', values.epochs, 10)!;
  const limit = positiveInt('limit', values.limit, undefined);
  const batchSize = positiveInt('batch-size', values['batch-size'], 32)!;
  const seed = positiveInt('seed', values.seed, 42)!;
  const here = dirname(fileURLToPath(import.meta.url));
  const output = resolve(values.output ?? join(here, '..', 'output'));

  if (values.backend !== undefined) {
    if (values.backend !== 'js' && values.backend !== 'native') {
      console.error(`--backend must be 'js' or 'native', got '${values.backend}'\n${USAGE}`);
      process.exit(2);
    }
    setBackend(values.backend);
  }
  setSeed(seed);
  const unavailable = backendStatus().filter((b) => !b.available);
  console.log(`Backend: ${getBackend().name}${unavailable.map((b) => ` (${b.name} unavailable: ${b.reason})`).join('')}`);

  console.log(`Loading Fashion-MNIST from ${fashionMnistDir()}${limit ? ` (first ${limit} training samples)` : ''}`);
  const { train, test } = loadFashionMnist({ trainLimit: limit });
  console.log(`train: x ${JSON.stringify(train.x.shape)}, y ${JSON.stringify(train.y.shape)}; test: x ${JSON.stringify(test.x.shape)}`);

  const model = sequential([
    conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    maxPooling2d({ poolSize: 2 }),
    flatten(),
    dense({ units: 128, activation: 'relu' }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
  model.summary();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

  const start = performance.now();
  await model.fit(train.x, train.y, { epochs, batchSize, validationData: [test.x, test.y] });
  const seconds = (performance.now() - start) / 1000;

  const [testLoss, testAccuracy] = model.evaluate(test.x, test.y, { batchSize: 256 }) as number[];
  console.log(`Test loss ${testLoss!.toFixed(4)}, test accuracy ${(testAccuracy! * 100).toFixed(2)}%`);
  console.log(
    `Trained ${epochs} epoch(s) on ${train.x.shape[0]} samples in ${seconds.toFixed(1)} s (${(seconds / epochs).toFixed(1)} s/epoch, backend ${getBackend().name})`,
  );

  const shown = Math.min(5, test.x.shape[0]!);
  const predicted = argMax(model.predict(slice(test.x, 0, shown)), -1).dataSync();
  const actual = test.y.dataSync();
  const described = Array.from(
    predicted,
    (p, i) => `${FASHION_MNIST_CLASSES[p]}${p === actual[i] ? '' : ` (is ${FASHION_MNIST_CLASSES[actual[i]!]})`}`,
  );
  console.log(`First ${shown} test images: ${described.join(', ')}`);

  await model.save(output);
  console.log(`Saved the trained model to ${output} (model.json + weights, TensorFlow.js layers format)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
