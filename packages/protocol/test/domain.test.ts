// The one domain model: its check (defaults, xl.cfg device strings, refusals naming the
// field) and its three renderings, xl.cfg, libxl JSON and libvirt XML, from the same config.
import { describe, expect, it } from 'vitest';
import {
  actionFor,
  checkDomainConfig,
  DomainConfigError,
  parsePciSpec,
  renderLibvirtXml,
  renderLibxlJson,
  renderXlCfg,
  type DomainConfig,
} from '../src/index.js';

const base: DomainConfig = { name: 'hello', kernel: '/images/hello.elf', memory: 32 };

const full: DomainConfig = {
  name: 'app',
  kernel: '/images/app.elf',
  ramdisk: '/images/initrd',
  type: 'pvh',
  memory: 64,
  maxMemory: 128,
  vcpus: 2,
  cmdline: 'A=1 one two',
  disks: [{ target: '/d/root.img', vdev: 'xvda' }, 'target=/d/data.qcow2,vdev=xvdb,format=qcow2,access=ro,script=/etc/xen/scripts/block'],
  vifs: ['mac=00:16:3E:01:02:03,bridge=xenbr0', { ip: '10.0.0.2' }],
  pci: ['00:03.0', '0001:02:1f.7,permissive=1'],
  on_poweroff: 'preserve',
  on_crash: 'preserve',
  guestConfig: { argv: ['app'] },
};

function refusal(f: () => unknown): DomainConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainConfigError) return e;
    throw e;
  }
  throw new Error('expected a DomainConfigError');
}

describe('checkDomainConfig', () => {
  it('fills the defaults of a minimal config', () => {
    expect(checkDomainConfig(base)).toEqual({
      name: 'hello', kernel: '/images/hello.elf', type: 'pv', memory: 32, maxMemory: 32, vcpus: 1,
      disks: [], vifs: [], pci: [], on_poweroff: 'destroy', on_reboot: 'destroy', on_crash: 'destroy',
    });
  });

  it('parses xl.cfg device strings, lower-cases MACs, parses PCI addresses and serialises the guest config', () => {
    const c = checkDomainConfig(full);
    expect(c.disks).toEqual([
      { target: '/d/root.img', vdev: 'xvda', format: 'raw', readonly: false },
      { target: '/d/data.qcow2', vdev: 'xvdb', format: 'qcow2', readonly: true, script: '/etc/xen/scripts/block' },
    ]);
    expect(c.vifs).toEqual([{ mac: '00:16:3e:01:02:03', bridge: 'xenbr0' }, { ip: '10.0.0.2' }]);
    expect(c.pci).toEqual([
      { bdf: '0000:00:03.0', domain: 0, bus: 0, dev: 3, func: 0, permissive: false },
      { bdf: '0001:02:1f.7', domain: 1, bus: 2, dev: 0x1f, func: 7, permissive: true },
    ]);
    expect(c.guestConfigJson).toBe('{"argv":["app"]}');
    expect(c).toMatchObject({ type: 'pvh', memory: 64, maxMemory: 128, vcpus: 2, on_poweroff: 'preserve', on_reboot: 'destroy', on_crash: 'preserve' });
  });

  it.each([
    [{ ...base, name: 'has space' }, 'name', /characters/],
    [{ ...base, memory: 0 }, 'memory', /integer from 1/],
    [{ ...base, disks: ['/a,raw,xvda,rw', '/b,raw,xvda,rw'] }, 'disks[1].vdev', /used twice/],
    [{ ...base, vifs: ['mac=01:00:00:00:00:01'] }, 'vifs[0].mac', /multicast/],
    [{ ...base, pci: ['00:20.0'] }, 'pci[0]', /above 0x1f/],
    [{ ...base, on_reboot: 'restart' as 'destroy' }, 'on_reboot', /unsupported action "restart"/],
    [{ ...base, cmdline: 'x'.repeat(1024) }, 'cmdline', /at most 1023/],
  ])('refuses %#, naming %s and the fix', (cfg, field, problem) => {
    const e = refusal(() => checkDomainConfig(cfg as DomainConfig));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(problem);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.fix.length).toBeGreaterThan(0);
  });

  it('canonicalises PCI addresses', () => {
    expect(parsePciSpec('1:2:3.4').bdf).toBe('0001:02:03.4');
  });
});

describe('actionFor', () => {
  it('takes on_crash for crash and watchdog, on_reboot (else on_poweroff) for reboot, on_poweroff otherwise', () => {
    const cfg = { on_poweroff: 'preserve', on_crash: 'destroy' } as const;
    expect(actionFor(cfg, 'poweroff')).toBe('preserve');
    expect(actionFor(cfg, 'reboot')).toBe('preserve');
    expect(actionFor({ ...cfg, on_reboot: 'destroy' }, 'reboot')).toBe('destroy');
    expect(actionFor(cfg, 'crash')).toBe('destroy');
    expect(actionFor(cfg, 'watchdog')).toBe('destroy');
    expect(actionFor({}, 'crash')).toBe('destroy');
  });
});

describe('renderXlCfg', () => {
  it('writes the minimal config with the default actions', () => {
    expect(renderXlCfg(base)).toBe(
      [
        'name = "hello"',
        'type = "pv"',
        'kernel = "/images/hello.elf"',
        'memory = 32',
        'vcpus = 1',
        'on_poweroff = "destroy"',
        'on_reboot = "destroy"',
        'on_crash = "destroy"',
        '',
      ].join('\n'),
    );
  });

  it('writes every field: ramdisk, cmdline, maxmem, disks (target last), vifs and PCI devices', () => {
    expect(renderXlCfg(full)).toBe(
      [
        'name = "app"',
        'type = "pvh"',
        'kernel = "/images/app.elf"',
        'ramdisk = "/images/initrd"',
        'cmdline = "A=1 one two"',
        'memory = 64',
        'maxmem = 128',
        'vcpus = 2',
        'on_poweroff = "preserve"',
        'on_reboot = "destroy"',
        'on_crash = "preserve"',
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=/d/root.img', 'format=qcow2, vdev=xvdb, access=ro, backendtype=phy, script=/etc/xen/scripts/block, target=/d/data.qcow2' ]",
        "vif = [ 'bridge=xenbr0,mac=00:16:3e:01:02:03', 'ip=10.0.0.2' ]",
        "pci = [ '0000:00:03.0', '0001:02:1f.7,permissive=1' ]",
        '',
      ].join('\n'),
    );
  });

  it('escapes quotes and backslashes in strings, and refuses what xl.cfg cannot hold', () => {
    expect(renderXlCfg({ ...base, kernel: '/k "1"\\x' })).toContain('kernel = "/k \\"1\\"\\\\x"');
    expect(refusal(() => renderXlCfg({ ...base, kernel: '/a\nb' })).field).toBe('kernel');
    expect(refusal(() => renderXlCfg({ ...base, disks: [{ target: "/it's.img", vdev: 'xvda' }] })).field).toBe('disks[0].target');
    expect(refusal(() => renderXlCfg({ ...base, vifs: [{ bridge: 'br,0' }] })).field).toBe('vifs[0].bridge');
    // A disk's target is its last key: a comma there is fine.
    expect(renderXlCfg({ ...base, disks: [{ target: '/d/a,b.img', vdev: 'xvda' }] })).toContain('target=/d/a,b.img');
  });

  it('checks the config first', () => {
    expect(refusal(() => renderXlCfg({ ...base, memory: -1 })).field).toBe('memory');
  });
});

describe('renderLibxlJson', () => {
  it('writes libxl_domain_config: c_info, b_info, disks, nics, pcidevs and the actions', () => {
    expect(JSON.parse(renderLibxlJson(full))).toEqual({
      c_info: { type: 'pvh', name: 'app' },
      b_info: { max_vcpus: 2, max_memkb: 128 * 1024, target_memkb: 64 * 1024, kernel: '/images/app.elf', ramdisk: '/images/initrd', cmdline: 'A=1 one two', 'type.pvh': {} },
      disks: [
        { pdev_path: '/d/root.img', vdev: 'xvda', format: 'raw', readwrite: 1 },
        { pdev_path: '/d/data.qcow2', vdev: 'xvdb', format: 'qcow2', readwrite: 0, backend: 'phy', script: '/etc/xen/scripts/block' },
      ],
      nics: [{ mac: '00:16:3e:01:02:03', bridge: 'xenbr0' }, { ip: '10.0.0.2' }],
      pcidevs: [{ func: 0, dev: 3, bus: 0, domain: 0 }, { func: 7, dev: 0x1f, bus: 2, domain: 1, permissive: true }],
      on_poweroff: 'preserve',
      on_reboot: 'destroy',
      on_crash: 'preserve',
    });
    expect(renderLibxlJson(base).endsWith('}\n')).toBe(true);
  });
});

describe('renderLibvirtXml', () => {
  it('writes a xen domain with every device kind', () => {
    const xml = renderLibvirtXml(full);
    for (const part of [
      "<domain type='xen'>",
      '<name>app</name>',
      "<memory unit='MiB'>128</memory>",
      "<currentMemory unit='MiB'>64</currentMemory>",
      '<vcpu>2</vcpu>',
      "<type arch='x86_64' machine='xenpvh'>xenpvh</type>",
      '<initrd>/images/initrd</initrd>',
      '<cmdline>A=1 one two</cmdline>',
      '<on_poweroff>preserve</on_poweroff>',
      "<driver name='qemu' type='qcow2'/>",
      "<source file='/d/data.qcow2'/>",
      '<readonly/>',
      "<source bridge='xenbr0'/>",
      "<mac address='00:16:3e:01:02:03'/>",
      "<ip address='10.0.0.2'/>",
      "<source writeFiltering='no'>",
      "<address domain='0x0001' bus='0x02' slot='0x1f' function='0x7'/>",
    ]) {
      expect(xml).toContain(part);
    }
    expect(renderLibvirtXml({ ...base, cmdline: 'a<b' })).toContain('<cmdline>a&lt;b</cmdline>');
    expect(renderLibvirtXml(base)).toContain("<type arch='x86_64' machine='xenpv'>linux</type>");
  });
});
