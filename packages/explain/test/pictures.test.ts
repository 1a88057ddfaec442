/**
 * The pictures: PNGs decode back to the size and pixels the colour maps, ranges, blends and layouts
 * promise; one small heatmap is pinned byte for byte; charts draw the values and names given; bad
 * input is refused with the function's and the option's names.
 */
import { readFileSync } from 'node:fs';

import { dense } from '@axon/layers';
import { sequential } from '@axon/models';
import { randomNormal, setSeed, sum, tensor } from '@axon/tensor';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { barChart, gridPng, heatmapPng, imagePng, maskPng, overlayPng, trainingCurves } from '../src/index.js';

type Rgb = [number, number, number];

function decode(bytes: Uint8Array): { width: number; height: number; at: (x: number, y: number) => Rgb } {
  const png = PNG.sync.read(Buffer.from(bytes));
  const at = (x: number, y: number): Rgb => {
    const i = (y * png.width + x) * 4;
    return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
  };
  return { width: png.width, height: png.height, at };
}

/** Every pixel, row by row. */
function pixels(bytes: Uint8Array): Rgb[] {
  const { width, height, at } = decode(bytes);
  return Array.from({ length: width * height }, (_, i) => at(i % width, Math.floor(i / width)));
}

/** A colour given as fractions in [0, 1] (as matplotlib's tables list them) in bytes. */
const bytesOf = (fractions: Rgb): Rgb => fractions.map((f) => Math.round(255 * f)) as Rgb;

/** Relative luminance (Rec. 709), to check a map runs dark to light. */
const luminance = ([r, g, b]: Rgb): number => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe('heatmapPng', () => {
  it('matches the golden 4 × 2 viridis ramp byte for byte, whose pixels are what viridis documents', () => {
    // The golden file was written once by heatmapPng from these eight evenly spaced values. It is the
    // expected output because, decoded, it is: 4 × 2 RGB pixels; the first and last are viridis' ends
    // as matplotlib lists them (_viridis_data[0] and [255] in matplotlib/_cm_listed.py); and viridis
    // gets lighter monotonically (it was designed to), so the pixels in between, row by row, are in
    // increasing luminance. Byte-for-byte equality then pins the encoding as well: pngjs filters in
    // JavaScript and deflates with zlib's Z_RLE strategy, which has no hash-chain match search (the part
    // zlib builds such as Chromium's, which Node bundles, change), so the bytes should hold across Node versions.
    const golden = readFileSync(new URL('./golden/heatmap-viridis-4x2.png', import.meta.url));
    const png = heatmapPng({ values: Float32Array.from({ length: 8 }, (_, i) => i / 7), shape: [2, 4] });
    expect(Buffer.from(png).equals(golden)).toBe(true);

    const { width, height } = decode(golden);
    expect([width, height]).toEqual([4, 2]);
    const all = pixels(golden);
    expect(all[0]).toEqual(bytesOf([0.267004, 0.004874, 0.329415]));
    expect(all[7]).toEqual(bytesOf([0.993248, 0.906157, 0.143936]));
    for (let i = 1; i < 8; i++) expect(luminance(all[i]!)).toBeGreaterThan(luminance(all[i - 1]!));
  });

  it("draws the min and max with each colour map's documented ends, and the first map of a batch", () => {
    // Batch item 0 runs 0..14 across a 5 × 3 map; item 1 (ignored) holds other values.
    const batch = tensor(
      Float32Array.from({ length: 30 }, (_, i) => (i < 15 ? i : 100 - i)),
      [2, 3, 5],
    );
    const ends = (colormap: 'inferno' | 'jet' | 'gray' | 'viridis') => {
      const png = heatmapPng(batch, { colormap });
      const { width, height, at } = decode(png);
      expect([width, height]).toEqual([5, 3]);
      return [at(0, 0), at(4, 2), at(2, 1)]; // min, max and the middle value (7 of 0..14)
    };
    // matplotlib's _inferno_data[0] and [255].
    const [lowInferno, highInferno] = ends('inferno');
    expect(lowInferno).toEqual(bytesOf([0.001462, 0.000466, 0.013866]));
    expect(highInferno).toEqual(bytesOf([0.988362, 0.998364, 0.644924]));
    // MATLAB's jet: dark blue (0, 0, 0.5) at the low end, dark red (0.5, 0, 0) at the high end, (0.5, 1, 0.5) halfway.
    const [lowJet, highJet, middleJet] = ends('jet');
    expect(lowJet).toEqual(bytesOf([0, 0, 0.5]));
    expect(highJet).toEqual(bytesOf([0.5, 0, 0]));
    // The middle value is entry 128 of the 256, at 128/255 rather than 0.5: jet moves up to 4 per entry.
    middleJet!.forEach((v, k) => expect(Math.abs(v - bytesOf([0.5, 1, 0.5])[k]!)).toBeLessThanOrEqual(2));
    expect(ends('gray')).toEqual([bytesOf([0, 0, 0]), bytesOf([1, 1, 1]), bytesOf([0.5, 0.5, 0.5])]);
    expect(ends('viridis')[0]).toEqual(bytesOf([0.267004, 0.004874, 0.329415]));
  });

  it('takes [h, w], [h, w, 1] and [n, h, w, 1] maps and Float32Arrays with a shape alike', () => {
    const values = Float32Array.from({ length: 6 }, (_, i) => i * i);
    const expected = heatmapPng(tensor(values, [2, 3]));
    expect(heatmapPng(tensor(values, [2, 3, 1]))).toEqual(expected);
    expect(heatmapPng(tensor(values, [1, 2, 3, 1]))).toEqual(expected);
    expect(heatmapPng({ values, shape: [2, 3] })).toEqual(expected);
  });

  it('scales each value to a block of pixels', () => {
    const png = heatmapPng(
      tensor([
        [0, 1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10, 11],
        [0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1],
      ]),
      { scale: 3 },
    );
    const { width, height, at } = decode(png);
    expect([width, height]).toEqual([18, 12]);
    const small = decode(
      heatmapPng(
        tensor([
          [0, 1, 2, 3, 4, 5],
          [6, 7, 8, 9, 10, 11],
          [0, 0, 0, 0, 0, 0],
          [1, 1, 1, 1, 1, 1],
        ]),
      ),
    );
    for (let y = 0; y < 12; y++) for (let x = 0; x < 18; x++) expect(at(x, y)).toEqual(small.at(Math.floor(x / 3), Math.floor(y / 3)));
  });

  it('clamps to a given range, and draws a constant map as the low end', () => {
    const gray = pixels(heatmapPng(tensor([[-5, 0, 5, 10, 20]]), { colormap: 'gray', range: [0, 10] })).map((p) => p[0]);
    expect(gray).toEqual([0, 0, 128, 255, 255]);
    expect(
      pixels(
        heatmapPng(
          tensor([
            [3, 3],
            [3, 3],
          ]),
          { colormap: 'gray' },
        ),
      ),
    ).toEqual(new Array(4).fill([0, 0, 0]));
  });

  it('refuses bad values, shapes and options, naming them', () => {
    const map = tensor([
      [0, 1],
      [2, 3],
    ]);
    expect(() => heatmapPng(map, { colourmap: 'jet' } as never)).toThrow(
      /heatmapPng: unknown option 'colourmap' \(did you mean 'colormap'\?\)/,
    );
    expect(() => heatmapPng(map, { colormap: 'hot' as never })).toThrow(
      "heatmapPng: option 'colormap' must be one of 'viridis', 'inferno', 'jet', 'gray', got 'hot'",
    );
    expect(() => heatmapPng(map, { range: [1, 1] })).toThrow(
      "heatmapPng: option 'range' must be two finite numbers [low, high] with low < high, got [1, 1]",
    );
    expect(() => heatmapPng(map, { scale: 1.5 })).toThrow("heatmapPng: option 'scale' must be an integer from 1 to 64, got 1.5");
    expect(() => heatmapPng(tensor([[0, Number.NaN]]))).toThrow('heatmapPng: values has a non-finite value (NaN) at index 1');
    expect(() => heatmapPng(randomNormal([1, 4, 4, 3]))).toThrow(
      /heatmapPng: values must have shape \[h, w\], \[h, w, 1\], \[n, h, w\] or \[n, h, w, 1\], got \[1, 4, 4, 3\] \(reduce the channels first/,
    );
    expect(() => heatmapPng(tensor([1, 2, 3]))).toThrow('heatmapPng: values must have shape');
    expect(() => heatmapPng({ values: new Float32Array(5), shape: [2, 3] })).toThrow(
      'heatmapPng: values.shape [2, 3] does not fit 5 values',
    );
    expect(() => heatmapPng([[1, 2]] as never)).toThrow('heatmapPng: values must be a Tensor or { values: Float32Array, shape }');
  });
});

describe('imagePng', () => {
  it('writes RGB and gray images pixel for pixel, the first of a batch', () => {
    const rgb = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => (i % 7) / 6);
    const png = imagePng(tensor(rgb, [2, 3, 3]), { range: [0, 1] });
    expect(pixels(png).flat()).toEqual(Array.from(rgb, (v) => Math.round(255 * v)));
    // Gray, scaled from its own min (2) and max (4) by default; batch item 1 is ignored.
    const gray = imagePng(tensor([2, 3, 4, 4, 99, 99, 99, 99], [2, 2, 2, 1]));
    expect(pixels(gray)).toEqual([
      [0, 0, 0],
      [128, 128, 128],
      [255, 255, 255],
      [255, 255, 255],
    ]);
  });

  it('refuses images of two or more than three channels', () => {
    expect(() => imagePng(randomNormal([3, 3, 2]))).toThrow(
      /imagePng: image must have shape \[h, w\], \[h, w, c\] or \[n, h, w, c\] with c = 1 or 3, got \[3, 3, 2\]/,
    );
    expect(() => imagePng(randomNormal([3, 3]), { alpha: 1 } as never)).toThrow("imagePng: unknown option 'alpha'");
  });
});

describe('overlayPng', () => {
  const image = tensor(
    Float32Array.from({ length: 16 }, (_, i) => i / 15),
    [1, 4, 4, 1],
  );
  const heat = tensor(
    Float32Array.from({ length: 16 }, (_, i) => (i * 7) % 16),
    [4, 4],
  );

  it('is the image at alpha 0, the heatmap at alpha 1 and their blend between', () => {
    expect(pixels(overlayPng(image, heat, { alpha: 0 }))).toEqual(pixels(imagePng(image)));
    expect(pixels(overlayPng(image, heat, { alpha: 1, colormap: 'inferno' }))).toEqual(pixels(heatmapPng(heat, { colormap: 'inferno' })));
    const under = pixels(imagePng(image));
    const over = pixels(heatmapPng(heat, { colormap: 'jet' }));
    pixels(overlayPng(image, heat, { alpha: 0.3 })).forEach((p, i) =>
      p.forEach((v, k) => expect(Math.abs(v - (0.7 * under[i]![k]! + 0.3 * over[i]![k]!))).toBeLessThanOrEqual(1)),
    );
  });

  it("resizes a smaller heatmap to the image bilinearly, as tf.image.resize's half-pixel centres", () => {
    // Columns 0 and 1 resized from 2 to 4 sample the input at x = -0.25 (clamped to 0), 0.25, 0.75
    // and 1.25 (clamped to 1): the values 0, 0.25, 0.75 and 1.
    const png = overlayPng(
      image,
      tensor([
        [0, 1],
        [0, 1],
      ]),
      { alpha: 1, colormap: 'gray', scale: 2 },
    );
    const { width, height, at } = decode(png);
    expect([width, height]).toEqual([8, 8]);
    for (let y = 0; y < 8; y++) expect([0, 2, 4, 6].map((x) => at(x, y)[0])).toEqual([0, 64, 191, 255]);
  });

  it('refuses a bad alpha or a heatmap of several channels', () => {
    expect(() => overlayPng(image, heat, { alpha: 1.5 })).toThrow("overlayPng: option 'alpha' must be a number in [0, 1], got 1.5");
    expect(() => overlayPng(image, heat, { alpha: Number.NaN })).toThrow("overlayPng: option 'alpha' must be a number in [0, 1], got NaN");
    expect(() => overlayPng(image, randomNormal([1, 4, 4, 3]))).toThrow(/overlayPng: heat must have shape/);
  });
});

describe('gridPng', () => {
  it('lays the channels out as tiles, each scaled from its own min and max, on white', () => {
    // 5 maps of 2 × 3; map c holds 100·c + (c + 1)·p for pixel p, so every map spans another range.
    const [h, w, c] = [2, 3, 5];
    const values = new Float32Array(h * w * c);
    for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) values[p * c + k] = 100 * k + (k + 1) * p;
    const png = gridPng(tensor(values, [1, h, w, c]), { columns: 3, padding: 1, scale: 2, colormap: 'gray' });
    const { width, height, at } = decode(png);
    expect([width, height]).toEqual([(3 * w + 2) * 2, (2 * h + 1) * 2]);
    const white: Rgb = [255, 255, 255];
    for (let k = 0; k < c; k++) {
      const [left, top] = [(k % 3) * (w + 1) * 2, Math.floor(k / 3) * (h + 1) * 2];
      expect(at(left, top)).toEqual([0, 0, 0]); // pixel 0: the map's min
      expect(at(left + 2 * w - 1, top + 2 * h - 1)).toEqual(white); // the last pixel: its max
      if (k % 3 < 2) expect(at(left + 2 * w, top)).toEqual(white); // the padding to its right
    }
    expect(at(width - 1, height - 1)).toEqual(white); // the sixth slot has no map
  });

  it('defaults to ⌈√maps⌉ columns and reads [h, w, c] as one stack', () => {
    const { width, height } = decode(gridPng(randomNormal([4, 5, 10])));
    expect([width, height]).toEqual([4 * 5 + 3, 3 * 4 + 2]);
  });

  it('refuses bad layout options', () => {
    expect(() => gridPng(randomNormal([4, 4, 2]), { columns: 0 })).toThrow(
      "gridPng: option 'columns' must be an integer from 1 to 4096, got 0",
    );
    expect(() => gridPng(randomNormal([4, 4, 2]), { padding: -1 })).toThrow(
      "gridPng: option 'padding' must be an integer from 0 to 64, got -1",
    );
    expect(() => gridPng(randomNormal([4, 4]))).toThrow(/gridPng: maps must have shape \[h, w, c\] or \[n, h, w, c\], got \[4, 4\]/);
  });
});

describe('maskPng', () => {
  // A white 4 × 4 image with one black pixel (so it spans 0..1), cut into four 2 × 2 quadrants.
  const image = tensor(
    Float32Array.from({ length: 16 }, (_, i) => (i === 15 ? 0 : 1)),
    [4, 4, 1],
  );
  const labels = Int32Array.from({ length: 16 }, (_, i) => 2 * Math.floor(i / 8) + Math.floor((i % 4) / 2));
  const weights = [0.8, -0.4, 0.2, 0];
  const quadrant = (png: Uint8Array, segment: number): Rgb => decode(png).at(2 * (segment % 2), 2 * Math.floor(segment / 2));
  const isGreen = ([r, g, b]: Rgb) => g > r && r === b;
  const isRed = ([r, g, b]: Rgb) => r > g && g === b;
  const isDimmedGray = ([r, g, b]: Rgb) => r === g && g === b && r < 128;

  it('shows the top k segments by |weight|, green or red by sign, and dims the rest', () => {
    const png = maskPng(image, { labels }, weights, { topK: 2 });
    expect(isGreen(quadrant(png, 0))).toBe(true);
    expect(isRed(quadrant(png, 1))).toBe(true);
    expect(isDimmedGray(quadrant(png, 2))).toBe(true);
    expect(isDimmedGray(quadrant(png, 3))).toBe(true);
  });

  it('with positiveOnly, takes the top k of the positive segments', () => {
    const png = maskPng(image, labels, weights, { topK: 2, positiveOnly: true });
    expect(isGreen(quadrant(png, 0))).toBe(true);
    expect(isGreen(quadrant(png, 2))).toBe(true);
    expect(isDimmedGray(quadrant(png, 1))).toBe(true);
  });

  it('without topK, tints every segment in proportion to its weight', () => {
    const png = maskPng(image, labels, weights);
    expect(decode(maskPng(image, labels, weights, { scale: 2 })).width).toBe(8);
    const [strong, negative, weak, zero] = [0, 1, 2, 3].map((s) => quadrant(png, s));
    expect(isGreen(strong!) && isRed(negative!) && isGreen(weak!)).toBe(true);
    expect(zero).toEqual([255, 255, 255]);
    // The tint moves red and blue away from white by an amount proportional to the weight: 0.8 / 0.2 = 4 and 0.8 / 0.4 = 2.
    expect((255 - strong![0]) / (255 - weak![0])).toBeCloseTo(4, 1);
    expect((255 - strong![0]) / (255 - negative![1])).toBeCloseTo(2, 1);
    expect(quadrant(maskPng(image, labels, weights, { positiveOnly: true }), 1)).toEqual([255, 255, 255]);
  });

  it('refuses segments and weights that do not fit the image', () => {
    expect(() => maskPng(image, new Int32Array(15), weights)).toThrow(
      'maskPng: segments must be an Int32Array (or { labels: Int32Array }) of 16 labels, one per pixel of the 4 × 4 image, got a Int32Array of 15',
    );
    expect(() => maskPng(image, labels, [1, 2, 3])).toThrow('maskPng: segments[10] is 3, not a segment of the 3 weights');
    expect(() => maskPng(image, labels, [1, Number.NaN, 0, 0])).toThrow(
      'maskPng: weights must be finite numbers, one per segment, got NaN at index 1',
    );
    expect(() => maskPng(image, labels, weights, { topK: 5 })).toThrow("maskPng: option 'topK' must be an integer from 1 to 4, got 5");
    expect(() => maskPng(image, labels, weights, { positiveOnly: 'yes' as never })).toThrow(
      "maskPng: option 'positiveOnly' must be a boolean, got 'yes'",
    );
  });
});

/** Bands of rows holding a colour, top to bottom, and the widest run of it in each: the bars. */
function barLengths(png: Uint8Array, color: Rgb): number[] {
  const { width, height, at } = decode(png);
  const bands: number[] = [];
  let inBand = false;
  for (let y = 0; y < height; y++) {
    let longest = 0;
    for (let x = 0, run = 0; x < width; x++) {
      run = at(x, y).every((v, k) => v === color[k]) ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    if (longest > 0 && !inBand) bands.push(0);
    if (longest > 0) bands[bands.length - 1] = Math.max(bands.at(-1)!, longest);
    inBand = longest > 0;
  }
  return bands;
}

const GREEN: Rgb = [0x2e, 0x7d, 0x32];
const RED: Rgb = [0xc6, 0x28, 0x28];

describe('barChart', () => {
  it('draws one bar per label, as long as its value, green for positive and red for negative, in SVG and PNG', async () => {
    const { svg, png } = await barChart(['cat ears', 'whiskers', 'background'], [0.4, 0.1, -0.2], { title: 'Top features' });
    for (const text of ['cat ears', 'whiskers', 'background', 'Top features']) expect(svg).toContain(`>${text}</text>`);
    const { width, height } = decode(png);
    expect(svg).toMatch(new RegExp(`<svg [^>]*width="${width}" height="${height}"`));
    const [first, second] = barLengths(png, GREEN);
    expect(barLengths(png, GREEN)).toHaveLength(2);
    expect(first! / second!).toBeCloseTo(4, 0);
    const [negative] = barLengths(png, RED);
    expect(first! / negative!).toBeCloseTo(2, 0);
  });

  it('refuses labels and values that do not pair up', async () => {
    await expect(barChart(['a', 'b'], [1])).rejects.toThrow(
      'barChart: labels and values must be non-empty and of one length, got 2 labels and 1 values',
    );
    await expect(barChart(['a', 'a'], [1, 2])).rejects.toThrow("barChart: labels must be distinct (one bar each), 'a' repeats");
    await expect(barChart(['a'], [Number.POSITIVE_INFINITY])).rejects.toThrow('barChart: values[0] is Infinity, not a finite number');
    await expect(barChart(['a'], [1], { titel: 'x' } as never)).rejects.toThrow("barChart: unknown option 'titel' (did you mean 'title'?)");
  });
});

describe('trainingCurves', () => {
  it("draws a History's metrics per epoch, training and validation, one panel per metric", async () => {
    setSeed(3);
    const model = sequential([dense({ units: 4, activation: 'relu', inputShape: [3] }), dense({ units: 1 })]);
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError', metrics: ['mae'] });
    const x = randomNormal([32, 3]);
    const y = sum(x, 1, true);
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, validationData: [x, y] });
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);

    const { svg, png } = await trainingCurves(history, { title: 'Fit' });
    for (const text of ['loss', 'mae', 'training', 'validation', 'epoch', 'Fit']) expect(svg).toContain(`>${text}</text>`);
    expect(svg.match(/class="mark-line role-mark/g)).toHaveLength(4); // two metrics × training and validation
    expect(decode(png).width).toBeGreaterThan(400);

    const lossOnly = await trainingCurves(history.history, { metrics: ['loss'] });
    expect(lossOnly.svg.match(/class="mark-line role-mark/g)).toHaveLength(2);
    expect(lossOnly.svg).not.toContain('>mae</text>');
    const noValidation = await trainingCurves({ loss: [1, 0.5] });
    expect(noValidation.svg.match(/class="mark-line role-mark/g)).toHaveLength(1);
  });

  it('refuses metrics that were not logged and values that are not finite', async () => {
    await expect(trainingCurves({ loss: [1], val_loss: [2] }, { metrics: ['accuracy'] })).rejects.toThrow(
      "trainingCurves: option 'metrics' names 'accuracy', which was not logged; logged: loss",
    );
    await expect(trainingCurves({ loss: [1, Number.NaN] })).rejects.toThrow('trainingCurves: loss[1] is NaN, not a finite number');
    await expect(trainingCurves({})).rejects.toThrow('trainingCurves: history logged no metrics');
    await expect(trainingCurves({ loss: [1] }, { metric: ['loss'] } as never)).rejects.toThrow("did you mean 'metrics'?");
  });
});
