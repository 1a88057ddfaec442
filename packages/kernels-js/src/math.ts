/** Scalar special functions, in float64, accurate well beyond float32 precision. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * x^y as IEEE 754, C's pow, NumPy and PyTorch define it: JavaScript's ** gives NaN for 1^±Infinity,
 * 1^NaN and (-1)^±Infinity, where those give 1 (and the native backend does).
 */
export function ieeePow(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Number.POSITIVE_INFINITY || y === Number.NEGATIVE_INFINITY))) return 1;
  return x ** y;
}

/** erf by its Maclaurin series: converges fast and without cancellation for |x| < 1. */
function erfSeries(x: number): number {
  // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)); 15 terms leave < 1e-16 at |x| = 1.
  const x2 = x * x;
  let power = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 15; n++) {
    power *= -x2 / n;
    sum += power / (2 * n + 1);
  }
  return TWO_OVER_SQRT_PI * sum;
}

/**
 * erfc for z >= 0 by the Chebyshev-fitted exponential of Numerical Recipes
 * (fractional error < 1.2e-7 everywhere), used where erfc is small, so the
 * absolute error of erf = 1 - erfc stays below 2e-8.
 */
function erfcPositive(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-z * z + poly);
}

export function erf(x: number): number {
  if (x !== x) return x;
  if (x > -1 && x < 1) return erfSeries(x);
  return x > 0 ? 1 - erfcPositive(x) : erfcPositive(-x) - 1;
}

/** erfc(x) = 1 - erf(x), computed without cancellation in the tails. */
export function erfc(x: number): number {
  if (x !== x) return x;
  if (x > -1 && x < 1) return 1 - erfSeries(x);
  return x > 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}

/** Logistic sigmoid without overflow: exp is only ever taken of a non-positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Round half to even (banker's rounding), as TensorFlow's round does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds halves up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const SQRT1_2 = Math.SQRT1_2;

/** gelu(x) = x Φ(x) with the exact normal CDF, Φ(x) = erfc(-x/√2)/2 (accurate in both tails). */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x * SQRT1_2);
}

/** SELU constants (Klambauer et al. 2017), as Keras uses them. */
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
