import { registerBackend } from '@axon/tensor';
import { createJsBackend, type JsBackendOptions } from './backend.js';

/**
 * Priority 10: below the native backend, so `js` is the default only when the
 * addon is absent, and always available as the fallback.
 */
export const JS_BACKEND_PRIORITY = 10;

registerBackend('js', () => createJsBackend(), JS_BACKEND_PRIORITY);

export { createJsBackend, type JsBackendOptions };
export { DEFAULT_PARALLEL_THRESHOLD, DEFAULT_SIMD_PARALLEL_THRESHOLD } from './parallel.js';
export { getNumThreads, setNumThreads } from './threads.js';
