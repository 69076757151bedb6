import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listDevices, pciListCommand, type CommandIo } from '../src/index.js';
import { FakeSysfs } from './helpers/fakeSysfs.js';
import { ConfigBuilder } from './helpers/configBuilder.js';

function capture(): CommandIo & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const hostBdfs = existsSync('/sys/bus/pci/devices') ? readdirSync('/sys/bus/pci/devices').sort() : [];

describe('pciListCommand', () => {
  it.skipIf(hostBdfs.length === 0)('prints a table row per real host device', async () => {
    const io = capture();
    expect(await pciListCommand([], io)).toBe(0);
    const lines = io.out.trim().split('\n');
    expect(lines[0]).toMatch(/^BDF\s+ID\s+CLASS\s+DRIVER\s+IOMMU\s+NUMA\s+BARS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(hostBdfs);
    expect(io.err).toBe('');
  });

  it.skipIf(hostBdfs.length === 0)('--json matches listDevices, with bigints as hex strings', async () => {
    const io = capture();
    expect(await pciListCommand(['--json'], io)).toBe(0);
    const parsed = JSON.parse(io.out) as Array<{ bdf: string; vendorId: number; resources: Array<{ start: string }> }>;
    const devices = await listDevices();
    expect(parsed.map((d) => [d.bdf, d.vendorId])).toEqual(devices.map((d) => [d.bdf, d.vendorId]));
    for (const [i, d] of parsed.entries()) {
      expect(d.resources.map((r) => BigInt(r.start))).toEqual(devices[i]!.resources.map((r) => r.start));
    }
  });

  it('-v decodes BARs and capabilities of a device in a given sysfs root', async () => {
    const fake = new FakeSysfs({ drivers: ['pciback'] });
    try {
      const c = new ConfigBuilder(256).endpoint(0x1234, 0x11e8, 0x00ff00, 0x40);
      c.u32(0x10, 0xfea00000).cap(0x40, 0x05, 0).u16(0x42, 0x0080);
      fake.addDevice({ bdf: '0000:00:03.0', vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, driver: 'pciback', config: c.bytes });
      const io = capture();
      expect(await pciListCommand(['--sysfs-root', fake.root, '-v', '00:03.0'], io)).toBe(0);
      expect(io.out).toMatch(/0000:00:03\.0\s+1234:11e8\s+Unclassified device \[ff\]\s+pciback\s+-\s+-\s+0:mem32 1M/);
      expect(io.out).toContain('BAR0: mem32 at 0xfea00000, 1M');
      expect(io.out).toContain('[40] MSI: disabled, 64-bit, 1 vector(s) capable, no masking');
    } finally {
      fake.cleanup();
    }
  });

  it('rejects an unknown option, a malformed or absent BDF and a missing sysfs, exit 2 or 1', async () => {
    let io = capture();
    expect(await pciListCommand(['--frobnicate'], io)).toBe(2);
    expect(io.err).toMatch(/unknown option '--frobnicate'.*--help/);
    io = capture();
    expect(await pciListCommand(['00:3'], io)).toBe(2);
    expect(io.err).toMatch(/malformed PCI address '00:3'/);
    io = capture();
    expect(await pciListCommand(['0000:ff:1f.7'], io)).toBe(2);
    expect(io.err).toMatch(/no PCI device 0000:ff:1f\.7/);
    io = capture();
    expect(await pciListCommand(['--sysfs-root', '/nonexistent-sysfs'], io)).toBe(1);
    expect(io.err).toMatch(/'\/nonexistent-sysfs\/bus\/pci\/devices' does not exist/);
    io = capture();
    expect(await pciListCommand(['--sysfs-root'], io)).toBe(2);
    expect(io.err).toMatch(/--sysfs-root needs a folder/);
  });

  it('--help documents every option it accepts', async () => {
    const io = capture();
    expect(await pciListCommand(['--help'], io)).toBe(0);
    for (const opt of ['--json', '--verbose', '-v', '--sysfs-root', '--help']) expect(io.out).toContain(opt);
  });
});
