/**
 * The backend registry and the kernel dispatcher.
 *
 * Backends register a factory and a priority. The active backend is the one
 * set, else AXON_BACKEND, else the highest priority. Each kernel is taken from
 * the active backend when it implements it, else from the next backend that
 * does, in priority order; a kernel from a backend on another device runs
 * through bridgeKernel (buffers copied there and back). The resolved table is
 * cached until the registry changes.
 */
import { COMPOSABLE_KERNELS, KERNEL_NAMES, type AnyBackend, type Backend, type Device, type KernelName, type Kernels } from './backend.js';
import { bridgeKernel, poolOf } from './device.js';

/**
 * Makes a backend when it is first needed (see {@link registerBackend}); called at most once per
 * registration, and only when the backend becomes active or serves a kernel the active one lacks.
 */
export type BackendFactory = () => AnyBackend;

// Two copies of this package in one process (npm installs a second one when two packages ask for
// incompatible versions) would each have their own registry: backends registered with one are
// invisible to ops of the other. Every copy records where it was loaded from on a process-wide
// key, so the second one can say so at once — and "no backend" errors repeat it.
const COPIES = Symbol.for('axon.tensor.copies');
const here = new URL(import.meta.url).pathname; // without a query string: a re-evaluation is not a copy
const registryOfCopies = globalThis as { [COPIES]?: string[] };
registryOfCopies[COPIES] ??= [];
const copies = registryOfCopies[COPIES];
if (!copies.includes(here)) {
  copies.push(here);
  if (copies.length === 2) {
    process.stderr.write(`@axon/tensor: ${twoCopiesMessage()}\n`);
  }
}

function twoCopiesMessage(): string {
  return (
    `${copies.length} copies of @axon/tensor are loaded (${copies.join(', ')}); tensors and backends of one are unknown to ` +
    'the other. Install versions of the @axon packages that agree (npm ls @axon/tensor shows who asks for which; npm dedupe).'
  );
}

interface Registration {
  factory: BackendFactory;
  priority: number;
  instance?: Backend<unknown, unknown>;
}

const registrations = new Map<string, Registration>();
/** Reasons a backend package could not register itself (e.g. the native addon failed to load). */
const unavailable = new Map<string, string>();
let active: Backend<unknown, unknown> | undefined;
let explicitlyChosen = false;

/** Kernels over opaque device buffers, as the ops call them. */
export type DeviceKernels = Kernels<unknown, unknown>;

interface Resolved {
  backend: Backend<unknown, unknown>;
  kernels: DeviceKernels;
  providers: Record<KernelName, string | null>;
  /** The device each kernel computes on (null where no backend has it). */
  devices: Record<KernelName, Device | null>;
}
let resolved: Resolved | undefined;

function invalidate(): void {
  resolved = undefined;
}

/**
 * Makes a backend available under `name`. The highest priority wins by default; the
 * AXON_BACKEND environment variable, or setBackend(), overrides that. Registering a name again
 * replaces the registration (and the active backend, if it was the one set by name). Backend
 * packages call this when imported: `@axon/kernels-js` registers `'js'` (priority 10),
 * `@axon/kernels-native` registers `'native'` (priority 20).
 *
 * @param name - The name for {@link setBackend} and AXON_BACKEND.
 * @param factory - Makes the backend, lazily, on first use.
 * @param priority - Higher wins the default choice; 0 if omitted.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  const wasActive = active !== undefined && registrations.get(name)?.instance === active;
  registrations.set(name, { factory, priority });
  unavailable.delete(name);
  invalidate();
  // A re-registered active backend is replaced by the new one; otherwise re-pick the default lazily.
  if (wasActive && explicitlyChosen) active = instantiate(name);
  else if (!explicitlyChosen) active = undefined;
}

/** Records why a backend package could not register itself; surfaced by errors and `backendStatus()`. */
export function markBackendUnavailable(name: string, reason: string): void {
  if (!registrations.has(name)) unavailable.set(name, reason);
}

/** Names of the registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...registrations.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Every backend known to this process: registered ones, and those that failed with their reason. */
export function backendStatus(): {
  /** The backend's name. */
  name: string;
  /** Whether it is registered (usable with setBackend). */
  available: boolean;
  /** Why it is not (only when unavailable). */
  reason?: string;
}[] {
  return [
    ...listBackends().map((name) => ({ name, available: true })),
    ...[...unavailable.entries()].map(([name, reason]) => ({ name, available: false, reason })),
  ];
}

function instantiate(name: string): Backend<unknown, unknown> {
  const reg = registrations.get(name);
  if (!reg) {
    const why = unavailable.get(name);
    const known = listBackends();
    throw new Error(
      `Backend '${name}' is not registered` +
        (why ? `: ${why}` : '') +
        `. Registered backends: ${known.length ? known.map((n) => `'${n}'`).join(', ') : 'none'}` +
        (known.length ? '' : " (import '@axon/kernels-js' or '@axon/kernels-native')"),
    );
  }
  if (!reg.instance) {
    const instance = reg.factory() as Backend<unknown, unknown>;
    if (!instance || typeof instance.name !== 'string' || !instance.device || typeof instance.device.alloc !== 'function') {
      throw new Error(`Backend '${name}': its factory must return {name, device, ...kernels}, got ${describe(instance)}`);
    }
    reg.instance = instance;
  }
  return reg.instance;
}

function describe(x: unknown): string {
  if (x === null || typeof x !== 'object') return String(x);
  return `an object with keys ${Object.keys(x).slice(0, 8).join(', ')}`;
}

/**
 * Switches the active backend for every later op, and returns it. The choice overrides
 * AXON_BACKEND and the priorities until set again. A tensor made on another device is moved to the
 * active one when an op reads it.
 *
 * @throws Error if `name` is not registered (the message says why when the package marked it
 * unavailable, e.g. the native addon failed to load), or if its factory returns no valid backend.
 *
 * @example
 * ```ts
 * import '@axon/kernels-native'; // registers 'native' (and 'js')
 * import { getBackend, listBackends, setBackend } from '@axon/tensor';
 *
 * console.log(listBackends()); // ['native', 'js'] when the addon loaded, else ['js']
 * setBackend('js');
 * console.log(getBackend().name); // 'js'
 * ```
 */
export function setBackend(name: string): Backend<unknown, unknown> {
  const next = instantiate(name);
  if (next !== active) invalidate();
  active = next;
  explicitlyChosen = true;
  return active;
}

/**
 * The active backend: the one set with {@link setBackend}, else the one named by the
 * AXON_BACKEND environment variable, else the highest-priority registered one.
 *
 * @throws Error if no backend is registered (import `@axon/kernels-js` or `@axon/kernels-native`),
 * or if AXON_BACKEND names an unregistered one.
 *
 * @example
 * ```ts
 * import '@axon/kernels-js';
 * import { getBackend } from '@axon/tensor';
 *
 * console.log(getBackend().name); // 'js'
 * ```
 */
export function getBackend(): Backend<unknown, unknown> {
  if (active) return active;
  const fromEnv = typeof process !== 'undefined' ? process.env.AXON_BACKEND : undefined;
  invalidate();
  if (fromEnv) {
    active = instantiate(fromEnv);
    return active;
  }
  const best = listBackends()[0];
  if (best === undefined) {
    const reasons = [...unavailable.entries()].map(([n, r]) => ` '${n}' is unavailable: ${r}.`).join('');
    const split = copies.length > 1 ? ` ${twoCopiesMessage()}` : '';
    throw new Error(`No Axon backend is registered: import '@axon/kernels-js' (or '@axon/kernels-native').${reasons}${split}`);
  }
  active = instantiate(best);
  return active;
}

/**
 * Runs fn with `name` as the active backend, restoring the previous one afterwards (also when fn
 * throws). fn must be synchronous: the previous backend is restored as soon as it returns.
 *
 * @throws Error as {@link setBackend} does for an unknown name.
 *
 * @example
 * ```ts
 * const y = withBackend('js', () => matmul(a, b));
 * ```
 */
export function withBackend<T>(name: string, fn: () => T): T {
  const previous = active;
  const previousExplicit = explicitlyChosen;
  setBackend(name);
  try {
    return fn();
  } finally {
    if (active !== previous) invalidate();
    active = previous;
    explicitlyChosen = previousExplicit;
  }
}

// ---- dispatch --------------------------------------------------------------------------------

function resolve(): Resolved {
  const backend = getBackend();
  if (resolved && resolved.backend === backend) return resolved;
  const kernels = {} as Record<KernelName, (...args: unknown[]) => void>;
  const providers = {} as Record<KernelName, string | null>;
  const devices = {} as Record<KernelName, Device | null>;
  const missing = new Set<KernelName>(KERNEL_NAMES);
  const take = (provider: Backend<unknown, unknown>): void => {
    for (const name of [...missing]) {
      if (typeof provider[name] !== 'function') continue;
      missing.delete(name);
      providers[name] = provider.name;
      devices[name] = provider.device;
      kernels[name] = dispatchTo(name, provider, backend);
    }
  };
  // The active backend first, then the others by priority, instantiated only while a kernel is missing.
  take(backend);
  for (const name of listBackends()) {
    if (missing.size === 0) break;
    try {
      const other = instantiate(name);
      if (other !== backend) take(other);
    } catch {
      // A backend whose factory fails serves no kernels; asking for it by name reports why.
    }
  }
  for (const name of missing) {
    providers[name] = null;
    devices[name] = null;
    kernels[name] = () => {
      throw new Error(
        `No registered backend implements the kernel '${name}' (active backend '${backend.name}'; ` +
          `registered: ${listBackends().join(', ')})`,
      );
    };
  }
  resolved = { backend, kernels: kernels as unknown as DeviceKernels, providers, devices };
  return resolved;
}

/** The provider's kernel as the active backend's ops call it: directly on a shared device, else bridged. */
function dispatchTo(
  name: KernelName,
  provider: Backend<unknown, unknown>,
  active: Backend<unknown, unknown>,
): (...args: unknown[]) => void {
  const fn = (provider[name] as (...args: unknown[]) => void).bind(provider);
  if (provider.device === active.device) return fn;
  const pool = poolOf(provider.device);
  return bridgeKernel(
    name,
    fn,
    active.device,
    provider.device,
    (length, dtype) => pool.take(length, dtype),
    (buffer) => {
      const { length, dtype } = provider.device.describe(buffer);
      pool.give(buffer, length, dtype);
    },
  );
}

/** @internal The kernels the ops call: each from the backend that serves it for the active backend. */
export function activeKernels(): DeviceKernels {
  return (resolved ?? resolve()).kernels;
}

/** @internal The device of the active backend: where new tensors are made. */
export function activeDevice(): Device {
  return (resolved ?? resolve()).backend.device;
}

/**
 * @internal Whether `name` runs on the active device (ops with a composite path
 * ask): a fused kernel only on another device would move every buffer there and
 * back, so the composite of on-device kernels is taken instead.
 */
export function hasKernel(name: KernelName): boolean {
  const r = resolved ?? resolve();
  return r.devices[name] === r.backend.device;
}

/**
 * For the active backend: which backend serves each kernel (itself, or the one
 * it falls back to), or null where none does and the op composes it from
 * other kernels (`composable`) or cannot run.
 */
export function kernelProviders(): {
  /** The kernel. */
  kernel: KernelName;
  /** The backend serving it, or null when none does. */
  backend: string | null;
  /** Whether an op can compute the same values from other kernels when none serves it. */
  composable: boolean;
}[] {
  const { providers } = resolve();
  return KERNEL_NAMES.map((kernel) => ({ kernel, backend: providers[kernel], composable: COMPOSABLE_KERNELS.has(kernel) }));
}
