/**
 * Fused whole-sequence recurrent kernels (LSTM, GRU, SimpleRNN), forward and
 * backward, as specified by OptionalKernels in @axon/tensor's backend.ts.
 *
 * Layout: everything internal is in step order and time-major, so that each
 * step's slice of the projection, the states and the gate gradients is one
 * contiguous [B, n] block. x is copied once into step order ([T*B, I]); the
 * input projection of all steps is one GEMM; each step does one GEMM h'·U
 * (two for a GRU without resetAfter) and one pass of gate math. Backward
 * walks the steps in reverse with one GEMM per step for dh', then dW, dU and
 * dx come from one GEMM each over all steps. Buffers come from a per-backend
 * scratch grown on demand, and step views are made once per call, so nothing
 * is allocated per step.
 */
import type { Kernels, RnnActivation, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo } from '@axon/tensor';
import { type GemmScratch, gemm } from './gemm.js';
import { checkCounts, checkLength, fail } from './validate.js';

const TANH = 0, SIGMOID = 1, HARD_SIGMOID = 2, RELU = 3, LINEAR = 4;
const CODES: Record<RnnActivation, number> = { tanh: TANH, sigmoid: SIGMOID, hardSigmoid: HARD_SIGMOID, relu: RELU, linear: LINEAR };

function code(kernel: string, name: RnnActivation): number {
  const c = CODES[name];
  if (c === undefined) fail(kernel, `unsupported activation '${String(name)}'`);
  return c;
}

/** tanh through one exp, cheaper than Math.tanh in V8; exact limits ±1, double precision throughout. */
function act(c: number, v: number): number {
  switch (c) {
    case TANH: return 1 - 2 / (Math.exp(2 * v) + 1);
    case SIGMOID: return 1 / (1 + Math.exp(-v));
    case HARD_SIGMOID: return v <= -2.5 ? 0 : v >= 2.5 ? 1 : 0.2 * v + 0.5;
    case RELU: return v > 0 ? v : 0;
    default: return v;
  }
}

/** The activation's derivative, from its output y. */
function dact(c: number, y: number): number {
  switch (c) {
    case TANH: return 1 - y * y;
    case SIGMOID: return y * (1 - y);
    case HARD_SIGMOID: return y > 0 && y < 1 ? 0.2 : 0;
    case RELU: return y > 0 ? 1 : 0;
    default: return 1;
  }
}

/** Named Float32Array buffers reused across calls (never shrunk). */
export class RecurrentScratch {
  private readonly buffers = new Map<string, Float32Array>();
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

/** T views of n values each into a [T, n] array. */
function stepViews(a: Float32Array, T: number, n: number): Float32Array[] {
  const views: Float32Array[] = [];
  for (let s = 0; s < T; s++) views.push(a.subarray(s * n, (s + 1) * n));
  return views;
}

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
function project(scratch: RecurrentScratch, xs: Float32Array, kernel: Float32Array, bias: Float32Array | null, proj: Float32Array, info: RnnSequenceInfo, GU: number): void {
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
  const hs = a.hs, out = a.output;
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
 * Backward bookkeeping of the output: given the carried output gradient
 * (gradient reaching a masked step's "previous output"), returns the total
 * gradient of step s's output for sample b, unit j and updates the carry.
 */
class OutputGradient {
  private readonly carry: Float32Array;
  constructor(scratch: RecurrentScratch, private readonly a: RnnBackwardArrays, private readonly info: RnnSequenceInfo) {
    const BU = info.batch * info.units;
    this.carry = scratch.zeros('outCarry', BU);
    if (!info.returnSequences && a.dOutput) this.carry.set(a.dOutput);
  }

  /** Total gradient of the output of step s at [b, j]; `take` says whether the step was taken. */
  at(s: number, b: number, j: number, take: boolean): number {
    const { timesteps: T, units: U } = this.info;
    const i = b * U + j;
    let g = this.carry[i];
    if (this.info.returnSequences && this.a.dOutput) g += this.a.dOutput[(b * T + s) * U + j];
    // A taken step's output is its new h; a masked one passes g on to the previous output.
    this.carry[i] = take || this.info.zeroOutputForMask ? 0 : g;
    return take ? g : 0;
  }
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
function recurrentGradient(scratch: RecurrentScratch, hPrev: Float32Array, dRec: Float32Array, out: Float32Array, info: RnnSequenceInfo, n: number): void {
  const { batch: B, timesteps: T, units: U } = info;
  gemm(scratch.gemm, hPrev.subarray(0, T * B * U), dRec, out, 1, U, n, T * B, true, false, 1, 0, 0, 0);
}

function initGradient(dst: Float32Array, src: Float32Array | null): void {
  if (src) dst.set(src);
  else dst.fill(0);
}

// ---- LSTM ----------------------------------------------------------------------------------

export function lstmForward(scratch: RecurrentScratch, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkForward('lstmForward', 'lstm', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 4 * U, BU = B * U;
  const fa = code('lstmForward', info.activation), fr = code('lstmForward', info.recurrentActivation);
  const gates = a.gates!, hs = a.hs, cs = a.cs!;
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, gates, info, GU);
  initState(hs, a.h0, BU);
  initState(cs, a.c0, BU);
  if (!info.returnSequences) a.output.fill(0);
  const rec = scratch.get('rec', B * GU);
  const hViews = stepViews(hs, T, BU);
  for (let s = 0; s < T; s++) {
    gemm(scratch.gemm, hViews[s]!, a.recurrentKernel, rec, 1, B, GU, U, false, false, 1, 0, 0, 0);
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, r = b * GU;
      const prev = s * BU + b * U, next = prev + BU;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const i = act(fr, gates[g + j] + rec[r + j]);
        const f = act(fr, gates[g + U + j] + rec[r + U + j]);
        const cc = act(fa, gates[g + 2 * U + j] + rec[r + 2 * U + j]);
        const o = act(fr, gates[g + 3 * U + j] + rec[r + 3 * U + j]);
        gates[g + j] = i;
        gates[g + U + j] = f;
        gates[g + 2 * U + j] = cc;
        gates[g + 3 * U + j] = o;
        if (take) {
          const c = f * cs[prev + j] + i * cc;
          cs[next + j] = c;
          hs[next + j] = o * act(fa, c);
        } else {
          cs[next + j] = cs[prev + j];
          hs[next + j] = hs[prev + j];
        }
      }
    }
    emitOutput(a, info, s);
  }
  finishForward(a, info);
}

export function lstmBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('lstmBackward', 'lstm', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 4 * U, BU = B * U;
  const fa = code('lstmBackward', info.activation), fr = code('lstmBackward', info.recurrentActivation);
  const gates = a.gates!, cs = a.cs!;
  const dZ = scratch.get('dZ', T * B * GU);
  const dZViews = stepViews(dZ, T, B * GU);
  let dh = scratch.get('dh', BU), dhNext = scratch.get('dhNext', BU);
  const dc = scratch.get('dc', BU);
  initGradient(dh, a.dhT);
  initGradient(dc, a.dcT);
  const dOut = new OutputGradient(scratch, a, info);
  for (let s = T - 1; s >= 0; s--) {
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, k = b * U;
      const prev = s * BU + k, next = prev + BU;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const go = dOut.at(s, b, j, take);
        if (!take) {
          dZ[g + j] = dZ[g + U + j] = dZ[g + 2 * U + j] = dZ[g + 3 * U + j] = 0;
          dhNext[k + j] = dh[k + j];
          continue;
        }
        const i = gates[g + j], f = gates[g + U + j], cc = gates[g + 2 * U + j], o = gates[g + 3 * U + j];
        const dhn = dh[k + j] + go;
        const tc = act(fa, cs[next + j]);
        const dcn = dc[k + j] + dhn * o * dact(fa, tc);
        dZ[g + j] = dcn * cc * dact(fr, i);
        dZ[g + U + j] = dcn * cs[prev + j] * dact(fr, f);
        dZ[g + 2 * U + j] = dcn * i * dact(fa, cc);
        dZ[g + 3 * U + j] = dhn * tc * dact(fr, o);
        dc[k + j] = dcn * f;
        dhNext[k + j] = 0;
      }
    }
    gemm(scratch.gemm, dZViews[s]!, a.recurrentKernel, dhNext, 1, B, U, GU, false, true, 1, 1, 0, 0);
    [dh, dhNext] = [dhNext, dh];
  }
  if (a.dh0) a.dh0.set(dh);
  if (a.dc0) a.dc0.set(dc);
  if (a.dRecurrentKernel) recurrentGradient(scratch, a.hs, dZ, a.dRecurrentKernel, info, GU);
  inputGradients(scratch, a, info, dZ, GU);
}

// ---- GRU ---------------------------------------------------------------------------------------

export function gruForward(scratch: RecurrentScratch, a: RnnForwardArrays, info: RnnSequenceInfo): void {
  checkForward('gruForward', 'gru', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 3 * U, BU = B * U;
  const fa = code('gruForward', info.activation), fr = code('gruForward', info.recurrentActivation);
  const gates = a.gates!, aux = a.aux!, hs = a.hs;
  const resetAfter = info.resetAfter;
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, gates, info, GU);
  initState(hs, a.h0, BU);
  if (!info.returnSequences) a.output.fill(0);
  const recBias = resetAfter && a.bias ? a.bias.subarray(GU, 2 * GU) : null;
  const hViews = stepViews(hs, T, BU);
  // Without resetAfter, U splits into Uzr [U, 2U] (applied to h') and Uh [U, U] (applied to r*h').
  const Uzr = resetAfter ? a.recurrentKernel : splitColumns(scratch, a.recurrentKernel, U, 'Uzr', 0, 2 * U);
  const Uh = resetAfter ? null : splitColumns(scratch, a.recurrentKernel, U, 'Uh', 2 * U, U);
  const auxViews = stepViews(aux, T, BU);
  const n = resetAfter ? GU : 2 * U;
  const rec = scratch.get('rec', B * n);
  const recH = scratch.get('recH', BU);
  for (let s = 0; s < T; s++) {
    gemm(scratch.gemm, hViews[s]!, Uzr, rec, 1, B, n, U, false, false, 1, 0, 0, 0);
    // z, r; with resetAfter also hh, otherwise r*h' for the second GEMM.
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, r0 = b * n, prev = s * BU + b * U;
      for (let j = 0; j < U; j++) {
        const z = act(fr, gates[g + j] + rec[r0 + j] + (recBias ? recBias[j] : 0));
        const r = act(fr, gates[g + U + j] + rec[r0 + U + j] + (recBias ? recBias[U + j] : 0));
        gates[g + j] = z;
        gates[g + U + j] = r;
        if (resetAfter) {
          const rh = rec[r0 + 2 * U + j] + (recBias ? recBias[2 * U + j] : 0);
          aux[prev + j] = rh;
          gates[g + 2 * U + j] = act(fa, gates[g + 2 * U + j] + r * rh);
        } else {
          aux[prev + j] = r * hs[prev + j];
        }
      }
    }
    if (!resetAfter) {
      gemm(scratch.gemm, auxViews[s]!, Uh!, recH, 1, B, U, U, false, false, 1, 0, 0, 0);
      for (let b = 0; b < B; b++) {
        const g = (s * B + b) * GU;
        for (let j = 0; j < U; j++) gates[g + 2 * U + j] = act(fa, gates[g + 2 * U + j] + recH[b * U + j]);
      }
    }
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, prev = s * BU + b * U, next = prev + BU;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const z = gates[g + j];
        hs[next + j] = take ? z * hs[prev + j] + (1 - z) * gates[g + 2 * U + j] : hs[prev + j];
      }
    }
    emitOutput(a, info, s);
  }
  finishForward(a, info);
}

/** Copies columns [from, from+count) of a [rows, *] matrix with `total` columns into a scratch [rows, count]. */
function splitColumns(scratch: RecurrentScratch, m: Float32Array, rows: number, name: string, from: number, count: number): Float32Array {
  const total = m.length / rows;
  const out = scratch.get(name, rows * count);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * total + from, r * total + from + count), r * count);
  return out;
}

export function gruBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('gruBackward', 'gru', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const GU = 3 * U, BU = B * U;
  const fa = code('gruBackward', info.activation), fr = code('gruBackward', info.recurrentActivation);
  const gates = a.gates!, aux = a.aux!, hs = a.hs;
  const resetAfter = info.resetAfter;
  // dProj: gradient of the input projection. dRec: of the recurrent GEMM's output
  // ([T*B, 3U] with resetAfter; otherwise [T*B, 2U] for z, r and dA [T*B, U] for the candidate).
  const dProj = scratch.get('dProj', T * B * GU);
  const n = resetAfter ? GU : 2 * U;
  const dRec = scratch.get('dRec', T * B * n);
  const dA = resetAfter ? null : scratch.get('dA', T * BU);
  const dRecViews = stepViews(dRec, T, B * n);
  const dAViews = dA ? stepViews(dA, T, BU) : null;
  const Uzr = resetAfter ? a.recurrentKernel : splitColumns(scratch, a.recurrentKernel, U, 'Uzr', 0, 2 * U);
  const Uh = resetAfter ? null : splitColumns(scratch, a.recurrentKernel, U, 'Uh', 2 * U, U);
  const dRH = scratch.get('dRH', BU);
  const dhn = scratch.get('dhn', BU);
  let dh = scratch.get('dh', BU), dhNext = scratch.get('dhNext', BU);
  initGradient(dh, a.dhT);
  const dOut = new OutputGradient(scratch, a, info);
  for (let s = T - 1; s >= 0; s--) {
    const t = timeOf(info, s);
    // Pass 1: the gradient of the new h, and of the candidate's pre-activation.
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, k = b * U;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const go = dOut.at(s, b, j, take);
        const d = take ? dh[k + j] + go : 0;
        dhn[k + j] = d;
        const da = d * (1 - gates[g + j]) * dact(fa, gates[g + 2 * U + j]);
        dProj[g + 2 * U + j] = da;
        if (dA) dA[s * BU + k + j] = da;
      }
    }
    if (!resetAfter) gemm(scratch.gemm, dAViews![s]!, Uh!, dRH, 1, B, U, U, false, true, 1, 0, 0, 0);
    // Pass 2: z and r, and the direct part of dh'.
    for (let b = 0; b < B; b++) {
      const g = (s * B + b) * GU, k = b * U, prev = s * BU + k, rr = (s * B + b) * n;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const d = dhn[k + j];
        const z = gates[g + j], r = gates[g + U + j], hh = gates[g + 2 * U + j];
        const hPrev = hs[prev + j];
        const da = dProj[g + 2 * U + j];
        const dz = d * (hPrev - hh) * dact(fr, z);
        const dr = (resetAfter ? da * aux[prev + j] : dRH[k + j] * hPrev) * dact(fr, r);
        dProj[g + j] = dRec[rr + j] = dz;
        dProj[g + U + j] = dRec[rr + U + j] = dr;
        if (resetAfter) dRec[rr + 2 * U + j] = da * r;
        dhNext[k + j] = take ? d * z + (resetAfter ? 0 : dRH[k + j] * r) : dh[k + j];
      }
    }
    gemm(scratch.gemm, dRecViews[s]!, Uzr, dhNext, 1, B, U, n, false, true, 1, 1, 0, 0);
    [dh, dhNext] = [dhNext, dh];
  }
  if (a.dh0) a.dh0.set(dh);
  if (a.dRecurrentKernel) {
    if (resetAfter) {
      recurrentGradient(scratch, hs, dRec, a.dRecurrentKernel, info, GU);
    } else {
      // dUzr = H'^T · dRec, dUh = (r*H')^T · dA, interleaved into [U, 3U].
      const dUzr = scratch.get('dUzr', U * 2 * U);
      const dUh = scratch.get('dUh', U * U);
      recurrentGradient(scratch, hs, dRec, dUzr, info, 2 * U);
      recurrentGradient(scratch, aux, dA!, dUh, info, U);
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
  const hs = a.hs;
  const proj = scratch.get('proj', T * BU);
  project(scratch, stepMajorInputs(scratch, a.x, info), a.kernel, a.bias, proj, info, U);
  initState(hs, a.h0, BU);
  if (!info.returnSequences) a.output.fill(0);
  const rec = scratch.get('rec', BU);
  const hViews = stepViews(hs, T, BU);
  for (let s = 0; s < T; s++) {
    gemm(scratch.gemm, hViews[s]!, a.recurrentKernel, rec, 1, B, U, U, false, false, 1, 0, 0, 0);
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const k = b * U, prev = s * BU + k, next = prev + BU;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) hs[next + j] = take ? act(fa, proj[prev + j] + rec[k + j]) : hs[prev + j];
    }
    emitOutput(a, info, s);
  }
  finishForward(a, info);
}

export function simpleRnnBackward(scratch: RecurrentScratch, a: RnnBackwardArrays, info: RnnSequenceInfo): void {
  checkBackward('simpleRnnBackward', 'simpleRnn', a, info);
  const { batch: B, timesteps: T, units: U } = info;
  const BU = B * U;
  const fa = code('simpleRnnBackward', info.activation);
  const hs = a.hs;
  const dZ = scratch.get('dZ', T * BU);
  const dZViews = stepViews(dZ, T, BU);
  let dh = scratch.get('dh', BU), dhNext = scratch.get('dhNext', BU);
  initGradient(dh, a.dhT);
  const dOut = new OutputGradient(scratch, a, info);
  for (let s = T - 1; s >= 0; s--) {
    const t = timeOf(info, s);
    for (let b = 0; b < B; b++) {
      const k = b * U, next = (s + 1) * BU + k;
      const take = taken(a.mask, info, b, t);
      for (let j = 0; j < U; j++) {
        const go = dOut.at(s, b, j, take);
        dZ[s * BU + k + j] = take ? (dh[k + j] + go) * dact(fa, hs[next + j]) : 0;
        dhNext[k + j] = take ? 0 : dh[k + j];
      }
    }
    gemm(scratch.gemm, dZViews[s]!, a.recurrentKernel, dhNext, 1, B, U, U, false, true, 1, 1, 0, 0);
    [dh, dhNext] = [dhNext, dh];
  }
  if (a.dh0) a.dh0.set(dh);
  if (a.dRecurrentKernel) recurrentGradient(scratch, hs, dZ, a.dRecurrentKernel, info, U);
  inputGradients(scratch, a, info, dZ, U);
}

/** The six kernels bound to one scratch, ready to spread into a Backend's `optional`. */
type RecurrentKernels = Pick<Kernels, 'lstmForward' | 'lstmBackward' | 'gruForward' | 'gruBackward' | 'simpleRnnForward' | 'simpleRnnBackward'>;

export function createRecurrentKernels(gemmScratch: GemmScratch): RecurrentKernels {
  const scratch = new RecurrentScratch(gemmScratch);
  return {
    lstmForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => lstmForward(scratch, a, info),
    lstmBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => lstmBackward(scratch, a, info),
    gruForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => gruForward(scratch, a, info),
    gruBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => gruBackward(scratch, a, info),
    simpleRnnForward: (a: RnnForwardArrays, info: RnnSequenceInfo) => simpleRnnForward(scratch, a, info),
    simpleRnnBackward: (a: RnnBackwardArrays, info: RnnSequenceInfo) => simpleRnnBackward(scratch, a, info),
  };
}
