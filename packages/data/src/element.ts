/**
 * The values a Dataset holds and how `batch` stacks them. An element is a leaf — a Tensor, a
 * number, a string, a Float32Array / Int32Array, or an array of numbers (nested to any depth) —
 * or an array / plain object of elements (`[x, y]`, `{ xs, ys }`), nested to any depth.
 */
import { Tensor, formatShape, stack, tensor } from '@axon/tensor';

/** An array of numbers nested to any depth (`[1, 2]`, `[[1, 2], [3, 4]]`): a tensor's values written out. */
export type NumberArray = readonly (number | NumberArray)[];

/** What a Dataset element may be: a leaf, or an array or plain object of elements. */
export type Element =
  | Tensor
  | number
  | string
  | Float32Array
  | Int32Array
  | NumberArray
  | readonly Element[]
  | { readonly [key: string]: Element };

/**
 * The type of a batch of `T`s, as {@link Dataset.batch} makes it: tensors, numbers, number arrays
 * and typed arrays become one Tensor with a new axis 0, strings a string array, and arrays and
 * objects keep their structure with each part batched.
 */
export type Batched<T> = T extends Tensor | number | Float32Array | Int32Array | NumberArray
  ? Tensor
  : T extends string
    ? string[]
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Batched<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T]: Batched<T[K]> }
        : never;

/** True when `x` is a number or an array of numbers nested to any depth (so a tensor's values, not a tuple). */
export function isNumberArray(x: unknown): x is NumberArray {
  return Array.isArray(x) && x.every((v) => typeof v === 'number' || isNumberArray(v));
}

/** True for `{...}` objects (not class instances such as tensors, typed arrays or dates). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** A short name of a value's kind, for error messages. */
export function kindOf(x: unknown): string {
  if (x instanceof Tensor) return `a ${x.dtype} Tensor ${formatShape(x.shape)}`;
  if (isNumberArray(x)) return 'a number array';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (x === null) return 'null';
  if (typeof x === 'object') return isPlainObject(x) ? 'an object' : `a ${x.constructor?.name ?? 'object'}`;
  return `a ${typeof x}`;
}

/** `.xs`, `[0].ys`: where in an element a part sits, for error messages ('' for the element itself). */
function at(path: string): string {
  return path === '' ? '' : ` at ${path}`;
}

/**
 * Calls `visit` on every leaf of `element` with its path (`.xs`, `[1]`).
 *
 * @throws Error naming `op` and the path when a part is not a valid element.
 */
export function forEachLeaf(op: string, element: unknown, visit: (leaf: unknown, path: string) => void, path = ''): void {
  if (isNumberArray(element) || isLeafValue(element)) {
    visit(element, path);
  } else if (Array.isArray(element)) {
    element.forEach((part, i) => forEachLeaf(op, part, visit, `${path}[${i}]`));
  } else if (isPlainObject(element)) {
    for (const [key, part] of Object.entries(element)) forEachLeaf(op, part, visit, `${path}.${key}`);
  } else {
    throw new Error(
      `${op}: ${kindOf(element)}${at(path)} is not a dataset element: expected a Tensor, a number, a string, a Float32Array or ` +
        'Int32Array, a number array, or an array or plain object of those',
    );
  }
}

function isLeafValue(x: unknown): boolean {
  return x instanceof Tensor || typeof x === 'number' || typeof x === 'string' || x instanceof Float32Array || x instanceof Int32Array;
}

/** The shape of a rectangular number array, or null when it is ragged. */
function numberArrayShape(x: number | NumberArray): number[] | null {
  if (typeof x === 'number') return [];
  if (x.length === 0) return [0];
  const inner = numberArrayShape(x[0]!);
  if (inner === null) return null;
  for (let i = 1; i < x.length; i++) {
    const s = numberArrayShape(x[i]!);
    if (s === null || s.length !== inner.length || s.some((d, j) => d !== inner[j])) return null;
  }
  return [x.length, ...inner];
}

/** Describes a leaf's kind and shape so that two leaves batch together exactly when their descriptions match. */
function leafSignature(op: string, leaf: unknown, index: number, path: string): string {
  if (leaf instanceof Tensor) return `a ${leaf.dtype} Tensor of shape ${formatShape(leaf.shape)}`;
  if (typeof leaf === 'number') return 'a number';
  if (typeof leaf === 'string') return 'a string';
  if (leaf instanceof Float32Array || leaf instanceof Int32Array) return `a ${leaf.constructor.name} of length ${leaf.length}`;
  const shape = numberArrayShape(leaf as NumberArray);
  if (shape === null) throw new Error(`${op}: element ${index}${at(path)} is a ragged number array (its rows differ in length)`);
  return `a number array of shape ${formatShape(shape)}`;
}

/** One batch of leaves that share a signature (checked by the caller). */
function batchLeaves(leaves: readonly unknown[]): Tensor | string[] {
  const first = leaves[0];
  if (first instanceof Tensor) {
    if (first.dtype === 'float32') return stack(leaves as Tensor[]);
    // @axon/tensor's layout ops (stack, slice) compute in float32, exact for integers only up to 2^24: int32 stacks on the host.
    const out = new Int32Array(leaves.length * first.size);
    leaves.forEach((leaf, i) => out.set((leaf as Tensor).intDataSync(), i * first.size));
    return tensor(out, [leaves.length, ...first.shape]);
  }
  if (typeof first === 'string') return [...(leaves as string[])];
  if (typeof first === 'number') return tensor(Float32Array.from(leaves as number[]), [leaves.length]);
  if (first instanceof Float32Array || first instanceof Int32Array) {
    const out = first instanceof Int32Array ? new Int32Array(leaves.length * first.length) : new Float32Array(leaves.length * first.length);
    leaves.forEach((leaf, i) => out.set(leaf as Float32Array | Int32Array, i * first.length));
    return tensor(out, [leaves.length, first.length]);
  }
  return tensor(leaves as NumberArray as number[]);
}

/**
 * Stacks `elements` (which must share one structure, and leaves of one kind and shape at each
 * place) into one batch: see {@link Batched}.
 *
 * @throws Error naming `op`, the first element that differs from element 0, where, and both
 *   kinds or shapes.
 */
export function batchElements<T>(op: string, elements: readonly T[]): Batched<T> {
  return batchAt(op, elements as readonly unknown[], '') as Batched<T>;
}

function batchAt(op: string, elements: readonly unknown[], path: string): unknown {
  const first = elements[0];
  const differs = (i: number, what: string, expected: string): Error =>
    new Error(`${op}: element ${i}${at(path)} is ${what}, but element 0${at(path)} is ${expected}`);
  if (isNumberArray(first) || isLeafValue(first)) {
    const signature = leafSignature(op, first, 0, path);
    elements.forEach((e, i) => {
      const s = isNumberArray(e) || isLeafValue(e) ? leafSignature(op, e, i, path) : kindOf(e);
      if (s !== signature) throw differs(i, s, signature);
    });
    return batchLeaves(elements);
  }
  if (Array.isArray(first)) {
    elements.forEach((e, i) => {
      if (!Array.isArray(e) || isNumberArray(e) || (e as unknown[]).length !== first.length) throw differs(i, kindOf(e), kindOf(first));
    });
    return first.map((_, k) =>
      batchAt(
        op,
        elements.map((e) => (e as unknown[])[k]),
        `${path}[${k}]`,
      ),
    );
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    const keyList = (o: object): string => `an object with keys {${Object.keys(o).join(', ')}}`;
    elements.forEach((e, i) => {
      if (!isPlainObject(e)) throw differs(i, kindOf(e), keyList(first));
      const k = Object.keys(e);
      if (k.length !== keys.length || keys.some((key) => !(key in e))) throw differs(i, keyList(e), keyList(first));
    });
    return Object.fromEntries(
      keys.map((key) => [
        key,
        batchAt(
          op,
          elements.map((e) => (e as Record<string, unknown>)[key]),
          `${path}.${key}`,
        ),
      ]),
    );
  }
  forEachLeaf(op, first, () => {}, path); // throws: not an element
  return undefined;
}
