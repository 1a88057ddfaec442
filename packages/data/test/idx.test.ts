import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeIdx, loadFashionMnist, parseIdx, FASHION_MNIST_ENV } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-data-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a tiny MNIST-layout data set: n images of h x w whose pixel k of image i is (i*7 + k) % 256. */
function writeDataset(target: string, n: number, h: number, w: number, gzip: boolean, testN = n): void {
  const write = (name: string, shape: number[], data: Uint8Array): void => {
    const bytes = encodeIdx(shape, data);
    writeFileSync(join(target, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  };
  const images = (count: number): Uint8Array =>
    Uint8Array.from({ length: count * h * w }, (_, k) => (Math.floor(k / (h * w)) * 7 + (k % (h * w))) % 256);
  const labels = (count: number): Uint8Array => Uint8Array.from({ length: count }, (_, i) => i % 10);
  write('train-images-idx3-ubyte', [n, h, w], images(n));
  write('train-labels-idx1-ubyte', [n], labels(n));
  write('t10k-images-idx3-ubyte', [testN, h, w], images(testN));
  write('t10k-labels-idx1-ubyte', [testN], labels(testN));
}

describe('IDX parsing', () => {
  it('round-trips shape and values, plain and gzipped', () => {
    const data = Uint8Array.from([0, 1, 2, 250, 251, 255]);
    for (const bytes of [encodeIdx([2, 3], data), gzipSync(encodeIdx([2, 3], data))]) {
      const parsed = parseIdx(bytes, 'x.idx');
      expect(parsed.shape).toEqual([2, 3]);
      expect([...parsed.data]).toEqual([...data]);
    }
  });

  it('rejects a truncated file naming it and the byte counts', () => {
    const bytes = encodeIdx([2, 3], new Uint8Array(6)).subarray(0, 14);
    expect(() => parseIdx(bytes, 'short.idx')).toThrow(/short\.idx: IDX shape \[2,3\] needs 6 value bytes .* has 2 \(truncated\?\)/);
  });

  it('rejects non-IDX data and unsupported value types', () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 5]), 'junk.bin')).toThrow(/junk\.bin: not an IDX file/);
    const floats = encodeIdx([1], new Uint8Array(1));
    floats[2] = 0x0d;
    expect(() => parseIdx(floats, 'f.idx')).toThrow(/f\.idx: IDX value type float32 is not supported/);
    expect(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), 'bad.gz')).toThrow(/bad\.gz: not a valid gzip file/);
  });
});

describe('loadFashionMnist', () => {
  for (const gzip of [true, false]) {
    it(`reads ${gzip ? 'gzipped' : 'plain'} files into [n,h,w,1] floats in [0,1] and int32 labels`, () => {
      writeDataset(dir, 12, 4, 5, gzip, 3);
      const { train, test } = loadFashionMnist({ dir });
      expect(train.x.shape).toEqual([12, 4, 5, 1]);
      expect(train.y.shape).toEqual([12]);
      expect(train.y.dtype).toBe('int32');
      expect(test.x.shape).toEqual([3, 4, 5, 1]);
      const x = train.x.dataSync();
      expect(x[0]).toBe(0);
      expect(x[20 + 3]).toBeCloseTo((7 + 3) / 255, 6); // image 1, pixel 3
      expect(Math.max(...x)).toBeLessThanOrEqual(1);
      expect([...train.y.dataSync()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    });
  }

  it('keeps only the first trainLimit / testLimit samples', () => {
    writeDataset(dir, 12, 2, 2, true);
    const { train, test } = loadFashionMnist({ dir, trainLimit: 5, testLimit: 2 });
    expect(train.x.shape).toEqual([5, 2, 2, 1]);
    expect([...train.y.dataSync()]).toEqual([0, 1, 2, 3, 4]);
    expect(test.y.shape).toEqual([2]);
    expect(() => loadFashionMnist({ dir, trainLimit: 0 })).toThrow(/trainLimit must be a positive integer, got 0/);
  });

  it('honours the environment variable', () => {
    writeDataset(dir, 2, 2, 2, false);
    const previous = process.env[FASHION_MNIST_ENV];
    process.env[FASHION_MNIST_ENV] = dir;
    try {
      expect(loadFashionMnist().train.x.shape).toEqual([2, 2, 2, 1]);
    } finally {
      if (previous === undefined) delete process.env[FASHION_MNIST_ENV];
      else process.env[FASHION_MNIST_ENV] = previous;
    }
  });

  it('explains how to get the data when the files are absent', () => {
    expect(() => loadFashionMnist({ dir: join(dir, 'nowhere') })).toThrow(
      /Fashion-MNIST not found: .*nowhere\/train-images-idx3-ubyte\.gz .*apt-get install dataset-fashion-mnist.*AXON_FASHION_MNIST_DIR/,
    );
  });

  it('rejects images and labels of different counts', () => {
    writeDataset(dir, 4, 2, 2, false);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([3], new Uint8Array(3)));
    expect(() => loadFashionMnist({ dir })).toThrow(/has 4 images but .*train-labels-idx1-ubyte has 3 labels/);
  });
});
