/**
 * The `native` Backend: every kernel is one call into the addon with the
 * caller's typed arrays (zero copy; the addon honours each view's byteOffset
 * and length and validates every argument, throwing a named Error).
 */
import type { Backend, OptionalKernels } from '@axon/tensor';

import type { NativeAddon } from './addon.js';

export function createBackendFromAddon(addon: NativeAddon): Backend {
  return {
    name: 'native',
    gemm: (a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB) =>
      addon.gemm(a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB),
    unary: (op, x, y, params) => addon.unary(op, x, y, params),
    unaryGrad: (op, x, y, dy, dx, params) => addon.unaryGrad(op, x, y, dy, dx, params),
    binary: (op, a, aShape, b, bShape, out, outShape) => addon.binary(op, a, aShape, b, bShape, out, outShape),
    select: (cond, condShape, a, aShape, b, bShape, out, outShape) =>
      addon.select(cond, condShape, a, aShape, b, bShape, out, outShape),
    reduce: (op, x, out, outer, size, inner) => addon.reduce(op, x, out, outer, size, inner),
    argReduce: (op, x, out, outer, size, inner) => addon.argReduce(op, x, out, outer, size, inner),
    softmax: (x, y, outer, size, inner, log) => addon.softmax(x, y, outer, size, inner, log),
    transpose: (x, shape, perm, out) => addon.transpose(x, shape, perm, out),
    slice: (x, shape, begin, size, out) => addon.slice(x, shape, begin, size, out),
    pad: (x, shape, padBefore, padAfter, value, out) => addon.pad(x, shape, padBefore, padAfter, value, out),
    concat: (inputs, sizes, outer, inner, out) => addon.concat(inputs, sizes, outer, inner, out),
    gather: (x, indices, out, outer, size, inner) => addon.gather(x, indices, out, outer, size, inner),
    scatterAdd: (dy, indices, dx, outer, size, inner) => addon.scatterAdd(dy, indices, dx, outer, size, inner),
    oneHot: (indices, depth, onValue, offValue, out) => addon.oneHot(indices, depth, onValue, offValue, out),
    conv2d: (x, filter, y, info) => addon.conv2d(x, filter, y, info),
    conv2dBackpropInput: (dy, filter, dx, info) => addon.conv2dBackpropInput(dy, filter, dx, info),
    conv2dBackpropFilter: (x, dy, dFilter, info) => addon.conv2dBackpropFilter(x, dy, dFilter, info),
    maxPool2d: (x, y, argmax, info) => addon.maxPool2d(x, y, argmax, info),
    maxPool2dBackprop: (dy, argmax, dx, info) => addon.maxPool2dBackprop(dy, argmax, dx, info),
    avgPool2d: (x, y, info) => addon.avgPool2d(x, y, info),
    avgPool2dBackprop: (dy, dx, info) => addon.avgPool2dBackprop(dy, dx, info),
    sgdUpdate: (param, grad, velocity, config) => addon.sgdUpdate(param, grad, velocity, config),
    adamUpdate: (param, grad, m, v, config) => addon.adamUpdate(param, grad, m, v, config),
    rmspropUpdate: (param, grad, meanSquare, mom, meanGrad, config) =>
      addon.rmspropUpdate(param, grad, meanSquare, mom, meanGrad, config),
    optional: recurrentKernels(addon),
  };
}

/** The fused recurrent kernels, when the addon has them (the ops fall back to composites otherwise). */
function recurrentKernels(addon: NativeAddon): OptionalKernels {
  const { lstmForward, lstmBackward, gruForward, gruBackward, simpleRnnForward, simpleRnnBackward } = addon;
  if (!lstmForward || !lstmBackward || !gruForward || !gruBackward || !simpleRnnForward || !simpleRnnBackward) return {};
  return {
    lstmForward: (arrays, info) => lstmForward(arrays, info),
    lstmBackward: (arrays, info) => lstmBackward(arrays, info),
    gruForward: (arrays, info) => gruForward(arrays, info),
    gruBackward: (arrays, info) => gruBackward(arrays, info),
    simpleRnnForward: (arrays, info) => simpleRnnForward(arrays, info),
    simpleRnnBackward: (arrays, info) => simpleRnnBackward(arrays, info),
  };
}
