/**
 * The `native` Backend: the kernels the addon exports, each called with the
 * caller's typed arrays (zero copy; the addon honours each view's byteOffset
 * and length and validates every argument, throwing a named Error). Kernels
 * it does not export are served by the next backend (`js`), on the same
 * host memory, so nothing is copied either way.
 */
import { KERNEL_NAMES, cpuDevice, type Backend } from '@axon/tensor';

import type { NativeAddon } from './addon.js';

export function createBackendFromAddon(addon: NativeAddon): Backend {
  const backend: Record<string, unknown> = { name: 'native', device: cpuDevice };
  for (const name of KERNEL_NAMES) {
    if (typeof addon[name] === 'function') backend[name] = addon[name];
  }
  return backend as unknown as Backend;
}
