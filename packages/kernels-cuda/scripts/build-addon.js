#!/usr/bin/env node
// Builds the CUDA addon (CMakeLists.txt and native/ in this package) into build/Release/axon_cuda.node
// with cmake-js — only where a CUDA compiler exists: `nvcc` on PATH, or $CUDACXX, or
// $CUDA_HOME/bin/nvcc. Everywhere else (CI, most machines) it prints ONE line saying why, writes the
// reason to build/UNAVAILABLE.txt (the loader reports it through cudaStatus()), and exits 0.
//
// Like @axon/kernels-native's build script, this NEVER fails the build: a missing toolkit, a missing
// cuBLAS, a compile error or an addon that does not load all end in the one line and exit 0, and the
// other backends serve. Environment: AXON_SKIP_CUDA=1 skips the build; AXON_CUDA_BUILD_DIR puts the
// build elsewhere (tests use it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = resolve(process.env.AXON_CUDA_BUILD_DIR || join(pkgDir, 'build'));
const addonPath = join(buildDir, 'Release', 'axon_cuda.node');
const markerPath = join(buildDir, 'UNAVAILABLE.txt');
const logPath = join(buildDir, 'build.log');

function unavailable(reason, log) {
  mkdirSync(buildDir, { recursive: true });
  rmSync(addonPath, { force: true });
  writeFileSync(markerPath, `${reason}\n`);
  if (log) writeFileSync(logPath, log);
  console.log(`@axon/kernels-cuda: not built: ${reason}; the other backends serve`);
  process.exit(0);
}

/** The CUDA compiler to use, or undefined: $CUDACXX, then nvcc on PATH, then $CUDA_HOME/bin/nvcc. */
function findNvcc() {
  const candidates = [];
  if (process.env.CUDACXX) candidates.push(process.env.CUDACXX);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'nvcc'));
  if (process.env.CUDA_HOME) candidates.push(join(process.env.CUDA_HOME, 'bin', 'nvcc'));
  return candidates.find((c) => existsSync(c));
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { ok: !r.error && r.status === 0, missing: r.error?.code === 'ENOENT', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function firstError(output) {
  const lines = output.split('\n');
  const axon = lines.find((l) => l.includes('AXON:'));
  if (axon) return axon.replace(/.*AXON:\s*/, '').trim();
  const err = lines.find((l) => /error:|Error:|error /.test(l));
  return err ? err.trim().slice(0, 200) : 'see build/build.log';
}

if (process.env.AXON_SKIP_CUDA === '1') unavailable('skipped because AXON_SKIP_CUDA=1');
const nvcc = findNvcc();
if (!nvcc) unavailable('no CUDA toolkit (nvcc not found on PATH, $CUDACXX or $CUDA_HOME)');

const cmake = run('cmake', ['--version']);
if (!cmake.ok) unavailable(cmake.missing ? 'cmake is not installed' : 'cmake does not run');

const require = createRequire(import.meta.url);
let cmakeJsBin;
let addonApiDir;
try {
  cmakeJsBin = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  addonApiDir = dirname(require.resolve('node-addon-api/package.json'));
} catch (e) {
  unavailable(`a build tool is missing (${e.code ?? e.message})`);
}

mkdirSync(buildDir, { recursive: true });
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
    `--CDNODE_ADDON_API_DIR=${addonApiDir}`,
    `--CDCMAKE_CUDA_COMPILER=${nvcc}`,
  ],
  { cwd: pkgDir },
);
writeFileSync(logPath, build.output);
if (!build.ok || !existsSync(addonPath)) {
  rmSync(join(buildDir, 'CMakeCache.txt'), { force: true });
  unavailable(`the build failed: ${firstError(build.output)}`, build.output);
}

// Load it in a fresh process: a missing libcudart/libcublas at run time shows here.
const probe = run(process.execPath, ['-e', `const a = require(${JSON.stringify(addonPath)}); console.log(a.deviceCount());`]);
if (!probe.ok) unavailable(`the built addon does not load: ${firstError(probe.output)}`);
rmSync(markerPath, { force: true });
console.log(`@axon/kernels-cuda: built ${addonPath} (${probe.output.trim()} CUDA device(s) visible)`);
