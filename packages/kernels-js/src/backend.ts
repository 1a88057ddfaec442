import type { Backend } from '@axon/tensor';
import { binary, select } from './binary.js';
import { ConvScratch, conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { GemmScratch, gemm } from './gemm.js';
import { concat, gather, oneHot, pad, scatterAdd, slice, transpose } from './layout.js';
import { adamUpdate, rmspropUpdate, sgdUpdate } from './optimizers.js';
import { avgPool2d, avgPool2dBackprop, maxPool2d, maxPool2dBackprop } from './pool.js';
import { ReduceScratch, argReduce, reduce, softmax } from './reduce.js';
import { createRecurrentKernels } from './recurrent.js';
import { unary, unaryGrad } from './unary.js';

export interface JsBackendOptions {
  /**
   * Upper bound on the im2col buffer conv2d uses, in bytes (default 16 MB).
   * Larger batches are processed in chunks of output rows that fit.
   */
  im2colBytes?: number;
}

/**
 * Creates an instance of the pure-TypeScript backend. Each instance owns its
 * scratch buffers (the im2col buffer, float64 accumulator rows), grown on
 * demand and reused by every later call; the GEMM packing panels are shared
 * module constants. Kernels are synchronous, so nothing runs concurrently.
 */
export function createJsBackend(options: JsBackendOptions = {}): Backend {
  const gemmScratch = new GemmScratch();
  const convScratch = new ConvScratch(gemmScratch, options.im2colBytes);
  const reduceScratch = new ReduceScratch();
  return {
    name: 'js',
    gemm: (a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB) =>
      gemm(gemmScratch, a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB),
    unary,
    unaryGrad,
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
    maxPool2d,
    maxPool2dBackprop,
    avgPool2d,
    avgPool2dBackprop,
    sgdUpdate,
    adamUpdate,
    rmspropUpdate,
    optional: createRecurrentKernels(gemmScratch),
  };
}
