/**
 * @axon/kernels-cuda: the GPU backend (cuBLAS, cuDNN) behind the same kernel contract as 'js' and
 * 'native'. NOT YET RUN ON A GPU: see the README's "What remains to run on a GPU".
 *
 * Importing never throws and prints nothing (unless AXON_VERBOSE=1). It registers backend 'cuda'
 * only when the addon loads, a CUDA device is present and the addon implements kernels; otherwise
 * it records why with the registry (`backendStatus()`), and {@link cudaStatus} says it in one line.
 */
import { markBackendUnavailable } from '@axon/tensor';

import { loadCudaAddon } from './addon.js';

export type { CudaAddon } from './addon.js';

/** Priority 'cuda' will register with: above 'native' (20), so a machine with a GPU uses it by default. */
export const CUDA_PRIORITY = 30;

function decide(): { available: boolean; status: string } {
  const loaded = loadCudaAddon();
  if (!loaded.addon) return { available: false, status: loaded.reason };
  let devices = 0;
  try {
    devices = loaded.addon.deviceCount();
  } catch (e) {
    return { available: false, status: `the addon cannot query devices: ${(e as Error).message}` };
  }
  if (devices === 0) return { available: false, status: 'no CUDA device is visible (no GPU, or no driver)' };
  const name = loaded.addon.deviceName(0);
  if (loaded.addon.kernelNames.length === 0) {
    // The backend (device buffers, kernels) is the GPU work the README lists; until it exists,
    // registering would only route every kernel through the host.
    return { available: false, status: `the addon loaded and sees ${name}, but implements no kernels yet` };
  }
  return { available: false, status: `the addon sees ${name}; the 'cuda' backend is not written yet` };
}

const state = decide();
markBackendUnavailable('cuda', state.status);
if (process.env.AXON_VERBOSE === '1') process.stderr.write(`@axon/kernels-cuda: ${state.status}\n`);

/**
 * Whether backend 'cuda' is registered in this process: false wherever the addon is not built, no
 * GPU is present — and, until the kernels are written, everywhere.
 *
 * @example
 * ```ts
 * import { cudaAvailable, cudaStatus } from '@axon/kernels-cuda';
 *
 * if (!cudaAvailable()) console.log(`no GPU backend: ${cudaStatus()}`);
 * ```
 */
export function cudaAvailable(): boolean {
  return state.available;
}

/**
 * One line saying why 'cuda' is unavailable (e.g. `not built: no CUDA toolkit (nvcc not found on
 * PATH, $CUDACXX or $CUDA_HOME)`), or which device it uses when it is available.
 */
export function cudaStatus(): string {
  return state.status;
}
