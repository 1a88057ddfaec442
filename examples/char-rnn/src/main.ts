/**
 * A character-level language model: Embedding → LSTM → Dense(softmax) learns
 * to predict the next character of a text, then writes new text one
 * character at a time, sampling with a temperature (low: conservative and
 * repetitive; high: inventive and misspelt). The default text is the GNU GPL
 * v3, which every Debian system ships in /usr/share/common-licenses/GPL-3.
 *
 *   node dist/main.js [--file PATH] [--epochs N] [--limit CHARS] [--seq-length N] [--step N] [--units N]
 *                     [--batch-size N] [--temperature T] [--sample-length N] [--learning-rate LR] [--backend js|native] [--seed N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { backendStatus, getBackend, noGrad, randomFloat, setBackend, setSeed, tensor } from '@axon/tensor';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { dense, embedding } from '@axon/layers';
import { lstm } from '@axon/recurrent';
import { Adam, sequential, type Sequential } from '@axon/models';

const DEFAULT_TEXT = '/usr/share/common-licenses/GPL-3';
const USAGE =
  'usage: node dist/main.js [--file PATH] [--epochs N] [--limit CHARS] [--seq-length N] [--step N] [--units N]\n' +
  '                         [--batch-size N] [--temperature T] [--sample-length N] [--learning-rate LR] [--backend js|native] [--seed N]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

/** The text's characters, sorted, and the index of each. */
class Vocabulary {
  readonly chars: string[];
  private readonly index = new Map<string, number>();

  constructor(text: string) {
    this.chars = [...new Set(text)].sort();
    this.chars.forEach((c, i) => this.index.set(c, i));
  }

  get size(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    return [...text].map((c) => this.index.get(c)!);
  }
}

/** Every window of seqLength characters (starting every `step`) and the character after it. */
function trainingPairs(codes: number[], seqLength: number, step: number): { x: Int32Array; y: Int32Array; count: number } {
  const count = Math.floor((codes.length - seqLength - 1) / step) + 1;
  const x = new Int32Array(count * seqLength);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = i * step;
    for (let t = 0; t < seqLength; t++) x[i * seqLength + t] = codes[start + t]!;
    y[i] = codes[start + seqLength]!;
  }
  return { x, y, count };
}

/** Draws an index from probabilities reshaped by a temperature: p_i^(1/T), renormalised. */
function sample(probabilities: Float32Array, temperature: number): number {
  const logits = Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-12)) / temperature);
  const top = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - top));
  let r = randomFloat() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return i;
  }
  return weights.length - 1;
}

/** Continues `seed` (seqLength characters) by `length` sampled characters. */
function generate(model: Sequential, vocab: Vocabulary, seed: string, length: number, temperature: number): string {
  const window = vocab.encode(seed);
  let out = '';
  noGrad(() => {
    for (let i = 0; i < length; i++) {
      const probabilities = model.predict(tensor(Int32Array.from(window), [1, window.length], 'int32')).dataSync();
      const next = sample(probabilities, temperature);
      out += vocab.chars[next];
      window.shift();
      window.push(next);
    }
  });
  return out;
}

async function main(): Promise<void> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the parseArgs assignment below (control-flow typing)
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        file: { type: 'string' },
        epochs: { type: 'string' },
        limit: { type: 'string' },
        'seq-length': { type: 'string' },
        step: { type: 'string' },
        units: { type: 'string' },
        'batch-size': { type: 'string' },
        temperature: { type: 'string' },
        'learning-rate': { type: 'string' },
        'sample-length': { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
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
  const file = values.file ?? DEFAULT_TEXT;
  const epochs = positiveInt('epochs', values.epochs, 20);
  const seqLength = positiveInt('seq-length', values['seq-length'], 40);
  const step = positiveInt('step', values.step, 3);
  const units = positiveInt('units', values.units, 128);
  const batchSize = positiveInt('batch-size', values['batch-size'], 128);
  const sampleLength = positiveInt('sample-length', values['sample-length'], 200);
  const seed = positiveInt('seed', values.seed, 42);
  const temperature = values.temperature === undefined ? 0.5 : Number(values.temperature);
  const learningRate = values['learning-rate'] === undefined ? 0.01 : Number(values['learning-rate']);
  if (!(learningRate > 0 && Number.isFinite(learningRate)))
    fail(`--learning-rate must be a positive number, got '${values['learning-rate']}'`);
  if (!(temperature > 0 && Number.isFinite(temperature))) fail(`--temperature must be a positive number, got '${values.temperature}'`);
  if (values.backend !== undefined) {
    if (values.backend !== 'js' && values.backend !== 'native') fail(`--backend must be 'js' or 'native', got '${values.backend}'`);
    setBackend(values.backend);
  }
  setSeed(seed);
  const unavailable = backendStatus().filter((b) => !b.available);
  console.log(`Backend: ${getBackend().name}${unavailable.map((b) => ` (${b.name} unavailable: ${b.reason})`).join('')}`);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`Cannot read the text ${file}: ${(e as Error).message} (give another with --file PATH)`);
    process.exit(1);
  }
  if (values.limit !== undefined) text = text.slice(0, positiveInt('limit', values.limit, text.length));
  if (text.length < seqLength + 2) fail(`the text has ${text.length} characters; it needs more than --seq-length + 1 = ${seqLength + 1}`);
  const vocab = new Vocabulary(text);
  const codes = vocab.encode(text);
  const pairs = trainingPairs(codes, seqLength, step);
  const x = tensor(pairs.x, [pairs.count, seqLength], 'int32');
  const y = tensor(pairs.y, [pairs.count], 'int32');
  console.log(`Text: ${file}, ${text.length} characters, ${vocab.size} distinct; ${pairs.count} windows of ${seqLength}`);

  const model = sequential([
    embedding({ inputDim: vocab.size, outputDim: 32, inputLength: seqLength }),
    lstm({ units }),
    dense({ units: vocab.size, activation: 'softmax' }),
  ]);
  model.summary();
  model.compile({ optimizer: new Adam({ learningRate }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

  const start = performance.now();
  // After each epoch, write some text from a random prompt of the training text.
  const sampler = {
    onEpochEnd: (): void => {
      const at = Math.floor(randomFloat() * (text.length - seqLength));
      const prompt = text.slice(at, at + seqLength);
      console.log(`--- temperature ${temperature}, from "${prompt.replace(/\n/g, ' ')}":`);
      console.log(prompt + generate(model, vocab, prompt, sampleLength, temperature));
      console.log('---');
    },
  };
  await model.fit(x, y, { epochs, batchSize, shuffle: true, callbacks: [sampler] });
  const seconds = (performance.now() - start) / 1000;
  console.log(`Trained ${epochs} epoch(s) in ${seconds.toFixed(1)} s with sampling (backend ${getBackend().name})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
