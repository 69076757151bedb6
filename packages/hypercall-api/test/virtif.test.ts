/**
 * virtif.ts against the NetBSD tree it describes: NetBSD's own virtif_user.h (prototypes,
 * VIFHYPER_REVISION) and if_virt.h (how each name is built from VIRTIF_BASE), read from the
 * unpacked tree of @rumpxen/netbsd-build's cache (.cache/netbsd/src, or $RUMPXEN_CACHE);
 * skipped when no tree has been unpacked. if_virt.h also names VIFHYPER_FLAGS
 * (rumpcomp_<base>_flags): no prototype declares it and if_virt.c never calls it, so it is
 * not part of the interface this version needs.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VIFHYPER_REVISION, virtifFunctions, virtifMacros } from '../src/index.js';

function virtifDir(): string | undefined {
  const cache = process.env.RUMPXEN_CACHE ?? join(__dirname, '..', '..', '..', '.cache');
  const src = join(cache, 'netbsd', 'src');
  if (!existsSync(src)) return undefined;
  for (const d of readdirSync(src).filter((n) => n.startsWith('netbsd-') && !n.includes('.')).sort()) {
    const dir = join(src, d, 'src-netbsd', 'sys', 'rump', 'net', 'lib', 'libvirtif');
    if (existsSync(join(dir, 'virtif_user.h'))) return dir;
  }
  return undefined;
}

const dir = virtifDir();
const norm = (s: string) => s.replace(/\s+/g, ' ').replace(/\s*\*\s*/g, ' *').replace(/\( /g, '(').trim();

describe.skipIf(!dir)('virtif.ts against NetBSD\'s libvirtif', () => {
  const userH = dir ? readFileSync(join(dir, 'virtif_user.h'), 'utf8') : '';
  const ifVirtH = dir ? readFileSync(join(dir, 'if_virt.h'), 'utf8') : '';
  const ifVirtC = dir ? readFileSync(join(dir, 'if_virt.c'), 'utf8') : '';

  it('VIFHYPER_REVISION is NetBSD\'s', () => {
    expect(userH).toMatch(new RegExp(`#define\\s+VIFHYPER_REVISION\\s+${VIFHYPER_REVISION}\\b`));
  });

  it('every function NetBSD declares is in the data, with the same return and parameter types', () => {
    const protos = [...userH.matchAll(/^(int|void)\s+(VIF\w+)\s*\(([^;]*)\);/gm)].map((m) => ({
      name: m[2]!, returns: m[1]!, params: m[3]!.split(',').map(norm),
    }));
    expect(protos.map((p) => p.name).sort()).toEqual(virtifFunctions.map((f) => f.name).sort());
    for (const p of protos) {
      const f = virtifFunctions.find((x) => x.name === p.name)!;
      expect(f.returns, p.name).toBe(p.returns);
      expect(f.params.map((x) => norm(x.type)), p.name).toEqual(p.params);
    }
  });

  it('each name is built from VIRTIF_BASE as if_virt.h builds it; VIFHYPER_FLAGS is named but never called', () => {
    const defs = new Map([...ifVirtH.matchAll(/^#define\s+(VIF\w+)\s+VIF_BASENAME3\((\w+),\s*VIRTIF_BASE,\s*(\w+)\)/gm)]
      .map((m) => [m[1]!, { prefix: m[2]!, suffix: m[3]! }]));
    for (const m of virtifMacros) expect(defs.get(m.macro), m.macro).toEqual({ prefix: m.prefix, suffix: m.suffix });
    const extra = [...defs.keys()].filter((k) => !virtifMacros.some((m) => m.macro === k));
    expect(extra).toEqual(['VIFHYPER_FLAGS']);
    expect(ifVirtC).not.toContain('VIFHYPER_FLAGS');
  });
});
