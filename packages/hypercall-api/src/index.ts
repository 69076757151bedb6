export * from './target.js';
export * from './types.js';
export * from './rumpuser.js';
export * from './pci.js';
export * from './virtif.js';
export * from './errno.js';
export * from './query.js';
export * from './render.js';
