/**
 * One seeded generator drives every random op (initializers, dropout,
 * shuffling), so `setSeed(n)` makes a whole run reproducible.
 * xoshiro128** — small, fast and statistically sound for this purpose.
 */
let s0 = 0,
  s1 = 0,
  s2 = 0,
  s3 = 0;
let spareNormal: number | null = null;

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Resets the global generator (xoshiro128**), which every random op uses: initializers,
 * dropout, shuffling in fit, randomUniform/randomNormal. The same seed gives the same
 * sequence of random values, so a whole run is reproducible. Without a call the seed is taken
 * from the clock and Math.random at start-up.
 *
 * @throws Error if seed is not a finite number.
 *
 * @example
 * ```ts
 * setSeed(42);
 * const a = randomNormal([2, 2]);
 * setSeed(42);
 * const b = randomNormal([2, 2]); // the same values as a
 * ```
 */
export function setSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new Error(`setSeed: seed must be a finite number, got ${seed}`);
  const next = splitmix32(Math.floor(seed));
  s0 = next();
  s1 = next();
  s2 = next();
  s3 = next();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  spareNormal = null;
}

function nextUint32(): number {
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = (s1 << 9) >>> 0;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 = (s2 ^ t) >>> 0;
  s3 = rotl(s3, 11);
  s0 >>>= 0;
  s1 >>>= 0;
  s2 >>>= 0;
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A number uniform in [0, 1), from the global generator. */
export function randomFloat(): number {
  return nextUint32() / 4294967296;
}

/** A standard normal number (Box–Muller, caching the second value), from the global generator. */
export function randomStandardNormal(): number {
  if (spareNormal !== null) {
    const v = spareNormal;
    spareNormal = null;
    return v;
  }
  let u = 0;
  while (u === 0) u = randomFloat();
  const v = randomFloat();
  const r = Math.sqrt(-2 * Math.log(u));
  spareNormal = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

/** An integer uniform in [0, n), from the global generator. */
export function randomInt(n: number): number {
  return Math.floor(randomFloat() * n);
}

/** In-place Fisher–Yates shuffle driven by the global generator. */
export function shuffleInPlace<T>(items: { length: number; [i: number]: T }): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
}

setSeed(Date.now() ^ (Math.random() * 0x7fffffff));
