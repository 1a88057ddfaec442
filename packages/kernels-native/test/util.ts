/** Shared helpers of the kernels-native tests: seeded randomness, views, comparison, and the skip rule. */
import { nativeAvailable, nativeUnavailableReason } from '../src/index.js';

/**
 * Native tests run when the addon loaded. Without it they are skipped with the reason in the
 * suite name (the no-addon CI variant), unless AXON_REQUIRE_NATIVE=1 demands the addon.
 */
export const requireNative = process.env.AXON_REQUIRE_NATIVE === '1';
export const skipNative = !nativeAvailable && !requireNative;
export const nativeSuiteName = (name: string): string =>
  nativeAvailable ? name : `${name} — SKIPPED: native addon unavailable (${nativeUnavailableReason})`;

/** Mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /**
   * A Float32Array of n values in [lo, hi) — sometimes a view at an odd offset
   * inside a larger buffer, so byteOffset handling is always exercised.
   */
  floats(n: number, lo = -1, hi = 1): Float32Array {
    const pad = this.bool(0.5) ? this.int(1, 7) : 0;
    const buffer = new Float32Array(n + pad + this.int(0, 3)).fill(NaN);
    const view = buffer.subarray(pad, pad + n);
    for (let i = 0; i < n; i++) view[i] = this.uniform(lo, hi);
    return view;
  }
  ints(n: number, lo: number, hi: number): Int32Array {
    const pad = this.bool(0.5) ? this.int(1, 5) : 0;
    const view = new Int32Array(n + pad).subarray(pad);
    for (let i = 0; i < n; i++) view[i] = this.int(lo, hi);
    return view;
  }
}

/** An independent copy (so each backend gets identical, separate inputs/outputs). */
export function copy<T extends Float32Array | Int32Array>(a: T): T {
  return a.slice() as T;
}

/**
 * Throws unless |actual - expected| <= atol + rtol*|expected| everywhere
 * (NaN must match NaN, infinities must match exactly).
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-6): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e)) continue;
    throw new Error(`${what}: element ${i} is ${a} (native), expected ${e} (js)`);
  }
}

export function assertEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assertClose(actual, expected, what, 0, 0);
}
