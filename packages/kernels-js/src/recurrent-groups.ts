/**
 * The recurrences of the fused recurrent kernels, one row group at a time.
 *
 * Batch rows are independent in a recurrence, so the batch is cut into fixed
 * row groups (groupRows below: they depend on the batch size only) and each
 * group runs through all T steps on its own: no synchronisation per step, and
 * a group is a chunk that any thread of the pool can run (tasks.ts). What
 * couples the rows — the weight gradients, dx, the input projection — is done
 * by the caller (recurrent.ts) with whole-batch GEMMs before or after.
 *
 * A group copies its rows of the step-major arrays ([S, B, w], the `Job`'s
 * arrays: the caller's, or the shared arena's on a worker) into compact local
 * arrays ([S, rows, w]), runs, and copies its results back. With the
 * WebAssembly SIMD kernels the local arrays live in the module's memory: the
 * recurrent weights are packed once per group (simdPackB) and every step's
 * product goes straight to the micro-kernel (simdGemmPacked); the gate math is
 * the module's (wasm/recurrent-module.ts) for LSTM and plain TypeScript on the
 * memory's views for GRU and SimpleRNN. Without them the local arrays are
 * per-thread scratch and the products go through gemm.ts.
 *
 * A row's arithmetic never depends on the other rows of its group (every
 * product computes each output cell the same way whatever the rows around
 * it) except in the pure-TypeScript GEMM's matrix-vector path, used only for
 * a group of one row; since the groups depend only on the batch size, the
 * results are the same bits for any number of threads.
 */
import { GemmScratch, gemm } from './gemm.js';
import {
  HEAP_INDEX,
  heap,
  packedSize,
  simdGemmPacked,
  simdLstmBackwardStep,
  simdLstmForwardStep,
  simdPackB,
  type GateCodes,
} from './wasm/simd.js';

export const LSTM = 0,
  GRU = 1,
  SIMPLE_RNN = 2;
export const TANH = 0,
  SIGMOID = 1,
  HARD_SIGMOID = 2,
  RELU = 3,
  LINEAR = 4;

/** tanh through one exp, cheaper than Math.tanh in V8; exact limits ±1, double precision throughout. */
export function act(c: number, v: number): number {
  switch (c) {
    case TANH:
      return 1 - 2 / (Math.exp(2 * v) + 1);
    case SIGMOID:
      return 1 / (1 + Math.exp(-v));
    case HARD_SIGMOID:
      return v <= -2.5 ? 0 : v >= 2.5 ? 1 : 0.2 * v + 0.5;
    case RELU:
      return Math.max(v, 0);
    default:
      return v;
  }
}

/** The activation's derivative, from its output y. */
export function dact(c: number, y: number): number {
  switch (c) {
    case TANH:
      return 1 - y * y;
    case SIGMOID:
      return y * (1 - y);
    case HARD_SIGMOID:
      return y > 0 && y < 1 ? 0.2 : 0;
    case RELU:
      return y > 0 ? 1 : 0;
    default:
      return 1;
  }
}

/**
 * The arrays of a job, whole-batch and step-major ([S, B, w]) except mask
 * ([B, T], time order, as the kernels receive it). Which ones a job has
 * depends on its kind and direction; the others are null.
 */
export interface JobArrays {
  /** Forward: the input projections in, the activated gates out ([T, B, G·U]; SimpleRNN: [T, B, U], in only). Backward: the gates. */
  z: Float32Array | null;
  /** [T+1, B, U]: forward, slot 0 in and slots 1..T out; backward, in. */
  hs: Float32Array | null;
  /** LSTM cell states [T+1, B, U], like hs. */
  cs: Float32Array | null;
  /** GRU: [T, B, U], out forward, in backward. */
  aux: Float32Array | null;
  mask: Float32Array | null;
  /** The recurrent kernel [U, G·U]. */
  u: Float32Array;
  /** GRU with resetAfter: the recurrent bias (G·U values) or null. */
  recBias: Float32Array | null;
  /** Backward: the gradient reaching each step's output [T, B, U] (outputGradients in recurrent.ts). */
  go: Float32Array | null;
  /** Backward: [B, U], the gradient of the last state in, of the initial state out. */
  dh: Float32Array | null;
  /** Backward LSTM: the same for the cell state. */
  dc: Float32Array | null;
  /** Backward: the gradient of the gates' pre-activations [T, B, G·U] (GRU: of the input projection). */
  dz: Float32Array | null;
  /** Backward GRU: the gradient of the recurrent product [T, B, n] (n = 3U with resetAfter, else 2U). */
  drec: Float32Array | null;
  /** Backward GRU without resetAfter: the gradient of the candidate's pre-activation [T, B, U]. */
  da: Float32Array | null;
}

export const JOB_ARRAYS = [
  'z',
  'hs',
  'cs',
  'aux',
  'mask',
  'u',
  'recBias',
  'go',
  'dh',
  'dc',
  'dz',
  'drec',
  'da',
] as const satisfies readonly (keyof JobArrays)[];
/** What a job writes: copied back from the arena after a threaded run. */
export const JOB_OUTPUTS = {
  forward: ['z', 'hs', 'cs', 'aux'],
  backward: ['dh', 'dc', 'dz', 'drec', 'da'],
} as const satisfies Record<string, readonly (keyof JobArrays)[]>;

export interface Job {
  kind: number;
  backward: boolean;
  batch: number;
  timesteps: number;
  units: number;
  /** Activation and recurrent activation codes (TANH ...). */
  fa: number;
  fr: number;
  resetAfter: boolean;
  goBackwards: boolean;
  groupRows: number;
  simd: boolean;
  arrays: JobArrays;
}

/** Rows per group: 16 (a group's step arrays stay in L1/L2 and a 32-row batch makes two groups), more when that would make over 64 groups. */
export function groupRows(batch: number): number {
  return Math.max(16, Math.ceil(batch / 64));
}

export function groupCount(job: Job): number {
  return Math.ceil(job.batch / job.groupRows);
}

/** Per-thread state of the group runner: scratch for the local arrays and a GEMM scratch of its own (never split over threads). */
export class GroupContext {
  private readonly buffers = new Map<string, Float32Array>();
  readonly gemm = new GemmScratch();

  constructor() {
    this.gemm.simd = false;
  }

  get(name: string, size: number): Float32Array {
    let b = this.buffers.get(name);
    if (!b || b.length < size) {
      b = new Float32Array(size);
      this.buffers.set(name, b);
    }
    return b.subarray(0, size);
  }
}

/** A local array: its data, and its float index in the SIMD module's memory (-1 for scratch). */
interface Local {
  data: Float32Array;
  at: number;
}

/** A step product's right operand: packed in the module's memory, or a plain op(B) for gemm.ts. */
interface Weights {
  k: number;
  n: number;
  packed: number;
  b: Float32Array;
  transB: boolean;
}

/** Floats of the source a weight spec spans (0 for an empty operand). */
function span(s: WeightSpec): number {
  return s.k > 0 && s.n > 0 ? (s.k - 1) * s.rs + (s.n - 1) * s.cs + 1 : 0;
}

/** op(B)[p][j] = src[offset + p·rs + j·cs] for p < k, j < n. */
interface WeightSpec {
  name: string;
  src: Float32Array;
  offset: number;
  rs: number;
  cs: number;
  k: number;
  n: number;
}

/**
 * The local arrays of one group, named, and its weights. With SIMD they are
 * laid out together in the module's memory (grown once, before any view is
 * made: growing it detaches the views); when they do not fit, the group runs
 * without SIMD.
 */
class Locals {
  readonly simd: boolean;
  private readonly arrays = new Map<string, Local>();
  private readonly weights = new Map<string, Weights>();

  constructor(
    private readonly ctx: GroupContext,
    simd: boolean,
    sizes: [string, number][],
    specs: WeightSpec[],
  ) {
    this.simd = simd && this.inHeap(sizes, specs);
    if (!this.simd) {
      for (const [name, size] of sizes) this.arrays.set(name, { data: ctx.get(name, size), at: -1 });
      for (const s of specs) this.weights.set(s.name, this.plainWeights(s));
    }
  }

  private inHeap(sizes: [string, number][], specs: WeightSpec[]): boolean {
    const at = new Map<string, number>();
    let cursor = HEAP_INDEX;
    const place = (name: string, size: number): void => {
      const start = Math.ceil(cursor / 16) * 16;
      at.set(name, start);
      cursor = start + size;
    };
    for (const [name, size] of sizes) place(name, size);
    for (const s of specs) {
      place(`${s.name}:src`, span(s));
      place(`${s.name}:packed`, packedSize(s.k, s.n));
    }
    const mem = heap(cursor - HEAP_INDEX);
    if (!mem) return false;
    for (const [name, size] of sizes) {
      const start = at.get(name)!;
      this.arrays.set(name, { data: mem.subarray(start, start + size), at: start });
    }
    for (const s of specs) {
      const src = at.get(`${s.name}:src`)!,
        packed = at.get(`${s.name}:packed`)!;
      if (s.k > 0 && s.n > 0) {
        mem.set(s.src.subarray(s.offset, s.offset + span(s)), src);
        simdPackB(src, s.rs, s.cs, s.k, s.n, packed);
      }
      this.weights.set(s.name, { k: s.k, n: s.n, packed, b: mem, transB: false });
    }
    return true;
  }

  /** op(B) as gemm.ts takes it: the source itself when it is a contiguous B or Bᵀ, else a contiguous copy. */
  private plainWeights(s: WeightSpec): Weights {
    const { src, offset, rs, cs, k, n } = s;
    if (cs === 1 && rs === n) return { k, n, packed: -1, b: src.subarray(offset, offset + k * n), transB: false };
    if (rs === 1 && cs === k) return { k, n, packed: -1, b: src.subarray(offset, offset + k * n), transB: true };
    const b = this.ctx.get(`${s.name}:copy`, k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) b[p * n + j] = src[offset + p * rs + j * cs];
    return { k, n, packed: -1, b, transB: false };
  }

  get(name: string): Local {
    return this.arrays.get(name)!;
  }

  w(name: string): Weights {
    return this.weights.get(name)!;
  }

  /** C[m×n at cOff] (+)= A[m×k at aOff, rows contiguous] · W. */
  product(A: Local, aOff: number, m: number, W: Weights, C: Local, cOff: number, accumulate: boolean): void {
    const { k, n } = W;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) C.data.fill(0, cOff, cOff + m * n);
    } else if (this.simd) {
      simdGemmPacked(A.at + aOff, k, 1, W.packed, C.at + cOff, n, m, n, k, accumulate);
    } else {
      gemm(
        this.ctx.gemm,
        A.data.subarray(aOff, aOff + m * k),
        W.b,
        C.data.subarray(cOff, cOff + m * n),
        1,
        m,
        n,
        k,
        false,
        W.transB,
        1,
        accumulate ? 1 : 0,
        0,
        0,
      );
    }
  }
}

// ---- copies between the whole-batch arrays and a group's ---------------------------------------

/** local [S, r, w] = rows b0..b0+r of full [S0.., B, w] for slots s0..s0+S. */
function gather(full: Float32Array, local: Float32Array, B: number, b0: number, r: number, w: number, s0: number, S: number): void {
  for (let s = 0; s < S; s++) {
    const from = ((s0 + s) * B + b0) * w;
    local.set(full.subarray(from, from + r * w), s * r * w);
  }
}

/** The inverse of gather. */
function scatter(local: Float32Array, full: Float32Array, B: number, b0: number, r: number, w: number, s0: number, S: number): void {
  for (let s = 0; s < S; s++) {
    const from = s * r * w;
    full.set(local.subarray(from, from + r * w), ((s0 + s) * B + b0) * w);
  }
}

/** M [T, r]: 1 where row b0+i takes step s, else 0. */
function gatherMask(job: Job, M: Float32Array, b0: number, r: number): void {
  const { timesteps: T, goBackwards } = job;
  const mask = job.arrays.mask!;
  for (let s = 0; s < T; s++) {
    const t = goBackwards ? T - 1 - s : s;
    for (let i = 0; i < r; i++) M[s * r + i] = mask[(b0 + i) * T + t] !== 0 ? 1 : 0;
  }
}

// ---- the runner ------------------------------------------------------------------------------

/** Runs group g of the job (rows g·groupRows .. of the batch), on whichever thread. */
export function runGroup(job: Job, g: number, ctx: GroupContext): void {
  const b0 = g * job.groupRows;
  const r = Math.min(job.groupRows, job.batch - b0);
  if (r <= 0) return;
  if (job.kind === LSTM) (job.backward ? lstmBackwardGroup : lstmForwardGroup)(job, b0, r, ctx);
  else if (job.kind === GRU) (job.backward ? gruBackwardGroup : gruForwardGroup)(job, b0, r, ctx);
  else (job.backward ? simpleRnnBackwardGroup : simpleRnnForwardGroup)(job, b0, r, ctx);
}

// ---- LSTM ----------------------------------------------------------------------------------

function lstmForwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa, fr } = job;
  const GU = 4 * U,
    rU = r * U;
  const a = job.arrays;
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['Z', T * r * GU],
      ['H', (T + 1) * rU],
      ['C', (T + 1) * rU],
      ['rec', r * GU],
      ['M', a.mask ? T * r : 0],
    ],
    [{ name: 'U', src: a.u, offset: 0, rs: GU, cs: 1, k: U, n: GU }],
  );
  const Z = L.get('Z'),
    H = L.get('H'),
    C = L.get('C'),
    rec = L.get('rec'),
    M = a.mask ? L.get('M') : null,
    W = L.w('U');
  gather(a.z!, Z.data, B, b0, r, GU, 0, T);
  gather(a.hs!, H.data, B, b0, r, U, 0, 1);
  gather(a.cs!, C.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M.data, b0, r);
  const codes: GateCodes = { fa, fr };
  for (let s = 0; s < T; s++) {
    L.product(H, s * rU, r, W, rec, 0, false);
    if (L.simd && U % 4 === 0)
      simdLstmForwardStep(Z.at + s * r * GU, rec.at, C.at + s * rU, H.at + s * rU, M ? M.at + s * r : -1, r, U, codes);
    else lstmForwardStep(Z.data, rec.data, C.data, H.data, M?.data ?? null, s, r, U, fa, fr);
  }
  scatter(Z.data, a.z!, B, b0, r, GU, 0, T);
  scatter(H.data.subarray(rU), a.hs!, B, b0, r, U, 1, T);
  scatter(C.data.subarray(rU), a.cs!, B, b0, r, U, 1, T);
}

/** One step of the gate math: Z's step-s block from projections to activations, and states s+1 from s. */
function lstmForwardStep(
  Z: Float32Array,
  rec: Float32Array,
  C: Float32Array,
  H: Float32Array,
  M: Float32Array | null,
  s: number,
  r: number,
  U: number,
  fa: number,
  fr: number,
): void {
  const GU = 4 * U,
    rU = r * U;
  for (let b = 0; b < r; b++) {
    const g = (s * r + b) * GU,
      q = b * GU;
    const prev = s * rU + b * U,
      next = prev + rU;
    const take = M === null || M[s * r + b] !== 0;
    for (let j = 0; j < U; j++) {
      const i = act(fr, Z[g + j] + rec[q + j]);
      const f = act(fr, Z[g + U + j] + rec[q + U + j]);
      const cc = act(fa, Z[g + 2 * U + j] + rec[q + 2 * U + j]);
      const o = act(fr, Z[g + 3 * U + j] + rec[q + 3 * U + j]);
      Z[g + j] = i;
      Z[g + U + j] = f;
      Z[g + 2 * U + j] = cc;
      Z[g + 3 * U + j] = o;
      if (take) {
        const c = f * C[prev + j] + i * cc;
        C[next + j] = c;
        H[next + j] = o * act(fa, c);
      } else {
        C[next + j] = C[prev + j];
        H[next + j] = H[prev + j];
      }
    }
  }
}

function lstmBackwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa, fr } = job;
  const GU = 4 * U,
    rU = r * U;
  const a = job.arrays;
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['Z', T * r * GU],
      ['C', (T + 1) * rU],
      ['GO', T * rU],
      ['DZ', T * r * GU],
      ['dh', rU],
      ['dhNext', rU],
      ['dc', rU],
      ['M', a.mask ? T * r : 0],
      ['tmp', U],
    ],
    [{ name: 'UT', src: a.u, offset: 0, rs: 1, cs: GU, k: GU, n: U }],
  );
  const Z = L.get('Z'),
    C = L.get('C'),
    GO = L.get('GO'),
    DZ = L.get('DZ'),
    dc = L.get('dc'),
    M = a.mask ? L.get('M') : null,
    W = L.w('UT');
  let dh = L.get('dh'),
    dhNext = L.get('dhNext');
  gather(a.z!, Z.data, B, b0, r, GU, 0, T);
  gather(a.cs!, C.data, B, b0, r, U, 0, T + 1);
  gather(a.go!, GO.data, B, b0, r, U, 0, T);
  gather(a.dh!, dh.data, B, b0, r, U, 0, 1);
  gather(a.dc!, dc.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M.data, b0, r);
  const codes: GateCodes = { fa, fr };
  for (let s = T - 1; s >= 0; s--) {
    if (L.simd && U % 4 === 0)
      simdLstmBackwardStep(
        Z.at + s * r * GU,
        C.at + s * rU,
        GO.at + s * rU,
        dh.at,
        dc.at,
        DZ.at + s * r * GU,
        dhNext.at,
        M ? M.at + s * r : -1,
        r,
        U,
        codes,
        L.get('tmp').at,
      );
    else lstmBackwardStep(Z.data, C.data, GO.data, dh.data, dc.data, DZ.data, dhNext.data, M?.data ?? null, s, r, U, fa, fr);
    L.product(DZ, s * r * GU, r, W, dhNext, 0, true);
    [dh, dhNext] = [dhNext, dh];
  }
  scatter(DZ.data, a.dz!, B, b0, r, GU, 0, T);
  scatter(dh.data, a.dh!, B, b0, r, U, 0, 1);
  scatter(dc.data, a.dc!, B, b0, r, U, 0, 1);
}

/**
 * One step back: the gate gradients of step s into DZ, dc carried to step
 * s-1, and dhNext set to what flows past the step (dh for a masked row, else
 * 0; the caller adds DZ_s · Uᵀ).
 */
function lstmBackwardStep(
  Z: Float32Array,
  C: Float32Array,
  GO: Float32Array,
  dh: Float32Array,
  dc: Float32Array,
  DZ: Float32Array,
  dhNext: Float32Array,
  M: Float32Array | null,
  s: number,
  r: number,
  U: number,
  fa: number,
  fr: number,
): void {
  const GU = 4 * U,
    rU = r * U;
  for (let b = 0; b < r; b++) {
    const g = (s * r + b) * GU,
      k = b * U;
    const prev = s * rU + k,
      next = prev + rU;
    const take = M === null || M[s * r + b] !== 0;
    if (!take) {
      DZ.fill(0, g, g + GU);
      for (let j = 0; j < U; j++) dhNext[k + j] = dh[k + j];
      continue;
    }
    for (let j = 0; j < U; j++) {
      const i = Z[g + j],
        f = Z[g + U + j],
        cc = Z[g + 2 * U + j],
        o = Z[g + 3 * U + j];
      const dhn = dh[k + j] + GO[prev + j];
      const tc = act(fa, C[next + j]);
      const dcn = dc[k + j] + dhn * o * dact(fa, tc);
      DZ[g + j] = dcn * cc * dact(fr, i);
      DZ[g + U + j] = dcn * C[prev + j] * dact(fr, f);
      DZ[g + 2 * U + j] = dcn * i * dact(fa, cc);
      DZ[g + 3 * U + j] = dhn * tc * dact(fr, o);
      dc[k + j] = dcn * f;
      dhNext[k + j] = 0;
    }
  }
}

// ---- GRU -------------------------------------------------------------------------------------

function gruForwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa, fr, resetAfter } = job;
  const GU = 3 * U,
    rU = r * U;
  const n = resetAfter ? GU : 2 * U;
  const a = job.arrays;
  const recBias = resetAfter ? a.recBias : null;
  // Without resetAfter, U splits into Uzr [U, 2U] (applied to h') and Uh [U, U] (applied to r*h').
  const specs: WeightSpec[] = [{ name: 'Uzr', src: a.u, offset: 0, rs: GU, cs: 1, k: U, n }];
  if (!resetAfter) specs.push({ name: 'Uh', src: a.u, offset: 2 * U, rs: GU, cs: 1, k: U, n: U });
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['Z', T * r * GU],
      ['AUX', T * rU],
      ['H', (T + 1) * rU],
      ['rec', r * n],
      ['recH', resetAfter ? 0 : rU],
      ['M', a.mask ? T * r : 0],
    ],
    specs,
  );
  const Z = L.get('Z').data,
    AUX = L.get('AUX'),
    H = L.get('H'),
    rec = L.get('rec'),
    recH = L.get('recH');
  const M = a.mask ? L.get('M').data : null;
  gather(a.z!, Z, B, b0, r, GU, 0, T);
  gather(a.hs!, H.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M, b0, r);
  const h = H.data,
    aux = AUX.data,
    rc = rec.data,
    rh = recH.data;
  for (let s = 0; s < T; s++) {
    L.product(H, s * rU, r, L.w('Uzr'), rec, 0, false);
    // z, r; with resetAfter also hh, otherwise r*h' for the second product.
    for (let b = 0; b < r; b++) {
      const g = (s * r + b) * GU,
        r0 = b * n,
        prev = s * rU + b * U;
      for (let j = 0; j < U; j++) {
        const z = act(fr, Z[g + j] + rc[r0 + j] + (recBias ? recBias[j] : 0));
        const rr = act(fr, Z[g + U + j] + rc[r0 + U + j] + (recBias ? recBias[U + j] : 0));
        Z[g + j] = z;
        Z[g + U + j] = rr;
        if (resetAfter) {
          const hh = rc[r0 + 2 * U + j] + (recBias ? recBias[2 * U + j] : 0);
          aux[prev + j] = hh;
          Z[g + 2 * U + j] = act(fa, Z[g + 2 * U + j] + rr * hh);
        } else {
          aux[prev + j] = rr * h[prev + j];
        }
      }
    }
    if (!resetAfter) {
      L.product(AUX, s * rU, r, L.w('Uh'), recH, 0, false);
      for (let b = 0; b < r; b++) {
        const g = (s * r + b) * GU;
        for (let j = 0; j < U; j++) Z[g + 2 * U + j] = act(fa, Z[g + 2 * U + j] + rh[b * U + j]);
      }
    }
    for (let b = 0; b < r; b++) {
      const g = (s * r + b) * GU,
        prev = s * rU + b * U,
        next = prev + rU;
      const take = M === null || M[s * r + b] !== 0;
      for (let j = 0; j < U; j++) {
        const z = Z[g + j];
        h[next + j] = take ? z * h[prev + j] + (1 - z) * Z[g + 2 * U + j] : h[prev + j];
      }
    }
  }
  scatter(Z, a.z!, B, b0, r, GU, 0, T);
  scatter(aux, a.aux!, B, b0, r, U, 0, T);
  scatter(h.subarray(rU), a.hs!, B, b0, r, U, 1, T);
}

function gruBackwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa, fr, resetAfter } = job;
  const GU = 3 * U,
    rU = r * U;
  const n = resetAfter ? GU : 2 * U;
  const a = job.arrays;
  const specs: WeightSpec[] = [{ name: 'UzrT', src: a.u, offset: 0, rs: 1, cs: GU, k: n, n: U }];
  if (!resetAfter) specs.push({ name: 'UhT', src: a.u, offset: 2 * U, rs: 1, cs: GU, k: U, n: U });
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['Z', T * r * GU],
      ['AUX', T * rU],
      ['H', (T + 1) * rU],
      ['GO', T * rU],
      ['DP', T * r * GU],
      ['DR', T * r * n],
      ['DA', resetAfter ? 0 : T * rU],
      ['dRH', rU],
      ['dhn', rU],
      ['dh', rU],
      ['dhNext', rU],
      ['M', a.mask ? T * r : 0],
    ],
    specs,
  );
  const Z = L.get('Z').data,
    aux = L.get('AUX').data,
    h = L.get('H').data,
    GO = L.get('GO').data;
  const DP = L.get('DP').data,
    DRL = L.get('DR'),
    DAL = L.get('DA'),
    dRHL = L.get('dRH');
  const DR = DRL.data,
    DA = resetAfter ? null : DAL.data,
    dRH = dRHL.data,
    dhn = L.get('dhn').data;
  const M = a.mask ? L.get('M').data : null;
  let dhL = L.get('dh'),
    dhNextL = L.get('dhNext');
  gather(a.z!, Z, B, b0, r, GU, 0, T);
  gather(a.aux!, aux, B, b0, r, U, 0, T);
  gather(a.hs!, h, B, b0, r, U, 0, T + 1);
  gather(a.go!, GO, B, b0, r, U, 0, T);
  gather(a.dh!, dhL.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M, b0, r);
  for (let s = T - 1; s >= 0; s--) {
    const dh = dhL.data,
      dhNext = dhNextL.data;
    // Pass 1: the gradient of the new h, and of the candidate's pre-activation.
    for (let b = 0; b < r; b++) {
      const g = (s * r + b) * GU,
        k = b * U;
      const take = M === null || M[s * r + b] !== 0;
      for (let j = 0; j < U; j++) {
        const d = take ? dh[k + j] + GO[s * rU + k + j] : 0;
        dhn[k + j] = d;
        const da = d * (1 - Z[g + j]) * dact(fa, Z[g + 2 * U + j]);
        DP[g + 2 * U + j] = da;
        if (DA) DA[s * rU + k + j] = da;
      }
    }
    if (!resetAfter) L.product(DAL, s * rU, r, L.w('UhT'), dRHL, 0, false);
    // Pass 2: z and r, and the direct part of dh'.
    for (let b = 0; b < r; b++) {
      const g = (s * r + b) * GU,
        k = b * U,
        prev = s * rU + k,
        q = (s * r + b) * n;
      const take = M === null || M[s * r + b] !== 0;
      for (let j = 0; j < U; j++) {
        const d = dhn[k + j];
        const z = Z[g + j],
          rr = Z[g + U + j],
          hh = Z[g + 2 * U + j];
        const hPrev = h[prev + j];
        const da = DP[g + 2 * U + j];
        const dz = d * (hPrev - hh) * dact(fr, z);
        const dr = (resetAfter ? da * aux[prev + j] : dRH[k + j] * hPrev) * dact(fr, rr);
        DP[g + j] = DR[q + j] = dz;
        DP[g + U + j] = DR[q + U + j] = dr;
        if (resetAfter) DR[q + 2 * U + j] = da * rr;
        dhNext[k + j] = take ? d * z + (resetAfter ? 0 : dRH[k + j] * rr) : dh[k + j];
      }
    }
    L.product(DRL, s * r * n, r, L.w('UzrT'), dhNextL, 0, true);
    [dhL, dhNextL] = [dhNextL, dhL];
  }
  scatter(DP, a.dz!, B, b0, r, GU, 0, T);
  scatter(DR, a.drec!, B, b0, r, n, 0, T);
  if (DA) scatter(DA, a.da!, B, b0, r, U, 0, T);
  scatter(dhL.data, a.dh!, B, b0, r, U, 0, 1);
}

// ---- SimpleRNN -----------------------------------------------------------------------------------

function simpleRnnForwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa } = job;
  const rU = r * U;
  const a = job.arrays;
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['P', T * rU],
      ['H', (T + 1) * rU],
      ['rec', rU],
      ['M', a.mask ? T * r : 0],
    ],
    [{ name: 'U', src: a.u, offset: 0, rs: U, cs: 1, k: U, n: U }],
  );
  const P = L.get('P').data,
    H = L.get('H'),
    rec = L.get('rec');
  const M = a.mask ? L.get('M').data : null;
  gather(a.z!, P, B, b0, r, U, 0, T);
  gather(a.hs!, H.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M, b0, r);
  const h = H.data,
    rc = rec.data;
  for (let s = 0; s < T; s++) {
    L.product(H, s * rU, r, L.w('U'), rec, 0, false);
    for (let b = 0; b < r; b++) {
      const k = b * U,
        prev = s * rU + k,
        next = prev + rU;
      const take = M === null || M[s * r + b] !== 0;
      for (let j = 0; j < U; j++) h[next + j] = take ? act(fa, P[prev + j] + rc[k + j]) : h[prev + j];
    }
  }
  scatter(h.subarray(rU), a.hs!, B, b0, r, U, 1, T);
}

function simpleRnnBackwardGroup(job: Job, b0: number, r: number, ctx: GroupContext): void {
  const { batch: B, timesteps: T, units: U, fa } = job;
  const rU = r * U;
  const a = job.arrays;
  const L = new Locals(
    ctx,
    job.simd,
    [
      ['H', (T + 1) * rU],
      ['GO', T * rU],
      ['DZ', T * rU],
      ['dh', rU],
      ['dhNext', rU],
      ['M', a.mask ? T * r : 0],
    ],
    [{ name: 'UT', src: a.u, offset: 0, rs: 1, cs: U, k: U, n: U }],
  );
  const h = L.get('H').data,
    GO = L.get('GO').data,
    DZL = L.get('DZ'),
    DZ = DZL.data;
  const M = a.mask ? L.get('M').data : null;
  let dhL = L.get('dh'),
    dhNextL = L.get('dhNext');
  gather(a.hs!, h, B, b0, r, U, 0, T + 1);
  gather(a.go!, GO, B, b0, r, U, 0, T);
  gather(a.dh!, dhL.data, B, b0, r, U, 0, 1);
  if (M) gatherMask(job, M, b0, r);
  for (let s = T - 1; s >= 0; s--) {
    const dh = dhL.data,
      dhNext = dhNextL.data;
    for (let b = 0; b < r; b++) {
      const k = b * U,
        next = (s + 1) * rU + k;
      const take = M === null || M[s * r + b] !== 0;
      for (let j = 0; j < U; j++) {
        DZ[s * rU + k + j] = take ? (dh[k + j] + GO[s * rU + k + j]) * dact(fa, h[next + j]) : 0;
        dhNext[k + j] = take ? 0 : dh[k + j];
      }
    }
    L.product(DZL, s * rU, r, L.w('UT'), dhNextL, 0, true);
    [dhL, dhNextL] = [dhNextL, dhL];
  }
  scatter(DZ, a.dz!, B, b0, r, U, 0, T);
  scatter(dhL.data, a.dh!, B, b0, r, U, 0, 1);
}
