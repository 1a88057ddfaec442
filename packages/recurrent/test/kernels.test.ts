/**
 * The recurrent conformance cases (@axon/tensor/testing) on every registered
 * backend: each fused kernel against the composite path of ordinary ops.
 */
import { getBackend, setBackend } from '@axon/tensor';
import { recurrentConformanceCases } from '@axon/tensor/testing';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers.js';

describe.each(BACKENDS)('fused recurrent kernels on %s', (name) => {
  it('provides all six fused kernels', () => {
    const backend = setBackend(name);
    const kernels = ['lstmForward', 'lstmBackward', 'gruForward', 'gruBackward', 'simpleRnnForward', 'simpleRnnBackward'] as const;
    expect(kernels.filter((k) => typeof backend[k] !== 'function')).toEqual([]);
  });

  for (const c of recurrentConformanceCases) {
    it(c.name, () => {
      // The composite reference runs on the same (active) backend with fused: false.
      setBackend(name);
      c.run(getBackend());
    });
  }
});
