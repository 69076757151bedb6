import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectDevice, listDevices, readConfigSpace, type PciDevice } from '../src/index.js';

/**
 * Against the real /sys of the machine running the tests (read-only: nothing here writes).
 * Cross-checked with lspci (pciutils) when it is installed: it reads the same kernel data
 * through its own decoder.
 */
const DEVICES_DIR = '/sys/bus/pci/devices';
const hostBdfs = existsSync(DEVICES_DIR) ? readdirSync(DEVICES_DIR).sort() : [];
const hasPci = hostBdfs.length > 0;
const lspciPath = ['/usr/bin/lspci', '/bin/lspci', '/usr/sbin/lspci', '/sbin/lspci'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;

function lspci(args: string[]): string {
  return execFileSync(lspciPath!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** lspci -vvv -n -D output split per device. */
function lspciVerbose(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of lspci(['-D', '-n', '-vvv']).split('\n')) {
    const m = /^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(line);
    if (m) {
      current = [line];
      out.set(m[1]!, current);
    } else if (current && line.trim() !== '') current.push(line);
  }
  return out;
}

function parseLspciSize(text: string): bigint {
  const m = /^(\d+)([KMGT]?)$/.exec(text)!;
  const mult = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return BigInt(m[1]!) * mult;
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

  describe.skipIf(!lspciPath)('cross-checked with lspci', () => {
    it('agrees with lspci -n -mm on ids, class, revision and subsystem', async () => {
      const devices = new Map<string, PciDevice>((await listDevices()).map((d) => [d.bdf, d]));
      const lines = lspci(['-D', '-n', '-mm']).trim().split('\n');
      expect(lines.length).toBe(devices.size);
      for (const line of lines) {
        const fields = [...line.matchAll(/"([^"]*)"|(-[a-z][0-9a-f]+)|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
        const [bdf, cls, vendor, device] = fields;
        const d = devices.get(bdf!)!;
        expect(d, bdf).toBeDefined();
        expect(parseInt(cls!, 16)).toBe(d.classCode.code >>> 8);
        expect(parseInt(vendor!, 16)).toBe(d.vendorId);
        expect(parseInt(device!, 16)).toBe(d.deviceId);
        const rev = fields.find((f) => /^-r[0-9a-f]+$/.test(f));
        expect(rev ? parseInt(rev.slice(2), 16) : 0).toBe(d.revision ?? 0);
        const quoted = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
        if (quoted[3]) expect(parseInt(quoted[3], 16)).toBe(d.subsystemVendorId);
        if (quoted[4]) expect(parseInt(quoted[4], 16)).toBe(d.subsystemDeviceId);
      }
    });

    it.skipIf(!isRoot)('agrees with lspci -vvv on BARs, capability offsets, MSI/MSI-X and drivers', async () => {
      const verbose = lspciVerbose();
      let capsCompared = 0;
      let capsListed = 0;
      for (const bdf of hostBdfs) {
        const { device, config } = await inspectDevice(bdf);
        const lines = verbose.get(bdf)!;
        expect(lines, bdf).toBeDefined();
        // Regions
        const regions = lines.flatMap((l) => {
          const m = /Region (\d): (Memory|I\/O ports) at ([0-9a-f]+)(?: \((64|32)-bit, (prefetchable|non-prefetchable)\))?.*\[size=(\w+)\]/.exec(l);
          return m ? [{ index: Number(m[1]), io: m[2] !== 'Memory', address: BigInt(`0x${m[3]}`), bits: m[4], pf: m[5] === 'prefetchable', size: parseLspciSize(m[6]!) }] : [];
        });
        for (const r of regions) {
          const bar = config.bars.find((b) => b.index === r.index)!;
          expect(bar, `${bdf} BAR${r.index}`).toBeDefined();
          expect(bar.address).toBe(r.address);
          expect(bar.size).toBe(r.size);
          expect(bar.kind === 'io').toBe(r.io);
          if (!r.io) {
            expect(bar.kind === 'mem64').toBe(r.bits === '64');
            expect(bar.prefetchable).toBe(r.pf);
          }
        }
        expect(config.bars.filter((b) => b.size !== null && b.size > 0n).length).toBe(regions.length);
        // Capabilities: same offsets in the same order, and matching MSI/MSI-X fields.
        const capLines = lines.filter((l) => /^\tCapabilities: \[[0-9a-f]{2}\]/.test(l));
        capsListed += capLines.length;
        expect(config.capabilities.map((c) => c.offset)).toEqual(capLines.map((l) => parseInt(/\[([0-9a-f]+)\]/.exec(l)![1]!, 16)));
        for (const cap of config.capabilities) {
          const line = capLines.find((l) => l.includes(`[${cap.offset.toString(16).padStart(2, '0')}]`))!;
          capsCompared++;
          if (cap.kind === 'msix') {
            expect(line).toContain(`Count=${cap.tableSize}`);
            expect(line).toContain(cap.enabled ? 'Enable+' : 'Enable-');
            expect(line).toContain(cap.functionMask ? 'Masked+' : 'Masked-');
          }
          if (cap.kind === 'msi') {
            expect(line).toContain(cap.enabled ? 'Enable+' : 'Enable-');
            expect(line).toContain(`Count=${cap.multipleMessageEnabled}/${cap.multipleMessageCapable}`);
            expect(line).toContain(cap.address64 ? '64bit+' : '64bit-');
            expect(line).toContain(cap.perVectorMasking ? 'Maskable+' : 'Maskable-');
          }
          if (cap.kind === 'vendor') expect(line).toMatch(/Vendor Specific/);
          if (cap.kind === 'pcie') expect(line).toMatch(/Express/);
          if (cap.kind === 'pm') expect(line).toMatch(/Power Management version (\d)/);
        }
        const extLines = lines.filter((l) => /^\tCapabilities: \[[0-9a-f]{3} v\d+\]/.test(l));
        expect(config.extendedCapabilities.map((c) => `${c.offset.toString(16)} v${c.version}`)).toEqual(
          extLines.map((l) => /\[([0-9a-f]{3} v\d+)\]/.exec(l)![1]),
        );
        const driverLine = lines.find((l) => l.includes('Kernel driver in use:'));
        expect(device.driver).toBe(driverLine ? driverLine.split(':')[1]!.trim() : null);
      }
      // Every capability lspci listed was compared field by field.
      expect(capsCompared).toBe(capsListed);
    });
  });
});
