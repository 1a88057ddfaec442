#!/usr/bin/env node
// The consumer test: Axon as a user outside this monorepo gets it. Packs every package, installs
// the tarballs with npm into an empty project (no workspace links), and runs the root README's
// example verbatim and a saved-model round trip there, on each way the native backend can arrive:
//   A. the prebuilt binary shipped in @axon/kernels-native (OpenBLAS linked in);
//   B. no prebuild fits → `npm rebuild` builds from the shipped sources (cmake-js) with the toolchain;
//   C. neither (no prebuild, no cmake on PATH) → the TypeScript backend, in silence.
// Needs `pnpm build` first (pnpm test runs it). AXON_REQUIRE_NATIVE=1 (CI) makes A and B mandatory;
// AXON_SKIP_NATIVE=1 (a run as on a machine without the toolchain) expects js on every path;
// AXON_CONSUMER_KEEP=1 keeps the temporary project for inspection.
//
// A hand-written script rather than a test-runner suite: each step is a child process (npm, node)
// whose output is the thing checked, and the log it prints is the record of the install paths.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireNative = process.env.AXON_REQUIRE_NATIVE === '1';
const work = mkdtempSync(join(tmpdir(), 'axon-consumer-'));
const app = join(work, 'app');
const tarballs = join(work, 'tarballs');
const npmCli = join(dirname(realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim())), 'npm-cli.js');
const summary = [];

function fail(message) {
  console.error(`consumer test FAILED: ${message}\n(project kept at ${app})`);
  process.exit(1);
}

/** Runs a command; returns its combined output, failing the test on a non-zero exit. */
function sh(cmd, args, { cwd = app, env = {}, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, AXON_BACKEND: undefined, ...env }, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if ((r.status !== 0 || r.error) && !allowFail) fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.error}:\n${output}`);
  return output;
}

const axonLines = (output) => output.split('\n').filter((l) => l.startsWith('@axon/kernels-native:'));

function expectMatch(output, pattern, what) {
  if (!pattern.test(output)) fail(`${what}: expected ${pattern}, got:\n${output}`);
}

// The README example, verbatim: the first ```js block of the root README.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
if (!example) fail('the root README has no ```js block');

const roundTrip = `
import { describeBackend, dense, lstm, loadModel, randomNormal, sequential, setSeed, tensor } from '@axon/node';
import { readFileSync } from 'node:fs';

setSeed(7);
const model = sequential([lstm({ units: 8, inputShape: [5, 3] }), dense({ units: 2, activation: 'softmax' })]);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const x = randomNormal([32, 5, 3]);
const y = tensor(Array.from({ length: 32 }, (_, i) => i % 2), [32], 'int32');
await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
await model.save('saved-lstm');
const json = JSON.parse(readFileSync('saved-lstm/model.json', 'utf8'));
if (json.format !== 'layers-model') throw new Error('not a tfjs layers model: ' + json.format);
const again = await loadModel('saved-lstm');
const a = model.predict(x).dataSync();
const b = again.predict(x).dataSync();
if (a.length !== 64 || a.some((v, i) => v !== b[i])) throw new Error('predictions differ after save/load');
again.evaluate(x, y); // compiled from the saved training config
console.log('round trip ok: ' + describeBackend());
`;

function runApp(label) {
  rmSync(join(app, 'fashion-cnn'), { recursive: true, force: true });
  rmSync(join(app, 'saved-lstm'), { recursive: true, force: true });
  const out = sh(process.execPath, ['readme-example.mjs']);
  expectMatch(out, /test accuracy: 0\.[5-9]\d\d/, `${label}: README example`);
  expectMatch(out, /reloaded, same predictions: true/, `${label}: README example`);
  const rt = sh(process.execPath, ['round-trip.mjs']);
  expectMatch(rt, /round trip ok/, `${label}: saved-model round trip`);
  if (
    /\bwarn|unavailable \(/.test(
      out
        .split('\n')
        .filter((l) => !l.startsWith('Axon backend'))
        .join('\n'),
    )
  ) {
    fail(`${label}: the example printed more than asked:\n${out}`);
  }
  return out.split('\n')[0];
}

try {
  // --- pack and install ---------------------------------------------------------------------------
  mkdirSync(tarballs, { recursive: true });
  sh('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], { cwd: root });
  const packed = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  console.log(`packed: ${packed.join(', ')}`);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'axon-consumer', private: true, type: 'module' }, null, 2));
  writeFileSync(join(app, 'readme-example.mjs'), example);
  writeFileSync(join(app, 'round-trip.mjs'), roundTrip);
  const install = sh(process.execPath, [
    npmCli,
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--foreground-scripts',
    ...packed.map((f) => join(tarballs, f)),
  ]);
  const tensorCopies = sh(process.execPath, [npmCli, 'ls', '@axon/tensor', '--all', '--parseable']).trim().split('\n').filter(Boolean);
  if (new Set(tensorCopies.map((p) => realpathSync(p))).size !== 1)
    fail(`more than one @axon/tensor installed:\n${tensorCopies.join('\n')}`);
  const nativeDir = join(app, 'node_modules', '@axon', 'kernels-native');

  // --- A: the prebuild ------------------------------------------------------------------------------
  const hasPrebuild = existsSync(join(nativeDir, 'prebuilds'));
  if (!hasPrebuild && requireNative) fail('@axon/kernels-native was packed without prebuilds/ (is libopenblas.a installed?)');
  const a = runApp('A (prebuild)');
  if (hasPrebuild) expectMatch(a, /^Axon backend: native \(.*prebuilds\/linux-x64\/axon_native\.napi\.glibc\.node\)$/, 'A: backend');
  summary.push({ path: 'A: npm install, prebuilt binary', install: axonLines(install), backend: a });

  // --- B: no prebuild, a toolchain: build from source at install ------------------------------------
  rmSync(join(nativeDir, 'prebuilds'), { recursive: true, force: true });
  const rebuild = sh(process.execPath, [npmCli, 'rebuild', '@axon/kernels-native', '--foreground-scripts']);
  const hasCmake = spawnSync('cmake', ['--version']).status === 0;
  const b = runApp('B (built from source)');
  if ((hasCmake && process.env.AXON_SKIP_NATIVE !== '1') || requireNative)
    expectMatch(b, /^Axon backend: native \(.*kernels-native\/build\/Release\/axon_native\.node\)$/, 'B: backend');
  summary.push({ path: 'B: no prebuild, npm rebuild with cmake + g++ + OpenBLAS', install: axonLines(rebuild), backend: b });

  // --- C: neither: no prebuild, no cmake on PATH → js ------------------------------------------------
  rmSync(join(nativeDir, 'build'), { recursive: true, force: true });
  const bin = join(work, 'bin-without-cmake');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  // A machine without cmake: the developer's AXON_SKIP_NATIVE is not part of that machine.
  const noToolchain = sh(process.execPath, [npmCli, 'rebuild', '@axon/kernels-native', '--foreground-scripts'], {
    env: { PATH: bin, AXON_SKIP_NATIVE: undefined },
  });
  expectMatch(noToolchain, /native addon not built: cmake is not installed; the 'js' backend will be used/, 'C: install output');
  const c = runApp('C (no addon)');
  expectMatch(c, /^Axon backend: js \(native unavailable: no prebuilt binary fits this machine .*cmake is not installed/, 'C: backend');
  summary.push({ path: 'C: no prebuild, no cmake (npm rebuild)', install: axonLines(noToolchain), backend: c });

  console.log('\nconsumer test passed: README example and saved-model round trip in an npm project, on each install path');
  for (const s of summary) {
    console.log(
      `\n${s.path}\n  install printed: ${s.install.join('\n                   ') || '(nothing from @axon/kernels-native)'}\n  ${s.backend}`,
    );
  }
} finally {
  if (process.env.AXON_CONSUMER_KEEP !== '1') rmSync(work, { recursive: true, force: true });
}
