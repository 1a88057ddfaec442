/**
 * Property-based fuzz test of every layer constructor of @axon/layers and @axon/recurrent
 * (fast-check): random option objects — each layer's own options (read from its unknown-option
 * error) with values of every kind (valid, out of range, wrong type, NaN, null) and now and then a
 * misspelt key — then the layer applied to an input of the rank it takes, in training and
 * inference mode. The invariant: a working layer (its output holds no NaN, from a finite input) or a
 * clear Error (an Error naming the layer or one of the options given), never a TypeError from
 * inside, a crash or a hang. Runs on the backend in use (AXON_BACKEND: native, js or sim).
 * Findings and their regression tests: layer-options-findings.test.ts.
 */
// Registers 'native' (when it loads), so the default run fuzzes it; AXON_BACKEND=js / sim pick the others.
import '@axon/kernels-native';
import * as L from '@axon/layers';
import { type Tensor, getBackend, randomNormal, setSeed, tensor } from '@axon/tensor';
import { fuzzConfig, unclearError } from '@axon/tensor/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import * as R from '../src/index.js';

/** A layer argument (a wrapped layer, a cell) made afresh for each case: layers are stateful. */
class Fresh {
  constructor(
    readonly describe: string,
    readonly make: () => unknown,
  ) {}
}

const fresh = (describe: string, make: () => unknown): Fresh => new Fresh(describe, make);

type Factory = (options: Record<string, unknown>) => L.Layer;

interface LayerFuzz {
  /** The factory, called with the random options. */
  readonly factory: string;
  /** Options every case starts from (the required ones whose check comes first). */
  readonly base?: Record<string, unknown>;
  /** The input it is applied to: a shape (batch first), 'int' (token ids [2, 3]), 'pair' (two [2, 3]), or null (not applied). */
  readonly input: readonly number[] | 'int' | 'pair' | null;
}

const ALL = { ...L, ...R } as unknown as Record<string, unknown>;
const DENSE_INPUT = [2, 3];
const SEQUENCE_INPUT = [2, 4, 3];
const IMAGE_INPUT = [2, 5, 5, 2];

/** Every layer class of both packages, by class name (abstract bases are tested through their subclasses). */
const LAYERS: Record<string, LayerFuzz | 'abstract'> = {
  ActivationLayer: { factory: 'activation', input: DENSE_INPUT },
  Add: { factory: 'add', input: 'pair' },
  AlphaDropout: { factory: 'alphaDropout', input: DENSE_INPUT },
  Average: { factory: 'average', input: 'pair' },
  AveragePooling1D: { factory: 'averagePooling1d', input: SEQUENCE_INPUT },
  AveragePooling2D: { factory: 'averagePooling2d', input: IMAGE_INPUT },
  BatchNormalization: { factory: 'batchNormalization', input: DENSE_INPUT },
  Concatenate: { factory: 'concatenate', input: 'pair' },
  Conv1D: { factory: 'conv1d', input: SEQUENCE_INPUT },
  Conv2D: { factory: 'conv2d', input: IMAGE_INPUT },
  Conv2DTranspose: { factory: 'conv2dTranspose', input: IMAGE_INPUT },
  Cropping1D: { factory: 'cropping1d', input: SEQUENCE_INPUT },
  Cropping2D: { factory: 'cropping2d', input: IMAGE_INPUT },
  Dense: { factory: 'dense', input: DENSE_INPUT },
  DepthwiseConv2D: { factory: 'depthwiseConv2d', input: IMAGE_INPUT },
  Dot: { factory: 'dot', input: 'pair' },
  Dropout: { factory: 'dropout', input: DENSE_INPUT },
  ELU: { factory: 'elu', input: DENSE_INPUT },
  Embedding: { factory: 'embedding', input: 'int' },
  Flatten: { factory: 'flatten', input: SEQUENCE_INPUT },
  GaussianDropout: { factory: 'gaussianDropout', input: DENSE_INPUT },
  GaussianNoise: { factory: 'gaussianNoise', input: DENSE_INPUT },
  GlobalAveragePooling1D: { factory: 'globalAveragePooling1d', input: SEQUENCE_INPUT },
  GlobalAveragePooling2D: { factory: 'globalAveragePooling2d', input: IMAGE_INPUT },
  GlobalMaxPooling1D: { factory: 'globalMaxPooling1d', input: SEQUENCE_INPUT },
  GlobalMaxPooling2D: { factory: 'globalMaxPooling2d', input: IMAGE_INPUT },
  InputLayer: { factory: 'inputLayer', base: { inputShape: [3] }, input: null },
  LayerNormalization: { factory: 'layerNormalization', input: DENSE_INPUT },
  LeakyReLU: { factory: 'leakyReLU', input: DENSE_INPUT },
  MaxPooling1D: { factory: 'maxPooling1d', input: SEQUENCE_INPUT },
  MaxPooling2D: { factory: 'maxPooling2d', input: IMAGE_INPUT },
  Maximum: { factory: 'maximum', input: 'pair' },
  Merge: 'abstract',
  Minimum: { factory: 'minimum', input: 'pair' },
  Multiply: { factory: 'multiply', input: 'pair' },
  PReLU: { factory: 'pReLU', input: DENSE_INPUT },
  Permute: { factory: 'permute', input: SEQUENCE_INPUT },
  ReLU: { factory: 'reLU', input: DENSE_INPUT },
  RepeatVector: { factory: 'repeatVector', input: DENSE_INPUT },
  Reshape: { factory: 'reshape', input: DENSE_INPUT },
  SeparableConv: 'abstract',
  SeparableConv1D: { factory: 'separableConv1d', input: SEQUENCE_INPUT },
  SeparableConv2D: { factory: 'separableConv2d', input: IMAGE_INPUT },
  Softmax: { factory: 'softmax', input: DENSE_INPUT },
  SpatialDropout1D: { factory: 'spatialDropout1d', input: SEQUENCE_INPUT },
  SpatialDropout2D: { factory: 'spatialDropout2d', input: IMAGE_INPUT },
  Subtract: { factory: 'subtract', input: 'pair' },
  TextVectorization: { factory: 'textVectorization', input: null },
  UpSampling1D: { factory: 'upSampling1d', input: SEQUENCE_INPUT },
  UpSampling2D: { factory: 'upSampling2d', input: IMAGE_INPUT },
  ZeroPadding1D: { factory: 'zeroPadding1d', input: SEQUENCE_INPUT },
  ZeroPadding2D: { factory: 'zeroPadding2d', input: IMAGE_INPUT },
  Rescaling: { factory: 'rescaling', input: DENSE_INPUT },
  Normalization: { factory: 'normalization', input: DENSE_INPUT },
  Resizing: { factory: 'resizing', base: { height: 2, width: 3 }, input: IMAGE_INPUT },
  CenterCrop: { factory: 'centerCrop', base: { height: 2, width: 3 }, input: IMAGE_INPUT },
  RandomImageLayer: 'abstract',
  RandomAffineLayer: 'abstract',
  RandomRotation: { factory: 'randomRotation', base: { factor: 0.1 }, input: IMAGE_INPUT },
  RandomTranslation: { factory: 'randomTranslation', base: { heightFactor: 0.1, widthFactor: 0.1 }, input: IMAGE_INPUT },
  RandomZoom: { factory: 'randomZoom', base: { heightFactor: 0.1 }, input: IMAGE_INPUT },
  RandomFlip: { factory: 'randomFlip', input: IMAGE_INPUT },
  RandomCrop: { factory: 'randomCrop', base: { height: 2, width: 3 }, input: IMAGE_INPUT },
  RandomContrast: { factory: 'randomContrast', base: { factor: 0.1 }, input: IMAGE_INPUT },
  RandomBrightness: { factory: 'randomBrightness', base: { factor: 0.1 }, input: IMAGE_INPUT },
  Bidirectional: {
    factory: 'bidirectional',
    base: { layer: fresh('lstm({units: 2})', () => R.lstm({ units: 2 })) },
    input: SEQUENCE_INPUT,
  },
  GRU: { factory: 'gru', input: SEQUENCE_INPUT },
  GRUCell: { factory: 'gruCell', base: { units: 2 }, input: null },
  LSTM: { factory: 'lstm', input: SEQUENCE_INPUT },
  LSTMCell: { factory: 'lstmCell', base: { units: 2 }, input: null },
  Masking: { factory: 'masking', input: SEQUENCE_INPUT },
  RNN: { factory: 'rnn', base: { cell: fresh('simpleRNNCell({units: 2})', () => R.simpleRNNCell({ units: 2 })) }, input: SEQUENCE_INPUT },
  RNNCell: 'abstract',
  SimpleRNN: { factory: 'simpleRNN', input: SEQUENCE_INPUT },
  SimpleRNNCell: { factory: 'simpleRNNCell', base: { units: 2 }, input: null },
  StackedRNNCells: {
    factory: 'stackedRNNCells',
    base: { cells: fresh('[gruCell({units: 2})]', () => [R.gruCell({ units: 2 })]) },
    input: null,
  },
  TimeDistributed: {
    factory: 'timeDistributed',
    base: { layer: fresh('dense({units: 2})', () => L.dense({ units: 2 })) },
    input: SEQUENCE_INPUT,
  },
};

/** The layer's own options, from the error an unknown option gives (which also proves none is ignored silently). */
function knownOptions(fuzz: LayerFuzz): string[] {
  const factory = ALL[fuzz.factory] as Factory;
  try {
    factory({ ...resolve(fuzz.base ?? {}), zzProbe: 1 });
  } catch (e) {
    const known = /known options: (.*)$/.exec((e as Error).message)?.[1];
    if (known) return known.split(', ');
    throw new Error(`${fuzz.factory}: an unknown option gave '${(e as Error).message}', which lists no known options`);
  }
  throw new Error(`${fuzz.factory}: an unknown option was accepted silently`);
}

// ---- option values -------------------------------------------------------------------------------

const bad = fc.constantFrom<unknown>(null, 'x', '0.5', '2', -1, 0, 2.5, Number.NaN, true, {}, []);
const mostly = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: good as fc.Arbitrary<unknown>, weight: 6 }, { arbitrary: bad, weight: 1 });
const smallPositive = fc.integer({ min: 1, max: 4 });
const windowLike = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })));
const fraction = fc.oneof(fc.double({ min: 0, max: 0.9, noNaN: true }), fc.constantFrom(1, 1.5, -0.1));
const real = fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(Number.POSITIVE_INFINITY, 1e-3));
const flag = fc.boolean();
const shapeLike = fc.oneof(
  fc.array(smallPositive, { minLength: 1, maxLength: 3 }),
  fc.constantFrom<unknown>([], [0], [-1], [null, 3], 'x'),
);

/** A value of the wrong type for a numeric option: a layer must refuse it, not coerce it ('2' > 1 is true in JavaScript). */
const notNumber = (v: unknown): boolean =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'object' && v !== null && !Array.isArray(v));
/** A value other than a boolean for a flag: a layer must refuse it ('no' is truthy). */
const notFlag = (v: unknown): boolean => v !== undefined && v !== null && typeof v !== 'boolean';

/**
 * Values for an option, by its name (the patterns cover the option names of every layer), and which
 * of them a layer must refuse: accepting one silently is a finding too.
 */
const OPTION_VALUES: [RegExp, fc.Arbitrary<unknown>, ((v: unknown) => boolean)?][] = [
  [
    /^(units|filters|n|depthMultiplier|maxTokens|inputDim|outputDim|outputSequenceLength|ngrams|inputLength|height|width)$/,
    mostly(smallPositive),
    notNumber,
  ],
  [/^(kernelSize|poolSize|strides|size|dilationRate)$/, mostly(windowLike)],
  [/^padding$/, fc.oneof(fc.constantFrom<unknown>('valid', 'same', 'causal', 'full'), mostly(windowLike))],
  [
    /^cropping$/,
    mostly(fc.oneof(fc.integer({ min: 0, max: 2 }), fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })))),
  ],
  [/^(rate|dropout|recurrentDropout)$/, mostly(fraction), notNumber],
  [
    /[aA]ctivation$/,
    fc.constantFrom<unknown>('relu', 'linear', 'softmax', 'tanh', 'sigmoid', 'hardSigmoid', 'bogus', null, 3, (x: Tensor) => x),
  ],
  // A variance must not start negative (glorotUniform draws negatives: NaN in inference, as in Keras): not fuzzed.
  [
    /^movingVarianceInitializer$/,
    fc.constantFrom<unknown>('ones', 'zeros', 'bogus', null, { className: 'Constant', config: { value: 2 } }),
  ],
  [
    /Initializer$/,
    fc.constantFrom<unknown>(
      'zeros',
      'ones',
      'glorotUniform',
      'heNormal',
      'orthogonal',
      'bogus',
      null,
      { className: 'Constant', config: { value: 0.5 } },
      { className: 'RandomNormal', config: { stddev: -1 } },
    ),
  ],
  [/Regularizer$/, fc.constantFrom<unknown>('l2', 'l1', { className: 'L1L2', config: { l1: 0.01 } }, 'bogus', null, 3)],
  [/Constraint$/, fc.constantFrom<unknown>(null, undefined, 'maxNorm', 'nonNeg')],
  [
    /^(useBias|returnSequences|returnState|goBackwards|stateful|center|normalize|unroll|keepdims|trainable|resetAfter|maskZero|unitForgetBias|padToMaxTokens|zeroOutputForMask|invert|antialias|cropToAspectRatio|padToAspectRatio)$/,
    mostly(flag),
    notFlag,
  ],
  [/^inputShape$/, shapeLike],
  [
    /^batchInputShape$/,
    fc.oneof(
      shapeLike.map((s) => (Array.isArray(s) ? [2, ...s] : s)),
      fc.constantFrom<unknown>([null, 3], [2]),
    ),
  ],
  [/^(batchSize|seed)$/, mostly(smallPositive), notNumber],
  [/^name$/, fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom<unknown>(3, null))],
  [/^dtype$/, fc.constantFrom<unknown>('float32', 'int32', 'float64', null)],
  [/^dataFormat$/, fc.constantFrom<unknown>('channelsLast', 'channelsFirst', 'bogus')],
  [/^(axis|axes)$/, fc.oneof(fc.integer({ min: -3, max: 3 }), fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 2 }), bad)],
  [/^(alpha|maxValue|negativeSlope|threshold|stddev|epsilon|momentum|maskValue)$/, mostly(real), notNumber],
  [/^weights$/, fc.constantFrom<unknown>(null, [], 'x', [[1, 2]])],
  [/^noiseShape$/, fc.constantFrom<unknown>(null, [1, 1], [2, 1], 'x')],
  [/^dims$/, fc.constantFrom<unknown>([1, 2], [2, 1], [1, 1], [0, 1], [3, 1], 'x')],
  [/^targetShape$/, fc.constantFrom<unknown>([3], [-1], [1, 3], [3, 1], [4], [0], [-1, -1], 'x')],
  [/^interpolation$/, fc.constantFrom<unknown>('nearest', 'bilinear', 'bogus')],
  // A flag of the normalization layers, a factor of Rescaling: both kinds, and no refusal required.
  [/^scale$/, fc.oneof(flag, real, bad)],
  [
    /^(factor|heightFactor|widthFactor)$/,
    mostly(fc.oneof(fraction, fc.tuple(fc.double({ min: -0.5, max: 0, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true })))),
  ],
  [/^fillMode$/, fc.constantFrom<unknown>('reflect', 'wrap', 'constant', 'nearest', 'bogus', 3)],
  [/^(fillValue|offset)$/, mostly(real), notNumber],
  [/^mode$/, fc.constantFrom<unknown>('horizontal', 'vertical', 'horizontal_and_vertical', 'bogus', null)],
  [/^valueRange$/, fc.constantFrom<unknown>([0, 1], [0, 255], [1, 0], [0], 'x', null)],
  [/^(mean|variance)$/, fc.oneof(real, fc.array(real, { minLength: 1, maxLength: 3 }), bad)],
  [/^mergeMode$/, fc.constantFrom<unknown>('concat', 'sum', 'ave', 'mul', 'bogus', null)],
  [
    /^layer$/,
    fc.constantFrom<unknown>(
      fresh('lstm({units: 2})', () => R.lstm({ units: 2 })),
      fresh('gru({units: 1, returnSequences: true})', () => R.gru({ units: 1, returnSequences: true })),
      fresh('dense({units: 2})', () => L.dense({ units: 2 })),
      'lstm',
      null,
    ),
  ],
  [
    /^cell$/,
    fc.constantFrom<unknown>(
      fresh('simpleRNNCell({units: 2})', () => R.simpleRNNCell({ units: 2 })),
      fresh('[lstmCell, gruCell]', () => [R.lstmCell({ units: 2 }), R.gruCell({ units: 1 })]),
      fresh('dense({units: 2})', () => L.dense({ units: 2 })),
      null,
      'x',
    ),
  ],
  [
    /^cells$/,
    fc.constantFrom<unknown>(
      fresh('[gruCell({units: 2})]', () => [R.gruCell({ units: 2 })]),
      [],
      null,
      'x',
    ),
  ],
  [
    /^(standardize|split|outputMode|vocabulary)$/,
    fc.constantFrom<unknown>('lowerAndStripPunctuation', 'whitespace', 'int', 'multiHot', 'count', 'tfIdf', 'bogus', null, ['a', 'b']),
  ],
];
const anyValue = fc.oneof(fc.integer({ min: -1, max: 3 }), real, fc.constantFrom<unknown>('x', true, null, [1, 2], {}));

function valuesFor(option: string): fc.Arbitrary<unknown> {
  return OPTION_VALUES.find(([pattern]) => pattern.test(option))?.[1] ?? anyValue;
}

/** A random option object: a subset of the layer's options, now and then with a misspelt one. */
function optionsFor(known: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const chosen = fc
    .subarray([...known], { maxLength: 5 })
    .chain((keys) => fc.tuple(...keys.map((k) => valuesFor(k).map((v) => [k, v] as const))));
  const misspelt = fc.oneof(
    { arbitrary: fc.constant([] as [string, unknown][]), weight: 9 },
    { arbitrary: fc.constantFrom(...known).map((k) => [[`${k}s`, 1]] as [string, unknown][]), weight: 1 },
  );
  return fc.tuple(chosen, misspelt).map(([pairs, extra]) => Object.fromEntries([...pairs, ...extra]));
}

function resolve(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v instanceof Fresh ? v.make() : v]));
}

function describeOptions(options: Record<string, unknown>): string {
  const parts = Object.entries(options).map(([k, v]) => {
    if (v instanceof Fresh) return `${k}: ${v.describe}`;
    if (typeof v === 'function') return `${k}: a function`;
    if (typeof v === 'number' && !Number.isFinite(v)) return `${k}: ${v}`;
    return `${k}: ${JSON.stringify(v) ?? String(v)}`;
  });
  return `{${parts.join(', ')}}`;
}

function inputFor(spec: LayerFuzz['input']): Tensor | Tensor[] {
  setSeed(3);
  if (spec === 'int') return tensor([0, 1, 2, 1, 0, 3], [2, 3], 'int32');
  if (spec === 'pair') return [randomNormal(DENSE_INPUT), randomNormal(DENSE_INPUT)];
  return randomNormal(spec as number[]);
}

/** Why a case breaks the invariant, or null. */
function runCase(className: string, fuzz: LayerFuzz, options: Record<string, unknown>): string | null {
  // A clear message names the class, the factory, an option given, or the layer itself (`Layer dense_3: ...`).
  const names = [className, fuzz.factory, `Layer ${L.toSnakeCase(className)}`, ...Object.keys(options)];
  if (typeof options.name === 'string') names.push(`Layer ${options.name}:`);
  let layer: L.Layer;
  try {
    layer = (ALL[fuzz.factory] as Factory)(resolve({ ...(fuzz.base ?? {}), ...options }));
  } catch (error) {
    return unclearError(error, names);
  }
  const wrong = Object.entries(options).find(([k, v]) => OPTION_VALUES.find(([pattern]) => pattern.test(k))?.[2]?.(v));
  if (wrong) return `accepted ${wrong[0]}: ${JSON.stringify(wrong[1])} without a word`;
  if (fuzz.input === null) return null;
  try {
    for (const training of [true, false]) {
      const outputs = layer.apply(inputFor(fuzz.input) as Tensor, { training });
      for (const y of Array.isArray(outputs) ? outputs : [outputs]) {
        if (y.dtype === 'float32' && y.dataSync().some(Number.isNaN)) return `NaN out of a finite input (training: ${training})`;
      }
    }
  } catch (error) {
    return unclearError(error, names);
  }
  return null;
}

const config = fuzzConfig(25);
let cases = 0;

describe(`fuzz: layer options of @axon/layers and @axon/recurrent on ${getBackend().name} (seed ${config.seed})`, () => {
  it('covers every layer class the packages export', () => {
    const classes = Object.entries(ALL)
      .filter(([, value]) => typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof L.Layer)
      .map(([name]) => name);
    expect(classes.filter((name) => !(name in LAYERS))).toEqual([]);
  });

  for (const [className, fuzz] of Object.entries(LAYERS)) {
    if (fuzz === 'abstract') continue;
    it(className, () => {
      // Not an options object at all (in @axon/node, `add(x, y)` reaches the merge layer `add`).
      for (const notOptions of [tensor([1, 2]), [1, 2], 'x', 3, true]) {
        let error: unknown = null;
        try {
          (ALL[fuzz.factory] as (x: unknown) => unknown)(notOptions);
        } catch (e) {
          error = e;
        }
        expect(
          unclearError(error, [className, fuzz.factory, `Layer ${L.toSnakeCase(className)}`]),
          `${fuzz.factory}(${String(notOptions)})`,
        ).toBeNull();
        cases++;
      }
      const known = knownOptions(fuzz);
      fc.assert(
        fc.property(optionsFor(known), (options) => {
          const problem = runCase(className, fuzz, options);
          if (problem) throw new Error(`${fuzz.factory}(${describeOptions({ ...(fuzz.base ?? {}), ...options })}): ${problem}`);
          cases++;
        }),
        { seed: config.seed, numRuns: config.numRuns },
      );
    });
  }

  afterAll(() => {
    console.log(
      `fuzz-layer-options: ${cases} cases over ${Object.keys(LAYERS).length} layer classes on ${getBackend().name}, seed ${config.seed}`,
    );
  });
});
