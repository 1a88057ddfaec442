/**
 * @axon/explain: why a model decides what it decides — gradient methods, activation maps,
 * occlusion, LIME and SHAP — and pictures of them. Each part is its own module; this file only
 * re-exports them.
 */
export * from './gradients.js';
export * from './activations.js';
export * from './occlusion.js';
export * from './pictures.js';
export * from './lime.js';
export * from './segmentation.js';
export * from './shap.js';
