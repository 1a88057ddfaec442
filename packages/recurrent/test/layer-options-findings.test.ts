/**
 * Regression tests for the findings of the layer-options fuzz harness (layer-options-fuzz.test.ts):
 * one minimal case each, on the backend in use.
 */
import * as L from '@axon/layers';
import { randomNormal, tensor } from '@axon/tensor';
import { describe, expect, it } from 'vitest';

import * as R from '../src/index.js';

describe('layer-options fuzz findings', () => {
  it('the cells refuse unknown options, as the layers do (they were ignored)', () => {
    expect(() => R.simpleRNNCell({ units: 2, returnSequences: true } as never)).toThrow("SimpleRNNCell: unknown option 'returnSequences'");
    expect(() => R.gruCell({ units: 2, resetAfte: false } as never)).toThrow(
      "GRUCell: unknown option 'resetAfte' (did you mean 'resetAfter'?)",
    );
    expect(() => R.lstmCell({ units: 2, unitForgetBiass: true } as never)).toThrow("LSTMCell: unknown option 'unitForgetBiass'");
    expect(() => R.stackedRNNCells({ cells: [R.gruCell({ units: 1 })], units: 2 } as never)).toThrow(
      "StackedRNNCells: unknown option 'units'",
    );
    // The layers still hand their cell options on, and keep their own.
    expect(R.gru({ units: 2, returnSequences: true, resetAfter: false }).apply(randomNormal([1, 3, 2]))).toHaveProperty('shape', [1, 3, 2]);
  });

  it('flags must be booleans: a truthy string such as "no" no longer switches an option on', () => {
    expect(() => L.dense({ units: 2, useBias: 'no' } as never)).toThrow(/^Layer dense_\d+: useBias must be a boolean, got "no"$/);
    expect(() => L.dense({ units: 2, trainable: 'no' } as never)).toThrow(/trainable must be a boolean, got "no"/);
    expect(() => L.batchNormalization({ center: 'no' } as never)).toThrow(/center must be a boolean/);
    expect(() => L.globalAveragePooling1d({ keepdims: 1 } as never)).toThrow(/keepdims must be a boolean, got 1/);
    expect(() => L.embedding({ inputDim: 3, outputDim: 2, maskZero: 'yes' } as never)).toThrow(/maskZero must be a boolean/);
    // Resizing read a falsy 0 as false, and a truthy string as true.
    expect(() => L.resizing({ height: 2, width: 2, cropToAspectRatio: 'yes' } as never)).toThrow(/cropToAspectRatio must be a boolean/);
    expect(() => L.resizing({ height: 2, width: 2, padToAspectRatio: 0 } as never)).toThrow(/padToAspectRatio must be a boolean, got 0/);
  });

  it('batchSize, inputDim and inputLength are checked (they were taken as given, or ignored)', () => {
    expect(() => L.dense({ units: 2, inputShape: [3], batchSize: 'x' } as never)).toThrow(/batchSize must be a positive integer, got "x"/);
    expect(() => L.dropout({ rate: 0.5, batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    // Dropout and the spatial dropouts took any seed (the noise layers checked theirs).
    expect(() => L.spatialDropout1d({ rate: 0.5, seed: {} } as never)).toThrow(/seed must be a finite number or null, got \{\}/);
    expect(() => R.lstm({ units: 2, inputShape: [3, 2], inputLength: 'x' } as never)).toThrow(
      /inputLength must be a positive integer, got "x"/,
    );
    expect(() => R.simpleRNN({ units: 2, inputDim: -1 })).toThrow(/inputDim must be a positive integer, got -1/);
  });

  it("BatchNormalization's epsilon and momentum must be numbers (true and '0.5' passed the range checks)", () => {
    expect(() => L.batchNormalization({ epsilon: true } as never)).toThrow(
      /^Layer batch_normalization_\d+: epsilon must be a positive number, got true$/,
    );
    expect(() => L.batchNormalization({ momentum: '0.5' } as never)).toThrow(/momentum must be in \[0, 1\], got "0.5"/);
  });

  it('an initializer that cannot make a weight names the layer and the weight', () => {
    const layer = L.layerNormalization({ betaInitializer: 'orthogonal' });
    expect(() => layer.apply(randomNormal([2, 3]))).toThrow(
      /^Layer layer_normalization_\d+: cannot initialize weight 'beta' of shape \[3\]: Orthogonal initializer/,
    );
  });

  it('a Tensor, an array or a primitive given as options is an error naming the layer (in @axon/node, add(x, y) reaches the merge layer)', () => {
    expect(() => L.add(tensor([1, 2]) as never)).toThrow(
      'Add: expected an options object, got a Tensor (to compute on tensors, call the tensor op: under `ops` in @axon/node)',
    );
    expect(() => L.flatten([1, 2] as never)).toThrow(/^Flatten: expected an options object, got an array/);
    expect(() => L.dense(3 as never)).toThrow('Dense: expected an options object, got number 3');
    expect(() => R.lstm('x' as never)).toThrow('LSTM: expected an options object, got string "x"');
  });
});
