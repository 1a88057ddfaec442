// scripts/build-addon.js on a machine without a CUDA toolkit: one line, exit 0, the reason recorded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/build-addon.js', import.meta.url));

/** PATH without any directory that holds an nvcc. */
function pathWithoutNvcc(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, 'nvcc')))
    .join(delimiter);
}

function runScript(env: Record<string, string | undefined>) {
  const buildDir = mkdtempSync(join(tmpdir(), 'axon-cuda-build-'));
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, CUDACXX: undefined, CUDA_HOME: undefined, AXON_SKIP_CUDA: undefined, AXON_CUDA_BUILD_DIR: buildDir, ...env },
  });
  return { ...r, buildDir };
}

describe('build-addon.js without nvcc', () => {
  it('prints one line, exits 0 and records the reason', () => {
    const r = runScript({ PATH: pathWithoutNvcc() });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      '@axon/kernels-cuda: not built: no CUDA toolkit (nvcc not found on PATH, $CUDACXX or $CUDA_HOME); the other backends serve\n',
    );
    expect(readFileSync(join(r.buildDir, 'UNAVAILABLE.txt'), 'utf8')).toBe(
      'no CUDA toolkit (nvcc not found on PATH, $CUDACXX or $CUDA_HOME)\n',
    );
    expect(existsSync(join(r.buildDir, 'Release', 'axon_cuda.node'))).toBe(false);
  });

  it('AXON_SKIP_CUDA=1 skips in one line', () => {
    const r = runScript({ AXON_SKIP_CUDA: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('@axon/kernels-cuda: not built: skipped because AXON_SKIP_CUDA=1; the other backends serve\n');
  });

  it('a CUDACXX that does not exist counts as no toolkit', () => {
    const r = runScript({ PATH: pathWithoutNvcc(), CUDACXX: '/nonexistent/nvcc' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('no CUDA toolkit');
  });
});
