// The addon as built on this host: it loads without Xen, its C library links
// the Debian Xen 4.17 sonames, and its failures carry errno names and the
// libraries' own log lines instead of printing them.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { addonDir, loadAddon, libraryPath } from '../src/native.js';

const hostHasXen = existsSync('/dev/xen/privcmd');
// Package root, whatever folder vitest was started from (the package or the repo root).
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function needed(file: string): string[] {
  const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

describe('native addon build', () => {
  it('produces the addon and its C library', () => {
    expect(existsSync(join(addonDir(), 'rumpxen_xen.node'))).toBe(true);
    expect(existsSync(libraryPath())).toBe(true);
  });

  it('keeps the addon free of Xen library dependencies so it loads anywhere', () => {
    const libs = needed(join(addonDir(), 'rumpxen_xen.node'));
    expect(libs.filter((l) => l.startsWith('libxen'))).toEqual([]);
  });

  it('links librxctl.so against the Xen 4.17 sonames a Debian 12 dom0 has', () => {
    const libs = needed(libraryPath());
    for (const soname of [
      'libxenctrl.so.4.17',
      'libxenlight.so.4.17',
      'libxenguest.so.4.17',
      'libxenstore.so.4',
      'libxenevtchn.so.1',
      'libxengnttab.so.1',
      'libxenforeignmemory.so.1',
      'libxentoollog.so.1',
    ]) {
      expect(libs).toContain(soname);
    }
  });

  it('exports only the rxc_* entry points from librxctl.so', () => {
    const out = execFileSync('nm', ['-D', '--defined-only', libraryPath()], { encoding: 'utf8' });
    const syms = out.split('\n').filter((l) => / T /.test(l)).map((l) => l.split(' ').pop()!);
    expect(syms.length).toBeGreaterThan(30);
    expect(syms.filter((s) => !s.startsWith('rxc_'))).toEqual([]);
  });
});

describe('native addon loading', () => {
  it('loads and exposes the opener functions', () => {
    const a = loadAddon();
    for (const f of ['load', 'isLoaded', 'drainLog', 'ttyMakeRaw', 'openSession', 'openWatch', 'openEvtchn', 'openGnttab', 'openForeignMemory']) {
      expect(typeof (a as unknown as Record<string, unknown>)[f]).toBe('function');
    }
    expect(a.abiVersion).toBe(2); // 2: rxc_create_timing grew the direct path's phases; the console ring and physinfo calls
  });

  it('refuses a library path that is not a string', () => {
    const a = loadAddon();
    expect(() => a.load(42 as unknown as string)).toThrow(/path must be the path of librxctl\.so/);
  });

  it('refuses to make a non-terminal raw, naming the fd', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => loadAddon().ttyMakeRaw(fd)).toThrow(new RegExp(`tcgetattr: fd ${fd} is not a terminal`));
    } finally {
      closeSync(fd);
    }
  });

  it('reports a missing library with the dlopen message', () => {
    // A fresh process: a successful load() elsewhere in this file would make load() a no-op.
    const r = spawnSync(
      process.execPath,
      ['-e', `const a=require(${JSON.stringify(join(addonDir(), 'rumpxen_xen.node'))});try{a.load('/nonexistent/librxctl.so')}catch(e){console.log(e.code+'|'+e.message)}`],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toMatch(/^ERR_XEN_LIBRARY\|.*\/nonexistent\/librxctl\.so: cannot open shared object file/);
  });

  it('refuses to open handles before the library is loaded', () => {
    const r = spawnSync(
      process.execPath,
      ['-e', `const a=require(${JSON.stringify(join(addonDir(), 'rumpxen_xen.node'))});try{a.openSession()}catch(e){console.log(e.code)}`],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('ERR_XEN_NOT_LOADED');
  });
});

describe.skipIf(hostHasXen)('native calls on a host without Xen', () => {
  it('rejects openSession with the errno name, the failing call and the library log', async () => {
    const a = loadAddon();
    a.load(libraryPath());
    const e = (await a.openSession().then(
      () => undefined,
      (x: unknown) => x,
    )) as { code: string; syscall: string; message: string };
    expect(e.syscall).toBe('xc_interface_open');
    expect(e.code).toBe('ENOENT');
    expect(e.message).toMatch(/\/dev\/xen\/privcmd/);
    expect(e.message).toMatch(/xencall: Could not obtain handle on privileged command interface/);
  });

  it('rejects openEvtchn naming the device and module to load', async () => {
    const a = loadAddon();
    a.load(libraryPath());
    const e = (await a.openEvtchn().then(
      () => undefined,
      (x: unknown) => x,
    )) as { syscall: string; message: string };
    expect(e.syscall).toBe('xenevtchn_open');
    expect(e.message).toMatch(/\/dev\/xen\/evtchn \(load the xen-evtchn module; run as root\)/);
  });

  it('checks argument types before any work is queued', () => {
    const a = loadAddon();
    a.load(libraryPath());
    expect(() => a.openWatch(1 as unknown as string, 'tok')).toThrow(/path must be a string/);
    expect(() => a.openWatch('/local', 2 as unknown as string)).toThrow(/token must be a string/);
  });

  it('never writes the libraries\' messages to stderr', () => {
    // The probe is pointed at paths that exist so the native open really runs and fails.
    const script = `
      const { Xen } = await import(${JSON.stringify(join(packageRoot, 'dist', 'index.js'))});
      try {
        await Xen.open({ probePaths: { privcmd: '/dev/null', xenstoredSockets: ['/dev/null'], xenbus: '/dev/null' } });
        console.log('opened');
      } catch (e) { console.log(e.name + '|' + e.message.split('\\n').join(' ')); }
      console.log('debuglog|' + Xen.debugLog().join(' '));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RUMPXEN_DEBUG: '' } });
    expect(r.stderr).toBe('');
    const [first, second] = r.stdout.trim().split('\n');
    expect(first).toMatch(/^XenUnavailableError\|Xen is not available here: xc_interface_open failed \(ENOENT\)/);
    expect(first).toMatch(/Could not obtain handle on privileged command interface/);
    expect(second).toMatch(/^debuglog\|.*xencall: Could not obtain handle/);
  });
});
