/**
 * Gradient methods: saliency against finite differences, SmoothGrad's limits, Integrated Gradients'
 * completeness and the PyTorch reference (test/fixtures/integrated-gradients.json, made by
 * scripts/make-gradient-fixtures.py), Grad-CAM / Grad-CAM++ on a model whose classes each look at
 * one quadrant, and the errors. Each model is tried as a Sequential and as a functional model.
 */
import '@axon/kernels-native';
import { readFileSync } from 'node:fs';
import { type Layer, activation, conv2d, dense, flatten, globalAveragePooling2d, input, maxPooling2d, reshape } from '@axon/layers';
import { type Model, model, sequential } from '@axon/models';
import { type Tensor, randomNormal, randomUniform, setSeed, tensor, zeros } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { activationMaps, gradCam, gradCamPlusPlus, integratedGradients, saliency, smoothGrad, upsample } from '../src/index.js';

const values = (t: Tensor) => Array.from(t.dataSync());

function closeTo(actual: number[], expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

/** The layers in a chain, as a Sequential or applied to input() as a functional model. */
function build(kind: 'Sequential' | 'functional', inputShape: number[], layers: Layer[]): Model {
  if (kind === 'Sequential') {
    const m = sequential(layers);
    m.build([null, ...inputShape]);
    return m;
  }
  const x = input({ shape: inputShape });
  return model({ inputs: x, outputs: layers.reduce((t, l) => l.apply(t) as never, x) });
}

/**
 * A small conv classifier ending in a softmax Dense, and its twin ending in the same Dense without
 * softmax (the logits). `smooth`: tanh and no pooling, a score with no kinks along any path.
 */
function classifierAndLogits(kind: 'Sequential' | 'functional', seed: number, smooth = false): { m: Model; logits: Model } {
  setSeed(seed);
  const make = (act: string) => [
    conv2d({ filters: 3, kernelSize: 3, activation: smooth ? 'tanh' : 'relu', name: 'conv' }),
    ...(smooth ? [] : [maxPooling2d({ poolSize: 2 })]),
    flatten(),
    dense({ units: 3, activation: act }),
  ];
  const m = build(kind, [6, 6, 1], make('softmax'));
  const logits = build(kind, [6, 6, 1], make('linear'));
  logits.setWeights(m.getWeights());
  return { m, logits };
}

const kinds = ['Sequential', 'functional'] as const;

describe.each(kinds)('saliency and SmoothGrad (%s)', (kind) => {
  it('saliency is |d logit / d x|: it matches central finite differences of the logits', () => {
    const { m, logits } = classifierAndLogits(kind, 1);
    const x = randomNormal([2, 6, 6, 1]);
    const classes = [2, 0];
    const s = values(saliency(m, x, { classIndex: classes }));
    const base = values(x);
    const score = (v: number[], sample: number) =>
      (logits.predict(tensor(v, [2, 6, 6, 1])) as Tensor).dataSync()[sample * 3 + classes[sample]!]!;
    const h = 1e-2;
    const fd = base.map((_, i) => {
      const sample = Math.floor(i / 36);
      const [plus, minus] = [[...base], [...base]];
      plus[i]! += h;
      minus[i]! -= h;
      return Math.abs((score(plus, sample) - score(minus, sample)) / (2 * h));
    });
    expect(Math.max(...fd)).toBeGreaterThan(0.01); // the check is not vacuous
    closeTo(s, fd, 2e-3);
  });

  it('the default class is the predicted one, and a final Activation(softmax) layer is looked through too', () => {
    const { m, logits } = classifierAndLogits(kind, 2);
    const x = randomNormal([3, 6, 6, 1]);
    const predicted = Array.from(
      (m.predict(x) as Tensor).dataSync().reduce<number[][]>((rows, v, i) => {
        if (i % 3 === 0) rows.push([]);
        rows.at(-1)!.push(v);
        return rows;
      }, []),
    ).map((row) => row.indexOf(Math.max(...row)));
    closeTo(values(saliency(m, x)), values(saliency(m, x, { classIndex: predicted })), 0);
    // [..., Dense(linear), Activation('softmax')] explains the same logits.
    const split = build(
      kind,
      [6, 6, 1],
      [
        conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }),
        maxPooling2d({ poolSize: 2 }),
        flatten(),
        dense({ units: 3 }),
        activation({ activation: 'softmax' }),
      ],
    );
    split.setWeights(m.getWeights());
    closeTo(values(saliency(split, x, { classIndex: 1 })), values(saliency(logits, x, { classIndex: 1 })), 1e-6);
  });

  it('SmoothGrad with noise 0 is the saliency; on a linear model it is the saliency at any noise', () => {
    const { m } = classifierAndLogits(kind, 3);
    const x = randomNormal([2, 6, 6, 1]);
    closeTo(values(smoothGrad(m, x, { noise: 0, samples: 4, classIndex: 1 })), values(saliency(m, x, { classIndex: 1 })), 1e-6);
    setSeed(4);
    const linear = build(kind, [6, 6, 1], [flatten(), dense({ units: 2 })]);
    closeTo(values(smoothGrad(linear, x, { noise: 0.5, samples: 3 })), values(saliency(linear, x)), 1e-6);
    // With noise on a nonlinear model it differs (the noise is used).
    const noisy = values(smoothGrad(m, x, { noise: 0.5, samples: 3, classIndex: 1 }));
    expect(Math.max(...noisy.map((v, i) => Math.abs(v - values(saliency(m, x, { classIndex: 1 }))[i]!)))).toBeGreaterThan(1e-4);
  });
});

describe.each(kinds)('Integrated Gradients (%s)', (kind) => {
  // On a smooth score the trapezoidal rule's error falls as 1/steps²; ReLU and max-pooling kinks
  // make it fall as 1/steps only (see the README), so completeness is checked on a smooth model.
  it('completeness: attributions sum to logit(x) − logit(baseline), within 1% at 200 steps', () => {
    const { m, logits } = classifierAndLogits(kind, 5, true);
    const x = randomUniform([3, 6, 6, 1], 0, 1);
    const baseline = randomUniform([1, 6, 6, 1], -0.2, 0.2);
    const classes = [0, 1, 2];
    const f = (t: Tensor) => values(logits.predict(t) as Tensor);
    const [fx, fb] = [f(x), f(baseline)];
    const errors = (steps: number) => {
      const ig = values(integratedGradients(m, x, { baseline, steps, classIndex: classes }));
      return classes.map((c, s) => {
        const total = ig.slice(s * 36, (s + 1) * 36).reduce((a, b) => a + b, 0);
        const expected = fx[s * 3 + c]! - fb[c]!;
        return Math.abs(total - expected) / Math.abs(expected);
      });
    };
    const [at50, at200] = [errors(50), errors(200)];
    console.log(
      `IG completeness relative error (${kind}): 50 steps ${at50.map((e) => e.toExponential(2))}, 200 steps ${at200.map((e) => e.toExponential(2))}`,
    );
    for (const e of at200) expect(e).toBeLessThan(0.01);
  });

  const fixture = JSON.parse(readFileSync(new URL('./fixtures/integrated-gradients.json', import.meta.url), 'utf8'));
  type Case = { name: string; baseline: number[]; classes: number[]; classIndexGiven: boolean; attributions: number[] };
  it.each((fixture.cases as Case[]).map((c) => [c.name, c] as const))('matches the PyTorch reference: %s', (_name, entry) => {
    const [h, w, channels] = fixture.inputShape as number[];
    const m = build(kind, fixture.inputShape, [
      conv2d({ filters: fixture.filters, kernelSize: 3, activation: 'relu' }),
      flatten(),
      dense({ units: fixture.classes, activation: 'softmax' }),
    ]);
    const { convKernel, convBias, denseKernel, denseBias } = fixture.weights;
    m.setWeights([
      tensor(convKernel, [3, 3, channels!, fixture.filters]),
      tensor(convBias, [fixture.filters]),
      tensor(denseKernel, [(h! - 2) * (w! - 2) * fixture.filters, fixture.classes]),
      tensor(denseBias, [fixture.classes]),
    ]);
    const shape = [2, h!, w!, channels!];
    const x = tensor(fixture.x, shape);
    const ig = integratedGradients(m, x, {
      baseline: tensor(entry.baseline, shape),
      steps: fixture.steps,
      ...(entry.classIndexGiven ? { classIndex: entry.classes } : {}),
    });
    const scale = Math.max(...entry.attributions.map(Math.abs));
    closeTo(values(ig), entry.attributions, 1e-5 * scale); // float32 against float64: about 4e-7 · scale measured
  });

  it('the default baseline is 0, and a number fills the baseline', () => {
    const { m } = classifierAndLogits(kind, 6);
    const x = randomNormal([1, 6, 6, 1]);
    closeTo(
      values(integratedGradients(m, x, { steps: 8 })),
      values(integratedGradients(m, x, { steps: 8, baseline: zeros([1, 6, 6, 1]) })),
      0,
    );
    closeTo(
      values(integratedGradients(m, x, { steps: 8, baseline: 0.3 })),
      values(integratedGradients(m, x, { steps: 8, baseline: tensor(new Float32Array(36).fill(0.3), [1, 6, 6, 1]) })),
      0,
    );
  });
});

/**
 * A model whose class 0 sees only the top-left quadrant of an 8×8 image and class 1 only the
 * bottom-right: a Dense routes each pixel of the top-left quadrant to channel 0 and of the
 * bottom-right to channel 1 of an [8, 8, 2] map (the rest to nothing); the 1×1 convolution 'conv'
 * passes them on; global average pooling and an identity softmax Dense score each channel.
 */
function quadrantModel(kind: 'Sequential' | 'functional'): Model {
  const m = build(
    kind,
    [8, 8, 1],
    [
      flatten(),
      dense({ units: 128, useBias: false, name: 'route' }),
      reshape({ targetShape: [8, 8, 2] }),
      conv2d({ filters: 2, kernelSize: 1, activation: 'relu', name: 'conv' }),
      globalAveragePooling2d(),
      dense({ units: 2, activation: 'softmax', name: 'head' }),
    ],
  );
  const route = new Float32Array(64 * 128);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      const channel = i < 4 && j < 4 ? 0 : i >= 4 && j >= 4 ? 1 : -1;
      if (channel >= 0) route[(i * 8 + j) * 128 + (i * 8 + j) * 2 + channel] = 1;
    }
  }
  m.setWeights([tensor(route, [64, 128]), tensor([1, 0, 0, 1], [1, 1, 2, 2]), zeros([2]), tensor([1, 0, 0, 1], [2, 2]), zeros([2])]);
  return m;
}

const quadrant = (map: number[], sample: number, top: boolean, left: boolean) =>
  map.filter((_, k) => {
    const [s, i, j] = [Math.floor(k / 64), Math.floor((k % 64) / 8), k % 8];
    return s === sample && i < 4 === top && j < 4 === left;
  });

describe.each(kinds)('Grad-CAM and Grad-CAM++ (%s)', (kind) => {
  it.each([
    ['gradCam', gradCam],
    ['gradCamPlusPlus', gradCamPlusPlus],
  ] as const)('%s highlights the quadrant each class looks at, and nothing else', (_name, method) => {
    const m = quadrantModel(kind);
    setSeed(7);
    const x = randomUniform([2, 8, 8, 1], 0.1, 1);
    for (const [classIndex, top] of [
      [0, true],
      [1, false],
    ] as const) {
      const cam = method(m, x, { layer: 'conv', classIndex });
      expect(cam.shape).toEqual([2, 8, 8]);
      const map = values(cam);
      for (const sample of [0, 1]) {
        const inside = quadrant(map, sample, top, top);
        expect(Math.max(...inside)).toBeCloseTo(1, 5); // scaled to [0, 1]
        expect(Math.min(...inside)).toBeGreaterThan(0.05); // every pixel there is evidence (x >= 0.1)
        for (const [t, l] of [
          [!top, !top],
          [true, false],
          [false, true],
        ]) {
          expect(Math.max(...quadrant(map, sample, t!, l!))).toBe(0);
        }
      }
    }
    // The map follows the evidence: Grad-CAM's class-0 map is the conv's channel 0 scaled by its maximum.
    if (method === gradCam) {
      const a = values(activationMaps(m, x, { layer: 'conv' })).filter((_, k) => k % 2 === 0);
      const peak = (s: number) => Math.max(...a.slice(s * 64, (s + 1) * 64));
      closeTo(
        values(gradCam(m, x, { layer: 'conv', classIndex: 0 })),
        a.map((v, k) => v / peak(Math.floor(k / 64))),
        1e-5,
      );
    }
  });

  it('errors: an unknown layer lists the layers; a layer without a 4-D output is refused; options are checked', () => {
    const m = quadrantModel(kind);
    const x = randomUniform([1, 8, 8, 1]);
    expect(() => gradCam(m, x, { layer: 'conv1' })).toThrow(/gradCam: model \S+ has no layer 'conv1'; its layers: .*route.*conv.*head/);
    expect(() => gradCamPlusPlus(m, x, { layer: 'head' })).toThrow(
      /^gradCamPlusPlus: layer 'head' \(Dense\) outputs \[1,2\]; Grad-CAM needs a 4-D output \[batch, height, width, channels\], such as a convolution's\. This model's: reshape(_\d+)?, conv$/,
    );
    if (kind === 'functional') {
      const inputName = m.layers[0]!.name;
      expect(() => gradCam(m, x, { layer: inputName })).toThrow(
        `gradCam: layer '${inputName}' is not applied by the model (an input layer?); choose a layer the model applies once`,
      );
    }
    expect(() => gradCam(m, x, { layer: 'conv', classIndx: 0 } as never)).toThrow(
      "gradCam: unknown option 'classIndx' (did you mean 'classIndex'?)",
    );
    expect(() => gradCam(m, x, { layer: 'conv', classIndex: 2 })).toThrow(/gradCam: classIndex must be an integer in \[0, 1\] .* got 2/);
    expect(() => gradCam(m, randomUniform([1, 4, 4, 1]), { layer: 'conv' })).toThrow(
      /gradCam: x has shape \[1,4,4,1\], but model \S+ expects \[null,8,8,1\]/,
    );
  });
});

describe('upsample', () => {
  it('bilinear with half-pixel centres: constant maps stay constant, a 2×2 ramp interpolates, edges clamp', () => {
    closeTo(values(upsample(tensor(new Float32Array(8).fill(0.25), [2, 2, 2]), [5, 7])), new Array(70).fill(0.25), 1e-7);
    // [[0, 1]] to width 4: centres at -0.25, 0.25, 0.75, 1.25 in source pixels → 0, 0.25, 0.75, 1.
    closeTo(values(upsample(tensor([0, 1], [1, 1, 2]), [1, 4])), [0, 0.25, 0.75, 1], 1e-7);
    expect(() => upsample(tensor([0, 1], [1, 2]), [4, 4])).toThrow(
      'upsample: maps must be a Tensor [n, h, w], got a Tensor of shape [1,2]',
    );
    expect(() => upsample(tensor([0, 1], [1, 1, 2]), [0, 4])).toThrow(
      'upsample: size must be [height, width], two positive integers, got [0, 4]',
    );
  });
});

describe('bad options name the function, the option and the value', () => {
  const { m } = classifierAndLogits('Sequential', 8);
  const x = randomNormal([1, 6, 6, 1]);
  it.each([
    [() => saliency(m, x, { clasIndex: 1 } as never), "saliency: unknown option 'clasIndex' (did you mean 'classIndex'?)"],
    [
      () => saliency(m, x, { classIndex: 1.5 }),
      'saliency: classIndex must be an integer in [0, 2] (the model has 3 classes) or an array of 1 (one per sample), got 1.5',
    ],
    [() => saliency(m, x, { classIndex: [0, 1] }), 'got [0, 1]'],
    [() => saliency(m, tensor([1, 2]), {}), 'saliency: x must be a Tensor [batch, ...] of at least one sample, got a Tensor of shape [2]'],
    [() => saliency({} as never, x), 'saliency: model must be an @axon/models Model (Sequential or functional), got Object'],
    [() => smoothGrad(m, x, { samples: 0 }), 'smoothGrad: samples must be an integer >= 1, got 0'],
    [() => smoothGrad(m, x, { noise: -1 }), 'smoothGrad: noise must be a finite number >= 0, got -1'],
    [() => integratedGradients(m, x, { steps: 2.5 }), 'integratedGradients: steps must be an integer >= 1, got 2.5'],
    [
      () => integratedGradients(m, x, { baseline: zeros([1, 5, 5, 1]) }),
      "integratedGradients: baseline must be a finite number or a Tensor of x's shape [1,6,6,1] (or [1, ...]), got a Tensor of shape [1,5,5,1]",
    ],
    [() => integratedGradients(m, x, { baseline: Number.NaN }), 'got NaN'],
  ])('%#', (call, message) => {
    expect(call).toThrow(message);
  });
});
