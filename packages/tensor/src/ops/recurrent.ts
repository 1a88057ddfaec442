/**
 * Whole-sequence recurrent ops: lstmSequence, gruSequence, simpleRnnSequence.
 *
 * Each runs the fused kernel (Kernels.lstmForward etc.) of a backend on the active device
 * when it has one and the options allow it, and otherwise a composite of
 * ordinary differentiable ops, one small group per step. The composite is the
 * definition: a fused kernel must compute the same values and gradients (the
 * recurrent conformance cases check it). Equations and weight layout are
 * Keras': see RnnSequenceInfo and Kernels.lstmForward in backend.ts.
 */
import { recordMultiOutputOp } from '../autograd.js';
import type { FusedActivation as RnnActivation, RnnSequenceInfo } from '../backend.js';
import { hasKernel } from '../registry.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { add, cast, mul, sub, where } from './elementwise.js';
import { FUSED_ACTIVATIONS, fusedActivationOp } from './activations.js';
import { matmul } from './linalg.js';
import { reshape, slice, split, stack } from './shape-ops.js';
import { asFloat, assertTensor, buf, empty, kernels } from './util.js';

/** An activation the fused kernels know by name, or any differentiable function (composite path). */
export type RnnActivationLike = RnnActivation | ((x: Tensor) => Tensor);

/** Keras layout: kernel [I, G*U], recurrentKernel [U, G*U], bias [G*U] (GRU with resetAfter: [2, 3U]). */
export interface RnnWeights {
  /** Input weights [I, G*U]: gate g of unit j is column g*U + j. */
  kernel: Tensor;
  /** Recurrent weights [U, G*U]; its first dimension gives the unit count U. */
  recurrentKernel: Tensor;
  /** [G*U], or [2, 3U] (input row, recurrent row) for a GRU with resetAfter; absent or null = no bias. */
  bias?: Tensor | null;
}

/** Options of {@link lstmSequence}, {@link gruSequence} and {@link simpleRnnSequence}. */
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
   * Shape `[B, U]`: multiplies the previous hidden state where it enters the recurrent
   * matmul(s), the same mask every step (Keras' recurrent dropout). Composite path only.
   */
  recurrentDropoutMask?: Tensor | null;
  /** false forces the composite path even when the backend has a fused kernel (testing, debugging). */
  fused?: boolean;
}

/** Options of {@link gruSequence}: those of every sequence op, and the GRU formulation. */
export interface GruSequenceOptions extends RnnSequenceOptions {
  /** Keras' reset_after (default true, Keras 2's default and PyTorch's formulation). */
  resetAfter?: boolean;
}

/** The result of a sequence op: its output and final states. */
export interface RnnSequenceResult {
  /** [B, T, U] with returnSequences, else [B, U]. */
  output: Tensor;
  /** Final states: [h] (LSTM: [h, c]), each [B, U]. */
  states: Tensor[];
}

type Kind = 'lstm' | 'gru' | 'simpleRnn';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

/**
 * LSTM over a whole sequence x [B, T, I]; gates i, f, c, o (Keras order and equations, see
 * {@link Kernels.lstmForward}). The op under the LSTM layer; differentiable with respect to x,
 * the weights and the initial states.
 *
 * @throws Error if x is not [B, T, I] with T >= 1, a weight, state or mask has the wrong shape, or
 *   an activation is unknown.
 *
 * @example
 * ```ts
 * const units = 8;
 * const x = randomNormal([2, 5, 3]); // [batch, timesteps, features]
 * const { output, states } = lstmSequence(x, {
 *   kernel: randomNormal([3, 4 * units]),
 *   recurrentKernel: randomNormal([units, 4 * units]),
 *   bias: zeros([4 * units]),
 * });
 * output.shape;        // [2, 8]: the last step
 * states.length;       // 2: [h, c]
 * ```
 */
export function lstmSequence(x: Tensor, weights: RnnWeights, options: RnnSequenceOptions = {}): RnnSequenceResult {
  return runSequence('lstm', x, weights, options);
}

/**
 * GRU over a whole sequence x [B, T, I]; gates z, r, h (Keras order and equations, see
 * {@link Kernels.gruForward}; resetAfter by default). The op under the GRU layer.
 *
 * @throws Error as {@link lstmSequence} does.
 */
export function gruSequence(x: Tensor, weights: RnnWeights, options: GruSequenceOptions = {}): RnnSequenceResult {
  return runSequence('gru', x, weights, options);
}

/**
 * Fully connected RNN over a whole sequence x [B, T, I]: h = act(x·W + b + h'·U). The op under
 * the SimpleRNN layer.
 *
 * @throws Error as {@link lstmSequence} does.
 */
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
  assertTensor(op, weights.kernel, 'kernel');
  assertTensor(op, weights.recurrentKernel, 'recurrentKernel');
  // The kernels take float32 weights; an int32 one (say, integer test weights) is converted, never refused by one backend only.
  const kernel = asFloat(weights.kernel);
  const recurrentKernel = asFloat(weights.recurrentKernel);
  let bias = weights.bias ?? null;
  const g = GATES[kind];
  const units = recurrentKernel.shape[0]!;
  const expect = (t: Tensor, shape: number[], name: string): void => {
    if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${op}: ${name} must have shape ${formatShape(shape)} (inputs ${inputSize}, units ${units}), got ${formatShape(t.shape)}`,
      );
    }
  };
  expect(recurrentKernel, [units, g * units], 'recurrentKernel');
  expect(kernel, [inputSize, g * units], 'kernel');
  const resetAfter = kind === 'gru' && (options.resetAfter ?? true);
  if (bias) {
    assertTensor(op, bias, 'bias');
    expect(bias, resetAfter ? [2, g * units] : [g * units], 'bias');
    bias = asFloat(bias);
  }
  const nStates = kind === 'lstm' ? 2 : 1;
  const initial = options.initialState ? [...options.initialState] : null;
  if (initial) {
    if (initial.length !== nStates) throw new Error(`${op}: initialState needs ${nStates} tensor(s), got ${initial.length}`);
    initial.forEach((s, i) => {
      assertTensor(op, s, `initialState[${i}]`);
      expect(s, [batch, units], `initialState[${i}]`);
      initial[i] = asFloat(s);
    });
  }
  let mask = options.mask ?? null;
  if (mask) {
    assertTensor(op, mask, 'mask');
    expect(mask, [batch, timesteps], 'mask');
    mask = cast(mask, 'float32');
  }
  let recurrentDropoutMask = options.recurrentDropoutMask ?? null;
  if (recurrentDropoutMask) {
    assertTensor(op, recurrentDropoutMask, 'recurrentDropoutMask');
    expect(recurrentDropoutMask, [batch, units], 'recurrentDropoutMask');
    recurrentDropoutMask = asFloat(recurrentDropoutMask);
  }
  const activation = options.activation ?? 'tanh';
  const recurrentActivation = options.recurrentActivation ?? 'sigmoid';
  const named = (a: RnnActivationLike): RnnActivation => (typeof a === 'string' ? a : 'linear');
  for (const a of [activation, recurrentActivation]) {
    if (typeof a === 'string' && !(FUSED_ACTIVATIONS as readonly string[]).includes(a)) {
      throw new Error(`${op}: unknown activation '${a}': use one of ${FUSED_ACTIVATIONS.join(', ')} or pass a function`);
    }
  }
  const info: RnnSequenceInfo = {
    batch,
    timesteps,
    inputSize,
    units,
    goBackwards: options.goBackwards ?? false,
    returnSequences: options.returnSequences ?? false,
    zeroOutputForMask: options.zeroOutputForMask ?? false,
    activation: named(activation),
    recurrentActivation: named(recurrentActivation),
    resetAfter,
  };
  return { kind, x: asFloat(x), kernel, recurrentKernel, bias, initial, mask, info, activation, recurrentActivation, recurrentDropoutMask };
}

function runSequence(kind: Kind, x: Tensor, weights: RnnWeights, options: GruSequenceOptions): RnnSequenceResult {
  const p = prepare(kind, x, weights, options);
  const canFuse =
    options.fused !== false &&
    typeof p.activation === 'string' &&
    typeof p.recurrentActivation === 'string' &&
    p.recurrentDropoutMask === null &&
    hasKernel(`${kind}Forward`) &&
    hasKernel(`${kind}Backward`);
  return canFuse ? fusedSequence(p) : compositeSequence(p);
}

// ---- the fused path --------------------------------------------------------------------

/**
 * One kernel call forward. The outputs (sequence or last output, h, and for
 * LSTM c) come from one multi-output node whose backward calls the fused
 * backward kernel once with all three gradients.
 */
function fusedSequence(p: Prepared): RnnSequenceResult {
  const { kind, kernel, recurrentKernel, bias, initial, mask, info } = p;
  const op = `${kind}Sequence`;
  const x = asFloat(p.x);
  const { batch: B, timesteps: T, units: U } = info;
  const G = GATES[kind];
  const isLstm = kind === 'lstm';
  const output = empty(info.returnSequences ? [B, T, U] : [B, U]);
  const hT = empty([B, U]);
  const cT = isLstm ? empty([B, U]) : null;
  const hs = empty([T + 1, B, U]);
  const cs = isLstm ? empty([T + 1, B, U]) : null;
  const gates = kind === 'simpleRnn' ? null : empty([T, B, G * U]);
  const aux = kind === 'gru' ? empty([T, B, U]) : null;
  const b = (t: Tensor | null | undefined): unknown => (t ? buf(t, op) : null);
  const forward = kernels()[`${kind}Forward`];
  forward(
    {
      x: b(x),
      kernel: b(kernel),
      recurrentKernel: b(recurrentKernel),
      bias: b(bias),
      h0: b(initial?.[0]),
      c0: isLstm ? b(initial?.[1]) : null,
      mask: b(mask),
      output: b(output),
      hT: b(hT),
      cT: b(cT),
      hs: b(hs),
      cs: b(cs),
      gates: b(gates),
      aux: b(aux),
    },
    info,
  );
  const inputs: Tensor[] = [x, kernel, recurrentKernel, ...(bias ? [bias] : []), ...(initial ?? [])];
  const outputs = isLstm ? [output, hT, cT!] : [output, hT];
  recordMultiOutputOp(op, outputs, inputs, (dys) => {
    const want = (t: Tensor | null | undefined): Tensor | null => (t?.requiresGrad ? empty(t.shape) : null);
    const grads = {
      dx: want(x),
      dKernel: want(kernel),
      dRecurrentKernel: want(recurrentKernel),
      dBias: want(bias),
      dh0: want(initial?.[0]),
      dc0: isLstm ? want(initial?.[1]) : null,
    };
    kernels()[`${kind}Backward`](
      {
        x: b(x),
        kernel: b(kernel),
        recurrentKernel: b(recurrentKernel),
        mask: b(mask),
        hs: b(hs),
        cs: b(cs),
        gates: b(gates),
        aux: b(aux),
        dOutput: b(dys[0]),
        dhT: b(dys[1]),
        dcT: isLstm ? b(dys[2]) : null,
        dx: b(grads.dx),
        dKernel: b(grads.dKernel),
        dRecurrentKernel: b(grads.dRecurrentKernel),
        dBias: b(grads.dBias),
        dh0: b(grads.dh0),
        dc0: b(grads.dc0),
      },
      info,
    );
    return [
      grads.dx,
      grads.dKernel,
      grads.dRecurrentKernel,
      ...(bias ? [grads.dBias] : []),
      ...(initial ? [grads.dh0, ...(isLstm ? [grads.dc0] : [])] : []),
    ];
  });
  return { output, states: isLstm ? [hT, cT!] : [hT] };
}

// ---- the composite path ----------------------------------------------------------------

function activationFn(a: RnnActivationLike): (x: Tensor) => Tensor {
  return typeof a === 'function' ? a : fusedActivationOp(a);
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
