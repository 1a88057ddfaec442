export * from './create.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape-ops.js';
export * from './linalg.js';
export * from './nn.js';
export { asTensor, type TensorLike } from './util.js';
export * from './recurrent.js';
export * from './optimizers.js';
