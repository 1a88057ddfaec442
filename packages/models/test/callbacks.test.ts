import '@axon/kernels-js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CSVLogger,
  Callback,
  EarlyStopping,
  JSONLinesLogger,
  LearningRateScheduler,
  ModelCheckpoint,
  ReduceLROnPlateau,
  formatPath,
  SGD,
  TerminateOnNaN,
  loadModel,
  sequential,
  terminateOnNaN,
  type Logs,
  type Sequential,
} from '../src/index.js';
import { type Tensor, mul, randomNormal, reshape, setSeed, square, sub } from '@axon/tensor';
import { dense } from '@axon/layers';
import { blobs, classifier, values } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-callbacks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Replays a fixed sequence of logged values, one per epoch, instead of real metrics. */
class Script extends Callback {
  constructor(
    private readonly key: string,
    private readonly sequence: number[],
  ) {
    super();
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    logs[this.key] = this.sequence[epoch]!;
  }
}

function compiled(): Sequential {
  const model = classifier();
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  return model;
}
const { x, y } = blobs(8);

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement of more than minDelta', async () => {
    const model = compiled();
    const stopper = new EarlyStopping({ monitor: 'score', patience: 2, minDelta: 0.05 });
    const history = await model.fit(x, y, {
      epochs: 20,
      verbose: 0,
      callbacks: [new Script('score', [1, 0.9, 0.88, 0.87, 0.5, 0.4]), stopper],
    });
    // 0.88 and 0.87 improve on 0.9 by less than minDelta: stop at epoch 3.
    expect(history.epoch).toEqual([0, 1, 2, 3]);
    expect(stopper.stoppedEpoch).toBe(3);
    expect(stopper.best).toBe(0.9);
  });

  it("mode 'auto' maximizes accuracy-like values", async () => {
    const stopper = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
    expect(stopper.mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'val_loss' }).mode).toBe('min');
    const history = await compiled().fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [new Script('val_accuracy', [0.5, 0.6, 0.55, 0.7]), stopper],
    });
    expect(history.epoch).toEqual([0, 1, 2]);
  });

  it('restores the best weights at the end', async () => {
    const model = compiled();
    const snapshots: number[][] = [];
    const history = await model.fit(x, y, {
      epochs: 4,
      verbose: 0,
      callbacks: [
        new Script('score', [3, 1, 2, 2]),
        { onEpochEnd: () => void snapshots.push(values(model.getWeights()[0]!)) },
        new EarlyStopping({ monitor: 'score', patience: 10, restoreBestWeights: true }),
      ],
    });
    expect(history.epoch).toHaveLength(4);
    expect(values(model.getWeights()[0]!)).toEqual(snapshots[1]);
  });

  it('keeps training while the value improves, even when the baseline is not beaten yet (as Keras)', async () => {
    const stopper = new EarlyStopping({ monitor: 'score', patience: 2, baseline: 0.5 });
    const history = await compiled().fit(x, y, { epochs: 5, verbose: 0, callbacks: [new Script('score', [5, 4, 3, 2, 1]), stopper] });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(stopper.stoppedEpoch).toBe(0);
    // The wait was never reset (the baseline was not beaten), so the first epoch that does not improve stops.
    const again = await compiled().fit(x, y, { epochs: 6, verbose: 0, callbacks: [new Script('score', [5, 4, 3, 2, 1, 1]), stopper] });
    expect(again.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stopper.stoppedEpoch).toBe(5);
  });

  it('stops after patience epochs when the baseline is not beaten and nothing improves', async () => {
    const stopper = new EarlyStopping({ monitor: 'score', patience: 2, baseline: 0.5 });
    const history = await compiled().fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [new Script('score', [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]), stopper],
    });
    // Epoch 0 sets the best (wait 1, not reset: 5 does not beat the baseline); epoch 1 reaches patience.
    expect(history.epoch).toEqual([0, 1]);
    expect(stopper.stoppedEpoch).toBe(1);
    // Beating the baseline resets the wait as usual.
    const beaten = await compiled().fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [new Script('score', [0.4, 0.4, 0.4, 0.4, 0.4]), stopper],
    });
    expect(beaten.epoch).toEqual([0, 1, 2]);
  });

  it('never stops while a real loss falls, even with patience 0', async () => {
    const model = compiled();
    const stopper = new EarlyStopping({ monitor: 'loss' });
    const history = await model.fit(x, y, { epochs: 6, batchSize: 8, verbose: 0, callbacks: [stopper] });
    const loss = history.history.loss!;
    for (let i = 1; i < loss.length; i++) expect(loss[i]!).toBeLessThan(loss[i - 1]!);
    expect(history.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stopper.stoppedEpoch).toBe(0);
  });

  it('with patience 0 stops at the first epoch that does not improve', async () => {
    const history = await compiled().fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [new Script('score', [3, 2, 1, 1.5, 0.5]), new EarlyStopping({ monitor: 'score' })],
    });
    expect(history.epoch).toEqual([0, 1, 2, 3]);
  });

  it('stops a plateau after exactly patience epochs', async () => {
    const stopper = new EarlyStopping({ monitor: 'score', patience: 3 });
    const history = await compiled().fit(x, y, {
      epochs: 20,
      verbose: 0,
      callbacks: [new Script('score', [3, 2, 2, 2, 2, 2, 2, 2]), stopper],
    });
    // Best at epoch 1; epochs 2, 3, 4 do not improve: stop after epoch 4.
    expect(history.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(stopper.stoppedEpoch).toBe(4);
    expect(stopper.bestEpoch).toBe(1);
  });

  it('restores the best weights when it stops early', async () => {
    const model = compiled();
    const snapshots: number[][] = [];
    const stopper = new EarlyStopping({ monitor: 'score', patience: 2, restoreBestWeights: true });
    const history = await model.fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [
        new Script('score', [3, 2, 1, 4, 5, 0]),
        { onEpochEnd: () => void snapshots.push(values(model.getWeights()[0]!)) },
        stopper,
      ],
    });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(snapshots[4]).not.toEqual(snapshots[2]);
    expect(values(model.getWeights()[0]!)).toEqual(snapshots[2]);
  });

  it('waits startFromEpoch epochs before watching', async () => {
    const history = await compiled().fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: [new Script('score', [1, 2, 3, 4, 5, 6]), new EarlyStopping({ monitor: 'score', startFromEpoch: 3 })],
    });
    expect(history.epoch).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('TerminateOnNaN', () => {
  it('stops training at the first batch whose loss is NaN, naming the epoch and batch', async () => {
    setSeed(1);
    const model = sequential([dense({ units: 1, inputShape: [4] })]);
    let calls = 0;
    // A loss that turns NaN on its 6th call: epoch 1 (0-based), batch 1, with 4 batches per epoch.
    const flaky = (yTrue: Tensor, yPred: Tensor): Tensor => mul(square(sub(yPred, reshape(yTrue, yPred.shape))), calls++ === 5 ? NaN : 1);
    model.compile({ optimizer: 'sgd', loss: flaky });
    const lines: string[] = [];
    const stopper = terminateOnNaN((line) => lines.push(line));
    expect(stopper).toBeInstanceOf(TerminateOnNaN);
    const history = await model.fit(randomNormal([8, 4]), randomNormal([8]), {
      epochs: 5,
      batchSize: 2,
      shuffle: false,
      verbose: 0,
      callbacks: [stopper],
    });
    expect(calls).toBe(6); // no batch after the NaN one
    expect(history.epoch).toEqual([0, 1]);
    expect(Number.isNaN(history.history.loss![1])).toBe(true);
    expect(stopper.stopped).toEqual({ epoch: 1, batch: 1 });
    expect(lines).toEqual(['Epoch 2, batch 1: invalid loss NaN, terminating training']);
  });

  it('stops a diverging run (infinite or NaN loss)', async () => {
    setSeed(2);
    const model = sequential([dense({ units: 8, inputShape: [4] }), dense({ units: 1 })]);
    model.compile({ optimizer: new SGD({ learningRate: 1e6 }), loss: 'mse' });
    const stopper = new TerminateOnNaN(() => {});
    const history = await model.fit(randomNormal([32, 4], 0, 10), randomNormal([32, 1], 0, 10), {
      epochs: 50,
      batchSize: 4,
      verbose: 0,
      callbacks: [stopper],
    });
    expect(stopper.stopped).not.toBeNull();
    expect(history.epoch.length).toBeLessThan(50);
    expect(Number.isFinite(history.history.loss!.at(-1)!)).toBe(false);
  });
});

describe('ModelCheckpoint', () => {
  it('formats the path with {epoch} and logged values', () => {
    expect(formatPath('ckpt/e{epoch:02d}-{val_loss:.3f}', { epoch: 3, val_loss: 0.12345 })).toBe('ckpt/e03-0.123');
    expect(formatPath('{epoch}', { epoch: 12 })).toBe('12');
    expect(() => formatPath('{nope}', { epoch: 1 })).toThrow(/refers to '\{nope\}', which is not logged \(available: epoch\)/);
  });

  it('saves every epoch, or only improvements with saveBestOnly', async () => {
    const every = new ModelCheckpoint({ filepath: join(dir, 'every-{epoch}') });
    const best = new ModelCheckpoint({ filepath: join(dir, 'best-{epoch}'), monitor: 'score', saveBestOnly: true });
    await compiled().fit(x, y, { epochs: 4, verbose: 0, callbacks: [new Script('score', [3, 1, 2, 0.5]), every, best] });
    expect(every.saved.map((p) => p.slice(dir.length + 1))).toEqual(['every-1', 'every-2', 'every-3', 'every-4']);
    expect(best.saved.map((p) => p.slice(dir.length + 1))).toEqual(['best-1', 'best-2', 'best-4']);
    expect(existsSync(join(dir, 'best-3'))).toBe(false);
    expect((await loadModel(join(dir, 'best-4'))).layers).toHaveLength(2);
  });
});

describe('learning-rate callbacks', () => {
  it('ReduceLROnPlateau multiplies the rate by factor after patience epochs, then cools down', async () => {
    const model = compiled();
    const rates: number[] = [];
    const reducer = new ReduceLROnPlateau({ monitor: 'score', factor: 0.5, patience: 2, cooldown: 1, minLr: 0.002 });
    await model.fit(x, y, {
      epochs: 8,
      verbose: 0,
      callbacks: [
        new Script('score', [1, 1, 1, 1, 1, 1, 1, 1]),
        reducer,
        { onEpochEnd: () => void rates.push(model.optimizer!.learningRate) },
      ],
    });
    // sgd starts at 0.01; no improvement after epoch 0. Keras counts the cooldown down at the start of the
    // next epoch's check, so with cooldown 1 the rate drops at epochs 2, 4 and 6, the last one clamped to minLr.
    expect(rates).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002, 0.002]);
  });

  it('LearningRateScheduler sets the rate each epoch and logs it', async () => {
    const model = compiled();
    const history = await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [new LearningRateScheduler((epoch) => 0.1 / (epoch + 1))] });
    expect(history.history.learning_rate).toEqual([0.1, 0.05, 0.1 / 3]);
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [new LearningRateScheduler(() => -1)] })).rejects.toThrow(
      'LearningRateScheduler: schedule(0, 0.03333333333333333) returned -1; expected a positive number',
    );
  });
});

describe('loggers', () => {
  it('CSVLogger writes a sorted header and one row per epoch', async () => {
    const file = join(dir, 'logs', 'train.csv');
    const model = compiled();
    await model.fit(x, y, { epochs: 2, verbose: 0, validationSplit: 0.25, callbacks: [new CSVLogger(file)] });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('epoch,loss,val_loss');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['0', '1']);
    await model.fit(x, y, { epochs: 1, verbose: 0, validationSplit: 0.25, callbacks: [new CSVLogger(file, { append: true })] });
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(4);
  });

  it('JSONLinesLogger writes one JSON object per epoch', async () => {
    const file = join(dir, 'train.jsonl');
    await compiled().fit(x, y, { epochs: 2, verbose: 0, callbacks: [new JSONLinesLogger(file)] });
    const rows = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.epoch)).toEqual([0, 1]);
    expect(typeof rows[0].loss).toBe('number');
  });

  it('rejects callbacks without any hook', async () => {
    await expect(compiled().fit(x, y, { verbose: 0, callbacks: [{ onEpochFinish: () => {} } as never] })).rejects.toThrow(
      /callbacks\[0\] must be a Callback or an object with at least one of onTrainBegin/,
    );
  });
});
