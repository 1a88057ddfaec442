// On a machine without a usable CUDA addon (CI; this one): importing works, registers no 'cuda'
// backend, says why in one line, prints nothing, and leaves the other backends as they were.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('@axon/kernels-cuda without a GPU', () => {
  it('imports without throwing or printing, registers no cuda backend, and names the reason', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const stdout = vi.spyOn(process.stdout, 'write');
    vi.stubEnv('AXON_VERBOSE', '');
    const cuda = await import('../src/index.js');
    const tensor = await import('@axon/tensor');
    expect(cuda.cudaAvailable()).toBe(false);
    expect(cuda.cudaStatus()).toMatch(/^(not built: |no CUDA device|the addon )/);
    expect(cuda.cudaStatus()).not.toContain('\n');
    expect(tensor.listBackends()).not.toContain('cuda');
    const entry = tensor.backendStatus().find((b) => b.name === 'cuda');
    expect(entry).toEqual({ name: 'cuda', available: false, reason: cuda.cudaStatus() });
    expect(stderr).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
  });

  it("reports the build script's one-line reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-cuda-'));
    mkdirSync(join(dir, 'Release'));
    writeFileSync(join(dir, 'UNAVAILABLE.txt'), 'no CUDA toolkit (nvcc not found on PATH, $CUDACXX or $CUDA_HOME)\n');
    vi.stubEnv('AXON_CUDA_ADDON_PATH', join(dir, 'Release', 'axon_cuda.node'));
    const cuda = await import('../src/index.js');
    expect(cuda.cudaAvailable()).toBe(false);
    expect(cuda.cudaStatus()).toBe('not built: no CUDA toolkit (nvcc not found on PATH, $CUDACXX or $CUDA_HOME)');
  });

  it('says the reason on stderr only with AXON_VERBOSE=1', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.stubEnv('AXON_VERBOSE', '1');
    const cuda = await import('../src/index.js');
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]?.[0])).toBe(`@axon/kernels-cuda: ${cuda.cudaStatus()}\n`);
  });

  it('leaves the other backends working', async () => {
    await import('../src/index.js');
    const tensor = await import('@axon/tensor');
    await import('@axon/kernels-js');
    expect(tensor.listBackends()).toContain('js');
    expect(tensor.getBackend().name).not.toBe('cuda');
  });
});
