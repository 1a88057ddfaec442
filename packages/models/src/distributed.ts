/**
 * Data-parallel training: what `fit({ distributed })` needs from a communication runtime, and the
 * pieces of the training loop that change when N processes train one model together.
 *
 * Every rank holds the whole model. Each global batch of `batchSize` samples is split into N
 * contiguous shards, one per rank; each rank computes the gradient of its shard's share of the
 * batch loss (its mean loss times shard/batch, so the shares sum to the batch mean), the shares are
 * summed across ranks, and every rank applies the same update — the same weights as one process
 * training on the whole batch. Gradients are summed in buckets as the backward pass finishes them
 * (later layers first), on the runtime's communication thread, as PyTorch DDP does.
 */
import { Tensor, type Variable } from '@axon/tensor';

/**
 * A data-parallel runtime, e.g. `dataParallel()` from `@axon/distributed` (MPI). Any object with
 * these members works: fit uses nothing else.
 */
export interface DistributedStrategy {
  /** This process's index, 0 to size - 1; rank 0 runs the callbacks and the progress bar. */
  readonly rank: number;
  /** The number of processes training together. */
  readonly size: number;
  /** Gradient bytes summed in one all-reduce (PyTorch DDP's bucket_cap_mb; 25 MiB there); the first bucket holds at most 1 MiB. */
  readonly bucketBytes: number;
  /** Sets `values` on every rank to those of rank `root` (default 0), in place. */
  broadcast(values: Float32Array, root?: number): void;
  /** Sums `values` element-wise across ranks, in place; returns when done. */
  allReduceSum(values: Float32Array): void;
  /** Starts summing `values` across ranks in the background; `values` must not be touched until the returned wait() returns. */
  allReduceSumAsync(values: Float32Array): () => void;
  /** Stops every rank with this message: a failure on one rank must never leave the others waiting. */
  abort(message: string): never;
}

/** PyTorch DDP's first bucket (torch.distributed._DEFAULT_FIRST_BUCKET_BYTES). */
const FIRST_BUCKET_BYTES = 1024 * 1024;

const MEMBERS = ['broadcast', 'allReduceSum', 'allReduceSumAsync', 'abort'] as const;

/** Validates fit's `distributed` option. */
export function checkStrategy(method: string, s: unknown): DistributedStrategy {
  const o = s as Partial<DistributedStrategy> | null;
  const missing =
    o === null || typeof o !== 'object'
      ? ['an object']
      : [
          ...MEMBERS.filter((m) => typeof o[m] !== 'function').map((m) => `${m}()`),
          ...(['rank', 'size', 'bucketBytes'] as const).filter((k) => !Number.isInteger(o[k])),
        ];
  if (missing.length > 0) {
    throw new Error(
      `${method}: distributed must be a DistributedStrategy (e.g. dataParallel() from @axon/distributed); missing: ${missing.join(', ')}`,
    );
  }
  const strategy = o as DistributedStrategy;
  if (strategy.size < 1 || strategy.rank < 0 || strategy.rank >= strategy.size) {
    throw new Error(`${method}: distributed has rank ${strategy.rank} of size ${strategy.size}`);
  }
  return strategy;
}

/** Makes every rank's weights rank 0's (one broadcast of all of them). */
export function broadcastWeights(strategy: DistributedStrategy, weights: readonly Variable[]): void {
  const packed = new Float32Array(weights.reduce((n, w) => n + w.size, 0));
  let offset = 0;
  for (const w of weights) {
    w.copyInto(packed, offset);
    offset += w.size;
  }
  strategy.broadcast(packed, 0);
  offset = 0;
  for (const w of weights) {
    w.assign(new Tensor(packed.slice(offset, offset + w.size), w.shape));
    offset += w.size;
  }
}

/** The part [start, end) of a global batch [start, start + size) that `rank` of `ranks` trains on. */
export function shardOf(start: number, size: number, rank: number, ranks: number): { start: number; end: number } {
  return { start: start + Math.floor((rank * size) / ranks), end: start + Math.floor(((rank + 1) * size) / ranks) };
}

interface Bucket {
  values: Float32Array;
  /** Which variables it holds, and where. */
  slots: { index: number; offset: number }[];
  arrived: number;
  /** Its all-reduce, once started. */
  wait: (() => void) | null;
}

/**
 * Sums the gradients of `variables` across ranks in buckets of about `bucketBytes` (the first one
 * at most 1 MiB, as in DDP), each started as soon as its last gradient is final. Buckets are filled
 * in reverse variable order, the order in which a backward pass finishes them.
 */
export class GradientReducer {
  private readonly buckets: Bucket[] = [];
  private readonly where: { bucket: Bucket; offset: number }[] = [];
  /** The next bucket to start: collectives must be issued in the same order on every rank. */
  private nextToStart = 0;

  constructor(
    private readonly strategy: DistributedStrategy,
    private readonly variables: readonly Variable[],
  ) {
    const capacity = Math.max(1, Math.floor(strategy.bucketBytes / 4));
    // As DDP: the first bucket is small (1 MiB at most), so communication starts early in the backward pass.
    const firstCapacity = Math.min(capacity, FIRST_BUCKET_BYTES / 4);
    let current: { size: number; indices: number[] } = { size: 0, indices: [] };
    const groups = [current];
    for (let i = variables.length - 1; i >= 0; i--) {
      const size = variables[i]!.size;
      if (current.size > 0 && current.size + size > (groups.length === 1 ? firstCapacity : capacity)) {
        current = { size: 0, indices: [] };
        groups.push(current);
      }
      current.indices.push(i);
      current.size += size;
    }
    for (const g of groups.filter((g) => g.indices.length > 0)) {
      const bucket: Bucket = { values: new Float32Array(g.size), slots: [], arrived: 0, wait: null };
      let offset = 0;
      for (const index of g.indices) {
        bucket.slots.push({ index, offset });
        this.where[index] = { bucket, offset };
        offset += variables[index]!.size;
      }
      this.buckets.push(bucket);
    }
  }

  /** The number of buckets (one all-reduce each per step). */
  get bucketCount(): number {
    return this.buckets.length;
  }

  /**
   * Takes the final gradient of variables[index]. A complete bucket starts its sum once every bucket
   * before it has started: the order in which gradients complete can differ between steps (and a
   * rank with no samples completes them all at once), but every rank must issue its all-reduces in
   * one order, or MPI would pair different buckets.
   */
  onGradient = (index: number, grad: Tensor): void => {
    const { bucket, offset } = this.where[index]!;
    grad.copyInto(bucket.values, offset);
    bucket.arrived++;
    this.startReadyBuckets();
  };

  private startReadyBuckets(): void {
    while (this.nextToStart < this.buckets.length) {
      const bucket = this.buckets[this.nextToStart]!;
      if (bucket.arrived < bucket.slots.length) return;
      bucket.wait = this.strategy.allReduceSumAsync(bucket.values);
      this.nextToStart++;
    }
  }

  /** A step in which this rank has no samples: it still takes part, with zero gradients. */
  contributeZeros(): void {
    for (const bucket of this.buckets) {
      bucket.values.fill(0);
      bucket.arrived = bucket.slots.length;
    }
    this.startReadyBuckets();
  }

  /** Waits for every bucket and returns the summed gradients, one per variable (valid until the next step). */
  finish(): Tensor[] {
    const grads: Tensor[] = new Array(this.variables.length);
    for (const bucket of this.buckets) {
      if (!bucket.wait)
        throw new Error(`fit: internal error: a gradient bucket was never complete (${bucket.arrived}/${bucket.slots.length})`);
      bucket.wait();
      bucket.wait = null;
      bucket.arrived = 0;
      this.nextToStart = 0;
      for (const { index, offset } of bucket.slots) {
        const v = this.variables[index]!;
        grads[index] = new Tensor(bucket.values.subarray(offset, offset + v.size), v.shape);
      }
    }
    return grads;
  }
}

/** What a data-parallel training step needs: where its gradients go, and its share of the global batch. */
export interface DataParallelShare {
  readonly reducer: GradientReducer;
  /** This rank's samples / the global batch's samples. */
  readonly fraction: number;
}

/**
 * Fails (on every rank that differs, which then aborts the job) unless every rank runs fit with the
 * same shape of work: a rank with more steps than another would wait forever in a collective, and
 * one with other weight sizes would sum unrelated gradients.
 */
export function checkSameOnAllRanks(strategy: DistributedStrategy, method: string, facts: Record<string, number>): void {
  const names = Object.keys(facts);
  const ours = Float32Array.from(names.map((k) => facts[k]!));
  const chief = Float32Array.from(ours);
  strategy.broadcast(chief, 0);
  const different = names.filter((_, i) => chief[i] !== ours[i]);
  if (different.length > 0) {
    throw new Error(
      `${method}: every rank must train on the same shape of data and model; rank ${strategy.rank} differs from rank 0 in ` +
        different.map((k) => `${k} (${facts[k]} here, ${chief[names.indexOf(k)]} on rank 0)`).join(', '),
    );
  }
}
