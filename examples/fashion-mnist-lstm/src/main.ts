/**
 * The seed's LSTM on Fashion-MNIST: each 28x28 image is a sequence of 28
 * timesteps (rows) of 28 features. LSTM(64, returnSequences) → LSTM(64) →
 * Dense(10, softmax), Adam, categorical cross-entropy (one-hot labels), with
 * the test set as validation data; then evaluated and saved.
 *
 *   node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--output DIR] [--seed N]
 */
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argMax, backendStatus, getBackend, oneHot, reshape, setBackend, setSeed, slice, type Tensor } from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { dense } from '@axon/layers';
import { lstm } from '@axon/recurrent';
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

/** [n, 28, 28, 1] images → [n, 28, 28]: 28 timesteps (rows) of 28 features. */
const asSequences = (x: Tensor): Tensor => reshape(x, [x.shape[0]!, 28, 28]);

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
  const epochs = positiveInt('epochs', values.epochs, 5)!;
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
  const xTrain = asSequences(train.x);
  const xTest = asSequences(test.x);
  const yTrain = oneHot(train.y, 10);
  const yTest = oneHot(test.y, 10);
  console.log(`train: x ${JSON.stringify(xTrain.shape)}, y ${JSON.stringify(yTrain.shape)}; test: x ${JSON.stringify(xTest.shape)}`);

  const model = sequential([
    lstm({ units: 64, returnSequences: true, inputShape: [28, 28] }),
    lstm({ units: 64 }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
  model.summary();
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

  const start = performance.now();
  await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
  const seconds = (performance.now() - start) / 1000;

  const [testLoss, testAccuracy] = model.evaluate(xTest, yTest, { batchSize: 256 }) as number[];
  console.log(`Test loss ${testLoss!.toFixed(4)}, test accuracy ${(testAccuracy! * 100).toFixed(2)}%`);
  console.log(
    `Trained ${epochs} epoch(s) on ${xTrain.shape[0]} samples in ${seconds.toFixed(1)} s ` +
      `(${(seconds / epochs).toFixed(1)} s/epoch including validation, backend ${getBackend().name})`,
  );

  const shown = Math.min(5, xTest.shape[0]!);
  const predicted = argMax(model.predict(slice(xTest, 0, shown)), -1).dataSync();
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
