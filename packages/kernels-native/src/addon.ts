/**
 * Finding and loading the compiled addon (build/Release/axon_native.node).
 *
 * Loading never throws: a missing or broken addon becomes a reason string,
 * which index.ts reports once and records with the backend registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type {
  AdamConfig, Conv2DInfo, Pool2DInfo, RmspropConfig, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo, SgdConfig, UnaryParams,
} from '@axon/tensor';

/** The functions the addon exports (native/src/addon.cc). Arrays are read and written in place. */
export interface NativeAddon {
  readonly napiVersion: number;
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, alpha: number, beta: number, strideA: number, strideB: number): void;
  /** C = A·B straight into cblas_sgemm: the benchmark's baseline for the binding overhead. */
  rawSgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number): void;
  unary(op: string, x: Float32Array, y: Float32Array, params?: UnaryParams): void;
  unaryGrad(op: string, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, params?: UnaryParams): void;
  binary(op: string, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    out: Float32Array, outShape: readonly number[]): void;
  select(cond: Float32Array, condShape: readonly number[], a: Float32Array, aShape: readonly number[],
    b: Float32Array, bShape: readonly number[], out: Float32Array, outShape: readonly number[]): void;
  reduce(op: string, x: Float32Array, out: Float32Array, outer: number, size: number, inner: number): void;
  argReduce(op: string, x: Float32Array, out: Int32Array, outer: number, size: number, inner: number): void;
  softmax(x: Float32Array, y: Float32Array, outer: number, size: number, inner: number, log: boolean): void;
  transpose(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void;
  slice(x: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Float32Array): void;
  pad(x: Float32Array, shape: readonly number[], padBefore: readonly number[], padAfter: readonly number[], value: number, out: Float32Array): void;
  concat(inputs: readonly Float32Array[], sizes: readonly number[], outer: number, inner: number, out: Float32Array): void;
  gather(x: Float32Array, indices: Int32Array, out: Float32Array, outer: number, size: number, inner: number): void;
  scatterAdd(dy: Float32Array, indices: Int32Array, dx: Float32Array, outer: number, size: number, inner: number): void;
  oneHot(indices: Int32Array, depth: number, onValue: number, offValue: number, out: Float32Array): void;
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, info: Conv2DInfo): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, info: Conv2DInfo): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dFilter: Float32Array, info: Conv2DInfo): void;
  maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, info: Pool2DInfo): void;
  maxPool2dBackprop(dy: Float32Array, argmax: Int32Array, dx: Float32Array, info: Pool2DInfo): void;
  avgPool2d(x: Float32Array, y: Float32Array, info: Pool2DInfo): void;
  avgPool2dBackprop(dy: Float32Array, dx: Float32Array, info: Pool2DInfo): void;
  sgdUpdate(param: Float32Array, grad: Float32Array, velocity: Float32Array | null, config: SgdConfig): void;
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, config: AdamConfig): void;
  rmspropUpdate(param: Float32Array, grad: Float32Array, meanSquare: Float32Array, mom: Float32Array | null,
    meanGrad: Float32Array | null, config: RmspropConfig): void;
  /** The fused recurrent kernels (native/src/recurrent.cc); absent from addons built before them. */
  lstmForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  lstmBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
  gruForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  gruBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
  simpleRnnForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  simpleRnnBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
  /** Threads of our pool and of OpenBLAS (0 = all cores); returns the count now in effect. */
  setNumThreads(n: number): number;
  getNumThreads(): number;
  /** Conv threading for measurements: 'auto' (default), 'batch' or 'blas' (see README). */
  setConvStrategy(strategy: 'auto' | 'batch' | 'blas'): void;
  blasInfo(): { config: string; corename: string; threads: number };
}

export type LoadResult = { addon: NativeAddon; path: string } | { addon: undefined; path: string; reason: string };

/** Where the build puts the addon; AXON_NATIVE_ADDON_PATH overrides it. */
export const defaultAddonPath = fileURLToPath(new URL('../build/Release/axon_native.node', import.meta.url));

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export function loadAddon(): LoadResult {
  const override = process.env.AXON_NATIVE_ADDON_PATH;
  const path = override || defaultAddonPath;
  if (!existsSync(path)) {
    // The build script leaves its reason next to where the addon would be: <build>/UNAVAILABLE.txt.
    const markerPath = join(dirname(dirname(path)), 'UNAVAILABLE.txt');
    if (existsSync(markerPath)) {
      return { addon: undefined, path, reason: `the addon was not built: ${firstLine(readFileSync(markerPath, 'utf8'))}` };
    }
    return { addon: undefined, path, reason: `no addon at ${path}` + (override ? ' (AXON_NATIVE_ADDON_PATH)' : ' (the build has not run)') };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (typeof addon?.gemm !== 'function') return { addon: undefined, path, reason: `${path} is not the Axon addon` };
    return { addon, path };
  } catch (e) {
    return { addon: undefined, path, reason: `the addon at ${path} failed to load: ${firstLine((e as Error).message)}` };
  }
}
