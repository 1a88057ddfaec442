import { cpuDevice, type CompleteHostBackend } from '@axon/tensor';
import { binary, select } from './binary.js';
import { ConvScratch, DEFAULT_IM2COL_BYTES, conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { GemmScratch, gemm } from './gemm.js';
import { cast, concat, gather, oneHot, pad, scatterAdd, slice, transpose } from './layout.js';
import { adamUpdate, rmspropUpdate, sgdUpdate } from './optimizers.js';
import {
  DEFAULT_PARALLEL_THRESHOLD,
  DEFAULT_SIMD_PARALLEL_THRESHOLD,
  parallelConv,
  parallelGemm,
  parallelMaxPool,
  parallelRecurrent,
  type ParallelOptions,
} from './parallel.js';
import { avgPool2d, avgPool2dBackprop, maxPool2d, maxPool2dBackprop, type MaxPoolParallel } from './pool.js';
import { ReduceScratch, argReduce, reduce, softmax } from './reduce.js';
import { createRecurrentKernels } from './recurrent.js';
import { unary } from './unary.js';
import { simdAvailable } from './wasm/simd.js';
import { biasActivation, biasActivationGrad } from './fused.js';

/** Options of {@link createJsBackend}; every one has a default that suits the `js` backend registered on import. */
export interface JsBackendOptions {
  /**
   * Upper bound on the im2col buffer conv2d uses, in bytes (default 16 MB).
   * Larger batches are processed in chunks of output rows that fit.
   */
  im2colBytes?: number;
  /**
   * Threads for the big kernels, the calling one included (1 = no worker
   * threads). Default: the process-wide count (`setNumThreads`,
   * `AXON_NUM_THREADS`, else one per core), read at each call.
   */
  threads?: number;
  /**
   * Multiply-adds (m·n·k·batch for gemm, the im2col GEMM's for conv) from which
   * a call is split over threads (default 16,000,000 with the WebAssembly SIMD
   * kernels, 2,000,000 without; 0 splits everything that can be split, as
   * tests do).
   */
  parallelThreshold?: number;
  /**
   * Whether the GEMMs (and the convs and recurrent kernels built on them) use
   * the WebAssembly SIMD kernels (default true; they are used only where the
   * engine has WebAssembly SIMD and AXON_WASM_SIMD is not 0). false keeps
   * everything in plain TypeScript.
   */
  simd?: boolean;
}

/**
 * Creates an instance of the pure-TypeScript backend. Each instance owns its
 * scratch buffers (the im2col buffer, float64 accumulator rows), grown on
 * demand and reused by every later call; the GEMM packing panels are shared
 * module constants. Kernels are synchronous: GEMM, conv2d and max-pooling
 * calls above the threshold are split over the worker pool (threads.ts) and
 * return when every thread is done.
 *
 * Importing `@axon/kernels-js` already registers one as backend `'js'`; call this to register a
 * differently configured instance, or to run kernels directly.
 *
 * @throws Error if threads is not a positive integer or parallelThreshold is negative.
 *
 * @example
 * ```ts
 * import { createJsBackend } from '@axon/kernels-js';
 * import { registerBackend, setBackend } from '@axon/tensor';
 *
 * registerBackend('js-1thread', () => createJsBackend({ threads: 1, simd: false }));
 * setBackend('js-1thread');
 * ```
 */
export function createJsBackend(options: JsBackendOptions = {}): CompleteHostBackend {
  const parallel = parallelOptions(options);
  const gemmScratch = new GemmScratch();
  gemmScratch.simd = parallel.simd;
  const convScratch = new ConvScratch(gemmScratch, parallel.im2colBytes);
  gemmScratch.parallel = (problem) => parallelGemm(parallel, problem);
  convScratch.parallel = (kernel, a, b, out, info) => parallelConv(parallel, kernel, a, b, out, info);
  const maxPoolParallel: MaxPoolParallel = (x, y, argmax, info) => parallelMaxPool(parallel, x, y, argmax, info);
  const reduceScratch = new ReduceScratch();
  return {
    name: 'js',
    device: cpuDevice,
    fill: (out, value) => out.fill(value),
    cast,
    gemm: (a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB) =>
      gemm(gemmScratch, a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB),
    unary,
    binary,
    select,
    reduce: (op, x, out, outer, size, inner) => reduce(reduceScratch, op, x, out, outer, size, inner),
    argReduce,
    softmax: (x, y, outer, size, inner, log) => softmax(reduceScratch, x, y, outer, size, inner, log),
    transpose,
    slice,
    pad,
    concat,
    gather,
    scatterAdd,
    oneHot,
    conv2d: (x, filter, y, info) => conv2d(convScratch, x, filter, y, info),
    conv2dBackpropInput: (dy, filter, dx, info) => conv2dBackpropInput(convScratch, dy, filter, dx, info),
    conv2dBackpropFilter: (x, dy, dFilter, info) => conv2dBackpropFilter(convScratch, x, dy, dFilter, info),
    maxPool2d: (x, y, argmax, info) => maxPool2d(x, y, argmax, info, maxPoolParallel, parallel.simd),
    maxPool2dBackprop: (dy, argmax, dx, info) => maxPool2dBackprop(dy, argmax, dx, info, parallel.simd),
    avgPool2d,
    avgPool2dBackprop,
    biasActivation: (x, bias, y, rows, channels, activation) => biasActivation(x, bias, y, rows, channels, activation, parallel.simd),
    biasActivationGrad: (y, dy, dx, dBias, rows, channels, activation) =>
      biasActivationGrad(y, dy, dx, dBias, rows, channels, activation, parallel.simd),
    sgdUpdate,
    adamUpdate: (param, grad, m, v, config) => adamUpdate(param, grad, m, v, config, parallel.simd),
    rmspropUpdate,
    ...createRecurrentKernels(gemmScratch, (kernel, job) => parallelRecurrent(parallel, kernel, job)),
  };
}

function parallelOptions(options: JsBackendOptions): ParallelOptions {
  const { threads, im2colBytes = DEFAULT_IM2COL_BYTES } = options;
  const simd = (options.simd ?? true) && simdAvailable;
  const parallelThreshold = options.parallelThreshold ?? (simd ? DEFAULT_SIMD_PARALLEL_THRESHOLD : DEFAULT_PARALLEL_THRESHOLD);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`createJsBackend: threads must be a positive integer, got ${threads}`);
  }
  if (!(parallelThreshold >= 0)) throw new Error(`createJsBackend: parallelThreshold must be >= 0, got ${parallelThreshold}`);
  return { threads, threshold: parallelThreshold, im2colBytes, simd };
}
