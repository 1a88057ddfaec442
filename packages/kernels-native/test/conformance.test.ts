/**
 * The shared kernel conformance suite (@axon/tensor/testing) and the op cases
 * (every differentiable op against finite differences and expected values),
 * run on the native backend.
 */
import { getBackend, setBackend } from '@axon/tensor';
import { conformanceCases, opCases } from '@axon/tensor/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { createNativeBackend } from '../src/index.js';
import { nativeSuiteName, skipNative } from './util.js';

describe.skipIf(skipNative)(nativeSuiteName('kernel conformance (native backend)'), () => {
  for (const c of conformanceCases) it(c.name, () => c.run(createNativeBackend()));
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
