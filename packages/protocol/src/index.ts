// The public face of @rumpxen/protocol: one export line per module (append yours).
export {};
export * from './toolchain.js';
export * from './link.js';
export * from './domain.js';
export * from './pci.js';
export * from './shutdown.js';
export * from './elf.js';
export * from './xen-notes.js';
export * from './xen-features.js';
export * from './verdict.js';
export * from './include-dir.js';
export * from './process.js';
export * from './cache-dir.js';
export * from './compile.js';
