/**
 * Data-parallel training over Open MPI (@axon/distributed), measured on this machine and scaled on
 * paper with the α-β model of a ring all-reduce:
 *
 *   a. blocking allReduce(sum, float32) with 2 ranks over shared memory, 4 KiB to 64 MiB and the
 *      seed CNN's and LSTM's gradient sizes (median of repetitions after warm-up), and the same
 *      over TCP loopback (--mca btl tcp,self) for reference;
 *   b. fit throughput of the seed CNN (global batch 32, 64) and LSTM (128): 1 process × 2 threads
 *      vs 2 ranks × 1 thread (mpirun, distributed: dataParallel()), with 1 × 1 for reference, and
 *      where a 2 × 1 step goes: one rank's half batch alone and two side by side without MPI, the
 *      time each step blocks on gradient communication and on fit's small per-step collectives;
 *   c. α and β of T(n, p) = 2(p−1)·α + 2(p−1)/p·n·β fitted to the 2-rank sweep;
 *   d. the per-step time and scaling efficiency of the seed CNN at 32 samples per worker (weak
 *      scaling) for 8, 64 and 512 workers on 10, 25 and 100 Gb/s Ethernet, without and with the
 *      communication overlapped with the backward pass.
 *
 * Every configuration runs in its own process (src/distributed-worker.js), interleaved over rounds;
 * a figure is its best round. Skips (one line) without mpirun or the MPI binding.
 *
 *   node src/distributed.js [--quick]     (also run by src/run.js as part of `pnpm bench`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '@axon/kernels-native';
import { seedCnn, seedLstm } from './seed-models.js';
import { fmt, printTable } from './harness.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const WORKER = fileURLToPath(new URL('./distributed-worker.js', import.meta.url));
const DISTRIBUTED = '@axon/distributed';
const MPIRUN = ['--allow-run-as-root', '--oversubscribe'];

/** The fit workloads of (b): global batch, steps timed after warm-up. */
const WORKLOADS = [
  { model: 'cnn', batch: 32, steps: quick ? 20 : 100, warmup: quick ? 3 : 10 },
  { model: 'cnn', batch: 64, steps: quick ? 12 : 60, warmup: quick ? 3 : 6 },
  { model: 'lstm', batch: 128, steps: quick ? 8 : 40, warmup: quick ? 2 : 5 },
];
/** The configurations of (b), each run once per round. */
const CONFIGS = [
  { id: '1x2', title: '1 process × 2 threads', ranks: 1, threads: 2 },
  { id: '2x1', title: '2 ranks × 1 thread (mpirun)', ranks: 2, threads: 1, distributed: true },
  { id: '1x1', title: '1 process × 1 thread', ranks: 1, threads: 1 },
  // One rank's half of each global batch: alone, then two independent copies side by side (mpirun,
  // no MPI calls): what a 2 × 1 step would take without communication, and with the two processes
  // sharing the machine (caches, memory bandwidth, the V8 and MPI helper threads) but never waiting.
  { id: 'half', ranks: 1, threads: 1, half: true },
  // ... and alone as the only rank of a data-parallel job (mpirun -np 1): fit's distributed path
  // (gradient buckets, the communication thread, the per-step collectives) without a peer.
  { id: 'half1', ranks: 1, threads: 1, half: true, distributed: true },
  { id: 'half2', ranks: 2, threads: 1, half: true },
];
const NETWORKS_GBPS = [10, 25, 100];
const WORKERS = [8, 64, 512];
const PER_WORKER_BATCH = 32;
/** A typical one-way latency of a TCP hop between hosts, the floor of α for a real network. */
const TCP_ALPHA = 20e-6;

/** Why the benchmark cannot run here, or null. */
async function unavailable() {
  const probe = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'mpirun is not on PATH';
  const mpi = await import(DISTRIBUTED).catch((e) => ({ mpiAvailable: false, mpiUnavailableReason: e.message }));
  if (!mpi.mpiAvailable) return `@axon/distributed: ${mpi.mpiUnavailableReason}`;
  return null;
}

/** Runs the worker (under mpirun for several ranks or a distributed run) and returns rank 0's RESULT. */
function runWorker(mode, args, { ranks, threads, distributed = false, mca = [] }) {
  const env = { ...process.env, AXON_NUM_THREADS: String(threads) };
  const worker = [WORKER, mode, JSON.stringify(args)];
  const forward = ['AXON_NUM_THREADS', ...(env.OPENBLAS_CORETYPE ? ['OPENBLAS_CORETYPE'] : [])].flatMap((k) => ['-x', k]);
  const [command, argv] =
    ranks > 1 || distributed
      ? ['mpirun', [...MPIRUN, ...mca, '-np', String(ranks), ...forward, process.execPath, ...worker]]
      : [process.execPath, worker];
  const r = spawnSync(command, argv, { env, encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    throw new Error(
      `distributed: ${command} ${mode} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${r.stderr?.slice(-2000)}`,
    );
  }
  return JSON.parse(line.slice('RESULT '.length));
}

const gradientBytes = (build) => 4 * build().trainableWeights.reduce((n, w) => n + w.size, 0);

/** α, β of T = 2(p−1)α + 2(p−1)/p·n·β, least squares on the relative error (each point weighted by 1/t²). */
function fitAlphaBeta(points, p) {
  const la = 2 * (p - 1);
  const lb = (2 * (p - 1)) / p;
  let suu = 0;
  let suv = 0;
  let svv = 0;
  let su = 0;
  let sv = 0;
  for (const { bytes, seconds } of points) {
    const u = la / seconds;
    const v = (lb * bytes) / seconds;
    suu += u * u;
    suv += u * v;
    svv += v * v;
    su += u;
    sv += v;
  }
  const det = suu * svv - suv * suv;
  const alpha = (su * svv - sv * suv) / det;
  const beta = (suu * sv - suv * su) / det;
  const model = (bytes) => la * alpha + lb * bytes * beta;
  const maxRelErr = Math.max(...points.map(({ bytes, seconds }) => Math.abs(model(bytes) - seconds) / seconds));
  return { alpha, beta, maxRelErr, model };
}

/** Ring all-reduce time (s) of `bytes` over p workers. */
const ring = (bytes, p, alpha, beta) => 2 * (p - 1) * alpha + ((2 * (p - 1)) / p) * bytes * beta;
/** Rabenseifner (reduce-scatter + all-gather by recursive halving/doubling): the same bytes, 2·log2(p) messages. */
const rabenseifner = (bytes, p, alpha, beta) => 2 * Math.ceil(Math.log2(p)) * alpha + ((2 * (p - 1)) / p) * bytes * beta;

const sizeLabel = (bytes) =>
  bytes >= 1 << 20 && bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : bytes % 1024 === 0 ? `${bytes >> 10} KiB` : `${bytes} B`;

export async function runDistributedBenchmarks() {
  const why = await unavailable();
  if (why) {
    console.log(`\nDistributed: skipped (${why})`);
    return { skipped: why };
  }
  const grads = { cnn: gradientBytes(seedCnn), lstm: gradientBytes(seedLstm) };
  const sweepSizes = [];
  for (let bytes = 4 << 10; bytes <= 64 << 20; bytes *= 4) sweepSizes.push(bytes);
  const sizes = [...sweepSizes, grads.cnn, grads.lstm].sort((a, b) => a - b);

  // Interleaved rounds: the sweep, then each configuration, once per round; keep each one's best.
  const sweepBest = new Map();
  const tcpBest = new Map();
  const trainBest = new Map();
  let library = null;
  let parts = null;
  for (let round = 0; round < ROUNDS; round++) {
    const budgetMs = quick ? 60 : 250;
    const sweep = runWorker('allreduce', { sizes, budgetMs }, { ranks: 2, threads: 1 });
    library = sweep.library;
    for (const row of sweep.rows) if (!(sweepBest.get(row.bytes)?.us <= row.us)) sweepBest.set(row.bytes, row);
    // The same over the kernel's TCP loopback (no shared memory): what a TCP stack adds to α.
    const tcp = runWorker('allreduce', { sizes, budgetMs }, { ranks: 2, threads: 1, mca: ['--mca', 'btl', 'tcp,self'] });
    for (const row of tcp.rows) if (!(tcpBest.get(row.bytes)?.us <= row.us)) tcpBest.set(row.bytes, row);
    for (const c of CONFIGS) {
      const args = {
        workloads: c.half ? WORKLOADS.map((w) => ({ ...w, batch: w.batch / 2 })) : WORKLOADS,
        distributed: c.distributed ?? false,
        ...(c.id === '1x2' ? { parts: { model: 'cnn', batch: PER_WORKER_BATCH } } : {}),
      };
      const result = runWorker('train', args, c);
      for (const row of result.rows) {
        const key = `${c.id} ${row.model} ${row.batch}`;
        if (!(trainBest.get(key)?.stepMs <= row.stepMs)) trainBest.set(key, row);
      }
      if (result.parts && !(parts?.stepMs <= result.parts.stepMs)) parts = result.parts;
    }
  }

  // (a) the sweep.
  const p2 = 2;
  const allreduce = sizes.map((bytes) => {
    const { us, reps } = sweepBest.get(bytes);
    const which = bytes === grads.cnn ? ' (seed CNN grads)' : bytes === grads.lstm ? ' (seed LSTM grads)' : '';
    const bandwidth = (t) => (((2 * (p2 - 1)) / p2) * bytes) / (t * 1e-6) / 1e9;
    const tcpUs = tcpBest.get(bytes).us;
    return { size: `${sizeLabel(bytes)}${which}`, bytes, reps, us, gbps: bandwidth(us), tcpUs, tcpGbps: bandwidth(tcpUs) };
  });
  // (c) the fit, on every point of the sweep; for reference, on the sizes that stay in cache
  // (≤ 4 MiB, where both seed models' gradients are) and over TCP loopback.
  const points = (rows, key) => rows.map((r) => ({ bytes: r.bytes, seconds: r[key] * 1e-6 }));
  const fit = fitAlphaBeta(points(allreduce, 'us'), p2);
  const inCache = allreduce.filter((r) => r.bytes <= 4 << 20);
  const cacheFit = fitAlphaBeta(points(inCache, 'us'), p2);
  const tcpFit = fitAlphaBeta(points(allreduce, 'tcpUs'), p2);
  for (const r of allreduce) {
    r.modelUs = fit.model(r.bytes) * 1e6;
    r.error = (r.modelUs - r.us) / r.us;
  }
  printTable(
    `All-reduce (sum, float32, blocking allReduce), 2 ranks over shared memory, ${library}; median µs, best of ${ROUNDS} rounds`,
    [
      { key: 'size', title: 'size' },
      { key: 'reps', title: 'reps' },
      { key: 'us', title: 'µs', format: (v) => fmt(v, 1) },
      { key: 'gbps', title: 'GB/s (2(p−1)/p·n/t)', format: (v) => fmt(v, 2) },
      { key: 'modelUs', title: 'α-β model µs', format: (v) => fmt(v, 1) },
      { key: 'error', title: 'model error', format: (v) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(0)}%` },
      { key: 'tcpUs', title: 'TCP loopback µs', format: (v) => fmt(v, 1) },
      { key: 'tcpGbps', title: 'TCP GB/s', format: (v) => fmt(v, 2) },
    ],
    allreduce,
  );
  const describe = (f, what, count) =>
    `${what} (least squares on relative error, ${count} sizes): α = ${fmt(f.alpha * 1e6, 2)} µs, ` +
    `β = ${(f.beta * 1e12).toFixed(1)} ps/byte (1/β = ${fmt(1 / f.beta / 1e9, 2)} GB/s); max relative error ${(100 * f.maxRelErr).toFixed(0)}%`;
  console.log(describe(fit, 'fit, shared memory, whole sweep', allreduce.length));
  console.log(describe(cacheFit, 'fit, shared memory, ≤ 4 MiB', inCache.length));
  console.log(describe(tcpFit, 'fit, TCP loopback, whole sweep', allreduce.length));

  // (b) training throughput.
  const training = WORKLOADS.map((w) => {
    const row = { workload: `${w.model} b${w.batch}`, model: w.model, batch: w.batch };
    for (const c of CONFIGS) row[c.id] = trainBest.get(`${c.id} ${w.model} ${c.half ? w.batch / 2 : w.batch}`);
    return row;
  });
  const throughputConfigs = CONFIGS.filter((c) => c.title);
  const ratio = (a, b) => (_v, r) => `${fmt(r[a].samplesPerSecond / r[b].samplesPerSecond, 2)}x`;
  printTable(
    `Seed models, fit samples/s at the global batch (median step after warm-up, best of ${ROUNDS} interleaved rounds); 2 cores`,
    [
      { key: 'workload', title: 'global batch' },
      ...throughputConfigs.map((c) => ({ key: c.id, title: c.title, format: (v) => fmt(v.samplesPerSecond, 0) })),
      { key: '2x1', title: '2×1 / 1×2', format: ratio('2x1', '1x2') },
      { key: '1x2', title: '1×2 / 1×1', format: ratio('1x2', '1x1') },
      { key: '2x1', title: '2×1 / 1×1', format: ratio('2x1', '1x1') },
    ],
    training,
  );
  const ms = (v) => fmt(v, 3);
  printTable(
    "Where a 2 × 1 step goes (ms per step, rank 0): one rank's half batch alone, two of them side by side, then data-parallel",
    [
      { key: 'workload', title: 'global batch' },
      { key: 'half', title: 'half alone (1×1)', format: (v) => ms(v.stepMs) },
      { key: 'half1', title: 'half, data-parallel on 1 rank', format: (v) => ms(v.stepMs) },
      { key: 'half2', title: '2 halves side by side', format: (v) => ms(v.stepMs) },
      { key: '2x1', title: '2 ranks data-parallel', format: (v) => ms(v.stepMs) },
      { key: '2x1', title: 'grad wait median (mean)', format: (v) => `${ms(v.gradWaitMs)} (${ms(v.gradWaitMeanMs)})` },
      { key: '2x1', title: 'loss+stop sync median (mean)', format: (v) => `${ms(v.syncMs)} (${ms(v.syncMeanMs)})` },
      { key: 'model', title: 'allReduce(grads) alone', format: (m) => ms(sweepBest.get(grads[m]).us / 1000) },
      { key: '2x1', title: 'last bucket start→wait, 1 rank / 2', format: (v, r) => `${ms(r.half1.tailMs)} / ${ms(v.tailMs)}` },
    ],
    training,
  );
  const bwdFraction = parts.backwardMs / parts.stepMs;
  console.log(
    `seed CNN step at batch ${parts.batch}, 1 × 2 threads (trainOnBatch, median): ${fmt(parts.stepMs, 2)} ms = forward ${fmt(parts.forwardMs, 2)} ` +
      `+ backward ${fmt(parts.backwardMs, 2)} (${(100 * bwdFraction).toFixed(0)}%) + Adam update ${fmt(parts.updateMs, 2)}`,
  );

  // (d) the model's predictions: a worker is this machine (1 process × 2 threads) at 32 samples per step.
  const computeS = training[0]['1x2'].stepMs / 1000; // fit, global batch 32 = per-worker batch 32
  const computePerSample = computeS / PER_WORKER_BATCH;
  const overlapS = bwdFraction * computeS;
  const alphaNet = Math.max(fit.alpha, TCP_ALPHA);
  const predictions = [];
  for (const gbps of NETWORKS_GBPS) {
    const beta = 8 / (gbps * 1e9);
    for (const p of WORKERS) {
      const comm = ring(grads.cnn, p, alphaNet, beta);
      // fit's two small collectives per step (loss all-reduce, stop-flag broadcast): tree, log2(p) hops each.
      const sync = 2 * Math.ceil(Math.log2(p)) * alphaNet;
      const noOverlap = computeS + comm + sync;
      const overlapped = computeS + Math.max(0, comm - overlapS) + sync;
      const rab = computeS + rabenseifner(grads.cnn, p, alphaNet, beta) + sync;
      predictions.push({
        network: `${gbps} Gb/s`,
        gbps,
        workers: p,
        commMs: comm * 1000,
        alphaMs: 2 * (p - 1) * alphaNet * 1000,
        syncMs: sync * 1000,
        stepMs: noOverlap * 1000,
        efficiency: computeS / noOverlap,
        overlapStepMs: overlapped * 1000,
        overlapEfficiency: computeS / overlapped,
        samplesPerSecond: (p * PER_WORKER_BATCH) / overlapped,
        rabenseifnerEfficiency: computeS / rab,
      });
    }
  }
  const alphaWhy =
    fit.alpha >= TCP_ALPHA ? 'the measured loopback α (larger)' : `${TCP_ALPHA * 1e6} µs, a TCP hop (larger than the loopback α)`;
  printTable(
    `Seed CNN, predicted step at ${PER_WORKER_BATCH} samples per worker (weak scaling): compute ${fmt(computeS * 1000, 2)} ms ` +
      `(${fmt(computePerSample * 1e6, 0)} µs/sample, 1 × 2 threads), gradients ${grads.cnn} bytes in one ring all-reduce, ` +
      `α = ${alphaWhy}, β = 8/rate; overlap hides up to the backward pass (${fmt(overlapS * 1000, 2)} ms)`,
    [
      { key: 'network', title: 'network' },
      { key: 'workers', title: 'workers' },
      { key: 'commMs', title: 'all-reduce ms', format: (v) => fmt(v, 2) },
      { key: 'alphaMs', title: 'of which α ms', format: (v) => fmt(v, 2) },
      { key: 'syncMs', title: 'sync ms', format: (v) => fmt(v, 2) },
      { key: 'stepMs', title: 'step ms, no overlap', format: (v) => fmt(v, 2) },
      { key: 'efficiency', title: 'efficiency', format: (v) => `${(100 * v).toFixed(0)}%` },
      { key: 'overlapStepMs', title: 'step ms, overlap', format: (v) => fmt(v, 2) },
      { key: 'overlapEfficiency', title: 'efficiency', format: (v) => `${(100 * v).toFixed(0)}%` },
      { key: 'samplesPerSecond', title: 'samples/s, overlap', format: (v) => fmt(v, 0) },
      { key: 'rabenseifnerEfficiency', title: 'eff., 2·log2(p)·α, no overlap', format: (v) => `${(100 * v).toFixed(0)}%` },
    ],
    predictions,
  );

  return {
    mpi: library,
    rounds: ROUNDS,
    gradientBytes: grads,
    allreduce: allreduce.map(({ bytes, reps, us, gbps, modelUs, tcpUs, tcpGbps }) => ({ bytes, reps, us, gbps, modelUs, tcpUs, tcpGbps })),
    fit: Object.fromEntries(
      [
        ['sharedMemory', fit],
        ['sharedMemoryInCache', cacheFit],
        ['tcpLoopback', tcpFit],
      ].map(([k, f]) => [k, { alpha: f.alpha, beta: f.beta, maxRelErr: f.maxRelErr }]),
    ),
    ranks: p2,
    training: training.map((r) => ({ model: r.model, batch: r.batch, ...Object.fromEntries(CONFIGS.map((c) => [c.id, r[c.id]])) })),
    stepParts: { ...parts, backwardFraction: bwdFraction },
    model: {
      alpha: alphaNet,
      alphaSource: fit.alpha >= TCP_ALPHA ? 'loopback' : 'tcp',
      computeMsPerStep: computeS * 1000,
      computeUsPerSample: computePerSample * 1e6,
      overlapMs: overlapS * 1000,
      perWorkerBatch: PER_WORKER_BATCH,
    },
    predictions,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runDistributedBenchmarks();
}
