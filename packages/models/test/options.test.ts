/** Unknown or misspelled options are errors naming the option and the closest valid one. */
import '@axon/kernels-native';
import { tensor } from '@axon/tensor';
import { conv2d, dense, deserializeLayer } from '@axon/layers';
import { lstm } from '@axon/recurrent';
import { describe, expect, it } from 'vitest';

import { EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, loadModel, sequential } from '../src/index.js';

function compiled() {
  const model = sequential([dense({ units: 1, inputShape: [2] })]);
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return model;
}
const x = tensor([[1, 2]]);
const y = tensor([[3]]);

describe('unknown options', () => {
  it('in fit, evaluate, predict, compile, summary, save and loadModel', async () => {
    await expect(compiled().fit(x, y, { epoch: 5 } as never)).rejects.toThrow(/fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/);
    await expect(compiled().fit(x, y, { batch_size: 5 } as never)).rejects.toThrow(
      /fit: unknown option 'batch_size' \(did you mean 'batchSize'\?\)/,
    );
    expect(() => compiled().evaluate(x, y, { batchsize: 2 } as never)).toThrow(
      /evaluate: unknown option 'batchsize' \(did you mean 'batchSize'\?\)/,
    );
    expect(() => compiled().predict(x, { batchSizes: 2 } as never)).toThrow(
      /predict: unknown option 'batchSizes' \(did you mean 'batchSize'\?\)/,
    );
    expect(() =>
      sequential([dense({ units: 1, inputShape: [2] })]).compile({ optimizer: 'sgd', loss: 'mse', metric: ['mae'] } as never),
    ).toThrow(/compile: unknown option 'metric' \(did you mean 'metrics'\?\)/);
    expect(() => compiled().summary({ printfn: () => {} } as never)).toThrow(
      /summary: unknown option 'printfn' \(did you mean 'printFn'\?\)/,
    );
    await expect(compiled().save('/tmp/never-written', { includeOptimiser: true } as never)).rejects.toThrow(
      /save: unknown option 'includeOptimiser' \(did you mean 'includeOptimizer'\?\)/,
    );
    await expect(compiled().loadWeights('/tmp/never-read', { skip_mismatch: true } as never)).rejects.toThrow(
      /loadWeights: unknown option 'skip_mismatch'/,
    );
    await expect(loadModel('/tmp/never-read', { compiled: false } as never)).rejects.toThrow(
      /loadModel: unknown option 'compiled' \(did you mean 'compile'\?\)/,
    );
  });

  it('in callbacks', () => {
    expect(() => new EarlyStopping({ patient: 2 } as never)).toThrow(
      /EarlyStopping: unknown option 'patient' \(did you mean 'patience'\?\)/,
    );
    expect(() => new ModelCheckpoint({ filepath: 'x', save_best_only: true } as never)).toThrow(
      /ModelCheckpoint: unknown option 'save_best_only' \(did you mean 'saveBestOnly'\?\)/,
    );
    expect(() => new ReduceLROnPlateau({ min_lr: 0.001 } as never)).toThrow(
      /ReduceLROnPlateau: unknown option 'min_lr' \(did you mean 'minLr'\?\)/,
    );
  });

  it('in layers, while configs read from files keep their extra keys', () => {
    expect(() => dense({ unit: 3 } as never)).toThrow(/Dense: unknown option 'unit' \(did you mean 'units'\?\)/);
    expect(() => conv2d({ filters: 2, kernelSize: 3, kernel_size: 3 } as never)).toThrow(
      /Conv2D: unknown option 'kernel_size' \(did you mean 'kernelSize'\?\)/,
    );
    expect(() => lstm({ units: 2, return_sequences: true } as never)).toThrow(
      /LSTM: unknown option 'return_sequences' \(did you mean 'returnSequences'\?\)/,
    );
    // A Keras config (snake_case, with keys Axon has no use for) still loads, as before.
    const layer = deserializeLayer({ className: 'Dense', config: { units: 2, kernel_constraint: null, some_future_key: 1 } });
    expect(layer.getConfig().units).toBe(2);
  });
});
