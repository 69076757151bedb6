import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assetPaths, buildFixture, cacheDir, fetchAssets, MissingAssetError, readKernelInfo, validateKernel, XEN_ELFNOTE } from '../src/index.js';
import { cliPath } from './cli.js';

const savedCache = process.env.RUMPXEN_CACHE;
afterEach(() => {
  if (savedCache === undefined) delete process.env.RUMPXEN_CACHE;
  else process.env.RUMPXEN_CACHE = savedCache;
});

describe('assets', () => {
  it('names the package and the fetch command when an asset is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'xen-testbed-empty-cache-'));
    try {
      process.env.RUMPXEN_CACHE = empty;
      expect(cacheDir()).toBe(empty);
      let err: unknown;
      try {
        void assetPaths().xen;
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MissingAssetError);
      expect((err as Error).message).toContain('xen-hypervisor-4.17-amd64');
      expect((err as Error).message).toContain('rumpxen-testbed fetch');
      expect((err as Error).message).toContain(`RUMPXEN_CACHE=${empty}`);
      expect(() => assetPaths().dom0Vmlinux).toThrow(/linux-image-amd64/);
      expect(() => assetPaths().busybox).toThrow(/busybox-static/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 from the CLI with the fix when the cache is empty', () => {
    const empty = mkdtempSync(join(tmpdir(), 'xen-testbed-empty-cache-'));
    try {
      const pv = buildFixture({ kind: 'pv' });
      const r = spawnSync(process.execPath, [cliPath(), 'boot', '--kernel', pv], { encoding: 'utf8', env: { ...process.env, RUMPXEN_CACHE: empty } });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/missing testbed asset 'xen'.*xen-hypervisor-4\.17-amd64/s);
      expect(r.stderr).toContain('rumpxen-testbed fetch');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('fetches nothing and says nothing the second time (cache complete)', () => {
    const r = fetchAssets({ quiet: true });
    expect(r.fetched).toEqual([]);
    expect(r.alreadyPresent).toHaveLength(17);
    const cli = spawnSync(process.execPath, [cliPath(), 'fetch', '--quiet'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout + cli.stderr).toBe('');
  });

  it('derives a multiboot Xen ELF and a bootable uncompressed dom0 vmlinux', () => {
    const p = assetPaths();
    expect(readKernelInfo(p.xen)).toMatchObject({ kind: 'elf', elfClass: 32 });
    const vmlinux = validateKernel(p.dom0Vmlinux, { pvh: false });
    expect(vmlinux).toMatchObject({ kind: 'elf', elfClass: 64 });
    expect(vmlinux.xenNotes.get(XEN_ELFNOTE.GUEST_OS)?.toString('latin1')).toMatch(/^linux/);
    expect(readKernelInfo(p.dom0Kernel).kind).toBe('bzImage');
    expect(p.dom0Modules).toContain(p.dom0KernelRelease);
    expect(p.dom0UserlandRoots).toHaveLength(15);
  });
});
