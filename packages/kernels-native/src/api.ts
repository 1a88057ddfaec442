/**
 * The public API of @axon/kernels-native, shared by both entry points: `index.ts` (registers and
 * warns on stderr when the addon is unavailable) and `quiet.ts` (registers silently, for packages
 * such as @axon/node whose users did not ask for the addon by name).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { Backend } from '@axon/tensor';
import { packageDir, type NativeAddon } from './addon.js';
import { loaded } from './loaded.js';
import { createBackendFromAddon } from './backend.js';

export type { NativeAddon } from './addon.js';
export { defaultAddonPath } from './addon.js';

/** Priority of 'native' in the registry (kernels-js registers lower), so it is the default when present. */
export const NATIVE_PRIORITY = 20;

// A checkout of the monorepo has the TypeScript sources next to dist/; an installed package does not.
const inWorkspace = existsSync(join(packageDir, 'tsconfig.json'));
/** How to get the native backend on this machine (part of the unavailable message). */
export const ENABLE_HINT = inWorkspace
  ? 'to enable it: apt-get install libopenblas-dev cmake g++, then pnpm --filter @axon/kernels-native build'
  : 'to enable it: apt-get install libopenblas-dev cmake g++, then npm rebuild @axon/kernels-native';

const addon: NativeAddon | undefined = loaded.addon;

/** Whether the addon loaded in this process. */
export const nativeAvailable: boolean = addon !== undefined;
/** The binary that loaded (a local build or a prebuild), or undefined. */
export const nativeAddonPath: string | undefined = loaded.addon ? loaded.path : undefined;
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
 * import { createNativeBackend, nativeAvailable } from '@axon/kernels-native';
 *
 * if (nativeAvailable) {
 *   const c = new Float32Array(1);
 *   createNativeBackend().gemm(Float32Array.of(2), Float32Array.of(3), c, 1, 1, 1, 1, false, false, 1, 0, 1, 1); // c = [6]
 * }
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
