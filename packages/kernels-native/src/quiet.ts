/**
 * `@axon/kernels-native/quiet`: the same API and registration as the main entry, without the stderr
 * line when the addon is unavailable (for packages that fall back to 'js' by design, like @axon/node;
 * the reason stays in `nativeUnavailableReason` and `backendStatus()`).
 */
import { registerNative } from './register.js';

export * from './api.js';

registerNative({ quiet: true });
