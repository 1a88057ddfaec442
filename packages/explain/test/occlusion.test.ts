/**
 * Occlusion sensitivity on a model whose class scores are known linear functions of a few pixels,
 * so the drop in score for any window follows from the weights and the image; for Sequential and
 * functional models and for a plain prediction function.
 */
import '@axon/kernels-native';
import { dense, flatten, input } from '@axon/layers';
import { type Model, model, sequential } from '@axon/models';
import { type Tensor, randomUniform, setSeed, tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { occlusion } from '../src/index.js';

const values = (t: Tensor) => Array.from(t.dataSync());
const [H, W] = [6, 6];

/** Pixel weights of each class's score: class 0 reads pixels (1,1) ×2 and (4,3) ×−1, class 1 pixel (0,5) ×3. */
const WEIGHTS: [number, number, number, number][] = [
  [0, 1, 1, 2],
  [0, 4, 3, -1],
  [1, 0, 5, 3],
];

/** flatten → dense(2) with those weights (bias 0.5, −0.2), softmax or linear, as a Sequential or functional model. */
function pixelModel(kind: 'Sequential' | 'functional', act: 'softmax' | 'linear'): Model {
  const layers = [flatten(), dense({ units: 2, activation: act })];
  let m: Model;
  if (kind === 'Sequential') {
    m = sequential(layers);
    m.build([null, H, W, 1]);
  } else {
    const x = input({ shape: [H, W, 1] });
    m = model({ inputs: x, outputs: layers.reduce((t, l) => l.apply(t) as never, x) });
  }
  const kernel = new Float32Array(H * W * 2);
  for (const [c, i, j, w] of WEIGHTS) kernel[(i * W + j) * 2 + c] = w;
  m.setWeights([tensor(kernel, [H * W, 2]), tensor([0.5, -0.2], [2])]);
  return m;
}

/** Σ over the class's weighted pixels inside the window of weight · (x − fill): the score's drop when the window is covered. */
function drop(x: number[], sample: number, c: number, top: number, left: number, size: number, fill: number): number {
  return WEIGHTS.filter(([k, i, j]) => k === c && i >= top && i < top + size && j >= left && j < left + size).reduce(
    (s, [, i, j, w]) => s + w * (x[sample * H * W + i * W + j]! - fill),
    0,
  );
}

describe.each(['Sequential', 'functional'] as const)('occlusion (%s)', (kind) => {
  setSeed(21);
  const x = randomUniform([2, H, W, 1], 0.2, 1);
  const xs = values(x);

  it('a 1×1 window with stride 1 gives each pixel its weight times its value (the logit, not the probability)', () => {
    const m = pixelModel(kind, 'softmax');
    for (const c of [0, 1]) {
      const map = values(occlusion(m, x, { window: 1, stride: 1, classIndex: c }));
      const expected = xs.map((_, k) => drop(xs, Math.floor(k / (H * W)), c, Math.floor((k % (H * W)) / W), k % W, 1, 0));
      expect(expected.filter((v) => v !== 0).length).toBe(c === 0 ? 4 : 2);
      map.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
    }
  });

  it('2×2 windows side by side (the default stride) give every pixel of a block its drop; fill replaces the pixels', () => {
    const m = pixelModel(kind, 'linear');
    const map = values(occlusion(m, x, { window: [2, 2], fill: 0.5, classIndex: [0, 0] }));
    map.forEach((v, k) => {
      const [s, i, j] = [Math.floor(k / (H * W)), Math.floor((k % (H * W)) / W), k % W];
      expect(v).toBeCloseTo(drop(xs, s, 0, i - (i % 2), j - (j % 2), 2, 0.5), 5);
    });
  });

  it('overlapping windows average; pixels no window covers get 0; a prediction function works as the model does', () => {
    const m = pixelModel(kind, 'linear');
    // 3×3 windows at stride 2 on 6×6: tops and lefts 0 and 2, so row 5 and column 5 are never covered.
    const map = values(occlusion(m, x, { window: 3, stride: 2, classIndex: 0 }));
    // Pixel (1,1) lies in the window at (0,0) only, so it gets that window's drop.
    const at = (s: number, i: number, j: number) => map[s * H * W + i * W + j]!;
    for (const s of [0, 1]) {
      expect(at(s, 1, 1)).toBeCloseTo(2 * xs[s * 36 + 7]!, 5);
      // Pixel (2,2) is in all four windows; only the one at (0,0) holds (1,1), only the one at (2,2) holds (4,3).
      expect(at(s, 2, 2)).toBeCloseTo((2 * xs[s * 36 + 7]! - xs[s * 36 + 27]!) / 4, 5);
      for (let k = 0; k < 6; k++) {
        expect(at(s, 5, k)).toBe(0);
        expect(at(s, k, 5)).toBe(0);
      }
    }
    const fn = (batch: Tensor) => m.predict(batch) as Tensor;
    expect(values(occlusion(fn, x, { window: 3, stride: 2, classIndex: 0 }))).toEqual(map);
    // By default the predicted class, per sample.
    const scores = values(m.predict(x) as Tensor);
    const predicted = [0, 1].map((s) => (scores[s * 2]! >= scores[s * 2 + 1]! ? 0 : 1));
    expect(values(occlusion(m, x, { window: 2 }))).toEqual(values(occlusion(m, x, { window: 2, classIndex: predicted })));
  });
});

describe('occlusion errors', () => {
  const m = pixelModel('Sequential', 'linear');
  const x = randomUniform([1, H, W, 1]);
  it.each([
    [{ window: 0 }, "occlusion: window must be a positive integer or [rows, columns] of them, at most the image's [6, 6], got 0"],
    [{ window: 7 }, 'got 7'],
    [{ window: [2] }, "occlusion: window must be a positive integer or [rows, columns] of them, at most the image's [6, 6], got [2]"],
    [{ window: 1.5 }, 'got 1.5'],
    [
      { window: 2, stride: [1, 0] },
      "occlusion: stride must be a positive integer or [rows, columns] of them, at most the image's [6, 6], got [1, 0]",
    ],
    [{ window: 2, fill: Number.NaN }, 'occlusion: fill must be a finite number, got NaN'],
    [{ window: 2, classIndex: 2 }, 'occlusion: classIndex must be an integer in [0, 1]'],
    [{ windw: 2 }, "occlusion: unknown option 'windw' (did you mean 'window'?)"],
  ])('%j', (options, message) => {
    expect(() => occlusion(m, x, options as never)).toThrow(message);
  });
  it('x must be images, and a function must give [n, classes] scores', () => {
    expect(() => occlusion((t: Tensor) => t, randomUniform([2, 6]), { window: 1 })).toThrow(
      'occlusion: x must be images [n, h, w, channels], got a Tensor of shape [2,6]',
    );
    expect(() => occlusion((t: Tensor) => t, x, { window: 1 })).toThrow(
      'occlusion: the model must give scores [1, classes], got a Tensor of shape [1,6,6,1]',
    );
  });
});
