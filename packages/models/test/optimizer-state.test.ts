import '@axon/kernels-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD, loadModel, type ModelJSON, type Optimizer } from '../src/index.js';
import { blobs, classifier, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-optstate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const optimizers: Record<string, () => Optimizer> = {
  adam: () => new Adam({ learningRate: 0.01 }),
  'sgd with momentum': () => new SGD({ learningRate: 0.05, momentum: 0.9 }),
  'sgd with nesterov momentum': () => new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }),
  rmsprop: () => new RMSprop({ learningRate: 0.01 }),
  'rmsprop centered with momentum': () => new RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true }),
  adagrad: () => new Adagrad({ learningRate: 0.05 }),
  // Written to userDefinedMetadata (tfjs has no AdamW nor clipping): restored all the same.
  adamw: () => new AdamW({ learningRate: 0.01, weightDecay: 0.01 }),
  'adam with clipnorm': () => new Adam({ learningRate: 0.01, clipnorm: 0.5 }),
};

describe('the optimizer state survives save / loadModel', () => {
  for (const [name, make] of Object.entries(optimizers)) {
    it(`${name}: fit 2 epochs equals fit 1, save, loadModel, fit 1`, async () => {
      const { x, y } = blobs(24);
      const fitArgs = { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 as const };

      const straight = classifier();
      straight.compile({ optimizer: make(), loss: 'sparseCategoricalCrossentropy' });
      await straight.fit(x, y, { ...fitArgs, epochs: 2 });

      const first = classifier();
      first.compile({ optimizer: make(), loss: 'sparseCategoricalCrossentropy' });
      await first.fit(x, y, fitArgs);
      const target = join(dir, 'm');
      await first.save(target);
      const warn = vi.spyOn(console, 'warn');
      const resumed = await loadModel(target);
      expect(warn).not.toHaveBeenCalled();
      expect(resumed.optimizer?.iterations).toBe(3);
      await resumed.fit(x, y, fitArgs);

      expect(resumed.optimizer?.iterations).toBe(straight.optimizer?.iterations);
      const a = straight.getWeights().flatMap(values);
      const b = resumed.getWeights().flatMap(values);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    });
  }

  it('without the state, Adam does not continue the same (the test above is not vacuous)', async () => {
    const { x, y } = blobs(24);
    const fitArgs = { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 as const };
    const straight = classifier();
    straight.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    await straight.fit(x, y, { ...fitArgs, epochs: 2 });
    const first = classifier();
    first.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    await first.fit(x, y, fitArgs);
    await first.save(join(dir, 'm'), { includeOptimizer: false });
    const fresh = await loadModel(join(dir, 'm'));
    await fresh.fit(x, y, fitArgs);
    const a = straight.getWeights().flatMap(values);
    const b = fresh.getWeights().flatMap(values);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3);
  });

  it("writes tfjs' layout: iter, then each slot for every weight, in group 'optimizer'", async () => {
    const { x, y } = blobs(12);
    const model = classifier();
    model.compile({ optimizer: new Adam(), loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0 });
    const target = join(dir, 'm');
    await model.save(target);
    const json = JSON.parse(readFileSync(join(target, 'model.json'), 'utf8')) as ModelJSON;
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    const names = model.trainableWeights.map((w) => w.name);
    expect(specs.filter((s) => s.group === 'optimizer').map((s) => s.name)).toEqual([
      'iter',
      ...names.map((n) => `${n}/m`),
      ...names.map((n) => `${n}/v`),
    ]);
    expect(specs.find((s) => s.name === 'iter')).toEqual({ name: 'iter', shape: [], dtype: 'int32', group: 'optimizer' });
    expect(specs.filter((s) => s.group === undefined).map((s) => s.name)).toEqual(model.weights.map((w) => w.name));
  });

  it('writes only iter for a compiled model never trained, and nothing with includeOptimizer: false', async () => {
    const model = classifier();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await model.save(join(dir, 'a'));
    const a = JSON.parse(readFileSync(join(dir, 'a', 'model.json'), 'utf8')) as ModelJSON;
    expect(
      a.weightsManifest
        .flatMap((g) => g.weights)
        .filter((s) => s.group === 'optimizer')
        .map((s) => s.name),
    ).toEqual(['iter']);
    expect((await loadModel(join(dir, 'a'))).optimizer?.iterations).toBe(0);

    const { x, y } = blobs(12);
    await model.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0 });
    await model.save(join(dir, 'b'), { includeOptimizer: false });
    const b = JSON.parse(readFileSync(join(dir, 'b', 'model.json'), 'utf8')) as ModelJSON;
    expect(b.weightsManifest.flatMap((g) => g.weights).some((s) => s.group === 'optimizer')).toBe(false);
    // A model saved without optimizer state loads with a fresh optimizer.
    const loaded = await loadModel(join(dir, 'b'));
    expect(loaded.optimizer?.iterations).toBe(0);
    expect(loaded.optimizer?.stateOf(loaded.trainableWeights[0]!)).toBeNull();
    await expect(model.save(join(dir, 'c'), { includeOptimiser: true } as never)).rejects.toThrow(/includeOptimiser/);
  });

  it('skips an optimizer state that does not fit the optimizer with a warning', async () => {
    const { x, y } = blobs(12);
    const model = classifier();
    model.compile({ optimizer: new Adam(), loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0 });
    const target = join(dir, 'm');
    await model.save(target);
    // Rewrite the training config to SGD with momentum: the Adam slots do not fit it.
    const path = join(target, 'model.json');
    const json = JSON.parse(readFileSync(path, 'utf8')) as ModelJSON;
    json.trainingConfig!.optimizer_config = { class_name: 'Momentum', config: { learningRate: 0.1, momentum: 0.9 } };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, JSON.stringify(json));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const loaded = await loadModel(target);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/optimizer state was not restored.*not a slot of SGD/));
    expect(loaded.optimizer?.iterations).toBe(0);
    await loaded.fit(x, y, { epochs: 1, verbose: 0 });
  });
});
