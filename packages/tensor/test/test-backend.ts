import { beforeAll } from 'vitest';
import { registerBackend, setBackend } from '../src/registry.js';
import { createReferenceBackend } from '../src/testing/reference.js';

/**
 * @axon/tensor may not depend on a kernel package, so its own tests run the ops
 * on the naive reference backend from the testing kit; the kernel packages run
 * the same op cases on their real kernels.
 */
export function useTestBackend(): void {
  beforeAll(() => {
    registerBackend('reference', createReferenceBackend, 0);
    setBackend('reference');
  });
}
