/**
 * Element-wise binary ops and select with NumPy broadcasting. The broadcast
 * plan turns every case into runs `out[o + i] = a[ia + i*sa] op b[ib + i*sb]`;
 * each op has its own run loop so the op is inlined.
 */

import type { BinaryOp } from '@axon/tensor';
import { forEachRun, planBroadcast } from './broadcast.js';
import { ieeePow } from './math.js';
import { fail } from './validate.js';

type Run = (
  a: Float32Array,
  ia: number,
  sa: number,
  b: Float32Array,
  ib: number,
  sb: number,
  out: Float32Array,
  o: number,
  n: number,
) => void;

// Comparisons yield 1 or 0; with NaN every comparison but notEqual is false, as in IEEE 754.
const runs: Record<BinaryOp, Run> = {
  add: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] + b[ib];
  },
  sub: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] - b[ib];
  },
  mul: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] * b[ib];
  },
  div: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] / b[ib];
  },
  pow: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = ieeePow(a[ia], b[ib]);
  },
  maximum: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = Math.max(a[ia], b[ib]);
  },
  minimum: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = Math.min(a[ia], b[ib]);
  },
  squaredDifference: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) {
      const d = a[ia] - b[ib];
      out[o] = d * d;
    }
  },
  greater: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] > b[ib] ? 1 : 0;
  },
  greaterEqual: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] >= b[ib] ? 1 : 0;
  },
  less: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] < b[ib] ? 1 : 0;
  },
  lessEqual: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] <= b[ib] ? 1 : 0;
  },
  equal: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] === b[ib] ? 1 : 0;
  },
  notEqual: (a, ia, sa, b, ib, sb, out, o, n) => {
    for (let e = o + n; o < e; o++, ia += sa, ib += sb) out[o] = a[ia] !== b[ib] ? 1 : 0;
  },
};

export function binary(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  out: Float32Array,
  outShape: readonly number[],
): void {
  const run = Object.hasOwn(runs, op) ? runs[op] : undefined;
  if (!run) fail('binary', `unknown op '${String(op)}'; expected one of ${Object.keys(runs).join(', ')}`);
  const plan = planBroadcast(
    `binary '${op}'`,
    [
      { name: 'a', data: a, shape: aShape },
      { name: 'b', data: b, shape: bShape },
    ],
    'out',
    out,
    outShape,
  );
  const {
    inner,
    innerStrides: [sa, sb],
  } = plan;
  let o = 0;
  forEachRun(plan, ([ia, ib]) => {
    run(a, ia, sa, b, ib, sb, out, o, inner);
    o += inner;
  });
}

export function select(
  cond: Float32Array,
  condShape: readonly number[],
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  out: Float32Array,
  outShape: readonly number[],
): void {
  const plan = planBroadcast(
    'select',
    [
      { name: 'cond', data: cond, shape: condShape },
      { name: 'a', data: a, shape: aShape },
      { name: 'b', data: b, shape: bShape },
    ],
    'out',
    out,
    outShape,
  );
  const {
    inner,
    innerStrides: [sc, sa, sb],
  } = plan;
  let o = 0;
  forEachRun(plan, ([ic, ia, ib]) => {
    for (let e = o + inner; o < e; o++, ic += sc, ia += sa, ib += sb) out[o] = cond[ic] !== 0 ? a[ia] : b[ib];
  });
}
