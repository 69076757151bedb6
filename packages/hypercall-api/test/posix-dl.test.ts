/**
 * rumpuser_dl_bootstrap on the posix target, against a real shared object carrying kernel
 * symbols, two built-in modules and a component (c/posix-tests/dl_module.c): each callback
 * must get exactly what that object holds, with absolute addresses.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireArtifact } from '../src/index.js';

describe('rumpuser_dl_bootstrap (posix)', () => {
  const r = spawnSync(requireArtifact('dlProbe'), [], { encoding: 'utf8', timeout: 20_000 });
  const lines = r.stdout.split('\n');

  it('runs', () => {
    expect(r.status, r.stderr).toBe(0);
    expect(lines).toContain('sets modules 2 components 1');
  });
  it('hands both built-in modules of link_set_modules to modinit', () => {
    expect(lines).toContain('modinit 2 names ok');
  });
  it('hands the component of link_set_rump_components to compload once', () => {
    expect(lines).toContain('compload ours 1 other 0');
  });
  it('hands the object\'s symbol table to symload with relocated (absolute) addresses', () => {
    expect(lines).toContain('symload marker found address ok');
  });
});
