export * from './errors.js';
export * from './assets.js';
export * from './qemu.js';
export * from './verdict.js';
export * from './elf.js';
export * from './boot.js';
export type { CliCommand } from './cli/command.js';
export * from './full/index.js';
export * from './fixtures.js';
