/**
 * The libc mode: NetBSD's libc, libm, libpthread and libutil for the Xen targets (RUMPRUN
 * mode: no system call stubs), and the base rump kernel with RUMP_KERNEL_IS_LIBC, made with
 * the tools of the kernel-mode build. Built here when the cache lacks it (about two minutes
 * on top of the kernel build `npm test` makes first), then found in the cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { xenPvTarget } from '@rumpxen/minios-binding';
import { buildNetbsd, buildNetbsdLibc, libcConfig, NetbsdBuildError, type NetbsdBuild, type NetbsdLibcBuild } from '../src/index.js';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
let kernel: NetbsdBuild;
let libc: NetbsdLibcBuild;

function sh(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
}

beforeAll(async () => {
  kernel = await buildNetbsd('xen-pv', { cachedOnly: true });
  libc = await buildNetbsdLibc('xen-pv', { onProgress: (l) => console.error(l) });
}, 900_000);

describe('NetBSD libc for the Xen targets', () => {
  it('is compiled with the application flags of the guest toolchain contract, the kernel base with the kernel flags', () => {
    const config = libcConfig(xenPvTarget, kernel);
    // Floating point allowed (printf's %f), only NetBSD's headers (-nostdinc), no other -I.
    expect(config.cflags).toEqual(expect.arrayContaining(xenPvTarget.cflags));
    expect(config.cflags).not.toContain('-mgeneral-regs-only');
    expect(config.kernelCflags).toEqual(kernel.config.cflags);
    expect(libc.config).toEqual(config);
    const mk = readFileSync(join(libc.dir, 'tools', 'mk.conf'), 'utf8');
    expect(mk).toMatch(/^RUMPRUN=yes$/m);
    expect(mk).toContain(`BUILDRUMP_CFLAGS=${config.cflags.join(' ')}`);
    // Built beside the kernel build, never into it.
    expect(libc.dir).not.toBe(kernel.dir);
    expect(libc.kernel.dir).toBe(kernel.dir);
  });

  it('installs the headers and the four static archives; libc has no system call stubs and is non-PIC', () => {
    for (const h of ['stdio.h', 'stdlib.h', 'math.h', 'pthread.h', 'util.h', 'sys/syscall.h', 'machine/types.h', 'rump/rump.h']) {
      expect(existsSync(join(libc.includeDir, h)), h).toBe(true);
    }
    expect(Object.keys(libc.archives).sort()).toEqual(['c', 'm', 'pthread', 'util']);
    const defined = sh('nm', ['--defined-only', libc.archives.c!]);
    expect(defined).toMatch(/ T printf$/m);
    // RUMPRUN=yes: write and open are left to the rump kernel, malloc to the layer under libc.
    for (const s of ['write', 'open', 'malloc']) expect(defined, s).not.toMatch(new RegExp(` [TW] ${s}$`, 'm'));
    expect(sh('nm', ['-u', libc.archives.c!])).toMatch(/ U write$/m);
    expect(sh('nm', ['--defined-only', libc.archives.m!])).toMatch(/ [TW] sqrt$/m);
    const relocs = sh('readelf', ['-rW', libc.archives.c!]);
    expect(relocs).toContain('R_X86_64_PC32');
    expect(relocs).not.toMatch(/GOTPCREL|R_X86_64_TPOFF|GOTTPOFF/);
  });

  it('the base rump kernel exports its system calls under their libc names too', () => {
    const syms = sh('nm', ['--defined-only', libc.rumpKernelLibc]);
    expect(syms).toMatch(/ T rump___sysimpl_write$/m);
    expect(syms).toMatch(/ W write$/m);
    expect(syms).toMatch(/ T _sys_write$/m);
    const plain = sh('nm', ['--defined-only', join(kernel.libDir, 'librump.a')]);
    expect(plain).toMatch(/ T rump___sysimpl_write$/m);
    expect(plain).not.toMatch(/ W write$/m);
  });

  it('is found in the cache again (xen-pvh shares it), also through the CLI, and listed', async () => {
    const pvh = await buildNetbsdLibc('xen-pvh');
    expect(pvh.cached).toBe(true);
    expect(pvh.dir).toBe(libc.dir);
    const r = spawnSync(process.execPath, [CLI, 'build', 'libc', 'xen-pv', '-q'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`xen-pv\t${libc.dir}\tcached\n`);
    const list = spawnSync(process.execPath, [CLI, 'list'], { encoding: 'utf8' });
    expect(list.stdout).toContain(`libc\t${libc.key.slice(0, 16)}\t4 libraries\t${libc.dir}\n`);
  });

  it('posix has no libc build', async () => {
    await expect(buildNetbsdLibc('posix')).rejects.toThrow(NetbsdBuildError);
    const r = spawnSync(process.execPath, [CLI, 'build', 'libc', 'posix'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/posix.*host C library/);
  });
});
