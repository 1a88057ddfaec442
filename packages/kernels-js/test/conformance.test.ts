import { conformanceCases } from '@axon/tensor/testing';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { HEAP } from '../src/wasm/layout.js';
import { simdAvailable, simdTesting } from '../src/wasm/simd.js';

describe('kernel conformance (js backend)', () => {
  it('has the WebAssembly SIMD kernels in this Node (so the default run below exercises them)', () => {
    expect(simdAvailable).toBe(true);
  });
  for (const c of conformanceCases) it(c.name, () => c.run(createJsBackend()));
});

describe('kernel conformance (js backend, pure TypeScript: simd off)', () => {
  for (const c of conformanceCases) it(c.name, () => c.run(createJsBackend({ simd: false })));
});

describe('kernel conformance (js backend, simd on but every call too big for the module: the TypeScript fallbacks)', () => {
  const backend = createJsBackend({ threads: 1 });
  const run = (c: (typeof conformanceCases)[number]) => () => {
    simdTesting.maxBytes = HEAP + 64;
    try {
      c.run(backend);
    } finally {
      simdTesting.maxBytes = 1 << 30;
    }
  };
  for (const c of conformanceCases) it(c.name, run(c));
});
