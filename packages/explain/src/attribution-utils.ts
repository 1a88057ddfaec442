/**
 * Internal helpers shared by LIME and SHAP (not exported from the package): option checks, a
 * seeded generator, running a black-box model on a batch, and small float64 solvers.
 */
import { Model } from '@axon/models';
import { randomInt, scope, Tensor, tensor } from '@axon/tensor';

/** A black-box model: a batch in, a batch of outputs ([n] or [n, classes]) out; or a Model. */
export type BatchFunction = ((x: Tensor) => Tensor) | Model;

// ---- option checks ---------------------------------------------------------------------------

export function checkTensor(where: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw new Error(`${where}: ${name} must be a Tensor, got ${describe(value)}`);
  return value;
}

export function positiveInt(where: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${where}: option '${name}' must be a positive integer, got ${describe(value)}`);
  }
  return value;
}

export function positiveNumber(where: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${where}: option '${name}' must be a finite number > 0, got ${describe(value)}`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor of shape [${value.shape.join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  return `an object (${value.constructor?.name ?? 'Object'})`;
}

/** An image's size and values, checked: [h, w, c] or [1, h, w, c] with c 1 or 3. */
export function imagePixels(where: string, image: unknown): { height: number; width: number; channels: number; pixels: Float32Array } {
  const t = checkTensor(where, 'image', image);
  const shape = t.rank === 4 && t.shape[0] === 1 ? t.shape.slice(1) : t.shape;
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3) || shape[0]! < 1 || shape[1]! < 1) {
    throw new Error(`${where}: image must be [height, width, 1 or 3] or [1, height, width, 1 or 3], got ${describe(t)}`);
  }
  const pixels = Float32Array.from(t.dataSync());
  if (pixels.some((v) => !Number.isFinite(v))) throw new Error(`${where}: image has a non-finite value (NaN or Infinity)`);
  return { height: shape[0]!, width: shape[1]!, channels: shape[2]!, pixels };
}

// ---- randomness ------------------------------------------------------------------------------

/** Uniform numbers in [0, 1) and helpers on them, from one seed. */
export interface Random {
  next(): number;
  int(n: number): number;
  normal(): number;
  /** A random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array;
}

/**
 * A local generator (mulberry32) rather than the global one of @axon/tensor, so `seed` makes one
 * explanation reproducible without resetting the caller's random state. Without a seed, one is
 * drawn from the global generator, so `setSeed` also makes the explanation reproducible.
 */
export function seededRandom(where: string, seed: number | undefined): Random {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
    throw new Error(`${where}: option 'seed' must be a finite number, got ${describe(seed)}`);
  }
  let state = (seed === undefined ? randomInt(2 ** 31) : Math.trunc(seed)) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    permutation: (n) => {
      const order = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order;
    },
    // Box–Muller; 1 - next() is in (0, 1], so the logarithm is finite.
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

// ---- running the model -----------------------------------------------------------------------

/** A model's outputs for a batch as host numbers: row r, class c is `values[r * classes + c]`. */
export interface Outputs {
  values: Float64Array;
  classes: number;
}

/** Checks that `predict` is a function or a Model (the error names the function and argument). */
export function checkPredictor(where: string, name: string, predict: unknown): void {
  if (!(predict instanceof Model) && typeof predict !== 'function') {
    throw new Error(`${where}: ${name} must be a function (batch Tensor → Tensor) or a Model, got ${describe(predict)}`);
  }
}

/** Calls the model on a host batch and returns its outputs, checked to be one finite row per input. */
export function runBatch(where: string, predict: BatchFunction | ((x: string[]) => Tensor), batch: Tensor | string[]): Outputs {
  const rows = Array.isArray(batch) ? batch.length : batch.shape[0]!;
  return scope(where, () => {
    const out: unknown =
      predict instanceof Model ? predict.predict(batch as Tensor) : (predict as (x: Tensor | string[]) => unknown)(batch);
    if (!(out instanceof Tensor)) throw new Error(`${where}: the model must return a Tensor, got ${describe(out)}`);
    if (out.rank < 1 || out.rank > 2 || out.shape[0] !== rows) {
      throw new Error(`${where}: the model must return [${rows}] or [${rows}, classes] for ${rows} inputs, got [${out.shape.join(', ')}]`);
    }
    const values = Float64Array.from(out.dataSync());
    if (values.some((v) => !Number.isFinite(v))) throw new Error(`${where}: the model returned a non-finite output (NaN or Infinity)`);
    return { values, classes: out.rank === 2 ? out.shape[1]! : 1 };
  });
}

/** Runs `predict` on `rows` inputs made by `fill` in chunks, so a large sample never forms one huge batch. */
export function runChunked(
  where: string,
  predict: BatchFunction,
  rows: number,
  rowShape: readonly number[],
  fill: (row: number, into: Float32Array) => void,
  chunk = 256,
): Outputs {
  const rowSize = rowShape.reduce((a, b) => a * b, 1);
  let all: Float64Array | undefined;
  let classes = 1;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const data = new Float32Array(n * rowSize);
    for (let r = 0; r < n; r++) fill(start + r, data.subarray(r * rowSize, (r + 1) * rowSize));
    const out = runBatch(where, predict, tensor(data, [n, ...rowShape]));
    classes = out.classes;
    all ??= new Float64Array(rows * classes);
    all.set(out.values, start * classes);
  }
  return { values: all ?? new Float64Array(0), classes };
}

/** The class to explain: `classIndex` checked against the output's classes, or the arg-max of `row`. */
export function chooseClass(where: string, classIndex: number | undefined, outputs: Outputs, row = 0): number {
  const { values, classes } = outputs;
  if (classIndex === undefined) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[row * classes + c]! > values[row * classes + best]!) best = c;
    return best;
  }
  if (typeof classIndex !== 'number' || !Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
    throw new Error(
      `${where}: option 'classIndex' must be an integer in [0, ${classes - 1}] (the model outputs ${classes} classes), got ${describe(classIndex)}`,
    );
  }
  return classIndex;
}

/** Column `c` of the outputs. */
export function outputColumn(outputs: Outputs, c: number): Float64Array {
  const n = outputs.values.length / outputs.classes;
  return Float64Array.from({ length: n }, (_, r) => outputs.values[r * outputs.classes + c]!);
}

// ---- linear algebra --------------------------------------------------------------------------
// The systems here are small (one unknown per feature: tens to a few hundred), need float64 (the
// normal equations square the condition number, too much for float32 tensors), and run once per
// explanation, so a hand-written solver on Float64Array beats a dependency.

/**
 * Solves the symmetric system A z = b (A is n×n, row-major) by Gaussian elimination with partial
 * pivoting. A pivot that vanishes (a feature the data never varies) gives that unknown 0 instead
 * of dividing by zero, as a least-squares solver would leave an unidentifiable coefficient.
 */
export function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const z = Float64Array.from(b);
  const scale = Math.max(1e-300, ...Array.from({ length: n }, (_, i) => Math.abs(m[i * n + i]!)));
  const singular = new Uint8Array(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (Math.abs(m[pivot * n + col]!) <= 1e-12 * scale) {
      singular[col] = 1;
      continue;
    }
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
      [z[col], z[pivot]] = [z[pivot]!, z[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      if (f === 0) continue;
      for (let k = col; k < n; k++) m[r * n + k]! -= f * m[col * n + k]!;
      z[r]! -= f * z[col]!;
    }
  }
  const x = new Float64Array(n);
  for (let col = n - 1; col >= 0; col--) {
    if (singular[col]) continue;
    let s = z[col]!;
    for (let k = col + 1; k < n; k++) s -= m[col * n + k]! * x[k]!;
    x[col] = s / m[col * n + col]!;
  }
  return x;
}

/** A weighted linear fit: coefficients, intercept and the weighted R² on the fitted data. */
export interface LinearFit {
  coef: Float64Array;
  intercept: number;
  score: number;
}

/**
 * Weighted ridge regression with an intercept, as scikit-learn's `Ridge(alpha).fit(X, y,
 * sample_weight)` which lime uses: center X and y on their weighted means, solve
 * (Xcᵀ W Xc + alpha I) b = Xcᵀ W yc, and score with the weighted R² (`Ridge.score`).
 *
 * @param x - n rows of `cols` features, row-major, restricted to `columns`.
 */
export function weightedRidge(
  x: Float64Array,
  cols: number,
  columns: readonly number[],
  y: Float64Array,
  w: Float64Array,
  alpha: number,
): LinearFit {
  const n = y.length;
  const p = columns.length;
  let wSum = 0;
  let yMean = 0;
  const xMean = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    wSum += w[r]!;
    yMean += w[r]! * y[r]!;
    columns.forEach((c, j) => (xMean[j]! += w[r]! * x[r * cols + c]!));
  }
  yMean /= wSum;
  xMean.forEach((v, j) => (xMean[j] = v / wSum));
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  const row = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    columns.forEach((c, j) => (row[j] = x[r * cols + c]! - xMean[j]!));
    const yc = y[r]! - yMean;
    for (let i = 0; i < p; i++) {
      b[i]! += w[r]! * row[i]! * yc;
      for (let j = i; j < p; j++) a[i * p + j]! += w[r]! * row[i]! * row[j]!;
    }
  }
  for (let i = 0; i < p; i++) {
    a[i * p + i]! += alpha;
    for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i]!;
  }
  const coef = solve(a, b, p);
  const intercept = yMean - coef.reduce((s, v, j) => s + v * xMean[j]!, 0);
  let residual = 0;
  let total = 0;
  for (let r = 0; r < n; r++) {
    let pred = intercept;
    columns.forEach((c, j) => (pred += coef[j]! * x[r * cols + c]!));
    residual += w[r]! * (y[r]! - pred) ** 2;
    total += w[r]! * (y[r]! - yMean) ** 2;
  }
  // scikit-learn's r2_score: a constant target fitted exactly scores 1, otherwise 0.
  const score = total > 0 ? 1 - residual / total : residual === 0 ? 1 : 0;
  return { coef, intercept, score };
}
