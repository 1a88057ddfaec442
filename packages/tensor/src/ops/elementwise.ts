import { recordOp } from '../autograd.js';
import type { BinaryOp, UnaryOp, UnaryParams } from '../backend.js';
import { getBackend } from '../registry.js';
import { broadcastShapes, shapesEqual, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { asTensor, assertTensor, floatValues, newTensor, type TensorLike } from './util.js';
import { reshape } from './shape-ops.js';
import { sum } from './reduce.js';

function unaryOp(op: UnaryOp, x: Tensor, params?: UnaryParams): Tensor {
  assertTensor(op, x);
  const xv = floatValues(x);
  const { t: y, out } = newTensor(x.shape);
  getBackend().unary(op, xv, out, params);
  return recordOp(op, y, [x], (dy) => {
    const { t: dx, out: dxv } = newTensor(x.shape);
    getBackend().unaryGrad(op, xv, out, floatValues(dy), dxv, params);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
export const square = (x: Tensor): Tensor => unaryOp('square', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
export const relu6 = (x: Tensor): Tensor => unaryOp('relu6', x);
/** max(x, alpha*x); alpha defaults to 0.2 as tf.leakyRelu (the Keras LeakyReLU layer passes 0.3). */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unaryOp('leakyRelu', x, { alpha });
export const elu = (x: Tensor, alpha = 1): Tensor => unaryOp('elu', x, { alpha });
export const selu = (x: Tensor): Tensor => unaryOp('selu', x);
/** Exact (erf) GELU, as Keras and PyTorch compute it by default. */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const softplus = (x: Tensor): Tensor => unaryOp('softplus', x);
export const softsign = (x: Tensor): Tensor => unaryOp('softsign', x);
/** x * sigmoid(x). */
export const swish = (x: Tensor): Tensor => unaryOp('swish', x);
export const step = (x: Tensor): Tensor => unaryOp('step', x);
export const floor = (x: Tensor): Tensor => unaryOp('floor', x);
export const round = (x: Tensor): Tensor => unaryOp('round', x);

/** Clamps to [min, max]; the gradient passes where min <= x <= max. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  if (!(min <= max)) throw new Error(`clip: min (${min}) must be <= max (${max})`);
  return unaryOp('clip', x, { alpha: min, beta: max });
}
export const clipByValue = clip;

/** Sums a broadcast gradient back down to the shape of the operand it came from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(axes.length ? sum(g, axes) : g, shape);
}

function rawBinary(op: BinaryOp, a: Tensor, b: Tensor, name: string): { t: Tensor; out: Float32Array } {
  const outShape = broadcastShapes(name, a.shape, b.shape);
  const result = newTensor(outShape);
  getBackend().binary(op, floatValues(a), a.shape, floatValues(b), b.shape, result.out, outShape);
  return result;
}

function binaryOp(
  op: BinaryOp,
  aLike: TensorLike,
  bLike: TensorLike,
  gradients: ((a: Tensor, b: Tensor, y: Tensor, dy: Tensor) => [Tensor | null, Tensor | null]) | null,
): Tensor {
  const a = asTensor(aLike);
  const b = asTensor(bLike);
  const { t: y } = rawBinary(op, a, b, op);
  if (!gradients) return y;
  return recordOp(op, y, [a, b], (dy) => {
    const [da, db] = gradients(a, b, y, dy);
    return [
      da && a.requiresGrad ? sumToShape(da, a.shape) : null,
      db && b.requiresGrad ? sumToShape(db, b.shape) : null,
    ];
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b, (_a, _b, _y, dy) => [dy, dy]);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b, (_a, _b, _y, dy) => [dy, neg(dy)]);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', a, b, (x, w, _y, dy) => [mul(dy, w), mul(dy, x)]);
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
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', a, b, (x, w, _y, dy) => {
    const takeA = greaterEqual(x, w);
    return [mul(dy, takeA), mul(dy, sub(1, takeA))];
  });
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', a, b, (x, w, _y, dy) => {
    const takeA = lessEqual(x, w);
    return [mul(dy, takeA), mul(dy, sub(1, takeA))];
  });
export const squaredDifference = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('squaredDifference', a, b, (x, w, _y, dy) => {
    const d = mul(dy, mul(sub(x, w), 2));
    return [d, neg(d)];
  });

/** Comparisons return float32 1/0 and carry no gradient. */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greater', a, b, null);
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greaterEqual', a, b, null);
export const less = (a: TensorLike, b: TensorLike): Tensor => binaryOp('less', a, b, null);
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lessEqual', a, b, null);
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryOp('equal', a, b, null);
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('notEqual', a, b, null);

/** cond ? a : b element-wise, with broadcasting of all three. */
export function where(condLike: TensorLike, aLike: TensorLike, bLike: TensorLike): Tensor {
  const cond = asTensor(condLike);
  const a = asTensor(aLike);
  const b = asTensor(bLike);
  const outShape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const { t: y, out } = newTensor(outShape);
  getBackend().select(floatValues(cond), cond.shape, floatValues(a), a.shape, floatValues(b), b.shape, out, outShape);
  return recordOp('where', y, [a, b], (dy) => [
    a.requiresGrad ? sumToShape(where(cond, dy, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(cond, 0, dy), b.shape) : null,
  ]);
}

/** Converts between float32 and int32 (truncating toward zero), without gradient to int32. */
export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  if (x.dtype === dtype) return x;
  if (dtype === 'int32') return new Tensor(Int32Array.from(x.values, Math.trunc), x.shape, 'int32');
  return new Tensor(Float32Array.from(x.values), x.shape, 'float32');
}
