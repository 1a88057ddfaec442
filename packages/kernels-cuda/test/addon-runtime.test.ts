// The real addon (native/addon.cc) compiled with the host C++ compiler against the CUDA runtime, where
// one is installed (CUDA_HOME, else /usr/local/cuda: its cuda_runtime.h and libcudart.so): it loads,
// and without a GPU reports no device, so the package registers nothing and says why. Skipped, with
// the reason, where no CUDA runtime is installed (CI). This needs neither nvcc nor cuBLAS.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it, vi } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const cudaHome = process.env.CUDA_HOME || '/usr/local/cuda';
const cxx = process.env.CXX || 'c++';
const libDir = ['lib64', 'lib'].map((d) => join(cudaHome, d)).find((d) => existsSync(join(d, 'libcudart.so')));
const require = createRequire(import.meta.url);
const addonApiDir = dirname(require.resolve('node-addon-api/package.json'));
const napiHeaders = join(dirname(require.resolve('cmake-js/package.json')), '..', 'node-api-headers', 'include');
const missing = !existsSync(join(cudaHome, 'include', 'cuda_runtime.h'))
  ? `no CUDA runtime headers under ${cudaHome}`
  : !libDir
    ? `no libcudart.so under ${cudaHome}`
    : !existsSync(join(napiHeaders, 'node_api.h'))
      ? `no Node-API headers at ${napiHeaders}`
      : undefined;
if (missing) console.warn(`addon runtime test skipped: ${missing}`);

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe.skipIf(missing !== undefined)('the addon against the CUDA runtime (no nvcc needed)', () => {
  it('loads, and the package reports the devices it sees', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'axon-cuda-addon-')), 'axon_cuda.node');
    const compile = spawnSync(
      cxx,
      [
        '-std=c++17',
        '-O1',
        '-shared',
        '-fPIC',
        '-Wall',
        '-Wextra',
        '-DNAPI_VERSION=8',
        '-DNODE_ADDON_API_CPP_EXCEPTIONS',
        `-I${join(cudaHome, 'include')}`,
        `-I${addonApiDir}`,
        `-I${napiHeaders}`,
        join(pkgDir, 'native', 'addon.cc'),
        `-L${libDir}`,
        `-Wl,-rpath,${libDir}`,
        '-lcudart',
        '-o',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(compile.status, compile.stderr).toBe(0);
    vi.stubEnv('AXON_CUDA_ADDON_PATH', out);
    const cuda = await import('../src/index.js');
    const tensor = await import('@axon/tensor');
    const addon = require(out) as import('../src/addon.js').CudaAddon;
    expect(addon.kernelNames).toEqual([]);
    expect(addon.allocatorStats()).toMatchObject({ allocated: 0, rawAllocs: 0 });
    if (addon.deviceCount() === 0) expect(cuda.cudaStatus()).toBe('no CUDA device is visible (no GPU, or no driver)');
    else expect(cuda.cudaStatus()).toMatch(/implements no kernels yet$/);
    expect(cuda.cudaAvailable()).toBe(false);
    expect(tensor.listBackends()).not.toContain('cuda');
  });
});
