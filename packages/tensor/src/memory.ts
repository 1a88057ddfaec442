/**
 * Tensor memory: device buffers from a per-device pool, returned to it when
 * the library can prove a tensor dead — at the end of a scope (a training or
 * inference step), or when the garbage collector has collected it.
 *
 * A Storage is one device buffer, shared by the tensors that view it (reshape
 * shares). A tensor is tracked by the innermost open scope when it is made,
 * else by a FinalizationRegistry. When a scope ends, every tensor it tracked
 * that was not returned from it or kept is released: it fails with an error
 * naming the scope if used again, and its buffer goes back to the pool once
 * no tensor views it. A buffer whose host array was handed to user code
 * (dataSync() on a host device) is never reused: it is left to the garbage
 * collector, so an array the user holds never changes under them.
 */
import type { DType, Device, TypedArray } from './backend.js';
import { poolOf } from './device.js';
import { activeDevice } from './registry.js';
import { formatShape } from './shape.js';

/** @internal One device buffer and the bookkeeping of who may still read it. */
export class Storage {
  /** Tensors viewing this buffer and not yet released. */
  views = 0;
  /** Its host array was given to user code: never recycle it. */
  exposed = false;

  constructor(
    public buffer: unknown,
    public device: Device,
    readonly length: number,
    readonly dtype: DType,
  ) {}
}

/** The fields of a Tensor that memory management reads and writes. */
export interface Tracked {
  readonly id: number;
  readonly shape: readonly number[];
  /** @internal */ storage: Storage;
  /** @internal Why the tensor may no longer be read (the scope that released it), else null. */
  released: string | null;
  /** @internal Survives the scopes it was made in (keep()). */
  kept: boolean;
}

/** A buffer of `length` elements on `device` (the active one by default), from its pool. */
export function allocStorage(length: number, dtype: DType, device: Device = activeDevice()): Storage {
  return new Storage(poolOf(device).take(length, dtype), device, length, dtype);
}

/** A storage holding host values: adopted as is on a host device (and marked exposed), uploaded elsewhere. */
export function storageFromHost(values: TypedArray, device: Device = activeDevice()): Storage {
  const dtype: DType = values instanceof Int32Array ? 'int32' : 'float32';
  if (device.host) {
    const s = new Storage(values, device, values.length, dtype);
    s.exposed = true;
    return s;
  }
  const s = allocStorage(values.length, dtype, device);
  device.write(s.buffer, values);
  return s;
}

function dropView(storage: Storage): void {
  if (--storage.views > 0 || storage.buffer === null) return;
  if (!storage.exposed) poolOf(storage.device).give(storage.buffer, storage.length, storage.dtype);
  storage.buffer = null;
}

/**
 * Tensors outside scopes return to the pool through a FinalizationRegistry.
 * Its cleanup runs only when the event loop turns, and a registry holds what
 * it will hand to the cleanup strongly: in a synchronous loop of ops every
 * dropped tensor's buffer would stay allocated until the loop ends. So only
 * up to STRONG_BYTES of buffers are held that way (and pooled when their
 * tensors are collected); a tensor made beyond that is not registered at all:
 * its view is never released, so its storage is never recycled, and the
 * garbage collector frees it as it would an ordinary typed array. (A WeakRef
 * would not do: creating one keeps its target alive until the job ends, which
 * in a synchronous loop is the whole loop.) That limit is for host arrays only: a
 * buffer on another device has no other way back, so every such tensor is registered.
 */
const STRONG_BYTES = 64 * 1024 * 1024;
let strongBytes = 0;
const collectedStrongly = new FinalizationRegistry<{ storage: Storage; bytes: number }>(({ storage, bytes }) => {
  strongBytes -= bytes;
  dropView(storage);
});
function register(t: Tracked): void {
  // Only a host array can be left to the garbage collector; a device buffer is freed by nothing but this
  // registry (and holding its handle pins nothing more), so a device tensor is always registered.
  const bytes = t.storage.device.host ? t.storage.length * 4 : 0;
  if (strongBytes + bytes > STRONG_BYTES) return;
  strongBytes += bytes;
  collectedStrongly.register(t, { storage: t.storage, bytes });
}

interface Scope {
  readonly name: string;
  readonly tensors: Tracked[];
  readonly parent: Scope | null;
}
let current: Scope | null = null;

/** @internal Called once per new tensor: counts its view and hands it to the open scope or the collector. */
export function track(t: Tracked, persistent: boolean): void {
  t.storage.views++;
  if (current !== null && !persistent) current.tensors.push(t);
  else register(t);
}

function release(t: Tracked, reason: string): void {
  if (t.released !== null) return;
  t.released = reason;
  dropView(t.storage);
}

/**
 * Runs fn; every tensor made inside that fn neither returns (as a Tensor, or
 * inside arrays and plain objects) nor passes to keep() is released when it
 * returns or throws: its memory goes back to the pool, and using it afterwards
 * fails with an error naming this scope. Scopes nest; a returned tensor
 * belongs to the enclosing scope. fn must be synchronous.
 *
 * The training and inference loops (fit, evaluate, predict, trainOnBatch)
 * run each step in a scope; user code never needs one, since what it holds
 * outside scopes is recycled when the garbage collector collects it. A scope
 * helps a custom loop of many ops recycle its temporaries at once.
 *
 * @param name - Names the scope in the error for a released tensor used later.
 * @returns fn's result.
 * @throws Error if fn returns a Promise (after releasing what it made); rethrows fn's errors.
 *
 * @example
 * ```ts
 * let total: Tensor | undefined;
 * const loss = scope('step', () => {
 *   const y = matmul(x, w);            // released when the scope ends
 *   total = keep(sum(y));              // kept: outlives the scope
 *   return mean(square(sub(y, target))); // returned: belongs to the caller
 * });
 * loss.item();
 * ```
 */
export function scope<T>(name: string, fn: () => T): T {
  const s: Scope = { name, tensors: [], parent: current };
  current = s;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = s.parent;
    close(s, new Set());
    throw e;
  }
  current = s.parent;
  if (result instanceof Promise) {
    close(s, new Set());
    throw new Error(`scope '${name}': the function returned a Promise; scopes run synchronous code only`);
  }
  close(s, tensorsIn(result));
  return result;
}

function close(s: Scope, escaping: Set<unknown>): void {
  for (const t of s.tensors) {
    if (t.released !== null) continue;
    if (escaping.has(t) || t.kept) {
      if (s.parent !== null && !t.kept) s.parent.tensors.push(t);
      else register(t);
    } else {
      release(t, s.name);
    }
  }
}

/** The tensors in a value: itself, or inside arrays and plain objects (a few levels deep). */
function tensorsIn(value: unknown, found = new Set<unknown>(), depth = 0): Set<unknown> {
  if (value === null || typeof value !== 'object' || depth > 4) return found;
  if ('storage' in value && 'released' in value) {
    found.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) tensorsIn(v, found, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) tensorsIn(v, found, depth + 1);
  }
  return found;
}

/**
 * Marks a tensor to outlive every scope it was made in (it is then recycled when garbage-collected).
 * Returns the same tensor. See {@link scope} for an example.
 *
 * @throws Error if the tensor was already released by a scope.
 */
export function keep<T extends Tracked>(t: T): T {
  if (t.released !== null) throw releasedError(t, 'keep');
  t.kept = true;
  return t;
}

/** The error for a released tensor read by `op`. */
export function releasedError(t: Tracked, op: string): Error {
  return new Error(
    `${op}: tensor ${t.id} ${formatShape(t.shape)} was released when scope '${t.released}' ended: a tensor made inside a ` +
      `step is valid only within it (return it from the step, or call keep(t) inside it to hold on to it)`,
  );
}

/** Moves a storage to another device (the old buffer goes back to its pool unless user code holds it). */
export function moveStorage(s: Storage, to: Device): void {
  const next = poolOf(to).take(s.length, s.dtype);
  to.write(next, s.device.read(s.buffer));
  if (!s.exposed) poolOf(s.device).give(s.buffer, s.length, s.dtype);
  s.buffer = next;
  s.device = to;
  s.exposed = false;
}

/** Bytes and buffers held free by the active device's pool, and how often it served a request. */
export function memoryInfo(device: Device = activeDevice()): {
  /** The device's name. */
  device: string;
  /** Bytes in free buffers held for reuse. */
  pooledBytes: number;
  /** Free buffers held for reuse. */
  pooledBuffers: number;
  /** Requests served from the pool. */
  hits: number;
  /** Requests that allocated a new buffer. */
  misses: number;
} {
  const pool = poolOf(device);
  return { device: device.name, pooledBytes: pool.bytes, pooledBuffers: pool.buffers, hits: pool.hits, misses: pool.misses };
}

/** Lets every pooled buffer of the active device go (they are reallocated on demand). */
export function releasePooledMemory(device: Device = activeDevice()): void {
  poolOf(device).clear();
}
