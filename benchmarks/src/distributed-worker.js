/**
 * One process of the data-parallel benchmark (src/distributed.js spawns it, alone or as a rank of
 * `mpirun -np N`). Rank 0 (or the lone process) prints one line `RESULT <json>`.
 *
 *   node src/distributed-worker.js allreduce '{"sizes":[4096,...],"budgetMs":300}'   (under mpirun)
 *   node src/distributed-worker.js train '{"workloads":[{"model":"cnn","batch":32,"steps":80,"warmup":8}],"distributed":true}'
 *
 * allreduce: the median time of the blocking allReduce(Float32Array, 'sum') for each size in bytes
 * (a barrier before every repetition, rank 0's clock; the repetition count is rank 0's, broadcast).
 *
 * train: model.fit on random data, one epoch of warmup + steps global batches (verbose 0, no
 * shuffle); the step time is the interval between consecutive onBatchEnd calls on rank 0, median
 * over the steps after warm-up. With `distributed`, the strategy is dataParallel() (default
 * buckets) wrapped so that each step's time blocked in the gradient buckets' wait() (communication
 * not hidden behind the backward pass, plus waiting for the slower rank) and in fit's small per-step
 * collectives (the loss all-reduce and the stop-flag broadcast) is recorded too (median and mean
 * over the steps), with the time from the start of the step's last bucket to fit's first wait() (the part of
 * the backward pass that can hide that bucket; median). Without it, the
 * process also times the pieces of one step at the first workload's batch: forward
 * (predictOnBatch), the whole step (trainOnBatch) and the Adam update alone (applyGradients of
 * zeros), from which the backward pass is the rest.
 */
import * as axon from '@axon/tensor';
import '@axon/kernels-native';
import { seedCnn, seedLstm } from './seed-models.js';
import { randomArray, timeIt } from './harness.js';

const DISTRIBUTED = '@axon/distributed';

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}');
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor(s.length / 2)];
};

async function sweep() {
  const mpi = await import(DISTRIBUTED);
  mpi.init();
  const me = mpi.rank();
  const rows = [];
  for (const bytes of args.sizes) {
    const buffer = new Float32Array(bytes / 4); // zeros: the sum stays finite however often it runs
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) mpi.allReduce(buffer, 'sum');
    const each = (performance.now() - t0) / 3;
    const reps = Float32Array.of(Math.max(15, Math.min(1000, Math.ceil(args.budgetMs / Math.max(each, 1e-3)))));
    mpi.broadcast(reps, 0);
    const times = [];
    for (let r = 0; r < reps[0]; r++) {
      mpi.barrier();
      const start = performance.now();
      mpi.allReduce(buffer, 'sum');
      times.push(performance.now() - start);
    }
    rows.push({ bytes, reps: reps[0], us: median(times) * 1000, minUs: Math.min(...times) * 1000 });
  }
  if (me === 0) {
    const library = mpi.libraryVersion().replaceAll('\u0000', '').split(',')[0];
    console.log(`RESULT ${JSON.stringify({ size: mpi.size(), library, rows })}`);
  }
  mpi.finalize();
}

/** dataParallel() with its blocking points timed. */
function timedStrategy(inner) {
  const blocked = { grad: 0, sync: 0, tail: 0 };
  let started = null; // when the last bucket before the step's first wait() was started
  const timed = (key, fn) => {
    const t0 = performance.now();
    fn();
    blocked[key] += performance.now() - t0;
  };
  return {
    blocked,
    strategy: {
      rank: inner.rank,
      size: inner.size,
      bucketBytes: inner.bucketBytes,
      broadcast: (values, root) => timed('sync', () => inner.broadcast(values, root)),
      allReduceSum: (values) => timed('sync', () => inner.allReduceSum(values)),
      allReduceSumAsync: (values) => {
        started = performance.now();
        const wait = inner.allReduceSumAsync(values);
        return () => {
          if (started !== null) blocked.tail += performance.now() - started;
          started = null;
          timed('grad', wait);
        };
      },
      abort: (message) => inner.abort(message),
    },
  };
}

function data(model, batch) {
  const shape = model === 'cnn' ? [batch, 28, 28, 1] : [batch, 28, 28];
  const x = axon.tensor(
    randomArray(batch * 784, 3).map((v) => (v + 1) / 2),
    shape,
  );
  const y = axon.tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 10),
    [batch],
    'int32',
  );
  return { x, y };
}

function build(kind) {
  axon.setSeed(1);
  const model = kind === 'cnn' ? seedCnn() : seedLstm();
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  return model;
}

async function fitSteps(w, timed) {
  const model = build(w.model);
  const { x, y } = data(w.model, w.batch * (w.warmup + w.steps));
  const steps = [];
  const grad = [];
  const sync = [];
  const tail = [];
  let last = 0;
  const previous = { grad: 0, sync: 0, tail: 0 };
  const probe = {
    onTrainBegin() {
      last = performance.now();
    },
    onBatchEnd() {
      const now = performance.now();
      steps.push(now - last);
      last = now;
      if (timed) {
        grad.push(timed.blocked.grad - previous.grad);
        sync.push(timed.blocked.sync - previous.sync);
        tail.push(timed.blocked.tail - previous.tail);
        Object.assign(previous, timed.blocked);
      }
    },
  };
  await model.fit(x, y, {
    epochs: 1,
    batchSize: w.batch,
    verbose: 0,
    shuffle: false,
    callbacks: [probe],
    ...(timed ? { distributed: timed.strategy } : {}),
  });
  const kept = (a) => a.slice(w.warmup);
  const mean = (a) => kept(a).reduce((s, v) => s + v, 0) / kept(a).length;
  const stepMs = median(kept(steps));
  return {
    ...w,
    stepMs,
    samplesPerSecond: (1000 * w.batch) / stepMs,
    // Medians and means: a rare long wait (the other rank descheduled) is part of the cost too.
    ...(timed
      ? {
          gradWaitMs: median(kept(grad)),
          gradWaitMeanMs: mean(grad),
          syncMs: median(kept(sync)),
          syncMeanMs: mean(sync),
          tailMs: median(kept(tail)),
        }
      : {}),
  };
}

/** Forward, whole step and Adam update of one training step (single process). */
async function stepParts(kind, batch) {
  const model = build(kind);
  const { x, y } = data(kind, batch);
  const budget = { budgetMs: 400, minReps: 10, maxReps: 500, warmup: 3 };
  const forwardMs = await timeIt(() => model.predictOnBatch(x), budget);
  const stepMs = await timeIt(() => model.trainOnBatch(x, y), budget);
  const zeros = model.trainableWeights.map((w) => axon.zeros(w.shape));
  const updateMs = await timeIt(() => model.optimizer.applyGradients(model.trainableWeights, zeros), budget);
  return { model: kind, batch, forwardMs, stepMs, updateMs, backwardMs: stepMs - forwardMs - updateMs };
}

async function train() {
  let timed = null;
  let finalize = () => {};
  if (args.distributed) {
    const { dataParallel } = await import(DISTRIBUTED);
    const inner = dataParallel();
    timed = timedStrategy(inner);
    finalize = () => inner.finalize();
  }
  const rows = [];
  for (const w of args.workloads) rows.push(await fitSteps(w, timed));
  const parts = args.parts ? await stepParts(args.parts.model, args.parts.batch) : null;
  if (!timed || timed.strategy.rank === 0) {
    console.log(
      `RESULT ${JSON.stringify({ ranks: timed?.strategy.size ?? 1, threads: process.env.AXON_NUM_THREADS ?? null, rows, parts })}`,
    );
  }
  finalize();
}

if (mode === 'allreduce') await sweep();
else if (mode === 'train') await train();
else throw new Error(`distributed-worker: unknown mode ${mode}`);
