/**
 * The shared kernel conformance suite (@axon/tensor/testing) and the op cases
 * (every differentiable op against finite differences and expected values),
 * run on the native backend.
 */
import { getBackend, kernelProviders, setBackend } from '@axon/tensor';
import { conformanceCases, conformanceCasesFor, opCases } from '@axon/tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNativeBackend, nativeAvailable } from '../src/index.js';
import { nativeSuiteName, skipNative } from './util.js';

describe.skipIf(skipNative)(nativeSuiteName('kernel conformance (native backend)'), () => {
  // The kernels the addon implements; the others are js's, checked by its own suite.
  // (Without the addon under AXON_REQUIRE_NATIVE=1 every case runs, and fails with the reason.)
  for (const c of nativeAvailable ? conformanceCasesFor(createNativeBackend()) : conformanceCases)
    it(c.name, () => c.run(createNativeBackend()));
});

describe.skipIf(skipNative)(nativeSuiteName('op cases with native active'), () => {
  let previous = '';
  beforeAll(() => {
    previous = getBackend().name;
    setBackend('native');
  });
  afterAll(() => {
    if (previous) setBackend(previous);
  });
  for (const c of opCases) it(c.name, () => c.run());
});

describe.skipIf(skipNative)(nativeSuiteName('kernels the addon leaves to js'), () => {
  it('are served by js on the same host memory; every other kernel by the addon', () => {
    const previous = getBackend().name;
    setBackend('native');
    try {
      const providers = kernelProviders();
      // Measured no faster in the addon at the seed models' sizes (benchmarks/src/per-kernel.js).
      expect(
        providers
          .filter((p) => p.backend === 'js')
          .map((p) => p.kernel)
          .sort(),
      ).toEqual(['argReduce', 'fill', 'gather', 'oneHot']);
      expect(providers.filter((p) => p.backend !== 'js' && p.backend !== 'native')).toEqual([]);
    } finally {
      setBackend(previous);
    }
  });
});
