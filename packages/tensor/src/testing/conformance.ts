/**
 * The kernel conformance suite: one list of cases that every Backend must
 * pass. Each case runs a kernel of the backend under test and of the naive
 * reference backend on identical, seeded random inputs, and compares outputs
 * (and in-place state) within a tolerance. Framework-agnostic: a case throws
 * on failure, so a backend's test file only loops over the cases:
 *
 *   for (const c of conformanceCases) it(c.name, () => c.run(createMyBackend()));
 *
 * Cases marked "views" pass every array as a subarray with a nonzero
 * byteOffset inside a larger buffer whose surrounding cells hold a sentinel,
 * and fail if a kernel reads or writes outside its views.
 */

import {
  KERNEL_NAMES,
  type AnyBackend,
  type BinaryOp,
  type Conv2DInfo,
  type FusedActivation,
  type KernelName,
  type Kernels,
  type Pool2DInfo,
  type ReduceOp,
  type UnaryOp,
  type UnaryParams,
} from '../backend.js';
import { Rng, createReferenceBackend, seedFrom } from './reference.js';
import { hostKernels } from './simulated.js';

export {
  Rng,
  createReferenceBackend,
  referenceErf,
  referenceErfc,
  referenceUnary,
  referenceUnaryDerivative,
  seedFrom,
} from './reference.js';

/**
 * One kernel conformance check. Framework-agnostic: `run` throws on failure.
 *
 * @example
 * ```ts
 * import { conformanceCasesFor } from '@axon/tensor/testing';
 * for (const c of conformanceCasesFor(backend)) it(c.name, () => c.run(backend));
 * ```
 */
export interface ConformanceCase {
  /** A description starting with the kernel's name (the test's title). */
  name: string;
  /** The kernel the case checks: a backend without it skips the case (its ops use another backend's). */
  kernel: KernelName;
  /** Runs the case on a backend of any device (host arrays are copied to and from it). */
  run(backend: AnyBackend): void;
}

/** How close a result must be: |actual - expected| <= atol + rtol·|expected|. */
export interface Tolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
}

const fmt = (values: ArrayLike<number>): string => `[${Array.from(values).join(', ')}]`;

/**
 * Throws unless |actual - expected| <= atol + rtol * |expected| element-wise.
 * NaN matches only NaN and an infinity only the same infinity. The message
 * says how many values differ, the first and the worst.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: got ${actual.length} values, expected ${expected.length}`);
  }
  let bad = 0;
  let first = -1;
  let worst = -1;
  let worstError = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ok: boolean;
    if (Number.isNaN(e)) ok = Number.isNaN(a);
    else if (!Number.isFinite(e)) ok = a === e;
    else ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (ok) continue;
    bad++;
    if (first < 0) first = i;
    const error = Number.isFinite(a - e) ? Math.abs(a - e) : Infinity;
    if (error > worstError) {
      worstError = error;
      worst = i;
    }
  }
  if (bad === 0) return;
  const shown = actual.length <= 12 ? `; got ${fmt(actual)}, expected ${fmt(expected)}` : '';
  throw new Error(
    `${what}: ${bad} of ${actual.length} values differ beyond rtol ${rtol}, atol ${atol}; ` +
      `first at [${first}]: got ${actual[first]}, expected ${expected[first]}; ` +
      `worst at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}${shown}`,
  );
}

/** Throws unless fn throws an Error whose message mentions every string in `mentions`. */
export function assertThrows(what: string, fn: () => void, mentions: readonly string[] = []): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error))
    throw new Error(`${what}: expected an Error to be thrown, ${error === undefined ? 'nothing was' : `got ${String(error)}`}`);
  for (const m of mentions) {
    if (!error.message.includes(m)) throw new Error(`${what}: the error "${error.message}" should mention "${m}"`);
  }
}

// ---------------------------------------------------------------- test arrays

/** Value of the cells around a view; exactly representable as float32 and int32. */
const SENTINEL = -7777;
const VIEW_BEFORE = 5;
const VIEW_AFTER = 3;

interface Guard {
  name: string;
  base: Float32Array | Int32Array;
  length: number;
}

/**
 * Makes the arrays of one kernel call from a seeded Rng. With `views`, each is
 * a subarray at a nonzero byteOffset of a larger buffer, and checkGuards()
 * verifies that the cells around every view were left alone.
 */
class Arrays {
  private readonly guards: Guard[] = [];

  constructor(
    readonly rng: Rng,
    readonly views: boolean,
  ) {}

  private placeFloat(name: string, data: Float32Array): Float32Array {
    if (!this.views) return data;
    const base = new Float32Array(VIEW_BEFORE + data.length + VIEW_AFTER).fill(SENTINEL);
    base.set(data, VIEW_BEFORE);
    this.guards.push({ name, base, length: data.length });
    return base.subarray(VIEW_BEFORE, VIEW_BEFORE + data.length);
  }

  private placeInt(name: string, data: Int32Array): Int32Array {
    if (!this.views) return data;
    const base = new Int32Array(VIEW_BEFORE + data.length + VIEW_AFTER).fill(SENTINEL);
    base.set(data, VIEW_BEFORE);
    this.guards.push({ name, base, length: data.length });
    return base.subarray(VIEW_BEFORE, VIEW_BEFORE + data.length);
  }

  floats(name: string, n: number, low = -1, high = 1): Float32Array {
    return this.placeFloat(name, this.rng.floats(n, low, high));
  }

  /** Random integers stored as floats: ties are certain, for comparisons, argmax and max pooling. */
  integers(name: string, n: number, low: number, high: number): Float32Array {
    return this.placeFloat(name, Float32Array.from(this.rng.ints(n, low, high)));
  }

  values(name: string, values: readonly number[]): Float32Array {
    return this.placeFloat(name, Float32Array.from(values));
  }

  filled(name: string, n: number, value: number): Float32Array {
    return this.placeFloat(name, new Float32Array(n).fill(value));
  }

  ints(name: string, n: number, low: number, high: number): Int32Array {
    return this.placeInt(name, this.rng.ints(n, low, high));
  }

  intValues(name: string, values: readonly number[]): Int32Array {
    return this.placeInt(name, Int32Array.from(values));
  }

  checkGuards(what: string): void {
    for (const { name, base, length } of this.guards) {
      for (let i = 0; i < base.length; i++) {
        if (i >= VIEW_BEFORE && i < VIEW_BEFORE + length) continue;
        if (base[i] !== SENTINEL) {
          const where = i < VIEW_BEFORE ? `${VIEW_BEFORE - i} before` : `${i - VIEW_BEFORE - length + 1} past the end of`;
          throw new Error(`${what}: a cell ${where} the view ${name} was changed (to ${base[i]})`);
        }
      }
    }
  }
}

const reference = createReferenceBackend() as unknown as Kernels;

/**
 * Runs `call` on the backend under test and on the reference, each with its
 * own arrays made by `make` from the same seed, then compares the arrays
 * `outputs` picks (outputs, and any state updated in place).
 */
function differential<T>(
  backend: Kernels,
  what: string,
  views: boolean,
  make: (f: Arrays) => T,
  call: (b: Kernels, args: T) => void,
  outputs: (args: T) => Record<string, ArrayLike<number>>,
  tolerance: Tolerance,
): void {
  const seed = seedFrom(what);
  const mineArrays = new Arrays(new Rng(seed), views);
  const mine = make(mineArrays);
  const theirs = make(new Arrays(new Rng(seed), false));
  call(backend, mine);
  call(reference, theirs);
  const expected = outputs(theirs);
  for (const [name, actual] of Object.entries(outputs(mine))) {
    assertClose(actual, expected[name], tolerance.rtol, tolerance.atol, `${what}: ${name}`);
  }
  mineArrays.checkGuards(what);
}

/**
 * Every kernel conformance case, comparing a backend with the reference backend on seeded
 * random inputs (see the module comment). {@link conformanceCasesFor} picks the ones a backend can run.
 */
export const conformanceCases: ConformanceCase[] = [];

/** The kernel a case name is about: its first word ('known values: gemm ...' → gemm; logSoftmax → softmax). */
function kernelOf(name: string): KernelName {
  const word = name.replace(/^known values: /, '').split(/[ (,]/)[0]!;
  const kernel = word === 'logSoftmax' ? 'softmax' : word;
  if (!(KERNEL_NAMES as string[]).includes(kernel)) throw new Error(`conformance case '${name}' does not start with a kernel name`);
  return kernel as KernelName;
}

function add(name: string, run: (kernels: Kernels) => void): void {
  const kernel = kernelOf(name);
  conformanceCases.push({ name, kernel, run: (backend) => run(hostKernels(backend) as Kernels) });
}

/** The cases for the kernels `backend` implements. */
export function conformanceCasesFor(backend: AnyBackend): ConformanceCase[] {
  return conformanceCases.filter((c) => typeof backend[c.kernel] === 'function');
}

/** Float32 inputs, float64 accumulation in the reference: error grows with the length k of each dot product. */
function dotTolerance(k: number): Tolerance {
  return { rtol: 1e-4, atol: 2e-6 * (k + 1) };
}

const ELEMENTWISE: Tolerance = { rtol: 1e-5, atol: 1e-6 };
const EXACT: Tolerance = { rtol: 0, atol: 0 };

// ---------------------------------------------------------------- fill & cast

for (const [dtype, value] of [
  ['float32', 0],
  ['float32', -2.5],
  ['float32', NaN],
  ['int32', 7],
  ['int32', 0],
] as const) {
  for (const n of [0, 1, 1000]) {
    add(`fill ${dtype} n=${n} with ${value}`, (backend) => {
      const base = dtype === 'int32' ? new Int32Array(n + 3).fill(-7) : new Float32Array(n + 3).fill(-7);
      const out = base.subarray(1, n + 1);
      backend.fill(out, value);
      assertClose(out, new Array<number>(n).fill(value), 0, 0, `fill ${dtype} with ${value}`);
      assertClose([base[0]!, base[n + 1]!, base[n + 2]!], [-7, -7, -7], 0, 0, `fill ${dtype}: the cells around the view`);
    });
  }
}

const CAST_VALUES = [0, -0, 1.5, -1.5, 2.999, -2.999, 1e6, -7, 123456];
add('cast float32 to int32 truncates toward zero, int32 to float32, and copies within a type', (backend) => {
  const floats = Float32Array.from(CAST_VALUES);
  const ints = new Int32Array(floats.length).fill(-9);
  backend.cast(floats, 'float32', ints, 'int32');
  assertClose(ints, CAST_VALUES.map(Math.trunc), 0, 0, 'cast float32 -> int32');
  const back = new Float32Array(ints.length).fill(NaN);
  backend.cast(ints, 'int32', back, 'float32');
  assertClose(back, CAST_VALUES.map(Math.trunc), 0, 0, 'cast int32 -> float32');
  const copy = new Float32Array(floats.length).fill(NaN);
  backend.cast(floats, 'float32', copy, 'float32');
  assertClose(copy, floats, 0, 0, 'cast float32 -> float32 (copy)');
  const intCopy = new Int32Array(ints.length);
  backend.cast(ints, 'int32', intCopy, 'int32');
  assertClose(intCopy, ints, 0, 0, 'cast int32 -> int32 (copy)');
});

add('cast float32 to int32 keeps the ends of the int32 range and refuses what lies beyond (never wraps)', (backend) => {
  // -2^31 and the largest float32 below 2^31 fit; 2^31, 3e9 and the non-finite values do not.
  const ends = Float32Array.of(-2147483648, 2147483520, -2147483520.5);
  const ints = new Int32Array(ends.length);
  backend.cast(ends, 'float32', ints, 'int32');
  assertClose(ints, [-2147483648, 2147483520, -2147483520], 0, 0, 'cast of the int32 range ends');
  for (const value of [2147483648, 3e9, -3e9, NaN, Infinity, -Infinity]) {
    const floats = Float32Array.of(1, value);
    assertThrows(`cast of ${value} to int32`, () => backend.cast(floats, 'float32', new Int32Array(2), 'int32'), [
      'cast',
      'index 1',
      'int32 range',
    ]);
  }
});

// ---------------------------------------------------------------- gemm

interface GemmSpec {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** 'shared': stride 0 (one matrix for every batch entry); 'gap': stride larger than the matrix. */
  strideA?: 'dense' | 'shared' | 'gap';
  strideB?: 'dense' | 'shared' | 'gap';
  views?: boolean;
}

function gemmCase(spec: GemmSpec): void {
  const { batch, m, n, k, transA = false, transB = false, alpha = 1, beta = 0, strideA = 'dense', strideB = 'dense', views = false } = spec;
  const name =
    `gemm batch ${batch} m${m} n${n} k${k}` +
    `${transA ? ' transA' : ''}${transB ? ' transB' : ''} alpha ${alpha} beta ${beta}` +
    `${strideA !== 'dense' ? ` strideA ${strideA}` : ''}${strideB !== 'dense' ? ` strideB ${strideB}` : ''}${views ? ' views' : ''}`;
  const stride = (mode: string, size: number): number => (mode === 'shared' ? 0 : mode === 'gap' ? size + 3 : size);
  const sA = stride(strideA, m * k);
  const sB = stride(strideB, k * n);
  const length = (s: number, size: number): number => (batch > 0 ? (batch - 1) * s + size : 0);
  add(name, (backend) =>
    differential(
      backend,
      name,
      views,
      (f) => ({
        a: f.floats('a', length(sA, m * k)),
        b: f.floats('b', length(sB, k * n)),
        // beta = 0 must ignore whatever C holds, NaN included.
        c: beta === 0 ? f.filled('c', batch * m * n, NaN) : f.floats('c', batch * m * n),
      }),
      (bk, t) => bk.gemm(t.a, t.b, t.c, batch, m, n, k, transA, transB, alpha, beta, sA, sB),
      (t) => ({ c: t.c }),
      dotTolerance(k),
    ),
  );
}

for (const [transA, transB] of [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const) {
  for (const [m, n, k] of [
    [1, 1, 1],
    [7, 13, 5],
    [13, 7, 5],
    [33, 17, 65],
    [1, 37, 19],
    [23, 1, 41],
    [4, 4, 1],
  ]) {
    gemmCase({ batch: 1, m, n, k, transA, transB });
  }
  gemmCase({ batch: 1, m: 7, n: 13, k: 5, transA, transB, alpha: -0.5, beta: 0.25 });
  gemmCase({ batch: 2, m: 13, n: 9, k: 300, transA, transB, alpha: 2, beta: 1 });
  gemmCase({ batch: 3, m: 5, n: 6, k: 7, transA, transB, strideA: 'shared' });
  gemmCase({ batch: 3, m: 5, n: 6, k: 7, transA, transB, strideB: 'shared', beta: 1 });
  gemmCase({ batch: 3, m: 6, n: 5, k: 4, transA, transB, strideA: 'gap', strideB: 'gap', alpha: 0.5, beta: -1 });
  gemmCase({ batch: 2, m: 1, n: 9, k: 6, transA, transB, strideB: 'shared' });
  gemmCase({ batch: 2, m: 9, n: 1, k: 6, transA, transB, strideA: 'shared' });
}
// k = 0: C = beta * C; empty batches and empty matrices.
gemmCase({ batch: 1, m: 4, n: 5, k: 0 });
gemmCase({ batch: 2, m: 4, n: 5, k: 0, beta: 0.5 });
gemmCase({ batch: 0, m: 3, n: 4, k: 5 });
gemmCase({ batch: 2, m: 0, n: 5, k: 3 });
gemmCase({ batch: 2, m: 4, n: 0, k: 3 });
gemmCase({ batch: 4, m: 3, n: 5, k: 2, strideA: 'shared', strideB: 'shared' });
gemmCase({ batch: 1, m: 6, n: 7, k: 8, alpha: 0, beta: 0.5 });
// Across cache-blocking boundaries of typical implementations (blocks of 64-256 along m and k, 2048 along n).
gemmCase({ batch: 1, m: 100, n: 37, k: 300 });
gemmCase({ batch: 1, m: 97, n: 9, k: 257, transA: true, transB: true, beta: 1 });
gemmCase({ batch: 1, m: 5, n: 2100, k: 3 });
gemmCase({ batch: 1, m: 130, n: 130, k: 130, transB: true, alpha: 0.1, beta: 0.9 });
gemmCase({ batch: 2, m: 7, n: 13, k: 5, views: true });
gemmCase({ batch: 2, m: 7, n: 13, k: 5, transA: true, transB: true, beta: 1, views: true });
gemmCase({ batch: 3, m: 1, n: 13, k: 5, strideB: 'shared', beta: 1, views: true });

add('gemm rejects a c of the wrong length', (backend) => {
  assertThrows('gemm with c too short', () =>
    backend.gemm(new Float32Array(6), new Float32Array(6), new Float32Array(3), 1, 2, 2, 3, false, false, 1, 0, 6, 6),
  );
});

// ---------------------------------------------------------------- unary

const UNARY_OPS: readonly UnaryOp[] = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'abs',
  'sign',
  'reciprocal',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'gelu',
  'sigmoid',
  'tanh',
  'softplus',
  'softsign',
  'swish',
  'clip',
  'step',
  'floor',
  'round',
  'erf',
];

/** Ops defined only for positive inputs get positive random inputs. */
const POSITIVE_DOMAIN = new Set<UnaryOp>(['log', 'sqrt', 'rsqrt']);

/** Kinks, rounding halves, saturation and overflow regions, NaN. */
const SPECIAL_VALUES = [0, -0, 1e-7, -1e-7, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 6, 5.999, 6.001, -6, 20, -20, 100, -100, 1e4, -1e4, NaN];
const POSITIVE_SPECIAL_VALUES = [0, 1e-30, 1e-7, 0.25, 1, 4, 1e4, 1e30, -1, NaN];

function unaryInputs(f: Arrays, op: UnaryOp, n: number, special: boolean): Float32Array {
  if (special) return f.values('x', POSITIVE_DOMAIN.has(op) ? POSITIVE_SPECIAL_VALUES : SPECIAL_VALUES);
  return POSITIVE_DOMAIN.has(op) ? f.floats('x', n, 0.05, 5) : f.floats('x', n, -5, 5);
}

function unaryCase(
  op: UnaryOp,
  params: UnaryParams | undefined,
  opts: { special?: boolean; views?: boolean; inPlace?: boolean } = {},
): void {
  const label = `${op}${params ? ` ${JSON.stringify(params)}` : ''}${opts.special ? ' special values' : ''}${opts.views ? ' views' : ''}${opts.inPlace ? ' in place' : ''}`;
  const n = 257;
  add(`unary ${label}`, (backend) =>
    differential(
      backend,
      `unary ${label}`,
      opts.views ?? false,
      (f) => {
        const x = unaryInputs(f, op, n, opts.special ?? false);
        return { x, y: opts.inPlace ? x : f.filled('y', x.length, NaN) };
      },
      (b, t) => b.unary(op, t.x, t.y, params),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    ),
  );
}

for (const op of UNARY_OPS) {
  unaryCase(op, undefined);
  unaryCase(op, undefined, { special: true });
}
unaryCase('leakyRelu', { alpha: 0.1 });
unaryCase('elu', { alpha: 0.5 }, { special: true });
unaryCase('clip', { alpha: -0.5, beta: 2 });
unaryCase('clip', { alpha: -0.5, beta: 2 }, { special: true });
unaryCase('clip', { alpha: 0, beta: 6 }, { special: true });
unaryCase('gelu', undefined, { views: true });
unaryCase('sigmoid', undefined, { inPlace: true });
unaryCase('relu', undefined, { inPlace: true, views: true });

/** Ops with a well-defined value at ±Infinity (gelu, swish, softsign are left out: x·0 there is NaN in plain float math). */
const INFINITY_SAFE: readonly UnaryOp[] = [
  'neg',
  'exp',
  'sqrt',
  'square',
  'abs',
  'sign',
  'reciprocal',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softplus',
  'clip',
  'step',
  'floor',
  'round',
  'erf',
];
add(`unary at ±Infinity (${INFINITY_SAFE.length} ops)`, (backend) => {
  for (const op of INFINITY_SAFE) {
    const params = op === 'clip' ? { alpha: -1, beta: 1 } : undefined;
    differential(
      backend,
      `unary ${op} at ±Infinity`,
      false,
      (f) => ({ x: f.values('x', [Infinity, -Infinity, 1]), y: f.filled('y', 3, NaN) }),
      (b, t) => b.unary(op, t.x, t.y, params),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    );
  }
});

add('unary rejects mismatched lengths', (backend) => {
  assertThrows('unary relu with y shorter than x', () => backend.unary('relu', new Float32Array(4), new Float32Array(3)));
});

// ---------------------------------------------------------------- binary & select

/** Every element-wise binary op of the Backend contract (the suites and fuzzers iterate over it). */
export const BINARY_OPS: readonly BinaryOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'squaredDifference',
  'greater',
  'greaterEqual',
  'less',
  'lessEqual',
  'equal',
  'notEqual',
];
const COMPARISONS = new Set<BinaryOp>(['greater', 'greaterEqual', 'less', 'lessEqual', 'equal', 'notEqual', 'maximum', 'minimum']);

/** [aShape, bShape, outShape]: equal shapes, scalars, rows, columns, outer products, rank mismatch, empty. */
const BROADCASTS: readonly (readonly [number[], number[], number[]])[] = [
  [
    [3, 4],
    [3, 4],
    [3, 4],
  ],
  [[], [2, 3], [2, 3]],
  [[2, 3], [], [2, 3]],
  [[2, 3], [1], [2, 3]],
  [[1], [1], [1]],
  [[], [], []],
  [
    [4, 1],
    [1, 5],
    [4, 5],
  ],
  [
    [1, 5],
    [4, 1],
    [4, 5],
  ],
  [[2, 3, 4], [4], [2, 3, 4]],
  [
    [2, 3, 4],
    [3, 1],
    [2, 3, 4],
  ],
  [
    [2, 1, 4],
    [3, 1],
    [2, 3, 4],
  ],
  [[5], [2, 3, 5], [2, 3, 5]],
  [
    [2, 1, 3, 1],
    [1, 4, 1, 5],
    [2, 4, 3, 5],
  ],
  [
    [0, 3],
    [1, 3],
    [0, 3],
  ],
  [
    [3, 0],
    [3, 1],
    [3, 0],
  ],
  [
    [1, 1, 7],
    [6, 1, 1],
    [6, 1, 7],
  ],
];

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function binaryOperand(f: Arrays, op: BinaryOp, name: 'a' | 'b', n: number): Float32Array {
  if (COMPARISONS.has(op)) return f.integers(name, n, -2, 3);
  if (op === 'pow') return name === 'a' ? f.floats(name, n, 0.1, 3) : f.floats(name, n, -3, 3);
  if (op === 'div' && name === 'b') return f.floats(name, n, 0.5, 2);
  return f.floats(name, n, -3, 3);
}

for (const op of BINARY_OPS) {
  for (const views of [false, true]) {
    const what = `binary ${op} over ${BROADCASTS.length} broadcasting shape pairs${views ? ' views' : ''}`;
    add(what, (backend) => {
      for (const [aShape, bShape, outShape] of BROADCASTS) {
        differential(
          backend,
          `binary ${op} ${fmt(aShape)} with ${fmt(bShape)} -> ${fmt(outShape)}`,
          views,
          (f) => ({
            a: binaryOperand(f, op, 'a', sizeOf(aShape)),
            b: binaryOperand(f, op, 'b', sizeOf(bShape)),
            out: f.filled('out', sizeOf(outShape), NaN),
          }),
          (b, t) => b.binary(op, t.a, aShape, t.b, bShape, t.out, outShape),
          (t) => ({ out: t.out }),
          ELEMENTWISE,
        );
      }
    });
  }
  // pow is left out: C's pow(1, NaN) = 1 where JavaScript's Math.pow gives NaN, and neither is wrong enough to pin down.
  if (op === 'pow') continue;
  add(`binary ${op} with NaN and infinities`, (backend) => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, -2];
    const a = special.flatMap((v) => special.map(() => v));
    const b = special.flatMap(() => special);
    differential(
      backend,
      `binary ${op} with NaN and infinities`,
      false,
      (f) => ({ a: f.values('a', a), b: f.values('b', b), out: f.filled('out', a.length, 0) }),
      (bk, t) => bk.binary(op, t.a, [a.length], t.b, [b.length], t.out, [a.length]),
      (t) => ({ out: t.out }),
      ELEMENTWISE,
    );
  });
}

add('binary add in place (out is a)', (backend) =>
  differential(
    backend,
    'binary add in place',
    false,
    (f) => {
      const a = f.floats('a', 24);
      return { a, b: f.floats('b', 4), out: a };
    },
    (b, t) => b.binary('add', t.a, [6, 4], t.b, [4], t.out, [6, 4]),
    (t) => ({ out: t.out }),
    ELEMENTWISE,
  ),
);

/** Outputs larger than the operands' broadcast: the result repeats (how broadcastTo runs). */
const STRETCHED: readonly (readonly [number[], number[], number[]])[] = [
  [[3], [], [4, 3]],
  [[], [], [2, 3]],
  [[2, 1], [1], [5, 2, 4]],
  [
    [1, 3],
    [1, 1],
    [2, 4, 3],
  ],
];
add(`binary mul with outputs larger than the operands' broadcast`, (backend) => {
  for (const [aShape, bShape, outShape] of STRETCHED) {
    differential(
      backend,
      `binary mul ${fmt(aShape)} with ${fmt(bShape)} -> ${fmt(outShape)}`,
      true,
      (f) => ({ a: f.floats('a', sizeOf(aShape)), b: f.floats('b', sizeOf(bShape)), out: f.filled('out', sizeOf(outShape), NaN) }),
      (b, t) => b.binary('mul', t.a, aShape, t.b, bShape, t.out, outShape),
      (t) => ({ out: t.out }),
      ELEMENTWISE,
    );
  }
});

add('binary rejects shapes that do not broadcast', (backend) => {
  assertThrows('binary add [2, 3] with [4]', () =>
    backend.binary('add', new Float32Array(6), [2, 3], new Float32Array(4), [4], new Float32Array(6), [2, 3]),
  );
});

const SELECTS: readonly (readonly [number[], number[], number[], number[]])[] = [
  [
    [2, 3],
    [2, 3],
    [2, 3],
    [2, 3],
  ],
  [[2, 1], [1, 3], [], [2, 3]],
  [[3], [2, 3], [2, 3], [2, 3]],
  [[], [4], [4], [4]],
  [[2, 1, 4], [3, 1], [1], [2, 3, 4]],
  [[0, 2], [2], [1, 2], [0, 2]],
];

for (const views of [false, true]) {
  add(`select over ${SELECTS.length} broadcasting shapes${views ? ' views' : ''}`, (backend) => {
    for (const [condShape, aShape, bShape, outShape] of SELECTS) {
      differential(
        backend,
        `select ${fmt(condShape)} ${fmt(aShape)} ${fmt(bShape)} -> ${fmt(outShape)}`,
        views,
        (f) => ({
          // Conditions include 0, -0 (false) and nonzero, NaN (true).
          cond: f.values(
            'cond',
            Array.from(f.rng.ints(sizeOf(condShape), 0, 5), (i) => [0, -0, 1, -0.5, NaN][i]),
          ),
          a: f.floats('a', sizeOf(aShape)),
          b: f.floats('b', sizeOf(bShape)),
          out: f.filled('out', sizeOf(outShape), NaN),
        }),
        (b, t) => b.select(t.cond, condShape, t.a, aShape, t.b, bShape, t.out, outShape),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
}

// ---------------------------------------------------------------- reductions & softmax

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod'];
/** [outer, size, inner], including empty outer, empty axis and long axes. */
const REDUCE_SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [3, 7, 1],
  [2, 5, 4],
  [4, 1, 3],
  [1, 1000, 1],
  [3, 64, 17],
  [0, 3, 2],
  [2, 0, 3],
  [2, 3, 0],
  [0, 0, 0],
];

for (const op of REDUCE_OPS) {
  for (const [outer, size, inner] of REDUCE_SHAPES) {
    for (const views of inner === 4 ? [false, true] : [false]) {
      const what = `reduce ${op} [${outer}, ${size}, ${inner}]${views ? ' views' : ''}`;
      add(what, (backend) =>
        differential(
          backend,
          what,
          views,
          (f) => ({
            // prod over long axes stays in range with factors near 1.
            x: op === 'prod' ? f.floats('x', outer * size * inner, 0.9, 1.1) : f.floats('x', outer * size * inner, -2, 2),
            out: f.filled('out', outer * inner, 123),
          }),
          (b, t) => b.reduce(op, t.x, t.out, outer, size, inner),
          (t) => ({ out: t.out }),
          { rtol: 1e-5, atol: 1e-6 * (size + 1) },
        ),
      );
    }
  }
  add(`reduce ${op} propagates NaN`, (backend) =>
    differential(
      backend,
      `reduce ${op} NaN`,
      false,
      (f) => ({ x: f.values('x', [1, NaN, 3, NaN, 2, 5, -Infinity, 4, Infinity]), out: f.filled('out', 3, 0) }),
      (b, t) => b.reduce(op, t.x, t.out, 3, 3, 1),
      (t) => ({ out: t.out }),
      ELEMENTWISE,
    ),
  );
}

for (const op of ['max', 'min'] as const) {
  for (const [outer, size, inner] of [
    [3, 7, 1],
    [2, 5, 4],
    [1, 1, 1],
    [4, 1, 3],
    [0, 4, 2],
    [2, 300, 3],
  ] as const) {
    const what = `argReduce ${op} [${outer}, ${size}, ${inner}] with ties`;
    add(what, (backend) =>
      differential(
        backend,
        what,
        inner === 4,
        (f) => ({ x: f.integers('x', outer * size * inner, -2, 3), out: f.intValues('out', new Array<number>(outer * inner).fill(-9)) }),
        (b, t) => b.argReduce(op, t.x, t.out, outer, size, inner),
        (t) => ({ out: t.out }),
        EXACT,
      ),
    );
  }
  add(`argReduce ${op} ranks NaN above every number`, (backend) =>
    differential(
      backend,
      `argReduce ${op} NaN`,
      false,
      (f) => ({
        x: f.values('x', [1, NaN, 3, NaN, Infinity, 2, -Infinity, NaN, NaN, 5, 5, -1]),
        out: f.intValues('out', [-9, -9, -9, -9]),
      }),
      (b, t) => b.argReduce(op, t.x, t.out, 4, 3, 1),
      (t) => ({ out: t.out }),
      EXACT,
    ),
  );
}

for (const log of [false, true]) {
  const kind = log ? 'logSoftmax' : 'softmax';
  for (const [outer, size, inner] of [
    [2, 10, 1],
    [2, 5, 3],
    [1, 1, 1],
    [3, 1, 4],
    [0, 4, 2],
    [3, 0, 2],
    [2, 200, 1],
  ] as const) {
    const what = `${kind} [${outer}, ${size}, ${inner}]`;
    add(what, (backend) =>
      differential(
        backend,
        what,
        inner === 3,
        (f) => ({ x: f.floats('x', outer * size * inner, -5, 5), y: f.filled('y', outer * size * inner, NaN) }),
        (b, t) => b.softmax(t.x, t.y, outer, size, inner, log),
        (t) => ({ y: t.y }),
        ELEMENTWISE,
      ),
    );
  }
  add(`${kind} is stable for large logits and -Infinity masks`, (backend) =>
    differential(
      backend,
      `${kind} large`,
      false,
      (f) => ({ x: f.values('x', [1000, 999, -1000, -Infinity, 0, 88, 89, -1e4, 50, 1]), y: f.filled('y', 10, NaN) }),
      (b, t) => b.softmax(t.x, t.y, 2, 5, 1, log),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    ),
  );
  add(`${kind} in place, strided`, (backend) =>
    differential(
      backend,
      `${kind} in place`,
      false,
      (f) => {
        const x = f.floats('x', 2 * 6 * 5, -5, 5);
        return { x, y: x };
      },
      (b, t) => b.softmax(t.x, t.y, 2, 6, 5, log),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    ),
  );
}

// ---------------------------------------------------------------- layout

const TRANSPOSES: readonly (readonly [number[], number[]])[] = [
  [[5], [0]],
  [
    [2, 3],
    [1, 0],
  ],
  [
    [67, 45],
    [1, 0],
  ],
  [
    [1, 7],
    [1, 0],
  ],
  [
    [2, 3, 4],
    [0, 2, 1],
  ],
  [
    [2, 3, 4],
    [1, 0, 2],
  ],
  [
    [2, 3, 4],
    [1, 2, 0],
  ],
  [
    [2, 3, 4],
    [2, 0, 1],
  ],
  [
    [2, 3, 4],
    [2, 1, 0],
  ],
  [
    [2, 3, 4],
    [0, 1, 2],
  ],
  [
    [1, 3, 1, 2],
    [3, 2, 1, 0],
  ],
  [
    [2, 3, 4, 5],
    [3, 1, 0, 2],
  ],
  [
    [2, 2, 2, 2, 2],
    [4, 3, 2, 1, 0],
  ],
  [
    [3, 1, 2, 2, 3],
    [0, 4, 2, 3, 1],
  ],
  [
    [2, 0, 3],
    [2, 1, 0],
  ],
];

for (const views of [false, true]) {
  add(`transpose over ${TRANSPOSES.length} shapes and permutations${views ? ' views' : ''}`, (backend) => {
    for (const [shape, perm] of TRANSPOSES) {
      differential(
        backend,
        `transpose ${fmt(shape)} by ${fmt(perm)}`,
        views,
        (f) => ({ x: f.floats('x', sizeOf(shape)), out: f.filled('out', sizeOf(shape), NaN) }),
        (b, t) => b.transpose(t.x, shape, perm, t.out),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
}

const SLICES: readonly (readonly [number[], number[], number[]])[] = [
  [[10], [3], [4]],
  [
    [4, 5],
    [1, 2],
    [2, 3],
  ],
  [
    [4, 5],
    [0, 0],
    [4, 5],
  ],
  [
    [4, 5],
    [3, 4],
    [1, 1],
  ],
  [
    [4, 5],
    [2, 1],
    [0, 3],
  ],
  [
    [3, 4, 5],
    [1, 0, 2],
    [2, 4, 2],
  ],
  [
    [2, 3, 4, 5],
    [1, 1, 1, 1],
    [1, 2, 3, 4],
  ],
  [
    [2, 3, 4, 5],
    [0, 0, 0, 0],
    [2, 3, 4, 5],
  ],
  [
    [6, 70],
    [2, 0],
    [3, 70],
  ],
];

for (const views of [false, true]) {
  add(`slice over ${SLICES.length} cases${views ? ' views' : ''}`, (backend) => {
    for (const [shape, begin, size] of SLICES) {
      differential(
        backend,
        `slice ${fmt(shape)} begin ${fmt(begin)} size ${fmt(size)}`,
        views,
        (f) => ({ x: f.floats('x', sizeOf(shape)), out: f.filled('out', sizeOf(size), NaN) }),
        (b, t) => b.slice(t.x, shape, begin, size, t.out),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
}

const PADS: readonly (readonly [number[], number[], number[], number])[] = [
  [[5], [2], [3], 0],
  [[2, 3], [1, 0], [0, 2], -1.5],
  [[2, 3], [0, 0], [0, 0], 7],
  [[2, 3, 4], [1, 2, 0], [1, 0, 3], 0.25],
  [[1, 4, 4, 2], [0, 1, 1, 0], [0, 2, 1, 0], 0],
  [[0, 3], [1, 1], [1, 0], 9],
];

for (const views of [false, true]) {
  add(`pad over ${PADS.length} cases${views ? ' views' : ''}`, (backend) => {
    for (const [shape, before, after, value] of PADS) {
      const outShape = shape.map((d, i) => d + before[i] + after[i]);
      differential(
        backend,
        `pad ${fmt(shape)} before ${fmt(before)} after ${fmt(after)} value ${value}`,
        views,
        (f) => ({ x: f.floats('x', sizeOf(shape)), out: f.filled('out', sizeOf(outShape), NaN) }),
        (b, t) => b.pad(t.x, shape, before, after, value, t.out),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
}

const CONCATS: readonly (readonly [number[], number, number])[] = [
  [[2, 0, 3], 2, 3],
  [[1], 1, 1],
  [[40, 30], 3, 5],
  [[1, 2, 3, 4], 4, 1],
  [[2, 2], 0, 3],
  [[3, 5], 2, 0],
];

for (const views of [false, true]) {
  add(`concat over ${CONCATS.length} cases${views ? ' views' : ''}`, (backend) => {
    for (const [sizes, outer, inner] of CONCATS) {
      const total = sizes.reduce((p, s) => p + s, 0);
      differential(
        backend,
        `concat sizes ${fmt(sizes)} outer ${outer} inner ${inner}`,
        views,
        (f) => ({
          inputs: sizes.map((s, i) => f.floats(`inputs[${i}]`, outer * s * inner)),
          out: f.filled('out', outer * total * inner, NaN),
        }),
        (b, t) => b.concat(t.inputs, sizes, outer, inner, t.out),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
}

for (const parts of [1, 65, 1000]) {
  add(`concat of ${parts} parts`, (backend) => {
    const sizes = Array.from({ length: parts }, (_, i) => (i % 3) + (parts === 1 ? 2 : 0));
    const total = sizes.reduce((p, s) => p + s, 0);
    differential(
      backend,
      `concat of ${parts} parts`,
      false,
      (f) => ({ inputs: sizes.map((s, i) => f.floats(`inputs[${i}]`, 2 * s * 3)), out: f.filled('out', 2 * total * 3, NaN) }),
      (b, t) => b.concat(t.inputs, sizes, 2, 3, t.out),
      (t) => ({ out: t.out }),
      EXACT,
    );
  });
}

const GATHERS: readonly (readonly [number, number, number, number[]])[] = [
  [2, 5, 3, [4, 0, 4, 2]],
  [1, 7, 100, [6, 0, 3]],
  [1, 1, 1, [0, 0, 0]],
  [3, 4, 2, []],
  [0, 4, 2, [1, 3]],
  [2, 6, 1, [5, 4, 3, 2, 1, 0, 5]],
];

for (const views of [false, true]) {
  add(`gather over ${GATHERS.length} cases${views ? ' views' : ''}`, (backend) => {
    for (const [outer, size, inner, indices] of GATHERS) {
      differential(
        backend,
        `gather outer ${outer} size ${size} inner ${inner} indices ${fmt(indices)}`,
        views,
        (f) => ({
          x: f.floats('x', outer * size * inner),
          indices: f.intValues('indices', indices),
          out: f.filled('out', outer * indices.length * inner, NaN),
        }),
        (b, t) => b.gather(t.x, t.indices, t.out, outer, size, inner),
        (t) => ({ out: t.out }),
        EXACT,
      );
    }
  });
  add(`scatterAdd accumulates repeated indices${views ? ' views' : ''}`, (backend) => {
    for (const [outer, size, inner, indices] of GATHERS) {
      differential(
        backend,
        `scatterAdd outer ${outer} size ${size} inner ${inner} indices ${fmt(indices)}`,
        views,
        (f) => ({
          dy: f.floats('dy', outer * indices.length * inner),
          indices: f.intValues('indices', indices),
          dx: f.floats('dx', outer * size * inner),
        }),
        (b, t) => b.scatterAdd(t.dy, t.indices, t.dx, outer, size, inner),
        (t) => ({ dx: t.dx }),
        ELEMENTWISE,
      );
    }
  });
}

for (const bad of [5, -1]) {
  add(`gather rejects index ${bad} for an axis of 5, naming it and the range`, (backend) => {
    assertThrows(
      `gather with index ${bad}`,
      () => backend.gather(new Float32Array(10), Int32Array.from([0, bad]), new Float32Array(4), 1, 5, 2),
      ['gather', String(bad), '5'],
    );
  });
}

add('oneHot, with out-of-range indices giving rows of offValue', (backend) => {
  for (const [indices, depth, on, off] of [
    [[0, 2, -1, 3, 4, 1], 4, 1, 0],
    [[1, 0], 2, 0.9, 0.05],
    [[], 3, 1, 0],
    [[0, 1], 0, 1, 0],
  ] as const) {
    differential(
      backend,
      `oneHot ${fmt(indices)} depth ${depth}`,
      true,
      (f) => ({ indices: f.intValues('indices', indices), out: f.filled('out', indices.length * depth, NaN) }),
      (b, t) => b.oneHot(t.indices, depth, on, off, t.out),
      (t) => ({ out: t.out }),
      EXACT,
    );
  }
});

// ---------------------------------------------------------------- conv2d

type Padding = 'valid' | 'same' | { top: number; bottom: number; left: number; right: number };

/** Output size and leading pad of one spatial axis, by TensorFlow's rules. */
function convAxis(size: number, filter: number, stride: number, dilation: number, padding: Padding, axis: 'h' | 'w'): [number, number] {
  const effective = (filter - 1) * dilation + 1;
  if (padding === 'valid') return [Math.max(0, Math.floor((size - effective) / stride) + 1), 0];
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + effective - size);
    return [out, Math.floor(total / 2)];
  }
  const before = axis === 'h' ? padding.top : padding.left;
  const after = axis === 'h' ? padding.bottom : padding.right;
  return [Math.max(0, Math.floor((size + before + after - effective) / stride) + 1), before];
}

interface ConvSpec {
  batch: number;
  input: [number, number, number];
  filter: [number, number, number];
  stride?: [number, number];
  dilation?: [number, number];
  padding: Padding;
  views?: boolean;
}

function convInfo(spec: ConvSpec): Conv2DInfo {
  const [inHeight, inWidth, inChannels] = spec.input;
  const [filterHeight, filterWidth, outChannels] = spec.filter;
  const [strideHeight, strideWidth] = spec.stride ?? [1, 1];
  const [dilationHeight, dilationWidth] = spec.dilation ?? [1, 1];
  const [outHeight, padTop] = convAxis(inHeight, filterHeight, strideHeight, dilationHeight, spec.padding, 'h');
  const [outWidth, padLeft] = convAxis(inWidth, filterWidth, strideWidth, dilationWidth, spec.padding, 'w');
  return {
    batch: spec.batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padLeft,
  };
}

function convCases(spec: ConvSpec): void {
  const info = convInfo(spec);
  const views = spec.views ?? false;
  const label =
    `batch ${info.batch} in ${info.inHeight}x${info.inWidth}x${info.inChannels} filter ${info.filterHeight}x${info.filterWidth}x${info.outChannels}` +
    ` stride ${info.strideHeight},${info.strideWidth} dilation ${info.dilationHeight},${info.dilationWidth}` +
    ` ${typeof spec.padding === 'string' ? spec.padding : `pad ${JSON.stringify(spec.padding)}`} -> ${info.outHeight}x${info.outWidth}${views ? ' views' : ''}`;
  const xSize = info.batch * info.inHeight * info.inWidth * info.inChannels;
  const wSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const ySize = info.batch * info.outHeight * info.outWidth * info.outChannels;
  add(`conv2d ${label}`, (backend) =>
    differential(
      backend,
      `conv2d ${label}`,
      views,
      (f) => ({ x: f.floats('x', xSize), w: f.floats('filter', wSize), y: f.filled('y', ySize, NaN) }),
      (b, t) => b.conv2d(t.x, t.w, t.y, info),
      (t) => ({ y: t.y }),
      dotTolerance(info.filterHeight * info.filterWidth * info.inChannels),
    ),
  );
  add(`conv2dBackpropInput ${label}`, (backend) =>
    differential(
      backend,
      `conv2dBackpropInput ${label}`,
      views,
      (f) => ({ dy: f.floats('dy', ySize), w: f.floats('filter', wSize), dx: f.filled('dx', xSize, NaN) }),
      (b, t) => b.conv2dBackpropInput(t.dy, t.w, t.dx, info),
      (t) => ({ dx: t.dx }),
      dotTolerance(info.filterHeight * info.filterWidth * info.outChannels),
    ),
  );
  add(`conv2dBackpropFilter ${label}`, (backend) =>
    differential(
      backend,
      `conv2dBackpropFilter ${label}`,
      views,
      (f) => ({ x: f.floats('x', xSize), dy: f.floats('dy', ySize), dw: f.filled('dFilter', wSize, NaN) }),
      (b, t) => b.conv2dBackpropFilter(t.x, t.dy, t.dw, info),
      (t) => ({ dFilter: t.dw }),
      dotTolerance(info.batch * info.outHeight * info.outWidth),
    ),
  );
}

convCases({ batch: 2, input: [7, 9, 3], filter: [3, 3, 4], padding: 'valid' });
convCases({ batch: 1, input: [6, 6, 2], filter: [3, 3, 5], padding: 'same' });
convCases({ batch: 2, input: [9, 8, 3], filter: [3, 3, 4], stride: [2, 2], padding: 'same' });
convCases({ batch: 2, input: [10, 7, 2], filter: [2, 3, 3], stride: [2, 1], padding: 'valid' });
convCases({ batch: 1, input: [9, 9, 2], filter: [3, 3, 3], dilation: [2, 2], padding: 'same' });
convCases({ batch: 2, input: [11, 10, 2], filter: [3, 2, 2], stride: [2, 2], dilation: [2, 3], padding: 'valid' });
convCases({ batch: 2, input: [5, 4, 6], filter: [1, 1, 7], padding: 'valid' });
convCases({ batch: 2, input: [5, 5, 3], filter: [1, 1, 2], stride: [2, 2], padding: 'valid' });
convCases({ batch: 3, input: [8, 8, 1], filter: [5, 5, 1], padding: 'same' });
convCases({ batch: 0, input: [5, 5, 2], filter: [3, 3, 2], padding: 'same' });
convCases({ batch: 1, input: [3, 3, 2], filter: [5, 5, 2], padding: 'same' });
convCases({ batch: 2, input: [6, 5, 2], filter: [3, 3, 3], padding: { top: 2, bottom: 0, left: 0, right: 1 } });
convCases({ batch: 4, input: [13, 13, 16], filter: [3, 3, 32], padding: 'valid' });
// One input channel and short filter patches (k = fH*fW*inC <= 32) with output channels in multiples
// of 8: the shapes of a first layer, which native computes without im2col / GEMM.
convCases({ batch: 3, input: [10, 9, 1], filter: [3, 3, 32], padding: 'valid' });
convCases({ batch: 2, input: [9, 8, 1], filter: [3, 3, 16], stride: [2, 1], padding: 'same' });
convCases({ batch: 2, input: [11, 10, 1], filter: [3, 2, 8], dilation: [2, 2], padding: 'same' });
convCases({ batch: 2, input: [7, 7, 3], filter: [3, 3, 24], padding: 'same' });
convCases({ batch: 1, input: [6, 6, 2], filter: [4, 4, 64], stride: [2, 2], padding: { top: 1, bottom: 2, left: 2, right: 0 } });
convCases({ batch: 2, input: [5, 4, 6], filter: [1, 1, 7], padding: 'valid', views: true });
convCases({ batch: 2, input: [7, 6, 3], filter: [3, 3, 4], stride: [2, 2], padding: 'same', views: true });

add('conv2d rejects an input of the wrong length', (backend) => {
  const info = convInfo({ batch: 1, input: [4, 4, 1], filter: [3, 3, 1], padding: 'valid' });
  assertThrows('conv2d with x too short', () => backend.conv2d(new Float32Array(15), new Float32Array(9), new Float32Array(4), info));
});

// ---------------------------------------------------------------- pooling

interface PoolSpec {
  batch: number;
  input: [number, number, number];
  pool: [number, number];
  stride: [number, number];
  padding: Padding;
  /** Integer-valued inputs, so max pooling has ties (first in window order wins). */
  ties?: boolean;
  views?: boolean;
}

function poolInfo(spec: PoolSpec): Pool2DInfo {
  const [inHeight, inWidth, channels] = spec.input;
  const [filterHeight, filterWidth] = spec.pool;
  const [strideHeight, strideWidth] = spec.stride;
  const [outHeight, padTop] = convAxis(inHeight, filterHeight, strideHeight, 1, spec.padding, 'h');
  const [outWidth, padLeft] = convAxis(inWidth, filterWidth, strideWidth, 1, spec.padding, 'w');
  return {
    batch: spec.batch,
    inHeight,
    inWidth,
    channels,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    padTop,
    padLeft,
  };
}

function poolCases(spec: PoolSpec): void {
  const info = poolInfo(spec);
  const views = spec.views ?? false;
  const label =
    `batch ${info.batch} in ${info.inHeight}x${info.inWidth}x${info.channels} pool ${info.filterHeight}x${info.filterWidth}` +
    ` stride ${info.strideHeight},${info.strideWidth} ${typeof spec.padding === 'string' ? spec.padding : `pad ${JSON.stringify(spec.padding)}`}` +
    ` -> ${info.outHeight}x${info.outWidth}${spec.ties ? ' ties' : ''}${views ? ' views' : ''}`;
  const xSize = info.batch * info.inHeight * info.inWidth * info.channels;
  const ySize = info.batch * info.outHeight * info.outWidth * info.channels;
  const input = (f: Arrays): Float32Array => (spec.ties ? f.integers('x', xSize, 0, 3) : f.floats('x', xSize));
  add(`maxPool2d ${label}`, (backend) =>
    differential(
      backend,
      `maxPool2d ${label}`,
      views,
      (f) => ({ x: input(f), y: f.filled('y', ySize, NaN), argmax: f.intValues('argmax', new Array<number>(ySize).fill(-9)) }),
      (b, t) => b.maxPool2d(t.x, t.y, t.argmax, info),
      (t) => ({ y: t.y, argmax: t.argmax }),
      EXACT,
    ),
  );
  add(`maxPool2dBackprop ${label}`, (backend) =>
    differential(
      backend,
      `maxPool2dBackprop ${label}`,
      views,
      (f) => {
        const x = input(f);
        const argmax = new Int32Array(ySize);
        reference.maxPool2d(x, new Float32Array(ySize), argmax, info);
        return { dy: f.floats('dy', ySize), argmax: f.intValues('argmax', Array.from(argmax)), dx: f.filled('dx', xSize, NaN) };
      },
      (b, t) => b.maxPool2dBackprop(t.dy, t.argmax, t.dx, info),
      (t) => ({ dx: t.dx }),
      ELEMENTWISE,
    ),
  );
  add(`avgPool2d ${label}`, (backend) =>
    differential(
      backend,
      `avgPool2d ${label}`,
      views,
      (f) => ({ x: input(f), y: f.filled('y', ySize, NaN) }),
      (b, t) => b.avgPool2d(t.x, t.y, info),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    ),
  );
  add(`avgPool2dBackprop ${label}`, (backend) =>
    differential(
      backend,
      `avgPool2dBackprop ${label}`,
      views,
      (f) => ({ dy: f.floats('dy', ySize), dx: f.filled('dx', xSize, NaN) }),
      (b, t) => b.avgPool2dBackprop(t.dy, t.dx, info),
      (t) => ({ dx: t.dx }),
      ELEMENTWISE,
    ),
  );
}

poolCases({ batch: 2, input: [6, 6, 3], pool: [2, 2], stride: [2, 2], padding: 'valid' });
poolCases({ batch: 1, input: [5, 5, 2], pool: [3, 3], stride: [1, 1], padding: 'same' });
poolCases({ batch: 2, input: [7, 6, 3], pool: [3, 3], stride: [2, 2], padding: 'same' });
poolCases({ batch: 1, input: [4, 4, 1], pool: [2, 2], stride: [1, 1], padding: 'valid', ties: true });
poolCases({ batch: 2, input: [5, 7, 2], pool: [3, 2], stride: [2, 3], padding: 'same', ties: true });
poolCases({ batch: 0, input: [4, 4, 2], pool: [2, 2], stride: [2, 2], padding: 'valid' });
poolCases({ batch: 2, input: [3, 3, 4], pool: [1, 1], stride: [1, 1], padding: 'valid' });
poolCases({ batch: 1, input: [2, 2, 3], pool: [3, 3], stride: [1, 1], padding: 'same' });
poolCases({ batch: 1, input: [5, 5, 1], pool: [2, 2], stride: [2, 2], padding: { top: 1, bottom: 1, left: 0, right: 1 } });
poolCases({ batch: 2, input: [7, 6, 3], pool: [3, 3], stride: [2, 2], padding: 'same', views: true });

add('maxPool2d ranks NaN above every number', (backend) => {
  const info = poolInfo({ batch: 1, input: [2, 4, 1], pool: [2, 2], stride: [2, 2], padding: 'valid' });
  differential(
    backend,
    'maxPool2d NaN',
    false,
    (f) => ({ x: f.values('x', [1, NaN, 5, 2, NaN, 3, -Infinity, NaN]), y: f.filled('y', 2, 0), argmax: f.intValues('argmax', [-9, -9]) }),
    (b, t) => b.maxPool2d(t.x, t.y, t.argmax, info),
    (t) => ({ y: t.y, argmax: t.argmax }),
    EXACT,
  );
});

// ---------------------------------------------------------------- bias + activation

const FUSED: readonly FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh', 'hardSigmoid'];
for (const activation of FUSED) {
  for (const [rows, channels, withBias, views] of [
    [1, 1, true, false],
    [7, 5, true, false],
    [300, 32, true, true],
    [9, 4, false, false],
    [0, 3, true, false],
  ] as const) {
    const label = `${activation} rows ${rows} channels ${channels}${withBias ? '' : ' no bias'}${views ? ' views' : ''}`;
    add(`biasActivation ${label}`, (backend) =>
      differential(
        backend,
        `biasActivation ${label}`,
        views,
        (f) => ({
          x: f.floats('x', rows * channels, -4, 4),
          bias: withBias ? f.floats('bias', channels) : null,
          y: f.filled('y', rows * channels, NaN),
        }),
        (b, t) => b.biasActivation(t.x, t.bias, t.y, rows, channels, activation),
        (t) => ({ y: t.y }),
        ELEMENTWISE,
      ),
    );
    add(`biasActivationGrad ${label}`, (backend) =>
      differential(
        backend,
        `biasActivationGrad ${label}`,
        views,
        (f) => {
          // y as the forward would give it, including exact 0 and 1 for relu and hardSigmoid.
          const x = f.floats('x', rows * channels, -4, 4);
          const y = new Float32Array(rows * channels);
          reference.biasActivation(x, null, y, rows, channels, activation);
          return {
            y: f.values('y', Array.from(y)),
            dy: f.floats('dy', rows * channels, -2, 2),
            dx: f.filled('dx', rows * channels, NaN),
            dBias: withBias ? f.filled('dBias', channels, NaN) : null,
          };
        },
        (b, t) => b.biasActivationGrad(t.y, t.dy, t.dx, t.dBias, rows, channels, activation),
        (t): Record<string, Float32Array> => (t.dBias ? { dx: t.dx, dBias: t.dBias } : { dx: t.dx }),
        { rtol: 1e-5, atol: 1e-6 * (rows + 1) },
      ),
    );
  }
  add(`biasActivation ${activation} in place (y is x)`, (backend) =>
    differential(
      backend,
      `biasActivation ${activation} in place`,
      false,
      (f) => {
        const x = f.floats('x', 24, -3, 3);
        return { x, bias: f.floats('bias', 4), y: x };
      },
      (b, t) => b.biasActivation(t.x, t.bias, t.y, 6, 4, activation),
      (t) => ({ y: t.y }),
      ELEMENTWISE,
    ),
  );
}

// ---------------------------------------------------------------- optimizers

const STEPS = 3;

for (const [momentum, nesterov] of [
  [0, false],
  [0.9, false],
  [0.9, true],
] as const) {
  for (const views of [false, true]) {
    const what = `sgdUpdate momentum ${momentum}${nesterov ? ' nesterov' : ''}, ${STEPS} steps${views ? ' views' : ''}`;
    add(what, (backend) =>
      differential(
        backend,
        what,
        views,
        (f) => ({
          param: f.floats('param', 37),
          grads: Array.from({ length: STEPS }, (_, i) => f.floats(`grad ${i}`, 37)),
          velocity: momentum === 0 ? null : f.filled('velocity', 37, 0),
        }),
        (b, t) => t.grads.forEach((g) => b.sgdUpdate(t.param, g, t.velocity, { lr: 0.1, momentum, nesterov })),
        (t): Record<string, Float32Array> => (t.velocity ? { param: t.param, velocity: t.velocity } : { param: t.param }),
        ELEMENTWISE,
      ),
    );
  }
}

for (const weightDecay of [0, 0.01]) {
  for (const views of [false, true]) {
    const what = `adamUpdate weightDecay ${weightDecay}, ${STEPS} steps${views ? ' views' : ''}`;
    add(what, (backend) =>
      differential(
        backend,
        what,
        views,
        (f) => ({
          param: f.floats('param', 41),
          grads: Array.from({ length: STEPS }, (_, i) => f.floats(`grad ${i}`, 41)),
          m: f.filled('m', 41, 0),
          v: f.filled('v', 41, 0),
        }),
        (b, t) =>
          t.grads.forEach((g, i) =>
            b.adamUpdate(t.param, g, t.m, t.v, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: i + 1, weightDecay }),
          ),
        (t) => ({ param: t.param, m: t.m, v: t.v }),
        ELEMENTWISE,
      ),
    );
  }
}

for (const [momentum, centered] of [
  [0, false],
  [0.9, false],
  [0, true],
  [0.9, true],
] as const) {
  for (const views of [false, true]) {
    const what = `rmspropUpdate momentum ${momentum}${centered ? ' centered' : ''}, ${STEPS} steps${views ? ' views' : ''}`;
    add(what, (backend) =>
      differential(
        backend,
        what,
        views,
        (f) => ({
          param: f.floats('param', 29),
          grads: Array.from({ length: STEPS }, (_, i) => f.floats(`grad ${i}`, 29)),
          meanSquare: f.filled('meanSquare', 29, 0),
          mom: momentum === 0 ? null : f.filled('mom', 29, 0),
          meanGrad: centered ? f.filled('meanGrad', 29, 0) : null,
        }),
        (b, t) =>
          t.grads.forEach((g) =>
            b.rmspropUpdate(t.param, g, t.meanSquare, t.mom, t.meanGrad, { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered }),
          ),
        (t) => {
          const out: Record<string, Float32Array> = { param: t.param, meanSquare: t.meanSquare };
          if (t.mom) out.mom = t.mom;
          if (t.meanGrad) out.meanGrad = t.meanGrad;
          return out;
        },
        ELEMENTWISE,
      ),
    );
  }
}

// ---------------------------------------------------------------- known values
// Small cases with answers worked out by hand or taken from TensorFlow / Keras /
// PyTorch documentation, so the reference itself is checked too.

function known(
  name: string,
  run: (b: Kernels) => ArrayLike<number>,
  expected: readonly number[],
  tolerance: Tolerance = ELEMENTWISE,
): void {
  add(`known values: ${name}`, (backend) => assertClose(run(backend), expected, tolerance.rtol, tolerance.atol, `known values: ${name}`));
}

function unaryKnown(op: UnaryOp, x: readonly number[], expected: readonly number[], params?: UnaryParams): void {
  known(
    `unary ${op}${params ? ` ${JSON.stringify(params)}` : ''} of ${fmt(x)}`,
    (b) => {
      const y = new Float32Array(x.length);
      b.unary(op, Float32Array.from(x), y, params);
      return y;
    },
    expected,
  );
}

unaryKnown('gelu', [1, -1, 0, 3], [0.8413447460685429, -0.15865525393145707, 0, 2.99595030590511]);
unaryKnown('selu', [-1, 2], [-1.1113307378125628, 2.101401974710961]);
unaryKnown('elu', [-1, 2], [-0.6321205588285577, 2]);
unaryKnown('leakyRelu', [-1, 2], [-0.2, 2]);
unaryKnown('leakyRelu', [-1, 2], [-0.3, 2], { alpha: 0.3 });
unaryKnown('softplus', [0, 100, -100], [Math.LN2, 100, 3.720075976020836e-44]);
unaryKnown('sigmoid', [0, 1000, -1000], [0.5, 1, 0]);
unaryKnown('round', [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6], [0, 2, 2, -0, -2, 2, -3]);
unaryKnown('relu6', [-1, 3, 7], [0, 3, 6]);
unaryKnown('clip', [-3, 0.5, 3], [-1, 0.5, 2], { alpha: -1, beta: 2 });
unaryKnown('sign', [-2, 0, 3], [-1, 0, 1]);

known(
  'gemm [[1,2],[3,4]]·[[5,6],[7,8]]',
  (b) => {
    const c = new Float32Array(4);
    b.gemm(Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), c, 1, 2, 2, 2, false, false, 1, 0, 4, 4);
    return c;
  },
  [19, 22, 43, 50],
);

known(
  'binary add [[1],[2]] + [10,20,30]',
  (b) => {
    const out = new Float32Array(6);
    b.binary('add', Float32Array.from([1, 2]), [2, 1], Float32Array.from([10, 20, 30]), [3], out, [2, 3]);
    return out;
  },
  [11, 21, 31, 12, 22, 32],
);

known(
  'softmax [1, 2, 3]',
  (b) => {
    const y = new Float32Array(3);
    b.softmax(Float32Array.from([1, 2, 3]), y, 1, 3, 1, false);
    return y;
  },
  [0.09003057317038046, 0.24472847105479764, 0.6652409557748219],
);

known(
  'conv2d 3x3 image, 2x2 diagonal filter, valid',
  (b) => {
    const y = new Float32Array(4);
    const info = convInfo({ batch: 1, input: [3, 3, 1], filter: [2, 2, 1], padding: 'valid' });
    b.conv2d(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), Float32Array.from([1, 0, 0, 1]), y, info);
    return y;
  },
  [6, 8, 12, 14],
);

known(
  'avgPool2d 2x2 stride 1 same over 1..9 excludes padding from the count',
  (b) => {
    const y = new Float32Array(9);
    b.avgPool2d(
      Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
      y,
      poolInfo({ batch: 1, input: [3, 3, 1], pool: [2, 2], stride: [1, 1], padding: 'same' }),
    );
    return y;
  },
  [3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9],
);

known(
  'maxPool2d same padding never picks a padded zero',
  (b) => {
    const y = new Float32Array(4);
    b.maxPool2d(
      new Float32Array(4).fill(-1),
      y,
      new Int32Array(4),
      poolInfo({ batch: 1, input: [2, 2, 1], pool: [3, 3], stride: [1, 1], padding: 'same' }),
    );
    return y;
  },
  [-1, -1, -1, -1],
);

known(
  'sgdUpdate momentum 0.9, two steps of g = 1',
  (b) => {
    const p = Float32Array.from([1]);
    const v = new Float32Array(1);
    for (let i = 0; i < 2; i++) b.sgdUpdate(p, Float32Array.from([1]), v, { lr: 0.1, momentum: 0.9, nesterov: false });
    return [p[0], v[0]];
  },
  [0.71, -0.19],
);

known(
  'sgdUpdate nesterov, one step of g = 1',
  (b) => {
    const p = Float32Array.from([1]);
    b.sgdUpdate(p, Float32Array.from([1]), new Float32Array(1), { lr: 0.1, momentum: 0.9, nesterov: true });
    return p;
  },
  [0.81],
);

known(
  'adamUpdate first step moves each parameter by about lr',
  (b) => {
    const p = Float32Array.from([1, 1]);
    b.adamUpdate(p, Float32Array.from([0.5, -2]), new Float32Array(2), new Float32Array(2), {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      step: 1,
      weightDecay: 0,
    });
    return p;
  },
  [0.900000632451532, 1.099999841886367],
);

known(
  'rmspropUpdate plain and centered, one step of g = 1',
  (b) => {
    const plain = Float32Array.from([1]);
    b.rmspropUpdate(plain, Float32Array.from([1]), new Float32Array(1), null, null, {
      lr: 0.01,
      rho: 0.9,
      momentum: 0,
      epsilon: 1e-7,
      centered: false,
    });
    const centered = Float32Array.from([1]);
    b.rmspropUpdate(centered, Float32Array.from([1]), new Float32Array(1), null, new Float32Array(1), {
      lr: 0.01,
      rho: 0.9,
      momentum: 0,
      epsilon: 1e-7,
      centered: true,
    });
    return [plain[0], centered[0]];
  },
  [0.9683772392096927, 0.9666666851851697],
);

known(
  'oneHot [2, -1] depth 3',
  (b) => {
    const out = new Float32Array(6);
    b.oneHot(Int32Array.from([2, -1]), 3, 1, 0, out);
    return out;
  },
  [0, 0, 1, 0, 0, 0],
);
