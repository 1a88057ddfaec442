export * from './backend.js';
export * from './registry.js';
