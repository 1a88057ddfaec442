/**
 * The WebAssembly SIMD kernels of this thread: one instance per module
 * instance, i.e. per JS thread (the main thread and each worker compile and
 * instantiate their own at load, synchronously). Its memory holds the packing
 * buffers and a heap the callers copy operands into; the heap grows on demand
 * and is never shrunk.
 *
 * Unavailable — and the pure-JS kernels used instead — when the engine has no
 * WebAssembly or no SIMD (the module fails to compile), or when the
 * environment variable AXON_WASM_SIMD is 0 (read once at load; worker threads
 * inherit it). A backend can also be made without it: createJsBackend({ simd: false }).
 */
import { HEAP } from './layout.js';
import { simdModuleBytes } from './module.js';

/** The slice of the WebAssembly JS API used here (@types/node 20 does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface Memory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

type GemmFn = (
  a: number,
  rsA: number,
  csA: number,
  b: number,
  rsB: number,
  csB: number,
  c: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  loadC: number,
) => void;

/** im2col / col2im (conv-module.ts): x, H, W, cin, oh, ow, fh, fw, sh, sw, dh, dw, padTop, padLeft, r0, count, col. */
type PatchFn = (...args: number[]) => void;

interface Kernels {
  memory: Memory;
  gemm: GemmFn;
  packB: (src: number, rs: number, cs: number, k: number, n: number, dst: number) => void;
  gemmPacked: (
    a: number,
    rsA: number,
    csA: number,
    bp: number,
    c: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    loadC: number,
  ) => void;
  im2col: PatchFn;
  col2im: PatchFn;
  lstmForwardStep: (...args: number[]) => void;
  lstmBackwardStep: (...args: number[]) => void;
  biasRelu: (x: number, bias: number, y: number, rows: number, channels: number, relu: number) => void;
  reluGrad: (y: number, dy: number, dx: number, n: number) => void;
  columnSums: (x: number, rows: number, channels: number, sums: number) => void;
  maxPool: (...args: number[]) => void;
  maxPoolBackprop: (dy: number, argmax: number, dx: number, nOut: number, nIn: number) => number;
  adam: (...args: number[]) => void;
}

/** Most bytes the memory may reach (the module's addresses are 32-bit; stay well inside). */
const MAX_BYTES = 1 << 30;

/** Test hook: a lower cap on this thread's memory, to send calls down the TypeScript fallback. */
export const simdTesting = { maxBytes: MAX_BYTES };

function load(): { kernels?: Kernels; why?: string } {
  const env = process.env.AXON_WASM_SIMD;
  if (env === '0' || env === 'false') return { why: `AXON_WASM_SIMD=${env}` };
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return { why: 'no WebAssembly in this engine' };
  try {
    const instance = new api.Instance(new api.Module(simdModuleBytes()), {});
    const e = instance.exports;
    return {
      kernels: {
        memory: e.memory as Memory,
        gemm: e.gemm as GemmFn,
        packB: e.packB as Kernels['packB'],
        gemmPacked: e.gemmPacked as Kernels['gemmPacked'],
        im2col: e.im2col as PatchFn,
        col2im: e.col2im as PatchFn,
        lstmForwardStep: e.lstmForwardStep as Kernels['lstmForwardStep'],
        lstmBackwardStep: e.lstmBackwardStep as Kernels['lstmBackwardStep'],
        biasRelu: e.biasRelu as Kernels['biasRelu'],
        reluGrad: e.reluGrad as Kernels['reluGrad'],
        columnSums: e.columnSums as Kernels['columnSums'],
        maxPool: e.maxPool as Kernels['maxPool'],
        maxPoolBackprop: e.maxPoolBackprop as Kernels['maxPoolBackprop'],
        adam: e.adam as Kernels['adam'],
      },
    };
  } catch (error) {
    return { why: `WebAssembly SIMD unavailable (${error instanceof Error ? error.message : String(error)})` };
  }
}

const loaded = load();
const kernels = loaded.kernels;

/** Whether this thread has the WebAssembly SIMD kernels. */
export const simdAvailable = kernels !== undefined;
/** Why not, when it has not. */
export const simdUnavailableReason = loaded.why;

let view = kernels ? new Float32Array(kernels.memory.buffer) : new Float32Array(0);

/**
 * The memory as float32s with room for `floats` values from HEAP on (grown
 * when needed; the view changes when it grows), or undefined when that would
 * pass the cap.
 */
export function heap(floats: number): Float32Array | undefined {
  const bytes = HEAP + 4 * floats;
  if (bytes > simdTesting.maxBytes) return undefined;
  const memory = kernels!.memory;
  if (memory.buffer.byteLength < bytes) {
    try {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    } catch {
      return undefined; // the engine could not allocate it: the caller takes the TypeScript path
    }
    view = new Float32Array(memory.buffer);
  }
  return view;
}

/** Float index of the heap's first value. */
export const HEAP_INDEX = HEAP / 4;

/**
 * C (m×n at float index c, row stride ldc) += alpha · op(A) · op(B), all at
 * float indices of the memory (see gemm-module.ts); loadC false: C = alpha · op(A) · op(B)
 * (C is not read).
 */
export function simdGemm(
  a: number,
  rsA: number,
  csA: number,
  b: number,
  rsB: number,
  csB: number,
  c: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  loadC: boolean,
): void {
  kernels!.gemm(4 * a, rsA, csA, 4 * b, rsB, csB, 4 * c, ldc, m, n, k, alpha, loadC ? 1 : 0);
}

/** Float alignment of the operands in the heap: a cache line. */
const LINE = 16;

/**
 * The first float index at or after `at` that lies at the same offset modulo a
 * cache line as `data[offset]`: V8 copies between equally aligned arrays
 * fastest.
 */
export function alignLike(at: number, data: Float32Array, offset = 0): number {
  const phase = (data.byteOffset / 4 + offset) % LINE;
  return Math.ceil(at / LINE) * LINE + phase;
}

/** Float index `at` rounded up to a 16-byte boundary (for arrays only the module reads). */
export function align4(at: number): number {
  return Math.ceil(at / 4) * 4;
}

/** The geometry a patch walk needs, as conv.ts's Geometry has it. */
export interface PatchGeometry {
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * col (float index) = the receptive fields of output rows [r0, r0 + count) of
 * x (float index; its first image is image 0 of the rows' numbering).
 */
export function simdIm2col(x: number, g: PatchGeometry, r0: number, count: number, col: number): void {
  kernels!.im2col(
    4 * x,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
    r0,
    count,
    4 * col,
  );
}

/** The adjoint of simdIm2col: x += the rows of col scattered back. */
export function simdCol2im(col: number, g: PatchGeometry, r0: number, count: number, x: number): void {
  kernels!.col2im(
    4 * x,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
    r0,
    count,
    4 * col,
  );
}

/** Floats that packed weights of k×n take (whole 8-column panels). */
export function packedSize(k: number, n: number): number {
  return Math.ceil(n / 8) * 8 * k;
}

/**
 * Packs op(B) (k×n; op(B)[p][j] at float index src + p·rs + j·cs) into panels
 * at float index dst (packedSize(k, n) floats, 16-byte aligned), for simdGemmPacked.
 */
export function simdPackB(src: number, rs: number, cs: number, k: number, n: number, dst: number): void {
  kernels!.packB(4 * src, rs, cs, k, n, 4 * dst);
}

/**
 * C (m×n at float index c, row stride ldc) (+)= op(A) · B with B packed by
 * simdPackB at bp; A (m×k) at float index a with row stride rsA and column
 * stride csA. accumulate false: C is written without being read. k >= 1.
 */
export function simdGemmPacked(
  a: number,
  rsA: number,
  csA: number,
  bp: number,
  c: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  accumulate: boolean,
): void {
  kernels!.gemmPacked(4 * a, rsA, csA, 4 * bp, 4 * c, ldc, m, n, k, 1, accumulate ? 1 : 0);
}

/** Activation codes of the recurrent kernels (recurrent-groups.ts's TANH ...). */
export interface GateCodes {
  fa: number;
  fr: number;
}

/**
 * One forward step of LSTM gate math for r rows (wasm/recurrent-module.ts),
 * float indices; mask -1 for none; U a multiple of 4.
 */
export function simdLstmForwardStep(
  z: number,
  rec: number,
  cPrev: number,
  hPrev: number,
  mask: number,
  r: number,
  U: number,
  codes: GateCodes,
): void {
  kernels!.lstmForwardStep(4 * z, 4 * rec, 4 * cPrev, 4 * hPrev, mask < 0 ? -1 : 4 * mask, r, U, codes.fa, codes.fr);
}

/** One backward step of LSTM gate math for r rows; tmp: U floats of scratch. */
export function simdLstmBackwardStep(
  z: number,
  cPrev: number,
  go: number,
  dh: number,
  dc: number,
  dz: number,
  dhNext: number,
  mask: number,
  r: number,
  U: number,
  codes: GateCodes,
  tmp: number,
): void {
  kernels!.lstmBackwardStep(
    4 * z,
    4 * cPrev,
    4 * go,
    4 * dh,
    4 * dc,
    4 * dz,
    4 * dhNext,
    mask < 0 ? -1 : 4 * mask,
    r,
    U,
    codes.fa,
    codes.fr,
    4 * tmp,
  );
}

// ---- layer epilogues and pooling (layer-module.ts): copy in, one call, copy out ----------------

/** y = x + bias[c] (then relu): false, having touched nothing, when the arrays do not fit. */
export function simdBiasActivation(
  x: Float32Array,
  bias: Float32Array,
  y: Float32Array,
  rows: number,
  channels: number,
  relu: boolean,
): boolean {
  const n = rows * channels;
  const xAt = alignLike(HEAP_INDEX, x),
    bAt = alignLike(xAt + n, bias),
    yAt = alignLike(bAt + channels, y);
  const mem = heap(yAt + n - HEAP_INDEX);
  if (!mem) return false;
  mem.set(x, xAt);
  mem.set(bias, bAt);
  kernels!.biasRelu(4 * xAt, 4 * bAt, 4 * yAt, rows, channels, relu ? 1 : 0);
  y.set(mem.subarray(yAt, yAt + n));
  return true;
}

/** dx = dy · (y > 0), and dBias = the column sums of dx (float64) when given. dx may be dy. */
export function simdReluGrad(
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dBias: Float32Array | null,
  rows: number,
  channels: number,
): boolean {
  const n = rows * channels;
  const yAt = alignLike(HEAP_INDEX, y),
    dyAt = alignLike(yAt + n, dy),
    dxAt = alignLike(dyAt + n, dx);
  const sumsAt = align4(dxAt + n);
  const mem = heap(sumsAt + 2 * channels - HEAP_INDEX);
  if (!mem) return false;
  mem.set(y, yAt);
  mem.set(dy, dyAt);
  kernels!.reluGrad(4 * yAt, 4 * dyAt, 4 * dxAt, n);
  if (dBias) {
    mem.fill(0, sumsAt, sumsAt + 2 * channels);
    kernels!.columnSums(4 * dxAt, rows, channels, 4 * sumsAt);
    const sums = new Float64Array(mem.buffer, 4 * sumsAt, channels);
    for (let c = 0; c < channels; c++) dBias[c] = sums[c]!;
  }
  dx.set(mem.subarray(dxAt, dxAt + n));
  return true;
}

/** Pooling geometry, as @axon/tensor's Pool2DInfo. */
export interface PoolGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** Max pooling with channels a multiple of 4 (the caller checks). */
export function simdMaxPool(x: Float32Array, y: Float32Array, argmax: Int32Array, g: PoolGeometry): boolean {
  const xAt = alignLike(HEAP_INDEX, x),
    yAt = alignLike(xAt + x.length, y);
  const aAt = align4(yAt + y.length);
  const mem = heap(aAt + argmax.length - HEAP_INDEX);
  if (!mem) return false;
  mem.set(x, xAt);
  kernels!.maxPool(
    4 * xAt,
    4 * yAt,
    4 * aAt,
    g.batch,
    g.inHeight,
    g.inWidth,
    g.channels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
  );
  y.set(mem.subarray(yAt, yAt + y.length));
  argmax.set(new Int32Array(mem.buffer, 4 * aAt, argmax.length));
  return true;
}

/**
 * dx = 0, then dx[argmax[i]] += dy[i] (skipping -1). Returns -1, or the first
 * i whose argmax is past dx (dx then untouched); undefined when the arrays do
 * not fit.
 */
export function simdMaxPoolBackprop(dy: Float32Array, argmax: Int32Array, dx: Float32Array): number | undefined {
  const dyAt = alignLike(HEAP_INDEX, dy),
    aAt = align4(dyAt + dy.length),
    dxAt = alignLike(aAt + argmax.length, dx);
  const mem = heap(dxAt + dx.length - HEAP_INDEX);
  if (!mem) return undefined;
  mem.set(dy, dyAt);
  new Int32Array(mem.buffer, 4 * aAt, argmax.length).set(argmax);
  const bad = kernels!.maxPoolBackprop(4 * dyAt, 4 * aAt, 4 * dxAt, dy.length, dx.length);
  if (bad < 0) dx.set(mem.subarray(dxAt, dxAt + dx.length));
  return bad;
}

/**
 * Adam's step on the first n values (n a multiple of 4) of the four arrays,
 * in float64 as optimizers.ts computes it. False when they do not fit.
 */
export function simdAdam(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  beta1: number,
  beta2: number,
  lrT: number,
  decay: number,
  epsilon: number,
): boolean {
  const pAt = alignLike(HEAP_INDEX, p),
    gAt = alignLike(pAt + n, g),
    mAt = alignLike(gAt + n, m),
    vAt = alignLike(mAt + n, v);
  const mem = heap(vAt + n - HEAP_INDEX);
  if (!mem) return false;
  mem.set(p.subarray(0, n), pAt);
  mem.set(g.subarray(0, n), gAt);
  mem.set(m.subarray(0, n), mAt);
  mem.set(v.subarray(0, n), vAt);
  kernels!.adam(4 * pAt, 4 * gAt, 4 * mAt, 4 * vAt, n, beta1, 1 - beta1, beta2, 1 - beta2, lrT, decay, epsilon);
  p.set(mem.subarray(pAt, pAt + n));
  m.set(mem.subarray(mAt, mAt + n));
  v.set(mem.subarray(vAt, vAt + n));
  return true;
}
