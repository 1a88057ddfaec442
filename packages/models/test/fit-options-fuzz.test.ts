/**
 * Property-based fuzz test of `fit` options (fast-check), through the public API only (sequential,
 * compile, fit): random FitArgs — fit's own options (read from its unknown-option error) with valid,
 * out-of-range and wrongly typed values, now and then a misspelt key — on a small classifier with a
 * random loss and optimizer. The invariant: fit trains (every loss it reports is finite: the data
 * are) or rejects with a clear Error (one naming fit or an option given), never a TypeError from
 * inside, a crash or a hang. Runs on the backend in use (AXON_BACKEND: native, js or sim).
 *
 * What it found in fit (shuffle, classWeight, output and sampleWeight went unchecked) is fixed; the
 * regression tests are the 'fit-option findings' below.
 */
// Registers 'native' (when it loads), so the default run fuzzes it; AXON_BACKEND=js / sim pick the others.
import '@axon/kernels-native';
import { dense } from '@axon/layers';
import { type Tensor, getBackend, oneHot, randomNormal, setSeed, tensor } from '@axon/tensor';
import { fuzzConfig, unclearError } from '@axon/tensor/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { sequential } from '../src/index.js';

const LOSSES = ['sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'meanSquaredError'] as const;
type LossName = (typeof LOSSES)[number];

/** A fresh three-class model (a case may leave weights NaN: never shared). */
function model(loss: LossName, optimizer: string): ReturnType<typeof sequential> {
  setSeed(11);
  const m = sequential([dense({ units: 3, inputShape: [4] })]);
  m.compile({ optimizer, loss });
  return m;
}

/** n samples of 4 finite features and labels in the form the loss takes. */
function data(n: number, loss: LossName): { x: Tensor; y: Tensor } {
  setSeed(5);
  const labels = tensor(
    Array.from({ length: n }, (_, i) => i % 3),
    [n],
    'int32',
  );
  const y = loss === 'sparseCategoricalCrossentropy' ? labels : oneHot(labels, 3);
  return { x: randomNormal([n, 4]), y };
}

/** A stream for verbose: 1 that keeps the test output clean. */
const quietStream = { write: (): boolean => true, isTTY: false, columns: 80 };

const bad = fc.constantFrom<unknown>(null, 'x', '2', -1, 0, 2.5, Number.NaN, Number.POSITIVE_INFINITY, true, {}, []);
const mostly = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: good as fc.Arbitrary<unknown>, weight: 5 }, { arbitrary: bad, weight: 1 });

/** Values for each fit option; `n` is the number of samples, so some weights fit and some do not. */
function valuesFor(option: string, n: number, loss: LossName): fc.Arbitrary<unknown> {
  switch (option) {
    case 'epochs':
      return mostly(fc.integer({ min: 1, max: 3 }));
    case 'batchSize':
      return mostly(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(1e9)));
    case 'validationSplit':
      return mostly(fc.oneof(fc.double({ min: 0, max: 0.9, noNaN: true }), fc.constantFrom(1, 0.999)));
    case 'validationData':
      return fc.oneof(
        fc.integer({ min: 1, max: 4 }).map((m) => {
          const d = data(m, loss);
          return [d.x, d.y];
        }),
        fc.constantFrom<unknown>('x', [], [tensor([[1, 2, 3, 4]])], [tensor([[1, 2, 3, 4]]), tensor([0, 1], [2], 'int32')]),
      );
    case 'shuffle':
      // Only booleans: fit accepts any other value without a word (pinned below).
      return fc.boolean();
    case 'classWeight':
      // Only the model's classes: a weight for another class is ignored without a word (pinned below).
      return fc.oneof(
        fc.dictionary(fc.constantFrom('0', '1', '2'), fc.double({ min: 0, max: 3, noNaN: true }), { maxKeys: 3 }),
        fc.constantFrom<unknown>([1, 2], { 0: -1 }, { 0: 'x' }, 'x', null),
      );
    case 'sampleWeight':
      // Finite weights only: NaN weights train to NaN without a word (pinned below).
      return fc.oneof(
        fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: n, maxLength: n }).map((w) => tensor(w)),
        fc.constantFrom<unknown>(tensor([1, 1]), [1, 1], 'x', null),
      );
    case 'initialEpoch':
      return mostly(fc.integer({ min: 0, max: 3 }));
    case 'callbacks':
      return fc.constantFrom<unknown>([], { onEpochEnd: () => {} }, [{ onBatchEnd: () => {} }], 'x', [3], {}, null);
    case 'verbose':
      return fc.constantFrom<unknown>(0, 1, 2, 'x', true);
    case 'output':
      // Only streams: a non-stream crashes with a TypeError inside (pinned below).
      return fc.constant(quietStream);
    case 'distributed':
      return fc.constantFrom<unknown>(undefined, null, {}, 'x');
    default:
      return bad;
  }
}

/** Every loss fit reports: numbers, each finite. */
function nonFiniteLoss(history: Record<string, unknown[]>): string | null {
  for (const [name, values] of Object.entries(history)) {
    const badValue = values.find((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (badValue !== undefined) return `${name} has ${String(badValue)} from finite data`;
  }
  return null;
}

function describeOptions(options: Record<string, unknown>): string {
  const parts = Object.entries(options).map(([k, v]) => {
    if (v !== null && typeof v === 'object' && 'shape' in v) return `${k}: Tensor [${(v as Tensor).shape}]`;
    if (Array.isArray(v))
      return `${k}: [${v.map((e) => (e !== null && typeof e === 'object' && 'shape' in e ? `Tensor [${(e as Tensor).shape}]` : JSON.stringify(e))).join(', ')}]`;
    if (typeof v === 'function' || (v !== null && typeof v === 'object' && 'write' in v))
      return `${k}: ${typeof v === 'function' ? 'a function' : 'a stream'}`;
    return `${k}: ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`;
  });
  return `{${parts.join(', ')}}`;
}

/** fit's own options, from the error an unknown option gives (which also proves none is ignored silently). */
async function fitOptions(): Promise<string[]> {
  const { x, y } = data(3, 'meanSquaredError');
  try {
    await model('meanSquaredError', 'sgd').fit(x, y, { zzProbe: 1 } as never);
  } catch (e) {
    const known = /known options: (.*)$/.exec((e as Error).message)?.[1];
    if (known) return known.split(', ');
    throw e;
  }
  throw new Error('fit: an unknown option was accepted silently');
}

const config = fuzzConfig(60);
let cases = 0;

describe(`fuzz: fit options on ${getBackend().name} (seed ${config.seed})`, () => {
  it('random FitArgs train to finite losses or fail with an Error naming fit or the option', async () => {
    const known = await fitOptions();
    const caseArb = fc
      .record({ n: fc.integer({ min: 1, max: 8 }), loss: fc.constantFrom(...LOSSES), optimizer: fc.constantFrom('sgd', 'adam', 'rmsprop') })
      .chain(({ n, loss, optimizer }) =>
        fc.record({
          n: fc.constant(n),
          loss: fc.constant(loss),
          optimizer: fc.constant(optimizer),
          options: fc
            .tuple(
              fc
                .subarray(known, { maxLength: 4 })
                .chain((keys) => fc.tuple(...keys.map((k) => valuesFor(k, n, loss).map((v) => [k, v] as const)))),
              fc.oneof(
                { arbitrary: fc.constant([] as [string, unknown][]), weight: 9 },
                { arbitrary: fc.constantFrom(...known).map((k) => [[`${k}s`, 1]] as [string, unknown][]), weight: 1 },
              ),
            )
            .map(([pairs, extra]) => Object.fromEntries([...pairs, ...extra])),
        }),
      );
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ n, loss, optimizer, options }) => {
        const { x, y } = data(n, loss);
        const args = { epochs: 1, verbose: 0, output: quietStream, ...options };
        let problem: string | null;
        try {
          const history = await model(loss, optimizer).fit(x, y, args as never);
          problem = nonFiniteLoss(history.history as Record<string, unknown[]>);
        } catch (error) {
          problem = unclearError(error, ['fit', ...Object.keys(options)]);
        }
        if (problem) throw new Error(`fit(x [${n},4], y, ${describeOptions(options)}) with ${loss}, ${optimizer}: ${problem}`);
        cases++;
      }),
      { seed: config.seed, numRuns: config.numRuns },
    );
  });

  afterAll(() => {
    console.log(`fuzz-fit-options: ${cases} cases on ${getBackend().name}, seed ${config.seed}`);
  });
});

/** The Error a fit with `options` rejects with (fails the test when it trains instead). */
async function fitError(options: Record<string, unknown>): Promise<Error> {
  const { x, y } = data(6, 'sparseCategoricalCrossentropy');
  try {
    await model('sparseCategoricalCrossentropy', 'sgd').fit(x, y, { epochs: 1, verbose: 0, ...options } as never);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`fit(${describeOptions(options)}) trained without a word`);
}

describe('fit-option findings', () => {
  it('shuffle: a value other than a boolean is refused', async () => {
    expect((await fitError({ shuffle: 'x' })).message).toMatch(/^fit: shuffle/);
  });
  it('classWeight: a weight for a class the model does not have is refused', async () => {
    expect((await fitError({ classWeight: { 7: 1 } })).message).toMatch(/^fit: classWeight/);
  });
  it('output: a value that is not a stream is refused with an Error naming it, not a TypeError inside', async () => {
    const error = await fitError({ verbose: 1, output: 'x' });
    expect(unclearError(error, ['output'])).toBeNull();
    expect(error.constructor).toBe(Error);
  });
  it('sampleWeight: NaN weights are refused, as NaN features are, rather than training the weights to NaN', async () => {
    expect((await fitError({ sampleWeight: tensor([Number.NaN, 1, 1, 1, 1, 1]) })).message).toMatch(/^fit: sampleWeight/);
  });
});
