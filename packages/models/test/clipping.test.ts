/**
 * Gradient clipping on every optimizer (Keras clipnorm, clipvalue, global_clipnorm) — the remedy
 * for the exploding gradients of recurrent networks — and optimizer options checked by name.
 */
import '@axon/kernels-native';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Variable, randomNormal, setSeed, sum, tensor } from '@axon/tensor';
import { dense } from '@axon/layers';
import { simpleRNN } from '@axon/recurrent';
import { describe, expect, it } from 'vitest';

import { Adagrad, Adam, AdamW, RMSprop, SGD, loadModel, sequential } from '../src/index.js';

function step(optimizer: SGD, grads: number[][]): number[][] {
  const vars = grads.map((g) => new Variable(tensor(new Array(g.length).fill(0))));
  optimizer.applyGradients(
    vars,
    grads.map((g) => tensor(g)),
  );
  return vars.map((v) => Array.from(v.dataSync()));
}

const close = (actual: number[][], expected: number[][]) =>
  actual.forEach((a, i) => a.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 6)));

describe('gradient clipping', () => {
  it('clipnorm rescales each gradient to norm at most clipnorm (tf.clip_by_norm)', () => {
    close(
      step(new SGD({ learningRate: 1, clipnorm: 1 }), [
        [3, 4],
        [0.3, 0.4],
      ]),
      [
        [-0.6, -0.8],
        [-0.3, -0.4],
      ],
    );
  });

  it('globalClipnorm rescales all gradients together (tf.clip_by_global_norm)', () => {
    close(step(new SGD({ learningRate: 1, globalClipnorm: 1 }), [[3], [4]]), [[-0.6], [-0.8]]);
    close(step(new SGD({ learningRate: 1, globalClipnorm: 10 }), [[3], [4]]), [[-3], [-4]]);
  });

  it('clipvalue clips each value, after the norms (Keras order)', () => {
    close(step(new SGD({ learningRate: 1, clipvalue: 0.5 }), [[3, -0.2, -7]]), [[-0.5, 0.2, 0.5]]);
    close(step(new SGD({ learningRate: 1, clipnorm: 5, clipvalue: 2 }), [[30, 40]]), [[-2, -2]]);
  });

  it('bounds the update the issue saw explode (SGD clipnorm 0.001 had moved a weight by 190)', () => {
    const [[moved]] = step(new SGD({ learningRate: 0.01, clipnorm: 0.001 }), [[19000]]);
    expect(Math.abs(moved!)).toBeCloseTo(1e-5, 10);
  });

  it('every optimizer takes the options; bad ones are errors', () => {
    for (const make of [
      () => new Adam({ clipnorm: 1 }),
      () => new AdamW({ clipvalue: 1 }),
      () => new RMSprop({ globalClipnorm: 1 }),
      () => new Adagrad({ clipnorm: 2 }),
    ]) {
      expect(Object.keys(make().clipping)).toHaveLength(1);
    }
    expect(() => new SGD({ clipnorm: 1, globalClipnorm: 1 })).toThrow(/SGD: give clipnorm or globalClipnorm, not both/);
    expect(() => new Adam({ clipvalue: -1 })).toThrow(/Adam: clipvalue must be a positive number, got -1/);
  });

  it('an exploding RNN diverges without clipping and trains with it', async () => {
    // A linear SimpleRNN whose recurrent kernel is 1.3·I: over 30 steps the backward pass multiplies
    // gradients by about 1.3^30 ≈ 2,600 — the exploding gradients of the article.
    const run = async (clip: { clipnorm?: number }) => {
      setSeed(5);
      const model = sequential([simpleRNN({ units: 4, activation: 'linear', inputShape: [30, 1] }), dense({ units: 1 })]);
      model.compile({ optimizer: new SGD({ learningRate: 0.01, ...clip }), loss: 'meanSquaredError' });
      model.predict(tensor(new Array(30).fill(0), [1, 30, 1]));
      const [kernel, , bias] = model.layers[0]!.getWeights();
      const eye = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1.3 : 0));
      model.layers[0]!.setWeights([kernel!, tensor(eye, [4, 4]), bias!]);
      const x = randomNormal([64, 30, 1]);
      const y = sum(x, 1); // the running sum: learnable by a linear RNN
      const history = await model.fit(x, y, { epochs: 8, batchSize: 16, verbose: 0 });
      return history.history.loss!;
    };
    const unclipped = await run({});
    const clipped = await run({ clipnorm: 1 });
    expect(unclipped.some((l) => !Number.isFinite(l) || l > 1e6)).toBe(true);
    expect(clipped.every((l) => Number.isFinite(l))).toBe(true);
    expect(clipped.at(-1)!).toBeLessThan(clipped[0]!);
  });

  it('is saved with the optimizer and restored by loadModel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axon-clip-'));
    try {
      const model = sequential([dense({ units: 1, inputShape: [2] })]);
      model.compile({ optimizer: new Adam({ learningRate: 0.01, globalClipnorm: 0.5, clipvalue: 0.1 }), loss: 'meanSquaredError' });
      await model.save(dir);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const saved = json.trainingConfig ?? json.userDefinedMetadata.axonTrainingConfig;
      // In the optimizer's own (camelCase, tfjs-style) keys; a Keras file's global_clipnorm is read too.
      expect(saved.optimizer_config.config).toMatchObject({ globalClipnorm: 0.5, clipvalue: 0.1 });
      const again = await loadModel(dir);
      expect((again.optimizer as Adam).clipping).toEqual({ globalClipnorm: 0.5, clipvalue: 0.1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('optimizer options are checked by name', () => {
  it('a misspelled or snake_case option is an error suggesting the right one', () => {
    expect(() => new Adam({ learning_rate: 0.1 } as never)).toThrow(
      /Adam: unknown option 'learning_rate' \(did you mean 'learningRate'\?\)/,
    );
    expect(() => new SGD({ momentun: 0.9 } as never)).toThrow(/SGD: unknown option 'momentun' \(did you mean 'momentum'\?\)/);
    expect(() => new AdamW({ weightDecay: 0.01, clipNorm: 1 } as never)).toThrow(
      /AdamW: unknown option 'clipNorm' \(did you mean 'clipnorm'\?\)/,
    );
  });
});
