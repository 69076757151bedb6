/**
 * The builds `npm test` made before its tests (scripts/test-all.mjs runs
 * `rumpxen-netbsd-build build posix xen-pv xen-pvh`): found in the cache, compiled with the
 * targets' flags, and with the component graph image-linker resolves names through.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { xenPvhTarget, xenPvTarget } from '@rumpxen/minios-binding';
import { buildConfig, buildNetbsd, componentName, NetbsdBuildError, normalizeComponentName, resolveComponents, type NetbsdBuild } from '../src/index.js';

let pv: NetbsdBuild;
let pvh: NetbsdBuild;
let posix: NetbsdBuild;

beforeAll(async () => {
  // cachedOnly: a build missing here would be a rebuild, which these tests must not need.
  pv = await buildNetbsd('xen-pv', { cachedOnly: true });
  pvh = await buildNetbsd('xen-pvh', { cachedOnly: true });
  posix = await buildNetbsd('posix', { cachedOnly: true });
});

describe('NetBSD builds in the cache', () => {
  it('a second request is answered from the cache, without running buildrump.sh', async () => {
    const t0 = Date.now();
    const again = await buildNetbsd('xen-pv');
    expect(again.cached).toBe(true);
    expect(again.dir).toBe(pv.dir);
    // The log is the one from when it was built: nothing appended.
    expect(readFileSync(again.log, 'utf8')).toBe(readFileSync(pv.log, 'utf8'));
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('xen-pv and xen-pvh share one kernel-only build while their kernel flags agree', () => {
    expect(xenPvTarget.kernelCflags).toEqual(xenPvhTarget.kernelCflags);
    expect(pvh.dir).toBe(pv.dir);
    expect(pv.mode).toBe('kernel');
    expect(posix.mode).toBe('userspace');
    expect(posix.dir).not.toBe(pv.dir);
  });

  it("the kernel archives were compiled with the target's kernel flags (the guest toolchain contract)", () => {
    const mkConf = readFileSync(join(pv.dir, 'tools', 'mk.conf'), 'utf8');
    const line = /^BUILDRUMP_CFLAGS=(.*)$/m.exec(mkConf)?.[1] ?? '';
    for (const flag of xenPvTarget.kernelCflags!.filter((f) => f !== '-nostdinc')) expect(line.split(' ')).toContain(flag);
    expect(pv.config.args).toEqual(expect.arrayContaining(['-k', 'RUMP_CURLWP=hypercall', 'MKPIC=no']));
    expect(mkConf).toMatch(/^RUMPKERN_ONLY=yes$/m);
  });

  it('kernel-only archives are non-PIC and call curlwp as a hypercall', () => {
    const librump = pv.components.find((c) => c.name === 'rump')!.archive;
    const relocs = spawnSync('readelf', ['-rW', librump], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
    expect(relocs).not.toMatch(/R_X86_64_(GOTPCREL|GOTPCRELX|REX_GOTPCRELX|TLSGD|GOTTPOFF)\b/);
    const undef = spawnSync('nm', ['-u', librump], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
    expect(undef).toMatch(/\brumpuser_curlwp\b/);
  });

  it('the posix build has shared and static libraries and a librumpuser of its own (replaced at run time)', () => {
    const libs = spawnSync('ls', [posix.libDir], { encoding: 'utf8' }).stdout.split('\n');
    expect(libs).toEqual(expect.arrayContaining(['librump.so.0', 'librump.a', 'librumpnet_netinet.so.0', 'librumpuser.so.0']));
  });

  it('a changed flag is a different build', () => {
    const base = buildConfig(xenPvTarget);
    const other = buildConfig({ ...xenPvTarget, kernelCflags: [...xenPvTarget.kernelCflags!, '-O1'] });
    expect(other.cflags).not.toEqual(base.cflags);
    expect(other.cflags).toContain('-O1');
  });
});

describe('components', () => {
  it('each archive is named and knows what it needs', () => {
    const byName = new Map(pv.components.map((c) => [c.name, c]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['rump', 'vfs', 'net', 'net_net', 'net_netinet', 'fs_tmpfs', 'fs_ffs', 'dev_disk']));
    expect(byName.get('net_netinet')!.requires).toEqual(expect.arrayContaining(['net', 'net_net', 'rump']));
    expect(byName.get('fs_tmpfs')!.requires).toEqual(expect.arrayContaining(['rump', 'vfs']));
    expect(byName.get('fs_ffs')!.requires).toEqual(expect.arrayContaining(['dev_disk', 'vfs']));
    expect(byName.get('rump')!.requires).toEqual([]);
    expect(byName.has('user')).toBe(false); // NetBSD's own librumpuser is not a component
    // The kernel build has the virtif component (netfront's NetBSD side); posix does not ask for it.
    expect(byName.get('net_virtif')!.requires).toEqual(expect.arrayContaining(['net', 'net_net', 'rump']));
  });

  it('resolving names adds what they need, the base kernel last', () => {
    const chosen = resolveComponents(pv.components, ['net_netinet', 'librumpfs_tmpfs.a']).map((c) => c.name);
    expect(new Set(chosen)).toEqual(new Set(['net_netinet', 'fs_tmpfs', 'net_net', 'net', 'vfs', 'rump']));
    expect(chosen.at(-1)).toBe('rump');
    expect(chosen.indexOf('net_netinet')).toBeLessThan(chosen.indexOf('net_net'));
  });

  it('an unknown name is refused with the near ones', () => {
    let err: unknown;
    try {
      resolveComponents(pv.components, ['netinet']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetbsdBuildError);
    expect((err as Error).message).toContain('net_netinet');
  });

  it('archive file names and spellings map to one name', () => {
    expect(componentName('librump.a')).toBe('rump');
    expect(componentName('librumpnet_netinet.a')).toBe('net_netinet');
    expect(componentName('librumpnet_netinet_pic.a')).toBeUndefined();
    expect(componentName('librumpuser.a')).toBeUndefined();
    expect(normalizeComponentName('rumpnet_netinet')).toBe('net_netinet');
    expect(normalizeComponentName('base')).toBe('rump');
  });
});
