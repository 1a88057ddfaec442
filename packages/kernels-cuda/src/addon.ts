/**
 * Finding and loading the CUDA addon. Never throws: a missing or broken addon becomes a reason.
 * node-gyp-build finds build/Release/axon_cuda.node (a build from source where nvcc exists);
 * AXON_CUDA_ADDON_PATH names a file instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon exports today (native/addon.cc): device queries and the allocator's counters. */
export interface CudaAddon {
  /** CUDA devices visible to this process (0 when there is no driver or no GPU). */
  deviceCount(): number;
  /** The name of device `index` ('' if it cannot be read). */
  deviceName(index: number): string;
  /** The caching allocator's counters, in bytes and counts. */
  allocatorStats(): {
    /** Bytes in live blocks. */
    allocated: number;
    /** Bytes held from cudaMalloc (live + cached). */
    reserved: number;
    /** Free bytes kept for reuse. */
    cached: number;
    /** Highest `allocated` so far. */
    peakAllocated: number;
    /** Highest `reserved` so far. */
    peakReserved: number;
    /** cudaMalloc calls that succeeded. */
    rawAllocs: number;
    /** Failed cudaMalloc calls answered by emptying the cache and retrying. */
    retries: number;
  };
  /** Returns cached blocks to the device; the bytes released. */
  emptyCache(): number;
  /** The kernels of the contract the addon implements (none yet). */
  readonly kernelNames: readonly string[];
}

/** The package's root: where build/ is. */
const packageDir = fileURLToPath(new URL('..', import.meta.url));

const require = createRequire(import.meta.url);

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function builtReason(buildDir: string): string | undefined {
  const marker = join(buildDir, 'UNAVAILABLE.txt');
  return existsSync(marker) ? firstLine(readFileSync(marker, 'utf8')) : undefined;
}

/** The addon of this process, or why there is none. */
export function loadCudaAddon(): { addon: CudaAddon; path: string } | { addon: undefined; reason: string } {
  let path: string;
  const override = process.env.AXON_CUDA_ADDON_PATH;
  if (override) {
    if (!existsSync(override)) {
      const why = builtReason(dirname(dirname(override)));
      return { addon: undefined, reason: why ? `not built: ${why}` : `no addon at ${override} (AXON_CUDA_ADDON_PATH)` };
    }
    path = override;
  } else {
    try {
      path = (require('node-gyp-build') as { path(dir: string): string }).path(packageDir);
    } catch {
      const why = builtReason(join(packageDir, 'build'));
      return {
        addon: undefined,
        reason: why ? `not built: ${why}` : 'not built: the addon was never built here (no CUDA toolkit at install time?)',
      };
    }
  }
  try {
    const addon = require(path) as CudaAddon;
    if (typeof addon?.deviceCount !== 'function') return { addon: undefined, reason: `${path} is not the Axon CUDA addon` };
    return { addon, path };
  } catch (e) {
    return { addon: undefined, reason: `the addon at ${path} failed to load: ${firstLine((e as Error).message)}` };
  }
}
