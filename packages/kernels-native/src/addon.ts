/**
 * Finding and loading the compiled addon.
 *
 * node-gyp-build (the loader prebuildify's packages use) picks the binary: a local build in
 * build/Release (from source: `pnpm build` in the monorepo, or `npm install` when no prebuild
 * loads), else the prebuilt one in prebuilds/<platform>-<arch>/ that matches this Node.
 * AXON_NATIVE_ADDON_PATH names a file instead. Loading never throws: a missing or broken addon
 * becomes a reason string, which index.ts reports and records with the backend registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Kernels } from '@axon/tensor';

/**
 * The functions the addon exports (native/addon.cc): the kernels it
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

/** The package's root: where build/ and prebuilds/ are. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Where a build from source puts the addon. */
export const defaultAddonPath = join(packageDir, 'build', 'Release', 'axon_native.node');

const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** Which binary this process should load, or why there is none. */
function locate(): { path: string } | { path: undefined; reason: string } {
  const override = process.env.AXON_NATIVE_ADDON_PATH;
  if (override) {
    if (existsSync(override)) return { path: override };
    // The build script leaves its reason next to where the addon would be: <build>/UNAVAILABLE.txt.
    const marker = join(dirname(dirname(override)), 'UNAVAILABLE.txt');
    if (existsSync(marker)) return { path: undefined, reason: `the addon was not built: ${firstLine(readFileSync(marker, 'utf8'))}` };
    return { path: undefined, reason: `no addon at ${override} (AXON_NATIVE_ADDON_PATH)` };
  }
  try {
    return { path: nodeGypBuild.path(packageDir) };
  } catch (e) {
    const marker = join(packageDir, 'build', 'UNAVAILABLE.txt');
    const built = existsSync(marker) ? `; the build from source: ${firstLine(readFileSync(marker, 'utf8'))}` : '';
    return { path: undefined, reason: `no prebuilt binary fits this machine (${firstLine((e as Error).message)})${built}` };
  }
}

export function loadAddon(): LoadResult {
  const found = locate();
  if (found.path === undefined) return { addon: undefined, path: '', reason: found.reason };
  const path = found.path;
  try {
    const addon = require(path) as NativeAddon;
    if (typeof addon?.gemm !== 'function') return { addon: undefined, path, reason: `${path} is not the Axon addon` };
    return { addon, path };
  } catch (e) {
    return { addon: undefined, path, reason: `the addon at ${path} failed to load: ${firstLine((e as Error).message)}` };
  }
}
