/** Shape arithmetic shared by the ops. Errors name the op and both shapes. */

/** A tensor's dimensions, outermost first; [] is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape: the product of its dimensions (1 for []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A shape as the error messages print it, e.g. `[2,3]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Whether two shapes have the same rank and dimensions. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertValidShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) {
    throw new Error(
      `${op}: shape must be an array of non-negative integers, got ${shape === null ? 'null' : typeof shape} ${String(shape)}`,
    );
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid shape ${formatShape(shape)}: every dimension must be a non-negative integer`);
    }
  }
}

/**
 * The shape two shapes broadcast to: NumPy broadcasting, aligned from the right; a dimension of 1 stretches.
 *
 * @param op - Names the caller in the error message.
 * @throws Error if a pair of dimensions differ and neither is 1.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (axis ${i - rank}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Resolves a possibly negative axis against a rank (-1 is the last axis).
 *
 * @throws Error naming `op` if the axis is not an integer in [-rank, rank).
 */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (expected ${-rank} <= axis < ${rank})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Sorted unique non-negative axes; undefined means every axis.
 *
 * @throws Error naming `op` if an axis is out of range.
 */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const resolved = [...new Set(list.map((a) => normalizeAxis(op, a, rank)))];
  // normalizeAxis lets a scalar be addressed as axis 0; a scalar has no axis to reduce, so none is listed.
  if (rank === 0) return [];
  return resolved.sort((x, y) => x - y);
}

/** Product of shape[from..to). */
export function sizeBetween(shape: Shape, from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}
