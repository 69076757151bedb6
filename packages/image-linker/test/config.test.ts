import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLibvirtXml, renderLibxlJson, renderXlCfg } from '@rumpxen/protocol';
import { ImageLinkerError, MAX_CMDLINE, renderConfig, toDomainConfig } from '../src/index.js';
import { FREESTANDING, cli, compile, targetFile, workdir } from './helpers.js';

function disk(dir: string, name: string): string {
  const f = join(dir, name);
  writeFileSync(f, Buffer.alloc(4096));
  return f;
}

/** Evaluates one XPath expression over the document with libxml2's xmllint (a real parser, not a regex). */
function xpath(xml: string, expr: string): string {
  // xmllint ends its answer with a newline.
  return execFileSync('xmllint', ['--xpath', expr, '-'], { input: xml }).toString().replace(/\n$/, '');
}

/** A summary of a libvirt domain document, read with xmllint --xpath. */
function parseXml(xml: string): Record<string, unknown> {
  const str = (e: string) => xpath(xml, `string(${e})`);
  const count = (e: string) => Number(xpath(xml, `count(${e})`));
  const list = (e: string) => Array.from({ length: count(e) }, (_, i) => str(`(${e})[${i + 1}]`));
  return {
    root: str('name(/*)'),
    type: str('/*/@type'),
    name: str('/domain/name'),
    memory: str('/domain/memory'),
    ostype: str('/domain/os/type'),
    machine: str('/domain/os/type/@machine'),
    kernel: str('/domain/os/kernel'),
    cmdline: count('/domain/os/cmdline') ? str('/domain/os/cmdline') : null,
    disks: list('//disk/source/@file'),
    readonly: count('//readonly'),
    bridges: list('//source/@bridge'),
    macs: list('//mac/@address'),
    pci: Array.from({ length: count('//hostdev/source/address') }, (_, i) =>
      ['domain', 'bus', 'slot', 'function'].map((k) => str(`(//hostdev/source/address)[${i + 1}]/@${k}`)),
    ),
  };
}

describe('renderConfig', () => {
  it('renders the guest JSON and the domain in xl, libxl JSON and libvirt XML forms', () => {
    const dir = workdir('cfg');
    const a = disk(dir, 'a.img');
    const b = disk(dir, 'b.img');
    const cfg = renderConfig({
      image: join(dir, 'hello.xen-pv'),
      memoryMb: 96,
      vcpus: 2,
      disks: [`${a},xvda`, `${b},ro`],
      nets: ['xenbr0', '00:16:3E:00:00:01'],
      pci: ['00:03.0'],
      env: ['RUMP_VERBOSE=1', 'X=a=b'],
      args: ['--flag', "it's"],
    });
    expect(cfg.guest).toEqual({
      argv: ['hello.xen-pv', '--flag', "it's"],
      env: ['RUMP_VERBOSE=1', 'X=a=b'],
      devices: {
        disks: [{ vdev: 'xvda', readonly: false }, { vdev: 'xvdb', readonly: true }],
        nets: [{ mac: null, bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:01', bridge: null }],
        pci: ['0000:00:03.0'],
      },
    });
    expect(JSON.parse(cfg.guestJson)).toEqual(cfg.guest);
    // A quote cannot go on the command line (the guest splits it at spaces): none then.
    expect(cfg.cmdline).toBe('');
    const plain = renderConfig({ image: '/x/img', env: ['A=1'], args: ['one', 'two'] });
    expect(plain.cmdline).toBe('A=1 one two');
    expect(plain.xl).toMatch(/^cmdline = "A=1 one two"$/m);
    expect(cfg.xl).toMatch(/^type = "pv"$/m);
    expect(cfg.xl).toMatch(/^memory = 96$/m);
    expect(cfg.xl).toMatch(/^vcpus = 2$/m);
    expect(cfg.xl).toContain(`disk = [ 'format=raw, vdev=xvda, access=rw, target=${a}', 'format=raw, vdev=xvdb, access=ro, target=${b}' ]`);
    expect(cfg.xl).toContain("vif = [ 'bridge=xenbr0', 'mac=00:16:3e:00:00:01' ]");
    expect(cfg.xl).toContain("pci = [ '0000:00:03.0' ]");
    const libxl = JSON.parse(cfg.libxl);
    expect(libxl.c_info).toEqual({ type: 'pv', name: 'hello.xen-pv' });
    expect(libxl.b_info.max_memkb).toBe(96 * 1024);
    expect(libxl.b_info.kernel).toBe(join(dir, 'hello.xen-pv'));
    expect(libxl.disks).toEqual([
      { pdev_path: a, vdev: 'xvda', format: 'raw', readwrite: 1 },
      { pdev_path: b, vdev: 'xvdb', format: 'raw', readwrite: 0 },
    ]);
    expect(libxl.pcidevs).toEqual([{ domain: 0, bus: 0, dev: 3, func: 0 }]);
    const xml = parseXml(cfg.libvirt);
    expect(xml).toMatchObject({ root: 'domain', type: 'xen', name: 'hello.xen-pv', memory: '96', ostype: 'linux', machine: 'xenpv', disks: [a, b], readonly: 1, bridges: ['xenbr0'], macs: ['00:16:3e:00:00:01'] });
    expect(parseXml(renderConfig({ image: '/x/img', args: ['a<b'] }).libvirt).cmdline).toBe('a<b');
    expect(xml.pci).toEqual([['0x0000', '0x00', '0x03', '0x0']]);
  });

  it('maps the flags onto the one domain model, whose renderers write xl, libxl and libvirt, and which the addon takes', () => {
    const dir = workdir('cfgmodel');
    const a = disk(dir, 'a.img');
    const cfg = renderConfig({ image: join(dir, 'app'), memoryMb: 48, vcpus: 2, disks: [`${a},xvdb,ro`], nets: ['xenbr0', '00:16:3e:00:00:02'], pci: ['00:03.0'], env: ['A=1'], args: ['x'] });
    expect(cfg.domain).toEqual({
      name: 'app', kernel: join(dir, 'app'), type: 'pv', cmdline: 'A=1 x', memory: 48, vcpus: 2,
      disks: [{ target: a, vdev: 'xvdb', readonly: true }],
      vifs: [{ bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:02' }],
      pci: ['0000:00:03.0'],
      on_poweroff: 'destroy', on_reboot: 'destroy', on_crash: 'destroy',
    });
    // The xl.cfg is image-linker's comment header, then @rumpxen/protocol's rendering.
    expect(cfg.xl.split('\n').filter((l) => l.startsWith('#'))).toHaveLength(4);
    expect(cfg.xl.endsWith(renderXlCfg(cfg.domain))).toBe(true);
    expect(cfg.libxl).toBe(renderLibxlJson(cfg.domain));
    expect(cfg.libvirt).toBe(renderLibvirtXml(cfg.domain));
    // The addon gets the same domain, its guest config through xenstore instead of the command line.
    const { cmdline: _cmdline, on_poweroff: _p, on_reboot: _r, on_crash: _c, ...rest } = cfg.domain;
    expect(toDomainConfig(cfg)).toEqual({ ...rest, guestConfig: cfg.guest });
  });

  it('refuses a name no Xen toolstack takes, naming --name', () => {
    expect(() => renderConfig({ image: '/x/.hidden' })).toThrow(/^--name _hidden|--name \.hidden/);
    expect(() => renderConfig({ image: '/x/img', name: 'n'.repeat(65) })).toThrow(/--name n+: is not a domain name Xen's tools accept/);
  });

  it('PVH images get type pvh everywhere', () => {
    const cfg = renderConfig({ image: '/x/img', type: 'xen-pvh' });
    expect(cfg.xl).toMatch(/^type = "pvh"$/m);
    expect(JSON.parse(cfg.libxl)['b_info']['type.pvh']).toEqual({});
    expect(parseXml(cfg.libvirt)).toMatchObject({ ostype: 'xenpvh', machine: 'xenpvh' });
  });

  it('leaves the command line empty when it is longer than Xen allows', () => {
    const cfg = renderConfig({ image: '/x/img', args: ['a'.repeat(MAX_CMDLINE + 1)] });
    expect(cfg.cmdline).toBe('');
    expect(cfg.xl).not.toMatch(/^cmdline/m);
    expect(renderConfig({ image: '/x/img', args: ['a'.repeat(MAX_CMDLINE)] }).cmdline).toHaveLength(MAX_CMDLINE);
  });

  it('rejects bad device specs naming the flag', () => {
    const dir = workdir('cfgbad');
    const a = disk(dir, 'a.img');
    const bad = (o: Parameters<typeof renderConfig>[0], re: RegExp) => {
      expect(() => renderConfig(o)).toThrow(ImageLinkerError);
      expect(() => renderConfig(o)).toThrow(re);
    };
    bad({ image: '/x', disks: [`${a},xvda`, `${a},xvda`] }, /uses guest device xvda a second time/);
    bad({ image: '/x', disks: [`${a},sda`] }, /--disk \S+,sda: has guest device name "sda"/);
    bad({ image: '/x', nets: ['not a bridge!'] }, /--net not a bridge!: is neither a bridge name nor a MAC/);
    // pci-passthrough's parseBdf decides what a BDF is: 1-2 hex digits for bus and device.
    bad({ image: '/x', pci: ['00:20.0'] }, /--pci 00:20\.0: malformed PCI address '00:20\.0': device number 0x20 is above 0x1f/);
    bad({ image: '/x', pci: ['0:3'] }, /--pci 0:3: malformed PCI address '0:3': expected \[DDDD:\]BB:DD\.F/);
    bad({ image: '/x', pci: ['00:03.0', '0000:00:3.0'] }, /--pci 0000:00:03\.0: names the same device twice/);
    bad({ image: '/x', env: ['=v'] }, /--env =v: is not of the form K=V/);
    bad({ image: '/x', memoryMb: 0 }, /--memory 0: is not a positive whole number/);
    // The object forms (library, manifest) are checked as closely as the strings.
    bad({ image: '/x', nets: [{ bridge: null, mac: null }] }, /net \{"bridge":null,"mac":null\}: names neither a bridge nor a MAC/);
    bad({ image: '/x', nets: [{ bridge: 'xenbr0', mac: 'zz' } as never] }, /has "mac" "zz", which is not a MAC address/);
    bad({ image: '/x', nets: [{ bridge: 'not a bridge!', mac: null }] }, /has "bridge" "not a bridge!", which is not a bridge name/);
    bad({ image: '/x', disks: [{ file: a, vdev: 7, readonly: false } as never] }, /has "vdev" 7, not a string/);
    bad({ image: '/x', disks: [{ file: a, vdev: 'xvdb', readonly: 'yes' } as never] }, /has "readonly" "yes", not true or false/);
    bad({ image: '/x', disks: [{ file: a, ro: true } as never] }, /has unknown key "ro"\. Write \{"file"/);
  });
});

const hasValidator = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v virt-xml-validate && command -v xmllint']);
    return true;
  } catch {
    return false;
  }
})();

describe('libvirt XML against libvirt\'s schema (virt-xml-validate, Debian libvirt-clients + libxml2-utils)', () => {
  it('validates for PV with every device kind and for PVH; a broken document does not', () => {
    // scripts/setup.sh installs both (libvirt-clients, libxml2-utils): their absence is a failure.
    expect(hasValidator, 'virt-xml-validate and xmllint on PATH').toBe(true);
    const dir = workdir('virt');
    const a = disk(dir, 'a.img');
    const validate = (xml: string) => {
      const f = join(dir, 'd.xml');
      writeFileSync(f, xml);
      try {
        execFileSync('virt-xml-validate', [f, 'domain'], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    };
    const pv = renderConfig({ image: join(dir, 'img'), disks: [`${a},xvda,ro`], nets: ['xenbr0', '00:16:3e:00:00:01'], pci: ['00:03.0'], env: ['A=1'], args: ['x'] });
    expect(validate(pv.libvirt)).toBe(true);
    expect(validate(renderConfig({ image: join(dir, 'img'), type: 'xen-pvh' }).libvirt)).toBe(true);
    expect(validate(pv.libvirt.replace('<vcpu>', '<vcpus>').replace('</vcpu>', '</vcpus>'))).toBe(false);
  });
});

describe('config CLI', () => {
  it('writes all four forms beside the image by default, one with --format', () => {
    const dir = workdir('cfgcli');
    const target = targetFile(dir, 'pvh');
    const main = compile(dir, 'main.c', 'int main(void) { return 0; }', FREESTANDING);
    const img = join(dir, 'app');
    expect(cli(['build', main, '--target', target, '-o', img]).code).toBe(0);
    const r = cli(['config', img, '--memory', '48', '--env', 'A=1', '--', 'x', 'y']);
    expect(r.code, r.stderr).toBe(0);
    for (const s of ['guest.json', 'xl.cfg', 'libxl.json', 'libvirt.xml']) expect(existsSync(`${img}.${s}`)).toBe(true);
    expect(JSON.parse(readFileSync(`${img}.guest.json`, 'utf8'))).toEqual({ argv: ['app', 'x', 'y'], env: ['A=1'], devices: { disks: [], nets: [], pci: [] } });
    expect(readFileSync(`${img}.xl.cfg`, 'utf8')).toMatch(/^memory = 48$/m);
    // The image's notes say PVH, so the domain type follows.
    expect(readFileSync(`${img}.xl.cfg`, 'utf8')).toMatch(/^type = "pvh"$/m);
    const one = cli(['config', img, '--format', 'libxl']);
    expect(JSON.parse(one.stdout).c_info.type).toBe('pvh');
  });
});
