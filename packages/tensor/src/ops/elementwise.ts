import { recordOp } from '../autograd.js';
import type { BinaryOp, FusedActivation, UnaryOp, UnaryParams } from '../backend.js';
import { hasKernel } from '../registry.js';
import { broadcastShapes, formatShape, shapesEqual, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import {
  asFloat,
  asTensor,
  assertDType,
  assertNumber,
  assertTensor,
  buf,
  empty,
  kernels,
  rawBinary,
  unaliased,
  type TensorLike,
} from './util.js';
import { reshape } from './shape-ops.js';
import { sum } from './reduce.js';

/**
 * Each unary op's derivative, composed from other ops: the one definition of
 * its gradient on every backend. x is the input, y = op(x) the output.
 */
const UNARY_GRADIENTS: { [K in UnaryOp]: ((x: Tensor, y: Tensor, dy: Tensor, p: UnaryParams | undefined) => Tensor) | null } = {
  neg: (_x, _y, dy) => neg(dy),
  exp: (_x, y, dy) => mul(dy, y),
  log: (x, _y, dy) => div(dy, x),
  sqrt: (_x, y, dy) => div(dy, mul(y, 2)),
  rsqrt: (_x, y, dy) => mul(dy, mul(pow(y, 3), -0.5)),
  square: (x, _y, dy) => mul(dy, mul(x, 2)),
  abs: (x, _y, dy) => mul(dy, sign(x)),
  reciprocal: (_x, y, dy) => neg(mul(dy, square(y))),
  relu: (x, y, dy) => derivativeFromOutput('relu', y, dy, () => mul(dy, step(x))),
  relu6: (x, _y, dy) => mul(dy, mul(step(x), less(x, 6))),
  leakyRelu: (x, _y, dy, p) => mul(dy, where(greater(x, 0), 1, p?.alpha ?? 0.2)),
  elu: (x, y, dy, p) => where(greater(x, 0), dy, mul(dy, add(y, p?.alpha ?? 1))),
  selu: (x, y, dy) => where(greater(x, 0), mul(dy, SELU_SCALE), mul(dy, add(y, SELU_SCALE * SELU_ALPHA))),
  // Φ(x) + x·φ(x), the standard normal CDF and density.
  gelu: (x, _y, dy) =>
    mul(dy, add(mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5), mul(x, mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI))))),
  sigmoid: (_x, y, dy) => derivativeFromOutput('sigmoid', y, dy, () => mul(dy, mul(y, sub(1, y)))),
  tanh: (_x, y, dy) => derivativeFromOutput('tanh', y, dy, () => mul(dy, sub(1, square(y)))),
  softplus: (x, _y, dy) => mul(dy, sigmoid(x)),
  softsign: (x, _y, dy) => div(dy, square(add(abs(x), 1))),
  // s + x·s·(1 - s) = s + y·(1 - s) with s = sigmoid(x).
  swish: (x, y, dy) => {
    const s = sigmoid(x);
    return mul(dy, add(s, mul(y, sub(1, s))));
  },
  clip: (x, _y, dy, p) => mul(dy, mul(greaterEqual(x, p?.alpha ?? -Infinity), lessEqual(x, p?.beta ?? Infinity))),
  erf: (x, _y, dy) => mul(dy, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI))),
  // Piecewise constant: no gradient.
  sign: null,
  step: null,
  floor: null,
  round: null,
};

/**
 * dy * act'(y) in one pass of the fused bias-activation backward kernel, for
 * the activations whose derivative follows from their output. It pays: on
 * 692,224 values (the seed CNN's first conv output) the composed derivative
 * takes 2.9 / 4.9 / 4.3 ms (relu / sigmoid / tanh) on the js backend against
 * 1.4 / 1.3 / 1.3 ms fused, and 1.0 / 1.0 / 1.0 ms on native against 0.2 ms.
 * Where no backend has the kernel, the composed form (same values) serves.
 */
function derivativeFromOutput(activation: FusedActivation, y: Tensor, dy: Tensor, composed: () => Tensor): Tensor {
  if (!hasKernel('biasActivationGrad')) return composed();
  const dx = empty(y.shape);
  kernels().biasActivationGrad(buf(y, activation), buf(dy, activation), buf(dx, activation), null, y.size, 1, activation);
  return dx;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

function unaryOp(op: UnaryOp, xIn: Tensor, params?: UnaryParams): Tensor {
  assertTensor(op, xIn);
  for (const [name, value] of Object.entries(params ?? {})) assertNumber(op, name, value, 'notNaN');
  const x = asFloat(xIn);
  const y = empty(x.shape);
  kernels().unary(op, buf(x, op), buf(y, op), params);
  const gradient = UNARY_GRADIENTS[op];
  if (!gradient) return y;
  return recordOp(op, y, [x], (dy) => [gradient(x, y, dy, params)]);
}

/** -x, element-wise. */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
/** e^x, element-wise. */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
/** Natural logarithm, element-wise (NaN for x < 0, -Infinity at 0). */
export const log = (x: Tensor): Tensor => unaryOp('log', x);
/** Square root, element-wise (NaN for x < 0). */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
/** 1 / sqrt(x), element-wise. */
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
/** x², element-wise. */
export const square = (x: Tensor): Tensor => unaryOp('square', x);
/** |x|, element-wise; the gradient is sign(x) (0 at 0). */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
/** -1, 0 or 1 by the sign of x, element-wise; no gradient. */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
/** 1 / x, element-wise. */
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
/** max(x, 0), element-wise (Keras `'relu'`). */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** min(max(x, 0), 6), element-wise. */
export const relu6 = (x: Tensor): Tensor => unaryOp('relu6', x);
/** max(x, alpha*x); alpha defaults to 0.2 as tf.leakyRelu (the Keras LeakyReLU layer passes 0.3). */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unaryOp('leakyRelu', x, { alpha });
/** x where x > 0, else alpha·(e^x - 1) (Keras `'elu'`; alpha defaults to 1). */
export const elu = (x: Tensor, alpha = 1): Tensor => unaryOp('elu', x, { alpha });
/** Scaled ELU with the fixed constants of Klambauer et al. (scale ≈ 1.0507, alpha ≈ 1.6733), as Keras `'selu'`. */
export const selu = (x: Tensor): Tensor => unaryOp('selu', x);
/** Exact (erf) GELU, as Keras and PyTorch compute it by default. */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', x);
/** 1 / (1 + e^-x), element-wise. */
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
/** Hyperbolic tangent, element-wise. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
/** log(1 + e^x), element-wise; its gradient is sigmoid(x). */
export const softplus = (x: Tensor): Tensor => unaryOp('softplus', x);
/** x / (1 + |x|), element-wise. */
export const softsign = (x: Tensor): Tensor => unaryOp('softsign', x);
/** x * sigmoid(x). */
export const swish = (x: Tensor): Tensor => unaryOp('swish', x);
/** 1 where x > 0, else 0 (NaN stays NaN); no gradient. */
export const step = (x: Tensor): Tensor => unaryOp('step', x);
/** Rounds down to an integer, element-wise; no gradient. */
export const floor = (x: Tensor): Tensor => unaryOp('floor', x);
/** Rounds to the nearest integer, halves to even (as tf.round), element-wise; no gradient. */
export const round = (x: Tensor): Tensor => unaryOp('round', x);
/** The Gauss error function. */
export const erf = (x: Tensor): Tensor => unaryOp('erf', x);

/**
 * Clamps to [min, max]; the gradient passes where min <= x <= max.
 *
 * @throws Error if min > max.
 */
export function clip(x: Tensor, min: number, max: number): Tensor {
  assertNumber('clip', 'min', min, 'notNaN');
  assertNumber('clip', 'max', max, 'notNaN');
  if (!(min <= max)) throw new Error(`clip: min (${min}) must be <= max (${max})`);
  return unaryOp('clip', x, { alpha: min, beta: max });
}
/** Alias of {@link clip} (the TensorFlow.js name). */
export const clipByValue = clip;

/** Sums a broadcast gradient back down to the shape of the operand it came from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  assertTensor('sumToShape', g, 'g');
  if (shapesEqual(g.shape, shape)) return g;
  if (!shapesEqual(broadcastShapes('sumToShape', shape, g.shape), g.shape)) {
    throw new Error(`sumToShape: ${formatShape(shape)} does not broadcast to the gradient's shape ${formatShape(g.shape)}`);
  }
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(axes.length ? sum(g, axes) : g, shape);
}

function binaryOp(
  op: BinaryOp,
  aLike: TensorLike,
  bLike: TensorLike,
  gradients: ((a: Tensor, b: Tensor, y: Tensor, dy: Tensor) => [Tensor | null, Tensor | null]) | null,
): Tensor {
  const a = asTensor(aLike, op, 'a');
  const b = asTensor(bLike, op, 'b');
  const y = rawBinary(op, a, b, op);
  if (!gradients) return y;
  return recordOp(op, y, [a, b], (dy) => {
    const [da, db] = gradients(a, b, y, dy);
    return [da && a.requiresGrad ? sumToShape(da, a.shape) : null, db && b.requiresGrad ? sumToShape(db, b.shape) : null];
  });
}

/**
 * a + b, element-wise with NumPy broadcasting; numbers are float32 scalars.
 *
 * @example
 * ```ts
 * add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray(); // [[11, 22], [13, 24]]
 * add(x, 1); // x + 1
 * ```
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b, (_a, _b, _y, dy) => [dy, dy]);
/** a - b, element-wise with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b, (_a, _b, _y, dy) => [dy, neg(dy)]);
/** a * b, element-wise with broadcasting (not a matrix product: see {@link matmul}). */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', a, b, (x, w, _y, dy) => [mul(dy, w), mul(dy, x)]);
/** a / b, element-wise with broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('div', a, b, (_x, w, y, dy) => {
    const da = div(dy, w);
    return [da, neg(mul(da, y))];
  });
/** a^b; the gradient for b uses log(a) and is taken as 0 where a <= 0. */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('pow', a, b, (x, e, y, dy) => [
    x.requiresGrad ? mul(dy, mul(e, pow(x, sub(e, 1)))) : null,
    e.requiresGrad ? mul(dy, mul(y, where(greater(x, 0), log(maximum(x, 1e-30)), 0))) : null,
  ]);
/** The larger of a and b, element-wise with broadcasting; on ties the gradient goes to a. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', a, b, (x, w, _y, dy) => {
    const takeA = greaterEqual(x, w);
    return [mul(dy, takeA), mul(dy, sub(1, takeA))];
  });
/** The smaller of a and b, element-wise with broadcasting; on ties the gradient goes to a. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', a, b, (x, w, _y, dy) => {
    const takeA = lessEqual(x, w);
    return [mul(dy, takeA), mul(dy, sub(1, takeA))];
  });
/** (a - b)², element-wise with broadcasting. */
export const squaredDifference = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('squaredDifference', a, b, (x, w, _y, dy) => {
    const d = mul(dy, mul(sub(x, w), 2));
    return [d, neg(d)];
  });

/** 1 where a > b, else 0 (float32, broadcasting). Comparisons return float32 1/0 and carry no gradient. */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greater', a, b, null);
/** 1 where a >= b, else 0 (float32, broadcasting); no gradient. */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greaterEqual', a, b, null);
/** 1 where a < b, else 0 (float32, broadcasting); no gradient. */
export const less = (a: TensorLike, b: TensorLike): Tensor => binaryOp('less', a, b, null);
/** 1 where a <= b, else 0 (float32, broadcasting); no gradient. */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lessEqual', a, b, null);
/** 1 where a == b, else 0 (float32, broadcasting); no gradient. */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryOp('equal', a, b, null);
/** 1 where a != b, else 0 (float32, broadcasting); no gradient. */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('notEqual', a, b, null);

/** cond ? a : b element-wise (cond is true where it is not 0), with broadcasting of all three; no gradient to cond. */
export function where(condLike: TensorLike, aLike: TensorLike, bLike: TensorLike): Tensor {
  const cond = asFloat(asTensor(condLike, 'where', 'cond'));
  const a = asFloat(asTensor(aLike, 'where', 'a'));
  const b = asFloat(asTensor(bLike, 'where', 'b'));
  const outShape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const y = empty(outShape);
  kernels().select(buf(cond, 'where'), cond.shape, buf(a, 'where'), a.shape, buf(b, 'where'), b.shape, buf(y, 'where'), outShape);
  return recordOp('where', y, [a, b], (dy) => [
    a.requiresGrad ? sumToShape(where(cond, dy, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(cond, 0, dy), b.shape) : null,
  ]);
}

/**
 * Converts between float32 and int32 (truncating toward zero, as TensorFlow.js), without gradient to int32.
 *
 * @throws Error if dtype is not 'float32' or 'int32', or (to int32) a value is outside the int32 range
 *   (NaN and ±Infinity included): the kernel checks, so a value never wraps silently.
 */
export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  assertTensor('cast', x);
  assertDType('cast', dtype);
  if (x.dtype === dtype) return unaliased(x, 'cast');
  const y = empty(x.shape, dtype);
  kernels().cast(buf(x, 'cast'), x.dtype, buf(y, 'cast'), dtype);
  return y;
}
