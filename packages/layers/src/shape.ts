/**
 * Symbolic shapes of layers: like a tensor shape, but a dimension may be
 * `null` (unknown until data arrives, typically the batch dimension), as in
 * Keras and TensorFlow.js.
 */
export type Shape = (number | null)[];

/** `[null,28,28,1]`. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(',')}]`;
}

/** True when every known dimension of `actual` equals the corresponding known dimension of `expected`. */
export function shapeCompatible(expected: readonly (number | null)[], actual: readonly (number | null)[]): boolean {
  return expected.length === actual.length && expected.every((d, i) => d === null || actual[i] === null || d === actual[i]);
}

/** A layer with one input receives one shape; this unwraps it or names the layer in the error. */
export function singleShape(layer: string, shape: Shape | Shape[]): Shape {
  if (shape.length > 0 && Array.isArray(shape[0])) {
    const list = shape as Shape[];
    if (list.length !== 1) throw new Error(`Layer ${layer} expects a single input, got ${list.length} input shapes`);
    return list[0]!;
  }
  return shape as Shape;
}

/** True when `shape` is a list of shapes rather than one shape. */
export function isShapeList(shape: Shape | Shape[]): shape is Shape[] {
  return shape.length > 0 && Array.isArray(shape[0]);
}

/** Validates a user-given shape (positive integers, or null where allowed). */
export function checkShapeArg(layer: string, what: string, shape: unknown, allowNull = true): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => (d === null && allowNull) || (Number.isInteger(d) && (d as number) > 0))) {
    throw new Error(
      `Layer ${layer}: ${what} must be an array of positive integers${allowNull ? ' (or null)' : ''}, got ${JSON.stringify(shape)}`,
    );
  }
  return [...(shape as Shape)];
}

/** Product of the dimensions, or null when one is unknown. */
export function shapeSize(shape: readonly (number | null)[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Normalises `n` or `[a, b]` to a pair of positive integers, naming the layer and option in errors. */
export function normalizePair(layer: string, option: string, value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `Layer ${layer}: ${option} must be a positive integer or an array of 2 positive integers, got ${JSON.stringify(value)}`,
    );
  }
  return [pair[0] as number, pair[1] as number];
}
