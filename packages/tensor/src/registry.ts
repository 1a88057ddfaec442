import type { Backend } from './backend.js';

export type BackendFactory = () => Backend;

interface Registration {
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
}

const registrations = new Map<string, Registration>();
/** Reasons a backend package could not register itself (e.g. the native addon failed to load). */
const unavailable = new Map<string, string>();
let active: Backend | undefined;
let explicitlyChosen = false;

/**
 * Makes a backend available. The highest priority wins by default; the
 * AXON_BACKEND environment variable, or setBackend(), overrides that.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  registrations.set(name, { factory, priority });
  unavailable.delete(name);
  if (!explicitlyChosen) active = undefined; // re-pick the default lazily
}

/** Records why a backend package could not register itself; surfaced by errors and `backendStatus()`. */
export function markBackendUnavailable(name: string, reason: string): void {
  if (!registrations.has(name)) unavailable.set(name, reason);
}

export function listBackends(): string[] {
  return [...registrations.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Every backend known to this process: registered ones, and those that failed with their reason. */
export function backendStatus(): { name: string; available: boolean; reason?: string }[] {
  return [
    ...listBackends().map((name) => ({ name, available: true })),
    ...[...unavailable.entries()].map(([name, reason]) => ({ name, available: false, reason })),
  ];
}

function instantiate(name: string): Backend {
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
  reg.instance ??= reg.factory();
  return reg.instance;
}

/** Switches the active backend; throws if the name is unknown. */
export function setBackend(name: string): Backend {
  active = instantiate(name);
  explicitlyChosen = true;
  return active;
}

/** The active backend: the one set, else AXON_BACKEND, else the highest priority registered. */
export function getBackend(): Backend {
  if (active) return active;
  const fromEnv = typeof process !== 'undefined' ? process.env.AXON_BACKEND : undefined;
  if (fromEnv) {
    active = instantiate(fromEnv);
    return active;
  }
  const best = listBackends()[0];
  if (best === undefined) {
    const reasons = [...unavailable.entries()].map(([n, r]) => ` '${n}' is unavailable: ${r}.`).join('');
    throw new Error(`No Axon backend is registered: import '@axon/kernels-js' (or '@axon/kernels-native').${reasons}`);
  }
  active = instantiate(best);
  return active;
}

/** Runs fn with `name` as the active backend, restoring the previous one afterwards. */
export function withBackend<T>(name: string, fn: () => T): T {
  const previous = active;
  const previousExplicit = explicitlyChosen;
  setBackend(name);
  try {
    return fn();
  } finally {
    active = previous;
    explicitlyChosen = previousExplicit;
  }
}
