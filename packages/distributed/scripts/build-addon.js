#!/usr/bin/env node
// Builds the MPI binding (CMakeLists.txt, native/mpi.cc) into build/Release/axon_mpi.node with
// cmake-js, offline. Like @axon/kernels-native's build it never fails: without cmake, a compiler
// or MPI it prints one line, writes the reason to build/UNAVAILABLE.txt (which the package
// reports) and exits 0 — @axon/distributed then says why distributed training is unavailable.
// No prebuilt binary: an MPI binding must match the MPI installed on the machine it runs on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkgDir, 'build');
const addonPath = join(buildDir, 'Release', 'axon_mpi.node');
const markerPath = join(buildDir, 'UNAVAILABLE.txt');
const HINT = 'to enable it: apt-get install libopenmpi-dev openmpi-bin cmake g++, then rebuild @axon/distributed';

function unavailable(reason, log) {
  mkdirSync(buildDir, { recursive: true });
  rmSync(addonPath, { force: true });
  writeFileSync(markerPath, `${reason}\n`);
  if (log) writeFileSync(join(buildDir, 'build.log'), log);
  console.log(`@axon/distributed: MPI binding not built: ${reason} (${HINT}).`);
  process.exit(0);
}

const run = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { ok: !r.error && r.status === 0, missing: r.error?.code === 'ENOENT', output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
};

if (process.env.AXON_SKIP_MPI === '1') unavailable('skipped because AXON_SKIP_MPI=1');
if (!run('cmake', ['--version']).ok) unavailable('cmake is not installed');
const require = createRequire(import.meta.url);
let cmakeJsBin;
let addonApiDir;
try {
  cmakeJsBin = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  addonApiDir = dirname(require.resolve('node-addon-api/package.json'));
} catch (e) {
  unavailable(`a build tool is missing (${e.code ?? e.message})`);
}
const build = run(
  process.execPath,
  [cmakeJsBin, 'build', '--directory', pkgDir, '--out', buildDir, '--config', 'Release', `--CDNODE_ADDON_API_DIR=${addonApiDir}`],
  { cwd: pkgDir },
);
if (!build.ok || !existsSync(addonPath)) {
  rmSync(join(buildDir, 'CMakeCache.txt'), { force: true });
  const axon = build.output.split('\n').find((l) => l.includes('AXON:'));
  const error = build.output.split('\n').find((l) => /error:/.test(l));
  unavailable(`the build failed: ${(axon ?? error ?? 'see build/build.log').replace(/.*AXON:\s*/, '').trim()}`, build.output);
}
// Loading is the check (a libmpi missing at run time shows here); MPI_Init itself is left to use.
const probe = run(process.execPath, ['-e', `console.log(require(${JSON.stringify(addonPath)}).libraryVersion().split('\\n')[0])`]);
if (!probe.ok)
  unavailable(
    `the built binding does not load: ${
      probe.output
        .trim()
        .split('\n')
        .find((l) => /Error/.test(l)) ?? probe.output.trim()
    }`,
  );
rmSync(markerPath, { force: true });
console.log(`@axon/distributed: built ${addonPath} (${probe.output.trim()})`);
