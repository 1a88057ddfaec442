/**
 * @axon/distributed: data-parallel training on MPI (Open MPI), as Horovod does for TensorFlow and
 * PyTorch. One process per rank, launched with `mpirun -np N node train.js`; each trains on its
 * shard of every global batch and the gradients are summed across ranks before each update.
 *
 * @example
 * ```ts
 * import { dataParallel } from '@axon/distributed';
 *
 * const strategy = dataParallel(); // MPI_Init; rank and size from mpirun
 * await model.fit(x, y, { epochs: 5, batchSize: 64, distributed: strategy });
 * if (strategy.rank === 0) await model.save('model');
 * strategy.finalize();
 * ```
 */
import { Tensor } from '@axon/tensor';

import { loaded, type MpiBinding } from './binding.js';

/** Whether the MPI binding loaded in this process. */
export const mpiAvailable: boolean = loaded.binding !== undefined;
/** Why it did not (undefined when it did). */
export const mpiUnavailableReason: string | undefined = loaded.reason;

function mpi(fn: string): MpiBinding {
  if (!loaded.binding) throw new Error(`@axon/distributed: ${fn} needs MPI, which is unavailable: ${loaded.reason}`);
  return loaded.binding;
}

/** Starts MPI in this process (idempotent). Under `mpirun` it joins the job; alone it is rank 0 of 1. */
export function init(): void {
  mpi('init').init();
}

/** This process's rank in [0, size()). */
export function rank(): number {
  return mpi('rank').rank();
}

/** The number of processes in the job. */
export function size(): number {
  return mpi('size').size();
}

/** Reduction of {@link allReduce}. */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/**
 * Reduces `values` element-wise across ranks, in place: every rank ends with the same result.
 * A Tensor is not modified: the result comes back as a new tensor.
 *
 * @throws Error if MPI is unavailable or not initialized, TypeError for another array type.
 */
export function allReduce(values: Float32Array, op?: ReduceOp): Float32Array;
export function allReduce(values: Tensor, op?: ReduceOp): Tensor;
export function allReduce(values: Float32Array | Tensor, op: ReduceOp = 'sum'): Float32Array | Tensor {
  if (!['sum', 'mean', 'max', 'min'].includes(op)) throw new TypeError(`allReduce: op must be 'sum', 'mean', 'max' or 'min', got '${op}'`);
  let array: Float32Array;
  if (values instanceof Tensor) {
    array = new Float32Array(values.size);
    values.copyInto(array);
  } else array = values;
  const binding = mpi('allReduce');
  binding.allReduce(array, op === 'mean' ? 'sum' : op);
  if (op === 'mean') {
    const n = binding.size();
    for (let i = 0; i < array.length; i++) array[i]! /= n;
  }
  return values instanceof Tensor ? new Tensor(array, values.shape) : array;
}

/** Sets `values` on every rank to those of `root` (default 0), in place. */
export function broadcast(values: Float32Array, root = 0): Float32Array {
  mpi('broadcast').broadcast(values, root);
  return values;
}

/** Waits until every rank has called barrier(). */
export function barrier(): void {
  mpi('barrier').barrier();
}

/** Ends MPI in this process (call once, at the end; idempotent). */
export function finalize(): void {
  mpi('finalize').finalize();
}

/**
 * Stops every process of the job: prints `message` on this one's stderr and calls MPI_Abort
 * (mpirun then ends the others). For a failure that would otherwise leave ranks waiting.
 */
export function abort(message: string, code = 1): never {
  process.stderr.write(`@axon/distributed: ${message}\n`);
  loaded.binding?.abort(code);
  process.exit(code);
}

/** The MPI library, e.g. "Open MPI v4.1.4, ...". */
export function libraryVersion(): string {
  return mpi('libraryVersion').libraryVersion().trim();
}

/** Options of {@link dataParallel}. */
export interface DataParallelOptions {
  /** Gradient bytes summed per all-reduce, as PyTorch DDP's bucket_cap_mb (default 25 MiB). */
  bucketBytes?: number;
}

/**
 * The data-parallel strategy for `fit({ distributed })` (the interface `DistributedStrategy` of
 * `@axon/models`): starts MPI and carries this process's rank and the job's size.
 */
export class DataParallel {
  /** This process's rank (0 runs fit's callbacks and progress bar). */
  readonly rank: number;
  /** The number of processes in the job. */
  readonly size: number;
  /** Gradient bytes summed per all-reduce. */
  readonly bucketBytes: number;

  /**
   * Starts MPI (idempotent) and reads this process's rank and the job's size.
   *
   * @throws Error if MPI is unavailable, or for an unknown option or a bucketBytes that is not an integer ≥ 4.
   */
  constructor(options: DataParallelOptions = {}) {
    const known = new Set(['bucketBytes']);
    for (const key of Object.keys(options)) {
      if (!known.has(key)) throw new Error(`dataParallel: unknown option '${key}' (known: bucketBytes)`);
    }
    const bucketBytes = options.bucketBytes ?? 25 * 1024 * 1024;
    if (!Number.isInteger(bucketBytes) || bucketBytes < 4) {
      throw new Error(`dataParallel: bucketBytes must be an integer >= 4, got ${JSON.stringify(options.bucketBytes)}`);
    }
    init();
    this.rank = rank();
    this.size = size();
    this.bucketBytes = bucketBytes;
  }

  /** Sets `values` on every rank to those of `root`, in place. */
  broadcast(values: Float32Array, root = 0): void {
    broadcast(values, root);
  }

  /** Sums `values` across ranks, in place (blocking). */
  allReduceSum(values: Float32Array): void {
    mpi('allReduce').allReduce(values, 'sum');
  }

  /** Starts summing `values` on the communication thread; call the returned function to wait for it. */
  allReduceSumAsync(values: Float32Array): () => void {
    const binding = mpi('allReduceSumAsync');
    const id = binding.allReduceStart(values, 'sum');
    // `values` stays referenced by this closure until the caller has waited.
    return () => {
      binding.wait(id);
      void values;
    };
  }

  /** Stops every rank of the job with `message` (see {@link abort}). */
  abort(message: string): never {
    return abort(message);
  }

  /** Ends MPI (after the last collective; idempotent). */
  finalize(): void {
    finalize();
  }
}

/** A {@link DataParallel} strategy: `model.fit(x, y, { distributed: dataParallel() })`. */
export function dataParallel(options: DataParallelOptions = {}): DataParallel {
  return new DataParallel(options);
}
