/** Which backend serves, in one line, only when asked. */
// kernels-native's quiet entry registers 'native' (or records why it cannot) without printing, and
// imports kernels-js, so a backend is always registered.
import { ENABLE_HINT, blasInfo, nativeAddonPath, nativeAvailable, nativeUnavailableReason } from '@axon/kernels-native/quiet';
import { getBackend } from '@axon/tensor';

/** What {@link describeBackend} reports, as data. */
export interface BackendInfo {
  /** The active backend's name: 'native', 'js', or one the user registered or chose with setBackend/AXON_BACKEND. */
  readonly backend: string;
  /** Whether the native addon loaded in this process. */
  readonly nativeAvailable: boolean;
  /** The addon binary that loaded (a prebuild shipped with the package, or a local build). */
  readonly addonPath?: string;
  /** The OpenBLAS the addon uses, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell". */
  readonly blas?: string;
  /** Threads of the native kernels (0 when the addon is absent). */
  readonly threads?: number;
  /** Why the addon did not load, and how to enable it. */
  readonly nativeUnavailableReason?: string;
}

/** The active backend and the native addon's state. */
export function backendInfo(): BackendInfo {
  const blas = blasInfo();
  return {
    backend: getBackend().name,
    nativeAvailable,
    ...(nativeAddonPath ? { addonPath: nativeAddonPath } : {}),
    ...(blas ? { blas: `${blas.config.trim()} (${blas.corename})`, threads: blas.threads } : {}),
    ...(nativeUnavailableReason ? { nativeUnavailableReason: `${nativeUnavailableReason}; ${ENABLE_HINT}` } : {}),
  };
}

/**
 * One line saying which backend serves and why, e.g.
 * `Axon backend: native (OpenBLAS 0.3.21 ... (Haswell), 2 threads; .../axon_native.napi.glibc.node)` or
 * `Axon backend: js (native unavailable: no prebuilt binary fits this machine ...; to enable it: ...)`.
 */
export function describeBackend(): string {
  const info = backendInfo();
  if (info.backend === 'native') return `Axon backend: native (${info.blas}, ${info.threads} threads; ${info.addonPath})`;
  const why = info.nativeAvailable ? 'native available, not selected' : `native unavailable: ${info.nativeUnavailableReason}`;
  return `Axon backend: ${info.backend} (${why})`;
}
