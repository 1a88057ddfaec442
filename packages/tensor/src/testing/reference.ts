/**
 * A deliberately naive reference Backend for tests: every kernel is the
 * textbook loop nest over output elements, accumulating in float64, with no
 * blocking, no fast paths and no scratch buffers, so it is easy to check by
 * reading. Slow by design; never register it for real work.
 *
 * Semantics every backend must share (and the conformance suite checks):
 * - unary activations propagate NaN (relu, step, sign, clip of NaN is NaN);
 *   derivatives at kinks are 0 (relu, abs at 0; relu6 at 0 and 6), clip's
 *   derivative is 1 on the closed interval [low, high];
 * - reduce max/min propagate NaN; argmax/argmin rank NaN above every number;
 *   ties go to the first index;
 * - max pooling ranks NaN above every number (first NaN wins), and a window
 *   lying entirely in the padding gives -Infinity with argmax -1; average
 *   pooling counts only in-image cells and gives 0 for an all-padding window;
 * - oneHot maps an out-of-range index to a row of offValue.
 */

import type {
  AdamConfig,
  CompleteHostBackend,
  BinaryOp,
  Conv2DInfo,
  FusedActivation,
  Pool2DInfo,
  ReduceOp,
  RmspropConfig,
  SgdConfig,
  UnaryOp,
  UnaryParams,
} from '../backend.js';
import { cpuDevice } from '../device.js';

/** Mulberry32: a tiny, fast, seedable PRNG; plenty for test data. */
export class Rng {
  private state: number;

  /** A generator seeded with `seed` (taken as an unsigned 32-bit integer). */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [low, high). */
  int(low: number, high: number): number {
    return low + Math.floor((high - low) * this.next());
  }

  /** n floats uniform in [low, high) (default [-1, 1)). */
  floats(n: number, low = -1, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** n integers uniform in [low, high). */
  ints(n: number, low: number, high: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(low, high);
    return out;
  }
}

/** A stable 32-bit hash of a string (FNV-1a), to derive a seed from a test name. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ---------------------------------------------------------------- scalar math

/** erf from its Maclaurin series, summed until the terms vanish (accurate for |x| < 3). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(x) for x >= 3 from Laplace's continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + ...))). */
function erfcContinuedFraction(x: number): number {
  let tail = x;
  for (let k = 80; k >= 1; k--) tail = x + k / 2 / tail;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * tail);
}

/** The complementary error function 1 - erf(x), accurate in double precision (series, or a continued fraction for |x| >= 3). */
export function referenceErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 3) return erfcContinuedFraction(x);
  if (x <= -3) return 2 - erfcContinuedFraction(-x);
  return 1 - erfSeries(x);
}

/** The Gauss error function, accurate in double precision (see {@link referenceErfc}). */
export function referenceErf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 3) return erfSeries(x);
  return x > 0 ? 1 - erfcContinuedFraction(x) : erfcContinuedFraction(-x) - 1;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Standard normal CDF and density. */
const normalCdf = (x: number): number => 0.5 * referenceErfc(-x / Math.SQRT2);
const normalPdf = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

function unaryParams(op: UnaryOp, params: UnaryParams | undefined): { alpha: number; beta: number } {
  if (op === 'leakyRelu') return { alpha: params?.alpha ?? 0.2, beta: 0 };
  if (op === 'elu') return { alpha: params?.alpha ?? 1, beta: 0 };
  if (op === 'clip') return { alpha: params?.alpha ?? -Infinity, beta: params?.beta ?? Infinity };
  return { alpha: 0, beta: 0 };
}

/** The unary op `op` at x, in float64: the values the `unary` kernel must match. NaN in gives NaN out. */
export function referenceUnary(op: UnaryOp, x: number, params?: UnaryParams): number {
  const { alpha, beta } = unaryParams(op, params);
  if (Number.isNaN(x)) return NaN;
  switch (op) {
    case 'neg':
      return -x;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'square':
      return x * x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'reciprocal':
      return 1 / x;
    case 'relu':
      return Math.max(x, 0);
    case 'relu6':
      return Math.min(Math.max(x, 0), 6);
    case 'leakyRelu':
      return x > 0 ? x : alpha * x;
    case 'elu':
      return x > 0 ? x : alpha * (Math.exp(x) - 1);
    case 'selu':
      return x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * (Math.exp(x) - 1);
    case 'gelu':
      return x * normalCdf(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return Math.tanh(x);
    case 'softplus':
      return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    case 'softsign':
      return x / (1 + Math.abs(x));
    case 'swish':
      return x * sigmoid(x);
    case 'clip':
      return Math.min(Math.max(x, alpha), beta);
    case 'step':
      return x > 0 ? 1 : 0;
    case 'floor':
      return Math.floor(x);
    case 'erf':
      return referenceErf(x);
    case 'round': {
      // Half to even, written out by cases.
      const f = Math.floor(x);
      const diff = x - f;
      if (diff < 0.5) return f;
      if (diff > 0.5) return f + 1;
      return f % 2 === 0 ? f : f + 1;
    }
  }
  throw new Error(`reference unary: unknown op '${String(op)}'`);
}

/** d op(x) / dx, the derivative the ops' composed gradients must match (0 at kinks of relu, abs; 1 on clip's closed interval). */
export function referenceUnaryDerivative(op: UnaryOp, x: number, params?: UnaryParams): number {
  const { alpha, beta } = unaryParams(op, params);
  switch (op) {
    case 'neg':
      return -1;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return 1 / x;
    case 'sqrt':
      return 0.5 / Math.sqrt(x);
    case 'rsqrt':
      return -0.5 * x ** -1.5;
    case 'square':
      return 2 * x;
    case 'abs':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'sign':
      return 0;
    case 'reciprocal':
      return -1 / (x * x);
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'relu6':
      return x > 0 && x < 6 ? 1 : 0;
    case 'leakyRelu':
      return x > 0 ? 1 : alpha;
    case 'elu':
      return x > 0 ? 1 : alpha * Math.exp(x);
    case 'selu':
      return x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x);
    case 'gelu':
      return normalCdf(x) + x * normalPdf(x);
    case 'sigmoid':
      return sigmoid(x) * (1 - sigmoid(x));
    case 'tanh':
      return 1 - Math.tanh(x) ** 2;
    case 'softplus':
      return sigmoid(x);
    case 'softsign':
      return 1 / (1 + Math.abs(x)) ** 2;
    case 'swish':
      return sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x));
    case 'clip':
      return x >= alpha && x <= beta ? 1 : 0;
    case 'erf':
      return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    case 'step':
    case 'floor':
    case 'round':
      return 0;
  }
  throw new Error(`reference derivative: unknown op '${String(op)}'`);
}

export function referenceBinary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'pow':
      // C's pow (IEEE 754): 1^y = 1 for every y, and (-1)^±Infinity = 1, where JavaScript's ** gives NaN.
      return a === 1 || (a === -1 && Math.abs(b) === Number.POSITIVE_INFINITY) ? 1 : a ** b;
    case 'maximum':
      return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 'minimum':
      return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 'squaredDifference':
      return (a - b) * (a - b);
    case 'greater':
      return a > b ? 1 : 0;
    case 'greaterEqual':
      return a >= b ? 1 : 0;
    case 'less':
      return a < b ? 1 : 0;
    case 'lessEqual':
      return a <= b ? 1 : 0;
    case 'equal':
      return a === b ? 1 : 0;
    case 'notEqual':
      return a !== b ? 1 : 0;
  }
  throw new Error(`reference binary: unknown op '${String(op)}'`);
}

// ---------------------------------------------------------------- index helpers

/** Multi-index of flat position `flat` in a row-major array of `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** Flat position of `index` in a row-major array of `shape`. */
function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

/** Flat position in an operand of `shape` of the output element at `outIndex`, under NumPy broadcasting. */
function broadcastSource(outIndex: readonly number[], shape: readonly number[]): number {
  const lead = outIndex.length - shape.length;
  return ravel(
    shape.map((d, i) => (d === 1 ? 0 : outIndex[lead + i])),
    shape,
  );
}

/** Each operand must broadcast to outShape (which may be larger than their common broadcast). */
function checkBroadcast(kernel: string, shapes: readonly (readonly number[])[], outShape: readonly number[]): void {
  for (const shape of shapes) {
    const lead = outShape.length - shape.length;
    if (lead < 0 || shape.some((d, i) => d !== 1 && d !== outShape[lead + i])) {
      throw new Error(`reference ${kernel}: [${shape.join(', ')}] does not broadcast to [${outShape.join(', ')}]`);
    }
  }
}

/** A fused activation and its derivative from the output y. */
export function referenceActivation(a: FusedActivation, x: number): number {
  switch (a) {
    case 'linear':
      return x;
    case 'relu':
      return x > 0 ? x : Number.isNaN(x) ? NaN : 0;
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return Math.tanh(x);
    case 'hardSigmoid':
      return Math.min(Math.max(0.2 * x + 0.5, 0), 1);
  }
}

export function referenceActivationDerivative(a: FusedActivation, y: number): number {
  switch (a) {
    case 'linear':
      return 1;
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'sigmoid':
      return y * (1 - y);
    case 'tanh':
      return 1 - y * y;
    case 'hardSigmoid':
      return y > 0 && y < 1 ? 0.2 : 0;
  }
}

/** "NaN ranks above every number" ordering used by argReduce and max pooling. */
function greaterWithNaN(v: number, best: number): boolean {
  if (Number.isNaN(v)) return !Number.isNaN(best);
  if (Number.isNaN(best)) return false;
  return v > best;
}

// ---------------------------------------------------------------- the backend

/** Every kernel but the fused recurrent ones (the ops' composite path is their reference). */
export type ReferenceBackend = Omit<
  CompleteHostBackend,
  'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward' | 'simpleRnnForward' | 'simpleRnnBackward'
>;

/**
 * The naive reference backend (name 'reference', on the host {@link cpuDevice}): every kernel
 * except the fused recurrent ones. Slow by design: a test oracle, never for real work.
 */
export function createReferenceBackend(): ReferenceBackend {
  return {
    name: 'reference',
    device: cpuDevice,

    fill(out, value) {
      for (let i = 0; i < out.length; i++) out[i] = value;
    },

    cast(x, _xType, y, yType) {
      if (x.length !== y.length) throw new Error(`reference cast: x has ${x.length} values, y ${y.length}`);
      for (let i = 0; i < x.length; i++) {
        if (yType === 'int32' && !(Math.trunc(x[i]) >= -2147483648 && Math.trunc(x[i]) <= 2147483647)) {
          throw new Error(`cast: value ${x[i]} at index ${i} is outside the int32 range [-2147483648, 2147483647]`);
        }
        y[i] = yType === 'int32' ? Math.trunc(x[i]) : x[i];
      }
    },

    gemm(a, b, c, batch, m, n, k, transA, transB, alpha, beta, strideA, strideB) {
      if (c.length !== batch * m * n) throw new Error(`reference gemm: c has length ${c.length}, expected ${batch * m * n}`);
      for (let t = 0; t < batch; t++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) {
              const av = transA ? a[t * strideA + p * m + i] : a[t * strideA + i * k + p];
              const bv = transB ? b[t * strideB + j * k + p] : b[t * strideB + p * n + j];
              sum += av * bv;
            }
            const ci = t * m * n + i * n + j;
            c[ci] = alpha * sum + (beta === 0 ? 0 : beta * c[ci]);
          }
        }
      }
    },

    unary(op, x, y, params) {
      if (x.length !== y.length) throw new Error(`reference unary: x has ${x.length} values, y ${y.length}`);
      for (let i = 0; i < x.length; i++) y[i] = referenceUnary(op, x[i], params);
    },

    binary(op, a, aShape, b, bShape, out, outShape) {
      checkBroadcast('binary', [aShape, bShape], outShape);
      for (let i = 0; i < out.length; i++) {
        const index = unravel(i, outShape);
        out[i] = referenceBinary(op, a[broadcastSource(index, aShape)], b[broadcastSource(index, bShape)]);
      }
    },

    select(cond, condShape, a, aShape, b, bShape, out, outShape) {
      checkBroadcast('select', [condShape, aShape, bShape], outShape);
      for (let i = 0; i < out.length; i++) {
        const index = unravel(i, outShape);
        out[i] = cond[broadcastSource(index, condShape)] !== 0 ? a[broadcastSource(index, aShape)] : b[broadcastSource(index, bShape)];
      }
    },

    reduce(op: ReduceOp, x, out, outer, size, inner) {
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) {
          const values: number[] = [];
          for (let s = 0; s < size; s++) values.push(x[(o * size + s) * inner + r]);
          const hasNaN = values.some(Number.isNaN);
          let result: number;
          switch (op) {
            case 'sum':
              result = values.reduce((p, v) => p + v, 0);
              break;
            case 'mean':
              result = values.reduce((p, v) => p + v, 0) / size;
              break;
            case 'prod':
              result = values.reduce((p, v) => p * v, 1);
              break;
            case 'max':
              result = hasNaN ? NaN : values.reduce((p, v) => Math.max(p, v), -Infinity);
              break;
            case 'min':
              result = hasNaN ? NaN : values.reduce((p, v) => Math.min(p, v), Infinity);
              break;
          }
          out[o * inner + r] = result;
        }
      }
    },

    argReduce(op, x, out, outer, size, inner) {
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) {
          let best = 0;
          for (let s = 1; s < size; s++) {
            const v = x[(o * size + s) * inner + r];
            const current = x[(o * size + best) * inner + r];
            const wins = op === 'max' ? greaterWithNaN(v, current) : greaterWithNaN(current, v);
            if (wins) best = s;
          }
          out[o * inner + r] = best;
        }
      }
    },

    softmax(x, y, outer, size, inner, log) {
      for (let o = 0; o < outer; o++) {
        for (let r = 0; r < inner; r++) {
          const at = (s: number): number => (o * size + s) * inner + r;
          let max = -Infinity;
          for (let s = 0; s < size; s++) max = Number.isNaN(x[at(s)]) || Number.isNaN(max) ? NaN : Math.max(max, x[at(s)]);
          let sum = 0;
          for (let s = 0; s < size; s++) sum += Math.exp(x[at(s)] - max);
          const values: number[] = [];
          for (let s = 0; s < size; s++) values.push(log ? x[at(s)] - max - Math.log(sum) : Math.exp(x[at(s)] - max) / sum);
          for (let s = 0; s < size; s++) y[at(s)] = values[s];
        }
      }
    },

    transpose(x, shape, perm, out) {
      const outShape = perm.map((p) => shape[p]);
      for (let i = 0; i < out.length; i++) {
        const outIndex = unravel(i, outShape);
        const inIndex = new Array<number>(shape.length);
        perm.forEach((p, d) => (inIndex[p] = outIndex[d]));
        out[i] = x[ravel(inIndex, shape)];
      }
    },

    slice(x, shape, begin, size, out) {
      for (let i = 0; i < out.length; i++) {
        const index = unravel(i, size).map((v, d) => v + begin[d]);
        out[i] = x[ravel(index, shape)];
      }
    },

    pad(x, shape, padBefore, padAfter, value, out) {
      const outShape = shape.map((d, i) => d + padBefore[i] + padAfter[i]);
      for (let i = 0; i < out.length; i++) {
        const index = unravel(i, outShape).map((v, d) => v - padBefore[d]);
        const inside = index.every((v, d) => v >= 0 && v < shape[d]);
        out[i] = inside ? x[ravel(index, shape)] : value;
      }
    },

    concat(inputs, sizes, outer, inner, out) {
      const total = sizes.reduce((p, s) => p + s, 0);
      for (let o = 0; o < outer; o++) {
        let start = 0;
        inputs.forEach((input, t) => {
          for (let s = 0; s < sizes[t]; s++) {
            for (let r = 0; r < inner; r++) out[(o * total + start + s) * inner + r] = input[(o * sizes[t] + s) * inner + r];
          }
          start += sizes[t];
        });
      }
    },

    gather(x, indices, out, outer, size, inner) {
      indices.forEach((idx, j) => {
        if (idx < 0 || idx >= size) throw new Error(`gather: index ${idx} at position ${j} is out of range [0, ${size})`);
      });
      const n = indices.length;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < n; j++) {
          for (let r = 0; r < inner; r++) out[(o * n + j) * inner + r] = x[(o * size + indices[j]) * inner + r];
        }
      }
    },

    scatterAdd(dy, indices, dx, outer, size, inner) {
      indices.forEach((idx, j) => {
        if (idx < 0 || idx >= size) throw new Error(`scatterAdd: index ${idx} at position ${j} is out of range [0, ${size})`);
      });
      const n = indices.length;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < n; j++) {
          for (let r = 0; r < inner; r++) dx[(o * size + indices[j]) * inner + r] += dy[(o * n + j) * inner + r];
        }
      }
    },

    oneHot(indices, depth, onValue, offValue, out) {
      for (let i = 0; i < indices.length; i++) {
        for (let d = 0; d < depth; d++) out[i * depth + d] = indices[i] === d ? onValue : offValue;
      }
    },

    conv2d(x, filter, y, info) {
      checkConvLengths('conv2d', info, x.length, filter.length, y.length);
      const sums = new Float64Array(y.length);
      forEachConvTap(info, (xi, wi, yi) => (sums[yi] += x[xi] * filter[wi]));
      y.set(sums);
    },

    conv2dBackpropInput(dy, filter, dx, info) {
      const sums = new Float64Array(dx.length);
      forEachConvTap(info, (xi, wi, yi) => (sums[xi] += dy[yi] * filter[wi]));
      dx.set(sums);
    },

    conv2dBackpropFilter(x, dy, dFilter, info) {
      const sums = new Float64Array(dFilter.length);
      forEachConvTap(info, (xi, wi, yi) => (sums[wi] += x[xi] * dy[yi]));
      dFilter.set(sums);
    },

    maxPool2d(x, y, argmax, info) {
      forEachPoolWindow(info, (yi, taps) => {
        let best = -Infinity;
        let bestIndex = -1;
        for (const xi of taps) {
          if (bestIndex < 0 || greaterWithNaN(x[xi], best)) {
            best = x[xi];
            bestIndex = xi;
          }
        }
        y[yi] = best;
        argmax[yi] = bestIndex;
      });
    },

    maxPool2dBackprop(dy, argmax, dx) {
      const sums = new Float64Array(dx.length);
      for (let i = 0; i < dy.length; i++) if (argmax[i] >= 0) sums[argmax[i]] += dy[i];
      dx.set(sums);
    },

    avgPool2d(x, y, info) {
      forEachPoolWindow(info, (yi, taps) => {
        let sum = 0;
        for (const xi of taps) sum += x[xi];
        y[yi] = taps.length > 0 ? sum / taps.length : 0;
      });
    },

    avgPool2dBackprop(dy, dx, info) {
      const sums = new Float64Array(dx.length);
      forEachPoolWindow(info, (yi, taps) => {
        for (const xi of taps) sums[xi] += dy[yi] / taps.length;
      });
      dx.set(sums);
    },

    biasActivation(x, bias, y, rows, channels, activation) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < channels; c++) {
          const i = r * channels + c;
          y[i] = referenceActivation(activation, x[i] + (bias ? bias[c] : 0));
        }
      }
    },

    biasActivationGrad(y, dy, dx, dBias, rows, channels, activation) {
      const sums = new Float64Array(channels);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < channels; c++) {
          const i = r * channels + c;
          const g = dy[i] * referenceActivationDerivative(activation, y[i]);
          dx[i] = g;
          sums[c] += g;
        }
      }
      if (dBias) dBias.set(sums);
    },

    sgdUpdate(param, grad, velocity, config: SgdConfig) {
      const { lr, momentum, nesterov } = config;
      for (let i = 0; i < param.length; i++) {
        if (momentum === 0) {
          param[i] = param[i] - lr * grad[i];
          continue;
        }
        if (!velocity) throw new Error('reference sgdUpdate: momentum needs a velocity buffer');
        const v = momentum * velocity[i] - lr * grad[i];
        velocity[i] = v;
        param[i] = nesterov ? param[i] + momentum * v - lr * grad[i] : param[i] + v;
      }
    },

    adamUpdate(param, grad, m, v, config: AdamConfig) {
      const { lr, beta1, beta2, epsilon, step, weightDecay } = config;
      const lrT = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      for (let i = 0; i < param.length; i++) {
        const g = grad[i];
        const p = param[i] - lr * weightDecay * param[i];
        const mi = beta1 * m[i] + (1 - beta1) * g;
        const vi = beta2 * v[i] + (1 - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - (lrT * mi) / (Math.sqrt(vi) + epsilon);
      }
    },

    rmspropUpdate(param, grad, meanSquare, mom, meanGrad, config: RmspropConfig) {
      const { lr, rho, momentum, epsilon, centered } = config;
      for (let i = 0; i < param.length; i++) {
        const g = grad[i];
        const ms = rho * meanSquare[i] + (1 - rho) * g * g;
        meanSquare[i] = ms;
        let denominator = ms;
        if (centered) {
          if (!meanGrad) throw new Error('reference rmspropUpdate: centered needs meanGrad');
          const mg = rho * meanGrad[i] + (1 - rho) * g;
          meanGrad[i] = mg;
          denominator = ms - mg * mg;
        }
        const increment = (lr * g) / Math.sqrt(denominator + epsilon);
        if (momentum !== 0) {
          if (!mom) throw new Error('reference rmspropUpdate: momentum needs a mom buffer');
          mom[i] = momentum * mom[i] + increment;
          param[i] = param[i] - mom[i];
        } else {
          param[i] = param[i] - increment;
        }
      }
    },
  };
}

function checkConvLengths(kernel: string, info: Conv2DInfo, x: number, filter: number, y: number): void {
  const expected = [
    ['x', x, info.batch * info.inHeight * info.inWidth * info.inChannels],
    ['filter', filter, info.filterHeight * info.filterWidth * info.inChannels * info.outChannels],
    ['y', y, info.batch * info.outHeight * info.outWidth * info.outChannels],
  ] as const;
  for (const [name, got, want] of expected) {
    if (got !== want) throw new Error(`reference ${kernel}: ${name} has ${got} values, expected ${want}`);
  }
}

/**
 * For every (output pixel, filter tap, in-channel, out-channel) whose input
 * position lies inside the image, calls visit(xIndex, filterIndex, yIndex).
 */
function forEachConvTap(info: Conv2DInfo, visit: (xi: number, wi: number, yi: number) => void): void {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        for (let ky = 0; ky < filterHeight; ky++) {
          for (let kx = 0; kx < filterWidth; kx++) {
            const iy = oy * info.strideHeight - info.padTop + ky * info.dilationHeight;
            const ix = ox * info.strideWidth - info.padLeft + kx * info.dilationWidth;
            if (iy < 0 || iy >= inHeight || ix < 0 || ix >= inWidth) continue;
            for (let ci = 0; ci < inChannels; ci++) {
              for (let co = 0; co < outChannels; co++) {
                const xi = ((b * inHeight + iy) * inWidth + ix) * inChannels + ci;
                const wi = ((ky * filterWidth + kx) * inChannels + ci) * outChannels + co;
                const yi = ((b * outHeight + oy) * outWidth + ox) * outChannels + co;
                visit(xi, wi, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** For every output cell, calls visit(yIndex, xIndices of the in-image cells of its window, in row-major order). */
function forEachPoolWindow(info: Pool2DInfo, visit: (yi: number, taps: number[]) => void): void {
  const { batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth } = info;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        for (let c = 0; c < channels; c++) {
          const taps: number[] = [];
          for (let ky = 0; ky < filterHeight; ky++) {
            for (let kx = 0; kx < filterWidth; kx++) {
              const iy = oy * info.strideHeight - info.padTop + ky;
              const ix = ox * info.strideWidth - info.padLeft + kx;
              if (iy >= 0 && iy < inHeight && ix >= 0 && ix < inWidth) taps.push(((b * inHeight + iy) * inWidth + ix) * channels + c);
            }
          }
          visit(((b * outHeight + oy) * outWidth + ox) * channels + c, taps);
        }
      }
    }
  }
}
