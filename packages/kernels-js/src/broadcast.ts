/**
 * NumPy broadcasting as an iteration plan. Axes of size 1 in the output are
 * dropped and adjacent axes that every operand walks contiguously are merged,
 * so equal shapes become one flat run, a scalar operand a run with stride 0,
 * and a row or column broadcast a loop of long runs. The innermost axis is the
 * run; the others are walked by an odometer.
 */

import { checkLength, checkShape, fail } from './validate.js';

export interface Operand {
  name: string;
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface BroadcastPlan {
  /** Output elements; 0 means there is nothing to do. */
  size: number;
  /** Sizes of the outer (non-run) axes, outermost first. */
  outer: number[];
  /** strides[o][d]: element stride of operand o along outer axis d (0 where it is broadcast). */
  strides: number[][];
  /** Length of the innermost run. */
  inner: number;
  /** Stride of each operand along the run: 1, or 0 if broadcast (or the stride of a merged axis). */
  innerStrides: number[];
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function planBroadcast(
  kernel: string,
  operands: readonly Operand[],
  outName: string,
  out: ArrayLike<number>,
  outShape: readonly number[],
): BroadcastPlan {
  // Messages are built only on failure: this runs for every element-wise call.
  for (const o of operands) {
    const n = checkShape(kernel, o.name, o.shape);
    if (o.data.length !== n) checkLength(kernel, `${o.name} ${fmt(o.shape)}`, o.data, n);
  }
  const size = checkShape(kernel, outName, outShape);
  if (out.length !== size) checkLength(kernel, `${outName} ${fmt(outShape)}`, out, size);
  const rank = outShape.length;
  // Each operand must broadcast to the output, which may be larger than their common broadcast.
  for (const o of operands) {
    const lead = rank - o.shape.length;
    if (lead < 0 || o.shape.some((d, i) => d !== 1 && d !== outShape[lead + i])) {
      fail(kernel, `${o.name} shape ${fmt(o.shape)} does not broadcast to ${outName} shape ${fmt(outShape)}`);
    }
  }

  // The common cases, equal shapes and scalars, are one flat run (stride 1 or 0).
  if (operands.every((o) => o.data.length === size || o.data.length === 1)) {
    return {
      size,
      outer: [],
      strides: operands.map(() => []),
      inner: size,
      innerStrides: operands.map((o) => (o.data.length === size ? 1 : 0)),
    };
  }

  // Per-operand strides aligned to the output axes, dropping axes of size 1.
  const sizes: number[] = [];
  const strides: number[][] = operands.map(() => []);
  const running = operands.map(() => 1);
  const perAxis: number[][] = operands.map(() => new Array<number>(rank).fill(0));
  operands.forEach((o, k) => {
    for (let axis = rank - 1; axis >= 0; axis--) {
      const d = o.shape[o.shape.length - rank + axis] ?? 1;
      perAxis[k][axis] = d === 1 ? 0 : running[k];
      running[k] *= d;
    }
  });
  for (let axis = 0; axis < rank; axis++) {
    if (outShape[axis] === 1) continue;
    sizes.push(outShape[axis]);
    operands.forEach((_, k) => strides[k].push(perAxis[k][axis]));
  }

  // Merge axis d into d+1 where every operand steps over it as one longer run.
  for (let d = sizes.length - 2; d >= 0; d--) {
    if (strides.every((s) => s[d] === s[d + 1] * sizes[d + 1])) {
      sizes[d + 1] *= sizes[d];
      sizes.splice(d, 1);
      for (const s of strides) s.splice(d, 1);
    }
  }

  const inner = sizes.length > 0 ? sizes.pop()! : 1;
  const innerStrides = strides.map((s) => (s.length > 0 ? s.pop()! : 0));
  return { size, outer: sizes, strides, inner, innerStrides };
}

/** Calls visit(offsets) with each operand's start offset for every run, in output order. */
export function forEachRun(plan: BroadcastPlan, visit: (offsets: readonly number[]) => void): void {
  if (plan.size === 0) return;
  const { outer, strides } = plan;
  const rank = outer.length;
  const count = strides.length;
  const index = new Array<number>(rank).fill(0);
  const offsets = new Array<number>(count).fill(0);
  let runs = 1;
  for (const d of outer) runs *= d;
  for (let r = 0; r < runs; r++) {
    visit(offsets);
    for (let d = rank - 1; d >= 0; d--) {
      for (let k = 0; k < count; k++) offsets[k] += strides[k][d];
      if (++index[d] < outer[d]) break;
      for (let k = 0; k < count; k++) offsets[k] -= strides[k][d] * outer[d];
      index[d] = 0;
    }
  }
}
