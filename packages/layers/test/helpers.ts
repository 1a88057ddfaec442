/**
 * Shared by the layer tests: registers every backend that can load (kernels-js
 * always; kernels-native when importable and its addon loads) and compares
 * tensors with fixtures.
 */
import '@axon/kernels-js';
import { backendStatus, listBackends, setBackend, tensor, type Tensor } from '@axon/tensor';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

// Not a declared dependency of @axon/layers (yet): a variable specifier keeps tsc from resolving it.
const nativePackage = '@axon/kernels-native';
try {
  await import(nativePackage);
} catch {
  // absent: the tests run on 'js' only
}

/** Every registered backend: the tests run once on each. */
export const BACKENDS: string[] = listBackends();
export const UNAVAILABLE = backendStatus().filter((b) => !b.available);

export function useBackend(name: string): void {
  setBackend(name);
}

export interface Encoded {
  shape: number[];
  values: number[];
}

export interface Fixture {
  name: string;
  layer: { className: string; config: Record<string, unknown> };
  training: boolean;
  input: Encoded;
  weights: Encoded[];
  output: Encoded;
  projection: Encoded;
  inputGrad: Encoded | null;
  weightGrads: (Encoded | null)[];
  weightsAfter?: Encoded[];
}

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function loadFixtures(prefix = ''): Fixture[] {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.json') && f.startsWith(prefix))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as Fixture);
}

export function decode(e: Encoded): Tensor {
  return tensor(Float32Array.from(e.values), e.shape);
}

/**
 * Element-wise |actual - expected| <= rtol * (|expected| + scale), where scale
 * is the largest |expected| of the array: relative to the array's magnitude,
 * so that values that cancel to near zero are not held to a relative 1e-5.
 */
export function expectClose(actual: Tensor, expected: Encoded, what: string, rtol = 1e-5): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  let at = -1;
  expected.values.forEach((e, i) => {
    const err = Math.abs(a[i]! - e) / (Math.abs(e) + scale + 1e-30);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  });
  if (!(worst <= rtol)) {
    throw new Error(
      `${what}: value ${at} is ${a[at]}, expected ${expected.values[at]} (relative error ${worst.toExponential(2)} > ${rtol})`,
    );
  }
}

/** Deterministic values in [lo, hi), at least `gap` away from zero. */
export function seeded(shape: number[], seed: number, lo = -1, hi = 1, gap = 0): Tensor {
  let state = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    let v = lo + ((hi - lo) * state) / 4294967296;
    if (gap > 0 && Math.abs(v) < gap) v = v < 0 ? -gap - Math.abs(v) : gap + v;
    values[i] = v;
  }
  return tensor(values, shape);
}

/**
 * Runs fn with the layer's weight fields (kernel, bias, ...) temporarily
 * replaced by the given tensors, matched by identity in `layer.trainableWeights`
 * order, so that finite-difference checks can perturb weights as inputs.
 */
export function withWeights<T>(layer: object, variables: readonly Tensor[], replacements: readonly Tensor[], fn: () => T): T {
  const fields = layer as Record<string, unknown>;
  const swapped: [string, unknown][] = [];
  for (const key of Object.keys(fields)) {
    const index = variables.indexOf(fields[key] as Tensor);
    if (index >= 0) {
      swapped.push([key, fields[key]]);
      fields[key] = replacements[index];
    }
  }
  if (swapped.length !== variables.length) {
    throw new Error(`withWeights: found ${swapped.length} of ${variables.length} weights among the layer's fields`);
  }
  try {
    return fn();
  } finally {
    for (const [key, value] of swapped) fields[key] = value;
  }
}
