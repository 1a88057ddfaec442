export * from './backend.js';
export { cpuDevice } from './device.js';
export {
  registerBackend,
  markBackendUnavailable,
  listBackends,
  backendStatus,
  setBackend,
  getBackend,
  withBackend,
  kernelProviders,
  type BackendFactory,
} from './registry.js';
export { scope, keep, memoryInfo, releasePooledMemory } from './memory.js';
export { Tensor, Variable, variable, type NestedArray, type GradNode } from './tensor.js';
export {
  noGrad,
  isGradEnabled,
  recordOp,
  recordMultiOutputOp,
  backward,
  valueAndGrads,
  grad,
  grads,
  type GradientCallback,
} from './autograd.js';
export { setSeed, randomFloat, randomStandardNormal, randomInt, shuffleInPlace } from './random.js';
export { sizeOf, formatShape, shapesEqual, broadcastShapes, normalizeAxis, normalizeAxes, type Shape } from './shape.js';
export * from './ops/index.js';
