// The typed API's checks and conversions, which run before anything reaches Xen.
import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { checkDomid, EXIT_STATUS_NODE, parseExitStatusNode, shutdownReasonName } from '../src/domains.js';
import { creationsInFlight, enterCreation } from '../src/inflight.js';
import {
  actionFor,
  checkPath,
  createRequest,
  parseDiskSpec,
  parsePciSpec,
  parseVifSpec,
  probeXen,
  Xen,
  XenConfigError,
  XenUnavailableError,
  type CreateConfig,
  type DomainConfig,
} from '../src/index.js';

const base: DomainConfig = { name: 'hello', kernel: '/images/hello.elf', memory: 32 };

function configError(f: () => unknown): XenConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof XenConfigError) return e;
    throw e;
  }
  throw new Error('expected a XenConfigError');
}

// What the addon takes is the checked DomainConfig itself (@rumpxen/protocol's checkDomainConfig):
// native/src/addon/domain_config.cc reads it field by field.
describe('createRequest', () => {
  it('fills the defaults of a minimal PV config', () => {
    expect(createRequest(base)).toEqual({
      config: {
        name: 'hello',
        kernel: '/images/hello.elf',
        type: 'pv',
        memory: 32,
        maxMemory: 32,
        vcpus: 1,
        disks: [],
        vifs: [],
        pci: [],
        on_poweroff: 'destroy',
        on_reboot: 'destroy',
        on_crash: 'destroy',
      },
      direct: true,
      paused: false,
    });
  });

  it('converts disks, vifs, pci, actions and the guest config', () => {
    const req = createRequest({
      ...base,
      type: 'pvh',
      memory: 64,
      maxMemory: 128,
      vcpus: 2,
      cmdline: 'console=hvc0 -- /bin/app',
      disks: [{ target: '/d/root.img', vdev: 'xvda' }, 'target=/d/data.qcow2,vdev=xvdb,format=qcow2,access=ro'],
      vifs: ['mac=00:16:3e:01:02:03,bridge=xenbr0', { ip: '10.0.0.2' }],
      pci: ['0000:00:03.0', '01:1f.7,permissive=1'],
      on_poweroff: 'preserve',
      on_crash: 'destroy',
      guestConfig: { argv: ['app', '-v'], env: { TZ: 'UTC' } },
      paused: true,
    });
    const spec = req.config;
    expect(spec.type).toBe('pvh');
    expect(req.direct).toBe(false);
    expect(spec.memory).toBe(64);
    expect(spec.maxMemory).toBe(128);
    expect(spec.vcpus).toBe(2);
    expect(spec.cmdline).toBe('console=hvc0 -- /bin/app');
    expect(spec.disks).toEqual([
      { target: '/d/root.img', vdev: 'xvda', format: 'raw', readonly: false },
      { target: '/d/data.qcow2', vdev: 'xvdb', format: 'qcow2', readonly: true },
    ]);
    expect(spec.vifs).toEqual([{ mac: '00:16:3e:01:02:03', bridge: 'xenbr0' }, { ip: '10.0.0.2' }]);
    expect(spec.pci).toEqual([
      { bdf: '0000:00:03.0', domain: 0, bus: 0, dev: 3, func: 0, permissive: false },
      { bdf: '0000:01:1f.7', domain: 0, bus: 1, dev: 0x1f, func: 7, permissive: true },
    ]);
    expect(spec.on_poweroff).toBe('preserve');
    expect(spec.on_crash).toBe('destroy');
    expect(req.paused).toBe(true);
    expect(JSON.parse(spec.guestConfigJson!)).toEqual({ argv: ['app', '-v'], env: { TZ: 'UTC' } });
  });

  it.each([
    [{ ...base, name: '' }, 'name', /non-empty string/],
    [{ ...base, name: 'has space' }, 'name', /characters/],
    [{ ...base, kernel: undefined as unknown as string }, 'kernel', /non-empty string/],
    [{ ...base, memory: 0 }, 'memory', /integer from 1/],
    [{ ...base, memory: 1.5 }, 'memory', /integer from 1/],
    [{ ...base, memory: 64, maxMemory: 32 }, 'maxMemory', /below memory/],
    [{ ...base, vcpus: 0 }, 'vcpus', /integer from 1 to 128/],
    [{ ...base, type: 'hvm' as 'pv' }, 'type', /unknown type/],
    [{ ...base, on_poweroff: 'restart' as 'destroy' }, 'on_poweroff', /unsupported action "restart"/],
    [{ ...base, on_crash: 'coredump-destroy' as 'destroy' }, 'on_crash', /unsupported action/],
    [{ ...base, disks: [{ target: '/x', vdev: 'vda' }] }, 'disks[0].vdev', /not a disk name/],
    [{ ...base, disks: ['/a,raw,xvda,rw', '/b,raw,xvda,rw'] }, 'disks[1].vdev', /used twice/],
    [{ ...base, disks: ['vdev=xvda'] }, 'disks[0]', /no target/],
    [{ ...base, disks: ['/a,vmdk,xvda'] }, 'disks[0]', /unknown disk format "vmdk"/],
    [{ ...base, vifs: ['mac=01:00:00:00:00:01'] }, 'vifs[0].mac', /multicast/],
    [{ ...base, vifs: ['mac=zz'] }, 'vifs[0].mac', /not a MAC address/],
    [{ ...base, vifs: ['model=e1000'] }, 'vifs[0]', /unsupported vif key "model"/],
    [{ ...base, pci: ['00:03'] }, 'pci[0]', /not a PCI address/],
    [{ ...base, pci: ['00:03.0,rdm_policy=strict'] }, 'pci[0]', /unsupported PCI option/],
    [{ ...base, guestConfig: { big: 'x'.repeat(5000) } }, 'guestConfig', /over xenstore's 4096/],
    [{ ...base, cmdline: 'x'.repeat(1024) }, 'cmdline', /at most 1023/],
    [{ ...base, engine: 'direct' as const, vifs: ['bridge=xenbr0'] }, 'engine', /without disks, vifs or PCI/],
    [{ ...base, engine: 'direct' as const, type: 'pvh' as const }, 'engine', /builds PV domains/],
    [{ ...base, engine: 'xl' as 'libxl' }, 'engine', /unknown engine "xl"/],
  ])('refuses %#: %s', (cfg, field, problem) => {
    const e = configError(() => createRequest(cfg as CreateConfig));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(problem);
    // Every message says what to do as well.
    expect(e.message.split(';').length).toBeGreaterThan(1);
  });

  it('refuses a guest config with a cycle', () => {
    const g: Record<string, unknown> = {};
    g.self = g;
    expect(configError(() => createRequest({ ...base, guestConfig: g })).field).toBe('guestConfig');
  });
});

describe('engine choice', () => {
  it('uses the direct builder for a device-less PV domain unless told libxl', () => {
    expect(createRequest(base).direct).toBe(true);
    expect(createRequest({ ...base, engine: 'direct' }).direct).toBe(true);
    expect(createRequest({ ...base, engine: 'libxl' }).direct).toBe(false);
  });

  it('falls back to libxl when the config has devices or is PVH', () => {
    expect(createRequest({ ...base, disks: ['/a,raw,xvda,rw'] }).direct).toBe(false);
    expect(createRequest({ ...base, vifs: [{}] }).direct).toBe(false);
    expect(createRequest({ ...base, pci: ['00:03.0'] }).direct).toBe(false);
    expect(createRequest({ ...base, type: 'pvh' }).direct).toBe(false);
  });
});

describe('xl.cfg device strings', () => {
  it('parses positional and keyed disks', () => {
    expect(parseDiskSpec('/img/a.raw,raw,xvda,rw')).toEqual({ target: '/img/a.raw', vdev: 'xvda', format: 'raw', readonly: false });
    expect(parseDiskSpec('format=qcow2, vdev=xvdc, access=ro, target=/b.q')).toEqual({ target: '/b.q', vdev: 'xvdc', format: 'qcow2', readonly: true });
    expect(parseDiskSpec('target=/dev/sdb,vdev=xvdd,script=block')).toEqual({ target: '/dev/sdb', vdev: 'xvdd', format: 'raw', readonly: false, script: 'block' });
  });

  it('parses vifs', () => {
    expect(parseVifSpec('bridge=xenbr0,ip=10.1.1.1')).toEqual({ bridge: 'xenbr0', ip: '10.1.1.1' });
  });

  it('parses PCI addresses with and without a segment', () => {
    expect(parsePciSpec('0001:02:03.4')).toEqual({ bdf: '0001:02:03.4', domain: 1, bus: 2, dev: 3, func: 4, permissive: false });
    expect(parsePciSpec('ff:1f.7')).toEqual({ bdf: '0000:ff:1f.7', domain: 0, bus: 255, dev: 31, func: 7, permissive: false });
    expect(() => parsePciSpec('00:20.0')).toThrow(/above 0x1f/);
  });
});

describe('shutdown actions and reasons', () => {
  it('picks on_crash for crashes and on_poweroff otherwise', () => {
    const cfg = { on_poweroff: 'preserve' as const, on_crash: 'destroy' as const };
    expect(actionFor(cfg, 'poweroff')).toBe('preserve');
    expect(actionFor(cfg, 'crash')).toBe('destroy');
    expect(actionFor({}, 'crash')).toBe('destroy');
  });

  it('names libxl shutdown reason codes', () => {
    expect([0, 1, 2, 3, 4, 5, -1, 99].map(shutdownReasonName)).toEqual([
      'poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset', 'unknown', 'unknown',
    ]);
  });

  it('checks domain ids', () => {
    expect(checkDomid(7)).toBe(7);
    for (const bad of [-1, 1.5, 0x7ff0, '3', NaN]) expect(() => checkDomid(bad)).toThrow(XenConfigError);
  });
});

describe('the guest\'s exit-status node', () => {
  it('is data/rumpxen/exit-status, which the guest kernel writes (c/include/mk/control.h)', () => {
    expect(EXIT_STATUS_NODE).toBe('data/rumpxen/exit-status');
  });
  it('accepts 32-bit decimal integers only (the guest is untrusted)', () => {
    expect(parseExitStatusNode(Buffer.from('7'))).toBe(7);
    expect(parseExitStatusNode(Buffer.from('-1'))).toBe(-1);
    expect(parseExitStatusNode(Buffer.from('2147483647'))).toBe(2147483647);
    expect(parseExitStatusNode(Buffer.from('2147483648'))).toBeUndefined();
    expect(parseExitStatusNode(Buffer.from(''))).toBeUndefined();
    expect(parseExitStatusNode(Buffer.from('7 '))).toBeUndefined();
    expect(parseExitStatusNode(Buffer.from('0x7'))).toBeUndefined();
    expect(parseExitStatusNode(Buffer.from('1'.repeat(40)))).toBeUndefined();
    expect(parseExitStatusNode(undefined)).toBeUndefined();
  });
});

describe('exit and signal hooks while a create is in flight', () => {
  it('are installed only while a create runs, and abort the creations on exit', () => {
    const before = { exit: process.listenerCount('exit'), term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    let aborted = 0;
    const leave = enterCreation(() => ++aborted);
    expect(creationsInFlight()).toBe(1);
    expect(process.listenerCount('exit')).toBe(before.exit + 1);
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    // Run our exit listener as the process would.
    const mine = process.listeners('exit').at(-1) as () => void;
    mine();
    expect(aborted).toBe(1);
    leave();
    leave();
    expect(creationsInFlight()).toBe(0);
    expect(process.listenerCount('exit')).toBe(before.exit);
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
  });
});

describe('xenstore paths', () => {
  it('accepts absolute paths and, for watches, the special ones', () => {
    expect(checkPath('/local/domain/0/name')).toBe('/local/domain/0/name');
    expect(checkPath('/')).toBe('/');
    expect(checkPath('@releaseDomain', 'path', true)).toBe('@releaseDomain');
  });

  it.each([
    ['local/domain', /not absolute/],
    ['/a/', /ends with '\/'/],
    ['/a//b', /empty component/],
    ['/a b', /characters xenstore refuses/],
    ['', /non-empty string/],
    ['@releaseDomain', /not absolute/],
    ['/' + 'a'.repeat(3100), /over xenstore's 3072/],
  ])('refuses path #%#', (path, problem) => {
    expect(() => checkPath(path)).toThrow(problem);
  });
});

describe('Xen.open without Xen', () => {
  it('names every missing piece in one XenUnavailableError', async () => {
    const paths = { privcmd: '/nonexistent/privcmd', xenstoredSockets: ['/nonexistent/socket'], xenbus: '/nonexistent/xenbus' };
    expect(probeXen(paths)).toHaveLength(2);
    const e = await Xen.open({ probePaths: paths }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(XenUnavailableError);
    const err = e as XenUnavailableError;
    expect(err.code).toBe('ERR_XEN_UNAVAILABLE');
    expect(err.missing[0]).toMatch(/\/nonexistent\/privcmd does not exist \(not a Xen dom0, or the xen-privcmd module is not loaded\)/);
    expect(err.missing[1]).toMatch(/xenstored is not reachable .*start xenstored/);
    expect(err.message).toMatch(/Run this as root in a Xen dom0/);
  });

  it.skipIf(process.platform !== 'linux' || existsSync('/dev/xen/privcmd'))('fails on this host with the default probe', async () => {
    const e = await Xen.open().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(XenUnavailableError);
    expect((e as Error).message).toMatch(/\/dev\/xen\/privcmd does not exist/);
  });
});
