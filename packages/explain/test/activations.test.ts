/**
 * Activation maps (the same as predicting with the intermediate model, or applying the layers by
 * hand) and activation maximisation (the filter's activation grows; the regularisers do their job),
 * for Sequential and functional models, and their errors.
 */
import '@axon/kernels-native';
import { type Layer, conv2d, dense, flatten, input } from '@axon/layers';
import { type Model, model, sequential } from '@axon/models';
import { type Tensor, abs, mean, randomNormal, randomUniform, setSeed, slice, square, sub } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { activationMaps, maximizeActivation } from '../src/index.js';

const values = (t: Tensor) => Array.from(t.dataSync());

/** conv 'conv1' (relu) → conv 'conv2' (relu) → flatten → dense softmax, on [8, 8, 1]. */
function cnn(kind: 'Sequential' | 'functional'): { m: Model; layers: Layer[] } {
  setSeed(11);
  const layers = [
    conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'conv1' }),
    conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'conv2' }),
    flatten({ name: 'flat' }),
    dense({ units: 2, activation: 'softmax', name: 'head' }),
  ];
  if (kind === 'Sequential') {
    const m = sequential(layers);
    m.build([null, 8, 8, 1]);
    return { m, layers };
  }
  const x = input({ shape: [8, 8, 1] });
  return { m: model({ inputs: x, outputs: layers.reduce((t, l) => l.apply(t) as never, x) }), layers };
}

/** The mean of the last-axis channel `filter` of a layer's output. */
const filterMean = (a: Tensor, filter: number) =>
  mean(
    slice(
      a,
      a.shape.map((_, k) => (k === a.rank - 1 ? filter : 0)),
      a.shape.map((_, k) => (k === a.rank - 1 ? 1 : -1)),
    ),
  ).item();

/** Mean absolute difference of vertically and horizontally neighbouring pixels of [1, h, w, c]. */
function roughness(x: Tensor): number {
  const [, h, w] = x.shape as number[];
  const down = mean(abs(sub(slice(x, [0, 1, 0, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, h! - 1, -1, -1])))).item();
  const right = mean(abs(sub(slice(x, [0, 0, 1, 0], [-1, -1, -1, -1]), slice(x, [0, 0, 0, 0], [-1, -1, w! - 1, -1])))).item();
  return down + right;
}

describe.each(['Sequential', 'functional'] as const)('activation maps and maximisation (%s)', (kind) => {
  it("activationMaps is the layer's output: the layers applied by hand, and (functional) the intermediate model's predict", () => {
    const { m, layers } = cnn(kind);
    const x = randomNormal([3, 8, 8, 1]);
    const maps = activationMaps(m, x, { layer: 'conv2' });
    expect(maps.shape).toEqual([3, 4, 4, 3]);
    const byHand = layers[1]!.apply(layers[0]!.apply(x) as Tensor) as Tensor;
    expect(values(maps)).toEqual(values(byHand));
    if (kind === 'functional') {
      const f = m as ReturnType<typeof model>;
      const intermediate = model({ inputs: f.inputs, outputs: f.getLayer('conv2').output as never });
      expect(values(maps)).toEqual(values(intermediate.predict(x) as Tensor));
    }
    expect(activationMaps(m, x, { layer: 'head' }).shape).toEqual([3, 2]);
  });

  it("maximizeActivation raises the filter's mean activation and returns one input of the model's shape", () => {
    const { m } = cnn(kind);
    setSeed(12);
    const start = randomUniform([1, 8, 8, 1], -0.1, 0.1);
    for (const [layer, filter] of [
      ['conv2', 1],
      ['head', 0],
    ] as const) {
      const pattern = maximizeActivation(m, { layer, filter, steps: 30, start });
      expect(pattern.shape).toEqual([1, 8, 8, 1]);
      const before = filterMean(activationMaps(m, start, { layer }), filter);
      const after = filterMean(activationMaps(m, pattern, { layer }), filter);
      expect(after).toBeGreaterThan(before + 0.05);
    }
    // Without start: small noise from the global generator, repeatable with setSeed.
    setSeed(3);
    const a = maximizeActivation(m, { layer: 'conv1', filter: 2, steps: 5 });
    setSeed(3);
    expect(values(maximizeActivation(m, { layer: 'conv1', filter: 2, steps: 5 }))).toEqual(values(a));
  });

  it('the L2 penalty keeps the pattern small and the total-variation penalty keeps it smooth', () => {
    const { m } = cnn(kind);
    setSeed(13);
    const start = randomUniform([1, 8, 8, 1], -0.1, 0.1);
    const run = (l2: number, totalVariation: number) =>
      maximizeActivation(m, { layer: 'conv2', filter: 0, steps: 40, learningRate: 0.05, l2, totalVariation, start });
    const size = (x: Tensor) => mean(square(x)).item();
    expect(size(run(50, 0))).toBeLessThan(0.5 * size(run(0, 0)));
    expect(roughness(run(0, 20))).toBeLessThan(0.5 * roughness(run(0, 0)));
  });

  it('errors name the function, the option and the value', () => {
    const { m } = cnn(kind);
    const x = randomNormal([1, 8, 8, 1]);
    expect(() => activationMaps(m, x, { layer: 'conv3' })).toThrow(
      /activationMaps: model \S+ has no layer 'conv3'; its layers: (input\S*, )?conv1, conv2, flat, head$/,
    );
    expect(() => activationMaps(m, x, { layr: 'conv1' } as never)).toThrow("activationMaps: unknown option 'layr' (did you mean 'layer'?)");
    expect(() => maximizeActivation(m, { layer: 'conv2', filter: 3 })).toThrow(
      'maximizeActivation: filter must be an integer in [0, 2], got 3',
    );
    expect(() => maximizeActivation(m, { layer: 'conv2', filter: 0, steps: 0 })).toThrow(
      'maximizeActivation: steps must be an integer >= 1, got 0',
    );
    expect(() => maximizeActivation(m, { layer: 'conv2', filter: 0, start: randomNormal([2, 8, 8, 1]) })).toThrow(
      'maximizeActivation: start must be a Tensor [1,8,8,1] (one input of the model), got a Tensor of shape [2,8,8,1]',
    );
    expect(() => maximizeActivation(m, { layer: 'conv2', filter: 0, learningRate: -1 })).toThrow(
      'maximizeActivation: learningRate must be a finite number >= 0, got -1',
    );
  });
});

describe('maximizeActivation needs a known input shape', () => {
  it('refuses a Sequential that is not built, and totalVariation on non-image inputs', () => {
    const unbuilt = sequential([dense({ units: 2, name: 'd' })]);
    expect(() => maximizeActivation(unbuilt, { layer: 'd', filter: 0 })).toThrow(
      "maximizeActivation: the model's input shape must be known (give the first layer an inputShape), got none",
    );
    const flat = sequential([dense({ units: 2, inputShape: [3], name: 'd' })]);
    expect(maximizeActivation(flat, { layer: 'd', filter: 1, steps: 3 }).shape).toEqual([1, 3]);
    expect(() => maximizeActivation(flat, { layer: 'd', filter: 0, totalVariation: 1 })).toThrow(
      "maximizeActivation: totalVariation needs image inputs [1, h, w, c], the model's are [null,3]",
    );
  });
});
