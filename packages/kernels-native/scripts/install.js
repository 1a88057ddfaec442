#!/usr/bin/env node
// npm's `install` step for @axon/kernels-native as an installed package. Three paths:
//   1. a binary node-gyp-build finds (the shipped prebuild, or an earlier local build)
//      loads and computes here → done;
//   2. else, build from source with cmake-js (sources, CMakeLists.txt and cmake-js ship
//      with the package) when a toolchain and OpenBLAS exist;
//   3. else, one line says the 'js' backend will serve — the install never fails.
// In a checkout of the monorepo this does nothing: `pnpm build` builds the addon there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(pkgDir, 'tsconfig.json'))) process.exit(0);

if (process.env.AXON_SKIP_NATIVE !== '1') {
  // In a child process: a binary that crashes while loading must not take the install down.
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `
      const path = require('node-gyp-build').path(${JSON.stringify(pkgDir)});
      const a = require(path);
      const c = new Float32Array(1);
      a.gemm(new Float32Array([2]), new Float32Array([3]), c, 1, 1, 1, 1, false, false, 1, 0, 1, 1);
      if (c[0] !== 6) throw new Error('gemm gave ' + c[0]);
      console.log(path);
    `,
    ],
    { cwd: pkgDir, encoding: 'utf8' },
  );
  if (probe.status === 0) {
    console.log(`@axon/kernels-native: using ${probe.stdout.trim()}`);
    process.exit(0);
  }
  const why = `${probe.stderr}`.split('\n').find((l) => /^\w*Error: /.test(l)) ?? 'no binary for this platform';
  console.log(`@axon/kernels-native: no prebuilt binary loads here (${why.trim()}); building from source`);
}
// build-addon.js never fails: it builds, or says in one line why 'js' will serve.
const build = spawnSync(process.execPath, [join(pkgDir, 'scripts', 'build-addon.js')], { cwd: pkgDir, stdio: 'inherit' });
// Even a crash of the build script leaves a working package (the js backend); its output above says why.
if (build.status !== 0) console.log(`@axon/kernels-native: the build script exited with ${build.status}; the js backend will serve`);
