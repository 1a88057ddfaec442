/**
 * The fused recurrent kernels in the shapes the shared conformance suite does
 * not reach: several row groups (a batch past 16, with a last group of one
 * row), units a multiple of 4 (the WebAssembly gate math), every activation.
 * The pure-TypeScript path (simd off, one thread) is the one the conformance
 * suite checks against the reference; here the SIMD path must match it within
 * the suite's recurrent tolerances, and the threaded runs (workers on for
 * everything) must give the single-threaded bits.
 */
import type { CompleteHostBackend as Backend, RnnActivation, RnnBackwardArrays, RnnForwardArrays, RnnSequenceInfo } from '@axon/tensor';
import { Rng, assertClose } from '@axon/tensor/testing';
import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../src/index.js';
import { poolTesting } from '../src/threads.js';

type Kind = 'lstm' | 'gru' | 'simpleRnn';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3, simpleRnn: 1 };

interface Case {
  kind: Kind;
  batch: number;
  timesteps: number;
  inputSize: number;
  units: number;
  mask?: boolean;
  initial?: boolean;
  activation?: RnnActivation;
  recurrentActivation?: RnnActivation;
  returnSequences?: boolean;
  goBackwards?: boolean;
  zeroOutputForMask?: boolean;
  resetAfter?: boolean;
}

interface Result {
  forward: RnnForwardArrays;
  backward: RnnBackwardArrays;
}

function run(backend: Backend, c: Case, seed: number): Result {
  const rng = new Rng(seed);
  const { kind, batch: B, timesteps: T, inputSize: I, units: U } = c;
  const G = GATES[kind],
    GU = G * U;
  const info: RnnSequenceInfo = {
    batch: B,
    timesteps: T,
    inputSize: I,
    units: U,
    goBackwards: c.goBackwards ?? false,
    returnSequences: c.returnSequences ?? false,
    zeroOutputForMask: c.zeroOutputForMask ?? false,
    activation: c.activation ?? 'tanh',
    recurrentActivation: c.recurrentActivation ?? (kind === 'simpleRnn' ? 'tanh' : 'sigmoid'),
    resetAfter: c.resetAfter ?? false,
  };
  const mask = c.mask ? Float32Array.from({ length: B * T }, (_, i) => ((i * 7 + 3) % 5 === 0 ? 0 : 1)) : null;
  const outSize = info.returnSequences ? B * T * U : B * U;
  const forward: RnnForwardArrays = {
    x: rng.floats(B * T * I),
    kernel: rng.floats(I * GU, -0.5, 0.5),
    recurrentKernel: rng.floats(U * GU, -0.5, 0.5),
    bias: rng.floats((kind === 'gru' && info.resetAfter ? 2 : 1) * GU, -0.5, 0.5),
    h0: c.initial ? rng.floats(B * U) : null,
    c0: c.initial && kind === 'lstm' ? rng.floats(B * U) : null,
    mask,
    output: new Float32Array(outSize),
    hT: new Float32Array(B * U),
    cT: kind === 'lstm' ? new Float32Array(B * U) : null,
    hs: new Float32Array((T + 1) * B * U),
    cs: kind === 'lstm' ? new Float32Array((T + 1) * B * U) : null,
    gates: kind === 'simpleRnn' ? null : new Float32Array(T * B * GU),
    aux: kind === 'gru' ? new Float32Array(T * B * U) : null,
  };
  const backward: RnnBackwardArrays = {
    x: forward.x,
    kernel: forward.kernel,
    recurrentKernel: forward.recurrentKernel,
    mask,
    hs: forward.hs,
    cs: forward.cs,
    gates: forward.gates,
    aux: forward.aux,
    dOutput: rng.floats(outSize),
    dhT: rng.floats(B * U),
    dcT: kind === 'lstm' ? rng.floats(B * U) : null,
    dx: new Float32Array(B * T * I),
    dKernel: new Float32Array(I * GU),
    dRecurrentKernel: new Float32Array(U * GU),
    dBias: new Float32Array(forward.bias!.length),
    dh0: new Float32Array(B * U),
    dc0: kind === 'lstm' ? new Float32Array(B * U) : null,
  };
  const k = backend as unknown as Record<string, (a: unknown, i: RnnSequenceInfo) => void>;
  k[`${kind}Forward`]!(forward, info);
  k[`${kind}Backward`]!(backward, info);
  return { forward, backward };
}

const FORWARD_OUT = ['output', 'hT', 'cT', 'hs', 'cs', 'gates', 'aux'] as const;
const BACKWARD_OUT = ['dx', 'dKernel', 'dRecurrentKernel', 'dBias', 'dh0', 'dc0'] as const;

function compare(mine: Result, theirs: Result, exact: boolean, what: string): void {
  for (const name of FORWARD_OUT) {
    const [a, b] = [mine.forward[name], theirs.forward[name]];
    if (!a || !b) continue;
    if (exact) expect(a, `${what}: ${name}`).toEqual(b);
    else assertClose(a, b, 1e-4, 2e-5, `${what}: ${name}`);
  }
  for (const name of BACKWARD_OUT) {
    const [a, b] = [mine.backward[name], theirs.backward[name]];
    if (!a || !b) continue;
    if (exact) expect(a, `${what}: ${name}`).toEqual(b);
    else assertClose(a, b, 1e-3, 1e-4, `${what}: ${name}`);
  }
}

const cases: [string, Case][] = [];
for (const kind of ['lstm', 'gru', 'simpleRnn'] as const) {
  const variants: Partial<Case>[] = kind === 'gru' ? [{ resetAfter: true }, { resetAfter: false }] : [{}];
  for (const v of variants) {
    const tag = kind === 'gru' ? `${kind} resetAfter=${v.resetAfter}` : kind;
    cases.push(
      [
        `${tag}: B 33 (groups of 16, 16, 1), U 8, returnSequences`,
        { kind, batch: 33, timesteps: 6, inputSize: 5, units: 8, returnSequences: true, ...v },
      ],
      [
        `${tag}: B 20, U 12, mask, initial state, goBackwards`,
        {
          kind,
          batch: 20,
          timesteps: 7,
          inputSize: 3,
          units: 12,
          mask: true,
          initial: true,
          goBackwards: true,
          returnSequences: true,
          ...v,
        },
      ],
      [
        `${tag}: B 18, U 8, mask, last output, zeroOutputForMask`,
        { kind, batch: 18, timesteps: 5, inputSize: 4, units: 8, mask: true, zeroOutputForMask: true, ...v },
      ],
      [
        `${tag}: B 17, U 16, relu / hardSigmoid`,
        {
          kind,
          batch: 17,
          timesteps: 4,
          inputSize: 6,
          units: 16,
          activation: 'relu',
          recurrentActivation: 'hardSigmoid',
          returnSequences: true,
          ...v,
        },
      ],
      [
        `${tag}: B 17, U 4, linear / tanh`,
        { kind, batch: 17, timesteps: 4, inputSize: 6, units: 4, activation: 'linear', recurrentActivation: 'tanh', ...v },
      ],
      [
        `${tag}: B 40, U 7 (not a multiple of 4), mask`,
        { kind, batch: 40, timesteps: 5, inputSize: 3, units: 7, mask: true, initial: true, returnSequences: true, ...v },
      ],
      [`${tag}: B 20, no inputs`, { kind, batch: 20, timesteps: 3, inputSize: 0, units: 4, returnSequences: true, ...v }],
      [`${tag}: B 20, no units`, { kind, batch: 20, timesteps: 3, inputSize: 3, units: 0, ...v }],
      [`${tag}: empty batch`, { kind, batch: 0, timesteps: 3, inputSize: 3, units: 4, ...v }],
    );
  }
}

const plain = createJsBackend({ threads: 1, simd: false });
const simd = createJsBackend({ threads: 1 });
const plainThreaded = createJsBackend({ threads: 2, parallelThreshold: 0, simd: false });
const simdThreaded = createJsBackend({ threads: 2, parallelThreshold: 0 });

describe('recurrent kernels beyond the conformance shapes', () => {
  cases.forEach(([name, c], i) => {
    it(`SIMD matches pure TypeScript: ${name}`, () => compare(run(simd, c, 100 + i), run(plain, c, 100 + i), false, name));
    it(`threads give the single-threaded bits (simd on): ${name}`, () =>
      compare(run(simdThreaded, c, 200 + i), run(simd, c, 200 + i), true, name));
    it(`threads give the single-threaded bits (simd off): ${name}`, () =>
      compare(run(plainThreaded, c, 300 + i), run(plain, c, 300 + i), true, name));
  });

  it('had the worker run row groups', () => {
    // The workers run dist/worker.js: this needs the package built (as threads.test.ts does).
    expect(poolTesting.pool()?.stats().workerChunks ?? 0).toBeGreaterThan(0);
  });
});
