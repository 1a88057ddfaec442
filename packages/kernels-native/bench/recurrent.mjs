#!/usr/bin/env node
// Times the fused recurrent kernels on the seed model's two recurrent layers:
// RNN(64, returnSequences) -> RNN(64) on x [B, 28, 28], for LSTM and GRU
// (resetAfter true and false) and SimpleRNN. The arrays objects are built the
// way @axon/tensor's fusedSequence (ops/recurrent.ts) builds them in training:
// the first layer gets no dx (its input needs no gradient) and neither layer
// has an initial state; dhT/dcT are present (views of the packed gradient, zero
// here because the final states feed nothing).
//
// Each figure is the best of several rounds (the machine may be shared: each
// round starts once it is quiet), each round the median of repeated calls. GFLOP/s counts the GEMM work only:
// forward 2·B·T·(I+U)·G·U per layer; backward dh' 2·B·T·U·GU, dU 2·B·T·U·GU,
// dW 2·B·T·I·GU and dx (layer 2) 2·B·T·I·GU.
//
// Usage: node bench/recurrent.mjs [--quick] [--threads N] [--kinds lstm,gru,gruRa,rnn] [--batches 32,128,256]
//        (after building the package; OPENBLAS_CORETYPE=Haswell on this machine)
import { blasInfo, createNativeBackend, getNumThreads, nativeAvailable, nativeUnavailableReason, setNumThreads } from '../dist/index.js';
import { busy } from './busy.mjs';

if (!nativeAvailable) {
  console.log(`native addon unavailable: ${nativeUnavailableReason}`);
  process.exit(0);
}
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
if (opt('threads')) setNumThreads(Number(opt('threads')));
const kinds = opt('kinds', 'lstm,gruRa,gru,rnn').split(',');
const batches = opt('batches', '32,128,256').split(',').map(Number);
const rounds = quick ? 3 : 11;

const be = createNativeBackend();
const o = be;
if (!o.lstmForward) {
  console.log('this build has no fused recurrent kernels');
  process.exit(0);
}

let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const floats = (n, scale = 1) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
};

const T = 28,
  I0 = 28,
  U = 64;
const KINDS = {
  lstm: { G: 4, fwd: o.lstmForward, bwd: o.lstmBackward, resetAfter: false, label: 'LSTM' },
  gruRa: { G: 3, fwd: o.gruForward, bwd: o.gruBackward, resetAfter: true, label: 'GRU resetAfter' },
  gru: { G: 3, fwd: o.gruForward, bwd: o.gruBackward, resetAfter: false, label: 'GRU' },
  rnn: { G: 1, fwd: o.simpleRnnForward, bwd: o.simpleRnnBackward, resetAfter: false, label: 'SimpleRNN' },
};

/** One layer's arrays, as fusedSequence allocates them. */
function layer(kind, B, I, returnSequences, wantDx, x) {
  const k = KINDS[kind];
  const G = k.G,
    isLstm = kind === 'lstm';
  const info = {
    batch: B,
    timesteps: T,
    inputSize: I,
    units: U,
    goBackwards: false,
    returnSequences,
    zeroOutputForMask: false,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    resetAfter: k.resetAfter,
  };
  const outputSize = returnSequences ? B * T * U : B * U;
  const packed = new Float32Array(outputSize + (isLstm ? 2 : 1) * B * U);
  const fwd = {
    x,
    kernel: floats(I * G * U, Math.sqrt(6 / (I + G * U))),
    recurrentKernel: floats(U * G * U, Math.sqrt(3 / U)),
    bias: floats((k.resetAfter ? 2 : 1) * G * U, 0.1),
    h0: null,
    c0: null,
    mask: null,
    output: packed.subarray(0, outputSize),
    hT: packed.subarray(outputSize, outputSize + B * U),
    cT: isLstm ? packed.subarray(outputSize + B * U) : null,
    hs: new Float32Array((T + 1) * B * U),
    cs: isLstm ? new Float32Array((T + 1) * B * U) : null,
    gates: kind === 'rnn' ? null : new Float32Array(T * B * G * U),
    aux: kind.startsWith('gru') ? new Float32Array(T * B * U) : null,
  };
  const dPacked = new Float32Array(packed.length);
  dPacked.set(floats(outputSize, 0.01));
  const bwd = {
    x,
    kernel: fwd.kernel,
    recurrentKernel: fwd.recurrentKernel,
    mask: null,
    hs: fwd.hs,
    cs: fwd.cs,
    gates: fwd.gates,
    aux: fwd.aux,
    dOutput: dPacked.subarray(0, outputSize),
    dhT: dPacked.subarray(outputSize, outputSize + B * U),
    dcT: isLstm ? dPacked.subarray(outputSize + B * U) : null,
    dx: wantDx ? new Float32Array(B * T * I) : null,
    dKernel: new Float32Array(fwd.kernel.length),
    dRecurrentKernel: new Float32Array(fwd.recurrentKernel.length),
    dBias: new Float32Array(fwd.bias.length),
    dh0: null,
    dc0: null,
  };
  const GU = G * U;
  const flopFwd = 2 * B * T * (I + U) * GU;
  const flopBwd = 2 * B * T * (2 * U + I + (wantDx ? I : 0)) * GU;
  return { info, fwd, bwd, flopFwd, flopBwd, run: { fwd: k.fwd, bwd: k.bwd } };
}

function model(kind, B) {
  const l1 = layer(kind, B, I0, true, false, floats(B * T * I0));
  const l2 = layer(kind, B, U, false, true, l1.fwd.output);
  return {
    forward() {
      l1.run.fwd(l1.fwd, l1.info);
      l2.run.fwd(l2.fwd, l2.info);
    },
    backward() {
      l2.run.bwd(l2.bwd, l2.info);
      l1.run.bwd(l1.bwd, l1.info);
    },
    flopFwd: l1.flopFwd + l2.flopFwd,
    flopBwd: l1.flopBwd + l2.flopBwd,
  };
}

/** Other processes share this machine: wait (up to maxWait ms) until it is quiet before a round. */
let noisy = 0;
function waitQuiet(maxWait = quick ? 5_000 : 60_000) {
  const end = Date.now() + maxWait;
  while (Date.now() < end) if (busy(200) < 0.1) return;
  noisy++;
}

/** Best over rounds of the median ms of fn (after a warm-up), each round started on a quiet machine. */
function time(fn) {
  for (let i = 0; i < 3; i++) fn();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    waitQuiet();
    // Warm up again after the idle wait (clocks, sleeping pool threads).
    for (const until = performance.now() + 50; performance.now() < until; ) fn();
    const samples = [];
    const start = performance.now();
    while (samples.length < 5 || (performance.now() - start < (quick ? 60 : 200) && samples.length < 200)) {
      const t0 = performance.now();
      fn();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    best = Math.min(best, samples[samples.length >> 1]);
  }
  return best;
}

console.log(`OpenBLAS: ${blasInfo()?.config}; threads ${getNumThreads()}; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}`);
console.log(`two layers RNN(${U}, returnSequences) -> RNN(${U}) on x [B, ${T}, ${I0}], fused kernels only; best of ${rounds} medians`);
const rows = [];
for (const kind of kinds) {
  for (const B of batches) {
    const m = model(kind, B);
    m.forward();
    const tf = time(() => m.forward());
    const tb = time(() => m.backward());
    const tfb = time(() => {
      m.forward();
      m.backward();
    });
    rows.push({
      layers: KINDS[kind].label,
      batch: B,
      'fwd ms': tf.toFixed(2),
      'bwd ms': tb.toFixed(2),
      'fwd+bwd ms': tfb.toFixed(2),
      'fwd GFLOP/s': (m.flopFwd / tf / 1e6).toFixed(1),
      'bwd GFLOP/s': (m.flopBwd / tb / 1e6).toFixed(1),
      'fwd+bwd GFLOP/s': ((m.flopFwd + m.flopBwd) / tfb / 1e6).toFixed(1),
    });
  }
}
console.table(rows);
if (noisy) console.log(`(${noisy} round(s) started while the machine was still busy)`);
