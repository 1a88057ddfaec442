/**
 * Every test file of this package: the TypeScript backend, the native one when it loads, and the
 * simulated-device backend 'sim' (@axon/tensor/testing), so suites that iterate over
 * listBackends() run on all three and AXON_BACKEND=sim runs the whole suite on the simulation.
 */
import { createJsBackend } from '@axon/kernels-js';
import { registerSimulatedBackend } from '@axon/tensor/testing';

registerSimulatedBackend(createJsBackend);
