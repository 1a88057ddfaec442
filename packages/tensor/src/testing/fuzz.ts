/**
 * What the property-based fuzz tests of the Axon packages share: their settings (a fixed seed in CI,
 * overridable to explore) and their invariant for a refusal — a clear Error, never a TypeError from
 * inside. The generators themselves (fast-check) live in each package's tests.
 */

/** The seed and size of one fuzz run. */
export interface FuzzConfig {
  /** The fast-check seed: fixed in CI, so a failure reproduces; `AXON_FUZZ_SEED` sets another. */
  readonly seed: number;
  /** Cases per property: `defaultRuns` in CI, times `AXON_FUZZ_SCALE` (a positive number) to explore more. */
  readonly numRuns: number;
}

/** The seed every fuzz test uses unless `AXON_FUZZ_SEED` says otherwise. */
export const DEFAULT_FUZZ_SEED = 20261130;

function envNumber(name: string, valid: (n: number) => boolean): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!valid(n)) throw new Error(`${name} must be ${name === 'AXON_FUZZ_SEED' ? 'an integer' : 'a positive number'}, got '${raw}'`);
  return n;
}

/**
 * The settings of a fuzz property from the environment: `AXON_FUZZ_SEED` (an integer) and
 * `AXON_FUZZ_SCALE` (multiplies `defaultRuns`), so CI runs a bounded, reproducible set and a person
 * can run `AXON_FUZZ_SEED=7 AXON_FUZZ_SCALE=20 npx vitest run test/fuzz-ops.test.ts` to explore.
 *
 * @param defaultRuns - Cases per property in CI.
 * @throws Error if either variable is set to something that is not a valid number.
 */
export function fuzzConfig(defaultRuns: number): FuzzConfig {
  const seed = envNumber('AXON_FUZZ_SEED', Number.isInteger) ?? DEFAULT_FUZZ_SEED;
  const scale = envNumber('AXON_FUZZ_SCALE', (n) => n > 0) ?? 1;
  return { seed, numRuns: Math.max(1, Math.round(defaultRuns * scale)) };
}

/**
 * Why `error` is not a clear refusal, or null when it is one: an `Error` (a TypeError or
 * RangeError is a crash from inside unless its message names the culprit too) whose message names
 * one of `names` (the op, layer or option the caller used), case-insensitively.
 *
 * @param names - What a clear message may name; one must appear.
 */
export function unclearError(error: unknown, names: readonly string[]): string | null {
  if (!(error instanceof Error)) return `threw a non-Error: ${String(error)}`;
  const message = error.message.toLowerCase();
  if (names.some((n) => message.includes(n.toLowerCase()))) return null;
  return `${error.constructor.name} '${error.message}' names none of ${names.join(', ')}`;
}
