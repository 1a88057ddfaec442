/** Forward values and gradients of every layer against PyTorch (scripts/make-fixtures.py), on every backend. */
import { mul, sum, valueAndGrads, type Tensor } from '@axon/tensor';
import { checkGradients } from '@axon/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { deserializeLayer, type Layer } from '../src/index.js';
import { BACKENDS, decode, expectClose, loadFixtures, useBackend, withWeights, type Fixture } from './helpers.js';

const fixtures = loadFixtures();

function setup(f: Fixture): { layer: Layer; x: Tensor } {
  const layer = deserializeLayer({ className: f.layer.className, config: { ...f.layer.config, name: f.name } });
  const x = decode(f.input);
  layer.build([...x.shape]);
  layer.setWeights(f.weights.map(decode));
  return { layer, x };
}

describe.each(BACKENDS)('layers match PyTorch on the %s backend', (backend) => {
  beforeEach(() => useBackend(backend));

  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(30);
  });

  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    it('forward values and gradients', () => {
      const { layer, x } = setup(f);
      const projection = decode(f.projection);
      const wrt = f.inputGrad ? [x, ...layer.trainableWeights] : [...layer.trainableWeights];
      let output: Tensor | null = null;
      const { grads } = valueAndGrads(() => {
        output = layer.apply(x, { training: f.training }) as Tensor;
        return sum(mul(output, projection));
      }, wrt);
      expectClose(output!, f.output, `${f.name} output`);
      const expectedGrads = [...(f.inputGrad ? [f.inputGrad] : []), ...f.weightGrads.filter((g) => g !== null)];
      expect(grads.length).toBe(expectedGrads.length);
      grads.forEach((g, i) =>
        expectClose(
          g,
          expectedGrads[i]!,
          `${f.name} gradient ${wrt[i]!.constructor.name === 'Variable' ? (wrt[i] as { name?: string }).name : 'input'}`,
        ),
      );
      if (f.weightsAfter) {
        layer
          .getWeights()
          .forEach((w, i) => expectClose(w, f.weightsAfter![i]!, `${f.name} ${layer.weights[i]!.name} after one training step`));
      }
    });

    it('finite differences agree with autograd', () => {
      const { layer, x } = setup(f);
      const variables = layer.trainableWeights;
      const call = (input: Tensor, ws: Tensor[]): Tensor =>
        withWeights(layer, variables, ws, () => layer.apply(input, { training: f.training }) as Tensor);
      if (f.inputGrad) {
        checkGradients((input, ...ws) => call(input!, ws), [x, ...variables], { eps: 1e-2 });
      } else {
        checkGradients((...ws) => call(x, ws), [...variables], { eps: 1e-2 });
      }
    });
  });
});
