/**
 * `image-linker pci ...` (handed to @rumpxen/pci-passthrough's pciCommand) and `--pci BDF`
 * (validated by its parseBdf, written by the domain renderers of @rumpxen/protocol). The two
 * paths to a device's entries, the domain renderers and pci-passthrough's emitters (xlPciLine,
 * libxlPcidevs, libvirtHostdevXml), both run protocol's per-device renderers: held equal here.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PCI_HELP, PCI_LIST_HELP, libvirtHostdevXml, libxlPcidevs, xlPciLine } from '@rumpxen/pci-passthrough';
import { describe, expect, it } from 'vitest';
import { build, compileSources, renderConfig } from '../src/index.js';
import { cli, workdir, xenTarget } from './helpers.js';
import { writeFileSync } from 'node:fs';

describe('image-linker pci', () => {
  it('pci list --json lists every PCI device of this machine (as /sys/bus/pci/devices has them)', () => {
    const r = cli(['pci', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const devices = JSON.parse(r.stdout) as { bdf: string; vendorId: number; deviceId: number }[];
    const sysfs = readdirSync('/sys/bus/pci/devices').sort();
    expect(devices).toHaveLength(sysfs.length);
    expect(devices.map((d) => d.bdf).sort()).toEqual(sysfs);
    // The table form names the same devices.
    const table = cli(['pci', 'list']);
    expect(table.code).toBe(0);
    for (const bdf of sysfs) expect(table.stdout).toContain(bdf);
  });

  it('pci --help and pci list --help print pci-passthrough\'s help; image-linker --help lists pci', () => {
    const h = cli(['pci', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe(PCI_HELP);
    const l = cli(['pci', 'list', '--help']);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe(PCI_LIST_HELP);
    const top = cli(['--help']);
    expect(top.stdout).toMatch(/^  pci list \[--json\]/m);
    expect(top.stdout).toMatch(/--pci-assign/);
  });

  it('pci errors: no subcommand, an unknown one, a malformed BDF, an absent device (exit 2)', () => {
    const none = cli(['pci']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name a command/);
    const unknown = cli(['pci', 'frob']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frob'/);
    const bad = cli(['pci', 'list', '00:20.0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/malformed PCI address '00:20\.0'/);
    const absent = cli(['pci', 'list', '00ff:1f:1f.7']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/00ff:1f:1f\.7/);
  });
});

describe('--pci BDF', () => {
  it("the xl, libxl and libvirt entries are pci-passthrough's emitters' output", () => {
    const cfg = renderConfig({ image: '/x/img', pci: ['00:03.0', '0000:00:4.1', '1:02:1f.7'] });
    const specs = [{ bdf: '0000:00:03.0' }, { bdf: '0000:00:04.1' }, { bdf: '0001:02:1f.7' }];
    expect(cfg.pci).toEqual(specs.map((s) => s.bdf));
    expect(cfg.xl.split('\n')).toContain(xlPciLine(specs));
    expect(JSON.parse(cfg.libxl).pcidevs).toEqual(libxlPcidevs(specs).pcidevs);
    for (const s of specs) expect(cfg.libvirt).toContain(libvirtHostdevXml(s).split('\n').map((l) => `    ${l}`).join('\n'));
    // No devices: no pci line, no pcidevs entries, no hostdev.
    const none = renderConfig({ image: '/x/img' });
    expect(none.xl).not.toMatch(/^pci/m);
    expect(JSON.parse(none.libxl).pcidevs).toEqual([]);
    expect(none.libvirt).not.toContain('hostdev');
  });

  it('config --pci with a malformed BDF: exit 2, the flag, the address and the fix named, nothing written', async () => {
    const dir = workdir('pcicfg');
    writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
    const def = xenTarget('pv');
    const objs = await compileSources([join(dir, 'main.c')], def, dir);
    const img = (await build({ inputs: objs, target: def, output: join(dir, 'app') })).output;
    const r = cli(['config', img, '--pci', '00:20.0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^image-linker: --pci 00:20\.0: malformed PCI address '00:20\.0': device number 0x20 is above 0x1f .*image-linker pci list/);
    expect(readdirSync(dir).filter((n) => n.startsWith('app.'))).toEqual([]);
    const ok = cli(['config', img, '--pci', '0:3.0', '--format', 'xl']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("pci = [ '0000:00:03.0' ]");
  });
});
