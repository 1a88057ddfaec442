/**
 * Every test file of this package: the TypeScript backend (the default here) and the
 * simulated-device backend 'sim' (@axon/tensor/testing), so that AXON_BACKEND=sim runs the
 * whole suite on the simulation.
 */
import { createJsBackend } from '@axon/kernels-js';
import { registerSimulatedBackend } from '@axon/tensor/testing';

registerSimulatedBackend(createJsBackend);
