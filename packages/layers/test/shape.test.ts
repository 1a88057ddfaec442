/**
 * The 1-D pooling and reshaping layers beyond the PyTorch fixtures (scripts/make-fixtures-shape.py):
 * output shapes, configs and their round trip, defaults, errors, unknown options.
 */
import { randomNormal, setSeed, sum, tensor, valueAndGrads, type Tensor } from '@axon/tensor';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  averagePooling1d,
  cropping1d,
  cropping2d,
  deserializeLayer,
  globalAveragePooling1d,
  globalMaxPooling1d,
  maxPooling1d,
  permute,
  registeredLayerNames,
  repeatVector,
  serializeLayer,
  upSampling1d,
  upSampling2d,
  zeroPadding1d,
  zeroPadding2d,
  type Layer,
} from '../src/index.js';
import { BACKENDS, useBackend } from './helpers.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe.each(BACKENDS)('shape layers on the %s backend', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(7);
  });

  it('globalAveragePooling1d averages only the unmasked steps; globalMaxPooling1d ignores the mask', () => {
    const x = tensor([1, 10, 3, 30, 5, 50, 2, 20, 4, 40, 6, 60], [2, 3, 2]);
    const mask = tensor([1, 1, 0, 1, 0, 0], [2, 3]);
    expect(values(globalAveragePooling1d().apply(x, { mask }) as Tensor)).toEqual([2, 20, 2, 20]);
    const kept = globalAveragePooling1d({ keepdims: true }).apply(x, { mask }) as Tensor;
    expect(kept.shape).toEqual([2, 1, 2]);
    expect(values(kept)).toEqual([2, 20, 2, 20]);
    expect(values(globalAveragePooling1d().apply(x) as Tensor)).toEqual([3, 30, 4, 40]);
    expect(values(globalMaxPooling1d().apply(x, { mask }) as Tensor)).toEqual([5, 50, 6, 60]);
    expect(globalAveragePooling1d().computeMask(x, mask)).toBeNull();
    expect(() => globalAveragePooling1d({ name: 'g' }).apply(x, { mask: tensor([1, 1], [2, 1]) })).toThrow(
      /Layer g: the mask of shape \[2,1\] does not fit the input of shape \[2,3,2\]/,
    );
    const grads = valueAndGrads(() => sum(globalAveragePooling1d().apply(x, { mask }) as Tensor), [x]).grads[0]!;
    expect(values(grads)).toEqual([0.5, 0.5, 0.5, 0.5, 0, 0, 1, 1, 0, 0, 0, 0]);
  });

  describe('output shapes agree with computeOutputShape', () => {
    const cases: [string, () => Layer, number[], number[]][] = [
      ['maxPooling1d default', () => maxPooling1d(), [2, 7, 3], [2, 3, 3]],
      ['maxPooling1d same s2', () => maxPooling1d({ poolSize: 3, strides: 2, padding: 'same' }), [2, 9, 3], [2, 5, 3]],
      ['averagePooling1d [3]', () => averagePooling1d({ poolSize: [3], strides: [1] }), [1, 5, 2], [1, 3, 2]],
      ['globalMaxPooling1d', () => globalMaxPooling1d(), [2, 7, 3], [2, 3]],
      ['globalMaxPooling1d keepdims', () => globalMaxPooling1d({ keepdims: true }), [2, 7, 3], [2, 1, 3]],
      ['globalAveragePooling1d', () => globalAveragePooling1d(), [2, 7, 3], [2, 3]],
      ['globalAveragePooling1d keepdims', () => globalAveragePooling1d({ keepdims: true }), [2, 7, 3], [2, 1, 3]],
      ['upSampling1d', () => upSampling1d(), [2, 4, 3], [2, 8, 3]],
      ['upSampling2d', () => upSampling2d({ size: [2, 3] }), [2, 3, 4, 1], [2, 6, 12, 1]],
      ['zeroPadding1d', () => zeroPadding1d({ padding: [2, 3] }), [2, 4, 3], [2, 9, 3]],
      ['zeroPadding2d int', () => zeroPadding2d({ padding: 2 }), [1, 3, 4, 2], [1, 7, 8, 2]],
      [
        'zeroPadding2d pairs',
        () =>
          zeroPadding2d({
            padding: [
              [0, 1],
              [2, 3],
            ],
          }),
        [1, 3, 4, 2],
        [1, 4, 9, 2],
      ],
      ['cropping1d', () => cropping1d({ cropping: [1, 2] }), [2, 6, 3], [2, 3, 3]],
      ['cropping2d pair', () => cropping2d({ cropping: [1, 2] }), [1, 5, 6, 2], [1, 3, 2, 2]],
      ['cropping2d default', () => cropping2d(), [1, 5, 6, 2], [1, 5, 6, 2]],
      ['permute', () => permute({ dims: [3, 1, 2] }), [2, 3, 4, 5], [2, 5, 3, 4]],
      ['repeatVector', () => repeatVector({ n: 4 }), [2, 3], [2, 4, 3]],
    ];
    it.each(cases)('%s', (_name, make, inShape, outShape) => {
      const layer = make();
      const y = layer.apply(randomNormal(inShape)) as Tensor;
      expect(y.shape).toEqual(outShape);
      expect(layer.computeOutputShape([null, ...inShape.slice(1)])).toEqual([null, ...outShape.slice(1)]);
    });
  });

  it('unknown sizes stay null in computeOutputShape', () => {
    expect(upSampling1d().computeOutputShape([null, null, 3])).toEqual([null, null, 3]);
    expect(zeroPadding2d().computeOutputShape([null, null, 4, 3])).toEqual([null, null, 6, 3]);
    expect(cropping1d().computeOutputShape([null, null, 3])).toEqual([null, null, 3]);
    expect(maxPooling1d().computeOutputShape([null, null, 3])).toEqual([null, null, 3]);
    expect(permute({ dims: [2, 1] }).computeOutputShape([null, null, 3])).toEqual([null, 3, null]);
  });

  it('values: upsampling repeats, padding adds zeros, cropping cuts, permute and repeatVector move', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2]); // steps [1, 2], [3, 4]
    expect(values(upSampling1d({ size: 2 }).apply(x) as Tensor)).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
    expect(values(zeroPadding1d({ padding: [1, 0] }).apply(x) as Tensor)).toEqual([0, 0, 1, 2, 3, 4]);
    expect(values(cropping1d({ cropping: [1, 0] }).apply(x) as Tensor)).toEqual([3, 4]);
    expect(values(permute({ dims: [2, 1] }).apply(x) as Tensor)).toEqual([1, 3, 2, 4]);
    expect(values(repeatVector({ n: 2 }).apply(tensor([5, 6], [1, 2])) as Tensor)).toEqual([5, 6, 5, 6]);
    const img = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(values(upSampling2d().apply(img) as Tensor)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(
      values(
        zeroPadding2d({
          padding: [
            [0, 1],
            [1, 0],
          ],
        }).apply(img) as Tensor,
      ),
    ).toEqual([0, 1, 2, 0, 3, 4, 0, 0, 0]);
    expect(
      values(
        cropping2d({
          cropping: [
            [1, 0],
            [0, 1],
          ],
        }).apply(img) as Tensor,
      ),
    ).toEqual([3]);
    expect(values(maxPooling1d().apply(tensor([1, 5, 3, 2, 4, 0], [1, 6, 1])) as Tensor)).toEqual([5, 3, 4]);
    expect(values(averagePooling1d({ padding: 'same', strides: 2, poolSize: 2 }).apply(tensor([1, 5, 3], [1, 3, 1])) as Tensor)).toEqual([
      3, 3,
    ]);
  });
});

describe('configs (tfjs camelCase) and their round trip', () => {
  const cases: [string, () => Layer, Record<string, unknown>][] = [
    ['MaxPooling1D', () => maxPooling1d({ name: 'l' }), { poolSize: [2], padding: 'valid', strides: [2] }],
    [
      'AveragePooling1D',
      () => averagePooling1d({ poolSize: 3, strides: 1, padding: 'same', name: 'l' }),
      { poolSize: [3], padding: 'same', strides: [1] },
    ],
    ['GlobalMaxPooling1D', () => globalMaxPooling1d({ name: 'l' }), {}],
    ['GlobalAveragePooling1D', () => globalAveragePooling1d({ keepdims: true, name: 'l' }), { keepdims: true }],
    ['UpSampling1D', () => upSampling1d({ name: 'l' }), { size: 2 }],
    ['UpSampling2D', () => upSampling2d({ size: 3, name: 'l' }), { size: [3, 3], dataFormat: 'channelsLast', interpolation: 'nearest' }],
    ['ZeroPadding1D', () => zeroPadding1d({ name: 'l' }), { padding: [1, 1] }],
    [
      'ZeroPadding2D',
      () => zeroPadding2d({ padding: [1, 2], name: 'l' }),
      {
        padding: [
          [1, 1],
          [2, 2],
        ],
        dataFormat: 'channelsLast',
      },
    ],
    ['Cropping1D', () => cropping1d({ cropping: 2, name: 'l' }), { cropping: [2, 2] }],
    [
      'Cropping2D',
      () =>
        cropping2d({
          cropping: [
            [1, 0],
            [0, 2],
          ],
          name: 'l',
        }),
      {
        cropping: [
          [1, 0],
          [0, 2],
        ],
        dataFormat: 'channelsLast',
      },
    ],
    ['Permute', () => permute({ dims: [2, 1], name: 'l' }), { dims: [2, 1] }],
    ['RepeatVector', () => repeatVector({ n: 3, name: 'l' }), { n: 3 }],
  ];
  it.each(cases)('%s', (className, make, own) => {
    const layer = make();
    expect(registeredLayerNames()).toContain(className);
    const s = serializeLayer(layer);
    expect(s).toEqual({ className, config: { ...own, name: 'l', trainable: true, dtype: 'float32' } });
    const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
    expect(copy.getClassName()).toBe(className);
    expect(serializeLayer(copy)).toEqual(s);
  });

  it('reads Keras snake_case configs', () => {
    const pool = deserializeLayer({
      className: 'MaxPooling1D',
      config: { pool_size: [3], strides: [3], padding: 'valid', data_format: 'channels_last' },
    });
    expect(pool.computeOutputShape([null, 9, 2])).toEqual([null, 3, 2]);
    const pad = deserializeLayer({
      className: 'ZeroPadding2D',
      config: {
        padding: [
          [1, 0],
          [0, 1],
        ],
        data_format: 'channels_last',
      },
    });
    expect(pad.computeOutputShape([null, 2, 2, 1])).toEqual([null, 3, 3, 1]);
    expect(() => deserializeLayer({ className: 'MaxPooling1D', config: { name: 'm', data_format: 'channels_first' } })).toThrow(
      /Layer m: dataFormat must be 'channelsLast'/,
    );
    expect(() => deserializeLayer({ className: 'UpSampling2D', config: { name: 'u', interpolation: 'bilinear' } })).toThrow(
      /Layer u: interpolation must be 'nearest'/,
    );
    const g = deserializeLayer({ className: 'GlobalMaxPooling1D', config: { data_format: 'channels_last', keepdims: false } });
    expect(g.computeOutputShape([null, 5, 4])).toEqual([null, 4]);
  });
});

describe('errors name the layer, the option, what was expected and what was given', () => {
  it('bad options', () => {
    expect(() => maxPooling1d({ poolSize: 0, name: 'p' })).toThrow(
      /Layer p: poolSize must be a positive integer or an array of 1 positive integer, got 0/,
    );
    expect(() => maxPooling1d({ poolSize: [2, 2] as unknown as [number], name: 'p' })).toThrow(/poolSize .* got \[2,2\]/);
    expect(() => averagePooling1d({ strides: 1.5, name: 'p' })).toThrow(/Layer p: strides must be/);
    expect(() => averagePooling1d({ padding: 'causal' as 'same', name: 'p' })).toThrow(
      /Layer p: padding must be 'valid' or 'same', got "causal"/,
    );
    expect(() => globalMaxPooling1d({ dataFormat: 'channelsFirst' as 'channelsLast', name: 'g' })).toThrow(
      /Layer g: dataFormat must be 'channelsLast'/,
    );
    expect(() => upSampling1d({ size: 0, name: 'u' })).toThrow(/Layer u: size must be a positive integer, got 0/);
    expect(() => upSampling2d({ interpolation: 'bilinear' as 'nearest', name: 'u' })).toThrow(
      /Layer u: interpolation must be 'nearest' \(Axon does not implement 'bilinear' upsampling\), got "bilinear"/,
    );
    expect(() => upSampling2d({ size: [2, 0], name: 'u' })).toThrow(/Layer u: size must be a positive integer or an array of 2/);
    expect(() => zeroPadding1d({ padding: -1, name: 'z' })).toThrow(/Layer z: padding must be a non-negative integer .* got -1/);
    expect(() => zeroPadding2d({ padding: [[1, 1], [1]] as unknown as number, name: 'z' })).toThrow(
      /Layer z: padding must be .* got \[\[1,1\],\[1\]\]/,
    );
    expect(() => cropping1d({ cropping: [1, 2, 3] as unknown as number, name: 'c' })).toThrow(/Layer c: cropping must be/);
    expect(() => cropping2d({ cropping: 'x' as unknown as number, name: 'c' })).toThrow(/Layer c: cropping must be .* got "x"/);
    expect(() => permute({ dims: [0, 1], name: 'p' })).toThrow(/Layer p: dims must be a permutation of 1..n .* got \[0,1\]/);
    expect(() => permute({ dims: [1, 1], name: 'p' })).toThrow(/got \[1,1\]/);
    expect(() => permute({ name: 'p' } as never)).toThrow(/Layer p: dims must be a permutation/);
    expect(() => repeatVector({ n: 0, name: 'r' })).toThrow(/Layer r: n must be a positive integer, got 0/);
    expect(() => repeatVector({ name: 'r' } as never)).toThrow(/Layer r: n must be a positive integer/);
  });

  it('unknown options, with the closest known one', () => {
    expect(() => maxPooling1d({ poolsize: 2 } as never)).toThrow(/MaxPooling1D: unknown option 'poolsize' \(did you mean 'poolSize'\?\)/);
    expect(() => globalMaxPooling1d({ keepDims: true } as never)).toThrow(/unknown option 'keepDims' \(did you mean 'keepdims'\?\)/);
    expect(() => upSampling2d({ sizes: 2 } as never)).toThrow(/UpSampling2D: unknown option 'sizes'/);
    expect(() => zeroPadding2d({ pading: 1 } as never)).toThrow(/did you mean 'padding'/);
    expect(() => cropping1d({ crop: 1 } as never)).toThrow(/Cropping1D: unknown option 'crop'/);
    expect(() => permute({ dims: [1], axes: [1] } as never)).toThrow(/Permute: unknown option 'axes'/);
    expect(() => repeatVector({ n: 2, times: 2 } as never)).toThrow(/RepeatVector: unknown option 'times'/);
    expect(() => averagePooling1d({ pool_size: 2 } as never)).toThrow(/did you mean 'poolSize'/);
    expect(() => upSampling1d({ size: 2, interpolation: 'nearest' } as never)).toThrow(/UpSampling1D: unknown option 'interpolation'/);
    expect(() => zeroPadding1d({ dataFormat: 'channelsLast' } as never)).toThrow(/ZeroPadding1D: unknown option 'dataFormat'/);
    expect(() => cropping2d({ dataFormat: 'channelsLast' })).not.toThrow();
  });

  it('inputs of the wrong rank or too small', () => {
    expect(() => maxPooling1d({ name: 'p' }).apply(randomNormal([2, 4, 4, 1]))).toThrow(/p/);
    expect(() => maxPooling1d({ poolSize: 5, name: 'p' }).apply(randomNormal([1, 3, 2]))).toThrow(
      /Layer p: the pool of 5 steps does not fit the input of shape \[1,3,2\] with 'valid' padding/,
    );
    expect(() => cropping1d({ cropping: [2, 2], name: 'c' }).apply(randomNormal([1, 4, 2]))).toThrow(
      /Layer c: cropping \[2, 2\] leaves no steps of the input of shape \[1,4,2\]/,
    );
    expect(() =>
      cropping2d({
        cropping: [
          [1, 1],
          [0, 0],
        ],
        name: 'c',
      }).apply(randomNormal([1, 2, 3, 1])),
    ).toThrow(/Layer c: cropping .* leaves nothing/);
    expect(() => permute({ dims: [2, 1], name: 'p' }).apply(randomNormal([2, 3, 4, 5]))).toThrow(/p/);
    expect(() => repeatVector({ n: 2, name: 'r' }).apply(randomNormal([2, 3, 4]))).toThrow(/r/);
  });

  it('1-D pooling with the same padding over one step', () => {
    expect((maxPooling1d({ poolSize: 4, padding: 'same' }).apply(randomNormal([1, 1, 2])) as Tensor).shape).toEqual([1, 1, 2]);
  });
});
