import { type Tensor, randomNormal, setSeed, tensor } from '@axon/tensor';
import { dense } from '@axon/layers';
import { Sequential, loadModel, sequential, type LoadArgs } from '../src/index.js';

/** Three Gaussian blobs in 4-D: class c is centred at 2 * e_c. Labels int32 [n]. */
export function blobs(n: number, seed = 1): { x: Tensor; y: Tensor } {
  setSeed(seed);
  const noise = randomNormal([n, 4], 0, 0.5).dataSync();
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = noise[i * 4 + j]! + (j === y[i] ? 2 : 0);
  }
  return { x: tensor(x, [n, 4]), y: tensor(y, [n], 'int32') };
}

/** A small classifier for blobs(), seeded. */
export function classifier(seed = 7): Sequential {
  setSeed(seed);
  return sequential([dense({ units: 8, activation: 'relu', inputShape: [4] }), dense({ units: 3, activation: 'softmax' })]);
}

export function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Captures what is written to a fake stdout. */
export function fakeStream(
  isTTY: boolean,
  columns = 120,
): { write(text: string): boolean; isTTY: boolean; columns: number; text: () => string } {
  const chunks: string[] = [];
  return {
    write: (s: string) => {
      chunks.push(s);
      return true;
    },
    isTTY,
    columns,
    text: () => chunks.join(''),
  };
}

/** loadModel for a saved Sequential model: fails the test when the file holds another kind. */
export async function loadSequential(path: string, args?: LoadArgs): Promise<Sequential> {
  const model = await loadModel(path, args);
  if (!(model instanceof Sequential)) throw new Error(`expected a Sequential model at ${path}, got ${model.getClassName()}`);
  return model;
}
