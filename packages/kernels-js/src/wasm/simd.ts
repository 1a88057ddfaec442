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
import { HEAP, gemmModuleBytes } from './gemm-module.js';

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
  a: number, rsA: number, csA: number, b: number, rsB: number, csB: number,
  c: number, ldc: number, m: number, n: number, k: number, alpha: number,
) => void;

interface Kernels {
  memory: Memory;
  gemm: GemmFn;
}

/** Most bytes the heap may reach (the module's addresses are 32-bit; stay well inside). */
const MAX_BYTES = 1 << 30;

function load(): { kernels?: Kernels; why?: string } {
  const env = process.env.AXON_WASM_SIMD;
  if (env === '0' || env === 'false') return { why: `AXON_WASM_SIMD=${env}` };
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return { why: 'no WebAssembly in this engine' };
  try {
    const instance = new api.Instance(new api.Module(gemmModuleBytes()), {});
    const e = instance.exports;
    return { kernels: { memory: e.memory as Memory, gemm: e.gemm as GemmFn } };
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
  if (bytes > MAX_BYTES) return undefined;
  const memory = kernels!.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    view = new Float32Array(memory.buffer);
  }
  return view;
}

/** Float index of the heap's first value. */
export const HEAP_INDEX = HEAP / 4;

/** C (m×n at float index c, row stride ldc) += alpha · op(A) · op(B), all at float indices of the memory (see gemm-module.ts). */
export function simdGemm(
  a: number, rsA: number, csA: number, b: number, rsB: number, csB: number,
  c: number, ldc: number, m: number, n: number, k: number, alpha: number,
): void {
  kernels!.gemm(4 * a, rsA, csA, 4 * b, rsB, csB, 4 * c, ldc, m, n, k, alpha);
}
