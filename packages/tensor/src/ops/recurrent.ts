/**
 * Whole-sequence recurrent ops: lstmSequence, gruSequence, simpleRnnSequence.
 *
 * Each runs the backend's fused kernel (Backend.optional.lstmForward etc.)
 * when it has one and the options allow it, and otherwise a composite of
 * ordinary differentiable ops, one small group per step. The composite is the
 * definition: a fused kernel must compute the same values and gradients (the
 * recurrent conformance cases check it). Equations and weight layout are
 * Keras': see RnnSequenceInfo and OptionalKernels in backend.ts.
 */
import { recordOp } from '../autograd.js';
import type { OptionalKernels, RnnActivation, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo } from '../backend.js';
import { getBackend } from '../registry.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { add, cast, clip, mul, relu, sigmoid, sub, tanh, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { reshape, slice, split, stack } from './shape-ops.js';
import { assertTensor } from './util.js';

export type { RnnActivation } from '../backend.js';

/** An activation the fused kernels know by name, or any differentiable function (composite path). */
export type RnnActivationLike = RnnActivation | ((x: Tensor) => Tensor);

/** Keras layout: kernel [I, G*U], recurrentKernel [U, G*U], bias [G*U] (GRU with resetAfter: [2, 3U]). */
export interface RnnWeights {
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias?: Tensor | null;
}

export interface RnnSequenceOptions {
  /** [h0] (LSTM: [h0, c0]), each [B, U]; default zeros. Gradients flow to them. */
  initialState?: readonly Tensor[] | null;
  /** [B, T] in time order; a zero skips the step for that sample (states carried over). */
  mask?: Tensor | null;
  /** Process time T-1 first; the output sequence is then in processing order (reversed), as Keras. */
  goBackwards?: boolean;
  /** Output every step's output [B, T, U] rather than the last [B, U]. */
  returnSequences?: boolean;
  /** Masked steps output zeros rather than the previous output (Keras' zero_output_for_mask). */
  zeroOutputForMask?: boolean;
  /** Default 'tanh'. */
  activation?: RnnActivationLike;
  /** Gate activation of LSTM and GRU; default 'sigmoid'. */
  recurrentActivation?: RnnActivationLike;
  /**
   * [B, U]: multiplies the previous hidden state where it enters the recurrent
   * matmul(s), the same mask every step (Keras' recurrent dropout). Composite path only.
   */
  recurrentDropoutMask?: Tensor | null;
  /** false forces the composite path even when the backend has a fused kernel (testing, debugging). */
  fused?: boolean;
}

export interface GruSequenceOptions extends RnnSequenceOptions {
  /** Keras' reset_after (default true, Keras 2's default and PyTorch's formulation). */
  resetAfter?: boolean;
}

export interface RnnSequenceResult {
  /** [B, T, U] with returnSequences, else [B, U]. */
  output: Tensor;
  /** Final states: [h] (LSTM: [h, c]), each [B, U]. */
  states: Tensor[];
}

type Kind = 'lstm' | 'gru' | 'simpleRnn';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3, simpleRnn: 1 };
const FUSED_ACTIVATIONS: readonly string[] = ['tanh', 'sigmoid', 'hardSigmoid', 'relu', 'linear'] satisfies RnnActivation[];

/** LSTM over a whole sequence x [B, T, I]; gates i, f, c, o. */
export function lstmSequence(x: Tensor, weights: RnnWeights, options: RnnSequenceOptions = {}): RnnSequenceResult {
  return runSequence('lstm', x, weights, options);
}

/** GRU over a whole sequence x [B, T, I]; gates z, r, h. */
export function gruSequence(x: Tensor, weights: RnnWeights, options: GruSequenceOptions = {}): RnnSequenceResult {
  return runSequence('gru', x, weights, options);
}

/** Fully connected RNN over a whole sequence x [B, T, I]: h = act(x·W + b + h'·U). */
export function simpleRnnSequence(x: Tensor, weights: RnnWeights, options: RnnSequenceOptions = {}): RnnSequenceResult {
  return runSequence('simpleRnn', x, weights, options);
}

// ---- validation ------------------------------------------------------------------------

interface Prepared {
  kind: Kind;
  x: Tensor;
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias: Tensor | null;
  initial: Tensor[] | null;
  mask: Tensor | null;
  info: RnnSequenceInfo;
  activation: RnnActivationLike;
  recurrentActivation: RnnActivationLike;
  recurrentDropoutMask: Tensor | null;
}

function prepare(kind: Kind, x: Tensor, weights: RnnWeights, options: GruSequenceOptions): Prepared {
  const op = `${kind}Sequence`;
  assertTensor(op, x);
  if (x.rank !== 3) throw new Error(`${op}: x must be [batch, timesteps, features], got shape ${formatShape(x.shape)}`);
  const [batch, timesteps, inputSize] = x.shape as [number, number, number];
  if (timesteps < 1) throw new Error(`${op}: x needs at least one timestep, got shape ${formatShape(x.shape)}`);
  const { kernel, recurrentKernel } = weights;
  const bias = weights.bias ?? null;
  assertTensor(op, kernel, 'kernel');
  assertTensor(op, recurrentKernel, 'recurrentKernel');
  const g = GATES[kind];
  const units = recurrentKernel.shape[0]!;
  const expect = (t: Tensor, shape: number[], name: string): void => {
    if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${op}: ${name} must have shape ${formatShape(shape)} (inputs ${inputSize}, units ${units}), got ${formatShape(t.shape)}`);
    }
  };
  expect(recurrentKernel, [units, g * units], 'recurrentKernel');
  expect(kernel, [inputSize, g * units], 'kernel');
  const resetAfter = kind === 'gru' && (options.resetAfter ?? true);
  if (bias) {
    assertTensor(op, bias, 'bias');
    expect(bias, resetAfter ? [2, g * units] : [g * units], 'bias');
  }
  const nStates = kind === 'lstm' ? 2 : 1;
  const initial = options.initialState ? [...options.initialState] : null;
  if (initial) {
    if (initial.length !== nStates) throw new Error(`${op}: initialState needs ${nStates} tensor(s), got ${initial.length}`);
    initial.forEach((s, i) => {
      assertTensor(op, s, `initialState[${i}]`);
      expect(s, [batch, units], `initialState[${i}]`);
    });
  }
  let mask = options.mask ?? null;
  if (mask) {
    assertTensor(op, mask, 'mask');
    expect(mask, [batch, timesteps], 'mask');
    mask = cast(mask, 'float32');
  }
  const recurrentDropoutMask = options.recurrentDropoutMask ?? null;
  if (recurrentDropoutMask) expect(recurrentDropoutMask, [batch, units], 'recurrentDropoutMask');
  const activation = options.activation ?? 'tanh';
  const recurrentActivation = options.recurrentActivation ?? 'sigmoid';
  const named = (a: RnnActivationLike): RnnActivation => (typeof a === 'string' ? a : 'linear');
  for (const a of [activation, recurrentActivation]) {
    if (typeof a === 'string' && !FUSED_ACTIVATIONS.includes(a)) {
      throw new Error(`${op}: unknown activation '${a}': use one of ${FUSED_ACTIVATIONS.join(', ')} or pass a function`);
    }
  }
  const info: RnnSequenceInfo = {
    batch, timesteps, inputSize, units,
    goBackwards: options.goBackwards ?? false,
    returnSequences: options.returnSequences ?? false,
    zeroOutputForMask: options.zeroOutputForMask ?? false,
    activation: named(activation),
    recurrentActivation: named(recurrentActivation),
    resetAfter,
  };
  return { kind, x, kernel, recurrentKernel, bias, initial, mask, info, activation, recurrentActivation, recurrentDropoutMask };
}

function runSequence(kind: Kind, x: Tensor, weights: RnnWeights, options: GruSequenceOptions): RnnSequenceResult {
  const p = prepare(kind, x, weights, options);
  const backend = getBackend();
  const canFuse =
    options.fused !== false &&
    typeof p.activation === 'string' &&
    typeof p.recurrentActivation === 'string' &&
    p.recurrentDropoutMask === null;
  const kernels = canFuse ? fusedKernels(kind, backend.optional) : null;
  return kernels ? fusedSequence(p, kernels) : compositeSequence(p);
}

// ---- the fused path --------------------------------------------------------------------

type FusedPair = {
  forward: (arrays: RnnForwardArrays, info: RnnSequenceInfo) => void;
  backward: (arrays: RnnBackwardArrays, info: RnnSequenceInfo) => void;
};

function fusedKernels(kind: Kind, optional: OptionalKernels | undefined): FusedPair | null {
  if (!optional) return null;
  const forward = kind === 'lstm' ? optional.lstmForward : kind === 'gru' ? optional.gruForward : optional.simpleRnnForward;
  const backward = kind === 'lstm' ? optional.lstmBackward : kind === 'gru' ? optional.gruBackward : optional.simpleRnnBackward;
  if (!forward || !backward) return null;
  return { forward: forward.bind(optional), backward: backward.bind(optional) };
}

/**
 * One kernel call forward. The outputs (sequence or last output, h, and for
 * LSTM c) are packed in one tensor whose backward calls the fused backward
 * kernel once with all three gradients; the results are views of it.
 */
function fusedSequence(p: Prepared, kernels: FusedPair): RnnSequenceResult {
  const { kind, x, kernel, recurrentKernel, bias, initial, mask, info } = p;
  const { batch: B, timesteps: T, units: U } = info;
  const G = GATES[kind];
  const isLstm = kind === 'lstm';
  const outputSize = info.returnSequences ? B * T * U : B * U;
  const packed = new Float32Array(outputSize + (isLstm ? 2 : 1) * B * U);
  const output = packed.subarray(0, outputSize);
  const hT = packed.subarray(outputSize, outputSize + B * U);
  const cT = isLstm ? packed.subarray(outputSize + B * U) : null;
  const hs = new Float32Array((T + 1) * B * U);
  const cs = isLstm ? new Float32Array((T + 1) * B * U) : null;
  const gates = kind === 'simpleRnn' ? null : new Float32Array(T * B * G * U);
  const aux = kind === 'gru' ? new Float32Array(T * B * U) : null;
  const xv = x.dataSync();
  const kv = kernel.dataSync();
  const uv = recurrentKernel.dataSync();
  const mv = mask ? mask.dataSync() : null;
  kernels.forward(
    {
      x: xv, kernel: kv, recurrentKernel: uv, bias: bias ? bias.dataSync() : null,
      h0: initial ? initial[0]!.dataSync() : null, c0: initial && isLstm ? initial[1]!.dataSync() : null,
      mask: mv, output, hT, cT, hs, cs, gates, aux,
    },
    info,
  );
  const inputs: Tensor[] = [x, kernel, recurrentKernel, ...(bias ? [bias] : []), ...(initial ?? [])];
  const all = recordOp(`${kind}Sequence`, new Tensor(packed, [packed.length]), inputs, (dPacked) => {
    const d = dPacked.dataSync();
    const want = (t: Tensor | null | undefined): Float32Array | null => (t && t.requiresGrad ? new Float32Array(t.size) : null);
    const grads = {
      dx: want(x), dKernel: want(kernel), dRecurrentKernel: want(recurrentKernel), dBias: want(bias),
      dh0: want(initial?.[0]), dc0: isLstm ? want(initial?.[1]) : null,
    };
    kernels.backward(
      {
        x: xv, kernel: kv, recurrentKernel: uv, mask: mv, hs, cs, gates, aux,
        dOutput: d.subarray(0, outputSize),
        dhT: d.subarray(outputSize, outputSize + B * U),
        dcT: isLstm ? d.subarray(outputSize + B * U) : null,
        ...grads,
      },
      info,
    );
    const asTensorOf = (g: Float32Array | null, like: Tensor | null | undefined): Tensor | null => (g && like ? new Tensor(g, like.shape) : null);
    return [
      asTensorOf(grads.dx, x), asTensorOf(grads.dKernel, kernel), asTensorOf(grads.dRecurrentKernel, recurrentKernel),
      ...(bias ? [asTensorOf(grads.dBias, bias)] : []),
      ...(initial ? [asTensorOf(grads.dh0, initial[0]), ...(isLstm ? [asTensorOf(grads.dc0, initial[1])] : [])] : []),
    ];
  });
  const outShape = info.returnSequences ? [B, T, U] : [B, U];
  return {
    output: view(all, 0, outShape),
    states: isLstm ? [view(all, outputSize, [B, U]), view(all, outputSize + B * U, [B, U])] : [view(all, outputSize, [B, U])],
  };
}

/** A zero-copy window of a packed 1-D tensor, with the gradient scattered back. */
function view(packed: Tensor, offset: number, shape: number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const t = new Tensor(packed.dataSync().subarray(offset, offset + size), shape);
  return recordOp('rnnView', t, [packed], (dy) => {
    const g = new Float32Array(packed.size);
    g.set(dy.dataSync(), offset);
    return [new Tensor(g, packed.shape)];
  });
}

// ---- the composite path ----------------------------------------------------------------

const hardSigmoid = (x: Tensor): Tensor => clip(add(mul(x, 0.2), 0.5), 0, 1);

function activationFn(a: RnnActivationLike): (x: Tensor) => Tensor {
  if (typeof a === 'function') return a;
  switch (a) {
    case 'tanh': return tanh;
    case 'sigmoid': return sigmoid;
    case 'hardSigmoid': return hardSigmoid;
    case 'relu': return relu;
    case 'linear': return (x) => x;
  }
}

/** A cell step: (this step's input projection [B, G*U], previous states, h' for the matmuls) → new states, h first. */
type Step = (xt: Tensor, states: Tensor[], hRec: Tensor) => Tensor[];

function makeStep(p: Prepared, recurrentBias: Tensor | null): Step {
  const { kind, recurrentKernel: Uk, info } = p;
  const U = info.units;
  const act = activationFn(p.activation);
  const rec = activationFn(p.recurrentActivation);
  if (kind === 'simpleRnn') return (xt, _s, hRec) => [act(add(xt, matmul(hRec, Uk)))];
  if (kind === 'lstm') {
    return (xt, [, c], hRec) => {
      const [zi, zf, zc, zo] = split(add(xt, matmul(hRec, Uk)), 4, 1) as [Tensor, Tensor, Tensor, Tensor];
      const cNew = add(mul(rec(zf), c!), mul(rec(zi), act(zc)));
      return [mul(rec(zo), act(cNew)), cNew];
    };
  }
  if (info.resetAfter) {
    return (xt, [h], hRec) => {
      let inner = matmul(hRec, Uk);
      if (recurrentBias) inner = add(inner, recurrentBias);
      const [xz, xr, xh] = split(xt, 3, 1) as [Tensor, Tensor, Tensor];
      const [rz, rr, rh] = split(inner, 3, 1) as [Tensor, Tensor, Tensor];
      const z = rec(add(xz, rz));
      const r = rec(add(xr, rr));
      const hh = act(add(xh, mul(r, rh)));
      return [add(mul(z, h!), mul(sub(1, z), hh))];
    };
  }
  const Uzr = slice(Uk, [0, 0], [U, 2 * U]);
  const Uh = slice(Uk, [0, 2 * U], [U, U]);
  return (xt, [h], hRec) => {
    const [xz, xr, xh] = split(xt, 3, 1) as [Tensor, Tensor, Tensor];
    const [rz, rr] = split(matmul(hRec, Uzr), 2, 1) as [Tensor, Tensor];
    const z = rec(add(xz, rz));
    const r = rec(add(xr, rr));
    const hh = act(add(xh, matmul(mul(r, hRec), Uh)));
    return [add(mul(z, h!), mul(sub(1, z), hh))];
  };
}

function compositeSequence(p: Prepared): RnnSequenceResult {
  const { kind, x, kernel, bias, mask, info } = p;
  const { batch: B, timesteps: T, inputSize: I, units: U } = info;
  const GU = GATES[kind] * U;
  let inputBias = bias;
  let recurrentBias: Tensor | null = null;
  if (bias && info.resetAfter) {
    inputBias = reshape(slice(bias, [0, 0], [1, GU]), [GU]);
    recurrentBias = reshape(slice(bias, [1, 0], [1, GU]), [GU]);
  }
  let proj = matmul(reshape(x, [B * T, I]), kernel);
  if (inputBias) proj = add(proj, inputBias);
  proj = reshape(proj, [B, T, GU]);
  const step = makeStep(p, recurrentBias);
  const zero = zeros([B, U]);
  let states = p.initial ?? (kind === 'lstm' ? [zero, zero] : [zero]);
  let previousOutput = zero;
  const outputs: Tensor[] = [];
  for (let s = 0; s < T; s++) {
    const t = info.goBackwards ? T - 1 - s : s;
    const xt = reshape(slice(proj, [0, t, 0], [B, 1, GU]), [B, GU]);
    const hRec = p.recurrentDropoutMask ? mul(states[0]!, p.recurrentDropoutMask) : states[0]!;
    const next = step(xt, states, hRec);
    let out: Tensor;
    if (mask) {
      const m = slice(mask, [0, t], [B, 1]);
      out = where(m, next[0]!, info.zeroOutputForMask ? zero : previousOutput);
      states = next.map((n, i) => where(m, n, states[i]!));
    } else {
      out = next[0]!;
      states = next;
    }
    outputs.push(out);
    previousOutput = out;
  }
  return { output: info.returnSequences ? stack(outputs, 1) : previousOutput, states };
}
