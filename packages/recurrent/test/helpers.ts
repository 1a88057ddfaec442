/**
 * Shared by the recurrent tests: registers every backend that loads
 * (kernels-js always; kernels-native when its addon loads), decodes fixtures,
 * and compares tensors.
 */
import '@axon/kernels-js';
import { backendStatus, listBackends, setBackend, tensor, type Tensor } from '@axon/tensor';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

try {
  await import('@axon/kernels-native');
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
  /** Embedding cases: the indices and table the input was looked up from (index 0 is masked). */
  embedding?: { indices: Encoded; table: Encoded };
  input: Encoded;
  mask: Encoded | null;
  initialState: Encoded[] | null;
  weights: Encoded[];
  outputs: Encoded[];
  projections: Encoded[];
  inputGrad: Encoded;
  weightGrads: Encoded[];
  initialStateGrads: Encoded[] | null;
}

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function loadFixtures(file: string): Fixture[] {
  return JSON.parse(readFileSync(join(fixtureDir, `${file}.json`), 'utf8')) as Fixture[];
}

export function decode(e: Encoded): Tensor {
  return tensor(Float32Array.from(e.values), e.shape);
}

/**
 * Element-wise |actual - expected| <= rtol * (|expected| + scale) + atol, where
 * scale is the largest |expected| of the array (values that cancel to near
 * zero are not held to a relative tolerance).
 */
export function expectClose(actual: Tensor, expected: Encoded, what: string, rtol = 2e-5, atol = 1e-6): void {
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const scale = expected.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expected.values.forEach((e, i) => {
    const err = Math.abs(a[i]! - e);
    if (!(err <= rtol * (Math.abs(e) + scale) + atol)) {
      throw new Error(`${what}: value ${i} is ${a[i]}, expected ${e} (|error| ${err.toExponential(2)})`);
    }
  });
}

/**
 * Runs fn with the weight fields (kernel, recurrentKernel, bias) of `owners`
 * (cells, layers) replaced by the given tensors, matched by identity with
 * `variables`, so finite-difference checks can perturb weights as inputs.
 */
export function withWeights<T>(owners: readonly object[], variables: readonly Tensor[], replacements: readonly Tensor[], fn: () => T): T {
  const swapped: [Record<string, unknown>, string, unknown][] = [];
  for (const owner of owners) {
    const fields = owner as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const index = variables.indexOf(fields[key] as Tensor);
      if (index >= 0) {
        swapped.push([fields, key, fields[key]]);
        fields[key] = replacements[index];
      }
    }
  }
  if (swapped.length !== variables.length) throw new Error(`withWeights: found ${swapped.length} of ${variables.length} weights`);
  try {
    return fn();
  } finally {
    for (const [fields, key, value] of swapped) fields[key] = value;
  }
}
