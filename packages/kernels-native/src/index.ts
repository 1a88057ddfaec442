/**
 * @axon/kernels-native: the C++/OpenBLAS backend.
 *
 * Importing this module loads the addon and registers backend 'native' (priority 20, above 'js'),
 * and imports @axon/kernels-js, which serves the kernels the addon leaves out. If the addon is
 * absent or cannot load, importing still succeeds: the backend is marked unavailable with the
 * reason, one line on stderr says why and how to enable it, and 'js' serves.
 * (`@axon/kernels-native/quiet` does the same without the line.)
 */
import { registerNative } from './register.js';

export * from './api.js';

registerNative({ quiet: false });
