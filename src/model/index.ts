export * from './beat.js';
export * from './attributes.js';
export * from './sequence.js';
export * from './anomaly.js';
export * from './diagnosis.js';
export * from './evidence.js';
export * from './heal.js';
