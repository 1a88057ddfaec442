import { recordOp } from '../autograd.js';
import { broadcastShapes, formatShape, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sumToShape } from './elementwise.js';
import { broadcastTo, reshape } from './shape-ops.js';
import { asFloat, assertTensor, buf, empty, kernels } from './util.js';

/**
 * Batched matrix product op(a) · op(b) over the last two axes, with NumPy
 * broadcasting of the leading (batch) axes. A rank-1 operand is not promoted:
 * use reshape to make it a row or column.
 *
 * @param transposeA - Use a's last two axes transposed (op(a) = aᵀ).
 * @param transposeB - Use b's last two axes transposed (op(b) = bᵀ).
 * @returns [...batch, m, n] for op(a) [..., m, k] and op(b) [..., k, n].
 * @throws Error if an operand has rank < 2, the inner dimensions differ, or the batch axes
 *   do not broadcast.
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);        // [2, 2]
 * const b = tensor([[5], [6]]);              // [2, 1]
 * matmul(a, b).toArray();                    // [[17], [39]]
 * matmul(a, a, false, true).shape;           // a·aᵀ: [2, 2]
 * matmul(randomNormal([8, 3, 4]), randomNormal([4, 5])).shape; // [8, 3, 5]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  assertTensor('matmul', a, 'a');
  assertTensor('matmul', b, 'b');
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: both operands need rank >= 2, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const kb = transposeB ? bCols : bRows;
  const n = transposeB ? bRows : bCols;
  if (k !== kb) {
    throw new Error(
      `matmul: inner dimensions differ: a ${formatShape(a.shape)}${transposeA ? ' (transposed)' : ''} has ${k} columns, ` +
        `b ${formatShape(b.shape)}${transposeB ? ' (transposed)' : ''} has ${kb} rows`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul', aBatch, bBatch);
  const batch = sizeOf(batchShape);
  // The kernel broadcasts a whole operand (stride 0); partial batch broadcasting is materialised.
  const operand = (t: Tensor, own: readonly number[]): { values: unknown; stride: number } => {
    const matrixSize = t.shape[t.rank - 2]! * t.shape[t.rank - 1]!;
    const f = asFloat(t);
    if (sizeOf(own) === 1) return { values: buf(f, 'matmul'), stride: 0 };
    if (shapesEqual(own, batchShape)) return { values: buf(f, 'matmul'), stride: matrixSize };
    const full = broadcastTo(f, [...batchShape, ...t.shape.slice(-2)]);
    return { values: buf(full, 'matmul'), stride: matrixSize };
  };
  const av = operand(a, aBatch);
  const bv = operand(b, bBatch);
  const y = empty([...batchShape, m, n]);
  kernels().gemm(av.values, bv.values, buf(y, 'matmul'), batch, m, n, k, transposeA, transposeB, 1, 0, av.stride, bv.stride);
  return recordOp('matmul', y, [a, b], (dy) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = transposeA ? matmul(b, dy, transposeB, true) : matmul(dy, b, false, !transposeB);
      da = sumToShape(da, a.shape);
    }
    if (b.requiresGrad) {
      db = transposeB ? matmul(dy, a, true, transposeA) : matmul(a, dy, !transposeA, false);
      db = sumToShape(db, b.shape);
    }
    return [da, db];
  });
}

/** Flattens all leading axes into rows: [..., k] → [rows, k]. */
export function asMatrix(x: Tensor): Tensor {
  assertTensor('asMatrix', x);
  if (x.rank === 0) throw new Error('asMatrix: x must have at least one axis, got a scalar');
  // The row count spelled out, not -1: with a last axis of 0 it could be anything.
  const columns = x.shape[x.rank - 1]!;
  return reshape(x, [x.shape.slice(0, -1).reduce((a, b) => a * b, 1), columns]);
}
