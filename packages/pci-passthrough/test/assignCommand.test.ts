import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pciCommand, type AssignCommandIo } from '../src/index.js';
import { FakeSysfs } from './helpers/fakeSysfs.js';

const EDU = '0000:00:03.0';

describe('pci assign / restore commands over a temp sysfs', () => {
  let fake: FakeSysfs;
  let stateDir: string;
  let io: AssignCommandIo & { out: string; err: string };

  beforeEach(() => {
    // Off Xen, with IOMMU groups: the IOMMU check passes without xl.
    fake = new FakeSysfs({ iommuGroups: 2, drivers: ['pciback', 'edu'] });
    fake.addDevice({ bdf: EDU, vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, driver: 'edu' });
    stateDir = mkdtempSync(join(tmpdir(), 'rumpxen-pcistate-'));
    const sink = { out: '', err: '' };
    io = Object.assign(sink, {
      stdout: (t: string) => void (sink.out += t),
      stderr: (t: string) => void (sink.err += t),
      writeAttribute: fake.write,
    });
  });
  afterEach(() => {
    fake.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const common = () => ['--sysfs-root', fake.root, '--state-dir', stateDir];

  it('assign then restore, printing the steps taken', async () => {
    expect(await pciCommand(['assign', ...common(), '00:03.0'], io)).toBe(0);
    expect(io.out).toContain(`echo ${EDU} > /sys/bus/pci/drivers/edu/unbind`);
    expect(io.out).toContain(`${EDU}: now bound to pciback`);
    expect(io.err).toContain(`assigning ${EDU}...`);
    expect(fake.driverOf(EDU)).toBe('pciback');
    expect(await pciCommand(['restore', ...common(), EDU], io)).toBe(0);
    expect(io.out).toContain(`${EDU}: now bound to edu`);
    expect(fake.driverOf(EDU)).toBe('edu');
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    expect(await pciCommand(['assign', '--dry-run', ...common(), EDU], io)).toBe(0);
    expect(io.out).toContain('(would run)');
    expect(io.out).toContain(`echo ${EDU} > /sys/bus/pci/drivers/pciback/bind`);
    expect(fake.writes).toEqual([]);
    expect(fake.driverOf(EDU)).toBe('edu');
  });

  it('restore --unbound leaves the device without a driver', async () => {
    await pciCommand(['assign', ...common(), EDU], io);
    expect(await pciCommand(['restore', '--unbound', ...common(), EDU], io)).toBe(0);
    expect(fake.driverOf(EDU)).toBeNull();
  });

  it('bad input: no address, unknown option, missing value, absent device, no IOMMU, unknown command', async () => {
    expect(await pciCommand(['assign', ...common()], io)).toBe(2);
    expect(io.err).toMatch(/'pci assign' needs at least one device address/);
    expect(await pciCommand(['restore', '--no-iommu-check', EDU], io)).toBe(2);
    expect(io.err).toMatch(/unknown option '--no-iommu-check' for 'pci restore'/);
    expect(await pciCommand(['restore', '--driver'], io)).toBe(2);
    expect(io.err).toMatch(/--driver needs a value/);
    expect(await pciCommand(['assign', ...common(), '00:1f.7'], io)).toBe(2);
    expect(io.err).toMatch(/no PCI device '0000:00:1f\.7'/);
    rmSync(join(fake.root, 'kernel/iommu_groups'), { recursive: true });
    expect(await pciCommand(['assign', ...common(), EDU], io)).toBe(1);
    expect(io.err).toMatch(/cannot make 0000:00:03\.0 assignable: this host is not a Xen dom0 and has no IOMMU/);
    expect(await pciCommand(['frob'], io)).toBe(2);
    expect(io.err).toMatch(/unknown command 'frob'/);
    expect(fake.writes).toEqual([]);
  });

  it('every command has true --help', async () => {
    for (const sub of ['list', 'assign', 'restore']) {
      const before = io.out.length;
      expect(await pciCommand([sub, '--help'], io)).toBe(0);
      expect(io.out.slice(before)).toContain(`image-linker pci ${sub}`);
    }
    expect(await pciCommand(['--help'], io)).toBe(0);
    for (const opt of ['--dry-run', '--state-dir', '--sysfs-root', '--no-iommu-check']) expect(io.out).toContain(opt);
  });
});
