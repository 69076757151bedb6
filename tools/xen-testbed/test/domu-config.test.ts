// A DomU's xl.cfg is @rumpxen/protocol's renderXlCfg (the one xl.cfg writer, also the
// image-linker's), with the testbed's actions (preserve, so the end can be read) and any
// extra lines; and a DomU's end is named with protocol's shutdown reasons. No boot needed.
import { renderXlCfg } from '@rumpxen/protocol';
import { describe, expect, it } from 'vitest';
import { TestbedError } from '../src/errors.js';
import { domUXlCfg, judgeDomU } from '../src/full/domu.js';

describe("a DomU's xl.cfg", () => {
  const domain = {
    name: 'domu1',
    kernel: '/run/domu/domu1.kernel',
    memory: 32,
    cmdline: 'tb.mode=hang',
    disks: [{ target: '/share/d.img', vdev: 'xvda', readonly: true }],
    vifs: [{ bridge: 'xenbr0', mac: '00:16:3e:00:00:01' }],
    pci: ['0000:00:03.0'],
  };

  it("is protocol's rendering with on_poweroff/on_reboot/on_crash preserve, then the extra lines", () => {
    const text = domUXlCfg(domain, ['extra = 1']);
    expect(text).toBe(`${renderXlCfg({ ...domain, on_poweroff: 'preserve', on_reboot: 'preserve', on_crash: 'preserve' })}extra = 1\n`);
    for (const line of ['on_poweroff = "preserve"', 'on_reboot = "preserve"', 'on_crash = "preserve"', "disk = [ 'format=raw, vdev=xvda, access=ro, target=/share/d.img' ]", "vif = [ 'bridge=xenbr0,mac=00:16:3e:00:00:01' ]", "pci = [ '0000:00:03.0' ]"]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  it('refuses, as bad input (exit code 2), a value xl.cfg cannot hold', () => {
    let err: unknown;
    try {
      domUXlCfg({ ...domain, cmdline: 'two\nlines' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TestbedError);
    expect((err as TestbedError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^DomU 'domu1': cmdline: .* line break/);
  });
});

describe("a DomU's end", () => {
  it('names the shutdown reason by its SHUTDOWN_* name, or its number when Xen defines none', () => {
    expect(judgeDomU([], { kind: 'shutdown', reasonCode: 3 }).reason).toContain('shutdown reason crash');
    expect(judgeDomU([], { kind: 'shutdown', reasonCode: 4 }).reason).toContain('shutdown reason watchdog');
    expect(judgeDomU([], { kind: 'shutdown', reasonCode: 9 }).reason).toContain('shutdown reason 9');
    expect(judgeDomU([], { kind: 'shutdown', reasonCode: 0 }).exitCode).toBe(0);
  });
});
