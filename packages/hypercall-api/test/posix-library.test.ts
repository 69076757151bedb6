/**
 * The posix target as a drop-in librumpuser: soname, and the symbols a NetBSD rump kernel
 * (librump.so) and its host-side components import.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { byInterface, librumpImports, mandatory, requireArtifact } from '../src/index.js';

function definedSymbols(file: string, dynamic: boolean): Set<string> {
  const args = dynamic ? ['-D', '--defined-only', file] : ['--defined-only', file];
  const out = execFileSync('nm', args, { encoding: 'utf8' });
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^[0-9a-f]+ ([A-Za-z]) (\S+)$/.exec(line.trim());
    if (m && /[TDBRVW]/.test(m[1]!)) names.add(m[2]!);
  }
  return names;
}

describe('librumpuser.so.0 (posix target)', () => {
  const so = requireArtifact('librumpuserShared');
  const archive = requireArtifact('librumpuserStatic');
  const exported = definedSymbols(so, true);
  const archived = definedSymbols(archive, false);

  it('has the soname librumpuser.so.0, like NetBSD\'s', () => {
    const dyn = execFileSync('readelf', ['-dW', so], { encoding: 'utf8' });
    expect(dyn).toMatch(/\(SONAME\)\s+Library soname: \[librumpuser\.so\.0\]/);
  });

  it.each(librumpImports.map((h) => h.name))('exports %s (imported by librump.so)', (name) => {
    expect(exported.has(name)).toBe(true);
    expect(archived.has(name)).toBe(true);
  });

  const hostSide = [...byInterface('rumpuser_component').map((h) => h.name), 'rumpuser_iovread', 'rumpuser_iovwrite'];
  it.each(hostSide)('exports %s (imported by components with host-side code)', (name) => {
    expect(exported.has(name)).toBe(true);
    expect(archived.has(name)).toBe(true);
  });

  it('covers all 43 mandatory hypercalls and the 45 librump imports', () => {
    expect(mandatory.filter((h) => !exported.has(h.name)).map((h) => h.name)).toEqual([]);
    expect(librumpImports.length).toBe(45);
  });

  it('exports nothing but rumpuser_* (no helper leaks into the rump kernel\'s namespace)', () => {
    const stray = [...exported].filter((n) => !n.startsWith('rumpuser_') && !/^_(init|fini)$/.test(n));
    expect(stray).toEqual([]);
  });
});
