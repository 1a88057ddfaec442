/**
 * A weights manifest that does not describe its bytes or the variables they load into is an
 * error naming the file and the weight, never garbage weights: a dtype other than the variable's
 * (as TensorFlow.js' Variable.assign), an unknown dtype, a malformed shape, a byte count other
 * than shape × dtype size.
 */
import '@axon/kernels-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setSeed } from '@axon/tensor';
import { dense } from '@axon/layers';
import { loadModel, sequential, type Sequential, type WeightSpec } from '../src/index.js';
import { blobs } from './helpers.js';

function classifier(): Sequential {
  setSeed(5);
  return sequential([
    dense({ units: 8, activation: 'relu', inputShape: [4], name: 'hidden' }),
    dense({ units: 3, activation: 'softmax', name: 'out' }),
  ]);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-manifest-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** Rewrites the manifest entry `name` of the JSON file `file` (model.json or weights.json). */
function editSpec(file: string, name: string, edit: (spec: WeightSpec) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: { weights: WeightSpec[] }[] };
  const spec = json.weightsManifest.flatMap((g) => g.weights).find((w) => w.name === name);
  if (!spec) throw new Error(`no manifest entry ${name} in ${file}`);
  edit(spec);
  writeFileSync(file, JSON.stringify(json));
}

describe.each([
  { file: 'model.json', load: (path: string) => loadModel(path), save: (m: Sequential, path: string) => m.save(path) },
  {
    file: 'weights.json',
    load: (path: string) => classifier().loadWeights(path),
    save: (m: Sequential, path: string) => m.saveWeights(path),
  },
])('a manifest in $file that does not match', ({ file, load, save }) => {
  let target: string;
  beforeEach(async () => {
    target = join(dir, 'm');
    await save(classifier(), target);
    await expect(load(target)).resolves.not.toThrow(); // the unedited file loads
  });

  it('a float32 weight relabelled int32 is refused, naming the weight and both dtypes', async () => {
    editSpec(join(target, file), 'hidden/kernel', (s) => {
      s.dtype = 'int32';
    });
    await expect(load(target)).rejects.toThrow(
      /^load(Model|Weights): weight files? .*: weight 'hidden\/kernel' has dtype 'int32' in the manifest, but it is loaded into a model variable, which is float32$/,
    );
  });

  it('an unknown dtype is refused', async () => {
    editSpec(join(target, file), 'out/bias', (s) => {
      s.dtype = 'float16' as WeightSpec['dtype'];
    });
    await expect(load(target)).rejects.toThrow(/weight 'out\/bias' has dtype "float16"; Axon reads float32 and int32/);
  });

  it.each([[[-4, 8]], [[4.5, 8]], ['4x8']])('a shape %j is refused', async (shape) => {
    editSpec(join(target, file), 'hidden/kernel', (s) => {
      s.shape = shape as number[];
    });
    await expect(load(target)).rejects.toThrow(
      `weight 'hidden/kernel' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`,
    );
  });

  it('a shape whose size does not match the bytes is refused, naming both byte counts', async () => {
    editSpec(join(target, file), 'out/bias', (s) => {
      s.shape = [4];
    });
    // 4×8 + 8 + 8×3 + 3 = 67 floats (268 bytes) in the file; the edited manifest needs 68 (272).
    await expect(load(target)).rejects.toThrow(/need 272 bytes, but the file holds 268/);
  });
});

describe('optimizer state in the manifest', () => {
  it('restores an int32 iter, but skips with a warning a slot relabelled int32 rather than misread it', async () => {
    const { x, y } = blobs(12);
    const model = classifier();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 1, batchSize: 6, verbose: 0 });
    const target = join(dir, 'm');
    await model.save(target);
    expect((await loadModel(target)).optimizer?.iterations).toBe(2);
    editSpec(join(target, 'model.json'), 'hidden/kernel/m', (s) => {
      s.dtype = 'int32';
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const loaded = await loadModel(target);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/optimizer state was not restored.*'hidden\/kernel\/m' has dtype 'int32', but optimizer slots are float32/),
    );
    expect(loaded.optimizer?.iterations).toBe(0);
  });
});
