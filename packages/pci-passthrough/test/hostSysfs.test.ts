import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectDevice, listDevices, readConfigSpace } from '../src/index.js';
import { compareWithLspciMm, compareWithLspciVerbose, type DecodedEntry } from './helpers/lspciCheck.js';
import { requireLspci } from './helpers/prerequisites.js';

/**
 * Against the real /sys of the machine running the tests (read-only: nothing here writes).
 * Cross-checked with lspci (pciutils, installed by scripts/setup.sh; missing = failure): it
 * reads the same kernel data through its own decoder.
 */
const DEVICES_DIR = '/sys/bus/pci/devices';
const hostBdfs = existsSync(DEVICES_DIR) ? readdirSync(DEVICES_DIR).sort() : [];
const hasPci = hostBdfs.length > 0;
const isRoot = process.getuid?.() === 0;

function lspci(args: string[]): string {
  return execFileSync(requireLspci(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

describe.skipIf(!hasPci)('real sysfs of this host', () => {
  it('lists every device folder with the ids, class and driver sysfs shows', async () => {
    const devices = await listDevices();
    expect(devices.map((d) => d.bdf)).toEqual(hostBdfs);
    for (const d of devices) {
      const dir = `${DEVICES_DIR}/${d.bdf}`;
      expect(d.vendorId).toBe(parseInt(readFileSync(`${dir}/vendor`, 'utf8'), 16));
      expect(d.deviceId).toBe(parseInt(readFileSync(`${dir}/device`, 'utf8'), 16));
      expect(d.classCode.code).toBe(parseInt(readFileSync(`${dir}/class`, 'utf8'), 16));
      expect(d.driver).toBe(existsSync(`${dir}/driver`) ? basename(readlinkSync(`${dir}/driver`)) : null);
      expect(d.iommuGroup).toBe(existsSync(`${dir}/iommu_group`) ? Number(basename(readlinkSync(`${dir}/iommu_group`))) : null);
      expect(d.classCode.name.length).toBeGreaterThan(0);
    }
  });

  it('decodes each config space consistently with the sysfs attributes', async () => {
    for (const bdf of hostBdfs) {
      const { device, config } = await inspectDevice(bdf);
      const raw = await readConfigSpace(bdf);
      expect(config.length).toBe(raw.length);
      expect(config.vendorId).toBe(device.vendorId);
      expect(config.deviceId).toBe(device.deviceId);
      expect(config.classCode.code).toBe(device.classCode.code);
      if (device.revision !== null) expect(config.revision).toBe(device.revision);
      if (config.headerLayout === 'endpoint' && device.subsystemVendorId !== null) {
        expect(config.subsystemVendorId).toBe(device.subsystemVendorId);
        expect(config.subsystemId).toBe(device.subsystemDeviceId);
      }
      // Every BAR the host kernel assigned shows up decoded, with the host's address and size.
      for (const r of device.resources.filter((x) => x.index < 6 && x.kind !== 'none')) {
        const bar = config.bars.find((b) => b.index === r.index);
        expect(bar, `${bdf} BAR${r.index}`).toBeDefined();
        expect(bar!.size).toBe(r.size);
        expect(bar!.kind === 'io').toBe(r.kind === 'io');
        if (!r.unassigned) expect(bar!.address).toBe(r.start);
        if (r.kind === 'mem') expect(bar!.kind === 'mem64').toBe(r.mem64);
      }
      expect(config.warnings.filter((w) => !/64-byte header/.test(w))).toEqual([]);
    }
  });

  it.skipIf(!isRoot)('reads past the header as root, so capability lists are walked', async () => {
    for (const bdf of hostBdfs) {
      const { config } = await inspectDevice(bdf);
      expect(config.length).toBeGreaterThanOrEqual(256);
      if (config.status & 0x10) expect(config.capabilities.length).toBeGreaterThan(0);
    }
  });

  describe('cross-checked with lspci', () => {
    async function decodedAll(): Promise<DecodedEntry[]> {
      return Promise.all(hostBdfs.map((bdf) => inspectDevice(bdf)));
    }

    it('agrees with lspci -n -mm on ids, class, revision and subsystem', async () => {
      expect(compareWithLspciMm(await decodedAll(), lspci(['-D', '-n', '-mm']))).toBe(hostBdfs.length);
    });

    it.skipIf(!isRoot)('agrees with lspci -vvv on BARs, capability offsets, MSI/MSI-X, extended capabilities and drivers', async () => {
      const compared = compareWithLspciVerbose(await decodedAll(), lspci(['-D', '-n', '-vvv']));
      const devicesWithCaps = (await decodedAll()).filter((e) => e.config.status & 0x10).length;
      if (devicesWithCaps > 0) expect(compared.capabilities).toBeGreaterThan(0);
    });
  });
});
