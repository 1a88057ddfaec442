/**
 * The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header —
 * two zero bytes, a type code, the number of dimensions — then one uint32 per
 * dimension, then the values. MNIST and Fashion-MNIST store uint8 values.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A parsed IDX file: its dimensions and its values. */
export interface IdxArray {
  /** The dimensions from the header, e.g. [60000, 28, 28] for MNIST training images. */
  shape: number[];
  /** The values, row-major. Only the unsigned-byte type (0x08) is supported, which is what (Fashion-)MNIST use. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 8: 'uint8', 9: 'int8', 11: 'int16', 12: 'int32', 13: 'float32', 14: 'float64' };

/** True when the bytes start with the gzip magic number (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses the header at the start of `bytes` (which may hold more than the header): the shape and
 * the header's length in bytes. `source` names the file in error messages.
 *
 * @throws Error if the bytes are not an IDX header, or the value type is not uint8.
 */
export function parseIdxHeader(bytes: Uint8Array, source = 'IDX data'): { shape: number[]; headerBytes: number } {
  if (bytes.length < 4) throw new Error(`${source}: too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: not an IDX file (the first two bytes are ${bytes[0]}, ${bytes[1]}; expected 0, 0)`);
  }
  const type = bytes[2]!;
  const rank = bytes[3]!;
  if (type !== UBYTE) {
    throw new Error(`${source}: IDX value type ${TYPE_NAMES[type] ?? `0x${type.toString(16)}`} is not supported (expected uint8)`);
  }
  const headerBytes = 4 + 4 * rank;
  if (rank === 0 || bytes.length < headerBytes) {
    throw new Error(`${source}: truncated IDX header (${rank} dimensions need ${headerBytes} header bytes, file has ${bytes.length})`);
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  return { shape, headerBytes };
}

/**
 * Parses IDX bytes (gzipped or not: the content decides, not the file name).
 * `source` names the file in error messages. The result's data is a view into the
 * (decompressed) bytes, not a copy.
 *
 * @throws Error if the gzip stream is invalid, the header is not IDX, the value type is not
 *   uint8, or the value count does not match the header's shape.
 */
export function parseIdx(raw: Uint8Array, source = 'IDX data'): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = isGzip(raw) ? gunzipSync(raw) : raw;
  } catch (e) {
    throw new Error(`${source}: not a valid gzip file (${(e as Error).message})`);
  }
  const { shape, headerBytes } = parseIdxHeader(bytes, source);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - headerBytes !== count) {
    throw new Error(
      `${source}: IDX shape [${shape.join(',')}] needs ${count} value bytes after the ${headerBytes}-byte header, ` +
        `but the file has ${bytes.length - headerBytes}${bytes.length - headerBytes < count ? ' (truncated?)' : ''}`,
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/**
 * Reads and parses an IDX file (gzipped or not).
 *
 * @throws Error if the file cannot be read, or as {@link parseIdx} does.
 *
 * @example
 * ```ts
 * const labels = readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 * labels.shape; // [10000]
 * ```
 */
export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new Error(`Cannot read IDX file ${path}: ${(e as Error).message}`);
  }
  return parseIdx(raw, path);
}

/**
 * Encodes uint8 values as IDX bytes, uncompressed (for tests and for writing small data sets).
 *
 * @throws Error if data's length is not the product of shape.
 */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeIdx: shape [${shape.join(',')}] needs ${count} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * shape.length + count);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
