/** The seed models the benchmarks share (as examples/fashion-mnist-cnn and -lstm build them). */
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { lstm } from '@axon/recurrent';
import { sequential } from '@axon/models';

/** Conv2D(32) > MaxPool > Conv2D(64) > MaxPool > Flatten > Dense(128) > Dense(10, softmax) on [B, 28, 28, 1]. */
export function seedCnn() {
  return sequential([
    conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    maxPooling2d({ poolSize: 2 }),
    flatten(),
    dense({ units: 128, activation: 'relu' }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
}

/** LSTM(64, returnSequences) > LSTM(64) > Dense(10, softmax) on [B, 28, 28]. */
export function seedLstm() {
  return sequential([
    lstm({ units: 64, returnSequences: true, inputShape: [28, 28] }),
    lstm({ units: 64 }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
}
