/** Behaviour of the recurrent layers beyond the PyTorch fixtures: weights, configs, state, dropout, wrappers, errors. */
import { Dense, deserializeLayer, serializeLayer, type Layer } from '@axon/layers';
import {
  type Tensor,
  concat,
  noGrad,
  randomNormal,
  reshape,
  setSeed,
  slice,
  sum,
  tensor,
  valueAndGrads,
  type Variable,
} from '@axon/tensor';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Bidirectional,
  GRU,
  LSTM,
  LSTMCell,
  Masking,
  RNN,
  RNNCell,
  SimpleRNN,
  StackedRNNCells,
  type TimeDistributed,
  bidirectional,
  gru,
  gruCell,
  lstm,
  lstmCell,
  masking,
  rnn,
  simpleRNN,
  simpleRNNCell,
  timeDistributed,
  type SequenceOptions,
} from '../src/index.js';
import { BACKENDS, useBackend } from './helpers.js';

const values = (t: Tensor | Tensor[]): number[] => Array.from((Array.isArray(t) ? t[0]! : t).dataSync());
const out = (layer: Layer, x: Tensor, kwargs = {}): Tensor => layer.apply(x, kwargs) as Tensor;

function expectAllClose(a: Tensor, b: Tensor, tol = 1e-5): void {
  expect([...a.shape]).toEqual([...b.shape]);
  const av = a.dataSync(),
    bv = b.dataSync();
  for (let i = 0; i < av.length; i++) {
    if (!(Math.abs(av[i]! - bv[i]!) <= tol * (1 + Math.abs(bv[i]!)))) throw new Error(`value ${i}: ${av[i]} vs ${bv[i]}`);
  }
}

/** An LSTM cell that only steps, to exercise the RNN layer's generic step loop. */
class SteppingLSTMCell extends LSTMCell {
  static override className = 'SteppingLSTMCell';
  override sequence(x: Tensor, options: SequenceOptions): ReturnType<LSTMCell['sequence']> {
    // Single-step calls (from call()) still go through the op; whole sequences refuse.
    return x.shape[1] === 1 && !options.mask ? super.sequence(x, options) : (null as never);
  }
}

describe.each(BACKENDS)('recurrent layers on %s', (backend) => {
  beforeEach(() => {
    useBackend(backend);
    setSeed(7);
  });

  it('creates Keras weights: names, shapes, order', () => {
    const x = randomNormal([2, 3, 5]);
    const l = lstm({ units: 4, name: 'lstm_1' });
    l.apply(x);
    expect(l.weights.map((w) => [w.name, [...w.shape]])).toEqual([
      ['lstm_1/kernel', [5, 16]],
      ['lstm_1/recurrent_kernel', [4, 16]],
      ['lstm_1/bias', [16]],
    ]);
    const g = gru({ units: 4, name: 'gru_1' });
    g.apply(x);
    expect(g.weights.map((w) => [w.name, [...w.shape]])).toEqual([
      ['gru_1/kernel', [5, 12]],
      ['gru_1/recurrent_kernel', [4, 12]],
      ['gru_1/bias', [2, 12]],
    ]);
    const g2 = gru({ units: 4, resetAfter: false, useBias: true });
    g2.apply(x);
    expect([...g2.weights[2]!.shape]).toEqual([12]);
    const s = simpleRNN({ units: 4, useBias: false });
    s.apply(x);
    expect(s.weights.map((w) => [...w.shape])).toEqual([
      [5, 4],
      [4, 4],
    ]);
    expect(s.countParams()).toBe(36);
    const b = bidirectional({ layer: lstm({ units: 2, name: 'enc' }), name: 'bi' });
    b.apply(x);
    expect(b.weights.map((w) => w.name)).toEqual([
      'bi/forward_enc/kernel',
      'bi/forward_enc/recurrent_kernel',
      'bi/forward_enc/bias',
      'bi/backward_enc/kernel',
      'bi/backward_enc/recurrent_kernel',
      'bi/backward_enc/bias',
    ]);
  });

  it('initialises like Keras: orthogonal recurrent kernel, unitForgetBias', () => {
    const l = lstm({ units: 3 });
    l.apply(randomNormal([1, 2, 4]));
    expect(values(l.getWeights()[2]!)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const u = l.getWeights()[1]!; // [3, 12]: rows orthonormal
    const v = u.dataSync();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let dot = 0;
        for (let k = 0; k < 12; k++) dot += v[i * 12 + k]! * v[j * 12 + k]!;
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
    const n = lstm({ units: 3, unitForgetBias: false, biasInitializer: 'ones' });
    n.apply(randomNormal([1, 2, 4]));
    expect(values(n.getWeights()[2]!)).toEqual(new Array(12).fill(1));
  });

  it('round-trips every config through the registry (TensorFlow.js names)', () => {
    const layers: Layer[] = [
      lstm({ units: 3, returnSequences: true, goBackwards: true, recurrentActivation: 'hardSigmoid', unitForgetBias: false, dropout: 0.1 }),
      gru({ units: 2, resetAfter: false, returnState: true, kernelRegularizer: 'l2' }),
      simpleRNN({ units: 5, activation: 'relu', recurrentDropout: 0.2, inputShape: [7, 3] }),
      rnn({ cell: [lstmCell({ units: 2 }), gruCell({ units: 3 })], returnSequences: true }),
      bidirectional({ layer: gru({ units: 2, returnSequences: true }), mergeMode: 'ave' }),
      timeDistributed({ layer: new Dense({ units: 3 }) }),
      masking({ maskValue: -1 }),
    ];
    for (const layer of layers) {
      const config = JSON.parse(JSON.stringify(layer.getConfig())) as Record<string, unknown>;
      const copy = deserializeLayer({ className: layer.getClassName(), config });
      expect(copy.getConfig()).toEqual(layer.getConfig());
      expect(copy.getClassName()).toBe(layer.getClassName());
    }
    const c = lstm({ units: 3 }).getConfig();
    for (const key of [
      'units',
      'activation',
      'recurrentActivation',
      'useBias',
      'kernelInitializer',
      'recurrentInitializer',
      'biasInitializer',
      'unitForgetBias',
      'dropout',
      'recurrentDropout',
      'returnSequences',
      'returnState',
      'goBackwards',
      'stateful',
      'unroll',
      'implementation',
    ]) {
      expect(c).toHaveProperty(key);
    }
    expect(c.recurrentInitializer).toEqual({ className: 'Orthogonal', config: { gain: 1, seed: null } });
    expect(gru({ units: 2 }).getConfig().resetAfter).toBe(true);
  });

  it('reads Keras snake_case configs, and a GRU config without resetAfter as TensorFlow.js (false)', () => {
    const l = deserializeLayer({
      className: 'LSTM',
      config: {
        units: 3,
        return_sequences: true,
        recurrent_activation: 'hard_sigmoid',
        kernel_initializer: 'glorot_uniform',
        unit_forget_bias: true,
      },
    }) as LSTM;
    expect(l.returnSequences).toBe(true);
    expect(l.getConfig().recurrentActivation).toBe('hardSigmoid');
    expect((deserializeLayer({ className: 'GRU', config: { units: 2 } }) as GRU).getConfig().resetAfter).toBe(false);
    expect((deserializeLayer({ className: 'GRU', config: { units: 2, reset_after: true } }) as GRU).getConfig().resetAfter).toBe(true);
  });

  it('returns [output, ...states] with returnState; the last output equals the final h', () => {
    const x = randomNormal([2, 4, 3]);
    const [o, h, c] = lstm({ units: 3, returnState: true }).apply(x) as Tensor[];
    expect([...c!.shape]).toEqual([2, 3]);
    expect(values(o!)).toEqual(values(h!));
    const [seq, h2] = gru({ units: 3, returnSequences: true, returnState: true }).apply(x) as Tensor[];
    expect(values(slice(seq!, [0, 3, 0], [2, 1, 3]))).toEqual(values(h2!));
  });

  it('stateful: consecutive calls continue the sequence; resetStates() starts over', () => {
    const x = randomNormal([2, 6, 3]);
    const whole = lstm({ units: 4, returnSequences: true });
    const full = out(whole, x);
    const stateful = lstm({ units: 4, returnSequences: true, stateful: true, batchInputShape: [2, 3, 3] });
    stateful.apply(slice(x, [0, 0, 0], [2, 3, 3]));
    stateful.setWeights(whole.getWeights());
    stateful.resetStates();
    const a = out(stateful, slice(x, [0, 0, 0], [2, 3, 3]));
    const b = out(stateful, slice(x, [0, 3, 0], [2, 3, 3]));
    expectAllClose(concat([a, b], 1), full);
    stateful.resetStates();
    expectAllClose(out(stateful, slice(x, [0, 0, 0], [2, 3, 3])), a);
    expect(() => lstm({ units: 2, stateful: true })).toThrow(/fixed batch size/);
    expect(() => lstm({ units: 2 }).resetStates()).toThrow(/not stateful/);
  });

  it('a stateful layer fed another batch size says it is stateful (not an op-level state shape error)', () => {
    const l = lstm({ units: 4, stateful: true, batchInputShape: [16, 3, 2], name: 'sf' });
    l.apply(randomNormal([16, 3, 2]));
    const message =
      'Layer sf is stateful with batch size 16; got a batch of 8 (call resetStates() or use batchInputShape with the batch size you feed)';
    expect(() => l.apply(randomNormal([8, 3, 2]))).toThrow(message);
    expect(() => l.resetStates([randomNormal([8, 4]), randomNormal([8, 4])])).toThrow(
      /Layer sf is stateful with batch size 16; resetStates\(\) got states for a batch of 8/,
    );
    // States carried from elsewhere (set directly) with another batch size.
    l.states = [randomNormal([8, 4]), randomNormal([8, 4])];
    expect(() => l.apply(randomNormal([16, 3, 2]))).toThrow('Layer sf is stateful with batch size 8; got a batch of 16');
    l.resetStates();
    expect([...(l.apply(randomNormal([16, 3, 2])) as Tensor).shape]).toEqual([16, 4]);
  });

  it('a lazily built layer names itself, the expected and the actual shape when the feature size changes', () => {
    for (const [layer, name] of [
      [lstm({ units: 2, name: 'lazy_lstm' }), 'lazy_lstm'],
      [gru({ units: 2, name: 'lazy_gru' }), 'lazy_gru'],
      [bidirectional({ layer: simpleRNN({ units: 2 }), name: 'lazy_bi' }), 'lazy_bi'],
    ] as const) {
      layer.apply(randomNormal([1, 3, 2]));
      expect(layer.inputSpec).toEqual([{ ndim: 3, axes: { [-1]: 2 } }]);
      expect(() => layer.apply(randomNormal([1, 3, 5]))).toThrow(
        `Layer ${name}: expected axis -1 of the input to have size 2, got shape [1,3,5]`,
      );
      expect(() => layer.apply(randomNormal([1, 2]))).toThrow(new RegExp(`Layer ${name}: expected input of rank 3`));
    }
    // Extra inputs (initial states) are not held to the sequence's spec.
    const g = gru({ units: 3 });
    g.apply([randomNormal([2, 4, 2]), randomNormal([2, 3])]);
    expect([...(g.apply([randomNormal([2, 4, 2]), randomNormal([2, 3])]) as Tensor).shape]).toEqual([2, 3]);
  });

  it('dropout and recurrentDropout act only in training, with one mask per sequence', () => {
    const x = randomNormal([3, 5, 4]);
    const plain = gru({ units: 3, returnSequences: true });
    const ref = out(plain, x);
    for (const options of [{ dropout: 0.5 }, { recurrentDropout: 0.5 }, { dropout: 0.3, recurrentDropout: 0.3 }]) {
      const l = gru({ units: 3, returnSequences: true, ...options });
      l.apply(x);
      l.setWeights(plain.getWeights());
      expectAllClose(out(l, x), ref);
      const trained = l.apply(x, { training: true }) as Tensor;
      expect(values(trained)).not.toEqual(values(ref));
      const { grads } = valueAndGrads(() => sum(l.apply(x, { training: true }) as Tensor), l.trainableWeights);
      for (const g of grads) expect(values(g).every(Number.isFinite)).toBe(true);
    }
    // With input dropout, a dropped feature is dropped at every step: zeroing it changes nothing.
    const l = lstm({ units: 2, dropout: 0.999999 });
    l.apply(x);
    setSeed(3);
    const dropped = out(l, x, { training: true });
    setSeed(3);
    expectAllClose(out(l, tensor(new Float32Array(x.size), [...x.shape]), { training: true }), dropped);
  });

  it('the generic RNN step loop and StackedRNNCells agree with the fused layers', () => {
    const x = randomNormal([3, 5, 4]);
    const mask = tensor([
      [1, 1, 1, 1, 1],
      [0, 0, 1, 1, 1],
      [1, 0, 1, 0, 0],
    ]);
    for (const goBackwards of [false, true]) {
      const a = lstm({ units: 3, returnSequences: true, goBackwards });
      const ya = out(a, x, { mask });
      const stepping = new RNN({ cell: new SteppingLSTMCell({ units: 3 }), returnSequences: true, goBackwards });
      stepping.apply(x);
      stepping.setWeights(a.getWeights());
      expectAllClose(out(stepping, x, { mask }), ya);

      const b = gru({ units: 2, returnSequences: true, returnState: true });
      const stacked = rnn({ cell: [lstmCell({ units: 3 }), gruCell({ units: 2 })], returnSequences: true, returnState: true, goBackwards });
      stacked.apply(x);
      b.apply(ya);
      const first = lstm({ units: 3, returnSequences: true, returnState: true, goBackwards });
      first.apply(x);
      first.setWeights(a.getWeights());
      stacked.setWeights([...a.getWeights(), ...b.getWeights()]);
      const [y1, h1, c1] = first.apply(x, { mask }) as Tensor[];
      // The second layer takes the first's outputs in processing order, so it runs forwards.
      const maskForSecond = goBackwards
        ? tensor([
            [1, 1, 1, 1, 1],
            [1, 1, 1, 0, 0],
            [0, 0, 1, 0, 1],
          ])
        : mask;
      const [y2, h2] = b.apply(y1!, { mask: maskForSecond }) as Tensor[];
      const [ys, ...states] = stacked.apply(x, { mask }) as Tensor[];
      expectAllClose(ys!, y2!);
      expect(states.length).toBe(3);
      expectAllClose(states[0]!, h1!);
      expectAllClose(states[1]!, c1!);
      expectAllClose(states[2]!, h2!);
    }
  });

  it('cells step like the layer: call([x, ...states]) → [output, ...states]', () => {
    const x = randomNormal([2, 3, 4]);
    const layer = lstm({ units: 3, returnSequences: true, returnState: true });
    const [seq, h, c] = layer.apply(x) as Tensor[];
    const cell = lstmCell({ units: 3 });
    cell.build([2, 4]);
    cell.setWeights(layer.getWeights());
    let states = [tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3])];
    for (let t = 0; t < 3; t++) {
      const [o, ...next] = cell.call([reshape(slice(x, [0, t, 0], [2, 1, 4]), [2, 4]), ...states], {});
      expectAllClose(o!, reshape(slice(seq!, [0, t, 0], [2, 1, 3]), [2, 3]));
      states = next;
    }
    expectAllClose(states[0]!, h!);
    expectAllClose(states[1]!, c!);
    expect(simpleRNNCell({ units: 2 }).stateSize).toEqual([2]);
    expect(new StackedRNNCells({ cells: [lstmCell({ units: 2 }), gruCell({ units: 5 })] }).stateSize).toEqual([2, 2, 5]);
  });

  it('Bidirectional merges both directions (and returns both with mergeMode null)', () => {
    const x = randomNormal([2, 4, 3]);
    const inner = simpleRNN({ units: 2, returnSequences: true });
    const bi = new Bidirectional({ layer: inner, mergeMode: null });
    const [f, b] = bi.apply(x) as Tensor[];
    const fwd = simpleRNN({ units: 2, returnSequences: true });
    fwd.apply(x);
    fwd.setWeights(bi.getWeights().slice(0, 3));
    expectAllClose(f!, out(fwd, x));
    const back = simpleRNN({ units: 2, returnSequences: true, goBackwards: true });
    back.apply(x);
    back.setWeights(bi.getWeights().slice(3));
    const reversed = out(back, x);
    expectAllClose(
      b!,
      concat(
        [3, 2, 1, 0].map((t) => slice(reversed, [0, t, 0], [2, 1, 2])),
        1,
      ),
    );
    const withStates = bidirectional({ layer: lstm({ units: 2, returnState: true }) });
    const outs = withStates.apply(x) as Tensor[];
    expect(outs.map((t) => [...t.shape])).toEqual([
      [2, 4],
      [2, 2],
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
    expect(withStates.computeOutputShape([null, 4, 3])).toEqual([
      [null, 4],
      [null, 2],
      [null, 2],
      [null, 2],
      [null, 2],
    ]);
    expect(() => bidirectional({ layer: new Dense({ units: 2 }) as never })).toThrow(/recurrent layer/);
  });

  it('TimeDistributed applies the layer at every step', () => {
    const x = randomNormal([2, 3, 4]);
    const td = timeDistributed({ layer: new Dense({ units: 5 }) });
    const y = out(td, x);
    expect([...y.shape]).toEqual([2, 3, 5]);
    expect(td.computeOutputShape([null, 3, 4])).toEqual([null, 3, 5]);
    const dense = (td as TimeDistributed).layer;
    for (let t = 0; t < 3; t++) {
      expectAllClose(reshape(slice(y, [0, t, 0], [2, 1, 5]), [2, 5]), out(dense, reshape(slice(x, [0, t, 0], [2, 1, 4]), [2, 4])));
    }
    expect(td.weights.length).toBe(2);
    // Named after the wrapper, as Keras 2 and tfjs-layers name them (their files load both ways).
    const named = timeDistributed({ layer: new Dense({ units: 2, name: 'inner' }), name: 'td' });
    named.apply(x);
    expect(named.weights.map((w: Variable) => w.name)).toEqual(['td/kernel', 'td/bias']);
  });

  it('Masking masks all-maskValue steps, zeroes them, and the RNN skips them', () => {
    const x = tensor([
      [
        [1, 2],
        [0, 0],
        [3, 0],
      ],
      [
        [0, 0],
        [0, 0],
        [5, 6],
      ],
    ]);
    const m = new Masking();
    expect(values(m.computeMask(x))).toEqual([1, 0, 1, 0, 0, 1]);
    expect(
      values(
        out(
          m,
          tensor([
            [
              [1, 2],
              [0, 0],
            ],
          ]),
        ),
      ),
    ).toEqual([1, 2, 0, 0]);
    const l = lstm({ units: 2 });
    const masked = out(l, x, { mask: m.computeMask(x) });
    // Sample 1 sees one step: the same as running that step alone.
    const alone = out(l, slice(x, [1, 2, 0], [1, 1, 2]));
    expectAllClose(slice(masked, [1, 0], [1, 2]), alone);
    expect(l.computeMask(x, m.computeMask(x))).toBeNull();
    expect(values(lstm({ units: 2, returnSequences: true }).computeMask(x, m.computeMask(x))!)).toEqual([1, 0, 1, 0, 0, 1]);
  });

  it('regularizers, trainable = false, and errors that name the layer', () => {
    const x = randomNormal([2, 3, 4]);
    const l = lstm({ units: 2, kernelRegularizer: 'l2', recurrentRegularizer: 'l1', name: 'reg' });
    l.apply(x);
    expect(l.regularizationLosses().length).toBe(2);
    const frozen = gru({ units: 2, trainable: false });
    frozen.apply(x);
    expect(frozen.trainableWeights).toEqual([]);
    expect(frozen.nonTrainableWeights.length).toBe(3);
    frozen.trainable = true;
    expect(frozen.trainableWeights.length).toBe(3);
    expect(() => lstm({ units: 0 })).toThrow(/units must be a positive integer/);
    expect(() => lstm({ units: 2, activation: 'nope' })).toThrow(/activation/);
    expect(() => lstm({ units: 2, dropout: 1 })).toThrow(/dropout/);
    expect(() => out(lstm({ units: 2, name: 'r3' }), randomNormal([2, 4]))).toThrow(/r3.*rank 3/);
    const s = lstm({ units: 2, name: 'init' });
    expect(() => s.apply(x, { initialState: [randomNormal([2, 2])] })).toThrow(/init: expected 2 initial state/);
    expect(() => s.apply(x, { initialState: [randomNormal([2, 3]), randomNormal([2, 2])] })).toThrow(/initial state 0 must be \[2, 2\]/);
  });

  it('initial states: given as kwargs or as extra inputs, with gradients', () => {
    const x = randomNormal([2, 3, 4]);
    const h0 = randomNormal([2, 3]);
    const l = gru({ units: 3 });
    const a = out(l, x, { initialState: h0 });
    const b = l.apply([x, h0]) as Tensor;
    expectAllClose(a, b);
    expect(values(a)).not.toEqual(values(out(l, x)));
    const { grads } = valueAndGrads(() => sum(l.apply(x, { initialState: [h0] }) as Tensor), [h0]);
    expect(values(grads[0]!).some((v) => v !== 0)).toBe(true);
  });

  it('activation functions without a fused kernel run on the composite path', () => {
    const x = randomNormal([2, 3, 4]);
    const l = simpleRNN({ units: 3, activation: 'elu' });
    const y = out(l, x);
    const [w, u, b] = l.getWeights() as [Tensor, Tensor, Tensor];
    // By hand: h = elu(x W + b + h U).
    let h = new Float32Array(6);
    const xv = x.dataSync(),
      wv = w.dataSync(),
      uv = u.dataSync(),
      bv = b.dataSync();
    for (let t = 0; t < 3; t++) {
      const next = new Float32Array(6);
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          let z = bv[j]!;
          for (let k = 0; k < 4; k++) z += xv[(i * 3 + t) * 4 + k]! * wv[k * 3 + j]!;
          for (let k = 0; k < 3; k++) z += h[i * 3 + k]! * uv[k * 3 + j]!;
          next[i * 3 + j] = z > 0 ? z : Math.exp(z) - 1;
        }
      }
      h = next;
    }
    expectAllClose(y, tensor(h, [2, 3]));
    noGrad(() => expect(RNNCell.className).toBe('RNNCell'));
  });

  it('serializes nested layers: Bidirectional keeps the wrapped config, weights go forward then backward', () => {
    const inner = lstm({ units: 2, returnSequences: true, name: 'enc' });
    const bi = bidirectional({ layer: inner, mergeMode: 'sum', name: 'bi2' });
    const s = serializeLayer(bi);
    expect((s.config.layer as { config: { name: string } }).config.name).toBe('enc');
    const copy = deserializeLayer(JSON.parse(JSON.stringify(s))) as Bidirectional;
    const x = randomNormal([2, 3, 2]);
    const y = out(bi, x);
    copy.apply(x);
    copy.setWeights(bi.getWeights());
    expectAllClose(out(copy, x), y);
    expect(copy.weights.map((w: Variable) => w.name)[0]).toBe('bi2/forward_enc/kernel');
    expect(GRU.className + LSTM.className + SimpleRNN.className).toBe('GRULSTMSimpleRNN');
  });
});
