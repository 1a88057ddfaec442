/**
 * Does augmentation (and L2 + Dropout) reduce overfitting? The seed's CNN trained on a small slice
 * of Fashion-MNIST (the first 2,000 training images), streamed through a Dataset, for the same
 * number of epochs in four variants: baseline, augmentation layers at the input, L2 + Dropout, and
 * both. For each it prints train accuracy (inference mode, on the training images), test accuracy
 * and their gap, as a markdown table.
 *
 *   node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--seed N] [--variants a,b,...]
 */
import { parseArgs } from 'node:util';
import { backendStatus, getBackend, setBackend, setSeed } from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { conv2d, dense, dropout, flatten, l2, type Layer, maxPooling2d, randomFlip, randomTranslation } from '@axon/layers';
import { sequential } from '@axon/models';
import { fashionMnistDir, fromTensors, loadFashionMnist } from '@axon/data';

const USAGE =
  'usage: node dist/main.js [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--seed N] [--variants baseline,augment,l2-dropout,augment-l2-dropout]';
const TRAIN_SIZE = 2000;

/**
 * Label-preserving changes of a Fashion-MNIST image: a mirror image and a shift of up to ±10 %
 * (±2.8 px). The photos are upright, centred and scaled to the frame, so rotations and zooms mostly
 * show the network images unlike any test image (see the README: at this budget they cost accuracy).
 */
function augmentation(): Layer[] {
  return [
    randomFlip({ mode: 'horizontal', inputShape: [28, 28, 1] }), // a mirrored shirt or shoe is still one; upside down is not
    // The background is black (0): fill the uncovered border with 0, not 'reflect' (which would
    // mirror parts of the garment into it).
    randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'constant', fillValue: 0 }),
  ];
}

/** The seed CNN (examples/fashion-mnist-cnn), with the remedies asked for. */
function cnn(augment: boolean, regularize: boolean): Layer[] {
  const kernelRegularizer = regularize ? l2({ l2: 1e-4 }) : null;
  const drop = (rate: number): Layer[] => (regularize ? [dropout({ rate })] : []);
  return [
    // The first layer names the input shape, so the model is built (its weights drawn) here, before
    // any augmentation draw: every variant starts from the same weights.
    ...(augment ? augmentation() : []),
    conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelRegularizer, ...(augment ? {} : { inputShape: [28, 28, 1] }) }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelRegularizer }),
    maxPooling2d({ poolSize: 2 }),
    ...drop(0.25),
    flatten(),
    dense({ units: 128, activation: 'relu', kernelRegularizer }),
    ...drop(0.5),
    dense({ units: 10, activation: 'softmax' }),
  ];
}

const VARIANTS = {
  baseline: { label: 'baseline', augment: false, regularize: false },
  augment: { label: 'augmentation', augment: true, regularize: false },
  'l2-dropout': { label: 'L2 + Dropout', augment: false, regularize: true },
  'augment-l2-dropout': { label: 'augmentation + L2 + Dropout', augment: true, regularize: true },
} as const;
type VariantName = keyof typeof VARIANTS;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

function variantNames(value: string | undefined): VariantName[] {
  if (value === undefined) return Object.keys(VARIANTS) as VariantName[];
  const names = value.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(name in VARIANTS)) fail(`--variants: unknown variant '${name}' (known: ${Object.keys(VARIANTS).join(', ')})`);
  }
  return names as VariantName[];
}

const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;

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
        seed: { type: 'string' },
        variants: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const epochs = positiveInt('epochs', values.epochs, 30)!;
  const limit = positiveInt('limit', values.limit, undefined);
  const batchSize = positiveInt('batch-size', values['batch-size'], 32)!;
  const seed = positiveInt('seed', values.seed, 42)!;
  const variants = variantNames(values.variants);

  if (values.backend !== undefined) {
    if (values.backend !== 'js' && values.backend !== 'native') fail(`--backend must be 'js' or 'native', got '${values.backend}'`);
    setBackend(values.backend);
  }
  const unavailable = backendStatus().filter((b) => !b.available);
  console.log(`Backend: ${getBackend().name}${unavailable.map((b) => ` (${b.name} unavailable: ${b.reason})`).join('')}`);

  const trainLimit = Math.min(limit ?? TRAIN_SIZE, TRAIN_SIZE);
  console.log(`Loading Fashion-MNIST from ${fashionMnistDir()}`);
  const { train, test } = loadFashionMnist({ trainLimit, testLimit: limit });
  const n = train.x.shape[0]!;
  console.log(`train: the first ${n} images; test: ${test.x.shape[0]} images; ${epochs} epochs at batch ${batchSize}, seed ${seed}`);

  // Evaluation streams too, in inference mode: the random layers are the identity and dropout is off.
  const trainEval = fromTensors({ xs: train.x, ys: train.y }).batch(256);
  const testEval = fromTensors({ xs: test.x, ys: test.y }).batch(256);

  const rows: string[] = [];
  for (const name of variants) {
    const { label, augment, regularize } = VARIANTS[name];
    setSeed(seed); // the same initial weights for every variant
    const model = sequential(cnn(augment, regularize));
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    // A fresh pipeline per variant, so each sees the same batches in the same order.
    const batches = fromTensors({ xs: train.x, ys: train.y }).shuffle(n, { seed }).batch(batchSize).prefetch(2);

    const start = performance.now();
    const history = await model.fit(batches, { epochs, verbose: 0 });
    const seconds = (performance.now() - start) / 1000;
    const running = history.history.accuracy!.at(-1)!;
    const [, trainAccuracy] = (await model.evaluate(trainEval)) as number[];
    const [, testAccuracy] = (await model.evaluate(testEval)) as number[];
    const gap = trainAccuracy! - testAccuracy!;
    console.log(
      `${label}: train ${percent(trainAccuracy!)} (fit's running accuracy in the last epoch ${percent(running)}), test ${percent(testAccuracy!)}, gap ${(gap * 100).toFixed(1)} points; ${seconds.toFixed(1)} s`,
    );
    rows.push(
      `| ${label} | ${percent(trainAccuracy!)} | ${percent(testAccuracy!)} | ${(gap * 100).toFixed(1)} | ${percent(running)} | ${seconds.toFixed(0)} s |`,
    );
  }

  console.log(`\n${n} training images, ${test.x.shape[0]} test images, ${epochs} epochs, backend ${getBackend().name}, seed ${seed}:\n`);
  console.log('| variant | train accuracy | test accuracy | gap (points) | running train accuracy, last epoch | training time |');
  console.log('| --- | --: | --: | --: | --: | --: |');
  for (const row of rows) console.log(row);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
