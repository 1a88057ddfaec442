/**
 * LIME: on models that depend on known features only (columns, words, image segments), the top
 * LIME features are those; on a linear model the surrogate recovers the slopes with R² ≈ 1;
 * localPrediction and score; seeds; errors. Run on the backend AXON_BACKEND names (default native).
 */
import '@axon/kernels-js';
import { dense } from '@axon/layers';
import { sequential } from '@axon/models';
import { matmul, randomNormal, setSeed, type Tensor, tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { limeImage, limeTabular, limeText, type Segmentation } from '../src/index.js';

try {
  await import('@axon/kernels-native');
} catch {
  // absent: the tests run on 'js' only
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Two-class probabilities [p, 1 − p] from a JS score of each row. */
function twoClass(score: (row: Float32Array) => number, rowSize: number): (batch: Tensor) => Tensor {
  return (batch) => {
    const v = batch.dataSync();
    const n = batch.shape[0]!;
    const out = new Float32Array(2 * n);
    for (let r = 0; r < n; r++) {
      const p = sigmoid(score(v.subarray(r * rowSize, (r + 1) * rowSize)));
      out[2 * r] = p;
      out[2 * r + 1] = 1 - p;
    }
    return tensor(out, [n, 2]);
  };
}

describe('limeTabular', () => {
  setSeed(1);
  const background = randomNormal([200, 10], 0, 2);
  // Only columns 1 and 3 matter.
  const model = twoClass((x) => 1.5 * x[1]! - 1.0 * x[3]!, 10);
  const row = tensor([0.5, 1.2, -3, -0.8, 2, 0.1, 1, -1, 0.3, 2.5]);

  it("recovers the relevant columns (lime's forward selection, highest weights, all columns)", () => {
    for (const numFeatures of [2, 7, 10]) {
      const e = limeTabular(model, row, { background, numFeatures, samples: 2000, seed: 3 });
      expect(new Set(e.features.slice(0, 2))).toEqual(new Set([1, 3]));
      expect(e.features.length).toBe(numFeatures);
      expect(e.weights.filter((w) => w !== 0).length).toBe(numFeatures);
      // Class 0 rises with column 1 and falls with column 3.
      expect(e.weights[1]).toBeGreaterThan(0);
      expect(e.weights[3]).toBeLessThan(0);
    }
  });

  it('scores the surrogate: R² near 1 for a nearly linear model, low for one that is not', () => {
    const nearlyLinear = limeTabular(model, row, { background, samples: 2000, seed: 3 });
    const wavy = limeTabular(
      twoClass((x) => 3 * Math.sin(4 * x[0]!) * Math.cos(4 * x[2]!), 10),
      row,
      { background, samples: 2000, seed: 3 },
    );
    expect(nearlyLinear.score).toBeGreaterThan(0.8);
    expect(wavy.score).toBeLessThan(0.5);
  });

  it("on a linear model gives slope × the column's standard deviation, R² ≈ 1, localPrediction = f(row)", () => {
    const w = [0.5, -1, 0, 2, 0, 0.25, 0, 0, 0, -0.5];
    const linear = (batch: Tensor): Tensor => matmul(batch, tensor(w.map((v) => [v])));
    const e = limeTabular(linear, row, { background, samples: 2000, seed: 2 });
    const data = background.dataSync();
    const std = w.map((_, c) => {
      const col = Array.from({ length: 200 }, (_, r) => data[r * 10 + c]!);
      const m = col.reduce((a, b) => a + b, 0) / 200;
      return Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / 200);
    });
    // Ridge's alpha = 1 against a total kernel weight in the hundreds shrinks slopes by well under 1 %.
    w.forEach((wc, c) => expect(e.weights[c]).toBeCloseTo(wc * std[c]!, 1));
    expect(e.score).toBeGreaterThan(0.999);
    const fRow = linear(tensor([Array.from(row.dataSync())])).dataSync()[0]!;
    expect(Math.abs(e.localPrediction - fRow)).toBeLessThan(0.02 * Math.abs(fRow) + 0.02);
    expect(e.classIndex).toBe(0);
  });

  it('is reproducible with a seed, and with setSeed when no seed is given', () => {
    const a = limeTabular(model, row, { background, samples: 300, seed: 9 });
    expect(limeTabular(model, row, { background, samples: 300, seed: 9 })).toEqual(a);
    expect(limeTabular(model, row, { background, samples: 300, seed: 10 }).weights).not.toEqual(a.weights);
    setSeed(4);
    const b = limeTabular(model, row, { background, samples: 300 });
    setSeed(4);
    expect(limeTabular(model, row, { background, samples: 300 })).toEqual(b);
  });

  it('accepts a Model', () => {
    setSeed(2);
    const net = sequential([dense({ units: 3, activation: 'softmax', inputShape: [10] })]);
    const e = limeTabular(net, row, { background, samples: 200, seed: 1, classIndex: 2 });
    expect(e.classIndex).toBe(2);
    expect(e.weights).toHaveLength(10);
    expect(e.weights.every(Number.isFinite)).toBe(true);
  });
});

describe('limeText', () => {
  // Keyed on "excellent"; "good" helps a little; every other word is ignored.
  const classify = (texts: string[]): Tensor =>
    tensor(
      texts.map((t) => {
        const p = sigmoid(4 * Number(/\bexcellent\b/.test(t)) + 0.5 * Number(/\bgood\b/.test(t)) - 2);
        return [1 - p, p];
      }),
    );
  const text = 'The plot was good, and the acting was excellent; the music was fine.';

  it('ranks the word the classifier is keyed on first', () => {
    const e = limeText(classify, text, { samples: 1000, seed: 1 });
    expect(e.classIndex).toBe(1);
    expect(e.tokens).toEqual(['The', 'plot', 'was', 'good', 'and', 'the', 'acting', 'excellent', 'music', 'fine']);
    expect(e.tokens[e.features[0]!]).toBe('excellent');
    expect(e.tokens[e.features[1]!]).toBe('good');
    // The words the classifier ignores get far smaller weights.
    const keyed = Math.abs(e.weights[e.tokens.indexOf('excellent')]!);
    for (const word of ['plot', 'acting', 'music', 'fine']) expect(Math.abs(e.weights[e.tokens.indexOf(word)]!)).toBeLessThan(0.1 * keyed);
    expect(e.score).toBeGreaterThan(0.5);
  });

  it('removes every occurrence of a word and keeps the rest of the text', () => {
    const seen: string[] = [];
    limeText(
      (texts) => {
        seen.push(...texts);
        return tensor(texts.map(() => [0.5, 0.5]));
      },
      'a b, a c',
      { samples: 40, seed: 2 },
    );
    expect(seen[0]).toBe('a b, a c');
    expect(seen).toContain(' b,  c'); // "a" removed twice
    for (const t of seen) expect(t.includes('a') ? t.split('a').length - 1 : 2).toBe(2);
  });

  it('is reproducible with a seed; numFeatures limits the words', () => {
    const a = limeText(classify, text, { samples: 200, seed: 5, numFeatures: 3 });
    expect(limeText(classify, text, { samples: 200, seed: 5, numFeatures: 3 })).toEqual(a);
    expect(a.features).toHaveLength(3);
    expect(a.weights.filter((w) => w !== 0)).toHaveLength(3);
  });
});

describe('limeImage', () => {
  // 24×24 RGB, 16 segments of 6×6 blocks; the model looks only at the red in segments 5 and 10.
  const height = 24;
  const width = 24;
  const blocks: Segmentation = {
    labels: Int32Array.from({ length: height * width }, (_, p) => Math.floor(Math.floor(p / width) / 6) * 4 + Math.floor((p % width) / 6)),
    count: 16,
  };
  const image = tensor(
    Array.from({ length: height * width * 3 }, (_, i) => (i % 3 === 0 ? 0.9 : 0.3 + 0.2 * Math.sin(i))),
    [height, width, 3],
  );
  const model = twoClass(
    (x) => {
      let red = 0;
      for (let p = 0; p < height * width; p++) if (blocks.labels[p] === 5 || blocks.labels[p] === 10) red += x[p * 3]!;
      return (8 * red) / 72 - 4;
    },
    height * width * 3,
  );

  it('ranks the segments the model looks at first', () => {
    const e = limeImage(model, image, { segments: blocks, samples: 300, seed: 1, hideColor: 0 });
    expect(e.segmentation).toBe(blocks);
    expect(e.classIndex).toBe(0);
    expect(new Set(e.features.slice(0, 2))).toEqual(new Set([5, 10]));
    for (let s = 0; s < 16; s++) if (s !== 5 && s !== 10) expect(Math.abs(e.weights[s]!)).toBeLessThan(0.2 * e.weights[5]!);
    expect(e.weights[5]).toBeGreaterThan(0);
  });

  it('with SLIC superpixels and mean-colour hiding, finds the bright patch the model keys on', () => {
    // A dark grey image with a bright 8×8 patch; the model scores the patch's brightness.
    const patch = (p: number): boolean => Math.floor(p / width) >= 4 && Math.floor(p / width) < 12 && p % width >= 12 && p % width < 20;
    const pixels = Array.from({ length: height * width }, (_, p) => (patch(p) ? [0.95, 0.9, 0.2] : [0.2, 0.25, 0.3 + 0.1 * ((p % 7) / 7)]));
    const patchModel = twoClass(
      (x) => {
        let s = 0;
        for (let p = 0; p < height * width; p++) if (patch(p)) s += x[p * 3]!;
        return s / 8 - 4;
      },
      height * width * 3,
    );
    const e = limeImage(patchModel, tensor(pixels.flat(), [1, height, width, 3]), {
      segments: 16,
      samples: 300,
      seed: 2,
    });
    const top = e.features[0]!;
    let inside = 0;
    let size = 0;
    e.segmentation.labels.forEach((s, p) => {
      if (s !== top) return;
      size++;
      if (patch(p)) inside++;
    });
    expect(inside / size).toBeGreaterThan(0.8);
    expect(e.weights[top]).toBeGreaterThan(0);
  });

  it('is reproducible with a seed', () => {
    const a = limeImage(model, image, { segments: blocks, samples: 60, seed: 4 });
    expect(limeImage(model, image, { segments: blocks, samples: 60, seed: 4 }).weights).toEqual(a.weights);
    expect(limeImage(model, image, { segments: blocks, samples: 60, seed: 5 }).weights).not.toEqual(a.weights);
  });
});

describe('LIME errors', () => {
  const background = tensor([
    [0, 1],
    [1, 0],
  ]);
  const f = (x: Tensor): Tensor => x;
  it('names the function, the option, what it expects and what it got', () => {
    expect(() => limeTabular(f, tensor([1, 2]), { background, sample: 5 } as never)).toThrow(
      /limeTabular: unknown option 'sample' \(did you mean 'samples'\?\)/,
    );
    expect(() => limeTabular(f, tensor([1, 2]), undefined as never)).toThrow(
      /limeTabular: options must be an object with 'background', got undefined/,
    );
    expect(() => limeTabular(f, tensor([1, 2]), {} as never)).toThrow(/limeTabular: option 'background' must be a Tensor, got undefined/);
    expect(() => limeTabular(f, tensor([1, 2, 3]), { background })).toThrow(
      /limeTabular: option 'background' must be \[rows, 3\] \(the row has 3 columns\), got a Tensor of shape \[2, 2\]/,
    );
    expect(() => limeTabular(f, tensor([1, 2]), { background, samples: 1.5 })).toThrow(
      /limeTabular: option 'samples' must be a positive integer, got 1.5/,
    );
    expect(() => limeTabular(f, tensor([1, 2]), { background, kernelWidth: 0 })).toThrow(
      /limeTabular: option 'kernelWidth' must be a finite number > 0, got 0/,
    );
    expect(() => limeTabular(f, tensor([1, 2]), { background, classIndex: 2, samples: 5 })).toThrow(
      /limeTabular: option 'classIndex' must be an integer in \[0, 1\] \(the model outputs 2 classes\), got 2/,
    );
    expect(() => limeTabular(() => tensor([Number.NaN]), tensor([1, 2]), { background, samples: 1 })).toThrow(
      /limeTabular: the model returned a non-finite output/,
    );
    expect(() => limeText(() => tensor([1]), '...', {})).toThrow(/limeText: text must contain at least one word, got "..."/);
    expect(() => limeText(() => tensor([1]), 3 as never)).toThrow(/limeText: text must be a string, got 3/);
    expect(() => limeText(() => tensor([1]), 'a b', { numFeature: 1 } as never)).toThrow(/did you mean 'numFeatures'/);
    const image = tensor(new Array(4 * 4 * 3).fill(0.5), [4, 4, 3]);
    expect(() => limeImage(f, image, { segments: { labels: new Int32Array(3), count: 1 } })).toThrow(
      /limeImage: option 'segments' must be a number or \{ labels: Int32Array of 16 values in \[0, count\), count \}/,
    );
    expect(() => limeImage(f, image, { segments: 0 })).toThrow(/limeImage: option 'segments' must be a positive integer, got 0/);
    expect(() => limeImage(f, image, { compactness: 0 })).toThrow(/limeImage: option 'compactness' must be a finite number > 0, got 0/);
    expect(() => limeImage(f, image, { segments: { labels: new Int32Array(16), count: 1 }, compactness: 5 })).toThrow(
      /limeImage: option 'compactness' applies only when 'segments' is a number/,
    );
    expect(() => limeImage(f, image, { hideColor: Number.NaN })).toThrow(/limeImage: option 'hideColor' must be a finite number, got NaN/);
    expect(() => limeImage({} as never, image)).toThrow(/limeImage: predict must be a function .* or a Model, got an object \(Object\)/);
  });
});
