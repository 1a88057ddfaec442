export * from './shape.js';
export * from './serialization.js';
export * from './activations.js';
export * from './initializers.js';
export * from './regularizers.js';
export * from './layer.js';
