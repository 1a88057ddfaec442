/**
 * @axon/node: Axon in one import, as `@tensorflow/tfjs-node` is for TensorFlow.js.
 *
 * Re-exports `@axon/tensor`, `@axon/layers`, `@axon/recurrent`, `@axon/models`, `@axon/data` and
 * `@axon/explain`, and registers the backends: 'native' (the C++/OpenBLAS addon) when it loads on
 * this machine, with 'js' (TypeScript + WebAssembly) serving whatever it does not — everything, when
 * the addon is absent.
 * Importing never prints anything; {@link describeBackend} says which backend serves and why, and
 * `AXON_VERBOSE=1` prints that line when the package loads.
 *
 * ```ts
 * import { sequential, dense, describeBackend } from '@axon/node';
 *
 * console.log(describeBackend()); // "Axon backend: native (OpenBLAS 0.3.21 ..., 2 threads)"
 * const model = sequential([dense({ units: 1, inputShape: [3] })]);
 * ```
 */
import { describeBackend } from './backend.js';

export * from '@axon/tensor';
export * from '@axon/layers';
export * from '@axon/recurrent';
export * from '@axon/models';
export * from '@axon/data';
export * from '@axon/explain';
// Nine names exist in both @axon/tensor and @axon/layers. As in Keras, the layer wins at the top level
// (`conv2d({ filters: 32, kernelSize: 3 })`, `reshape({ targetShape })`, `elu()`, `softmax()`, the merge
// layers `add()`, `maximum()`, `minimum()`); the tensor op is `ops.conv2d`, `ops.reshape`, `ops.elu`,
// `ops.softmax`, `ops.add`, `ops.maximum`, `ops.minimum`, and every other op is under `ops` too.
export { add, conv2d, elu, formatShape, maximum, minimum, reshape, softmax, type Shape } from '@axon/layers';
export * as ops from '@axon/tensor';
export { blasInfo, getNumThreads, nativeAvailable, setNumThreads } from '@axon/kernels-native/quiet';
export { backendInfo, describeBackend, type BackendInfo } from './backend.js';

if (process.env.AXON_VERBOSE === '1') process.stderr.write(`${describeBackend()}\n`);
