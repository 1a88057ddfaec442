/**
 * Cheap argument checks at the kernel boundary. A wrong length is the most
 * common caller bug; catching it here turns silent NaNs (typed arrays read
 * `undefined` past their end) into an error that names the kernel.
 */

export function fail(kernel: string, message: string): never {
  throw new Error(`${kernel}: ${message}`);
}

export function checkLength(kernel: string, name: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) fail(kernel, `${name} has length ${array.length}, expected ${expected}`);
}

export function checkMinLength(kernel: string, name: string, array: ArrayLike<number>, needed: number): void {
  if (array.length < needed) fail(kernel, `${name} has length ${array.length}, needs at least ${needed}`);
}

/** Every value must be a non-negative integer (sizes, strides, counts). */
export function checkCounts(kernel: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 0) fail(kernel, `${name} must be a non-negative integer, got ${v}`);
  }
}

/** Every value must be a positive integer (strides, dilations). */
export function checkPositive(kernel: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 1) fail(kernel, `${name} must be a positive integer, got ${v}`);
  }
}

export function checkShape(kernel: string, name: string, shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) fail(kernel, `${name} [${shape.join(', ')}] has an invalid dimension ${d}`);
    size *= d;
  }
  return size;
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}
