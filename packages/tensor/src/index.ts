export * from './backend.js';
export * from './registry.js';
export { Tensor, Variable, variable, type DType, type TypedArray, type NestedArray, type GradNode } from './tensor.js';
export { noGrad, isGradEnabled, recordOp, backward, valueAndGrads, grad, grads } from './autograd.js';
export { setSeed, randomFloat, randomStandardNormal, randomInt, shuffleInPlace } from './random.js';
export { sizeOf, formatShape, shapesEqual, broadcastShapes, normalizeAxis, normalizeAxes, type Shape } from './shape.js';
export * from './ops/index.js';
