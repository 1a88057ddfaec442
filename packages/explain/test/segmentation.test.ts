/**
 * SLIC: about the requested number of segments, each one connected, together covering the image;
 * segments follow a strong colour edge; grey images; errors.
 */
import '@axon/kernels-js';
import { tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';
import { type Segmentation, slic } from '../src/index.js';

/** Checks labels in [0, count), every label used, and each label one 4-connected region (by flood fill). */
function expectConnectedCover({ labels, count }: Segmentation, height: number, width: number): void {
  expect(labels.length).toBe(height * width);
  const seen = new Uint8Array(count);
  const regions = new Array<number>(count).fill(0);
  const visited = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) {
    const s = labels[p]!;
    expect(s >= 0 && s < count).toBe(true);
    seen[s] = 1;
    if (visited[p]) continue;
    regions[s]!++;
    const stack = [p];
    visited[p] = 1;
    while (stack.length > 0) {
      const q = stack.pop()!;
      const [y, x] = [Math.floor(q / width), q % width];
      for (const [ny, nx] of [
        [y - 1, x],
        [y + 1, x],
        [y, x - 1],
        [y, x + 1],
      ] as const) {
        const r = ny * width + nx;
        if (ny < 0 || ny >= height || nx < 0 || nx >= width || visited[r] || labels[r] !== s) continue;
        visited[r] = 1;
        stack.push(r);
      }
    }
  }
  expect(seen.every((v) => v === 1)).toBe(true);
  expect(regions.every((n) => n === 1)).toBe(true);
}

/** A smooth colourful RGB image in [0, 1], [h, w, 3]. */
function colourful(height: number, width: number): number[][][] {
  return Array.from({ length: height }, (_, y) =>
    Array.from({ length: width }, (_, x) => [0.5 + 0.5 * Math.sin(x / 5), 0.5 + 0.5 * Math.cos(y / 7), ((x + y) % 20) / 20]),
  );
}

describe('slic', () => {
  it('makes about the requested number of connected segments covering the image', () => {
    for (const segments of [16, 50]) {
      const result = slic(tensor(colourful(48, 60)), { segments });
      console.log(`slic on 48×60: ${segments} requested, ${result.count} made`);
      expect(result.count).toBeGreaterThanOrEqual(segments / 2);
      expect(result.count).toBeLessThanOrEqual(segments * 2);
      expectConnectedCover(result, 48, 60);
    }
  });

  it('keeps about the requested count on pure noise (stray pieces do not cascade into one segment)', () => {
    let seed = 7;
    const noise = Array.from({ length: 40 * 40 * 3 }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    });
    const result = slic(tensor(noise, [40, 40, 3]), { segments: 25 });
    console.log(`slic on 40×40 noise: 25 requested, ${result.count} made`);
    expect(result.count).toBeGreaterThanOrEqual(12);
    expect(result.count).toBeLessThanOrEqual(50);
    expectConnectedCover(result, 40, 40);
  });

  it('follows a strong colour edge: no segment straddles it', () => {
    // Left of column 23 red, right blue (0–255 values, as an 8-bit image).
    const image = Array.from({ length: 32 }, () => Array.from({ length: 40 }, (_, x) => (x < 23 ? [220, 30, 30] : [20, 40, 230])));
    const { labels, count } = slic(tensor([image]), { segments: 20, compactness: 10 });
    const side = new Array<number>(count).fill(-1);
    labels.forEach((s, p) => {
      const left = p % 40 < 23 ? 0 : 1;
      if (side[s] === -1) side[s] = left;
      expect(side[s]).toBe(left);
    });
    expectConnectedCover({ labels, count }, 32, 40);
  });

  it('segments a grey [1, h, w, 1] image; compactness changes the result', () => {
    const grey = Array.from({ length: 30 }, (_, y) => Array.from({ length: 30 }, (_, x) => [((x * y) % 17) / 17]));
    const compact = slic(tensor([grey]), { segments: 9, compactness: 100 });
    const loose = slic(tensor([grey]), { segments: 9, compactness: 0.1 });
    expectConnectedCover(compact, 30, 30);
    expectConnectedCover(loose, 30, 30);
    expect(Array.from(loose.labels)).not.toEqual(Array.from(compact.labels));
  });

  it('rejects bad images and options clearly', () => {
    const image = tensor(colourful(8, 8));
    expect(() => slic(image, { segment: 4 } as never)).toThrow(/slic: unknown option 'segment' \(did you mean 'segments'\?\)/);
    expect(() => slic(image, { segments: 0 })).toThrow(/slic: option 'segments' must be a positive integer, got 0/);
    expect(() => slic(image, { compactness: -1 })).toThrow(/slic: option 'compactness' must be a finite number > 0, got -1/);
    expect(() => slic(tensor([[1, 2]]))).toThrow(/slic: image must be \[height, width, 1 or 3\].*got a Tensor of shape \[1, 2\]/);
    expect(() => slic(tensor([[[1, 2]]]))).toThrow(/slic: image must be .*got a Tensor of shape \[1, 1, 2\]/);
    expect(() => slic(tensor([[[Number.NaN]]]))).toThrow(/slic: image has a non-finite value/);
  });
});
