/** File-backed datasets: IDX records, CSV rows and a folder of images, streamed from disk. */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { type DType, Tensor } from '@axon/tensor';
import { parse } from 'csv-parse';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { Dataset, array, checkInteger, checkOptions } from './dataset.js';
import { kindOf } from './element.js';
import { isGzip, parseIdxHeader } from './idx.js';

/** Options of {@link idx}. */
export interface IdxOptions {
  /** The elements' dtype (default 'float32'; 'int32' for class labels). Values are the file's bytes, 0..255, unscaled. */
  dtype?: DType;
}

function checkDtype(op: string, name: string, dtype: unknown, allowed: readonly string[]): void {
  if (typeof dtype !== 'string' || !allowed.includes(dtype)) {
    throw new Error(
      `${op}: ${name} must be ${allowed.map((d) => `'${d}'`).join(' or ')}, got ${typeof dtype === 'string' ? `'${dtype}'` : kindOf(dtype)}`,
    );
  }
}

/** The bytes of a file, decompressed when it is gzipped (the gzip magic number decides), in chunks. */
async function* fileBytes(path: string, gzip: boolean): AsyncGenerator<Uint8Array> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (e) {
    throw new Error(`idx: cannot read ${path}: ${(e as Error).message}`);
  } finally {
    file.destroy();
    stream.destroy();
  }
}

/** Whether the file starts with the gzip magic number. */
async function startsWithGzip(path: string): Promise<boolean> {
  try {
    for await (const chunk of createReadStream(path, { start: 0, end: 1 })) return isGzip(chunk as Uint8Array);
  } catch (e) {
    throw new Error(`idx: cannot read ${path}: ${(e as Error).message}`);
  }
  return false;
}

/**
 * A dataset of the records of an IDX file (the MNIST format; uint8 values, gzipped or not),
 * read as a stream: only the header and the records being read are in memory, whatever the file's
 * size. The records are the slices along the first dimension: an images file [n, 28, 28] gives n
 * Tensors [28, 28], a labels file [n] gives n scalars. Values are the bytes as they are (0..255):
 * scale them with `map`. Pair images with labels with {@link zip}.
 *
 * @throws Error if dtype is not 'float32' or 'int32'; during a pass, if the file cannot be read,
 *   is not uint8 IDX, or ends before the header's count of records (naming the file and counts).
 *
 * @example
 * ```ts
 * const images = idx('train-images-idx3-ubyte.gz').map((x) => div(x, 255));
 * const labels = idx('train-labels-idx1-ubyte.gz', { dtype: 'int32' });
 * const train = zip({ xs: images, ys: labels }).shuffle(1000, { seed: 1 }).batch(32);
 * ```
 */
export function idx(path: string, options: IdxOptions = {}): Dataset<Tensor> {
  if (typeof path !== 'string') throw new Error(`idx: path must be a string, got ${kindOf(path)}`);
  checkOptions('idx', options, ['dtype']);
  const { dtype = 'float32' } = options;
  checkDtype('idx', 'dtype', dtype, ['float32', 'int32']);
  return new Dataset(async function* () {
    let pending: Uint8Array = new Uint8Array(0); // bytes read but not yet used
    let header: { shape: number[]; headerBytes: number } | null = null;
    let recordBytes = 0;
    let count = 0;
    let produced = 0;
    for await (const chunk of fileBytes(path, await startsWithGzip(path))) {
      pending = pending.length === 0 ? chunk : concatBytes(pending, chunk);
      if (header === null) {
        // Wait for the whole header, unless the first bytes already show that it is none.
        if (pending.length < 4 || (pending.length < 4 + 4 * pending[3]! && pending[0] === 0 && pending[1] === 0)) continue;
        header = parseIdxHeader(pending, `idx: ${path}`);
        recordBytes = header.shape.slice(1).reduce((a, b) => a * b, 1);
        count = header.shape[0]!;
        pending = pending.subarray(header.headerBytes);
      }
      let offset = 0;
      for (; produced < count && offset + recordBytes <= pending.length; offset += recordBytes, produced++) {
        const bytes = pending.subarray(offset, offset + recordBytes);
        yield new Tensor(dtype === 'int32' ? Int32Array.from(bytes) : Float32Array.from(bytes), header.shape.slice(1));
      }
      pending = pending.subarray(offset);
    }
    header ??= parseIdxHeader(pending, `idx: ${path}`); // throws: the file ended inside the header
    if (produced < count || pending.length > 0) {
      throw new Error(
        `idx: ${path}: the header promises ${count} records of ${recordBytes} bytes, but the file holds ` +
          `${produced < count ? `${produced} (truncated?)` : `${pending.length} bytes more`}`,
      );
    }
  });
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The type of one CSV column: numbers as scalar Tensors of that dtype, or the text as it is. */
export type CsvColumnType = 'float32' | 'int32' | 'string';

/** Options of {@link csv}. */
export interface CsvOptions<C extends Record<string, CsvColumnType>> {
  /**
   * The columns to read and their types, in the order of the element's keys. With a header, the
   * names pick columns of the header (others are skipped); without one, they name every column of
   * the file, in order.
   */
  columns: C;
  /** The first line names the columns (default true). */
  header?: boolean;
  /** The field separator (default ','). */
  delimiter?: string;
}

/** A CSV row: a scalar Tensor for each number column, a string for each string column. */
export type CsvRow<C extends Record<string, CsvColumnType>> = { [K in keyof C]: C[K] extends 'string' ? string : Tensor };

const CSV_TYPES = ['float32', 'int32', 'string'] as const;
const INT32_MAX = 2 ** 31 - 1;

/** The value of one cell, checked against its column's type. */
function cellValue(text: string, type: CsvColumnType, where: string): Tensor | string {
  if (type === 'string') return text;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const valid = type === 'float32' ? Number.isFinite(value) : Number.isInteger(value) && Math.abs(value) <= INT32_MAX;
  if (!valid) throw new Error(`csv: ${where}: '${text}' is not ${type === 'int32' ? 'an int32' : 'a float32'}`);
  return new Tensor(type === 'int32' ? Int32Array.of(value) : Float32Array.of(value), []);
}

/**
 * A dataset of the rows of a CSV file, read as a stream (by `csv-parse`: quoted fields, embedded
 * separators and newlines as RFC 4180; empty lines are skipped). Each row is an object with one
 * entry per column of `columns`: a scalar Tensor of the column's dtype for 'float32' and 'int32'
 * columns (batched into [n] tensors), the text for 'string' columns.
 *
 * @throws Error if `columns` is missing or empty, a type is not 'float32', 'int32' or 'string', or
 *   an option is unknown; during a pass, if the file cannot be read or parsed, a column is not in
 *   the header, a row has the wrong number of fields, or a cell is not of its column's type — naming
 *   the file, line and column, e.g. `csv: data.csv line 17, column 'x': 'abc' is not a float32`.
 *
 * @example
 * ```ts
 * const rows = csv('iris.csv', { columns: { sepal: 'float32', petal: 'float32', species: 'int32' } });
 * const train = rows.map((r) => ({ xs: stack([r.sepal, r.petal]), ys: r.species })).batch(16);
 * ```
 */
export function csv<C extends Record<string, CsvColumnType>>(path: string, options: CsvOptions<C>): Dataset<CsvRow<C>> {
  if (typeof path !== 'string') throw new Error(`csv: path must be a string, got ${kindOf(path)}`);
  checkOptions('csv', options, ['columns', 'header', 'delimiter']);
  const { columns, header = true, delimiter = ',' } = options ?? ({} as CsvOptions<C>);
  if (typeof columns !== 'object' || columns === null || Object.keys(columns).length === 0) {
    throw new Error(
      `csv: columns must name at least one column with its type, e.g. { x: 'float32', label: 'int32' }, got ${kindOf(columns)}`,
    );
  }
  for (const [name, type] of Object.entries(columns)) checkDtype('csv', `column '${name}'`, type, CSV_TYPES);
  if (typeof header !== 'boolean') throw new Error(`csv: header must be true or false, got ${kindOf(header)}`);
  if (typeof delimiter !== 'string' || delimiter.length === 0)
    throw new Error(`csv: delimiter must be a non-empty string, got ${kindOf(delimiter)}`);
  const names = Object.keys(columns);
  return new Dataset(async function* () {
    const file = createReadStream(path);
    const parser = file.pipe(parse({ delimiter, info: true, skip_empty_lines: true, relax_column_count: true }));
    file.on('error', (e) => parser.destroy(e));
    let indices: number[] | null = header ? null : names.map((_, i) => i);
    let width = names.length;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (indices === null) {
          const missing = names.filter((n) => !record.includes(n));
          if (missing.length > 0) {
            throw new Error(
              `csv: ${path}: column${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} not in the header (${record.join(', ')})`,
            );
          }
          indices = names.map((n) => record.indexOf(n));
          width = record.length;
          continue;
        }
        if (record.length !== width) {
          throw new Error(
            `csv: ${path} line ${info.lines}: expected ${width} fields${header ? ' (as the header)' : ' (one per column)'}, got ${record.length}`,
          );
        }
        const row: Record<string, Tensor | string> = {};
        names.forEach((name, i) => {
          row[name] = cellValue(record[indices![i]!]!, columns[name]!, `${path} line ${info.lines}, column '${name}'`);
        });
        yield row as CsvRow<C>;
      }
    } catch (e) {
      const message = (e as Error).message;
      throw message.startsWith('csv: ') ? e : new Error(`csv: cannot read ${path}: ${message}`);
    } finally {
      parser.destroy();
      file.destroy();
    }
  });
}

/** Options of {@link imageFolder}. */
export interface ImageFolderOptions {
  /** Resize every image to [height, width] (bilinear, as `tf.image.resize`); default: keep each image's size. */
  size?: readonly [number, number];
  /** 1 (grey), 3 (RGB, the default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
  /**
   * Decode in this many worker threads (default 0: on the main thread, one image per element), so
   * the next batch is decoded while the model trains on this one. Up to two images per thread are in
   * flight; the elements keep their order.
   */
  workers?: number;
}

/** A labelled image: pixels [height, width, channels] float32 in [0, 1] and the class index, an int32 scalar. */
export interface ImageElement {
  /** The pixels, [height, width, channels], float32 in [0, 1]. */
  xs: Tensor;
  /** The class index (into {@link ImageFolderDataset.classNames}), an int32 scalar. */
  ys: Tensor;
}

/** One image of an {@link ImageFolderDataset}. */
export interface ImageFile {
  /** The file's path. */
  readonly path: string;
  /** Its class index: the position of its sub-folder in the sorted class names. */
  readonly label: number;
}

/** A dataset of labelled images read from a folder: see {@link imageFolder}. */
export class ImageFolderDataset extends Dataset<ImageElement> {
  /**
   * @internal Use {@link imageFolder}.
   * @param classNames - The class of each label: the sub-folders' names, sorted.
   * @param files - Every image file, with its label, in the order of a pass.
   */
  constructor(
    readonly classNames: readonly string[],
    readonly files: readonly ImageFile[],
    options: DecodeOptions & { workers: number },
  ) {
    super(() => decodedImages(files, options).iterator());
  }
}

/** How {@link decodeImageFile} decodes: the channels and, optionally, the size to resize to. */
interface DecodeOptions {
  channels: 1 | 3 | 4;
  size?: readonly [number, number] | undefined;
}

/** An image decoded to host pixels: plain data, so that it can come back from a worker thread. */
interface DecodedImage {
  data: Float32Array;
  height: number;
  width: number;
  label: number;
}

/**
 * @internal Reads and decodes one image file of an {@link imageFolder}: what its worker threads run
 * (they import this module by its URL and call this export), and the main thread when it has none.
 */
export async function decodeImageFile(job: ImageFile & DecodeOptions): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(job.path);
  } catch (e) {
    throw new Error(`imageFolder: cannot read ${job.path}: ${(e as Error).message}`);
  }
  return { ...decodeImage(bytes, job.path, job.channels, job.size), label: job.label };
}

/** The `{ xs, ys }` elements of `files`, decoded here or in `workers` threads. */
function decodedImages(files: readonly ImageFile[], options: DecodeOptions & { workers: number }): Dataset<ImageElement> {
  const { workers, channels, size } = options;
  const jobs = array(files.map((file) => ({ ...file, channels, size })));
  const decoded =
    workers > 0 ? jobs.mapInWorkers<DecodedImage>(new URL(import.meta.url), 'decodeImageFile', { workers }) : jobs.map(decodeImageFile);
  return decoded.map(({ data, height, width, label }) => ({
    xs: new Tensor(data, [height, width, channels]),
    ys: new Tensor(Int32Array.of(label), []),
  }));
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/**
 * A dataset of the images of a folder with one sub-folder per class (as Keras'
 * `image_dataset_from_directory`): `dir/cat/1.png`, `dir/dog/2.jpg`, ... The labels are the indices
 * of the sub-folders' names, sorted (`classNames`); PNG (by `pngjs`) and JPEG (by `jpeg-js`) files
 * are decoded lazily, one per element, in the order of the sorted folder and file names (shuffle
 * with `shuffle`); other files are skipped. Elements are `{ xs, ys }`: {@link ImageElement}.
 *
 * @throws Error if the folder cannot be read or has no class sub-folder with an image, or an option
 *   is invalid; during a pass, if an image cannot be decoded (naming the file).
 *
 * @example
 * ```ts
 * const pets = imageFolder('pets', { size: [64, 64] });
 * pets.classNames; // ['cat', 'dog']
 * const batches = pets.shuffle(1000, { seed: 0 }).batch(32).prefetch(2);
 * ```
 */
export function imageFolder(dir: string, options: ImageFolderOptions = {}): ImageFolderDataset {
  if (typeof dir !== 'string') throw new Error(`imageFolder: dir must be a string, got ${kindOf(dir)}`);
  checkOptions('imageFolder', options, ['size', 'channels', 'workers']);
  const { size, channels = 3, workers = 0 } = options;
  checkInteger('imageFolder', 'workers', workers, 0);
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new Error(`imageFolder: channels must be 1, 3 or 4, got ${String(channels)}`);
  if (size !== undefined) {
    if (!Array.isArray(size) || size.length !== 2) throw new Error(`imageFolder: size must be [height, width], got ${kindOf(size)}`);
    size.forEach((d, i) => checkInteger('imageFolder', `size[${i}]`, d, 1));
  }
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new Error(`imageFolder: cannot read ${dir}: ${(e as Error).message}`);
  }
  const classNames = entries.filter((name) => statSync(join(dir, name)).isDirectory());
  const files = classNames.flatMap((name, label) =>
    readdirSync(join(dir, name))
      .sort()
      .filter((file) => IMAGE_EXTENSIONS.has(extname(file).toLowerCase()))
      .map((file) => ({ path: join(dir, name, file), label })),
  );
  if (files.length === 0) {
    throw new Error(`imageFolder: ${dir} has no PNG or JPEG image in a class sub-folder (expected ${dir}/<class>/<image>.png)`);
  }
  return new ImageFolderDataset(classNames, files, { size, channels, workers });
}

/**
 * Decodes a PNG or JPEG file's bytes (the signature decides) to float32 pixels in [0, 1] with
 * `channels` channels (1 is the luma of ITU-R BT.601, as `tf.image.rgb_to_grayscale`), resized to
 * `size` when given. `source` names the file in errors.
 */
function decodeImage(
  bytes: Uint8Array,
  source: string,
  channels: 1 | 3 | 4,
  size?: readonly [number, number],
): { data: Float32Array; height: number; width: number } {
  let rgba: { data: Uint8Array; width: number; height: number };
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) rgba = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    else if (bytes[0] === 0xff && bytes[1] === 0xd8) rgba = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    else throw new Error('not a PNG or JPEG file (unknown signature)');
  } catch (e) {
    throw new Error(`imageFolder: cannot decode ${source}: ${(e as Error).message}`);
  }
  const { width, height } = rgba;
  const pixels = new Float32Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b, a] = [rgba.data[4 * p]!, rgba.data[4 * p + 1]!, rgba.data[4 * p + 2]!, rgba.data[4 * p + 3]!];
    if (channels === 1) pixels[p] = (0.2989 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      pixels[channels * p] = r / 255;
      pixels[channels * p + 1] = g / 255;
      pixels[channels * p + 2] = b / 255;
      if (channels === 4) pixels[4 * p + 3] = a / 255;
    }
  }
  if (size === undefined || (size[0] === height && size[1] === width)) return { data: pixels, height, width };
  return { data: resizeBilinear(pixels, height, width, channels, size[0], size[1]), height: size[0], width: size[1] };
}

/** Bilinear resize of [h, w, c] pixels with half-pixel centres (TensorFlow 2's `tf.image.resize`, antialias off). */
function resizeBilinear(src: Float32Array, h: number, w: number, c: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW * c);
  const source = (o: number, scale: number, limit: number): [number, number, number] => {
    const x = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), limit - 1);
    const lo = Math.floor(x);
    return [lo, Math.min(lo + 1, limit - 1), x - lo];
  };
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = source(y, h / outH, h);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = source(x, w / outW, w);
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number): number => src[(yy * w + xx) * c + k]!;
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        out[(y * outW + x) * c + k] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}
