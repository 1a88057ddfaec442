#!/usr/bin/env node
// npm's `install` step for @axon/kernels-cuda as an installed package: build from source where a
// CUDA toolkit exists, else one line says why (build-addon.js). The install never fails. In a
// checkout of the monorepo this does nothing: `pnpm build` builds there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(pkgDir, 'tsconfig.json'))) process.exit(0);
const build = spawnSync(process.execPath, [join(pkgDir, 'scripts', 'build-addon.js')], { cwd: pkgDir, stdio: 'inherit' });
if (build.status !== 0) console.log(`@axon/kernels-cuda: the build script exited with ${build.status}; the other backends serve`);
