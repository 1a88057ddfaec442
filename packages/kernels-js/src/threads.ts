/**
 * The worker pool, main-thread side, and the thread count.
 *
 * One pool per thread that uses the kernels (normally the main thread),
 * created on the first call big enough to split: `threads - 1` workers that
 * run src/worker.ts, `unref()`ed so they never keep the process alive. A call
 * posts its task in the control block (see control.ts), wakes the workers,
 * runs chunks itself, then blocks in `Atomics.wait` until the chunks the
 * workers claimed are done. Arrays travel through one shared arena, grown on
 * demand; a new arena is handed to the workers over their MessagePort (read
 * synchronously with receiveMessageOnPort when a task refers to it).
 *
 * Failure never hangs a call: a worker that cannot start simply never claims
 * a chunk; an error thrown in a worker is rethrown on the main thread naming
 * the kernel; a worker that does not finish in time (it died, or hangs) makes
 * the pool shut down for good, and the caller redoes the call single-threaded.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ARENA, CONTROL_BYTES, DONE, FAILED, READY, WAKE, WORKERS, WORKER_CHUNKS, controlViews, openClaims, runChunks } from './control.js';
import { runChunk } from './tasks.js';

// ---- the thread count ----------------------------------------------------------------------

function threadsFromEnv(): number {
  const env = process.env.AXON_NUM_THREADS;
  if (env === undefined || env === '') return 0;
  const n = Number(env);
  if (Number.isInteger(n) && n >= 0) return n;
  process.stderr.write(`@axon/kernels-js: ignoring AXON_NUM_THREADS=${env} (expected a non-negative integer)\n`);
  return 0;
}

/** Threads asked for; 0 means one per core. */
let requested = threadsFromEnv();
/** os.availableParallelism() once: it asks the OS every call, and kernels ask for the thread count on every call. */
const cores = availableParallelism();
/** Why worker threads are off for good in this process, once they are. */
let unavailable: string | undefined;
let pool: Pool | undefined;

/**
 * Sets the threads the js kernels use, the calling thread included: 1 runs
 * everything on the calling thread, `n <= 0` uses one per core (the default,
 * also set by `AXON_NUM_THREADS` at start-up). Returns the count in effect.
 * Fractions are rounded down; a non-finite n means one per core.
 *
 * @example
 * ```ts
 * import { setNumThreads } from '@axon/kernels-js';
 * setNumThreads(1); // deterministic single-threaded kernels
 * ```
 */
export function setNumThreads(n: number): number {
  requested = Number.isFinite(n) && n >= 1 ? Math.floor(n) : 0;
  return getNumThreads();
}

/** Threads the js kernels use, the calling thread included (1 once worker threads have proved unavailable). */
export function getNumThreads(): number {
  if (unavailable !== undefined) return 1;
  return requested > 0 ? requested : cores;
}

/** The pool with at least `threads - 1` workers, or undefined when threads are off or cannot start. */
export function getPool(threads: number): Pool | undefined {
  if (threads < 2 || unavailable !== undefined) return undefined;
  pool ??= new Pool();
  try {
    pool.grow(threads - 1);
  } catch (error) {
    disable(`cannot start worker threads (${describe(error)})`);
    return undefined;
  }
  // Only the event loop reports a worker that failed to load; a program that
  // never yields to it learns from the workers' silence instead.
  if (pool.stalled()) {
    disable(`worker threads did not start within ${poolTesting.startupMs} ms`);
    return undefined;
  }
  return pool;
}

function disable(reason: string): void {
  if (unavailable !== undefined) return;
  unavailable = reason;
  pool?.terminate();
  pool = undefined;
  process.stderr.write(`@axon/kernels-js: ${reason}; running single-threaded from now on\n`);
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---- the pool --------------------------------------------------------------------------------

/** dist/worker.js; when this module runs as TypeScript source (under vitest), the built one. */
const here = import.meta.url;
const defaultWorkerUrl = new URL(here.endsWith('.ts') ? '../dist/worker.js' : './worker.js', here);

/** What a worker receives as workerData. */
export interface WorkerInit {
  control: SharedArrayBuffer;
  arena: SharedArrayBuffer;
  arenaId: number;
  port: MessagePort;
  index: number;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  /** False once the worker has exited: it claims nothing, and keeps its index so the others keep theirs. */
  alive: boolean;
}

export class Pool {
  private readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly ctl = controlViews(this.control);
  private arenaBuffer = new SharedArrayBuffer(0);
  private arenaView: Float32Array = new Float32Array(0);
  private arenaId = 0;
  private readonly slots: Slot[] = [];
  private readonly created = performance.now();

  /** True when no worker has started long after the pool was created. */
  stalled(): boolean {
    return Atomics.load(this.ctl.ints, READY) === 0 && performance.now() - this.created > poolTesting.startupMs;
  }

  /** Starts workers until there are `n`. Throws if one cannot be created. */
  grow(n: number): void {
    while (this.slots.length < n) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit = {
        control: this.control,
        arena: this.arenaBuffer,
        arenaId: this.arenaId,
        port: port2,
        index: this.slots.length,
      };
      // No inherited execArgv: flags such as --input-type would stop the worker
      // from starting, and --import/--require preloads have no business in it.
      const worker = new Worker(poolTesting.workerUrl, { workerData: init, transferList: [port2], execArgv: [] });
      worker.unref();
      port1.unref();
      const slot: Slot = { worker, port: port1, alive: true };
      // Events arrive whenever the main thread's event loop turns; until then a
      // dead worker just claims nothing.
      worker.on('error', (error) => this.lost(slot, describe(error)));
      worker.on('exit', (code) => this.lost(slot, `exit code ${code}`));
      this.slots.push(slot);
    }
  }

  private lost(slot: Slot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    if (!this.slots.some((s) => s.alive)) disable(`worker threads stopped (${why})`);
  }

  terminate(): void {
    for (const slot of this.slots) {
      slot.alive = false;
      void slot.worker.terminate().catch(() => undefined);
    }
  }

  /** The shared arena, at least `floats` long (its contents are scratch: anything may be left there). */
  arena(floats: number): Float32Array {
    if (this.arenaView.length < floats) {
      this.arenaBuffer = new SharedArrayBuffer(4 * Math.max(floats, Math.ceil(this.arenaView.length * 1.5)));
      this.arenaView = new Float32Array(this.arenaBuffer);
      this.arenaId++;
      for (const { port, alive } of this.slots) if (alive) port.postMessage({ arenaId: this.arenaId, arena: this.arenaBuffer });
    }
    return this.arenaView;
  }

  /**
   * Runs a task of `chunks` chunks (parameters as tasks.ts encodes them, over
   * this pool's arena) on up to `threads` threads, this one included. Returns
   * false when a worker did not finish in time: the pool is then shut down and
   * the caller must redo the call single-threaded (its own arrays are untouched).
   */
  run(kernel: string, params: number[], chunks: number, threads: number): boolean {
    const { ints, params: q } = this.ctl;
    q.set(params);
    Atomics.store(ints, ARENA, this.arenaId);
    Atomics.store(ints, WORKERS, threads - 1);
    Atomics.store(ints, FAILED, 0);
    Atomics.store(ints, DONE, 0);
    openClaims(ints, chunks);
    Atomics.add(ints, WAKE, 1);
    Atomics.notify(ints, WAKE);

    const start = performance.now();
    const arena = this.arenaView;
    let failure: { error: unknown } | undefined;
    runChunks(
      ints,
      (chunk) => runChunk(q, arena, chunk, false),
      (error) => (failure = { error }),
    );
    if (!this.waitDone(chunks, start)) {
      disable(`${kernel}: a worker thread did not finish its share in time`);
      if (failure) throw failure.error;
      return false;
    }
    if (failure) throw failure.error;
    if (Atomics.load(ints, FAILED) === 1) throw this.workerError(kernel);
    return true;
  }

  /**
   * Blocks until every chunk is done. The wait is bounded: a worker's chunk
   * takes about as long as one of ours, so one that has not finished after
   * 20 times what the whole call took us (and at least poolTesting.timeoutMs)
   * is taken for dead.
   */
  private waitDone(chunks: number, start: number): boolean {
    const ints = this.ctl.ints;
    const now = performance.now();
    const deadline = now + Math.max(poolTesting.timeoutMs, 20 * (now - start));
    for (let done = Atomics.load(ints, DONE); done < chunks; done = Atomics.load(ints, DONE)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ints, DONE, done, left);
    }
    return true;
  }

  /** The error a worker reported for the current task (the worker's stack as its cause). */
  private workerError(kernel: string): Error {
    let reported: { message: string; stack?: string } | undefined;
    for (const { port } of this.slots) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        reported ??= (m.message as { error?: { message: string; stack?: string } }).error;
      }
    }
    const message = `${kernel}: a worker thread failed: ${reported?.message ?? 'unknown error'}`;
    return new Error(message, { cause: reported && Object.assign(new Error(reported.message), { stack: reported.stack }) });
  }

  stats(): { workers: number; ready: number; workerChunks: number } {
    const ints = this.ctl.ints;
    return {
      workers: this.slots.filter((s) => s.alive).length,
      ready: Atomics.load(ints, READY),
      workerChunks: Atomics.load(ints, WORKER_CHUNKS),
    };
  }
}

/** Hooks for tests: shorter timeouts, another worker script, a fresh start. */
export const poolTesting = {
  /** Least time a call waits for a worker's chunk before taking the worker for dead. */
  timeoutMs: 10_000,
  /** Time after which a pool none of whose workers has started is given up. */
  startupMs: 10_000,
  workerUrl: defaultWorkerUrl,
  pool: (): Pool | undefined => pool,
  unavailable: (): string | undefined => unavailable,
  reset(): void {
    pool?.terminate();
    pool = undefined;
    unavailable = undefined;
  },
};
