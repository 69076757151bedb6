/**
 * The xen-pv and xen-pvh TargetDefinitions point at the built guest kernel and carry a
 * linker script with what the image-linker relies on (entry, link sets, TLS, notes).
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';

describe.each([
  { target: xenPvTarget, entry: 'mk_start' },
  { target: xenPvhTarget, entry: 'mk_pvh_start' },
])('$target.name target', ({ target, entry }) => {
  it('names its built start object and kernel library, which define the entry symbol', () => {
    expect(target.entrySymbol).toBe(entry);
    expect(existsSync(target.startObject!)).toBe(true);
    for (const lib of target.libraries) expect(existsSync(lib)).toBe(true);
    const syms = execFileSync('nm', ['--defined-only', target.startObject!], { encoding: 'utf8' });
    expect(syms).toMatch(new RegExp(`\\bT ${entry}$`, 'm'));
    // No strong libc names: a rump kernel built as its own libc must win every one of them.
    const lib = execFileSync('nm', ['--defined-only', target.libraries[0]!], { encoding: 'utf8' });
    for (const name of ['memcpy', 'memset', 'memmove', 'memcmp', 'malloc', 'free', 'printf', 'strlen', 'read', 'write', 'open']) {
      expect(lib, name).not.toMatch(new RegExp(`^[0-9a-f]+ [TDBR] ${name}$`, 'm'));
    }
    expect(lib).toMatch(/^[0-9a-f]+ W memcpy$/m);
  });

  it('has a linker script with the entry, the 1 MiB base, kept link sets and a TLS segment', () => {
    const script = target.linkerScript!;
    expect(script).toContain(`ENTRY(${entry})`);
    expect(script).toContain('. = 0x100000;');
    expect(script).toMatch(/link_set_modules : \{ KEEP\(\*\(link_set_modules\)\) \}/);
    expect(script).toMatch(/link_set_rump_components : \{ KEEP\(\*\(link_set_rump_components\)\) \}/);
    expect(script).toMatch(/\.tdata : ALIGN\(64\) \{/);
    expect(script).toMatch(/\.tbss : \{/);
    expect(script).toMatch(/tls PT_TLS/);
    expect(script).toContain('KEEP(*(.note.Xen))');
    expect(target.layout.start).toBe(0x100000n);
    expect(target.cflags).toEqual(expect.arrayContaining(['-mno-red-zone', '-fno-pic', '-ffreestanding']));
  });
});
