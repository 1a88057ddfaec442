/**
 * @axon/kernels-native: the C++/OpenBLAS backend.
 *
 * Importing this module loads the addon and registers backend 'native' (priority 20, above 'js'),
 * and imports @axon/kernels-js, which serves the kernels the addon leaves out. If the addon is
 * absent or cannot load, importing still succeeds: the backend is marked unavailable with the
 * reason, one line on stderr says why and how to enable it, and 'js' serves.
 */
import { markBackendUnavailable, registerBackend, type Backend } from '@axon/tensor';
// The TypeScript backend serves the kernels the addon does not implement, and everything when the
// addon cannot load: importing this package alone always leaves a working backend.
import '@axon/kernels-js';

import { loadAddon, type NativeAddon } from './addon.js';
import { createBackendFromAddon } from './backend.js';

export type { NativeAddon } from './addon.js';
export { defaultAddonPath } from './addon.js';

/** Priority of 'native' in the registry (kernels-js registers lower), so it is the default when present. */
export const NATIVE_PRIORITY = 20;

const ENABLE_HINT = 'to enable it: apt-get install libopenblas-dev cmake g++, then rebuild (pnpm --filter @axon/kernels-native build)';

const loaded = loadAddon();
const addon: NativeAddon | undefined = loaded.addon;

/** Whether the addon loaded in this process. */
export const nativeAvailable: boolean = addon !== undefined;
/** Why it did not (undefined when it did). */
export const nativeUnavailableReason: string | undefined = loaded.addon ? undefined : loaded.reason;

function requireAddon(what: string): NativeAddon {
  if (!addon) throw new Error(`@axon/kernels-native: ${what} needs the native addon, which is unavailable: ${nativeUnavailableReason}`);
  return addon;
}

/**
 * A fresh `native` Backend (throws if the addon is unavailable). Usually you just import the package and use getBackend().
 *
 * @throws Error if the addon is unavailable (the message gives {@link nativeUnavailableReason}).
 *
 * @example
 * ```ts
 * import { nativeAvailable, nativeUnavailableReason } from '@axon/kernels-native';
 * import { getBackend } from '@axon/tensor';
 *
 * console.log(nativeAvailable ? getBackend().name : `js only: ${nativeUnavailableReason}`); // 'native'
 * ```
 */
export function createNativeBackend(): Backend {
  return createBackendFromAddon(requireAddon('createNativeBackend'));
}

/**
 * Threads used by the native kernels: our pool and OpenBLAS together (they never run at once).
 * `n <= 0` means all cores. Returns the count in effect; a no-op returning 0 without the addon.
 */
export function setNumThreads(n: number): number {
  return addon ? addon.setNumThreads(Math.max(0, Math.floor(n))) : 0;
}

/** Threads in effect (0 without the addon). */
export function getNumThreads(): number {
  return addon ? addon.getNumThreads() : 0;
}

/** Which OpenBLAS the addon uses (undefined without it). */
export function blasInfo():
  | {
      /** openblas_get_config(): version and build options. */
      config: string;
      /** openblas_get_corename(): the CPU kernel set OpenBLAS chose. */
      corename: string;
      /** openblas_get_num_threads(). */
      threads: number;
    }
  | undefined {
  return addon?.blasInfo();
}

/** Benchmark hooks, not part of the Backend: the raw cblas_sgemm call and the conv threading switch. */
export const nativeTesting = {
  /** C = A·B (m×k times k×n, row-major) straight into cblas_sgemm. Throws without the addon. */
  rawSgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void {
    requireAddon('rawSgemm').rawSgemm(a, b, c, m, n, k);
  },
  /** Conv threading: 'auto' (default), 'batch' (our pool over the batch) or 'blas' (OpenBLAS threads). Throws without the addon. */
  setConvStrategy(strategy: 'auto' | 'batch' | 'blas'): void {
    requireAddon('setConvStrategy').setConvStrategy(strategy);
  },
};

const WARNED = Symbol.for('axon.kernels-native.warned');

if (addon) {
  const env = process.env.AXON_NUM_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 0) addon.setNumThreads(n);
    else process.stderr.write(`@axon/kernels-native: ignoring AXON_NUM_THREADS=${env} (expected a non-negative integer)\n`);
  }
  registerBackend('native', () => createBackendFromAddon(addon), NATIVE_PRIORITY);
} else {
  const reason = nativeUnavailableReason ?? 'unknown';
  markBackendUnavailable('native', `${reason}; ${ENABLE_HINT}`);
  const g = globalThis as { [WARNED]?: boolean };
  if (!g[WARNED]) {
    g[WARNED] = true;
    process.stderr.write(`@axon/kernels-native: native backend unavailable (${reason}); using 'js' — ${ENABLE_HINT}.\n`);
  }
}
