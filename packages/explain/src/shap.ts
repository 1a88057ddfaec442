/**
 * SHAP (Lundberg & Lee 2017): Shapley values of a prediction, with features absent taking values
 * from a background data set (the interventional value function of `shap`):
 * v(S) = mean over background rows b of f(x on S, b elsewhere). `exactShapley` enumerates every
 * coalition (the reference); `kernelShap` estimates them with `shap`'s KernelExplainer (Shapley
 * kernel weights, paired coalitions, the efficiency constraint); `gradientShap` uses expected
 * gradients for differentiable models, as `shap`'s GradientExplainer.
 */
import { checkOptions } from '@axon/layers';
import { Model } from '@axon/models';
import { scope, slice, sum, type Tensor, tensor, valueAndGrads } from '@axon/tensor';
import {
  type BatchFunction,
  checkPredictor,
  checkTensor,
  chooseClass,
  describe,
  type Outputs,
  outputColumn,
  positiveInt,
  type Random,
  runChunked,
  seededRandom,
  solve,
} from './attribution-utils.js';

export type { BatchFunction } from './attribution-utils.js';

/** Shapley values of one prediction over tabular features. */
export interface ShapValues {
  /** One value per feature; they sum to f(x) − baseValue (efficiency). */
  values: number[];
  /** The expected output over the background, E[f(background)], for the explained class. */
  baseValue: number;
  /** The explained class (the given `classIndex`, or the arg-max of f(x); 0 for a model of one output). */
  classIndex: number;
}

/** Options of {@link exactShapley}. */
export interface ExactShapleyOptions {
  /** The output to explain; default the arg-max of f(x). */
  classIndex?: number;
}

/** Options of {@link kernelShap}. */
export interface KernelShapOptions {
  /**
   * Coalitions to evaluate. Default 2·M + 2048, as shap ('auto'); at most 2^M − 2 are used, and
   * with that many every coalition is enumerated and the values are exact.
   */
  nsamples?: number;
  /** The output to explain; default the arg-max of f(x). */
  classIndex?: number;
  /** Seed for the sampled coalitions; without one, drawn from @axon/tensor's generator (see `setSeed`). */
  seed?: number;
}

/** Options of {@link gradientShap}. */
export interface GradientShapOptions {
  /** Points sampled along the paths from background rows to x. Default 200, as shap's GradientExplainer. */
  samples?: number;
  /** The output to explain; default the arg-max of the model on x. */
  classIndex?: number;
  /** Seed for the sampled rows and points; without one, drawn from @axon/tensor's generator (see `setSeed`). */
  seed?: number;
}

/** GradientSHAP's values: a Tensor shaped like x. */
export interface GradientShapValues {
  /** One value per input element, shaped like x; they sum to about f(x) − baseValue. */
  values: Tensor;
  /** E[f(background)] for the explained class. */
  baseValue: number;
  /** The explained class. */
  classIndex: number;
}

/** Points per gradient computation in gradientShap, so many samples never form one huge batch. */
const GRADIENT_BATCH = 64;

/** exactShapley enumerates 2^M coalitions; beyond this many features that is too slow to be a reference. */
const MAX_EXACT_FEATURES = 16;

/**
 * Exact Shapley values by enumerating all 2^M coalitions S:
 * φᵢ = Σ_{S ∌ i} |S|! (M − |S| − 1)! / M! · (v(S ∪ {i}) − v(S)), with v(S) the mean of f over the
 * background rows with the features in S set to x's. The reference kernelShap is tested against.
 *
 * @param f - the model: rows [n, M] → outputs [n] or [n, classes] (or a Model).
 * @param x - [M] or [1, M].
 * @param background - [rows, M].
 * @throws Error for a bad argument, more than 16 features, or bad model outputs.
 *
 * @example
 * ```ts
 * const { values, baseValue } = exactShapley(f, x, background);
 * ```
 */
export function exactShapley(f: BatchFunction, x: Tensor, background: Tensor, options: ExactShapleyOptions = {}): ShapValues {
  const where = 'exactShapley';
  checkOptions(where, options, ['classIndex']);
  const problem = shapProblem(where, f, x, background, options.classIndex);
  const m = problem.x.length;
  if (m > MAX_EXACT_FEATURES)
    throw new Error(`${where}: x has ${m} features; enumeration is limited to ${MAX_EXACT_FEATURES} (use kernelShap)`);
  const coalitions = 2 ** m;
  const masks = new Uint8Array(coalitions * m);
  for (let s = 0; s < coalitions; s++) for (let i = 0; i < m; i++) masks[s * m + i] = (s >> i) & 1;
  const v = coalitionValues(where, problem, masks, coalitions);
  // |S|! (M − |S| − 1)! / M! for each coalition size |S| < M.
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const weight = Array.from({ length: m }, (_, size) => (factorial(size) * factorial(m - size - 1)) / factorial(m));
  const values = new Array<number>(m).fill(0);
  for (let s = 0; s < coalitions; s++) {
    let size = 0;
    for (let i = 0; i < m; i++) size += (s >> i) & 1;
    for (let i = 0; i < m; i++) if (!((s >> i) & 1)) values[i]! += weight[size]! * (v[s | (1 << i)]! - v[s]!);
  }
  return { values, baseValue: problem.baseValue, classIndex: problem.classIndex };
}

/**
 * KernelSHAP, as shap's KernelExplainer: Shapley values as the weighted least-squares fit of
 * coalition values, with the Shapley kernel weight (M − 1) / (C(M, |S|) |S| (M − |S|)) and the
 * efficiency constraint Σφ = f(x) − E[f(background)] built in. Coalition sizes whose every subset
 * (and complement) fits in the budget are enumerated, smallest and largest first; the rest of the
 * budget samples coalitions of the other sizes in complementary pairs. Features where x equals
 * every background row get 0 and take no part, as shap.
 *
 * @param f - the model: rows [n, M] → outputs [n] or [n, classes] (or a Model).
 * @param x - [M] or [1, M].
 * @param background - [rows, M]; each coalition costs one model row per background row.
 * @throws Error for a bad argument or option (naming it, expected and given), or bad model outputs.
 *
 * @example
 * ```ts
 * const { values, baseValue } = kernelShap(f, x, background, { nsamples: 500, seed: 1 });
 * ```
 */
export function kernelShap(f: BatchFunction, x: Tensor, background: Tensor, options: KernelShapOptions = {}): ShapValues {
  const where = 'kernelShap';
  checkOptions(where, options, ['nsamples', 'classIndex', 'seed']);
  const problem = shapProblem(where, f, x, background, options.classIndex);
  const nsamplesOption = positiveInt(where, 'nsamples', options.nsamples, 2 * problem.x.length + 2048);
  const random = seededRandom(where, options.seed);
  const total = problem.fx - problem.baseValue;
  const values = new Array<number>(problem.x.length).fill(0);
  const varying = problem.varying;
  const m = varying.length;
  if (m === 0) return { values, baseValue: problem.baseValue, classIndex: problem.classIndex };
  if (m === 1) {
    values[varying[0]!] = total;
    return { values, baseValue: problem.baseValue, classIndex: problem.classIndex };
  }
  const { masks, weights } = shapleyCoalitions(m, Math.min(nsamplesOption, 2 ** m - 2), random);
  const count = weights.length;
  // Masks over the varying features, widened to all features for the model.
  const full = new Uint8Array(count * problem.x.length);
  for (let s = 0; s < count; s++) varying.forEach((feature, j) => (full[s * problem.x.length + feature] = masks[s * m + j]!));
  const v = coalitionValues(where, problem, full, count);
  // Eliminate the last feature with the constraint φ_last = total − Σ others, then solve the
  // weighted least squares for the others: minimize Σ w (v − fnull − z·φ)².
  const last = m - 1;
  const p = m - 1;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  const row = new Float64Array(p);
  for (let s = 0; s < count; s++) {
    const zl = masks[s * m + last]!;
    const y = v[s]! - problem.baseValue - zl * total;
    for (let j = 0; j < p; j++) row[j] = masks[s * m + j]! - zl;
    for (let i = 0; i < p; i++) {
      b[i]! += weights[s]! * row[i]! * y;
      for (let j = 0; j < p; j++) a[i * p + j]! += weights[s]! * row[i]! * row[j]!;
    }
  }
  const phi = solve(a, b, p);
  phi.forEach((value, j) => (values[varying[j]!] = value));
  values[varying[last]!] = total - phi.reduce((s, value) => s + value, 0);
  return { values, baseValue: problem.baseValue, classIndex: problem.classIndex };
}

/**
 * GradientSHAP (expected gradients, Erion et al.), as shap's GradientExplainer without its extra
 * noise: for each of `samples` draws, a background row b and α ~ U(0, 1), the gradient of the
 * class output at b + α (x − b), times (x − b); the values are the mean. It is Integrated
 * Gradients averaged over the background, so the values sum to about f(x) − E[f(background)]
 * (efficiency, up to sampling error).
 *
 * @param model - a Model of one input and a [batch, classes] output, or a differentiable function
 *   (batch Tensor → [n, classes] or [n]) built from @axon/tensor ops.
 * @param x - one input: [...shape] or [1, ...shape] (NHWC for images).
 * @param background - [rows, ...shape].
 * @throws Error for a bad argument or option (naming it, expected and given), or bad model outputs.
 *
 * @example
 * ```ts
 * const { values, baseValue } = gradientShap(model, image, backgroundImages, { samples: 100, seed: 1 });
 * values.shape; // image's shape
 * ```
 */
export function gradientShap(model: BatchFunction, x: Tensor, background: Tensor, options: GradientShapOptions = {}): GradientShapValues {
  const where = 'gradientShap';
  checkOptions(where, options, ['samples', 'classIndex', 'seed']);
  checkPredictor(where, 'model', model);
  const { point, rows, shape, base } = inputs(where, x, background);
  const size = point.length;
  const samples = positiveInt(where, 'samples', options.samples, 200);
  const fx = runChunked(where, model, 1, shape, (_, into) => into.set(point));
  const classIndex = chooseClass(where, options.classIndex, fx);
  const baseValue = mean(
    outputColumn(
      runChunked(where, model, rows, shape, (r, into) => into.set(base.subarray(r * size, (r + 1) * size))),
      classIndex,
    ),
  );
  const random = seededRandom(where, options.seed);
  const total = new Float64Array(size);
  for (let start = 0; start < samples; start += GRADIENT_BATCH) {
    const n = Math.min(GRADIENT_BATCH, samples - start);
    const points = new Float32Array(n * size);
    const deltas = new Float64Array(n * size);
    for (let k = 0; k < n; k++) {
      const r = random.int(rows);
      const alpha = random.next();
      for (let i = 0; i < size; i++) {
        const b = base[r * size + i]!;
        deltas[k * size + i] = point[i]! - b;
        points[k * size + i] = b + alpha * (point[i]! - b);
      }
    }
    const grads = classGradients(where, model, tensor(points, [n, ...shape]), classIndex);
    for (let i = 0; i < n * size; i++) total[i % size]! += grads[i]! * deltas[i]!;
  }
  return {
    values: tensor(
      Float32Array.from(total, (v) => v / samples),
      x.shape,
    ),
    baseValue,
    classIndex,
  };
}

// ---- the shared parts ------------------------------------------------------------------------

/** What the value function needs: the model, x, the background, the class, f(x) and E[f(background)]. */
interface ShapProblem {
  f: BatchFunction;
  x: Float64Array;
  background: Float64Array;
  rows: number;
  classIndex: number;
  fx: number;
  baseValue: number;
  /** Features where some background row differs from x (the others have value 0). */
  varying: number[];
}

function shapProblem(where: string, f: BatchFunction, x: Tensor, background: Tensor, classIndex: number | undefined): ShapProblem {
  checkPredictor(where, 'f', f);
  const { point, rows, shape, base } = inputs(where, x, background);
  if (shape.length !== 1) throw new Error(`${where}: x must be [features] or [1, features], got ${describe(x)}`);
  const m = point.length;
  const fxOut: Outputs = runChunked(where, f, 1, [m], (_, into) => into.set(point));
  const c = chooseClass(where, classIndex, fxOut);
  const baseValue = mean(
    outputColumn(
      runChunked(where, f, rows, [m], (r, into) => into.set(base.subarray(r * m, (r + 1) * m))),
      c,
    ),
  );
  const varying = Array.from({ length: m }, (_, i) => i).filter((i) => {
    for (let r = 0; r < rows; r++) if (base[r * m + i] !== point[i]) return true;
    return false;
  });
  return { f, x: point, background: base, rows, classIndex: c, fx: fxOut.values[c]!, baseValue, varying };
}

/** x and the background read and checked: x is one input of the background rows' shape. */
function inputs(
  where: string,
  x: unknown,
  background: unknown,
): { point: Float64Array; rows: number; shape: number[]; base: Float64Array } {
  const xt = checkTensor(where, 'x', x);
  const bt = checkTensor(where, 'background', background);
  const shape = bt.shape.slice(1);
  const xShape = xt.rank === bt.rank && xt.shape[0] === 1 ? xt.shape.slice(1) : xt.shape;
  if (bt.rank < 2 || bt.shape[0]! < 1 || xShape.length !== shape.length || xShape.some((n, i) => n !== shape[i]) || xt.size === 0) {
    throw new Error(
      `${where}: background must be [rows, ...shape] with x [...shape] or [1, ...shape]; got x ${describe(xt)} and background ${describe(bt)}`,
    );
  }
  const point = Float64Array.from(xt.dataSync());
  const base = Float64Array.from(bt.dataSync());
  if (point.some((v) => !Number.isFinite(v))) throw new Error(`${where}: x has a non-finite value (NaN or Infinity)`);
  if (base.some((v) => !Number.isFinite(v))) throw new Error(`${where}: background has a non-finite value (NaN or Infinity)`);
  return { point, rows: bt.shape[0]!, shape, base };
}

/** v(S) for each coalition mask: the mean over background rows of f with the masked features set to x's. */
function coalitionValues(where: string, problem: ShapProblem, masks: Uint8Array, count: number): Float64Array {
  const { x, background, rows } = problem;
  const m = x.length;
  const out = runChunked(where, problem.f, count * rows, [m], (r, into) => {
    const s = Math.floor(r / rows);
    const b = r % rows;
    for (let i = 0; i < m; i++) into[i] = masks[s * m + i] ? x[i]! : background[b * m + i]!;
  });
  const column = outputColumn(out, problem.classIndex);
  return Float64Array.from({ length: count }, (_, s) => mean(column.subarray(s * rows, (s + 1) * rows)));
}

/**
 * shap KernelExplainer's choice of coalitions for M features and a budget of n. Sizes go in pairs
 * (k and M − k, whose Shapley kernel weights are equal), k = 1, 2, …: while the budget left,
 * spread by the remaining kernel weight, gives every subset of the pair at least one sample, the
 * pair is enumerated with its exact weight. The rest of the budget samples sizes by kernel weight
 * and a random subset of each (with its complement); repeats add weight, and these samples share
 * the kernel weight of the sizes not enumerated.
 */
function shapleyCoalitions(m: number, budget: number, random: Random): { masks: Uint8Array; weights: Float64Array } {
  const sizes = Math.ceil((m - 1) / 2);
  const pairedSizes = Math.floor((m - 1) / 2);
  const kernelWeight = Array.from({ length: sizes }, (_, i) => ((m - 1) / ((i + 1) * (m - i - 1))) * (i < pairedSizes ? 2 : 1));
  const norm = kernelWeight.reduce((a, b) => a + b, 0);
  kernelWeight.forEach((w, i) => (kernelWeight[i] = w / norm));
  const masks: number[][] = [];
  const weights: number[] = [];
  const add = (mask: number[], weight: number): void => {
    masks.push(mask);
    weights.push(weight);
  };
  const complement = (mask: number[]): number[] => mask.map((v) => 1 - v);
  let left = budget;
  let full = 0;
  const remaining = [...kernelWeight];
  for (let size = 1; size <= sizes; size++) {
    const paired = size <= pairedSizes;
    const subsets = binomial(m, size) * (paired ? 2 : 1);
    if ((left * remaining[size - 1]!) / subsets < 1 - 1e-8) break;
    full++;
    left -= subsets;
    if (remaining[size - 1]! < 1) {
      const rest = 1 - remaining[size - 1]!;
      remaining.forEach((w, i) => (remaining[i] = w / rest));
    }
    const weight = kernelWeight[size - 1]! / binomial(m, size) / (paired ? 2 : 1);
    for (const subset of combinations(m, size)) {
      const mask = new Array<number>(m).fill(0);
      for (const i of subset) mask[i] = 1;
      add(mask, weight);
      if (paired) add(complement(mask), weight);
    }
  }
  if (full < sizes && left > 0) {
    const fixed = weights.length;
    // Each draw of a paired size also yields its complement, so those sizes are drawn half as often.
    const drawWeight = kernelWeight.map((w, i) => (i < pairedSizes ? w / 2 : w)).slice(full);
    const drawNorm = drawWeight.reduce((a, b) => a + b, 0);
    const seen = new Map<string, number>();
    // shap draws 4 × the budget of sizes and stops there, so repeats cannot loop forever.
    for (let draw = 0; draw < 4 * budget && left > 0; draw++) {
      let u = random.next() * drawNorm;
      let k = 0;
      while (k < drawWeight.length - 1 && u >= drawWeight[k]!) u -= drawWeight[k++]!;
      const size = k + full + 1;
      const mask = new Array<number>(m).fill(0);
      for (const i of random.permutation(m).subarray(0, size)) mask[i] = 1;
      const key = mask.join('');
      const at = seen.get(key);
      if (at === undefined) {
        seen.set(key, weights.length);
        add(mask, 1);
        left--;
      } else {
        weights[at]! += 1;
      }
      if (left > 0 && size <= pairedSizes) {
        if (at === undefined) {
          add(complement(mask), 1);
          left--;
        } else {
          weights[at + 1]! += 1;
        }
      }
    }
    // The sampled coalitions share the kernel weight of the sizes left out of the enumeration.
    const sampled = weights.slice(fixed).reduce((a, b) => a + b, 0);
    const share = kernelWeight.slice(full).reduce((a, b) => a + b, 0);
    for (let i = fixed; i < weights.length; i++) weights[i] = (weights[i]! * share) / sampled;
  }
  return { masks: Uint8Array.from(masks.flat()), weights: Float64Array.from(weights) };
}

/** The gradient of output `classIndex` at each row of `points`, as host numbers shaped like points. */
function classGradients(where: string, model: BatchFunction, points: Tensor, classIndex: number): Float32Array {
  if (model instanceof Model) return Float32Array.from(model.inputGradients(points, classIndex).dataSync());
  return scope(where, () => {
    const { value, grads } = valueAndGrads(() => {
      const y = model(points);
      if (y.rank === 1) return sum(y);
      return sum(slice(y, [0, classIndex], [-1, 1]));
    }, [points]);
    // valueAndGrads gives zeros when the output never touched the input through recorded ops (a
    // model computed on host numbers); all-zero values would look like an answer, so say so.
    if (!value.requiresGrad) {
      throw new Error(
        `${where}: the model's output is not differentiable with respect to its input (build it from @axon/tensor ops, or pass a Model)`,
      );
    }
    return Float32Array.from(grads[0]!.dataSync());
  });
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Every k-subset of 0..n−1, in lexicographic order. */
function* combinations(n: number, k: number): Generator<number[]> {
  const pick = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...pick];
    let i = k - 1;
    while (i >= 0 && pick[i] === n - k + i) i--;
    if (i < 0) return;
    pick[i]!++;
    for (let j = i + 1; j < k; j++) pick[j] = pick[j - 1]! + 1;
  }
}

function mean(values: Float64Array): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
