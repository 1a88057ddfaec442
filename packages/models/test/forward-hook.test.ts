/**
 * Model.forward's onLayerOutput hook: it sees every layer application of a Sequential and of a
 * functional model (with what the layer read), and what it returns flows on in the output's place.
 */
import '@axon/kernels-native';
import { type Tensor, clone, randomNormal, setSeed, sum, valueAndGrads, zerosLike } from '@axon/tensor';
import { type Layer, type SymbolicTensor, dense, input } from '@axon/layers';
import { describe, expect, it } from 'vitest';

import { type Model, model, sequential } from '../src/index.js';

const values = (t: Tensor) => Array.from(t.dataSync());

function closeTo(a: number[], b: number[], tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(tol));
}

/** The same two-layer network as a Sequential and as a functional model (the same layer objects would be shared, so two sets). */
function both(): { name: string; model: Model; hidden: Layer; head: Layer }[] {
  setSeed(3);
  const hiddenS = dense({ units: 5, activation: 'tanh', inputShape: [4] });
  const headS = dense({ units: 3 });
  const hiddenF = dense({ units: 5, activation: 'tanh' });
  const headF = dense({ units: 3 });
  const x = input({ shape: [4] });
  const functional = model({ inputs: x, outputs: headF.apply(hiddenF.apply(x)) as SymbolicTensor });
  return [
    { name: 'Sequential', model: sequential([hiddenS, headS]), hidden: hiddenS, head: headS },
    { name: 'functional', model: functional, hidden: hiddenF, head: headF },
  ];
}

describe.each(both())('forward(inputs, training, onLayerOutput) on a $name model', ({ model: m, hidden, head }) => {
  const x = randomNormal([2, 4]);

  it('shows each layer application with its input, without changing the result', () => {
    const seen: { layer: Layer; output: Tensor; input: Tensor }[] = [];
    const [y] = m.forward([x], false, (layer, output, layerInput) => {
      seen.push({ layer, output, input: layerInput as Tensor });
      return output;
    });
    expect(seen.map((s) => s.layer)).toEqual([hidden, head]);
    closeTo(values(seen[0]!.input), values(x));
    closeTo(values(seen[0]!.output), values(hidden.apply(x) as Tensor));
    expect(seen[1]!.input).toBe(seen[0]!.output);
    closeTo(values(y!), values(m.predict(x) as Tensor));
  });

  it('replaces a layer output: the rest of the model runs on the replacement, and gradients reach it', () => {
    const zeros = zerosLike(hidden.apply(x) as Tensor);
    const [y] = m.forward([x], false, (layer, output) => (layer === hidden ? zeros : output));
    // The head on zeros gives its bias, for every sample.
    closeTo(values(y!), values(head.apply(zeros) as Tensor));
    const watched = clone(hidden.apply(x) as Tensor);
    const { grads } = valueAndGrads(
      () => sum(m.forward([x], false, (layer, output) => (layer === hidden ? watched : output))[0]!),
      [watched],
    );
    // d sum(h W + b) / d h = the row sums of the head's kernel, for every sample.
    const kernel = head.getWeights()[0]!;
    const rowSums = values(sum(kernel, 1));
    closeTo(values(grads[0]!), [...rowSums, ...rowSums]);
  });
});
