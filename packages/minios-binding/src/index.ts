export {};
export * from './xen/index.js';
