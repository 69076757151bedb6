/**
 * @rumpxen/image-linker: compose, inspect, configure and run rumpxen DomU images.
 * The library mirrors the CLI: build(), inspect(), renderConfig(), run(), loadManifest().
 */
export * from './errors.js';
export * from './elf.js';
export * from './xen-notes.js';
export * from './targets.js';
export * from './inputs.js';
export * from './linkmap.js';
export * from './inspect.js';
export * from './build.js';
export * from './config.js';
export * from './manifest.js';
export * from './project.js';
export * from './mkfs.js';
export * from './run/index.js';
