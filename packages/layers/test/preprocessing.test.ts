/**
 * The preprocessing and augmentation layers against PyTorch references
 * (scripts/make-preprocessing-fixtures.py → preprocessing-fixtures.json) on every backend, plus
 * what fixtures cannot show: how random parameters are drawn, training-only behaviour, setSeed and
 * per-layer seeds, adapt from streams, configs and errors.
 */
import { concat, randomFloat, setSeed, slice, sum, tensor, valueAndGrads, type Tensor } from '@axon/tensor';
import { checkGradients } from '@axon/tensor/testing';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  affineTransform,
  centerCrop,
  deserializeLayer,
  normalization,
  randomBrightness,
  randomContrast,
  randomCrop,
  randomFlip,
  randomRotation,
  randomTranslation,
  randomZoom,
  rescaling,
  resizing,
  rotationTransform,
  seededRng,
  serializeLayer,
  translationTransform,
  zoomTransform,
  type Layer,
} from '../src/index.js';
import { adjustContrast } from '../src/layers/augmentation.js';
import { BACKENDS, decode, expectClose, useBackend, type Encoded } from './helpers.js';

interface LayerCase {
  name: string;
  layer: { className: string; config: Record<string, unknown> };
  training: boolean;
  input: Encoded;
  output: Encoded;
}
interface Fixtures {
  layers: LayerCase[];
  transforms: {
    name: string;
    transform: number[];
    interpolation: 'bilinear' | 'nearest';
    fillMode: 'reflect' | 'wrap' | 'constant' | 'nearest';
    fillValue: number;
    input: Encoded;
    output: Encoded;
  }[];
  adapt: {
    name: string;
    axis: number | number[] | null;
    batches: Encoded[];
    mean: Encoded;
    variance: Encoded;
    keptShape: number[];
    output: Encoded;
  }[];
  contrast: { input: Encoded; factors: number[]; valueRange: [number, number]; output: Encoded };
  flips: Record<'input' | 'none' | 'horizontal' | 'vertical' | 'both', Encoded>;
}

const fixtures = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'preprocessing-fixtures.json'), 'utf8')) as Fixtures;

/** Image `i` of a batch, as a tensor [1, h, w, c]. */
const image = (x: Tensor, i: number): Tensor => slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
const apply = (layer: Layer, x: Tensor, training: boolean): Tensor => layer.apply(x, { training }) as Tensor;
/** Deterministic images [batch, height, width, channels] with values in [lo, hi). */
function images(shape: number[], seed: number, lo = 0, hi = 1): Tensor {
  const rng = seededRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform()),
    shape,
  );
}

describe.each(BACKENDS)('preprocessing layers on the %s backend', (backend) => {
  beforeEach(() => useBackend(backend));

  it('has fixtures for every layer', () => {
    const classes = new Set(fixtures.layers.map((f) => f.layer.className));
    for (const name of [
      'Rescaling',
      'Normalization',
      'Resizing',
      'CenterCrop',
      'RandomCrop',
      'RandomRotation',
      'RandomTranslation',
      'RandomZoom',
      'RandomBrightness',
    ]) {
      expect(classes).toContain(name);
    }
  });

  describe.each(fixtures.layers.map((f) => [f.name, f] as const))('%s matches PyTorch', (_name, f) => {
    it('output', () => {
      const layer = deserializeLayer({ className: f.layer.className, config: f.layer.config });
      expectClose(apply(layer, decode(f.input), f.training), f.output, f.name);
    });
  });

  it.each(fixtures.transforms.map((f) => [f.name, f] as const))('affineTransform %s matches TF semantics', (_name, f) => {
    const y = affineTransform(decode(f.input), [f.transform], {
      interpolation: f.interpolation,
      fillMode: f.fillMode,
      fillValue: f.fillValue,
    });
    expectClose(y, f.output, f.name);
  });

  it('adjustContrast matches (x - mean) · factor + mean, clipped', () => {
    const c = fixtures.contrast;
    const y = adjustContrast(decode(c.input), tensor(c.factors, [c.factors.length, 1, 1, 1]), c.valueRange);
    expectClose(y, c.output, 'contrast');
  });

  describe.each(fixtures.adapt.map((f) => [f.name, f] as const))('Normalization %s', (_name, f) => {
    const batches = (): Tensor[] => f.batches.map(decode);
    const check = (layer: ReturnType<typeof normalization>): void => {
      expectClose(layer.adaptMean!, { shape: f.keptShape, values: f.mean.values }, 'mean');
      expectClose(layer.adaptVariance!, { shape: f.keptShape, values: f.variance.values }, 'variance');
      expectClose(apply(layer, batches()[0]!, false), f.output, 'normalized output');
    };

    it('adapts from one tensor', () => {
      const layer = normalization({ axis: f.axis });
      layer.adapt(concat(batches(), 0));
      check(layer);
    });

    it('adapts from an iterable of batches', () => {
      const layer = normalization({ axis: f.axis });
      layer.adapt(batches());
      check(layer);
    });

    it('adapts from an async iterable (a streaming dataset)', async () => {
      const layer = normalization({ axis: f.axis });
      const list = batches();
      async function* stream(): AsyncGenerator<Tensor> {
        for (const b of list) yield await Promise.resolve(b);
      }
      await layer.adapt(stream());
      check(layer);
    });
  });

  describe('random layers draw their parameters as Keras', () => {
    const x = images([3, 5, 6, 2], 11);

    it('RandomRotation: an angle per image, uniform in factor · 2π', () => {
      const layer = randomRotation({ factor: [-0.1, 0.2], seed: 7, fillMode: 'constant' });
      const rng = seededRng(7);
      const lo = -0.1 * 2 * Math.PI;
      const hi = 0.2 * 2 * Math.PI;
      const transforms = [0, 1, 2].map(() => rotationTransform(lo + (hi - lo) * rng.uniform(), 5, 6));
      const expected = affineTransform(x, transforms, { fillMode: 'constant' });
      expectClose(apply(layer, x, true), { shape: [...expected.shape], values: [...expected.dataSync()] }, 'rotated');
    });

    it('RandomTranslation: every vertical shift, then every horizontal one, as fractions of the size', () => {
      const layer = randomTranslation({ heightFactor: 0.2, widthFactor: [-0.1, 0.3], seed: 3 });
      const rng = seededRng(3);
      const dy = [0, 1, 2].map(() => (-0.2 + 0.4 * rng.uniform()) * 5);
      const dx = [0, 1, 2].map(() => (-0.1 + 0.4 * rng.uniform()) * 6);
      const expected = affineTransform(
        x,
        dy.map((y, i) => translationTransform(dx[i]!, y)),
        {},
      );
      expectClose(apply(layer, x, true), { shape: [...expected.shape], values: [...expected.dataSync()] }, 'translated');
    });

    it('RandomZoom: 1 + a draw per axis; without widthFactor both axes zoom alike', () => {
      const rng = seededRng(9);
      const zy = [0, 1, 2].map(() => 1 + (-0.3 + 0.6 * rng.uniform()));
      const zx = [0, 1, 2].map(() => 1 + (0.1 + 0.1 * rng.uniform()));
      const expected = affineTransform(
        x,
        zy.map((y, i) => zoomTransform(zx[i]!, y, 5, 6)),
        { interpolation: 'nearest' },
      );
      const layer = randomZoom({ heightFactor: 0.3, widthFactor: [0.2, 0.1], interpolation: 'nearest', seed: 9 });
      expectClose(apply(layer, x, true), { shape: [...expected.shape], values: [...expected.dataSync()] }, 'zoomed');
      const same = seededRng(2);
      const z = [0, 1, 2].map(() => 1 + (-0.5 + 1 * same.uniform()));
      const alike = affineTransform(
        x,
        z.map((v) => zoomTransform(v, v, 5, 6)),
        {},
      );
      const y = apply(randomZoom({ heightFactor: 0.5, seed: 2 }), x, true);
      expectClose(y, { shape: [...alike.shape], values: [...alike.dataSync()] }, 'zoomed alike');
    });

    it('RandomFlip: each image flips left-right, then up-down, with probability 1/2 each', () => {
      const input = decode(fixtures.flips.input);
      for (const [mode, seed] of [
        ['horizontal_and_vertical', 1],
        ['horizontal_and_vertical', 4],
        ['horizontal', 2],
        ['vertical', 3],
      ] as const) {
        const rng = seededRng(seed);
        const batch = input.shape[0]!;
        const horizontal = Array.from({ length: batch }, () => mode !== 'vertical' && rng.uniform() < 0.5);
        const vertical = Array.from({ length: batch }, () => mode !== 'horizontal' && rng.uniform() < 0.5);
        const y = apply(randomFlip({ mode, seed }), input, true);
        for (let i = 0; i < batch; i++) {
          const kind = horizontal[i] ? (vertical[i] ? 'both' : 'horizontal') : vertical[i] ? 'vertical' : 'none';
          const expected = decode(fixtures.flips[kind]);
          expectClose(
            image(y, i),
            { shape: [1, ...expected.shape.slice(1)], values: [...image(expected, i).dataSync()] },
            `${mode} image ${i}`,
          );
        }
      }
    });

    it('RandomFlip draws each flip: over many calls all four outcomes occur', () => {
      const layer = randomFlip({ seed: 5 });
      const seen = new Set<string>();
      for (let k = 0; k < 40; k++) seen.add([...apply(layer, tensor([1, 2, 3, 4], [1, 2, 2, 1]), true).dataSync()].join(','));
      // [[1, 2], [3, 4]]: as is, left-right, up-down, both.
      expect([...seen].sort()).toEqual(['1,2,3,4', '2,1,4,3', '3,4,1,2', '4,3,2,1']);
    });

    it('RandomCrop: one window for the whole batch, its corner uniform over every position', () => {
      const big = images([2, 7, 9, 1], 12);
      const rng = seededRng(6);
      const top = Math.floor(rng.uniform() * 4);
      const left = Math.floor(rng.uniform() * 5);
      const y = apply(randomCrop({ height: 4, width: 5, seed: 6 }), big, true);
      const expected = slice(big, [0, top, left, 0], [-1, 4, 5, -1]);
      expectClose(y, { shape: [...expected.shape], values: [...expected.dataSync()] }, 'cropped');
      const corners = new Set<string>();
      const layer = randomCrop({ height: 6, width: 8, seed: 1 });
      const ramp = tensor(
        Float32Array.from({ length: 63 }, (_, i) => i),
        [1, 7, 9, 1],
      );
      for (let k = 0; k < 60; k++) corners.add(String(apply(layer, ramp, true).dataSync()[0]));
      // Corners (0|1, 0|1) of the ramp hold 0, 1, 9 and 10; every one is reached.
      expect([...corners].sort()).toEqual(['0', '1', '10', '9']);
    });

    it('RandomContrast: a factor per image in [1 - lower, 1 + upper]', () => {
      const pixels = images([4, 3, 3, 2], 13, 100, 150);
      const layer = randomContrast({ factor: [0.3, 0.5], seed: 8 });
      const rng = seededRng(8);
      const factors = [0, 1, 2, 3].map(() => 0.7 + 0.8 * rng.uniform());
      const expected = adjustContrast(pixels, tensor(factors, [4, 1, 1, 1]), [0, 255]);
      expectClose(apply(layer, pixels, true), { shape: [4, 3, 3, 2], values: [...expected.dataSync()] }, 'contrast');
      // The factor recovered from the output lies in the range: scale of the deviation from the mean.
      const y = apply(randomContrast({ factor: 0.2 }), pixels, true).dataSync();
      const x = pixels.dataSync();
      for (let i = 0; i < 4; i++) {
        const at = (a: Float32Array, j: number): number => a[i * 18 + j * 2]!; // channel 0
        const mean = [0, 1, 2, 3, 4, 5, 6, 7, 8].reduce((s, j) => s + at(x, j), 0) / 9;
        const factor = (at(y, 0) - mean) / (at(x, 0) - mean);
        expect(factor).toBeGreaterThanOrEqual(0.8 - 1e-3);
        expect(factor).toBeLessThanOrEqual(1.2 + 1e-3);
      }
    });

    it('RandomBrightness: a shift per image of factor · (high - low), clipped', () => {
      const x3 = images([40, 1, 2, 1], 14, 0.3, 0.7);
      const y = apply(randomBrightness({ factor: [-0.2, 0.1], valueRange: [0, 1], seed: 10 }), x3, true).dataSync();
      const rng = seededRng(10);
      const x = x3.dataSync();
      const deltas: number[] = [];
      for (let i = 0; i < 40; i++) {
        const delta = -0.2 + 0.3 * rng.uniform();
        deltas.push(y[2 * i]! - x[2 * i]!);
        expect(y[2 * i]!).toBeCloseTo(Math.min(1, Math.max(0, x[2 * i]! + delta)), 6);
        expect(y[2 * i + 1]! - x[2 * i + 1]!).toBeCloseTo(deltas[i]!, 5); // one shift per image
      }
      expect(Math.min(...deltas)).toBeLessThan(-0.1);
      expect(Math.max(...deltas)).toBeGreaterThan(0.05);
    });
  });

  describe('training only, reproducible', () => {
    const x = images([2, 5, 6, 3], 21, 0, 255);
    const makers: [string, () => Layer][] = [
      ['RandomFlip', () => randomFlip()],
      ['RandomRotation', () => randomRotation({ factor: 0.2 })],
      ['RandomTranslation', () => randomTranslation({ heightFactor: 0.3, widthFactor: 0.3 })],
      ['RandomZoom', () => randomZoom({ heightFactor: 0.3 })],
      ['RandomContrast', () => randomContrast({ factor: 0.5 })],
      ['RandomBrightness', () => randomBrightness({ factor: 0.3 })],
      ['RandomCrop', () => randomCrop({ height: 4, width: 4 })],
    ];

    it.each(makers.filter(([name]) => name !== 'RandomCrop'))('%s is the identity outside training', (_name, make) => {
      const layer = make();
      for (const training of [false, undefined]) {
        const y = layer.apply(x, training === undefined ? {} : { training }) as Tensor;
        expect([...y.dataSync()]).toEqual([...x.dataSync()]);
      }
    });

    it.each(makers)('%s: setSeed makes training outputs reproducible', (_name, make) => {
      const layer = make();
      const run = (seed: number): number[] => {
        setSeed(seed);
        return [...apply(layer, x, true).dataSync()];
      };
      const first = run(123);
      expect(run(123)).toEqual(first);
      expect(run(124)).not.toEqual(first);
      expect(first).not.toEqual([...x.dataSync()].slice(0, first.length));
    });

    it.each(makers)('%s: a seed gives the layer its own generator', (_name, make) => {
      const config = serializeLayer(make());
      const seeded = (): Layer =>
        deserializeLayer({ className: config.className, config: { ...config.config, name: undefined, seed: 42 } });
      const a = seeded();
      const b = seeded();
      randomFloat(); // the global generator does not matter
      const a1 = [...apply(a, x, true).dataSync()];
      expect([...apply(b, x, true).dataSync()]).toEqual(a1);
      expect([...apply(a, x, true).dataSync()]).not.toEqual(a1); // the next call draws anew
    });

    it.each(makers)('%s takes one unbatched image [height, width, channels]', (_name, make) => {
      const config = serializeLayer(make());
      const seeded = (): Layer => deserializeLayer({ className: config.className, config: { ...config.config, name: undefined, seed: 1 } });
      const one = image(x, 0);
      const batched = apply(seeded(), one, true);
      const unbatched = apply(seeded(), tensor(one.dataSync(), one.shape.slice(1)), true);
      expect(unbatched.shape).toEqual(batched.shape.slice(1));
      expect([...unbatched.dataSync()]).toEqual([...batched.dataSync()]);
    });
  });

  it('Resizing, CenterCrop and RandomCrop report their output shape, batched or not', () => {
    for (const layer of [resizing({ height: 3, width: 4 }), centerCrop({ height: 3, width: 4 }), randomCrop({ height: 3, width: 4 })]) {
      expect(layer.computeOutputShape([null, 8, 9, 3])).toEqual([null, 3, 4, 3]);
      expect(layer.computeOutputShape([8, 9, 3])).toEqual([3, 4, 3]);
      expect(apply(layer, images([8, 9, 3], 1), false).shape).toEqual([3, 4, 3]);
    }
  });

  it('Rescaling casts to float32; Rescaling and Normalization pass gradients', () => {
    const y = apply(rescaling({ scale: 2 }), tensor([1, 2, 3], [3, 1], 'int32'), false);
    expect(y.dtype).toBe('float32');
    expect([...y.dataSync()]).toEqual([2, 4, 6]);
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const layers = [rescaling({ scale: 3, offset: 1 }), normalization({ mean: [0, 1], variance: [4, 16] })];
    const { grads } = valueAndGrads(() => sum(apply(layers[1]!, apply(layers[0]!, x, true), true)), [x]);
    // d/dx of (3x + 1 - mean) / std, std = [2, 4] per feature.
    expect([...grads[0]!.dataSync()]).toEqual([1.5, 0.75, 1.5, 0.75]);
  });
});

describe.each(BACKENDS)('gradients on the %s backend', (backend) => {
  beforeEach(() => useBackend(backend));
  const x = images([2, 4, 5, 2], 51);

  it.each([
    [
      'affineTransform (bilinear, constant fill)',
      (t: Tensor) => affineTransform(t, [rotationTransform(0.4, 4, 5)], { fillMode: 'constant', fillValue: 0.5 }),
    ],
    [
      'affineTransform (nearest, reflect)',
      (t: Tensor) => affineTransform(t, [zoomTransform(1.3, 0.7, 4, 5)], { interpolation: 'nearest' }),
    ],
    [
      'RandomTranslation (wrap)',
      (t: Tensor) => apply(randomTranslation({ heightFactor: [0.3, 0.3], widthFactor: [-0.2, -0.2], fillMode: 'wrap' }), t, true),
    ],
    ['RandomFlip', (t: Tensor) => apply(randomFlip({ seed: 3 }), t, true)],
    ['Resizing (bilinear)', (t: Tensor) => apply(resizing({ height: 3, width: 7 }), t, false)],
    ['CenterCrop of a smaller image', (t: Tensor) => apply(centerCrop({ height: 6, width: 3 }), t, false)],
    ['RandomContrast', (t: Tensor) => apply(randomContrast({ factor: 0.5, valueRange: [-10, 10], seed: 1 }), t, true)],
  ] as const)('%s: finite differences agree with autograd', (_name, f) => {
    checkGradients((t) => f(t!), [x]);
  });
});

describe('configs round-trip', () => {
  const x = images([2, 6, 7, 2], 31);
  const layers: [string, () => Layer][] = [
    ['Rescaling', () => rescaling({ scale: 0.5, offset: 2 })],
    ['Normalization (fixed)', () => normalization({ axis: [1, 2], mean: [1], variance: 4, invert: true })],
    ['Resizing', () => resizing({ height: 3, width: 5, interpolation: 'nearest', cropToAspectRatio: true })],
    ['CenterCrop', () => centerCrop({ height: 4, width: 3 })],
    ['RandomCrop', () => randomCrop({ height: 4, width: 3, seed: 3 })],
    ['RandomFlip', () => randomFlip({ mode: 'horizontal', seed: 3 })],
    ['RandomRotation', () => randomRotation({ factor: [-0.2, 0.1], fillMode: 'wrap', interpolation: 'nearest', seed: 3 })],
    [
      'RandomTranslation',
      () => randomTranslation({ heightFactor: [0, 0.3], widthFactor: 0.2, fillMode: 'constant', fillValue: 2, seed: 3 }),
    ],
    ['RandomZoom', () => randomZoom({ heightFactor: 0.3, widthFactor: [-0.1, 0.4], fillMode: 'nearest', seed: 3 })],
    ['RandomContrast', () => randomContrast({ factor: [0.2, 0.4], valueRange: [0, 1], seed: 3 })],
    ['RandomBrightness', () => randomBrightness({ factor: [-0.1, 0.3], valueRange: [0, 1], seed: 3 })],
  ];

  it.each(layers)('%s', (_name, make) => {
    const layer = make();
    const s = serializeLayer(layer);
    const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
    expect(serializeLayer(copy)).toEqual(s);
    expect([...apply(copy, x, true).dataSync()]).toEqual([...apply(layer, x, true).dataSync()]);
  });

  it('Normalization: adapted statistics are its weights, restored with setWeights', () => {
    const data = images([20, 3], 41, -5, 5);
    const layer = normalization();
    layer.adapt(data);
    expect(layer.weights.map((w) => w.name)).toEqual([`${layer.name}/mean`, `${layer.name}/variance`]);
    expect(layer.trainableWeights).toEqual([]);
    const s = serializeLayer(layer);
    expect(s.config).toMatchObject({ axis: -1, mean: null, variance: null, invert: false });
    const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
    copy.build([null, 3]);
    copy.setWeights(layer.getWeights());
    expect([...apply(copy, data, false).dataSync()]).toEqual([...apply(layer, data, false).dataSync()]);
  });

  it('reads Keras snake_case configs', () => {
    const layer = deserializeLayer({
      class_name: 'RandomTranslation',
      config: { height_factor: 0.1, width_factor: [-0.2, 0.2], fill_mode: 'nearest', fill_value: 0, data_format: 'channels_last', seed: 1 },
    } as never);
    expect(serializeLayer(layer).config).toMatchObject({ heightFactor: 0.1, widthFactor: [-0.2, 0.2], fillMode: 'nearest', seed: 1 });
    // model.json camel-cases string values on load (as tfjs does): RandomFlip's mode survives it.
    const flip = deserializeLayer({ className: 'RandomFlip', config: { mode: 'horizontalAndVertical' } });
    expect(serializeLayer(flip).config.mode).toBe('horizontal_and_vertical');
  });
});

describe('bad options are clear errors', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['rescaling without scale', () => rescaling({} as never), /Layer rescaling_\d+: scale is required/],
    ['rescaling scale', () => rescaling({ scale: Number.NaN }), /scale must be a finite number, got null/],
    [
      'normalization mean without variance',
      () => normalization({ mean: [1] }),
      /mean and variance must be given together.*got mean \[1\] and variance null/,
    ],
    ['normalization axis', () => normalization({ axis: 1.5 }), /axis must be an integer, a non-empty array of integers or null, got 1.5/],
    ['normalization variance', () => normalization({ mean: 0, variance: -1 }), /variance must be >= 0, got -1/],
    ['normalization option', () => normalization({ axes: 1 } as never), /unknown option 'axes' \(did you mean 'axis'\?\)/],
    ['resizing height', () => resizing({ height: 0, width: 2 }), /Layer resizing_\d+: height must be a positive integer, got 0/],
    [
      'resizing interpolation',
      () => resizing({ height: 2, width: 2, interpolation: 'bicubic' as never }),
      /interpolation must be 'bilinear', 'nearest', got "bicubic"/,
    ],
    ['resizing padToAspectRatio', () => resizing({ height: 2, width: 2, padToAspectRatio: true }), /padToAspectRatio is not supported/],
    ['centerCrop width', () => centerCrop({ height: 2, width: 2.5 }), /width must be a positive integer, got 2.5/],
    [
      'centerCrop dataFormat',
      () => centerCrop({ height: 2, width: 2, dataFormat: 'channelsFirst' as never }),
      /dataFormat must be 'channelsLast'.*got "channelsFirst"/,
    ],
    [
      'randomFlip mode',
      () => randomFlip({ mode: 'diagonal' as never }),
      /Layer random_flip_\d+: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got "diagonal"/,
    ],
    [
      'randomRotation factor',
      () => randomRotation({ factor: 1.5 }),
      /Layer random_rotation_\d+: factor must be a number or an array \[lower, upper\] of numbers in \[-1, 1\], got 1.5/,
    ],
    ['randomRotation factor pair', () => randomRotation({ factor: [0.1] as never }), /factor must be .* got \[0.1\]/],
    [
      'randomRotation fillMode',
      () => randomRotation({ factor: 0.1, fillMode: 'mirror' as never }),
      /fillMode must be 'reflect', 'wrap', 'constant', 'nearest', got "mirror"/,
    ],
    [
      'randomRotation fillValue',
      () => randomRotation({ factor: 0.1, fillValue: '0' as never }),
      /fillValue must be a finite number, got "0"/,
    ],
    ['randomRotation seed', () => randomRotation({ factor: 0.1, seed: 'a' as never }), /seed must be a finite number or null, got "a"/],
    [
      'randomTranslation widthFactor',
      () => randomTranslation({ heightFactor: 0.1 } as never),
      /widthFactor must be a number or an array .* got undefined/,
    ],
    ['randomZoom heightFactor', () => randomZoom({ heightFactor: [-2, 0] }), /heightFactor must be .* got \[-2,0\]/],
    [
      'randomContrast factor',
      () => randomContrast({ factor: -0.1 }),
      /Layer random_contrast_\d+: factor must be a number or an array \[lower, upper\] of numbers in \[0, 1\], got -0.1/,
    ],
    [
      'randomBrightness valueRange',
      () => randomBrightness({ factor: 0.1, valueRange: [0] as never }),
      /valueRange must be an array \[low, high\] of two finite numbers, got \[0\]/,
    ],
    ['randomCrop height', () => randomCrop({ height: -1, width: 2 }), /height must be a positive integer, got -1/],
    [
      'randomZoom option',
      () => randomZoom({ heightFactor: 0.1, fill_mode: 'wrap' } as never),
      /unknown option 'fill_mode' \(did you mean 'fillMode'\?\)/,
    ],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  it('image layers reject inputs that are not images', () => {
    expect(() => randomFlip().apply(tensor([1, 2], [2]))).toThrow(/expected input of rank >= 3, got shape \[2\]/);
    expect(() => resizing({ height: 2, width: 2 }).apply(tensor(new Float32Array(32), [1, 2, 2, 2, 4]))).toThrow(
      /expected input of rank <= 4/,
    );
  });

  it('Normalization.adapt rejects what it cannot learn from', async () => {
    expect(() => normalization({ mean: 1, variance: 1 }).adapt(tensor([1, 2], [2, 1]))).toThrow(
      /cannot adapt a Normalization layer given a fixed mean and variance/,
    );
    expect(() => normalization().adapt([])).toThrow(/adapt got no data/);
    expect(() => normalization().adapt([[1, 2]] as never)).toThrow(/adapt expects Tensors, got an array/);
    expect(() => normalization().adapt(42 as never)).toThrow(/adapt expects a Tensor or an \(async\) iterable of Tensors, got number/);
    const layer = normalization();
    expect(() => layer.adapt([tensor([1, 2, 3, 4], [2, 2]), tensor([1, 2, 3], [1, 3])])).toThrow(
      /adapt got a batch of shape \[1,3\], expected rank 2 with sizes \[null,2\]/,
    );
    expect(() => normalization({ axis: 0 }).adapt(tensor([1, 2], [2, 1]))).toThrow(/axis may not include the batch axis 0/);
    expect(() => normalization({ axis: 0 }).adapt(tensor([1, 2], [2, 1]))).toThrow(/axis may not include the batch axis 0/);
    expect(() => normalization({ mean: [1, 2], variance: [1, 2] }).apply(tensor([1, 2, 3], [1, 3]))).toThrow(/mean must have 1 value or 3/);
  });
});
