/**
 * The control block shared by the main thread and the worker threads: a
 * SharedArrayBuffer of a few int32 cells plus the current task's parameters
 * (float64). One task is in flight at a time; the main thread posts it and
 * every thread, the main one included, claims chunks of it until none is left.
 *
 * Claims go through one cell, CLAIM = chunks << 16 | next, advanced by
 * compare-and-swap. A thread reads the parameters only after a successful
 * claim: the main thread writes them before storing CLAIM, and cannot post the
 * next task before every claimed chunk is done, so whoever holds a claim reads
 * that task's parameters, however late it woke. A thread that finds nothing
 * left to claim goes back to sleep without touching anything.
 */

/** Incremented by every post; idle workers sleep on it. */
export const WAKE = 0;
/** chunks << 16 | next chunk to claim. */
export const CLAIM = 1;
/** Chunks finished (or skipped after a failure) in the current task. */
export const DONE = 2;
/** 1 when a chunk of the current task threw. */
export const FAILED = 3;
/** Workers that have started and are waiting for tasks. */
export const READY = 4;
/** Chunks run by worker threads since the pool started (a statistic for tests). */
export const WORKER_CHUNKS = 5;
/** Identifies the data arena the current task's offsets refer to. */
export const ARENA = 6;
/** Only workers with an index below this take part in the current task. */
export const WORKERS = 7;

const INTS = 8;
/** Float64 parameters of the current task. */
export const PARAMS = 64;
/** Most chunks a task may have (they must fit in CLAIM's 16 bits). */
export const MAX_CHUNKS = 0xffff;

export const CONTROL_BYTES = INTS * 4 + PARAMS * 8;

export interface Control {
  ints: Int32Array;
  params: Float64Array;
}

export function controlViews(buffer: SharedArrayBuffer): Control {
  return { ints: new Int32Array(buffer, 0, INTS), params: new Float64Array(buffer, INTS * 4, PARAMS) };
}

/** Makes `chunks` chunks claimable (after the parameters are written). */
export function openClaims(ints: Int32Array, chunks: number): void {
  Atomics.store(ints, CLAIM, (chunks << 16) >>> 0);
}

/** The index of the next unclaimed chunk, now claimed by the caller, or -1 when none is left. */
function claim(ints: Int32Array): number {
  for (;;) {
    const v = Atomics.load(ints, CLAIM);
    const next = v & 0xffff;
    if (next >= v >>> 16) return -1;
    if (Atomics.compareExchange(ints, CLAIM, v, v + 1) === v) return next;
  }
}

/** Marks chunks finished; whoever finishes the last one wakes the main thread. */
function finish(ints: Int32Array, count: number): void {
  const chunks = Atomics.load(ints, CLAIM) >>> 16;
  if (Atomics.add(ints, DONE, count) + count >= chunks) Atomics.notify(ints, DONE);
}

/** After a failure: no chunk left is started; the skipped ones count as finished. */
export function cancelClaims(ints: Int32Array): void {
  for (;;) {
    const v = Atomics.load(ints, CLAIM);
    const chunks = v >>> 16,
      next = v & 0xffff;
    if (next >= chunks) return;
    if (Atomics.compareExchange(ints, CLAIM, v, v - next + chunks) === v) {
      finish(ints, chunks - next);
      return;
    }
  }
}

/**
 * Claims and runs chunks of the current task until none is left. A chunk
 * that throws flags the task as failed, cancels the chunks nobody has
 * started, and hands the error to `onError`. Returns the chunks run.
 */
export function runChunks(ints: Int32Array, run: (chunk: number) => void, onError: (error: unknown) => void): number {
  let count = 0;
  for (let chunk = claim(ints); chunk >= 0; chunk = claim(ints)) {
    try {
      run(chunk);
    } catch (error) {
      Atomics.store(ints, FAILED, 1);
      onError(error);
      cancelClaims(ints);
      finish(ints, 1);
      return count;
    }
    count++;
    finish(ints, 1);
  }
  return count;
}
