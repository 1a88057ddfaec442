/** The SIMD module's bytes: every generated function, in the order of FN (layout.ts). */
import { assemble, type Func } from './assembler.js';
import { addRun, col2im, copyRun, im2col, zeroRun } from './conv-module.js';
import { gemm, gemmPacked, macro, packA, packB } from './gemm-module.js';
import { adam, biasRelu, columnSums, maxPool, maxPoolBackprop, reluGrad } from './layer-module.js';
import { FN, HEAP } from './layout.js';
import { actRun, dactRun, lstmBackwardStep, lstmForwardStep } from './recurrent-module.js';

export function simdModuleBytes(): Uint8Array {
  const functions: Record<keyof typeof FN, Func> = {
    packA: packA(),
    packB: packB(),
    macro: macro(),
    gemm: gemm(),
    copyRun: copyRun(),
    zeroRun: zeroRun(),
    addRun: addRun(),
    im2col: im2col(),
    col2im: col2im(),
    gemmPacked: gemmPacked(),
    actRun: actRun(),
    dactRun: dactRun(),
    lstmForwardStep: lstmForwardStep(),
    lstmBackwardStep: lstmBackwardStep(),
    biasRelu: biasRelu(),
    reluGrad: reluGrad(),
    columnSums: columnSums(),
    maxPool: maxPool(),
    maxPoolBackprop: maxPoolBackprop(),
    adam: adam(),
  };
  const ordered = Object.entries(FN)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => [name, functions[name as keyof typeof FN]] as const);
  return assemble(Math.ceil(HEAP / 65536) + 16, 16384, Object.fromEntries(ordered));
}
