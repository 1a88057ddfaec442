import '@axon/kernels-js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { randomNormal, setSeed } from '@axon/tensor';
import { dense } from '@axon/layers';
import { sequential, type WeightsJSON } from '../src/index.js';
import { classifier, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-weights-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** A classifier with named layers; `units` the hidden width, `extra` adds a third layer. */
function named(seed: number, units = 8, extra = false) {
  setSeed(seed);
  return sequential([
    dense({ units, activation: 'relu', inputShape: [4], name: 'hidden' }),
    ...(extra ? [dense({ units, name: 'more' })] : []),
    dense({ units: 3, activation: 'softmax', name: 'out' }),
  ]);
}

describe('saveWeights / loadWeights', () => {
  it('round-trips the weights by layer name', async () => {
    const source = named(1);
    const target = join(dir, 'w');
    await source.saveWeights(target);
    expect(readdirSync(target).sort()).toEqual(['group1-shard1of1.bin', 'weights.json']);
    const json = JSON.parse(readFileSync(join(target, 'weights.json'), 'utf8')) as WeightsJSON;
    expect(json.format).toBe('axon-weights');
    expect(json.layers).toEqual([
      { name: 'hidden', weights: ['hidden/kernel', 'hidden/bias'] },
      { name: 'out', weights: ['out/kernel', 'out/bias'] },
    ]);
    const dest = named(2);
    const x = randomNormal([5, 4]);
    expect(values(dest.predict(x))).not.toEqual(values(source.predict(x)));
    await dest.loadWeights(target);
    expect(values(dest.predict(x))).toEqual(values(source.predict(x)));
    // Saving again replaces the directory atomically; file:// is accepted.
    await dest.saveWeights(`file://${target}`);
    await named(3).loadWeights(`file://${target}`);
  });

  it('refuses to overwrite a directory that is not a weights directory', async () => {
    const target = join(dir, 'other');
    await import('node:fs').then((fs) => fs.mkdirSync(target));
    writeFileSync(join(target, 'notes.txt'), 'keep me');
    await expect(named(1).saveWeights(target)).rejects.toThrow(/holds no weights.json/);
    expect(existsSync(join(target, 'notes.txt'))).toBe(true);
  });

  it('names the layer and weight of a shape mismatch, and assigns nothing', async () => {
    const target = join(dir, 'w');
    await named(1).saveWeights(target);
    const dest = named(2, 5);
    const before = dest.getWeights().flatMap(values);
    await expect(dest.loadWeights(target)).rejects.toThrow(
      /layer 'hidden': weight 'hidden\/kernel' has shape \[4,8\] in the file, but the model expects \[4,5\]/,
    );
    expect(dest.getWeights().flatMap(values)).toEqual(before);
  });

  it('names a layer missing from the file, and layers of the file the model lacks', async () => {
    const target = join(dir, 'w');
    await named(1).saveWeights(target);
    await expect(named(2, 8, true).loadWeights(target)).rejects.toThrow(/layer 'more' is not in the file \(its layers: hidden, out\)/);
    const bigger = join(dir, 'bigger');
    await named(1, 8, true).saveWeights(bigger);
    await expect(named(2).loadWeights(bigger)).rejects.toThrow(/layers the model .* does not have: more/);
  });

  it('names a missing or extra weight of a layer', async () => {
    const target = join(dir, 'w');
    await named(1).saveWeights(target);
    setSeed(3);
    const noBias = sequential([
      dense({ units: 8, activation: 'relu', inputShape: [4], name: 'hidden', useBias: false }),
      dense({ units: 3, name: 'out' }),
    ]);
    await expect(noBias.loadWeights(target)).rejects.toThrow(
      /layer 'hidden': the file holds weights the layer does not have: hidden\/bias/,
    );
    const noBiasDir = join(dir, 'nobias');
    await noBias.saveWeights(noBiasDir);
    await expect(named(2).loadWeights(noBiasDir)).rejects.toThrow(/layer 'hidden': weight 'hidden\/bias' is not in the file/);
  });

  it('skipMismatch skips mismatched layers with a warning and loads the rest', async () => {
    const target = join(dir, 'w');
    const source = named(1);
    await source.saveWeights(target);
    setSeed(4);
    const dest = sequential([dense({ units: 5, inputShape: [4], name: 'hidden' }), dense({ units: 3, name: 'out' })]);
    const hiddenBefore = dest.layers[0]!.getWeights().flatMap(values);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(dest.loadWeights(target)).rejects.toThrow(/hidden/);
    await dest.loadWeights(target, { skipMismatch: true });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/skipped .*layer 'hidden'/));
    expect(dest.layers[0]!.getWeights().flatMap(values)).toEqual(hiddenBefore);
    // 'out' has kernel [5,3] here vs [8,3] in the file: skipped too.
    const dest2 = named(5);
    await dest2.loadWeights(target, { skipMismatch: true });
    expect(dest2.getWeights().flatMap(values)).toEqual(source.getWeights().flatMap(values));
  });

  it('rejects unknown options, an unbuilt model and a file that is not a weights file', async () => {
    const target = join(dir, 'w');
    await classifier().saveWeights(target);
    await expect(classifier().loadWeights(target, { skipMismatches: true } as never)).rejects.toThrow(/skipMismatches/);
    const unbuilt = sequential([dense({ units: 2 })]);
    await expect(unbuilt.loadWeights(target)).rejects.toThrow(/built/);
    await expect(unbuilt.saveWeights(join(dir, 'u'))).rejects.toThrow(/built/);
    await expect(classifier().loadWeights(join(dir, 'none'))).rejects.toThrow(/does not exist/);
    const model = classifier();
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await model.save(join(dir, 'model'));
    await expect(classifier().loadWeights(join(dir, 'model', 'model.json'))).rejects.toThrow(/not a weights file/);
  });
});
