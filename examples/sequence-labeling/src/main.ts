/**
 * Sequence labelling with 1-D convolutions (in the manner of Xu et al. 2015 and of CNN word
 * segmenters): every character of a text with its spaces removed is tagged B (begins a word), I
 * (inside), E (ends a word) or S (a one-character word), so the tags say where the spaces were.
 * The ground truth comes from the original text, so the task needs no annotation, and a tagger
 * must read the letters around each position to solve it: no single character decides its tag.
 *
 *   Embedding(chars, 32) → Conv1D(96, 5, same, relu) ×3 → Dense(4, softmax) at every position
 *
 * The text is the GNU GPL v3 (every Debian system has it); the first 80% trains (overlapping
 * windows), the rest tests.
 *
 *   node dist/main.js [--epochs N] [--limit CHARS] [--window N] [--backend js|native] [--seed N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { conv1d, dense, embedding } from '@axon/layers';
import { sequential } from '@axon/models';
import { argMax, getBackend, setBackend, setSeed, tensor } from '@axon/tensor';

const TAGS = ['B', 'I', 'E', 'S'] as const;
const USAGE = 'usage: node dist/main.js [--epochs N] [--limit CHARS] [--window N] [--backend js|native] [--seed N] [--file PATH]';

function positiveInt(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got '${value}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** The text without whitespace, and each remaining character's tag (an index into TAGS). */
export function tagCharacters(text: string): { chars: string; tags: number[] } {
  let chars = '';
  const tags: number[] = [];
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    chars += word;
    if (word.length === 1) tags.push(3);
    else tags.push(0, ...new Array<number>(word.length - 2).fill(1), 2);
  }
  return { chars, tags };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      limit: { type: 'string' },
      window: { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      file: { type: 'string' },
    },
  });
  const epochs = positiveInt('epochs', values.epochs, 10)!;
  const limit = positiveInt('limit', values.limit, undefined);
  const window = positiveInt('window', values.window, 64)!;
  if (values.backend !== undefined) setBackend(values.backend);
  setSeed(positiveInt('seed', values.seed, 42)!);

  const raw = readFileSync(values.file ?? '/usr/share/common-licenses/GPL-3', 'utf8');
  const { chars, tags } = tagCharacters(limit ? raw.slice(0, limit) : raw);
  const vocabulary = [...new Set(chars)].sort();
  const index = new Map(vocabulary.map((c, i) => [c, i + 1])); // 0 is never used (no padding needed)
  // The first 80% of the characters train (windows every window/4 characters: overlapping views of
  // the same text, the cheap "more data"); the rest tests, in windows that do not overlap.
  const cut = Math.floor(chars.length * 0.8);
  const stride = Math.max(1, Math.floor(window / 4));
  const windowsOf = (from: number, to: number, step: number) => {
    const starts: number[] = [];
    for (let s = from; s + window <= to; s += step) starts.push(s);
    const ids = new Float32Array(starts.length * window);
    const labels = new Float32Array(starts.length * window);
    starts.forEach((start, w) => {
      for (let i = 0; i < window; i++) {
        ids[w * window + i] = index.get(chars[start + i]!)!;
        labels[w * window + i] = tags[start + i]!;
      }
    });
    return { x: tensor(ids, [starts.length, window]), y: tensor(labels, [starts.length, window]), first: starts[0] ?? from };
  };
  const train = windowsOf(0, cut, stride);
  const test = windowsOf(cut, chars.length, window);
  const [xTrain, yTrain, xTest, yTest] = [train.x, train.y, test.x, test.y];
  const trainWindows = xTrain.shape[0]!;
  const testWindows = xTest.shape[0]!;
  console.log(
    `${chars.length} characters (spaces removed), ${vocabulary.length} distinct; ${trainWindows} training windows (every ${stride} characters) and ${testWindows} test windows of ${window}; backend ${getBackend().name}`,
  );

  const model = sequential([
    embedding({ inputDim: vocabulary.length + 1, outputDim: 32, inputLength: window }),
    conv1d({ filters: 96, kernelSize: 5, padding: 'same', activation: 'relu' }),
    conv1d({ filters: 96, kernelSize: 5, padding: 'same', activation: 'relu' }),
    conv1d({ filters: 96, kernelSize: 5, padding: 'same', activation: 'relu' }),
    dense({ units: TAGS.length, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(xTrain, yTrain, { epochs, batchSize: 32, validationData: [xTest, yTest] });

  // Per-token accuracy on the held-out text, per tag, against always answering the commonest tag.
  const predicted = argMax(model.predict(xTest, { batchSize: 256 }), -1).dataSync();
  const truth = yTest.dataSync();
  const hits = TAGS.map(() => 0);
  const counts = TAGS.map(() => 0);
  predicted.forEach((p, i) => {
    counts[truth[i]!]!++;
    if (p === truth[i]) hits[truth[i]!]!++;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const accuracy = hits.reduce((a, b) => a + b, 0) / total;
  const majority = Math.max(...counts) / total;
  console.log(
    `Per-token accuracy on the held-out 20%: ${(accuracy * 100).toFixed(2)}% (always the commonest tag: ${(majority * 100).toFixed(2)}%)`,
  );
  console.log(TAGS.map((t, k) => `${t} ${((hits[k]! / Math.max(1, counts[k]!)) * 100).toFixed(1)}% of ${counts[k]}`).join(', '));
  const sample = chars.slice(test.first, test.first + window);
  const sampleTags = Array.from(predicted.slice(0, window));
  console.log(
    `Spaces put back by the tagger: ${[...sample].map((c, i) => c + (sampleTags[i] === 2 || sampleTags[i] === 3 ? ' ' : '')).join('')}`,
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
