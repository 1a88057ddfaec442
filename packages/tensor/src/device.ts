/**
 * The host device the CPU backends share, and the bridge that runs a kernel
 * on another device than the one holding its buffers.
 */
import { KERNEL_ARGS, type ArgRole, type DType, type Device, type KernelName, type TypedArray } from './backend.js';

/**
 * Host memory: buffers are Float32Array / Int32Array, read and written in place.
 * New buffers are not zeroed (Node's `Buffer.allocUnsafeSlow`): every kernel
 * overwrites its outputs, and skipping the clear saves a pass over each fresh
 * output the pool could not serve.
 */
export const cpuDevice: Device<TypedArray> = {
  name: 'cpu',
  host: true,
  alloc(length: number, dtype: DType): TypedArray {
    const bytes = Buffer.allocUnsafeSlow(length * 4);
    return dtype === 'int32'
      ? new Int32Array(bytes.buffer, bytes.byteOffset, length)
      : new Float32Array(bytes.buffer, bytes.byteOffset, length);
  },
  write(buffer: TypedArray, values: TypedArray): void {
    buffer.set(values);
  },
  read(buffer: TypedArray): TypedArray {
    return buffer;
  },
  describe(buffer: TypedArray): { length: number; dtype: DType } {
    return { length: buffer.length, dtype: buffer instanceof Int32Array ? 'int32' : 'float32' };
  },
};

/**
 * Calls `visit` on every buffer argument of a kernel call, with its role, and
 * returns the arguments with each buffer replaced by visit's result (null
 * buffers and non-buffer arguments pass through unchanged).
 */
export function mapBufferArgs(
  kernel: KernelName,
  args: readonly unknown[],
  visit: (buffer: unknown, role: 'in' | 'out' | 'inout') => unknown,
): unknown[] {
  const roles = KERNEL_ARGS[kernel];
  return args.map((arg, i) => {
    const spec = roles[i] ?? '';
    const role: ArgRole = typeof spec === 'function' ? spec(args) : spec;
    if (arg === null || arg === undefined || role === '') return arg;
    if (role === 'ins') return (arg as readonly unknown[]).map((b) => visit(b, 'in'));
    if (typeof role === 'object') {
      const fields = arg as Record<string, unknown>;
      const out: Record<string, unknown> = { ...fields };
      for (const [field, fieldRole] of Object.entries(role)) {
        const value = fields[field];
        if (value !== null && value !== undefined) out[field] = visit(value, fieldRole);
      }
      return out;
    }
    return visit(arg, role);
  });
}

/**
 * `fn` (a kernel computing on device `to`) as a kernel taking buffers of device
 * `from`: inputs are copied to `to` before the call, outputs copied back after.
 * A buffer passed twice (an in-place call) gets one copy. Used by the
 * dispatcher for kernels a backend leaves to another device, and by the
 * testing kits to drive a device backend with host arrays.
 */
export function bridgeKernel(
  kernel: KernelName,
  fn: (...args: unknown[]) => void,
  from: Device,
  to: Device,
  alloc: (length: number, dtype: DType) => unknown = (length, dtype) => to.alloc(length, dtype),
  release: (buffer: unknown) => void = (buffer) => to.free?.(buffer),
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const copies = new Map<unknown, { copy: unknown; writeBack: boolean }>();
    try {
      const moved = mapBufferArgs(kernel, args, (buffer, role) => {
        let entry = copies.get(buffer);
        if (!entry) {
          const { length, dtype } = from.describe(buffer);
          const copy = alloc(length, dtype);
          entry = { copy, writeBack: false };
          copies.set(buffer, entry);
          // Pure outputs need no upload, but a buffer that is also read (in place) does.
          if (role !== 'out' || argsReadBuffer(kernel, args, buffer)) to.write(copy, from.read(buffer));
        }
        if (role !== 'in') entry.writeBack = true;
        return entry.copy;
      });
      fn(...moved);
      for (const [buffer, { copy, writeBack }] of copies) if (writeBack) from.write(buffer, to.read(copy));
    } finally {
      // Also when a copy or the kernel failed: every temporary goes back.
      for (const { copy } of copies.values()) release(copy);
    }
  };
}

/** Whether some 'in' or 'inout' argument of the call is `buffer` itself. */
function argsReadBuffer(kernel: KernelName, args: readonly unknown[], buffer: unknown): boolean {
  let read = false;
  mapBufferArgs(kernel, args, (b, role) => {
    if (b === buffer && role !== 'out') read = true;
    return b;
  });
  return read;
}

// ---- the buffer pool ---------------------------------------------------------------------------

/** Bytes of free buffers a device's pool keeps (per device) before it lets new ones go. */
export const DEFAULT_POOL_LIMIT = 512 * 1024 * 1024;

/**
 * Free buffers of one device, by dtype and exact length, so that a training
 * step's outputs reuse the previous step's memory instead of allocating (and,
 * on the host, page-faulting) afresh. Exact lengths because a step repeats the
 * same shapes; at most `limit` bytes are kept, beyond that a buffer is let go
 * (to the garbage collector, or to `device.free`).
 */
export class BufferPool {
  private readonly free = new Map<number, unknown[]>();
  /** Bytes held in free buffers. */
  bytes = 0;
  /** Buffers served from the pool / allocated from the device, since creation. */
  hits = 0;
  misses = 0;

  constructor(
    readonly device: Device,
    public limit = DEFAULT_POOL_LIMIT,
  ) {}

  private static key(length: number, dtype: DType): number {
    return length * 2 + (dtype === 'int32' ? 1 : 0);
  }

  /** A buffer of `length` elements (contents unspecified). */
  take(length: number, dtype: DType): unknown {
    const list = this.free.get(BufferPool.key(length, dtype));
    const buffer = list?.pop();
    if (buffer !== undefined) {
      this.hits++;
      this.bytes -= length * 4;
      return buffer;
    }
    this.misses++;
    return this.device.alloc(length, dtype);
  }

  /** Returns a buffer that nothing references any more. */
  give(buffer: unknown, length: number, dtype: DType): void {
    if (length === 0) return;
    if (this.bytes + length * 4 > this.limit) {
      this.device.free?.(buffer);
      return;
    }
    const key = BufferPool.key(length, dtype);
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    list.push(buffer);
    this.bytes += length * 4;
  }

  /** Lets every free buffer go. */
  clear(): void {
    for (const list of this.free.values()) for (const buffer of list) this.device.free?.(buffer);
    this.free.clear();
    this.bytes = 0;
  }

  get buffers(): number {
    let n = 0;
    for (const list of this.free.values()) n += list.length;
    return n;
  }
}

const pools = new WeakMap<Device, BufferPool>();

/** The pool of a device (one per device object). */
export function poolOf(device: Device): BufferPool {
  let pool = pools.get(device);
  if (!pool) {
    pool = new BufferPool(device);
    pools.set(device, pool);
  }
  return pool;
}
