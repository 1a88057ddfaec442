/**
 * Graceful absence: the build never fails (skipped, no cmake, a broken
 * compiler), and without the addon importing still succeeds, the reason is
 * reported once on stderr and by the registry, and 'js' serves.
 *
 * These run in child processes against the built dist/ (turbo builds before
 * testing) with AXON_NATIVE_BUILD_DIR / AXON_NATIVE_ADDON_PATH pointing at a
 * temporary directory, so the real build is never touched. They never skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeAvailable } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const distIndex = join(pkgDir, 'dist', 'index.js');
const buildScript = join(pkgDir, 'scripts', 'build-addon.js');
let tmp = '';

function node(args: string[], env: Record<string, string | undefined>): { status: number | null; stdout: string; stderr: string } {
  // The children pick their backend themselves: an AXON_BACKEND of the parent's run is not theirs.
  const r = spawnSync(process.execPath, args, {
    cwd: pkgDir,
    encoding: 'utf8',
    env: { ...process.env, AXON_BACKEND: undefined, ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Imports kernels-js and kernels-native (dist) in a fresh process and reports what it sees. */
function probe(env: Record<string, string | undefined>): {
  status: number | null;
  stderr: string;
  report: {
    available: boolean;
    path?: string;
    reason?: string;
    backend: string;
    status: { name: string; available: boolean; reason?: string }[];
    sum: number;
  };
} {
  const code = `
    import '@axon/kernels-js';
    const kn = await import(${JSON.stringify(distIndex)});
    await import(${JSON.stringify(distIndex)} + '?again'); // a second evaluation must not warn again
    const t = await import('@axon/tensor');
    const b = t.getBackend();
    const c = new Float32Array(1);
    b.gemm(new Float32Array([2]), new Float32Array([3]), c, 1, 1, 1, 1, false, false, 1, 0, 1, 1);
    console.log(JSON.stringify({ available: kn.nativeAvailable, path: kn.nativeAddonPath, reason: kn.nativeUnavailableReason, backend: b.name, status: t.backendStatus(), sum: c[0] }));
  `;
  const r = node(['--input-type=module', '-e', code], env);
  const line = r.stdout.trim().split('\n').pop() ?? '{}';
  return { status: r.status, stderr: r.stderr, report: JSON.parse(line) };
}

describe('fallback without the addon', () => {
  beforeAll(() => {
    if (!existsSync(distIndex))
      throw new Error(`${distIndex} is missing: build the package first (pnpm --filter @axon/kernels-native build)`);
    tmp = mkdtempSync(join(tmpdir(), 'axon-native-fallback-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('AXON_SKIP_NATIVE=1: the build exits 0 with one line and a marker; import reports it and js serves', () => {
    const out = join(tmp, 'skip');
    const build = node([buildScript], { AXON_SKIP_NATIVE: '1', AXON_NATIVE_BUILD_DIR: out });
    expect(build.status).toBe(0);
    expect(build.stdout.trim().split('\n')).toHaveLength(1);
    expect(build.stdout).toMatch(/native addon not built: skipped because AXON_SKIP_NATIVE=1; the 'js' backend will be used/);
    expect(readFileSync(join(out, 'UNAVAILABLE.txt'), 'utf8')).toMatch(/AXON_SKIP_NATIVE=1/);

    const r = probe({ AXON_NATIVE_ADDON_PATH: join(out, 'Release', 'axon_native.node'), AXON_BACKEND: undefined });
    expect(r.status).toBe(0);
    expect(r.report.available).toBe(false);
    expect(r.report.reason).toMatch(/the addon was not built: skipped because AXON_SKIP_NATIVE=1/);
    expect(r.report.backend).toBe('js');
    expect(r.report.sum).toBe(6);
    expect(r.report.status).toContainEqual({
      name: 'native',
      available: false,
      reason: expect.stringMatching(/AXON_SKIP_NATIVE.*libopenblas-dev/),
    });
    const lines = r.stderr.split('\n').filter((l) => l.includes('@axon/kernels-native'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/native backend unavailable \(.*\); using 'js' — to enable it: apt-get install libopenblas-dev cmake g\+\+/);
  });

  it('no cmake on PATH: the build exits 0 and says so', () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const out = join(tmp, 'nocmake');
    const build = node([buildScript], { PATH: bin, AXON_SKIP_NATIVE: undefined, AXON_NATIVE_BUILD_DIR: out });
    expect(build.status).toBe(0);
    expect(build.stdout).toMatch(/native addon not built: cmake is not installed/);
    const r = probe({ AXON_NATIVE_ADDON_PATH: join(out, 'Release', 'axon_native.node') });
    expect(r.report.reason).toMatch(/cmake is not installed/);
    expect(r.report.backend).toBe('js');
  });

  it('a compiler that does not work: the build fails inside cmake, still exits 0 with the reason', () => {
    const out = join(tmp, 'nocxx');
    const build = node([buildScript], { CXX: '/nonexistent/c++', AXON_SKIP_NATIVE: undefined, AXON_NATIVE_BUILD_DIR: out });
    expect(build.status).toBe(0);
    expect(build.stdout).toMatch(/native addon not built: the build failed/);
    expect(existsSync(join(out, 'UNAVAILABLE.txt'))).toBe(true);
    expect(existsSync(join(out, 'build.log'))).toBe(true);
  });

  it('a broken addon file: import still succeeds and reports the load error', () => {
    const r = probe({ AXON_NATIVE_ADDON_PATH: buildScript }); // not a shared object
    expect(r.status).toBe(0);
    expect(r.report.available).toBe(false);
    expect(r.report.reason).toMatch(/failed to load|is not the Axon addon/);
    expect(r.report.backend).toBe('js');
  });

  it.skipIf(!nativeAvailable)('with the addon present, native is the default backend and nothing is printed', () => {
    const r = probe({ AXON_NATIVE_ADDON_PATH: undefined, AXON_BACKEND: undefined });
    expect(r.report.available).toBe(true);
    expect(r.report.backend).toBe('native');
    expect(r.stderr).not.toMatch(/kernels-native/);
  });

  // The binary an installed package loads when it has no local build: the portable variant (OpenBLAS
  // linked in) that `pnpm build` copies to prebuilds/ when libopenblas.a exists, and `npm pack` ships.
  const prebuild = join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`, 'axon_native.napi.glibc.node');
  it.skipIf(!existsSync(prebuild) && process.env.AXON_REQUIRE_NATIVE !== '1')(
    'the prebuild loads through node-gyp-build and computes',
    () => {
      expect(existsSync(prebuild), `${prebuild} was not made (no libopenblas.a?)`).toBe(true);
      // node-gyp-build prefers build/Release; PREBUILDS_ONLY=1 is its switch to look only at prebuilds/.
      const r = probe({ PREBUILDS_ONLY: '1', AXON_NATIVE_ADDON_PATH: undefined });
      expect(r.status, r.stderr).toBe(0);
      expect(r.report.available).toBe(true);
      expect(r.report.path).toBe(prebuild);
      expect(r.report.backend).toBe('native');
      expect(r.report.sum).toBe(6);
    },
  );

  it('the install script does nothing in a checkout of the monorepo (pnpm build builds there)', () => {
    const r = node([join(pkgDir, 'scripts', 'install.js')], {});
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });
});
