/**
 * Conformance cases for the fused recurrent kernels (lstmForward/Backward,
 * gruForward/Backward, simpleRnnForward/Backward). Each case runs
 * the backend's fused kernel directly on seeded random arrays and compares
 * every output and gradient with the composite path of lstmSequence etc.
 * (ordinary ops, `fused: false`), evaluated on the active registered backend:
 *
 *   import '@axon/kernels-js';  // registers a backend for the composite
 *   for (const c of recurrentConformanceCases) it(c.name, () => c.run(myBackend));
 *
 * A backend without a given fused kernel passes its cases vacuously (the ops
 * then use the composite anyway).
 */
import { valueAndGrads } from '../autograd.js';
import type { AnyBackend, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo } from '../backend.js';
import { add, mul } from '../ops/elementwise.js';
import { gruSequence, lstmSequence, simpleRnnSequence, type GruSequenceOptions, type RnnSequenceResult } from '../ops/recurrent.js';
import { sum } from '../ops/reduce.js';
import { Tensor } from '../tensor.js';
import { assertClose, assertThrows, type ConformanceCase } from './conformance.js';
import { hostKernels } from './simulated.js';
import { Rng, seedFrom } from './reference.js';

type Kind = 'lstm' | 'gru' | 'simpleRnn';

interface Spec {
  kind: Kind;
  batch: number;
  timesteps: number;
  inputSize: number;
  units: number;
  options: GruSequenceOptions;
  bias?: boolean;
  initialState?: boolean;
  mask?: boolean;
  /** Pass every array as a subarray at a nonzero offset. */
  views?: boolean;
  /** Ask for dx and dh0 (default true). */
  inputGradients?: boolean;
}

const GATES: Record<Kind, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

/** The backend's fused pair for `kind` over host arrays (copied to and from its device), or null. */
function fusedPair(backend: AnyBackend, kind: Kind) {
  const k = hostKernels(backend);
  const forward = k[`${kind}Forward`];
  const backward = k[`${kind}Backward`];
  return forward && backward ? { forward, backward } : null;
}

/** A copy of `data` as a view at offset 3 of a larger buffer. */
function placed(data: Float32Array, views: boolean): Float32Array {
  if (!views) return data;
  const base = new Float32Array(data.length + 5).fill(-7777);
  base.set(data, 3);
  return base.subarray(3, 3 + data.length);
}

/** Mostly ones; sample 1 skips its first two steps (output before any taken step), sample 2 is random. */
function makeMask(rng: Rng, B: number, T: number): Float32Array {
  const m = new Float32Array(B * T).fill(1);
  for (let t = 0; t < Math.min(2, T); t++) if (B > 1) m[1 * T + t] = 0;
  for (let b = 2; b < B; b++) for (let t = 0; t < T; t++) m[b * T + t] = rng.next() < 0.35 ? 0 : 1;
  return m;
}

function runCase(name: string, spec: Spec, backend: AnyBackend): void {
  const pair = fusedPair(backend, spec.kind);
  if (!pair) return;
  const { kind, batch: B, timesteps: T, inputSize: I, units: U } = spec;
  const isLstm = kind === 'lstm';
  const G = GATES[kind];
  const resetAfter = kind === 'gru' && (spec.options.resetAfter ?? true);
  const rng = new Rng(seedFrom(name));
  const x = rng.floats(B * T * I);
  const kernel = rng.floats(I * G * U, -0.6, 0.6);
  const recurrentKernel = rng.floats(U * G * U, -0.6, 0.6);
  const bias = spec.bias === false ? null : rng.floats((resetAfter ? 2 : 1) * G * U, -0.5, 0.5);
  const h0 = spec.initialState ? rng.floats(B * U) : null;
  const c0 = spec.initialState && isLstm ? rng.floats(B * U) : null;
  const mask = spec.mask ? makeMask(rng, B, T) : null;
  const outSize = spec.options.returnSequences ? B * T * U : B * U;
  const dOutput = rng.floats(outSize);
  const dhT = rng.floats(B * U);
  const dcT = isLstm ? rng.floats(B * U) : null;

  // Expected: the composite path with autograd, on the active backend.
  const X = new Tensor(x, [B, T, I]);
  const K = new Tensor(kernel, [I, G * U]);
  const R = new Tensor(recurrentKernel, [U, G * U]);
  const Bi = bias ? new Tensor(bias, resetAfter ? [2, G * U] : [G * U]) : null;
  const initial = h0 ? [new Tensor(h0, [B, U]), ...(c0 ? [new Tensor(c0, [B, U])] : [])] : null;
  const wrt = [X, K, R, ...(Bi ? [Bi] : []), ...(initial ?? [])];
  let result: RnnSequenceResult | undefined;
  const { grads } = valueAndGrads(() => {
    const op = isLstm ? lstmSequence : kind === 'gru' ? gruSequence : simpleRnnSequence;
    const options = { ...spec.options, initialState: initial, mask: mask ? new Tensor(mask, [B, T]) : null, fused: false };
    result = op(X, { kernel: K, recurrentKernel: R, bias: Bi }, options);
    let loss = add(sum(mul(result.output, new Tensor(dOutput, result.output.shape))), sum(mul(result.states[0]!, new Tensor(dhT, [B, U]))));
    if (dcT) loss = add(loss, sum(mul(result.states[1]!, new Tensor(dcT, [B, U]))));
    return loss;
  }, wrt);

  // Actual: the fused kernels.
  const info: RnnSequenceInfo = {
    batch: B,
    timesteps: T,
    inputSize: I,
    units: U,
    goBackwards: spec.options.goBackwards ?? false,
    returnSequences: spec.options.returnSequences ?? false,
    zeroOutputForMask: spec.options.zeroOutputForMask ?? false,
    activation: (spec.options.activation as RnnSequenceInfo['activation'] | undefined) ?? 'tanh',
    recurrentActivation: (spec.options.recurrentActivation as RnnSequenceInfo['recurrentActivation'] | undefined) ?? 'sigmoid',
    resetAfter,
  };
  const v = spec.views ?? false;
  const p = (a: Float32Array | null): Float32Array | null => (a ? placed(a, v) : null);
  const zeros = (n: number): Float32Array => placed(new Float32Array(n).fill(NaN), v);
  const forward: RnnForwardArrays = {
    x: p(x)!,
    kernel: p(kernel)!,
    recurrentKernel: p(recurrentKernel)!,
    bias: p(bias),
    h0: p(h0),
    c0: p(c0),
    mask: p(mask),
    output: zeros(outSize),
    hT: zeros(B * U),
    cT: isLstm ? zeros(B * U) : null,
    hs: zeros((T + 1) * B * U),
    cs: isLstm ? zeros((T + 1) * B * U) : null,
    gates: kind === 'simpleRnn' ? null : zeros(T * B * G * U),
    aux: kind === 'gru' ? zeros(T * B * U) : null,
  };
  pair.forward(forward, info);
  const tol = { rtol: 1e-4, atol: 2e-5 };
  assertClose(forward.output, result!.output.dataSync(), tol.rtol, tol.atol, `${name}: output`);
  assertClose(forward.hT, result!.states[0]!.dataSync(), tol.rtol, tol.atol, `${name}: final h`);
  if (isLstm) assertClose(forward.cT!, result!.states[1]!.dataSync(), tol.rtol, tol.atol, `${name}: final c`);

  const withInputs = spec.inputGradients ?? true;
  const backward: RnnBackwardArrays = {
    x: forward.x,
    kernel: forward.kernel,
    recurrentKernel: forward.recurrentKernel,
    mask: forward.mask,
    hs: forward.hs,
    cs: forward.cs,
    gates: forward.gates,
    aux: forward.aux,
    dOutput: p(dOutput),
    dhT: p(dhT),
    dcT: p(dcT),
    dx: withInputs ? zeros(B * T * I) : null,
    dKernel: zeros(I * G * U),
    dRecurrentKernel: zeros(U * G * U),
    dBias: bias ? zeros(bias.length) : null,
    dh0: h0 && withInputs ? zeros(B * U) : null,
    dc0: c0 && withInputs ? zeros(B * U) : null,
  };
  pair.backward(backward, info);
  const gt = { rtol: 1e-3, atol: 1e-4 };
  const check = (actual: Float32Array | null, expected: Tensor | undefined, what: string): void => {
    if (actual && expected) assertClose(actual, expected.dataSync(), gt.rtol, gt.atol, `${name}: ${what}`);
  };
  let g = 0;
  check(backward.dx, grads[g++], 'dx');
  check(backward.dKernel, grads[g++], 'dKernel');
  check(backward.dRecurrentKernel, grads[g++], 'dRecurrentKernel');
  if (bias) check(backward.dBias, grads[g++], 'dBias');
  if (h0) check(backward.dh0, grads[g++], 'dh0');
  if (c0) check(backward.dc0, grads[g++], 'dc0');
}

const specs: [string, Spec][] = [];
for (const kind of ['lstm', 'gru', 'simpleRnn'] as const) {
  const base = { kind, batch: 3, timesteps: 5, inputSize: 4, units: 3 };
  const variants: GruSequenceOptions[] = kind === 'gru' ? [{ resetAfter: true }, { resetAfter: false }] : [{}];
  for (const v of variants) {
    const tag = kind === 'gru' ? `${kind} resetAfter=${v.resetAfter}` : kind;
    specs.push(
      [`${tag}: last output`, { ...base, options: { ...v } }],
      [`${tag}: returnSequences`, { ...base, options: { ...v, returnSequences: true } }],
      [
        `${tag}: goBackwards, returnSequences, initial state`,
        { ...base, initialState: true, options: { ...v, goBackwards: true, returnSequences: true } },
      ],
      [
        `${tag}: mask, initial state, returnSequences`,
        { ...base, batch: 4, mask: true, initialState: true, options: { ...v, returnSequences: true } },
      ],
      [`${tag}: mask, last output`, { ...base, batch: 4, mask: true, initialState: true, options: { ...v } }],
      [
        `${tag}: mask, goBackwards, zeroOutputForMask`,
        { ...base, batch: 4, mask: true, options: { ...v, goBackwards: true, returnSequences: true, zeroOutputForMask: true } },
      ],
      [
        `${tag}: no bias, no input gradients, views`,
        { ...base, bias: false, initialState: true, views: true, inputGradients: false, options: { ...v, returnSequences: true } },
      ],
      [
        `${tag}: relu / hardSigmoid activations`,
        { ...base, options: { ...v, activation: 'relu', recurrentActivation: 'hardSigmoid', returnSequences: true } },
      ],
      [`${tag}: linear / tanh activations`, { ...base, options: { ...v, activation: 'linear', recurrentActivation: 'tanh' } }],
      [`${tag}: one timestep, batch 1`, { ...base, batch: 1, timesteps: 1, options: { ...v, returnSequences: true } }],
      [
        `${tag}: larger (B 5, T 9, I 7, U 10)`,
        { kind, batch: 5, timesteps: 9, inputSize: 7, units: 10, mask: true, initialState: true, options: { ...v, returnSequences: true } },
      ],
    );
  }
}

/** Argument validation: a wrong-length array must throw, not crash or read out of bounds. */
function rejectsBadLengths(backend: AnyBackend): void {
  const pair = fusedPair(backend, 'lstm');
  if (!pair) return;
  const info: RnnSequenceInfo = {
    batch: 2,
    timesteps: 3,
    inputSize: 2,
    units: 2,
    goBackwards: false,
    returnSequences: false,
    zeroOutputForMask: false,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    resetAfter: false,
  };
  const f = (n: number): Float32Array => new Float32Array(n);
  const arrays = (): RnnForwardArrays => ({
    x: f(12),
    kernel: f(16),
    recurrentKernel: f(16),
    bias: f(8),
    h0: null,
    c0: null,
    mask: null,
    output: f(4),
    hT: f(4),
    cT: f(4),
    hs: f(16),
    cs: f(16),
    gates: f(48),
    aux: null,
  });
  pair.forward(arrays(), info); // well-formed: must not throw
  assertThrows('lstmForward with a short recurrentKernel', () => pair.forward({ ...arrays(), recurrentKernel: f(15) }, info), [
    'recurrentKernel',
  ]);
  assertThrows('lstmForward with a short hs', () => pair.forward({ ...arrays(), hs: f(12) }, info), ['hs']);
  assertThrows('lstmForward with a wrong bias', () => pair.forward({ ...arrays(), bias: f(9) }, info), ['bias']);
}

/**
 * Conformance cases of the fused recurrent kernels (lstmForward, gruForward, simpleRnnForward and
 * their backwards): a backend's kernels against the ops' composite path, plus rejection of wrong
 * array lengths. Run them like {@link conformanceCases}.
 */
export const recurrentConformanceCases: ConformanceCase[] = [
  ...specs.map(([name, spec]) => ({
    name: `recurrent ${name}`,
    kernel: `${spec.kind}Forward` as const,
    run: (backend: AnyBackend) => runCase(name, spec, backend),
  })),
  { name: 'recurrent: kernels reject wrong array lengths', kernel: 'lstmForward', run: rejectsBadLengths },
];
