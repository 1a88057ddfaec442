/**
 * Every recurrent layer against PyTorch reference values (scripts/make-fixtures.py):
 * outputs, returned states, and gradients of the input, the weights and the
 * initial states; then finite differences. On every registered backend, and
 * on 'js-composite' (kernels-js without its fused kernels: the composite path).
 */
import { Embedding, deserializeLayer, type Layer } from '@axon/layers';
import { createJsBackend } from '@axon/kernels-js';
import { Tensor, add, mul, registerBackend, scalar, sum, valueAndGrads } from '@axon/tensor';
import { checkGradients } from '@axon/tensor/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { Bidirectional, RNN } from '../src/index.js';
import { BACKENDS, decode, expectClose, loadFixtures, useBackend, withWeights, type Fixture } from './helpers.js';

registerBackend('js-composite', () => ({ ...createJsBackend(), name: 'js-composite', optional: undefined }), -1);
const MODES = [...BACKENDS, 'js-composite'];
const FILES = ['lstm', 'gru', 'simple-rnn', 'bidirectional', 'masking'];

interface Setup {
  layer: Layer;
  x: Tensor;
  mask: Tensor | null;
  initialState: Tensor[] | null;
}

function setup(f: Fixture): Setup {
  const layer = deserializeLayer(f.layer);
  let x = decode(f.input);
  let mask = f.mask ? decode(f.mask) : null;
  if (f.embedding) {
    // Through the real Embedding layer, so the mask is the one maskZero computes.
    const indices = decode(f.embedding.indices);
    const table = decode(f.embedding.table);
    const emb = new Embedding({ inputDim: table.shape[0]!, outputDim: table.shape[1]!, maskZero: true, weights: [table] });
    const looked = emb.apply(indices) as Tensor;
    x = new Tensor(Float32Array.from(looked.dataSync()), looked.shape);
    mask = emb.computeMask(indices);
    expect(Array.from(mask!.dataSync())).toEqual(f.mask!.values);
  }
  layer.build([null, ...x.shape.slice(1)]);
  layer.setWeights(f.weights.map(decode));
  return { layer, x, mask, initialState: f.initialState ? f.initialState.map(decode) : null };
}

function run(s: Setup, x: Tensor, initialState: Tensor[] | null): Tensor[] {
  const out = s.layer.apply(x, { mask: s.mask, initialState });
  return Array.isArray(out) ? out : [out];
}

/** The objects holding the weight fields: the layer's cell(s). */
function weightOwners(layer: Layer): object[] {
  if (layer instanceof Bidirectional) return [layer.forwardLayer.cell, layer.backwardLayer.cell];
  if (layer instanceof RNN) return [layer.cell];
  return [layer];
}

for (const file of FILES) {
  const fixtures = loadFixtures(file);
  describe.each(MODES)(`${file}: PyTorch reference on %s`, (backend) => {
    beforeEach(() => useBackend(backend));

    it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, f) => {
      const s = setup(f);
      const projections = f.projections.map(decode);
      const initial = s.initialState ?? [];
      const wrt = [s.x, ...s.layer.trainableWeights, ...initial];
      let outputs: Tensor[] = [];
      const { grads } = valueAndGrads(() => {
        outputs = run(s, s.x, s.initialState);
        return outputs.reduce((acc, o, i) => add(acc, sum(mul(o, projections[i]!))), scalar(0));
      }, wrt);
      expect(outputs.length).toBe(f.outputs.length);
      outputs.forEach((o, i) => expectClose(o, f.outputs[i]!, `${f.name}: output ${i}`));
      const expected = [f.inputGrad, ...f.weightGrads, ...(f.initialStateGrads ?? [])];
      expect(grads.length).toBe(expected.length);
      const names = ['input', ...s.layer.trainableWeights.map((w) => w.name), ...initial.map((_, i) => `initial state ${i}`)];
      grads.forEach((g, i) => expectClose(g, expected[i]!, `${f.name}: gradient of ${names[i]}`, 5e-5, 1e-6));
    });
  });
}

// Finite differences: a subset of cases per file (they are slow-ish), on every backend.
const fdCases = FILES.flatMap((file) => loadFixtures(file).filter((_, i) => i % 3 === 0));
describe.each(MODES)('finite differences agree with autograd on %s', (backend) => {
  beforeEach(() => useBackend(backend));

  it.each(fdCases.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    const s = setup(f);
    const variables = s.layer.trainableWeights;
    const nInit = s.initialState?.length ?? 0;
    const f0 = (x: Tensor, ...rest: Tensor[]): Tensor => {
      const ws = rest.slice(0, variables.length);
      const init = nInit ? rest.slice(variables.length) : null;
      const outs = withWeights(weightOwners(s.layer), variables, ws, () => run(s, x, init));
      // One tensor: every output flattened and joined.
      return outs.length === 1 ? outs[0]! : outs.reduce((acc, o) => add(acc, sum(mul(o, o))), scalar(0));
    };
    checkGradients(f0, [s.x, ...variables, ...(s.initialState ?? [])], { eps: 1e-2, maxChecksPerInput: 24 });
  });
});
