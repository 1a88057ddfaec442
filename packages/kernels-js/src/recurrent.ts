/**
 * Fused whole-sequence recurrent kernels (LSTM, GRU, SimpleRNN), forward and
 * backward, as specified by OptionalKernels in @axon/tensor's backend.ts.
 *
 * Layout: everything internal is in step order and time-major, so that each
 * step's slice of the projection, the states and the gate gradients is one
 * contiguous [B, n] block. x is copied once into step order ([T*B, I]); the
 * input projection of all steps is one GEMM. The recurrence itself — per
 * step a product h'·U (two for a GRU without resetAfter) and the gate math;
 * backward, the gate gradients and dh'·Uᵀ — runs in fixed row groups of the
 * batch, each through all T steps on its own (recurrent-groups.ts), on the
 * calling thread or, when the call is big enough, spread over the worker
 * pool (parallel.ts: a group is a chunk; no synchronisation per step).
 * Backward, dW, dU and dx then come from one GEMM each over all steps, and
 * the bias gradients from column sums. Buffers come from a per-backend
 * scratch grown on demand, so nothing is allocated per step.
 */
import type { Kernels, RnnActivation, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo } from '@axon/tensor';
import { type GemmScratch, gemm } from './gemm.js';
import {
  GRU,
  GroupContext,
  HARD_SIGMOID,
  LINEAR,
  LSTM,
  RELU,
  SIGMOID,
  SIMPLE_RNN,
  TANH,
  groupCount,
  groupRows,
  runGroup,
  type Job,
  type JobArrays,
} from './recurrent-groups.js';
import { checkCounts, checkLength, fail } from './validate.js';

const CODES: Record<RnnActivation, number> = { tanh: TANH, sigmoid: SIGMOID, hardSigmoid: HARD_SIGMOID, relu: RELU, linear: LINEAR };

function code(kernel: string, name: RnnActivation): number {
  const c = CODES[name];
  if (c === undefined) fail(kernel, `unsupported activation '${String(name)}'`);
  return c;
}

/**
 * Offered every job on the main thread: runs all its groups on the worker
 * pool and returns true, or returns false to leave them to the calling thread.
 */
export type RecurrentParallel = (kernel: string, job: Job) => boolean;

/** Named Float32Array buffers reused across calls (never shrunk). */
export class RecurrentScratch {
  private readonly buffers = new Map<string, Float32Array>();
  /** The row groups' state when they run on this thread. */
  readonly group = new GroupContext();
  parallel?: RecurrentParallel;

  constructor(readonly gemm: GemmScratch) {}

  get(name: string, size: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length < size) {
      b = new Float32Array(size);
      this.buffers.set(name, b);
    }
    return b.subarray(0, size);
  }

  zeros(name: string, size: number): Float32Array {
    const b = this.get(name, size);
    b.fill(0);
    return b;
  }
}

type Kind = 'lstm' | 'gru' | 'simpleRnn';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

// ---- validation --------------------------------------------------------------------------

function checkInfo(kernel: string, info: RnnSequenceInfo): void {
  checkCounts(kernel, { batch: info.batch, timesteps: info.timesteps, inputSize: info.inputSize, units: info.units });
  if (info.timesteps < 1) fail(kernel, 'timesteps must be at least 1');
}

function checkOptional(kernel: string, name: string, a: Float32Array | null, n: number, required: boolean | null): void {
  if (a === null) {
    if (required) fail(kernel, `${name} is required`);
    return;
  }
  if (required === false) fail(kernel, `${name} must be null`);
  checkLength(kernel, name, a, n);
}

function biasSize(kind: Kind, info: RnnSequenceInfo): number {
  return (kind === 'gru' && info.resetAfter ? 2 : 1) * GATES[kind] * info.units;
}

function checkCommon(kernel: string, kind: Kind, a: RnnForwardArrays | RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkInfo(kernel, info);
  const { batch: B, timesteps: T, inputSize: I, units: U } = info;
  const GU = GATES[kind] * U;
  checkLength(kernel, 'x', a.x, B * T * I);
  checkLength(kernel, 'kernel', a.kernel, I * GU);
  checkLength(kernel, 'recurrentKernel', a.recurrentKernel, U * GU);
  checkOptional(kernel, 'mask', a.mask, B * T, null);
  checkLength(kernel, 'hs', a.hs, (T + 1) * B * U);
  checkOptional(kernel, 'cs', a.cs, (T + 1) * B * U, kind === 'lstm');
  checkOptional(kernel, 'gates', a.gates, T * B * GU, kind !== 'simpleRnn');
  checkOptional(kernel, 'aux', a.aux, T * B * U, kind === 'gru');
}

function checkForward(kernel: string, kind: Kind, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkCommon(kernel, kind, a, info);
  const { batch: B, timesteps: T, units: U } = info;
  checkOptional(kernel, 'bias', a.bias, biasSize(kind, info), null);
  checkOptional(kernel, 'h0', a.h0, B * U, null);
  checkOptional(kernel, 'c0', a.c0, B * U, kind === 'lstm' ? null : false);
  checkLength(kernel, 'output', a.output, info.returnSequences ? B * T * U : B * U);
  checkLength(kernel, 'hT', a.hT, B * U);
  checkOptional(kernel, 'cT', a.cT, B * U, kind === 'lstm');
}

function checkBackward(kernel: string, kind: Kind, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkCommon(kernel, kind, a, info);
  const { batch: B, timesteps: T, inputSize: I, units: U } = info;
  const GU = GATES[kind] * U;
  checkOptional(kernel, 'dOutput', a.dOutput, info.returnSequences ? B * T * U : B * U, null);
  checkOptional(kernel, 'dhT', a.dhT, B * U, null);
  checkOptional(kernel, 'dcT', a.dcT, B * U, kind === 'lstm' ? null : false);
  checkOptional(kernel, 'dx', a.dx, B * T * I, null);
  checkOptional(kernel, 'dKernel', a.dKernel, I * GU, null);
  checkOptional(kernel, 'dRecurrentKernel', a.dRecurrentKernel, U * GU, null);
  checkOptional(kernel, 'dBias', a.dBias, biasSize(kind, info), null);
  checkOptional(kernel, 'dh0', a.dh0, B * U, null);
  checkOptional(kernel, 'dc0', a.dc0, B * U, kind === 'lstm' ? null : false);
}

// ---- shared pieces ---------------------------------------------------------------------

const timeOf = (info: RnnSequenceInfo, step: number): number => (info.goBackwards ? info.timesteps - 1 - step : step);

/** x [B, T, I] (time order) → [T*B, I] in step order. */
function stepMajorInputs(scratch: RecurrentScratch, x: Float32Array, info: RnnSequenceInfo): Float32Array {
  const { batch: B, timesteps: T, inputSize: I } = info;
  const xs = scratch.get('xs', T * B * I);
  for (let s = 0; s < T; s++) {
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) xs.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), (s * B + b) * I);
  }
  return xs;
}

/** proj [T*B, GU] = xs · W + bias (bias = its first GU values, or none). */
function project(
  scratch: RecurrentScratch,
  xs: Float32Array,
  kernel: Float32Array,
  bias: Float32Array | null,
  proj: Float32Array,
  info: RnnSequenceInfo,
  GU: number,
): void {
  const rows = info.timesteps * info.batch;
  if (bias) for (let r = 0; r < rows; r++) proj.set(bias.subarray(0, GU), r * GU);
  gemm(scratch.gemm, xs, kernel, proj, 1, rows, GU, info.inputSize, false, false, 1, bias ? 1 : 0, 0, 0);
}

/** Slot 0 of a [T+1, B, U] state array: the initial state or zeros. */
function initState(states: Float32Array, initial: Float32Array | null, BU: number): void {
  if (initial) states.set(initial);
  else states.fill(0, 0, BU);
}

/** Whether sample b takes step s. */
function taken(mask: Float32Array | null, info: RnnSequenceInfo, b: number, t: number): boolean {
  return mask === null || mask[b * info.timesteps + t] !== 0;
}

/**
 * Writes step s's output from the new hidden state (slot s+1 of hs): Keras
 * semantics for masked steps (previous output, or zeros with zeroOutputForMask).
 */
function emitOutput(a: RnnForwardArrays, info: RnnSequenceInfo, s: number): void {
  const { batch: B, timesteps: T, units: U } = info;
  const hs = a.hs,
    out = a.output;
  const slot = (s + 1) * B * U;
  for (let b = 0; b < B; b++) {
    const take = taken(a.mask, info, b, timeOf(info, s));
    const dst = info.returnSequences ? (b * T + s) * U : b * U;
    if (take) {
      for (let j = 0; j < U; j++) out[dst + j] = hs[slot + b * U + j];
    } else if (info.zeroOutputForMask || (info.returnSequences && s === 0)) {
      out.fill(0, dst, dst + U);
    } else if (info.returnSequences) {
      for (let j = 0; j < U; j++) out[dst + j] = out[dst - U + j];
    } // else: the [B, U] output already holds the previous output
  }
}

function finishForward(a: RnnForwardArrays, info: RnnSequenceInfo): void {
  const BU = info.batch * info.units;
  const T = info.timesteps;
  a.hT.set(a.hs.subarray(T * BU, (T + 1) * BU));
  if (a.cT && a.cs) a.cT.set(a.cs.subarray(T * BU, (T + 1) * BU));
}

/**
 * The gradient reaching each step's output, [T, B, U] in step order, with
 * Keras semantics for masked steps: a masked step's output is the previous
 * output (or zeros with zeroOutputForMask), so its gradient is carried on to
 * the step before, and the step itself receives none. It depends on the mask
 * and dOutput only, never on the recurrence, so it is computed up front.
 */
function outputGradients(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): Float32Array {
  const { batch: B, timesteps: T, units: U, returnSequences, zeroOutputForMask } = info;
  const BU = B * U;
  const go = scratch.get('go', T * BU);
  const carry = scratch.zeros('outCarry', BU);
  const dOut = a.dOutput;
  if (!returnSequences && dOut) carry.set(dOut);
  for (let s = T - 1; s >= 0; s--) {
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const take = taken(a.mask, info, b, t);
      const row = s * BU + b * U;
      for (let j = 0; j < U; j++) {
        const i = b * U + j;
        let g = carry[i];
        if (returnSequences && dOut) g += dOut[(b * T + s) * U + j];
        carry[i] = take || zeroOutputForMask ? 0 : g;
        go[row + j] = take ? g : 0;
      }
    }
  }
  return go;
}

/** Column sums of a [rows, cols] matrix into out[offset .. offset+cols). */
function columnSums(m: Float32Array, rows: number, cols: number, out: Float32Array, offset: number): void {
  out.fill(0, offset, offset + cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[offset + c] += m[row + c];
  }
}

/**
 * From the pre-activation gradient of the input projection dProj [T*B, GU]
 * (step order): dKernel = xs^T · dProj, dx = dProj · W^T (back to time
 * order), and the input bias gradient (first GU values of dBias).
 */
function inputGradients(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo, dProj: Float32Array, GU: number): void {
  const { batch: B, timesteps: T, inputSize: I } = info;
  const rows = T * B;
  if (a.dKernel) {
    const xs = stepMajorInputs(scratch, a.x, info);
    gemm(scratch.gemm, xs, dProj, a.dKernel, 1, I, GU, rows, true, false, 1, 0, 0, 0);
  }
  if (a.dx) {
    const dxs = scratch.get('dxs', rows * I);
    gemm(scratch.gemm, dProj, a.kernel, dxs, 1, rows, I, GU, false, true, 1, 0, 0, 0);
    for (let s = 0; s < T; s++) {
      const t = timeOf(info, s);
      for (let b = 0; b < B; b++) a.dx.set(dxs.subarray((s * B + b) * I, (s * B + b + 1) * I), (b * T + t) * I);
    }
  }
  if (a.dBias) columnSums(dProj, rows, GU, a.dBias, 0);
}

/** dU [U, n] = H'^T · dRec where H' is hs slots 0..T-1 as [T*B, U] and dRec is [T*B, n]. */
function recurrentGradient(
  scratch: RecurrentScratch,
  hPrev: Float32Array,
  dRec: Float32Array,
  out: Float32Array,
  info: RnnSequenceInfo,
  n: number,
): void {
  const { batch: B, timesteps: T, units: U } = info;
  gemm(scratch.gemm, hPrev.subarray(0, T * B * U), dRec, out, 1, U, n, T * B, true, false, 1, 0, 0, 0);
}

function initGradient(dst: Float32Array, src: Float32Array | null): void {
  if (src) dst.set(src);
  else dst.fill(0);
}

// ---- the recurrence: row groups ---------------------------------------------------------------

const NO_ARRAYS: Omit<JobArrays, 'u'> = {
  z: null,
  hs: null,
  cs: null,
  aux: null,
  mask: null,
  recBias: null,
  go: null,
  dh: null,
  dc: null,
  dz: null,
  drec: null,
  da: null,
};

function job(
  scratch: RecurrentScratch,
  kind: number,
  backward: boolean,
  info: RnnSequenceInfo,
  fa: number,
  fr: number,
  arrays: Partial<JobArrays> & { u: Float32Array },
): Job {
  return {
    kind,
    backward,
    batch: info.batch,
    timesteps: info.timesteps,
    units: info.units,
    fa,
    fr,
    resetAfter: info.resetAfter,
    goBackwards: info.goBackwards,
    groupRows: groupRows(info.batch),
    simd: scratch.gemm.simd,
    arrays: { ...NO_ARRAYS, ...arrays },
  };
}

/** Runs every row group of the job: on the pool when the hook takes it, else here, in order. */
function runJob(scratch: RecurrentScratch, kernel: string, j: Job): void {
  if (j.batch === 0 || scratch.parallel?.(kernel, j)) return;
  const groups = groupCount(j);
  for (let g = 0; g < groups; g++) runGroup(j, g, scratch.group);
}

/** The forward epilogue: outputs of every step, then the final states. */
function emitAll(a: RnnForwardArrays, info: RnnSequenceInfo): void {
  for (let s = 0; s < info.timesteps; s++) emitOutput(a, info, s);
  finishForward(a, info);
}

// ---- LSTM ----------------------------------------------------------------------------------

export function lstmForward(scratch: RecurrentScratch, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkForward('lstmForward', 'lstm', a, info);
  const { batch: B, units: U } = info;
  const GU = 4 * U,
    BU = B * U;
  const fa = code('lstmForward', info.activation),
    fr = code('lstmForward', info.recurrentActivation);
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, a.gates!, info, GU);
  initState(a.hs, a.h0, BU);
  initState(a.cs!, a.c0, BU);
  if (!info.returnSequences) a.output.fill(0);
  runJob(
    scratch,
    'lstmForward',
    job(scratch, LSTM, false, info, fa, fr, { z: a.gates, hs: a.hs, cs: a.cs, mask: a.mask, u: a.recurrentKernel }),
  );
  emitAll(a, info);
}

export function lstmBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('lstmBackward', 'lstm', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 4 * U,
    BU = B * U;
  const fa = code('lstmBackward', info.activation),
    fr = code('lstmBackward', info.recurrentActivation);
  const dZ = scratch.get('dZ', T * B * GU);
  const dh = scratch.get('dh', BU),
    dc = scratch.get('dc', BU);
  initGradient(dh, a.dhT);
  initGradient(dc, a.dcT);
  const go = outputGradients(scratch, a, info);
  runJob(
    scratch,
    'lstmBackward',
    job(scratch, LSTM, true, info, fa, fr, { z: a.gates, cs: a.cs, mask: a.mask, u: a.recurrentKernel, go, dh, dc, dz: dZ }),
  );
  if (a.dh0) a.dh0.set(dh);
  if (a.dc0) a.dc0.set(dc);
  if (a.dRecurrentKernel) recurrentGradient(scratch, a.hs, dZ, a.dRecurrentKernel, info, GU);
  inputGradients(scratch, a, info, dZ, GU);
}

// ---- GRU ---------------------------------------------------------------------------------------

export function gruForward(scratch: RecurrentScratch, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkForward('gruForward', 'gru', a, info);
  const { batch: B, units: U } = info;
  const GU = 3 * U,
    BU = B * U;
  const fa = code('gruForward', info.activation),
    fr = code('gruForward', info.recurrentActivation);
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, a.gates!, info, GU);
  initState(a.hs, a.h0, BU);
  if (!info.returnSequences) a.output.fill(0);
  const recBias = info.resetAfter && a.bias ? a.bias.subarray(GU, 2 * GU) : null;
  runJob(
    scratch,
    'gruForward',
    job(scratch, GRU, false, info, fa, fr, { z: a.gates, hs: a.hs, aux: a.aux, mask: a.mask, u: a.recurrentKernel, recBias }),
  );
  emitAll(a, info);
}

export function gruBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('gruBackward', 'gru', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 3 * U,
    BU = B * U;
  const fa = code('gruBackward', info.activation),
    fr = code('gruBackward', info.recurrentActivation);
  const resetAfter = info.resetAfter;
  // dProj: gradient of the input projection. dRec: of the recurrent products
  // ([T*B, 3U] with resetAfter; otherwise [T*B, 2U] for z, r and dA [T*B, U] for the candidate).
  const n = resetAfter ? GU : 2 * U;
  const dProj = scratch.get('dProj', T * B * GU);
  const dRec = scratch.get('dRec', T * B * n);
  const dA = resetAfter ? null : scratch.get('dA', T * BU);
  const dh = scratch.get('dh', BU);
  initGradient(dh, a.dhT);
  const go = outputGradients(scratch, a, info);
  runJob(
    scratch,
    'gruBackward',
    job(scratch, GRU, true, info, fa, fr, {
      z: a.gates,
      hs: a.hs,
      aux: a.aux,
      mask: a.mask,
      u: a.recurrentKernel,
      go,
      dh,
      dz: dProj,
      drec: dRec,
      da: dA,
    }),
  );
  if (a.dh0) a.dh0.set(dh);
  if (a.dRecurrentKernel) {
    if (resetAfter) {
      recurrentGradient(scratch, a.hs, dRec, a.dRecurrentKernel, info, GU);
    } else {
      // dUzr = H'^T · dRec, dUh = (r*H')^T · dA, interleaved into [U, 3U].
      const dUzr = scratch.get('dUzr', U * 2 * U);
      const dUh = scratch.get('dUh', U * U);
      recurrentGradient(scratch, a.hs, dRec, dUzr, info, 2 * U);
      recurrentGradient(scratch, a.aux!, dA!, dUh, info, U);
      for (let r = 0; r < U; r++) {
        a.dRecurrentKernel.set(dUzr.subarray(r * 2 * U, (r + 1) * 2 * U), r * GU);
        a.dRecurrentKernel.set(dUh.subarray(r * U, (r + 1) * U), r * GU + 2 * U);
      }
    }
  }
  inputGradients(scratch, a, info, dProj, GU);
  if (a.dBias && resetAfter) columnSums(dRec, T * B, GU, a.dBias, GU);
}

// ---- SimpleRNN ---------------------------------------------------------------------------------

export function simpleRnnForward(scratch: RecurrentScratch, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkForward('simpleRnnForward', 'simpleRnn', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const BU = B * U;
  const fa = code('simpleRnnForward', info.activation);
  const proj = scratch.get('proj', T * BU);
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, proj, info, U);
  initState(a.hs, a.h0, BU);
  if (!info.returnSequences) a.output.fill(0);
  runJob(
    scratch,
    'simpleRnnForward',
    job(scratch, SIMPLE_RNN, false, info, fa, fa, { z: proj, hs: a.hs, mask: a.mask, u: a.recurrentKernel }),
  );
  emitAll(a, info);
}

export function simpleRnnBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('simpleRnnBackward', 'simpleRnn', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const BU = B * U;
  const fa = code('simpleRnnBackward', info.activation);
  const dZ = scratch.get('dZ', T * BU);
  const dh = scratch.get('dh', BU);
  initGradient(dh, a.dhT);
  const go = outputGradients(scratch, a, info);
  runJob(
    scratch,
    'simpleRnnBackward',
    job(scratch, SIMPLE_RNN, true, info, fa, fa, { hs: a.hs, mask: a.mask, u: a.recurrentKernel, go, dh, dz: dZ }),
  );
  if (a.dh0) a.dh0.set(dh);
  if (a.dRecurrentKernel) recurrentGradient(scratch, a.hs, dZ, a.dRecurrentKernel, info, U);
  inputGradients(scratch, a, info, dZ, U);
}

/** The six kernels bound to one scratch, ready to spread into a Backend's `optional`. */
type RecurrentKernels = Pick<
  Kernels,
  'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward' | 'simpleRnnForward' | 'simpleRnnBackward'
>;

export function createRecurrentKernels(gemmScratch: GemmScratch, parallel?: RecurrentParallel): RecurrentKernels {
  const scratch = new RecurrentScratch(gemmScratch);
  scratch.parallel = parallel;
  return {
    lstmForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => lstmForward(scratch, a, info),
    lstmBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => lstmBackward(scratch, a, info),
    gruForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => gruForward(scratch, a, info),
    gruBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => gruBackward(scratch, a, info),
    simpleRnnForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => simpleRnnForward(scratch, a, info),
    simpleRnnBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => simpleRnnBackward(scratch, a, info),
  };
}
