/**
 * A simulated device, to prove the Backend contract: buffers are opaque
 * handles whose values sit in a private store, reachable only through the
 * device's `write` (upload) and `read` (download), which it counts. Its
 * kernels run another (host) backend's kernels on the store's arrays, so
 * results are that backend's; what the simulation shows is that the core
 * never touches device memory directly and moves only what it must.
 *
 *   registerBackend('sim', () => createSimulatedBackend(createJsBackend()), -10);
 */
import {
  KERNEL_NAMES,
  type AnyBackend,
  type Backend,
  type DType,
  type Device,
  type KernelName,
  type Kernels,
  type TypedArray,
} from '../backend.js';
import { bridgeKernel, cpuDevice, mapBufferArgs } from '../device.js';
import { registerBackend } from '../registry.js';

/** A buffer of the simulated device: an opaque handle. */
export interface SimulatedBuffer {
  /** The handle's key in the device's private store. */
  readonly id: number;
  /** Element count. */
  readonly length: number;
  /** Element type. */
  readonly dtype: DType;
}

/** What a simulated device counts: transfers between host and device, and allocations. */
export interface TransferCounters {
  /** write() calls and the bytes they moved host → device. */
  uploads: number;
  /** Bytes moved host → device by write(). */
  uploadBytes: number;
  /** read() calls and the bytes they moved device → host. */
  downloads: number;
  /** Bytes moved device → host by read(). */
  downloadBytes: number;
  /** Buffers allocated on the device (the pool serves the rest). */
  allocations: number;
}

/** A device whose buffers are opaque handles and whose transfers are counted. */
export interface SimulatedDevice extends Device<SimulatedBuffer> {
  /** Transfers and allocations so far (live: read it after the code under test). */
  readonly counters: TransferCounters;
  /** Zeroes the counters. */
  resetCounters(): void;
  /** Buffers allocated and not freed. */
  readonly liveBuffers: number;
}

/** Options of {@link createSimulatedBackend}. */
export interface SimulatedBackendOptions {
  /** Backend name (default 'sim'). */
  name?: string;
  /** Implement only these kernels (default: every kernel `compute` has); the others fall back. */
  kernels?: readonly KernelName[];
  /** Share a device with another simulated backend (default: a new one). */
  device?: SimulatedDevice;
}

/**
 * A new simulated device: `alloc` fills new buffers with NaN (int32: a sentinel) so that an
 * output read before being written shows; `read` returns a copy; both transfers are counted.
 */
export function createSimulatedDevice(name = 'simulated'): SimulatedDevice {
  const store = new Map<number, TypedArray>();
  let nextId = 1;
  const counters: TransferCounters = { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0, allocations: 0 };
  const arrayOf = (buffer: SimulatedBuffer): TypedArray => {
    const array = store.get(buffer?.id);
    if (!array) throw new Error(`${name}: not a live buffer of this device: ${JSON.stringify(buffer)}`);
    return array;
  };
  const device: SimulatedDevice & { arrayOf(b: SimulatedBuffer): TypedArray } = {
    name,
    host: false,
    counters,
    get liveBuffers() {
      return store.size;
    },
    alloc(length, dtype) {
      counters.allocations++;
      const id = nextId++;
      // Filled with NaN (int32: a sentinel) so that a kernel output read before being written shows.
      store.set(id, dtype === 'int32' ? new Int32Array(length).fill(-0x5eed) : new Float32Array(length).fill(NaN));
      return Object.freeze({ id, length, dtype });
    },
    write(buffer, values) {
      const array = arrayOf(buffer);
      if (values.length !== array.length || values instanceof Int32Array !== array instanceof Int32Array) {
        throw new Error(
          `${name}: write of ${values.length} ${values instanceof Int32Array ? 'int32' : 'float32'} values into a buffer of ${array.length} ${buffer.dtype}`,
        );
      }
      counters.uploads++;
      counters.uploadBytes += values.length * 4;
      array.set(values);
    },
    read(buffer) {
      const array = arrayOf(buffer);
      counters.downloads++;
      counters.downloadBytes += array.length * 4;
      return array.slice();
    },
    describe(buffer) {
      return { length: buffer.length, dtype: buffer.dtype };
    },
    free(buffer) {
      store.delete(buffer.id);
    },
    resetCounters() {
      counters.uploads = counters.uploadBytes = counters.downloads = counters.downloadBytes = counters.allocations = 0;
    },
    arrayOf,
  };
  return device;
}

/**
 * A backend on a simulated device whose kernels are `compute`'s (a host
 * backend such as the js or reference one), run on the device's private
 * arrays without counting (that is computing, not transfer).
 *
 * @throws Error if compute is not on a host device.
 *
 * @example
 * ```ts
 * import { createJsBackend } from '@axon/kernels-js';
 * const sim = createSimulatedBackend(createJsBackend(), { kernels: ['gemm'] });
 * registerBackend('sim-gemm', () => sim, -10);
 * // ... run ops with setBackend('sim-gemm'), then inspect sim.device.counters
 * ```
 */
export function createSimulatedBackend(
  compute: Backend,
  options: SimulatedBackendOptions = {},
): Backend<SimulatedBuffer, SimulatedBuffer> & {
  /** The simulated device (options.device, or a new one). */
  device: SimulatedDevice;
} {
  if (!compute.device.host)
    throw new Error(`createSimulatedBackend: compute must be a host backend, got '${compute.name}' on ${compute.device.name}`);
  const device = (options.device ?? createSimulatedDevice()) as SimulatedDevice & { arrayOf(b: SimulatedBuffer): TypedArray };
  const wanted = options.kernels ? new Set(options.kernels) : null;
  const backend: Record<string, unknown> = { name: options.name ?? 'sim', device };
  for (const name of KERNEL_NAMES) {
    const fn = compute[name] as ((...args: unknown[]) => void) | undefined;
    if (!fn || (wanted && !wanted.has(name))) continue;
    backend[name] = (...args: unknown[]) => {
      fn.apply(
        compute,
        mapBufferArgs(name, args, (b) => device.arrayOf(b as SimulatedBuffer)),
      );
    };
  }
  return backend as unknown as Backend<SimulatedBuffer, SimulatedBuffer> & { device: SimulatedDevice };
}

/**
 * The kernels of any backend as kernels over host arrays: a host backend's
 * own, a device backend's through copies to its device and back. What the
 * conformance suite calls. Kernels the backend lacks are absent.
 */
export function hostKernels(backend: AnyBackend): Partial<Kernels> {
  const out: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    const fn = backend[name] as ((...args: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') continue;
    const bound = fn.bind(backend);
    out[name] = backend.device.host ? bound : bridgeKernel(name, bound, cpuDevice, backend.device);
  }
  return out as Partial<Kernels>;
}

/** The name the test suites register the simulated backend under (below every real backend). */
export const SIMULATED_BACKEND = 'sim';

/**
 * Registers backend 'sim' (priority -10: never the default) computing with
 * `createCompute()`'s kernels on a simulated device, so that suites iterating
 * over listBackends() run on it too and AXON_BACKEND=sim runs a whole suite on it.
 */
export function registerSimulatedBackend(createCompute: () => Backend): void {
  registerBackend(SIMULATED_BACKEND, () => createSimulatedBackend(createCompute()), -10);
}
