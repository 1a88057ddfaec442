/**
 * Finding and loading the compiled addon (build/Release/axon_native.node).
 *
 * Loading never throws: a missing or broken addon becomes a reason string,
 * which index.ts reports once and records with the backend registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Kernels } from '@axon/tensor';

/**
 * The functions the addon exports (native/src/addon.cc): the kernels it
 * implements, with the exact signatures of the Kernels interface, plus the
 * controls below. Arrays are read and written in place.
 */
export interface NativeAddon extends Partial<Kernels> {
  /** The Node-API version the addon was built against. */
  readonly napiVersion: number;
  /** C = A·B straight into cblas_sgemm: the benchmark's baseline for the binding overhead. */
  rawSgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void;
  /** Threads of our pool and of OpenBLAS (0 = all cores); returns the count now in effect. */
  setNumThreads(n: number): number;
  /** Threads now in effect. */
  getNumThreads(): number;
  /** Conv threading for measurements: 'auto' (default), 'batch' or 'blas' (see README). */
  setConvStrategy(strategy: 'auto' | 'batch' | 'blas'): void;
  /** Which OpenBLAS the addon links (see blasInfo in the package root). */
  blasInfo(): {
    /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 ... Haswell MAX_THREADS=64". */
    config: string;
    /** openblas_get_corename(): the CPU kernel set OpenBLAS chose. */
    corename: string;
    /** openblas_get_num_threads(). */
    threads: number;
  };
}

export type LoadResult = { addon: NativeAddon; path: string } | { addon: undefined; path: string; reason: string };

/** Where the build puts the addon; AXON_NATIVE_ADDON_PATH overrides it. */
export const defaultAddonPath = fileURLToPath(new URL('../build/Release/axon_native.node', import.meta.url));

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export function loadAddon(): LoadResult {
  const override = process.env.AXON_NATIVE_ADDON_PATH;
  const path = override || defaultAddonPath;
  if (!existsSync(path)) {
    // The build script leaves its reason next to where the addon would be: <build>/UNAVAILABLE.txt.
    const markerPath = join(dirname(dirname(path)), 'UNAVAILABLE.txt');
    if (existsSync(markerPath)) {
      return { addon: undefined, path, reason: `the addon was not built: ${firstLine(readFileSync(markerPath, 'utf8'))}` };
    }
    return {
      addon: undefined,
      path,
      reason: `no addon at ${path}${override ? ' (AXON_NATIVE_ADDON_PATH)' : ' (the build has not run)'}`,
    };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (typeof addon?.gemm !== 'function') return { addon: undefined, path, reason: `${path} is not the Axon addon` };
    return { addon, path };
  } catch (e) {
    return { addon: undefined, path, reason: `the addon at ${path} failed to load: ${firstLine((e as Error).message)}` };
  }
}
