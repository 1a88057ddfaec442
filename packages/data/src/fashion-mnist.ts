import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@axon/tensor';
import { readIdx } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
/** Environment variable that overrides the default directory. */
export const FASHION_MNIST_ENV = 'AXON_FASHION_MNIST_DIR';
/** Label i names class i. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Images and their labels: one split of a data set, ready for `model.fit(x, y)`. */
export interface ImageSplit {
  /** Images [n, height, width, 1], float32 in [0, 1]. */
  x: Tensor;
  /** Labels [n], int32. */
  y: Tensor;
}

/** A data set's training and test splits. */
export interface ImageDataset {
  /** The training split (train-images / train-labels files). */
  train: ImageSplit;
  /** The test split (t10k-images / t10k-labels files). */
  test: ImageSplit;
}

/** Options of {@link loadFashionMnist} (and, without `dir`, of {@link loadIdxImageDataset}). */
export interface LoadOptions {
  /** Directory holding the four IDX files; default `$AXON_FASHION_MNIST_DIR`, else the Debian path. */
  dir?: string;
  /** Keep only the first `trainLimit` training samples. */
  trainLimit?: number;
  /** Keep only the first `testLimit` test samples. */
  testLimit?: number;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The file for `base` in `dir`: `base.gz` or plain `base`, whichever exists. */
function locate(dir: string, base: string, datasetName: string, hint: string): string {
  for (const candidate of [`${base}.gz`, base]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`${datasetName} not found: ${join(dir, base)}.gz (or ${base} uncompressed) does not exist. ${hint}`);
}

function checkLimit(name: string, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`${name} must be a positive integer, got ${limit}`);
  }
}

/**
 * Reads one images + labels pair of IDX files into tensors, keeping the first `limit` samples
 * (all when omitted). Pixels are scaled from 0..255 to [0, 1].
 *
 * @returns x [n, height, width, 1] float32 and y [n] int32.
 * @throws Error if a file cannot be read or parsed, the images are not rank 3 or the labels
 *   rank 1, their counts differ, or limit is not a positive integer.
 */
export function loadImageSplit(imagesPath: string, labelsPath: string, limit?: number): ImageSplit {
  checkLimit('limit', limit);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.shape.length !== 3) {
    throw new Error(`${imagesPath}: expected images of shape [n, height, width], got [${images.shape.join(',')}]`);
  }
  if (labels.shape.length !== 1) {
    throw new Error(`${labelsPath}: expected labels of shape [n], got [${labels.shape.join(',')}]`);
  }
  const [count, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new Error(`${imagesPath} has ${count} images but ${labelsPath} has ${labels.shape[0]} labels`);
  }
  const n = Math.min(count, limit ?? count);
  const pixels = height * width;
  const x = new Float32Array(n * pixels);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  const y = Int32Array.from(labels.data.subarray(0, n));
  return { x: new Tensor(x, [n, height, width, 1]), y: new Tensor(y, [n], 'int32') };
}

/**
 * Loads an MNIST-layout data set (train-/t10k- images and labels IDX files,
 * gzipped or not) from `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each with or without `.gz`.
 *
 * @param options - trainLimit / testLimit as in {@link LoadOptions}; `name` (the data set's name)
 *   and `hint` (how to get it) go into the error for a missing file.
 * @throws Error if a file is missing or invalid (see {@link loadImageSplit}), or a limit is not a
 *   positive integer.
 *
 * @example
 * ```ts
 * // The original MNIST digits, downloaded to ./mnist
 * const { train, test } = loadIdxImageDataset('./mnist', { name: 'MNIST' });
 * ```
 */
export function loadIdxImageDataset(dir: string, options: Omit<LoadOptions, 'dir'> & { name?: string; hint?: string } = {}): ImageDataset {
  const name = options.name ?? 'IDX image data set';
  const hint = options.hint ?? '';
  checkLimit('trainLimit', options.trainLimit);
  checkLimit('testLimit', options.testLimit);
  const path = (base: string): string => locate(dir, base, name, hint);
  return {
    train: loadImageSplit(path(FILES.trainImages), path(FILES.trainLabels), options.trainLimit),
    test: loadImageSplit(path(FILES.testImages), path(FILES.testLabels), options.testLimit),
  };
}

/** The directory loadFashionMnist() reads when given none: `$AXON_FASHION_MNIST_DIR` if set, else {@link FASHION_MNIST_DEFAULT_DIR}. */
export function fashionMnistDir(): string {
  return process.env[FASHION_MNIST_ENV] || FASHION_MNIST_DEFAULT_DIR;
}

/**
 * Fashion-MNIST: 60 000 training and 10 000 test images of 28x28 grey
 * clothes, 10 classes. x is [n, 28, 28, 1] in [0, 1], y int32 class indices
 * (names in {@link FASHION_MNIST_CLASSES}). Reads the four IDX files synchronously
 * from `options.dir`, else {@link fashionMnistDir}.
 *
 * @throws Error if a file is missing (the message says how to install the data set: `apt-get
 *   install dataset-fashion-mnist`, or set AXON_FASHION_MNIST_DIR) or invalid, or a limit is not a
 *   positive integer.
 *
 * @example
 * ```ts
 * import '@axon/kernels-native';
 * import { loadFashionMnist } from '@axon/data';
 *
 * const { train, test } = loadFashionMnist({ trainLimit: 10000 });
 * train.x.shape; // [10000, 28, 28, 1]
 * test.y.shape;  // [10000]
 * await model.fit(train.x, train.y, { epochs: 5, batchSize: 64, validationData: [test.x, test.y] });
 * ```
 */
export function loadFashionMnist(options: LoadOptions = {}): ImageDataset {
  const dir = options.dir ?? fashionMnistDir();
  return loadIdxImageDataset(dir, {
    ...options,
    name: 'Fashion-MNIST',
    hint:
      `Install it with \`apt-get install dataset-fashion-mnist\` (files go to ${FASHION_MNIST_DEFAULT_DIR}), ` +
      `or point ${FASHION_MNIST_ENV} (or the dir option) at a directory with the four IDX files.`,
  });
}
