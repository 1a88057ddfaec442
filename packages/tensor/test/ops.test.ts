import { describe, it } from 'vitest';
import { opCases } from '../src/testing/op-cases.js';
import { useTestBackend } from './test-backend.js';

useTestBackend();

describe('op cases on the reference backend', () => {
  for (const c of opCases) it(c.name, () => c.run());
});
