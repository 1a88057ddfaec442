/**
 * When and how the big kernels are split over the worker pool (main-thread
 * side). The backend hooks these into the main thread's GEMM and conv
 * scratch, so they see every call after validation; each returns false to
 * let the call run single-threaded.
 *
 * The arrays a caller passes are ordinary Float32Arrays that other threads
 * cannot see, so the inputs are copied into the pool's shared arena, every
 * thread writes its own disjoint part of the output there, and the output is
 * copied back: copies linear in the arrays' sizes, next to work that is not
 * (m·n·k for a GEMM; a whole receptive field per output for a conv).
 */
import type { Conv2DInfo, Pool2DInfo } from '@axon/tensor';
import { MAX_CHUNKS } from './control.js';
import { imagesPerFilterGroup, type ConvKernel } from './conv.js';
import { MR, NR, type GemmProblem } from './gemm.js';
import {
  BY_BATCH,
  BY_COLUMNS,
  BY_ROWS,
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  FAULT_NONE,
  encodeConv,
  encodeGemm,
  encodeMaxPool,
  encodeRecurrent,
  type Region,
} from './tasks.js';
import { getNumThreads, getPool } from './threads.js';
import { GRU, JOB_ARRAYS, JOB_OUTPUTS, LSTM, groupCount, type Job, type JobArrays } from './recurrent-groups.js';

/**
 * Multiply-adds below which a call stays on one thread. Measured on a 2-core
 * VM: with the second core free a 2-thread GEMM breaks even at ~0.3–0.5M
 * multiply-adds and gains ~1.6x at 2M (about 1 ms on one core); a smaller
 * call risks more than it can gain when other processes hold the other core.
 */
export const DEFAULT_PARALLEL_THRESHOLD = 2_000_000;

/**
 * The same with the WebAssembly SIMD kernels, which do that work 8–10x
 * faster: 16M multiply-adds, again about 1 ms on one core. Measured on the
 * 2-core VM with the threshold off: a 2-thread SIMD GEMM breaks even at ~2M,
 * gains 1.1–1.2x from 4M to 17M and ~1.4x at 33M; the seed LSTM's whole
 * training step (GEMMs of 6–15M) ran 15–30% slower on two threads with the
 * old threshold than on one.
 */
export const DEFAULT_SIMD_PARALLEL_THRESHOLD = 16_000_000;

export interface ParallelOptions {
  /** Threads, the calling one included; undefined follows setNumThreads / AXON_NUM_THREADS. */
  threads: number | undefined;
  /** Multiply-adds from which a call is split. */
  threshold: number;
  /** The conv column-buffer budget of each thread. */
  im2colBytes: number;
  /** Whether the GEMMs use the WebAssembly SIMD kernel (when the thread has it). */
  simd: boolean;
}

/** Test hook: a fault for the workers to inject into the next tasks (see tasks.ts). */
export const parallelTesting = { fault: FAULT_NONE };

/** Chunks per thread: several, so a thread slowed by other processes leaves the rest of its share to the others. */
const CHUNKS_PER_THREAD = 4;
/**
 * Fewest rows (columns) worth a GEMM chunk of their own: every chunk packs
 * all of op(B) (op(A)) for itself. Measured with the workers shut out, i.e.
 * the overhead when other processes keep them from running: ~16% with chunks
 * of 32 rows, ~8% with 64, ~5% with 128.
 */
const MIN_GEMM_EXTENT = 64;
/** What one max-pooling window tap costs, in multiply-adds of a GEMM (measured: ~8 ns vs ~0.25 ns). */
const POOL_TAP_COST = 16;

/** Most chunks worth making for `threads` threads. */
function mostChunks(threads: number): number {
  return Math.min(MAX_CHUNKS, CHUNKS_PER_THREAD * threads);
}

function threadsFor(o: ParallelOptions, work: number): number {
  const threads = o.threads ?? getNumThreads();
  return work >= o.threshold ? threads : 1;
}

/** Region alignment in the arena: a cache line. */
const ALIGN = 16;

/**
 * Consecutive regions for arrays of the given lengths, each at the same
 * offset modulo a cache line as the caller's array it is copied from or to.
 * That matters: V8 copies between a SharedArrayBuffer and ordinary memory
 * word by word when both sides are equally aligned, byte by byte otherwise
 * (measured ~8x slower).
 */
function layout(...arrays: { length: number; byteOffset: number }[]): { regions: Region[]; total: number } {
  let total = 0;
  const regions = arrays.map(({ length, byteOffset }): Region => {
    const start = Math.ceil(total / ALIGN) * ALIGN + ((byteOffset / 4) % ALIGN);
    total = start + length;
    return [start, length];
  });
  return { regions, total };
}

export function parallelGemm(o: ParallelOptions, p: GemmProblem): boolean {
  const { batch, m, n, k } = p;
  // Matrix-vector products are memory-bound: copying the operand would cost what threads save.
  if (m === 1 || n === 1 || k === 0 || p.alpha === 0) return false;
  const threads = threadsFor(o, batch * m * n * k);
  if (threads < 2) return false;

  // Split the batch when it alone gives every thread enough chunks, else the longer side of C.
  const [by, extent, unit, minExtent] =
    batch >= 2 * threads ? [BY_BATCH, batch, 1, 1] : m >= n ? [BY_ROWS, m, MR, MIN_GEMM_EXTENT] : [BY_COLUMNS, n, NR, MIN_GEMM_EXTENT];
  const wanted = Math.max(2, Math.min(mostChunks(threads), Math.floor(extent / minExtent)));
  const fewest = Math.ceil(extent / wanted);
  const size = Math.ceil(fewest / unit) * unit;
  const chunks = Math.ceil(extent / size);
  if (chunks < 2) return false;

  const pool = getPool(threads);
  if (!pool) return false;
  const aUsed = p.a.subarray(0, (batch - 1) * p.strideA + m * k),
    bUsed = p.b.subarray(0, (batch - 1) * p.strideB + k * n);
  const {
    regions: [a, b, c],
    total,
  } = layout(aUsed, bUsed, p.c);
  const arena = pool.arena(total);
  arena.set(aUsed, a[0]);
  arena.set(bUsed, b[0]);
  if (p.beta !== 0) arena.set(p.c, c[0]);
  if (!pool.run('gemm', encodeGemm(p, a, b, c, by, size, parallelTesting.fault), chunks, threads)) return false;
  p.c.set(arena.subarray(c[0], c[0] + c[1]));
  return true;
}

const CONV_KINDS: Record<ConvKernel, number> = {
  conv2d: CONV2D,
  conv2dBackpropInput: CONV2D_BACKPROP_INPUT,
  conv2dBackpropFilter: CONV2D_BACKPROP_FILTER,
};

/**
 * Splits a conv over images: every chunk runs the single-threaded kernel
 * (im2col + GEMM) on its own range of images. For the filter gradient the
 * chunks are its fixed image groups (imagesPerFilterGroup): each writes its
 * own partial dFilter, summed here in chunk order as the single-threaded
 * kernel sums them, so the result does not depend on the thread count.
 */
export function parallelConv(
  o: ParallelOptions,
  kernel: ConvKernel,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  info: Conv2DInfo,
): boolean {
  const { batch } = info;
  const filterSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const threads = threadsFor(o, batch * info.outHeight * info.outWidth * filterSize);
  if (threads < 2 || batch < 2) return false;

  const partials = kernel === 'conv2dBackpropFilter';
  // A filter gradient's chunks are its fixed image groups, so its sum does not depend on the thread count.
  const perChunk = partials ? imagesPerFilterGroup(batch, filterSize) : Math.ceil(batch / Math.min(batch, mostChunks(threads)));
  const chunks = Math.ceil(batch / perChunk);
  if (chunks < 2) return false;

  const pool = getPool(threads);
  if (!pool) return false;
  const {
    regions: [ra, rb, ro],
    total,
  } = layout(a, b, partials ? { length: chunks * filterSize, byteOffset: 0 } : out);
  const arena = pool.arena(total);
  arena.set(a, ra[0]);
  arena.set(b, rb[0]);
  const params = encodeConv(CONV_KINDS[kernel], info, ra, rb, ro, perChunk, o.im2colBytes, o.simd, parallelTesting.fault);
  if (!pool.run(kernel, params, chunks, threads)) return false;
  const result = arena.subarray(ro[0], ro[0] + ro[1]);
  if (partials) sumPartials(result, chunks, out);
  else out.set(result);
  return true;
}

/** out = Σ partial i, in order i = 0, 1, ... */
function sumPartials(partials: Float32Array, count: number, out: Float32Array): void {
  const size = out.length;
  out.set(partials.subarray(0, size));
  for (let i = 1; i < count; i++) {
    const base = i * size;
    for (let j = 0; j < size; j++) out[j] += partials[base + j];
  }
}

/**
 * Splits max pooling over images. It costs about POOL_TAP_COST multiply-adds
 * per window tap (it is bound by memory and compares, not arithmetic), which
 * is what the threshold is compared with.
 */
export function parallelMaxPool(o: ParallelOptions, x: Float32Array, y: Float32Array, argmax: Int32Array, info: Pool2DInfo): boolean {
  const { batch } = info;
  const threads = threadsFor(o, POOL_TAP_COST * y.length * info.filterHeight * info.filterWidth);
  if (threads < 2 || batch < 2) return false;
  const perChunk = Math.ceil(batch / Math.min(batch, mostChunks(threads)));
  const chunks = Math.ceil(batch / perChunk);

  const pool = getPool(threads);
  if (!pool) return false;
  const {
    regions: [rx, ry, ra],
    total,
  } = layout(x, y, argmax);
  const arena = pool.arena(total);
  arena.set(x, rx[0]);
  if (!pool.run('maxPool2d', encodeMaxPool(info, rx, ry, ra, perChunk, o.simd, parallelTesting.fault), chunks, threads)) return false;
  y.set(arena.subarray(ry[0], ry[0] + ry[1]));
  argmax.set(new Int32Array(arena.buffer, arena.byteOffset + 4 * ra[0], ra[1]));
  return true;
}

/** What a recurrent job does not read (pure outputs, not copied into the arena). */
const NOT_READ: Record<'forward' | 'backward', readonly (keyof JobArrays)[]> = { forward: ['aux'], backward: ['dz', 'drec', 'da'] };

/**
 * Runs a recurrent job's row groups over the pool, a group per chunk: the
 * job's arrays are copied into the arena, each group reads and writes only its
 * own rows there, and the outputs are copied back. The work compared with the
 * threshold is the step products' multiply-adds (T·B·U·G·U). Groups depend on
 * the batch only, so the result is the single-threaded one.
 */
export function parallelRecurrent(o: ParallelOptions, kernel: string, job: Job): boolean {
  const groups = groupCount(job);
  if (groups < 2) return false;
  const G = job.kind === LSTM ? 4 : job.kind === GRU ? 3 : 1;
  const threads = threadsFor(o, job.timesteps * job.batch * job.units * G * job.units);
  if (threads < 2) return false;
  const pool = getPool(threads);
  if (!pool) return false;
  const arrays = JOB_ARRAYS.map((name) => job.arrays[name]);
  const { regions, total } = layout(...arrays.map((a) => a ?? { length: 0, byteOffset: 0 }));
  const arena = pool.arena(total);
  const direction = job.backward ? 'backward' : 'forward';
  arrays.forEach((a, i) => {
    if (a && !NOT_READ[direction].includes(JOB_ARRAYS[i]!)) arena.set(a, regions[i]![0]);
  });
  const encoded = regions.map((r, i): Region => (arrays[i] ? r : [0, -1]));
  if (!pool.run(kernel, encodeRecurrent(job, encoded, parallelTesting.fault), groups, threads)) return false;
  for (const name of JOB_OUTPUTS[direction]) {
    const i = JOB_ARRAYS.indexOf(name);
    const a = arrays[i];
    if (a) a.set(arena.subarray(regions[i]![0], regions[i]![0] + a.length));
  }
  return true;
}
