// Builds native/test/allocator_test.cc with the package's CMakeLists.txt in its CPU-only mode
// (-DAXON_CUDA_ALLOCATOR_TEST=ON: plain C++ compiler, no CUDA, no Node) and checks every check of
// the caching allocator passed. Skipped, with the reason, only where cmake or a C++ compiler is absent.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

function has(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}
const cxx = process.env.CXX || 'c++';
const missing = !has('cmake') ? 'cmake is not installed' : !has(cxx) ? `no C++ compiler (${cxx})` : undefined;
if (missing) console.warn(`allocator test skipped: ${missing}`);

const CHECKS = [
  'size classes',
  'reuse: raw allocations stay flat over a loop of same-size alloc/free',
  'small blocks share 2 MiB segments (split) and merge back when freed',
  'large blocks are reused only by their own size class (no splitting)',
  'stats: allocated, reserved, cached and peaks are exact',
  'emptyCache releases everything cached and nothing live',
  'a raw failure empties the cache and retries',
  'out of memory after the retry is an OutOfMemory error, and the allocator stays usable',
  'double free and foreign pointers are errors, not crashes, and change nothing',
  'blocks never overlap (random alloc/free against a shadow map)',
];

describe.skipIf(missing !== undefined)('the caching allocator (C++, on the CPU)', () => {
  it('builds with the CPU-only CMake target and passes every check', () => {
    const build = mkdtempSync(join(tmpdir(), 'axon-cuda-alloc-'));
    const configure = spawnSync('cmake', ['-S', pkgDir, '-B', build, '-DAXON_CUDA_ALLOCATOR_TEST=ON', '-DCMAKE_BUILD_TYPE=Debug'], {
      encoding: 'utf8',
    });
    expect(configure.status, configure.stdout + configure.stderr).toBe(0);
    const compile = spawnSync('cmake', ['--build', build], { encoding: 'utf8' });
    expect(compile.status, compile.stdout + compile.stderr).toBe(0);
    const run = spawnSync(join(build, 'allocator_test'), { encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const check of CHECKS) expect(lines).toContain(`ok ${check}`);
    expect(lines.at(-1)).toBe(`allocator_test: ${CHECKS.length} passed, 0 failed`);
  });
});
