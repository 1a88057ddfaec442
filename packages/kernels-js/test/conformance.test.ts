import { conformanceCases } from '@axon/tensor/testing';
import { describe, it } from 'vitest';
import { createJsBackend } from '../src/index.js';

describe('kernel conformance (js backend)', () => {
  for (const c of conformanceCases) it(c.name, () => c.run(createJsBackend()));
});
