/**
 * Crash-proof saves: a child process saving over an existing model is killed (SIGKILL) right
 * before each of its file system steps in turn (every mkdir, open for writing, write, fsync,
 * rename and removal, counted by the test preload crash/fs-steps.mjs); the path must then load
 * the old weights or the new ones, and the next save must leave nothing but the model behind.
 */
import '@axon/kernels-js';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setSeed } from '@axon/tensor';
import { dense } from '@axon/layers';
import { type Model, loadModel, sequential, type Sequential } from '../src/index.js';

const crashDir = fileURLToPath(new URL('./crash/', import.meta.url));

type Kind = 'model' | 'weights';

/** Saves (kind 'model') or saves the weights of the model at `source` to `target` in a child process. */
function childSave(source: string, target: string, kind: Kind, plan: { killAt?: number; failRemove?: string } = {}) {
  const result = spawnSync(
    process.execPath,
    ['--import', join(crashDir, 'fs-steps.mjs'), join(crashDir, 'save-child.mjs'), source, target, kind],
    {
      cwd: crashDir,
      encoding: 'utf8',
      env: { ...process.env, KILL_AT: String(plan.killAt ?? 0), FAIL_REMOVE: plan.failRemove ?? '' },
    },
  );
  return {
    signal: result.signal,
    status: result.status,
    stderr: result.stderr,
    steps: result.status === 0 ? (JSON.parse(result.stdout) as string[]) : [],
  };
}

/** A seeded classifier whose layer names are fixed, so weights files of one load into another. */
function classifier(seed: number): Sequential {
  setSeed(seed);
  return sequential([
    dense({ units: 8, activation: 'relu', inputShape: [4], name: 'hidden' }),
    dense({ units: 3, activation: 'softmax', name: 'out' }),
  ]);
}

function weightsOf(model: Model): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** The weights stored at `path`, read as the kind was written. */
async function storedWeights(path: string, kind: Kind): Promise<number[][]> {
  if (kind === 'model') return weightsOf(await loadModel(path));
  const model = classifier(99);
  await model.loadWeights(path);
  return weightsOf(model);
}

async function save(model: Sequential, path: string, kind: Kind): Promise<void> {
  await (kind === 'model' ? model.save(path) : model.saveWeights(path));
}

let dir: string;
let target: string;
let source: string;
const oldModel = classifier(1);
const newModel = classifier(2);
const nextModel = classifier(3);
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'axon-crash-'));
  target = join(dir, 'models', 'm');
  source = join(dir, 'new-model');
  await newModel.save(source);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe.each<Kind>(['model', 'weights'])('a %s save killed at any file system step', (kind) => {
  it('leaves the old or the new weights at the path, and the next save leaves no debris', async () => {
    await save(oldModel, target, kind);
    const complete = childSave(source, target, kind);
    expect(complete.status).toBe(0);
    // The preload sees every step, named imports of node:fs included: both renames, the writes, fsyncs and the removal.
    expect(complete.steps.filter((s) => s.startsWith('renameSync'))).toHaveLength(2);
    for (const step of ['mkdirSync', 'openSync', 'writeSync', 'fsyncSync', 'rmSync', 'unlinkSync']) {
      expect(complete.steps.some((s) => s.startsWith(step))).toBe(true);
    }
    const outcomes: string[] = [];
    for (let killAt = 1; killAt <= complete.steps.length; killAt++) {
      rmSync(join(dir, 'models'), { recursive: true, force: true });
      await save(oldModel, target, kind);
      expect(childSave(source, target, kind, { killAt }).signal).toBe('SIGKILL');
      const stored = await storedWeights(target, kind);
      const outcome = JSON.stringify(stored) === JSON.stringify(weightsOf(oldModel)) ? 'old' : 'new';
      if (outcome === 'new') expect(stored).toEqual(weightsOf(newModel));
      outcomes.push(outcome);
      await save(nextModel, target, kind);
      expect(readdirSync(join(dir, 'models'))).toEqual(['m']);
      expect(await storedWeights(target, kind)).toEqual(weightsOf(nextModel));
    }
    // Old until the model is moved aside, new from then on: the kills covered both sides.
    const firstNew = outcomes.indexOf('new');
    expect(firstNew).toBe(complete.steps.findIndex((s) => s.startsWith('renameSync')) + 1);
    expect(outcomes.slice(firstNew).every((o) => o === 'new')).toBe(true);
  }, 120_000);
});

describe('recovery of a save killed between its two renames', () => {
  /** Kills a save right after it moved the old model aside: no model under the name, the new one complete in its tmp. */
  async function killBetweenRenames(): Promise<void> {
    await save(oldModel, target, 'model');
    const { steps } = childSave(source, target, 'model');
    const secondRename = steps.lastIndexOf(steps.filter((s) => s.startsWith('renameSync')).at(-1)!) + 1;
    expect(childSave(source, target, 'model', { killAt: secondRename }).signal).toBe('SIGKILL');
    expect(readdirSync(join(dir, 'models')).sort()).toEqual([expect.stringMatching(/^\.m\.old-/), expect.stringMatching(/^\.m\.tmp-/)]);
  }

  it('loadModel restores the model, and the next save clears the leftovers', async () => {
    await killBetweenRenames();
    expect(weightsOf(await loadModel(target))).toEqual(weightsOf(newModel));
    await nextModel.save(target);
    expect(readdirSync(join(dir, 'models'))).toEqual(['m']);
  }, 30_000);

  it('loadModel given the model.json file (not the folder) restores the model too', async () => {
    await killBetweenRenames();
    expect(weightsOf(await loadModel(join(target, 'model.json')))).toEqual(weightsOf(newModel));
  }, 30_000);

  it('a next save killed at any step, its recovery included, still leaves a loadable model', async () => {
    await killBetweenRenames();
    const snapshot = join(dir, 'snapshot');
    cpSync(join(dir, 'models'), snapshot, { recursive: true });
    const next = join(dir, 'next-model');
    await nextModel.save(next);
    const complete = childSave(next, target, 'model');
    expect(complete.steps[1]).toMatch(/^renameSync \.m\.tmp-/); // the recovery's steps are among those killed
    for (let killAt = 1; killAt <= complete.steps.length; killAt++) {
      rmSync(join(dir, 'models'), { recursive: true, force: true });
      cpSync(snapshot, join(dir, 'models'), { recursive: true });
      expect(childSave(next, target, 'model', { killAt }).signal).toBe('SIGKILL');
      const stored = weightsOf(await loadModel(target));
      expect([JSON.stringify(weightsOf(newModel)), JSON.stringify(weightsOf(nextModel))]).toContain(JSON.stringify(stored));
      await oldModel.save(target);
      expect(readdirSync(join(dir, 'models'))).toEqual(['m']);
    }
  }, 120_000);
});

describe('removing the previous model fails after the new one is in place', () => {
  it('the save succeeds with a warning, and the next save removes the old copy (injected EACCES)', async () => {
    await save(oldModel, target, 'model');
    const child = childSave(source, target, 'model', { failRemove: '.m.old-' });
    expect(child.status).toBe(0);
    expect(child.stderr).toMatch(/Axon save: could not remove the previous model .*\.m\.old-.*EACCES/);
    expect(readdirSync(join(dir, 'models')).sort()).toEqual([expect.stringMatching(/^\.m\.old-/), 'm']);
    expect(weightsOf(await loadModel(target))).toEqual(weightsOf(newModel));
    expect(readdirSync(join(dir, 'models'))).toEqual(['m']); // the load removed the dead save's old copy
  }, 30_000);

  /** Whether a read-only directory really keeps this process from deleting in it (root ignores the mode). */
  function chmodDenies(): boolean {
    const probe = mkdtempSync(join(tmpdir(), 'axon-chmod-'));
    writeFileSync(join(probe, 'f'), '');
    chmodSync(probe, 0o555);
    try {
      unlinkSync(join(probe, 'f'));
      return false;
    } catch {
      return true;
    } finally {
      chmodSync(probe, 0o755);
      rmSync(probe, { recursive: true, force: true });
    }
  }

  it.skipIf(!chmodDenies())('the save over a read-only old directory succeeds, the next one cleans up (chmod)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await oldModel.save(target);
    chmodSync(target, 0o555);
    await newModel.save(target);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/could not remove the previous model .*EACCES/));
    expect(weightsOf(await loadModel(target))).toEqual(weightsOf(newModel));
    const aside = readdirSync(join(dir, 'models')).filter((e) => e.startsWith('.m.old-'));
    expect(aside).toHaveLength(1);
    chmodSync(join(dir, 'models', aside[0]!), 0o755);
    await nextModel.save(target);
    expect(readdirSync(join(dir, 'models'))).toEqual(['m']);
  });
});

describe('leftovers of other processes', () => {
  it("keeps a live process's temporary directory and removes a dead one's", async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      mkdirSync(join(dir, 'models'));
      const live = join(dir, 'models', `.m.tmp-${sleeper.pid}-0123abcd`);
      const stale = join(dir, 'models', `.m.tmp-${dead}-0123abcd`);
      mkdirSync(live);
      mkdirSync(stale);
      await oldModel.save(target);
      expect(readdirSync(join(dir, 'models')).sort()).toEqual([`.m.tmp-${sleeper.pid}-0123abcd`, 'm']);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
