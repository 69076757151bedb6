export * from './errors.js';
export * from './cache.js';
export * from './sources.js';
export * from './configs.js';
export * from './components.js';
export * from './build.js';
export * from './hosttools.js';
export * from './libc.js';
