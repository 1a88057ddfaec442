import { conformanceCases } from '@axon/tensor/testing';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { simdAvailable } from '../src/wasm/simd.js';

describe('kernel conformance (js backend)', () => {
  it('has the WebAssembly SIMD kernels in this Node (so the default run below exercises them)', () => {
    expect(simdAvailable).toBe(true);
  });
  for (const c of conformanceCases) it(c.name, () => c.run(createJsBackend()));
});

describe('kernel conformance (js backend, pure TypeScript: simd off)', () => {
  for (const c of conformanceCases) it(c.name, () => c.run(createJsBackend({ simd: false })));
});
