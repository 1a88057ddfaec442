import { recordOp } from '../autograd.js';
import type { Conv2DInfo, FusedActivation, Pool2DInfo } from '../backend.js';
import { hasKernel } from '../registry.js';
import { formatShape, normalizeAxis, sizeBetween } from '../shape.js';
import { Tensor, bufferOf } from '../tensor.js';
import { FUSED_ACTIVATIONS, fusedActivationOp } from './activations.js';
import { add, exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { asFloat, assertRank, assertTensor, buf, empty, kernels, unaliased } from './util.js';

function softmaxOp(name: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  assertTensor(name, x);
  const a = normalizeAxis(name, axis, x.rank);
  const outer = sizeBetween(x.shape, 0, a);
  const size = x.shape[a] ?? 1; // a scalar (axis 0) is one value along its axis
  const inner = sizeBetween(x.shape, a + 1, x.rank);
  const xf = asFloat(x);
  const y = empty(x.shape);
  kernels().softmax(buf(xf, name), buf(y, name), outer, size, inner, name === 'logSoftmax');
  return recordOp(name, y, [x], (dy) => {
    bufferOf(y, name); // fails clearly if a scope released y
    const plainY = new Tensor(y.storage, x.shape); // y without its gradient node
    if (name === 'softmax') {
      // dx = y * (dy - sum(dy * y))
      return [mul(plainY, sub(dy, sum(mul(dy, plainY), a, true)))];
    }
    // dx = dy - softmax * sum(dy)
    return [sub(dy, mul(exp(plainY), sum(dy, a, true)))];
  });
}

/**
 * Softmax along an axis (default the last): e^x / Σ e^x, computed stably; each slice along the axis sums to 1.
 *
 * @example
 * ```ts
 * softmax(tensor([[1, 2, 3]])).toArray(); // [[0.090, 0.245, 0.665]] (rounded)
 * ```
 */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxOp('softmax', x, axis);
/** log(softmax(x)) along an axis (default the last), computed stably. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxOp('logSoftmax', x, axis);

/**
 * Convolution and pooling padding, as in Keras and TensorFlow: `'valid'` uses no padding (the
 * window must fit the input); `'same'` pads with zeros so that the output has ceil(in / stride)
 * positions along each axis, the odd padding cell after.
 */
export type Padding = 'valid' | 'same';
/** A size for both spatial axes, or [height, width]. */
export type Pair = number | readonly [number, number];

function pair(op: string, name: string, v: Pair): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${op}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/**
 * Output size and leading padding of one spatial axis, by TensorFlow's rule:
 * 'same' gives ceil(in / stride) outputs and puts the odd padding cell after.
 */
export function convOutputGeometry(
  inSize: number,
  window: number,
  stride: number,
  padding: Padding,
): {
  /** Output positions along the axis. */
  out: number;
  /** Padding cells before the first input cell. */
  padBefore: number;
} {
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + window - inSize, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.max(Math.floor((inSize - window) / stride) + 1, 0), padBefore: 0 };
}

function checkPadding(op: string, padding: string): asserts padding is Padding {
  if (padding !== 'valid' && padding !== 'same') {
    throw new Error(`${op}: padding must be 'valid' or 'same', got '${padding}'`);
  }
}

/**
 * Geometry of a conv2d over NHWC x with HWIO filter, validated.
 *
 * @throws Error if the channel counts differ, a stride or dilation is not a positive integer,
 *   padding is unknown, or with 'valid' padding the (dilated) filter is larger than the input.
 */
export function conv2dInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: Pair,
  padding: Padding,
  dilations: Pair,
): Conv2DInfo {
  checkPadding('conv2d', padding);
  const [batch, inHeight, inWidth, inChannels] = xShape as [number, number, number, number];
  const [filterHeight, filterWidth, filterIn, outChannels] = filterShape as [number, number, number, number];
  if (filterIn !== inChannels) {
    throw new Error(
      `conv2d: input ${formatShape(xShape)} has ${inChannels} channels but filter ${formatShape(filterShape)} expects ${filterIn}`,
    );
  }
  const [strideHeight, strideWidth] = pair('conv2d', 'strides', strides);
  const [dilationHeight, dilationWidth] = pair('conv2d', 'dilations', dilations);
  const effH = (filterHeight - 1) * dilationHeight + 1;
  const effW = (filterWidth - 1) * dilationWidth + 1;
  if (padding === 'valid' && (effH > inHeight || effW > inWidth)) {
    throw new Error(
      `conv2d: with 'valid' padding the ${effH}x${effW} (dilated) filter does not fit the ${inHeight}x${inWidth} input ${formatShape(xShape)}`,
    );
  }
  const h = convOutputGeometry(inHeight, effH, strideHeight, padding);
  const w = convOutputGeometry(inWidth, effW, strideWidth, padding);
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight: h.out,
    outWidth: w.out,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop: h.padBefore,
    padLeft: w.padBefore,
  };
}

/**
 * 2-D convolution (cross-correlation, as in every DL library): x NHWC, filter [kh, kw, in, out].
 * The op under the {@link https://keras.io/api/layers/convolution_layers/convolution2d/ | Conv2D} layer
 * (tf.nn.conv2d semantics).
 *
 * @param x - Input [batch, height, width, inChannels].
 * @param filter - Filter [kh, kw, inChannels, outChannels].
 * @param strides - Step between windows: one number or [height, width] (default 1).
 * @param padding - 'valid' (default) or 'same', see {@link Padding}.
 * @param dilations - Spacing between filter taps (default 1: a dense filter).
 * @returns [batch, outHeight, outWidth, outChannels].
 * @throws Error if x or filter is not rank 4, the channel counts differ, or the filter does not fit
 *   the input with 'valid' padding.
 *
 * @example
 * ```ts
 * const images = randomNormal([8, 28, 28, 1]);  // NHWC
 * const filter = randomNormal([3, 3, 1, 16]);  // HWIO
 * conv2d(images, filter).shape;                 // [8, 26, 26, 16]
 * conv2d(images, filter, 2, 'same').shape;      // [8, 14, 14, 16]
 * ```
 */
export function conv2d(x: Tensor, filter: Tensor, strides: Pair = 1, padding: Padding = 'valid', dilations: Pair = 1): Tensor {
  assertTensor('conv2d', x);
  assertTensor('conv2d', filter, 'filter');
  assertRank('conv2d', x, 4);
  assertRank('conv2d', filter, 4, 'filter');
  const info = conv2dInfo(x.shape, filter.shape, strides, padding, dilations);
  const xf = asFloat(x);
  const ff = asFloat(filter);
  const y = empty([info.batch, info.outHeight, info.outWidth, info.outChannels]);
  kernels().conv2d(buf(xf, 'conv2d'), buf(ff, 'conv2d'), buf(y, 'conv2d'), info);
  return recordOp('conv2d', y, [x, filter], (dy) => {
    let dx: Tensor | null = null;
    let df: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      kernels().conv2dBackpropInput(buf(dy, 'conv2d'), buf(ff, 'conv2d'), buf(dx, 'conv2d'), info);
    }
    if (filter.requiresGrad) {
      df = empty(filter.shape);
      kernels().conv2dBackpropFilter(buf(xf, 'conv2d'), buf(dy, 'conv2d'), buf(df, 'conv2d'), info);
    }
    return [dx, df];
  });
}

function poolInfo(op: string, x: Tensor, poolSize: Pair, strides: Pair | undefined, padding: Padding): Pool2DInfo {
  assertTensor(op, x);
  assertRank(op, x, 4);
  checkPadding(op, padding);
  const [batch, inHeight, inWidth, channels] = x.shape as [number, number, number, number];
  const [filterHeight, filterWidth] = pair(op, 'poolSize', poolSize);
  const [strideHeight, strideWidth] = pair(op, 'strides', strides ?? poolSize);
  if (padding === 'valid' && (filterHeight > inHeight || filterWidth > inWidth)) {
    throw new Error(`${op}: with 'valid' padding the ${filterHeight}x${filterWidth} window does not fit the input ${formatShape(x.shape)}`);
  }
  const h = convOutputGeometry(inHeight, filterHeight, strideHeight, padding);
  const w = convOutputGeometry(inWidth, filterWidth, strideWidth, padding);
  return {
    batch,
    inHeight,
    inWidth,
    channels,
    outHeight: h.out,
    outWidth: w.out,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    padTop: h.padBefore,
    padLeft: w.padBefore,
  };
}

/**
 * Max pooling over NHWC; strides default to the pool size, as in Keras. The gradient goes to the
 * chosen input of each window.
 *
 * @param poolSize - Window size, one number or [height, width] (default 2).
 * @throws Error if x is not rank 4, a size is not a positive integer, or with 'valid' padding
 *   the window is larger than the input.
 */
export function maxPool2d(x: Tensor, poolSize: Pair = 2, strides?: Pair, padding: Padding = 'valid'): Tensor {
  const info = poolInfo('maxPool2d', x, poolSize, strides, padding);
  const shape = [info.batch, info.outHeight, info.outWidth, info.channels];
  const xf = asFloat(x);
  const y = empty(shape);
  const argmax = empty(shape, 'int32');
  kernels().maxPool2d(buf(xf, 'maxPool2d'), buf(y, 'maxPool2d'), buf(argmax, 'maxPool2d'), info);
  return recordOp('maxPool2d', y, [x], (dy) => {
    const dx = empty(x.shape);
    kernels().maxPool2dBackprop(buf(dy, 'maxPool2d'), buf(argmax, 'maxPool2d'), buf(dx, 'maxPool2d'), info);
    return [dx];
  });
}

/**
 * Average pooling over NHWC; padded cells are not counted, as in TensorFlow. Strides default to
 * the pool size (default 2).
 *
 * @throws Error as {@link maxPool2d} does.
 */
export function avgPool2d(x: Tensor, poolSize: Pair = 2, strides?: Pair, padding: Padding = 'valid'): Tensor {
  const info = poolInfo('avgPool2d', x, poolSize, strides, padding);
  const xf = asFloat(x);
  const y = empty([info.batch, info.outHeight, info.outWidth, info.channels]);
  kernels().avgPool2d(buf(xf, 'avgPool2d'), buf(y, 'avgPool2d'), info);
  return recordOp('avgPool2d', y, [x], (dy) => {
    const dx = empty(x.shape);
    kernels().avgPool2dBackprop(buf(dy, 'avgPool2d'), buf(dx, 'avgPool2d'), info);
    return [dx];
  });
}

/**
 * activation(x + bias), bias [channels] added along the last axis of x (null:
 * no bias): the epilogue of Dense and Conv2D. With the backends' fused kernel
 * it is one pass forward and one backward (dx = dy * act'(y) and dBias in the
 * same pass); without it, the same values from add and the activation op.
 * The fused pair pays for itself on the seed CNN's conv outputs: see
 * the README of `@axon/kernels-native` for the measurement.
 *
 * @throws Error if bias is not [channels] (the last axis of x) or the activation is not a
 *   {@link FusedActivation}.
 */
export function biasActivation(x: Tensor, bias: Tensor | null, activation: FusedActivation = 'linear'): Tensor {
  assertTensor('biasActivation', x);
  if (!FUSED_ACTIVATIONS.includes(activation)) {
    throw new Error(`biasActivation: activation must be one of ${FUSED_ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`);
  }
  const channels = x.rank === 0 ? 1 : x.shape[x.rank - 1]!;
  if (bias !== null) {
    assertTensor('biasActivation', bias, 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== channels) {
      throw new Error(
        `biasActivation: bias must have shape [${channels}] (the last axis of x ${formatShape(x.shape)}), got ${formatShape(bias.shape)}`,
      );
    }
    bias = asFloat(bias);
  }
  if (bias === null && activation === 'linear') return unaliased(x, 'biasActivation');
  if (!hasKernel('biasActivation') || !hasKernel('biasActivationGrad')) {
    return fusedActivationOp(activation)(bias ? add(x, bias) : x);
  }
  const xf = asFloat(x);
  const rows = channels === 0 ? 0 : x.size / channels;
  const y = empty(x.shape);
  kernels().biasActivation(
    buf(xf, 'biasActivation'),
    bias ? buf(bias, 'biasActivation') : null,
    buf(y, 'biasActivation'),
    rows,
    channels,
    activation,
  );
  return recordOp('biasActivation', y, bias ? [x, bias] : [x], (dy) => {
    const dx = empty(x.shape);
    const dBias = bias?.requiresGrad ? empty([channels]) : null;
    kernels().biasActivationGrad(
      buf(y, 'biasActivation'),
      buf(dy, 'biasActivation'),
      buf(dx, 'biasActivation'),
      dBias ? buf(dBias, 'biasActivation') : null,
      rows,
      channels,
      activation,
    );
    return [x.requiresGrad ? dx : null, dBias];
  });
}
