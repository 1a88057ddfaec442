/**
 * Spam detection on the SpamAssassin corpus (@axon/data's loadSpamAssassin: seed 0, stratified
 * 80/20 split), two models trained by Axon and scored on the held-out split (accuracy, and F1 with
 * spam as the positive class):
 *
 * - baseline: bag of words — TextVectorization(multi_hot, 10 000 tokens) adapted on the training
 *   texts → Dense(1, sigmoid): logistic regression.
 * - cnn: Kim (2014) — TextVectorization(int, 20 000 tokens, 300 steps) → Embedding(64) →
 *   convolutions of widths 3, 4, 5 (64 filters each, ReLU) with global max pooling, concatenated →
 *   Dropout(0.5) → Dense(1, sigmoid).
 *
 * Both: binary cross-entropy, Adam (learning rate 0.001), batch 32.
 *
 *   node dist/main.js [--model baseline|cnn|both] [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--seed N]
 */
import { parseArgs } from 'node:util';
import { backendStatus, cast, getBackend, reshape, setBackend, setSeed, type Tensor } from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import {
  type SymbolicTensor,
  concatenate,
  conv1d,
  dense,
  dropout,
  embedding,
  globalMaxPooling1d,
  input,
  textVectorization,
} from '@axon/layers';
import { type Model, model as functionalModel, sequential } from '@axon/models';
import { loadSpamAssassin, type TextSplit } from '@axon/data';

const USAGE =
  'usage: node dist/main.js [--model baseline|cnn|both] [--epochs N] [--limit N] [--batch-size N] [--backend js|native] [--seed N]';

/** Vocabulary of the bag of words (the baseline's input width). */
const BAG_TOKENS = 10000;
/** Vocabulary of the CNN's embedding. */
const CNN_TOKENS = 20000;
/** The CNN reads the first SEQUENCE_LENGTH tokens of each e-mail. */
const SEQUENCE_LENGTH = 300;

function positiveInt(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got '${value}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/**
 * Kim (2014): token ids → embedding → parallel convolutions over time of widths 3, 4 and 5 (64
 * filters each, ReLU), each max-pooled over time, concatenated → dropout → sigmoid. The parallel
 * branches make it a functional model (a graph), not a stack.
 */
function kimCnn(vocabularySize: number): Model {
  const tokens = input({ shape: [SEQUENCE_LENGTH], dtype: 'int32', name: 'tokens' });
  const embedded = embedding({ inputDim: vocabularySize, outputDim: 64 }).apply(tokens) as SymbolicTensor;
  const branches = [3, 4, 5].map(
    (width) =>
      globalMaxPooling1d().apply(
        conv1d({ filters: 64, kernelSize: width, activation: 'relu' }).apply(embedded) as SymbolicTensor,
      ) as SymbolicTensor,
  );
  const features = dropout({ rate: 0.5 }).apply(concatenate().apply(branches) as SymbolicTensor) as SymbolicTensor;
  return functionalModel({
    inputs: tokens,
    outputs: dense({ units: 1, activation: 'sigmoid' }).apply(features) as SymbolicTensor,
    name: 'kim_cnn',
  });
}

/** Labels as the sigmoid output's shape: float32 [n, 1]. */
function targets(split: TextSplit): Tensor {
  return cast(reshape(split.labels, [split.labels.shape[0]!, 1]), 'float32');
}

/** Test accuracy, precision, recall and F1 (spam = positive) of a model's probabilities at 0.5. */
function score(model: Model, x: Tensor, split: TextSplit): { accuracy: number; precision: number; recall: number; f1: number } {
  const p = (model.predict(x, { batchSize: 256 }) as Tensor).dataSync();
  const y = split.labels.dataSync();
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < y.length; i++) {
    const spam = p[i]! >= 0.5;
    if (spam && y[i] === 1) tp++;
    else if (spam) fp++;
    else if (y[i] === 1) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: (tp + tn) / y.length, precision, recall, f1 };
}

function report(name: string, s: ReturnType<typeof score>, seconds: number, epochs: number): string {
  const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
  return `${name}: test accuracy ${pct(s.accuracy)}, F1 ${s.f1.toFixed(4)} (precision ${pct(s.precision)}, recall ${pct(s.recall)}); ${epochs} epoch(s) in ${seconds.toFixed(1)} s`;
}

async function main(): Promise<void> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the parseArgs assignment below (control-flow typing)
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: 'string' },
        epochs: { type: 'string' },
        limit: { type: 'string' },
        'batch-size': { type: 'string' },
        backend: { type: 'string' },
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
  const which = values.model ?? 'both';
  if (!['baseline', 'cnn', 'both'].includes(which)) {
    console.error(`--model must be 'baseline', 'cnn' or 'both', got '${which}'\n${USAGE}`);
    process.exit(2);
  }
  const epochsGiven = positiveInt('epochs', values.epochs, undefined);
  const limit = positiveInt('limit', values.limit, undefined);
  const batchSize = positiveInt('batch-size', values['batch-size'], 32)!;
  const seed = positiveInt('seed', values.seed, 42)!;
  if (values.backend !== undefined) {
    if (values.backend !== 'js' && values.backend !== 'native') {
      console.error(`--backend must be 'js' or 'native', got '${values.backend}'\n${USAGE}`);
      process.exit(2);
    }
    setBackend(values.backend);
  }
  const unavailable = backendStatus().filter((b) => !b.available);
  console.log(`Backend: ${getBackend().name}${unavailable.map((b) => ` (${b.name} unavailable: ${b.reason})`).join('')}`);

  // --limit N keeps N training texts and N/4 test texts (both random subsets: the splits are shuffled).
  const { train, test } = loadSpamAssassin(limit ? { trainLimit: limit, testLimit: Math.max(1, Math.ceil(limit / 4)) } : {});
  const spam = (s: TextSplit): number => s.labels.dataSync().reduce((a, b) => a + b, 0);
  console.log(
    `SpamAssassin (seed 0, stratified 80/20): train ${train.texts.length} (${spam(train)} spam), test ${test.texts.length} (${spam(test)} spam)`,
  );
  const yTrain = targets(train);
  const yTest = targets(test);
  const lines: string[] = [];

  if (which !== 'cnn') {
    setSeed(seed);
    const epochs = epochsGiven ?? 10;
    const bag = textVectorization({ outputMode: 'multi_hot', maxTokens: BAG_TOKENS, padToMaxTokens: true });
    bag.adapt(train.texts);
    const xTrain = bag.apply(train.texts);
    const xTest = bag.apply(test.texts);
    console.log(`\nBaseline: bag of words, ${bag.vocabularySize()} tokens (OOV included) → logistic regression`);
    const model = sequential([dense({ units: 1, activation: 'sigmoid', inputShape: [BAG_TOKENS] })]);
    model.summary();
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const start = performance.now();
    await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
    const line = report(
      'baseline (bag of words + logistic regression)',
      score(model, xTest, test),
      (performance.now() - start) / 1000,
      epochs,
    );
    console.log(line);
    lines.push(line);
  }

  if (which !== 'baseline') {
    setSeed(seed);
    const epochs = epochsGiven ?? 5;
    const vectorize = textVectorization({ maxTokens: CNN_TOKENS, outputSequenceLength: SEQUENCE_LENGTH });
    vectorize.adapt(train.texts);
    const xTrain = vectorize.apply(train.texts);
    const xTest = vectorize.apply(test.texts);
    console.log(`\nCNN: ${vectorize.vocabularySize()} tokens, first ${SEQUENCE_LENGTH} of each e-mail`);
    const model = kimCnn(vectorize.vocabularySize());
    model.summary();
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const start = performance.now();
    await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
    const line = report('cnn (Kim: widths 3/4/5 x 64 filters)', score(model, xTest, test), (performance.now() - start) / 1000, epochs);
    console.log(line);
    lines.push(line);
  }

  console.log(`\nHeld-out split (${test.texts.length} e-mails), backend ${getBackend().name}:\n${lines.join('\n')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
