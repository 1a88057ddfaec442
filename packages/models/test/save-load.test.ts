import '@axon/kernels-js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomNormal, setSeed } from '@axon/tensor';
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import {
  AdamW,
  SGD,
  SparseCategoricalCrossentropy,
  loadModel,
  sequential,
  writeDirectoryAtomically,
  type ModelJSON,
} from '../src/index.js';
import { blobs, classifier, values, loadSequential } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-save-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function readJson(path: string): ModelJSON {
  return JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')) as ModelJSON;
}

describe('save / loadModel round trip', () => {
  it('restores layers, weights, predictions and the compile configuration', async () => {
    setSeed(4);
    const model = sequential([
      conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [7, 7, 1] }),
      maxPooling2d({ poolSize: 2 }),
      flatten(),
      dense({ units: 4, activation: 'softmax' }),
    ]);
    model.compile({
      optimizer: new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }),
      loss: 'sparse_categorical_crossentropy',
      metrics: ['acc'],
    });
    const target = join(dir, 'm');
    await model.save(target);
    const loaded = await loadSequential(target);
    expect(loaded.name).toBe(model.name);
    expect(loaded.layers.map((l) => [l.name, l.getClassName()])).toEqual(model.layers.map((l) => [l.name, l.getClassName()]));
    const x = randomNormal([3, 7, 7, 1]);
    expect(values(loaded.predict(x))).toEqual(values(model.predict(x)));
    expect(loaded.optimizer?.getConfig()).toEqual({ learningRate: 0.05, momentum: 0.9, nesterov: true });
    expect(loaded.loss?.name).toBe('sparse_categorical_crossentropy');
    expect(loaded.metrics.map((m) => m.name)).toEqual(['acc']);
    // Also loadable from the model.json path and with a file:// prefix.
    expect((await loadModel(join(target, 'model.json'))).layers).toHaveLength(4);
    expect((await loadModel(`file://${target}`)).layers).toHaveLength(4);
  });

  it('keeps options tfjs cannot express (fromLogits, AdamW) in userDefinedMetadata, so tfjs still loads the file', async () => {
    const model = classifier();
    model.compile({ optimizer: new AdamW({ weightDecay: 0.01 }), loss: new SparseCategoricalCrossentropy({ fromLogits: true }) });
    const target = join(dir, 'logits');
    await model.save(target);
    const json = readJson(target);
    expect(json.trainingConfig).toBeUndefined();
    expect(json.userDefinedMetadata?.axonTrainingConfig).toMatchObject({
      loss: 'sparse_categorical_crossentropy',
      loss_config: { from_logits: true },
      optimizer_config: { class_name: 'AdamW' },
    });
    const loaded = await loadSequential(target);
    expect(loaded.optimizer).toBeInstanceOf(AdamW);
    expect(loaded.optimizer?.getConfig()).toMatchObject({ weightDecay: 0.01 });
    expect(loaded.loss?.getConfig()).toEqual({ fromLogits: true });
    expect((await loadModel(target, { compile: false })).optimizer).toBeNull();
  });

  it('writes trainingConfig as tfjs does when tfjs can compile it', async () => {
    const model = classifier();
    model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const target = join(dir, 'tc');
    await model.save(target);
    expect(readJson(target).trainingConfig).toEqual({
      loss: 'categorical_crossentropy',
      metrics: ['accuracy'],
      optimizer_config: { class_name: 'RMSProp', config: { learningRate: 0.001, decay: 0.9, momentum: 0, epsilon: 1e-7, centered: false } },
    });
  });

  it('resumes training after loading (fit continues from the saved weights)', async () => {
    const { x, y } = blobs(30);
    const model = classifier();
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(x, y, { epochs: 3, verbose: 0 });
    await model.save(join(dir, 'r'));
    const loaded = await loadSequential(join(dir, 'r'));
    const before = loaded.evaluate(x, y) as number;
    await loaded.fit(x, y, { epochs: 5, verbose: 0 });
    expect(loaded.evaluate(x, y) as number).toBeLessThan(before);
  });

  it('refuses an unbuilt model', async () => {
    await expect(sequential([dense({ units: 2 })]).save(join(dir, 'u'))).rejects.toThrow(/save\(\) needs a built model/);
  });
});

describe('atomic writes', () => {
  it('replaces an existing model directory and leaves no temporary files', async () => {
    const target = join(dir, 'model');
    const a = classifier(1);
    const b = classifier(2);
    await a.save(target);
    await b.save(target);
    const x = randomNormal([2, 4]);
    expect(values((await loadSequential(target)).predict(x))).toEqual(values(b.predict(x)));
    expect(readdirSync(dir)).toEqual(['model']);
    expect(readdirSync(target).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  });

  it('keeps the previous model intact when writing fails midway', async () => {
    const target = join(dir, 'model');
    const a = classifier(1);
    await a.save(target);
    const before = readFileSync(join(target, 'model.json'), 'utf8');
    // A file name that cannot be created makes the write fail after the first file.
    expect(() =>
      writeDirectoryAtomically(
        target,
        [
          { name: 'model.json', data: '{}' },
          { name: 'no/such/dir.bin', data: 'x' },
        ],
        'model.json',
      ),
    ).toThrow();
    expect(readFileSync(join(target, 'model.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['model']);
  });

  it('refuses to replace a directory that is not a saved model, or a file', async () => {
    const other = join(dir, 'photos');
    mkdirSync(other);
    writeFileSync(join(other, 'cat.jpg'), 'meow');
    await expect(classifier().save(other)).rejects.toThrow(/Cannot save to .*photos: the directory is not empty and holds no model.json/);
    expect(existsSync(join(other, 'cat.jpg'))).toBe(true);
    writeFileSync(join(dir, 'file'), 'x');
    await expect(classifier().save(join(dir, 'file'))).rejects.toThrow(/it exists and is not a directory/);
  });
});

describe('loading corrupt or mismatched files gives a clear error naming the file', () => {
  let target: string;
  beforeEach(async () => {
    target = join(dir, 'm');
    await classifier().save(target);
  });
  const jsonPath = (): string => join(target, 'model.json');
  // biome-ignore lint/suspicious/noExplicitAny: the tests edit arbitrary paths of the saved JSON
  const edit = (f: (json: Record<string, any>) => void): void => {
    const json = JSON.parse(readFileSync(jsonPath(), 'utf8'));
    f(json);
    writeFileSync(jsonPath(), JSON.stringify(json));
  };

  it('missing directory or model.json', async () => {
    await expect(loadModel(join(dir, 'nothing'))).rejects.toThrow(/loadModel: .*nothing does not exist \(no model saved at .*nothing\)/);
  });

  it('bad JSON', async () => {
    writeFileSync(jsonPath(), '{"modelTopology": ');
    await expect(loadModel(target)).rejects.toThrow(new RegExp(`loadModel: ${jsonPath()} is not valid JSON: `));
  });

  it('no modelTopology, or a graph model', async () => {
    edit((j) => delete j.modelTopology);
    await expect(loadModel(target)).rejects.toThrow(`loadModel: ${jsonPath()} has no modelTopology object`);
    edit((j) => (j.format = 'graph-model'));
    await expect(loadModel(target)).rejects.toThrow(/is a TensorFlow.js graph model/);
  });

  it('missing weight file', async () => {
    rmSync(join(target, 'group1-shard1of1.bin'));
    await expect(loadModel(target)).rejects.toThrow(
      `loadModel: weight file ${join(target, 'group1-shard1of1.bin')} (listed in ${jsonPath()}) does not exist`,
    );
  });

  it('wrong byte length', async () => {
    const bin = join(target, 'group1-shard1of1.bin');
    writeFileSync(bin, readFileSync(bin).subarray(0, 100));
    await expect(loadModel(target)).rejects.toThrow(
      new RegExp(`loadModel: weight file ${bin}: the weights listed in the manifest .* need 268 bytes, but the file holds 100`),
    );
  });

  it('unknown layer class', async () => {
    edit((j) => (j.modelTopology.config.layers[1].class_name = 'Dense3D'));
    await expect(loadModel(target)).rejects.toThrow(
      /loadModel: .*model.json: layer 1 \('dense_\d+'\) has unknown class 'Dense3D'. Known layer classes: .*Conv2D.*Dense/,
    );
  });

  it('invalid layer config', async () => {
    edit((j) => (j.modelTopology.config.layers[1].config.units = -2));
    await expect(loadModel(target)).rejects.toThrow(
      /cannot create layer 1 \('dense_\d+', Dense\): Layer dense_\d+: units must be a positive integer, got -2/,
    );
  });

  it('weights that do not match the model (names, shapes)', async () => {
    edit((j) => (j.weightsManifest[0].weights[0].name = 'other/kernel'));
    await expect(loadModel(target)).rejects.toThrow(
      /the weights do not match the model: missing dense_\d+\/kernel; unexpected other\/kernel/,
    );
    edit((j) => {
      j.weightsManifest[0].weights[0].name = `${j.modelTopology.config.layers[0].config.name}/kernel`;
      j.weightsManifest[0].weights[0].shape = [8, 4];
    });
    await expect(loadModel(target)).rejects.toThrow(
      /weight dense_\d+\/kernel has shape \[8,4\] in the file, but the model expects \[4,8\]/,
    );
  });

  it('another model class, or a functional model without its graph', async () => {
    edit((j) => (j.modelTopology.class_name = 'Mystery'));
    await expect(loadModel(target)).rejects.toThrow(
      /the model is a 'Mystery'; Axon loads Sequential and functional \('Functional', 'Model'\) models/,
    );
    edit((j) => (j.modelTopology.class_name = 'Model'));
    await expect(loadModel(target)).rejects.toThrow(
      /cannot rebuild the functional model: model: needs at least one input and one output, got 0 input\(s\) and 0 output\(s\)/,
    );
  });
});
