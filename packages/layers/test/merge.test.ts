/**
 * The merge layers (src/layers/merge.ts): outputs and every input's gradient against PyTorch
 * (scripts/make-fixtures-merge.py → merge-fixtures.json), forward values against hand-computed ones, gradients with
 * respect to every input against finite differences on every backend, shape rules and errors as
 * Keras 2 / tfjs-layers' `Merge`, masks, configs and their round trip.
 */
import { mul, setSeed, sum, tensor, valueAndGrads, type Tensor } from '@axon/tensor';
import { checkGradients } from '@axon/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Add,
  add,
  average,
  type Concatenate,
  concatenate,
  deserializeLayer,
  type Dot,
  dot,
  maximum,
  minimum,
  multiply,
  serializeLayer,
  subtract,
  type Layer,
} from '../src/index.js';
import { readFileSync } from 'node:fs';
import { BACKENDS, decode, expectClose, seeded, useBackend, type Encoded } from './helpers.js';

/** A case of scripts/make-fixtures-merge.py: several inputs, the output and every input's gradient. */
interface MergeFixture {
  name: string;
  layer: { className: string; config: Record<string, unknown> };
  inputs: Encoded[];
  output: Encoded;
  projection: Encoded;
  inputGrads: Encoded[];
}

const fixtures = JSON.parse(readFileSync(new URL('./merge-fixtures.json', import.meta.url), 'utf8')) as MergeFixture[];

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const close = (xs: number[]): unknown[] => xs.map((v) => expect.closeTo(v, 5));

describe.each(BACKENDS)('merge layers on the %s backend', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(3);
  });

  const a = () => tensor([1, -2, 3, 4, 5, -6], [2, 3]);
  const b = () => tensor([0.5, 2, -1, 4, 10, 1], [2, 3]);
  const c = () => tensor([2, 2, 2, -1, -1, -1], [2, 3]);

  it('has the PyTorch fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(15);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s matches PyTorch (output and every input gradient)', (_name, f) => {
    const layer = deserializeLayer({ className: f.layer.className, config: { ...f.layer.config, name: f.name } });
    const inputs = f.inputs.map(decode);
    const projection = decode(f.projection);
    let output: Tensor | null = null;
    const { grads } = valueAndGrads(() => {
      output = layer.apply(inputs) as Tensor;
      return sum(mul(output, projection));
    }, inputs);
    expectClose(output!, f.output, `${f.name} output`);
    expect(grads.length).toBe(f.inputGrads.length);
    grads.forEach((g, i) => expectClose(g, f.inputGrads[i]!, `${f.name} gradient of input ${i}`));
  });

  it('computes the element-wise merges', () => {
    expect(values(add().apply([a(), b(), c()]) as Tensor)).toEqual([3.5, 2, 4, 7, 14, -6]);
    expect(values(subtract().apply([a(), b()]) as Tensor)).toEqual([0.5, -4, 4, 0, -5, -7]);
    expect(values(multiply().apply([a(), b(), c()]) as Tensor)).toEqual([1, -8, -6, -16, -50, 6]);
    expect(values(average().apply([a(), b(), c()]) as Tensor)).toEqual(close([3.5 / 3, 2 / 3, 4 / 3, 7 / 3, 14 / 3, -2]));
    expect(values(maximum().apply([a(), b(), c()]) as Tensor)).toEqual([2, 2, 3, 4, 10, 1]);
    expect(values(minimum().apply([a(), b(), c()]) as Tensor)).toEqual([0.5, -2, -1, -1, -1, -6]);
    // The Keras functional form: a list applies a fresh layer.
    expect(values(add([a(), b()]))).toEqual([1.5, 0, 2, 8, 15, -5]);
  });

  it('broadcasts sizes of 1 and lifts lower-rank inputs after the batch axis, as Keras', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    const y = tensor([10, 20, 30, 40], [2, 2, 1]);
    const layer = add();
    expect(
      layer.computeOutputShape([
        [null, 1, 3],
        [null, 2, 1],
      ]),
    ).toEqual([null, 2, 3]);
    const z = layer.apply([x, y]) as Tensor;
    expect(z.shape).toEqual([2, 2, 3]);
    expect(values(z)).toEqual([11, 12, 13, 21, 22, 23, 34, 35, 36, 44, 45, 46]);
    // [2, 3] + [2, 2, 3]: the rank-2 input becomes [2, 1, 3].
    const w = add().apply([a(), tensor([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1], [2, 2, 3])]) as Tensor;
    expect(w.shape).toEqual([2, 2, 3]);
    expect(values(w)).toEqual([1, -2, 3, 2, -1, 4, 4, 5, -6, 5, 6, -5]);
    expect(
      add({ name: 'm' }).computeOutputShape([
        [4, 3],
        [null, 3],
      ]),
    ).toEqual([4, 3]);
  });

  it('rejects mismatched shapes, naming the layer and the shapes', () => {
    expect(() => add({ name: 'sum' }).apply([a(), tensor([1, 2, 3, 4], [2, 2])])).toThrow(
      'Layer sum: the inputs cannot be broadcast together (each size must match or be 1 apart from the batch dimension); got input shapes [2,3], [2,2]',
    );
    expect(() => multiply({ name: 'm' }).apply([a(), tensor([1, 2, 3], [1, 3])])).toThrow(
      'Layer m: cannot merge inputs with different batch sizes; got input shapes [2,3], [1,3]',
    );
    expect(() => subtract({ name: 's' }).apply([a(), b(), c()])).toThrow(
      'Layer s must be called on a list of exactly 2 inputs, got 3: [2,3], [2,3], [2,3]',
    );
    expect(() => maximum({ name: 'x' }).apply([a()])).toThrow('Layer x must be called on a list of at least 2 inputs, got 1: [2,3]');
    expect(() => minimum({ name: 'n' }).apply(a())).toThrow(
      'Layer n must be called on a list of at least 2 inputs, got a single input of shape [2,3]',
    );
    // Checked on every call, not only when building.
    const layer = add({ name: 'again' });
    layer.apply([a(), b()]);
    expect(() => layer.apply([a(), tensor([1, 2], [2, 1]), tensor([1, 2, 3, 4], [2, 2])])).toThrow(
      /Layer again: the inputs cannot be broadcast together.*\[2,3\], \[2,1\], \[2,2\]/,
    );
  });

  it('concatenates along an axis', () => {
    const x = tensor([1, 2, 3, 4], [2, 2]);
    const y = tensor([5, 6, 7, 8, 9, 10], [2, 3]);
    const z = concatenate().apply([x, y]) as Tensor;
    expect(z.shape).toEqual([2, 5]);
    expect(values(z)).toEqual([1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
    const t = concatenate({ axis: 1 }).apply([tensor([1, 2, 3, 4], [2, 1, 2]), tensor([5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 2])]) as Tensor;
    expect(t.shape).toEqual([2, 3, 2]);
    expect(values(t)).toEqual([1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
    expect(
      concatenate({ axis: 1 }).computeOutputShape([
        [null, 2, 4],
        [null, null, 4],
        [null, 3, 4],
      ]),
    ).toEqual([null, null, 4]);
    expect(
      concatenate().computeOutputShape([
        [null, 2, 4],
        [null, 2, 1],
      ]),
    ).toEqual([null, 2, 5]);
    expect(() => concatenate({ name: 'cat' }).apply([x, tensor([1, 2, 3], [3, 1])])).toThrow(
      'Layer cat: the inputs must have matching shapes except along the concatenation axis -1; got input shapes [2,2], [3,1]',
    );
    expect(() => concatenate({ name: 'cat' }).apply([x, tensor([1, 2], [2, 1, 1])])).toThrow(
      'Layer cat: the inputs must have the same rank; got input shapes [2,2], [2,1,1]',
    );
    expect(() => concatenate({ name: 'cat', axis: 3 }).apply([x, x])).toThrow(
      'Layer cat: axis 3 is out of range for inputs of rank 2; got input shapes [2,2], [2,2]',
    );
    expect(() => concatenate({ axis: 1.5 })).toThrow(/axis must be an integer, got 1.5/);
  });

  it('computes dot products over the given axes', () => {
    // [2, 3] · [2, 3] over axis 1: per-sample dot products, [2, 1].
    const d = dot({ axes: 1 }).apply([a(), b()]) as Tensor;
    expect(d.shape).toEqual([2, 1]);
    expect(values(d)).toEqual([0.5 - 4 - 3, 16 + 50 - 6]);
    // normalize: cosine similarity.
    const cos = dot({ axes: -1, normalize: true }).apply([a(), a()]) as Tensor;
    expect(values(cos)).toEqual(close([1, 1]));
    // [1, 2, 3] · [1, 3, 2] over [2, 1]: a batched matmul.
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const y = tensor([1, 0, 0, 1, 1, 1], [1, 3, 2]);
    const m = dot({ axes: [2, 1] }).apply([x, y]) as Tensor;
    expect(m.shape).toEqual([1, 2, 2]);
    expect(values(m)).toEqual([4, 5, 10, 11]);
    // [1, 2, 3] · [1, 2, 3] over [1, 1]: xᵀ y, [1, 3, 3].
    const g = dot({ axes: 1 }).apply([x, x]) as Tensor;
    expect(g.shape).toEqual([1, 3, 3]);
    expect(values(g)).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
    // [1, 2, 3] · [1, 3] over [2, 1]: [1, 2].
    const v = dot({ axes: [2, 1] }).apply([x, tensor([1, 1, 1], [1, 3])]) as Tensor;
    expect(v.shape).toEqual([1, 2]);
    expect(values(v)).toEqual([6, 15]);
    expect(
      dot({ axes: [2, 1] }).computeOutputShape([
        [null, 4, 5],
        [null, 5, 7],
      ]),
    ).toEqual([null, 4, 7]);
    expect(() => dot({ name: 'd', axes: 1 }).apply([a(), tensor([1, 2, 3, 4], [2, 2])])).toThrow(
      'Layer d: the contracted axes differ in size (3 along axis 1 of input 0, 2 along axis 1 of input 1); got input shapes [2,3], [2,2]',
    );
    expect(() => dot({ name: 'd', axes: 0 }).apply([a(), b()])).toThrow(
      /Layer d: axis 0 of input 0 is out of range \(the batch axis 0 cannot be contracted\)/,
    );
    expect(() => dot({ name: 'd', axes: 1 }).apply([a(), b(), c()])).toThrow('Layer d must be called on a list of exactly 2 inputs, got 3');
    expect(() => dot({ name: 'd', axes: 1 }).apply([tensor([1], [1, 1, 1, 1]), tensor([1], [1, 1, 1, 1])])).toThrow(
      'Layer d: the inputs must have rank 2 or 3; got input shapes [1,1,1,1], [1,1,1,1]',
    );
    expect(() => dot({ axes: 'x' as never })).toThrow(/axes must be an integer or an array of 2 integers, got "x"/);
    expect(() => dot({ axes: 1, normalize: 1 as never })).toThrow(/normalize must be a boolean, got 1/);
  });

  describe('gradients with respect to every input match finite differences', () => {
    const cases: [string, () => Layer, number[][]][] = [
      [
        'add',
        () => add(),
        [
          [2, 3],
          [2, 3],
          [2, 3],
        ],
      ],
      [
        'add broadcast',
        () => add(),
        [
          [2, 1, 3],
          [2, 2, 1],
        ],
      ],
      [
        'add lower rank',
        () => add(),
        [
          [2, 3],
          [2, 2, 3],
        ],
      ],
      [
        'subtract',
        () => subtract(),
        [
          [2, 3],
          [2, 3],
        ],
      ],
      [
        'multiply',
        () => multiply(),
        [
          [2, 3],
          [2, 1],
          [2, 3],
        ],
      ],
      [
        'average',
        () => average(),
        [
          [2, 3],
          [2, 3],
          [2, 3],
        ],
      ],
      [
        'maximum',
        () => maximum(),
        [
          [2, 4],
          [2, 4],
          [2, 4],
        ],
      ],
      [
        'minimum',
        () => minimum(),
        [
          [2, 4],
          [2, 4],
        ],
      ],
      [
        'concatenate',
        () => concatenate(),
        [
          [2, 2],
          [2, 3],
        ],
      ],
      [
        'concatenate axis 1',
        () => concatenate({ axis: 1 }),
        [
          [2, 1, 2],
          [2, 3, 2],
        ],
      ],
      [
        'dot 2-D',
        () => dot({ axes: 1 }),
        [
          [2, 3],
          [2, 3],
        ],
      ],
      [
        'dot 3-D',
        () => dot({ axes: [2, 1] }),
        [
          [2, 2, 3],
          [2, 3, 2],
        ],
      ],
      [
        'dot transposed',
        () => dot({ axes: [1, 2] }),
        [
          [2, 3, 2],
          [2, 2, 3],
        ],
      ],
      [
        'dot mixed rank',
        () => dot({ axes: [1, 1] }),
        [
          [2, 3, 2],
          [2, 3],
        ],
      ],
      [
        'dot normalize',
        () => dot({ axes: -1, normalize: true }),
        [
          [2, 4],
          [2, 4],
        ],
      ],
    ];
    it.each(cases)('%s', (_name, make, shapes) => {
      const layer = make();
      // Values at least 0.2 apart from 0 and (for maximum/minimum) distinct with high probability.
      const inputs = shapes.map((s, i) => seeded(s, 11 + 7 * i, -2, 2, 0.2));
      checkGradients((...xs) => layer.apply(xs) as Tensor, inputs, { eps: 1e-2 });
    });
  });

  it('combines masks: logical and, or joined along the concatenation axis', () => {
    const m1 = tensor([1, 1, 0, 1], [2, 2]);
    const m2 = tensor([1, 0, 1, 1], [2, 2]);
    const x = tensor(new Array(12).fill(1), [2, 2, 3]);
    expect(values(add().computeMask([x, x], [m1, m2])!)).toEqual([1, 0, 0, 1]);
    expect(values(add().computeMask([x, x], [m1, null])!)).toEqual([1, 1, 0, 1]);
    expect(add().computeMask([x, x], [null, null])).toBeNull();
    expect(add().computeMask([x, x])).toBeNull();
    expect(values(concatenate().computeMask([x, x], [m1, m2])!)).toEqual([1, 0, 0, 1]);
    const joined = concatenate({ axis: 1 }).computeMask([x, x], [m1, null])!;
    expect(joined.shape).toEqual([2, 4]);
    expect(values(joined)).toEqual([1, 1, 1, 1, 0, 1, 1, 1]);
    expect(() => concatenate({ name: 'cat' }).computeMask([x, x], [m1])).toThrow('Layer cat: expected one mask per input (2), got 1');
    expect(dot({ axes: 1 }).computeMask()).toBeNull();
  });
});

describe('merge layer configs', () => {
  it('serialize as TensorFlow.js and round-trip', () => {
    const cat = concatenate({ name: 'cat', axis: 1 });
    expect(serializeLayer(cat)).toEqual({ className: 'Concatenate', config: { name: 'cat', trainable: true, dtype: 'float32', axis: 1 } });
    const d = dot({ name: 'd', axes: [1, 2] });
    expect(serializeLayer(d)).toEqual({
      className: 'Dot',
      config: { name: 'd', trainable: true, dtype: 'float32', axes: [1, 2], normalize: false },
    });
    expect(serializeLayer(add({ name: 's' }))).toEqual({ className: 'Add', config: { name: 's', trainable: true, dtype: 'float32' } });
    for (const layer of [cat, d, add(), subtract(), multiply(), average(), maximum(), minimum(), dot({ axes: -1, normalize: true })]) {
      const s = serializeLayer(layer);
      const copy = deserializeLayer(JSON.parse(JSON.stringify(s)) as typeof s);
      expect(serializeLayer(copy)).toEqual(s);
    }
    // Keras' snake_case config.
    const keras = deserializeLayer({ class_name: 'Dot', config: { name: 'k', axes: 2, normalize: true } } as never) as Dot;
    expect([keras.axes, keras.normalize]).toEqual([2, true]);
    expect((deserializeLayer({ className: 'Concatenate', config: {} }) as Concatenate).axis).toBe(-1);
    expect(new Add()).toBeInstanceOf(Add);
  });

  it('reject unknown options', () => {
    expect(() => concatenate({ axes: 1 } as never)).toThrow(/Concatenate: unknown option 'axes' \(did you mean 'axis'\?\)/);
    expect(() => add({ axis: 1 } as never)).toThrow(/Add: unknown option 'axis'/);
    expect(() => dot({ axes: 1, normalise: true } as never)).toThrow(/Dot: unknown option 'normalise' \(did you mean 'normalize'\?\)/);
  });
});
