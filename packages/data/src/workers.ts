/** The thread pool behind {@link Dataset.mapInWorkers}. */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Tensor } from '@axon/tensor';
import type { Dataset } from './dataset.js';
import { forEachLeaf } from './element.js';

/**
 * The thread's code, run as a script (so it needs no file of its own, from the sources or the
 * build alike): import the module, then answer each `{ id, element }` with `{ id, result }` or
 * `{ id, error }`. A failed import or a missing export is reported once as `{ fatal }`.
 */
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module).then((m) => {
  const fn = m[workerData.exportName];
  if (typeof fn !== 'function') {
    parentPort.postMessage({ fatal: 'its export ' + JSON.stringify(workerData.exportName) + ' is ' + (fn === undefined ? 'missing' : 'not a function') });
    return;
  }
  parentPort.on('message', async ({ id, element }) => {
    try {
      parentPort.postMessage({ id, result: await fn(element) });
    } catch (e) {
      parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
    }
  });
}, (e) => parentPort.postMessage({ fatal: 'it cannot be imported: ' + (e instanceof Error ? e.message : String(e)) }));
`;

interface Reply {
  id?: number;
  result?: unknown;
  error?: string;
  fatal?: string;
}

/** What `import()` in the thread takes: file paths become `file:` URLs, package names and URLs stay. */
function importSpecifier(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '')
    throw new Error(`mapInWorkers: module must be a path, URL or package name, got ${String(module)}`);
  if (module.startsWith('.') || isAbsolute(module)) return pathToFileURL(resolve(module)).href;
  return module;
}

/** Yields `exportName(element)` for each element of `source`, computed by `count` threads, in order. */
export async function* mapInWorkerPool<T, U>(
  source: Dataset<T>,
  module: string | URL,
  exportName: string,
  count: number,
): AsyncGenerator<U> {
  const specifier = importSpecifier(module);
  const name = `${exportName} of ${specifier}`;
  const pending = new Map<number, { resolve: (v: U) => void; reject: (e: Error) => void }>();
  const busy = new Array<number>(count).fill(0);
  let failure: Error | null = null;
  let stopping = false;
  const fail = (error: Error): void => {
    failure ??= error;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const workers = Array.from({ length: count }, (_, w) => {
    const worker = new Worker(WORKER_SCRIPT, { eval: true, workerData: { module: specifier, exportName } });
    worker.on('message', (reply: Reply) => {
      if (reply.fatal !== undefined) return fail(new Error(`mapInWorkers: cannot run ${name}: ${reply.fatal}`));
      const p = pending.get(reply.id!);
      if (!p) return;
      pending.delete(reply.id!);
      busy[w]!--;
      if (reply.error !== undefined) p.reject(new Error(`mapInWorkers: ${name} failed on element ${reply.id}: ${reply.error}`));
      else p.resolve(reply.result as U);
    });
    worker.on('error', (e) => fail(new Error(`mapInWorkers: a worker running ${name} crashed: ${e.message}`)));
    // A thread that exits by itself (process.exit in the function) would leave its elements waiting forever.
    worker.on('exit', (code) => {
      if (!stopping) fail(new Error(`mapInWorkers: a worker running ${name} exited (code ${code}) before the pass ended`));
    });
    return worker;
  });

  const submit = (element: T, id: number): Promise<U> => {
    forEachLeaf('mapInWorkers', element, (leaf, path) => {
      if (leaf instanceof Tensor) {
        throw new Error(
          `mapInWorkers: element ${id} holds a Tensor${path ? ` at ${path}` : ''}; elements sent to workers must be plain data ` +
            '(numbers, strings, typed arrays): turn tensors into arrays before the worker map, and arrays into tensors after it',
        );
      }
    });
    if (failure) return Promise.reject(failure);
    const w = busy.indexOf(Math.min(...busy)); // the least busy thread
    busy[w]!++;
    const result = new Promise<U>((resolve, reject) => pending.set(id, { resolve, reject }));
    result.catch(() => {}); // surfaced when awaited in order; not an unhandled rejection meanwhile
    workers[w]!.postMessage({ id, element });
    return result;
  };

  const inFlight: Promise<U>[] = [];
  const elements = source.iterator();
  try {
    let id = 0;
    let done = false;
    while (!done || inFlight.length > 0) {
      while (!done && inFlight.length < 2 * count) {
        const next = await elements.next();
        if (next.done) done = true;
        else inFlight.push(submit(next.value, id++));
      }
      if (inFlight.length > 0) yield await inFlight.shift()!;
    }
  } finally {
    stopping = true;
    await elements.return?.();
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
