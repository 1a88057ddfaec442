/**
 * What a chunk of a parallel kernel call is. The main thread encodes a task
 * as a flat list of numbers (the control block's parameters) whose arrays are
 * regions of the shared arena; every thread decodes it the same way and runs
 * the ordinary single-threaded kernel on its part of the problem:
 *
 *   gemm:                 a range of batch entries, rows or columns of C (gemmBlock)
 *   conv2d, backprop input: a range of images (conv2d / conv2dBackpropInput on those images)
 *   backprop filter:      a range of images, into the chunk's own partial dFilter
 *                         (the main thread sums the partials in chunk order)
 *   max pooling:          a range of images (maxPool2d on those images)
 *   recurrent:            one row group of a recurrence (runGroup, recurrent-groups.ts)
 *
 * Each thread has its own module instance, hence its own scratch buffers.
 */
import type { Conv2DInfo, Pool2DInfo } from '@axon/tensor';
import { ConvScratch, DEFAULT_IM2COL_BYTES, conv2d, conv2dBackpropInput, filterGradientOfImages, geometry } from './conv.js';
import { GemmScratch, gemmBlock, type GemmBlock, type GemmProblem } from './gemm.js';
import { maxPool2d } from './pool.js';
import { GroupContext, JOB_ARRAYS, runGroup, type Job, type JobArrays } from './recurrent-groups.js';
import { simdAvailable } from './wasm/simd.js';

export const GEMM = 0,
  CONV2D = 1,
  CONV2D_BACKPROP_INPUT = 2,
  CONV2D_BACKPROP_FILTER = 3,
  MAX_POOL = 4,
  RECURRENT = 5;

/** How a GEMM is split: chunk i is a range of batch entries, of rows, or of columns. */
export const BY_BATCH = 0,
  BY_ROWS = 1,
  BY_COLUMNS = 2;

/** Test hook: what a worker (never the main thread) does on its first chunk of a task. */
export const FAULT_NONE = 0,
  FAULT_THROW = 1,
  FAULT_EXIT = 2,
  FAULT_HANG = 3;

/** An array in the arena: [offset, length] in float32 elements. */
export type Region = readonly [number, number];

const CONV_FIELDS = [
  'batch',
  'inHeight',
  'inWidth',
  'inChannels',
  'outHeight',
  'outWidth',
  'outChannels',
  'filterHeight',
  'filterWidth',
  'strideHeight',
  'strideWidth',
  'dilationHeight',
  'dilationWidth',
  'padTop',
  'padLeft',
] as const satisfies readonly (keyof Conv2DInfo)[];

const POOL_FIELDS = [
  'batch',
  'inHeight',
  'inWidth',
  'channels',
  'outHeight',
  'outWidth',
  'filterHeight',
  'filterWidth',
  'strideHeight',
  'strideWidth',
  'padTop',
  'padLeft',
] as const satisfies readonly (keyof Pool2DInfo)[];

export function encodeGemm(p: GemmProblem, a: Region, b: Region, c: Region, by: number, chunkSize: number, fault: number): number[] {
  return [
    GEMM,
    fault,
    p.batch,
    p.m,
    p.n,
    p.k,
    Number(p.transA),
    Number(p.transB),
    p.alpha,
    p.beta,
    p.strideA,
    p.strideB,
    ...a,
    ...b,
    ...c,
    by,
    chunkSize,
    Number(p.simd),
  ];
}

/** For backprop filter, `out` holds one partial dFilter per chunk. */
export function encodeConv(
  kind: number,
  info: Conv2DInfo,
  a: Region,
  b: Region,
  out: Region,
  imagesPerChunk: number,
  im2colBytes: number,
  simd: boolean,
  fault: number,
): number[] {
  return [kind, fault, ...CONV_FIELDS.map((f) => info[f]), ...a, ...b, ...out, imagesPerChunk, im2colBytes, Number(simd)];
}

/** `argmax` is an int32 region of the same arena. */
export function encodeMaxPool(
  info: Pool2DInfo,
  x: Region,
  y: Region,
  argmax: Region,
  imagesPerChunk: number,
  simd: boolean,
  fault: number,
): number[] {
  return [MAX_POOL, fault, ...POOL_FIELDS.map((f) => info[f]), ...x, ...y, ...argmax, imagesPerChunk, Number(simd)];
}

/** A recurrent job: its scalars, then each of JOB_ARRAYS as a region ([0, -1] when absent). */
export function encodeRecurrent(job: Job, regions: readonly Region[], fault: number): number[] {
  return [
    RECURRENT,
    fault,
    job.kind,
    Number(job.backward),
    job.batch,
    job.timesteps,
    job.units,
    job.fa,
    job.fr,
    Number(job.resetAfter),
    Number(job.goBackwards),
    job.groupRows,
    Number(job.simd),
    ...regions.flat(),
  ];
}

const gemmScratch = new GemmScratch();
const groupContext = new GroupContext();
let convScratch = new ConvScratch(gemmScratch);
let convScratchBytes = DEFAULT_IM2COL_BYTES;

/** Runs chunk `chunk` of the task in `params`, on arrays in `arena`. */
export function runChunk(params: Float64Array, arena: Float32Array, chunk: number, inWorker: boolean): void {
  const q = Array.from(params, smallInt);
  const kind = q[0],
    fault = q[1];
  if (inWorker && fault !== FAULT_NONE) injectFault(fault);
  if (kind === GEMM) runGemm(q, arena, chunk);
  else if (kind === MAX_POOL) runMaxPool(q, arena, chunk);
  else if (kind === RECURRENT) runRecurrent(q, arena, chunk);
  else runConv(kind, q, arena, chunk);
}

/**
 * An integral value as an int32 where it fits. Numbers read from a
 * Float64Array are doubles to V8 and stay doubles in the objects built from
 * them; sizes held as doubles make the kernels' index arithmetic float
 * arithmetic (measured: max pooling 36% slower).
 */
function smallInt(v: number): number {
  const i = v | 0;
  return i === v ? i : v;
}

function region(arena: Float32Array, offset: number, length: number): Float32Array {
  return arena.subarray(offset, offset + length);
}

function runGemm(q: number[], arena: Float32Array, chunk: number): void {
  const [, , batch, m, n, k, transA, transB, alpha, beta, strideA, strideB, aOff, aLen, bOff, bLen, cOff, cLen, by, size, simd] = q;
  const p: GemmProblem = {
    a: region(arena, aOff, aLen),
    b: region(arena, bOff, bLen),
    c: region(arena, cOff, cLen),
    batch,
    m,
    n,
    k,
    transA: transA === 1,
    transB: transB === 1,
    alpha,
    beta,
    strideA,
    strideB,
    simd: simd === 1 && simdAvailable,
  };
  const lo = chunk * size;
  const block: GemmBlock = { i0: 0, i1: batch, r0: 0, r1: m, j0: 0, j1: n };
  if (by === BY_BATCH) [block.i0, block.i1] = [lo, Math.min(batch, lo + size)];
  else if (by === BY_ROWS) [block.r0, block.r1] = [lo, Math.min(m, lo + size)];
  else [block.j0, block.j1] = [lo, Math.min(n, lo + size)];
  gemmBlock(gemmScratch, p, block);
}

function runConv(kind: number, q: number[], arena: Float32Array, chunk: number): void {
  const info = {} as Conv2DInfo;
  CONV_FIELDS.forEach((field, i) => (info[field] = q[2 + i]));
  const [aOff, aLen, bOff, bLen, outOff, outLen, imagesPerChunk, im2colBytes, simd] = q.slice(2 + CONV_FIELDS.length);
  gemmScratch.simd = simd === 1 && simdAvailable;
  const a = region(arena, aOff, aLen),
    b = region(arena, bOff, bLen),
    out = region(arena, outOff, outLen);
  if (im2colBytes !== convScratchBytes) {
    convScratch = new ConvScratch(gemmScratch, im2colBytes);
    convScratchBytes = im2colBytes;
  }

  const b0 = chunk * imagesPerChunk,
    b1 = Math.min(info.batch, b0 + imagesPerChunk);
  const part: Conv2DInfo = { ...info, batch: b1 - b0 };
  const inImage = info.inHeight * info.inWidth * info.inChannels;
  const outImage = info.outHeight * info.outWidth * info.outChannels;
  const images = (array: Float32Array, size: number): Float32Array => array.subarray(b0 * size, b1 * size);
  if (kind === CONV2D) {
    conv2d(convScratch, images(a, inImage), b, images(out, outImage), part);
  } else if (kind === CONV2D_BACKPROP_INPUT) {
    conv2dBackpropInput(convScratch, images(a, outImage), b, images(out, inImage), part);
  } else {
    const size = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
    const group = geometry('conv2dBackpropFilter', part);
    filterGradientOfImages(convScratch, images(a, inImage), images(b, outImage), out.subarray(chunk * size, (chunk + 1) * size), group);
  }
}

function runMaxPool(q: number[], arena: Float32Array, chunk: number): void {
  const info = {} as Pool2DInfo;
  POOL_FIELDS.forEach((field, i) => (info[field] = q[2 + i]));
  const [xOff, , yOff, , argmaxOff, , imagesPerChunk, simd] = q.slice(2 + POOL_FIELDS.length);
  const b0 = chunk * imagesPerChunk,
    b1 = Math.min(info.batch, b0 + imagesPerChunk);
  const inImage = info.inHeight * info.inWidth * info.channels;
  const outImage = info.outHeight * info.outWidth * info.channels;
  const x = region(arena, xOff + b0 * inImage, (b1 - b0) * inImage);
  const y = region(arena, yOff + b0 * outImage, (b1 - b0) * outImage);
  const argmax = new Int32Array(arena.buffer, arena.byteOffset + 4 * (argmaxOff + b0 * outImage), (b1 - b0) * outImage);
  maxPool2d(x, y, argmax, { ...info, batch: b1 - b0 }, undefined, simd === 1 && simdAvailable);
  // Indices into this chunk's images become indices into the whole x.
  const shift = b0 * inImage;
  if (shift > 0) for (let i = 0; i < argmax.length; i++) if (argmax[i] >= 0) argmax[i] += shift;
}

function runRecurrent(q: number[], arena: Float32Array, chunk: number): void {
  const [, , kind, backward, batch, timesteps, units, fa, fr, resetAfter, goBackwards, rows, simd] = q;
  const arrays = {} as Record<keyof JobArrays, Float32Array | null>;
  JOB_ARRAYS.forEach((name, i) => {
    const offset = q[13 + 2 * i],
      length = q[14 + 2 * i];
    arrays[name] = length < 0 ? null : region(arena, offset, length);
  });
  const job: Job = {
    kind,
    backward: backward === 1,
    batch,
    timesteps,
    units,
    fa,
    fr,
    resetAfter: resetAfter === 1,
    goBackwards: goBackwards === 1,
    groupRows: rows,
    simd: simd === 1 && simdAvailable,
    arrays: arrays as JobArrays,
  };
  runGroup(job, chunk, groupContext);
}

function injectFault(fault: number): void {
  if (fault === FAULT_THROW) throw new Error('injected fault');
  if (fault === FAULT_EXIT) process.exit(1);
  if (fault === FAULT_HANG) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
