export {};
export * from './xen/index.js';
export * from './targets.js';
