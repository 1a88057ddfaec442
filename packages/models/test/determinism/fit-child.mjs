/**
 * Child process of determinism.test.ts: two epochs of a seeded fit of a small CNN whose conv
 * (71M multiply-adds per batch) and dense products are big enough to be split over threads, on
 * the backend and thread count of its environment (AXON_BACKEND, AXON_NUM_THREADS). Prints the
 * backend's name and the weights as JSON.
 */
import '@axon/kernels-native';
import { getBackend, randomNormal, setSeed, tensor } from '@axon/tensor';
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { sequential } from '@axon/models';

setSeed(11);
const n = 128;
const x = randomNormal([n, 24, 24, 8]);
const y = tensor(
  Int32Array.from({ length: n }, (_, i) => i % 10),
  [n],
  'int32',
);
const model = sequential([
  conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [24, 24, 8] }),
  maxPooling2d({ poolSize: 2 }),
  flatten(),
  dense({ units: 64, activation: 'relu' }),
  dense({ units: 10, activation: 'softmax' }),
]);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
process.stdout.write(JSON.stringify({ backend: getBackend().name, weights: model.getWeights().map((w) => Array.from(w.dataSync())) }));
