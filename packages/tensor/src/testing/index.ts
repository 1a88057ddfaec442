export * from './conformance.js';
export * from './gradcheck.js';
export * from './op-cases.js';
export * from './recurrent-cases.js';
export * from './simulated.js';
export * from './fuzz.js';
