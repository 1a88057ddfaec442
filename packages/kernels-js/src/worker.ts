/**
 * Entry module of a worker thread of the pool (threads.ts): waits for a task,
 * claims and runs chunks of it with the same kernels the main thread runs,
 * sleeps again. Never touches the main thread's arrays, only the shared
 * arena; an error in a chunk goes back over the MessagePort.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ARENA, READY, WAKE, WORKERS, WORKER_CHUNKS, controlViews, runChunks } from './control.js';
import { runChunk } from './tasks.js';
import type { WorkerInit } from './threads.js';

const init = workerData as WorkerInit;
const { ints, params } = controlViews(init.control);
let arenaId = init.arenaId;
let arena: Float32Array = new Float32Array(init.arena);

/** The arena the current task refers to: the main thread posted it before the task. */
function currentArena(): Float32Array {
  const wanted = Atomics.load(ints, ARENA);
  while (arenaId !== wanted) {
    const m = receiveMessageOnPort(init.port);
    if (m === undefined) throw new Error(`shared arena ${wanted} never arrived`);
    const message = m.message as { arenaId: number; arena: SharedArrayBuffer };
    arenaId = message.arenaId;
    arena = new Float32Array(message.arena);
  }
  return arena;
}

function report(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  init.port.postMessage({ error: { message: e.message, stack: e.stack } });
}

Atomics.add(ints, READY, 1);
for (;;) {
  const seen = Atomics.load(ints, WAKE);
  if (init.index < Atomics.load(ints, WORKERS)) {
    const count = runChunks(ints, (chunk) => runChunk(params, currentArena(), chunk, true), report);
    if (count > 0) Atomics.add(ints, WORKER_CHUNKS, count);
  }
  // Returns at once if a task was posted since `seen`.
  Atomics.wait(ints, WAKE, seen);
}
