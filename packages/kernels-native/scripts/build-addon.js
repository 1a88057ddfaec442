#!/usr/bin/env node
// Builds the C++ addon (CMakeLists.txt and native/ in this package) into
// build/Release/axon_native.node with cmake-js, offline (Node-API headers come
// from the installed node-api-headers and node-addon-api packages; nothing is
// downloaded). When the static OpenBLAS exists, the same objects are also linked
// into the portable variant, which this script copies to
// prebuilds/<platform>-<arch>/axon_native.napi.glibc.node: the file node-gyp-build
// loads on a machine without a local build, and what `npm pack` ships.
//
// We drive cmake-js ourselves rather than through prebuildify, which only runs
// node-gyp; the prebuilds/ layout and file name are prebuildify's, so the
// maintained loader (node-gyp-build) finds the binary.
//
// This script NEVER fails the build. If the build is skipped (AXON_SKIP_NATIVE=1)
// or cannot succeed (no cmake, no C++ compiler, no OpenBLAS, a compile error,
// an addon that does not load), it prints one line, writes the reason to
// build/UNAVAILABLE.txt (the loader reports it), removes any stale addon and
// exits 0 — @axon/kernels-native then registers nothing and 'js' serves.
//
// Environment: AXON_SKIP_NATIVE=1 skips the build (to try the fallback);
// AXON_NATIVE_BUILD_DIR puts the build somewhere else (tests use it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = resolve(process.env.AXON_NATIVE_BUILD_DIR || join(pkgDir, 'build'));
const addonPath = join(buildDir, 'Release', 'axon_native.node');
const portablePath = join(buildDir, 'portable', 'axon_native.node');
const inWorkspace = existsSync(join(pkgDir, 'tsconfig.json'));
// Only the monorepo's own build refreshes the prebuild that `pnpm pack` ships (tests build elsewhere
// with AXON_NATIVE_BUILD_DIR; an installed package building from source keeps its build local).
const prebuildDir =
  inWorkspace && !process.env.AXON_NATIVE_BUILD_DIR ? join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`) : undefined;
const prebuildPath = prebuildDir && join(prebuildDir, 'axon_native.napi.glibc.node');
const markerPath = join(buildDir, 'UNAVAILABLE.txt');
const logPath = join(buildDir, 'build.log');
const ENABLE_HINT = `to enable it: apt-get install cmake g++ libopenblas-dev, then ${inWorkspace ? 'pnpm --filter @axon/kernels-native build' : 'npm rebuild @axon/kernels-native'}`;

function unavailable(reason, log) {
  mkdirSync(buildDir, { recursive: true });
  rmSync(addonPath, { force: true });
  writeFileSync(markerPath, `${reason}\n`);
  if (log) writeFileSync(logPath, log);
  console.log(`@axon/kernels-native: native addon not built: ${reason}; the 'js' backend will be used (${ENABLE_HINT}).`);
  process.exit(0);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return {
    ok: !r.error && r.status === 0,
    missing: r.error?.code === 'ENOENT',
    output: `${r.stdout ?? ''}${r.stderr ?? ''}`,
    error: r.error,
  };
}

// The most useful line of a failed build: our own "AXON:" messages, else the first compiler error.
function firstError(output) {
  const lines = output.split('\n');
  const axon = lines.find((l) => l.includes('AXON:'));
  if (axon) return axon.replace(/.*AXON:\s*/, '').trim();
  if (/CMAKE_CXX_COMPILER|No CMAKE_CXX_COMPILER could be found/.test(output)) return 'no working C++ compiler (install g++)';
  const err = lines.find((l) => /error:|Error:|No CMAKE_CXX_COMPILER|CMAKE_CXX_COMPILER.*not/.test(l));
  return err ? err.trim().slice(0, 200) : 'see build/build.log';
}

if (process.env.AXON_SKIP_NATIVE === '1') unavailable('skipped because AXON_SKIP_NATIVE=1');

if (!existsSync(join(pkgDir, 'CMakeLists.txt'))) unavailable(`native sources not found in ${pkgDir}`);

const cmake = run('cmake', ['--version']);
if (!cmake.ok) unavailable(cmake.missing ? 'cmake is not installed' : `cmake does not run (${cmake.output.trim().split('\n')[0]})`);

const require = createRequire(import.meta.url);
let cmakeJsBin;
let addonApiDir;
try {
  cmakeJsBin = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  addonApiDir = dirname(require.resolve('node-addon-api/package.json')); // napi.h lives at its root
} catch (e) {
  unavailable(`a build tool is missing (${e.code ?? e.message}); run ${inWorkspace ? 'pnpm install' : 'npm install'}`);
}

mkdirSync(buildDir, { recursive: true });
const parallel = String(Math.max(1, Math.min(8, (await import('node:os')).availableParallelism())));
const build = run(
  process.execPath,
  [
    cmakeJsBin,
    'build',
    '--directory',
    pkgDir,
    '--out',
    buildDir,
    '--config',
    'Release',
    '--parallel',
    parallel,
    `--CDNODE_ADDON_API_DIR=${addonApiDir}`,
  ],
  { cwd: pkgDir },
);
writeFileSync(logPath, build.output);
if (!build.ok || !existsSync(addonPath)) {
  // A failed configure leaves a cache that would hide a later fix (say, OpenBLAS installed since).
  rmSync(join(buildDir, 'CMakeCache.txt'), { force: true });
  unavailable(`the build failed: ${firstError(build.output)}`, build.output);
}

// Prove a binary loads and computes in a fresh process (catches a missing
// libopenblas.so at run time, or an ABI problem). Returns the BLAS config or an error line.
function probe(path) {
  const r = run(process.execPath, [
    '-e',
    `
    const a = require(${JSON.stringify(path)});
    const c = new Float32Array(1);
    a.gemm(new Float32Array([2]), new Float32Array([3]), c, 1, 1, 1, 1, false, false, 1, 0, 1, 1);
    if (c[0] !== 6) throw new Error('gemm gave ' + c[0]);
    console.log(a.blasInfo().config);
  `,
  ]);
  const output = r.output.trim();
  return r.ok ? { ok: true, config: output } : { ok: false, error: output.split('\n').find((l) => /Error/.test(l)) ?? output };
}

const local = probe(addonPath);
if (!local.ok) unavailable(`the built addon does not load: ${local.error}`);
rmSync(markerPath, { force: true });
console.log(`@axon/kernels-native: built ${addonPath} (${local.config})`);

if (prebuildPath) {
  const portable = existsSync(portablePath) ? probe(portablePath) : { ok: false, error: 'no static OpenBLAS (libopenblas.a) to link' };
  if (portable.ok) {
    mkdirSync(prebuildDir, { recursive: true });
    copyFileSync(portablePath, prebuildPath);
    console.log(`@axon/kernels-native: prebuild ${prebuildPath} (OpenBLAS linked in)`);
  } else {
    // A prebuild from older sources must not ship with newer JavaScript.
    rmSync(prebuildPath, { force: true });
    console.log(`@axon/kernels-native: no prebuild made: ${portable.error}`);
  }
}
