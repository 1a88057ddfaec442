/**
 * Registers backend 'native' (or marks it unavailable with the reason) — once per process however
 * many entry points import this.
 */
import { markBackendUnavailable, registerBackend } from '@axon/tensor';
// The TypeScript backend serves the kernels the addon does not implement, and everything when the
// addon cannot load: importing this package alone always leaves a working backend.
import '@axon/kernels-js';

import { createBackendFromAddon } from './backend.js';
import { ENABLE_HINT, NATIVE_PRIORITY } from './api.js';
import { loaded } from './loaded.js';

// One warning per thread, even when a second copy of this module is evaluated (a bundler's, a test's).
const WARNED = Symbol.for('axon.kernels-native.warned');
let registered = false;

export function registerNative(options: { quiet: boolean }): void {
  if (registered) return;
  registered = true;
  const { addon } = loaded;
  if (addon) {
    const env = process.env.AXON_NUM_THREADS;
    if (env !== undefined && env !== '') {
      const n = Number(env);
      if (Number.isInteger(n) && n >= 0) addon.setNumThreads(n);
      else process.stderr.write(`@axon/kernels-native: ignoring AXON_NUM_THREADS=${env} (expected a non-negative integer)\n`);
    }
    registerBackend('native', () => createBackendFromAddon(addon), NATIVE_PRIORITY);
  } else {
    const reason = loaded.addon ? '' : loaded.reason;
    markBackendUnavailable('native', `${reason}; ${ENABLE_HINT}`);
    const g = globalThis as { [WARNED]?: boolean };
    if (!options.quiet && !g[WARNED]) {
      g[WARNED] = true;
      process.stderr.write(`@axon/kernels-native: native backend unavailable (${reason}); using 'js' — ${ENABLE_HINT}.\n`);
    }
  }
}
