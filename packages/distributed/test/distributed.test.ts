/**
 * @axon/distributed: the binding's API in a process of its own (MPI can be initialized once per
 * process), and data-parallel fit under `mpirun`: N ranks reach the same weights as one process
 * on the same global batches; a failing or killed rank ends the job quickly with a clear error;
 * rank 0's callbacks stop every rank; checkpoints are written once and resume.
 * The mpirun tests skip without `mpirun` or the binding, unless AXON_REQUIRE_MPI=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mpiAvailable, mpiUnavailableReason } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(pkgDir, 'test', 'fixtures', 'train.mjs');
const hasMpirun = spawnSync('mpirun', ['--version']).status === 0;
const required = process.env.AXON_REQUIRE_MPI === '1';
const canRun = mpiAvailable && hasMpirun;
if (required && !canRun) throw new Error(`AXON_REQUIRE_MPI=1 but ${mpiAvailable ? 'mpirun is not on PATH' : mpiUnavailableReason}`);

// One thread per rank: ranks share the machine's cores.
const env = { ...process.env, AXON_NUM_THREADS: '1', AXON_BACKEND: undefined, OMPI_MCA_rmaps_base_oversubscribe: '1' };
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'axon-distributed-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function node(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: pkgDir, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mpirun(np: number, args: string[], timeoutMs = 120_000) {
  const started = Date.now();
  const r = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', String(np), process.execPath, ...args], {
    cwd: pkgDir,
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
  });
  return { status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - started) / 1000 };
}

function train(kind: string, np: number | null, name: string, extra: string[] = []) {
  const out = join(tmp, `${name}.json`);
  const args = [fixture, kind, np === null ? 'single' : 'distributed', out, ...extra];
  if (np === null) {
    const r = spawnSync(process.execPath, args, { cwd: pkgDir, encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  } else {
    const r = mpirun(np, args);
    expect(r.status, r.output).toBe(0);
  }
  return {
    out,
    read: (rank = 0) => JSON.parse(readFileSync(`${out}.rank${rank}.json`, 'utf8')) as { weights: number[][]; loss: number[] },
  };
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.map((w) => w.length)).toEqual(b.map((w) => w.length));
  let worst = 0;
  a.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  return worst;
}

describe.skipIf(!mpiAvailable)('the MPI binding in one process (a singleton job)', () => {
  it('is rank 0 of 1; allReduce and broadcast keep values; bad arguments are errors naming the function', () => {
    const r = node(`
      import * as d from '@axon/distributed';
      import '@axon/kernels-js';
      import { tensor } from '@axon/tensor';
      const out = {};
      d.init();
      out.rank = d.rank(); out.size = d.size();
      out.sum = Array.from(d.allReduce(Float32Array.of(1, 2)));
      out.mean = Array.from(d.allReduce(tensor([4, 6]), 'mean').dataSync());
      out.bcast = Array.from(d.broadcast(Float32Array.of(5)));
      const error = (f) => { try { f(); return 'no error'; } catch (e) { return e.message; } };
      out.badOp = error(() => d.allReduce(Float32Array.of(1), 'prod'));
      out.badType = error(() => d.allReduce(new Float64Array(1)));
      out.badRoot = error(() => d.broadcast(Float32Array.of(1), 3));
      out.badOption = error(() => d.dataParallel({ bucketMB: 4 }));
      d.finalize();
      out.afterFinalize = error(() => d.rank());
      console.log(JSON.stringify(out));
    `);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ rank: 0, size: 1, sum: [1, 2], mean: [4, 6], bcast: [5] });
    expect(out.badOp).toMatch(/allReduce: op must be 'sum', 'mean', 'max' or 'min', got 'prod'/);
    expect(out.badType).toMatch(/allReduce: argument 0 must be a Float32Array/);
    expect(out.badRoot).toMatch(/broadcast: root must be a rank in \[0, 1\), got 3/);
    expect(out.badOption).toMatch(/dataParallel: unknown option 'bucketMB'/);
    expect(out.afterFinalize).toMatch(/rank: MPI was finalized/);
  });
});

describe.skipIf(!canRun)('data-parallel fit under mpirun', () => {
  it('seed CNN: 2 ranks reach the weights of one process on the same global batches', () => {
    const single = train('cnn', null, 'cnn-single');
    const two = train('cnn', 2, 'cnn-2');
    expect(maxDifference(single.read().weights, two.read().weights)).toBeLessThan(5e-5); // float32 sums in another order, through 10 Adam steps (measured: 4e-6 CNN, 2e-7 LSTM)
    expect(maxDifference(two.read(0).weights, two.read(1).weights)).toBe(0); // every rank holds the same model
    two.read().loss.forEach((l, i) => expect(l).toBeCloseTo(single.read().loss[i]!, 5));
  });

  it('seed LSTM: 2 ranks, and 3 ranks with uneven shards (32 = 10 + 11 + 11), match one process', () => {
    const single = train('lstm', null, 'lstm-single');
    const two = train('lstm', 2, 'lstm-2');
    const three = train('lstm', 3, 'lstm-3');
    expect(maxDifference(single.read().weights, two.read().weights)).toBeLessThan(5e-5); // float32 sums in another order, through 10 Adam steps (measured: 4e-6 CNN, 2e-7 LSTM)
    expect(maxDifference(single.read().weights, three.read().weights)).toBeLessThan(5e-5); // float32 sums in another order, through 10 Adam steps (measured: 4e-6 CNN, 2e-7 LSTM)
  });

  it('a last batch smaller than the ranks (1 sample on 2 ranks: one rank idle) still matches one process', () => {
    // 160 samples in batches of 53: the fourth global batch has 1 sample, so rank 0's shard is empty.
    const single = train('lstm', null, 'odd-single', ['--batch-size', '53']);
    const two = train('lstm', 2, 'odd-2', ['--batch-size', '53']);
    expect(maxDifference(single.read().weights, two.read().weights)).toBeLessThan(5e-5);
    expect(maxDifference(two.read(0).weights, two.read(1).weights)).toBe(0);
  });

  it('ranks given different data stop at once with the difference, instead of waiting in a collective', () => {
    const r = mpirun(2, [fixture, 'cnn', 'distributed', join(tmp, 'mismatch.json'), '--rank1-samples', '100'], 60_000);
    expect(r.status).not.toBe(0);
    expect(r.seconds).toBeLessThan(30);
    expect(r.output).toMatch(
      /fit: every rank must train on the same shape of data and model; rank 1 differs from rank 0 in samples \(100 here, 160 on rank 0\)/,
    );
  });

  it('a rank that throws stops the job within seconds, naming the rank and the error', () => {
    const r = mpirun(2, [fixture, 'cnn', 'distributed', join(tmp, 'throw.json'), '--fail-at-step', '3', '--how', 'throw'], 60_000);
    expect(r.status).not.toBe(0);
    expect(r.seconds).toBeLessThan(30);
    expect(r.output).toMatch(/fit failed on rank 1 of 2: injected failure at step 3/);
  });

  it('a killed rank stops the job within seconds (no hang in a collective)', () => {
    const r = mpirun(2, [fixture, 'cnn', 'distributed', join(tmp, 'kill.json'), '--fail-at-step', '3', '--how', 'kill'], 60_000);
    expect(r.status).not.toBe(0);
    expect(r.seconds).toBeLessThan(30);
    expect(r.output).toMatch(/rank 1 .*exited on signal 9/);
  });

  it("rank 0's callbacks stop every rank", () => {
    const run = train('lstm', 2, 'stop', ['--epochs', '5', '--stop-after-epoch', '1']);
    expect(run.read(0).loss).toHaveLength(2);
    expect(run.read(1).loss).toHaveLength(2);
  });

  it('checkpoints are written by rank 0 only, and a run resumes from one', () => {
    const dir = join(tmp, 'checkpoints');
    train('cnn', 2, 'checkpointed', ['--epochs', '2', '--checkpoint', dir]);
    expect(readdirSync(dir).sort()).toEqual(['epoch-1', 'epoch-2']);
    expect(existsSync(join(dir, 'epoch-1', 'model.json'))).toBe(true);
    const resumed = train('cnn', 2, 'resumed', ['--epochs', '2', '--resume', join(dir, 'epoch-1')]);
    expect(resumed.read(0).loss).toHaveLength(1); // epoch 2 only
    expect(Number.isFinite(resumed.read(0).loss[0])).toBe(true);
    expect(maxDifference(resumed.read(0).weights, resumed.read(1).weights)).toBe(0);
  });
});
