import { beforeAll, describe, it } from 'vitest';
import { setBackend } from '@axon/tensor';
import { opCases } from '@axon/tensor/testing';
import '../src/index.js';

// Every differentiable op against finite differences, with this backend's kernels doing the work.
describe('op cases on js', () => {
  beforeAll(() => setBackend('js'));
  for (const c of opCases) it(c.name, () => c.run());
});
