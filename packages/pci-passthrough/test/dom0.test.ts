import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iommuFromXlInfo, libxlPcidev, xlPciLine } from '../src/index.js';
import { Testbed, assetPaths } from '@rumpxen/xen-testbed';
import { compareWithLspciMm, compareWithLspciVerbose } from './helpers/lspciCheck.js';
import { pkgDir, requireDist, requireLspci } from './helpers/prerequisites.js';

/**
 * In the testbed's full mode: a real Linux dom0 under Xen with QEMU's edu device at
 * 0000:00:03.0, hidden from dom0 by xen_pciback.hide at boot. The host's node runs this
 * package (its built dist/, which dom0 sees over 9p at the same path) in dom0 against dom0's
 * real sysfs and xen-pciback; the original host driver for the round trip is pci-stub, loaded
 * from the cached Debian kernel.
 */

/** The package as consumers get it: the built dist/ (the build runs before the tests). */
const bundleDir = join(pkgDir, 'dist');
/** Scratch files handed to dom0 (xl info output). */
const scratchDir = join(pkgDir, 'build', 'dom0');
const EDU = '0000:00:03.0';

function findPciStub(): string | null {
  const ko = join(assetPaths().dom0Modules, 'kernel', 'drivers', 'pci', 'pci-stub.ko');
  return existsSync(ko) ? ko : null;
}

describe('in dom0 of the full testbed, against edu and xen-pciback', () => {
  let tb: Testbed;
  let xlInfoText = '';
  const stateDir = '/tmp/rumpxen-pci-state';
  const xlInfoFile = join(scratchDir, 'xl-info.txt');

  async function step(name: string): Promise<Record<string, any>> {
    const cmd = `hostrun ${process.execPath} ${join(pkgDir, 'test', 'dom0', 'steps.mjs')} ${name} ${bundleDir} ${xlInfoFile} ${stateDir}`;
    const r = await tb.dom0.exec(cmd, { timeoutMs: 180_000 });
    expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    const line = r.stdout.trim().split('\n').pop()!;
    return JSON.parse(line);
  }

  beforeAll(async () => {
    // Fails (with the fix) rather than skips: `npm test` fetches the assets and builds first.
    assetPaths();
    requireDist();
    mkdirSync(scratchDir, { recursive: true });
    tb = await Testbed.start({ edu: true });
    const info = await tb.dom0.exec('xl info', { timeoutMs: 60_000 });
    expect(info.code, info.stderr).toBe(0);
    xlInfoText = info.stdout;
    writeFileSync(xlInfoFile, xlInfoText);
    const stub = findPciStub();
    if (!stub) throw new Error('pci-stub.ko not found in the cached dom0 kernel package');
    // The host's / is shared into dom0 at /host, wherever the asset cache lives.
    const loaded = await tb.dom0.exec(`insmod /host${stub} && echo '1234 11e8' > /sys/bus/pci/drivers/pci-stub/new_id`);
    expect(loaded.code, loaded.stderr).toBe(0);
  }, 400_000);

  afterAll(async () => {
    await tb?.stop();
  });

  it('Xen in the testbed reports an IOMMU in xl info', () => {
    expect(iommuFromXlInfo(xlInfoText)).toMatchObject({ present: true, source: 'xl-info' });
  });

  it('lists edu and decodes its config space: ids, 1 MiB BAR0, MSI', async () => {
    const r = await step('inspect');
    expect(r.error).toBeUndefined();
    expect(r.bdfs).toContain(EDU);
    expect(r.device).toMatchObject({ bdf: EDU, vendorId: 0x1234, deviceId: 0x11e8, driver: 'pciback' });
    expect(r.config.vendorId).toBe(0x1234);
    expect(r.config.deviceId).toBe(0x11e8);
    expect(r.config.bars[0]).toMatchObject({ index: 0, kind: 'mem32', size: '0x100000' });
    expect(r.config.interruptPin).toBe('INTA');
    // QEMU's edu: one MSI vector, 64-bit address, no per-vector masking.
    expect(r.config.capabilities).toEqual([
      expect.objectContaining({ kind: 'msi', offset: 0x40, address64: true, multipleMessageCapable: 1, perVectorMasking: false }),
    ]);
    expect(r.iommu).toMatchObject({ present: true, source: 'xl-info' });
  }, 200_000);

  it('decodes every dom0 device as lspci does (q35 chipset, edu, virtio)', async () => {
    requireLspci();
    const r = await step('inspect-all');
    expect(r.error).toBeUndefined();
    const mm = await tb.dom0.exec('hostrun lspci -D -n -mm');
    const vvv = await tb.dom0.exec('hostrun lspci -D -n -vvv');
    expect(mm.code, mm.stderr).toBe(0);
    expect(vvv.code, vvv.stderr).toBe(0);
    expect(compareWithLspciMm(r.entries, mm.stdout)).toBe(r.entries.length);
    const compared = compareWithLspciVerbose(r.entries, vvv.stdout);
    expect(compared.bars).toBeGreaterThan(0);
    expect(compared.capabilities).toBeGreaterThan(0);
  }, 300_000);

  it('accepts edu on pciback, then gives it to pci-stub and refuses it there', async () => {
    expect((await step('assert')).assignable).toBe(true);
    const toStub = await step('restore-to-stub');
    expect(toStub.error).toBeUndefined();
    expect(toStub.driver).toBe('pci-stub');
    expect(toStub.pcibackSlots).not.toContain(EDU);
    const refused = await step('assert');
    expect(refused.error).toMatchObject({ code: 'BOUND_TO_HOST_DRIVER' });
    expect(refused.error.message).toContain(`${EDU} is still bound to host driver 'pci-stub'`);
  }, 400_000);

  it('rolls back to pci-stub when the pciback bind fails', async () => {
    const r = await step('assign-faulty');
    expect(r.error).toMatchObject({ code: 'SYSFS_WRITE_FAILED' });
    expect(r.error.message).toMatch(/rolled back: 0000:00:03\.0 is as it was before \(driver pci-stub\)/);
    expect(r.driver).toBe('pci-stub');
    expect(r.state).toBeNull();
    expect(r.pcibackSlots).not.toContain(EDU);
  }, 200_000);

  it('makes edu assignable (xl agrees) and restores it to pci-stub', async () => {
    const assigned = await step('assign');
    expect(assigned.error).toBeUndefined();
    expect(assigned.driver).toBe('pciback');
    expect(assigned.state).toMatchObject({ bdf: EDU, originalDriver: 'pci-stub' });
    const list = await tb.dom0.exec('xl pci-assignable-list');
    expect(list.stdout).toContain(EDU);

    const restored = await step('restore');
    expect(restored.error).toBeUndefined();
    expect(restored.driver).toBe('pci-stub');
    expect(restored.state).toBeNull();
    expect((await tb.dom0.exec('xl pci-assignable-list')).stdout).not.toContain(EDU);

    // Leave edu assignable, as the testbed started it.
    expect((await step('assign')).driver).toBe('pciback');
  }, 600_000);

  it('xl accepts the emitted pci= line for a (paused) PV domain, and libxl reports our pcidevs fields', async () => {
    // edu is on pciback again after the previous test.
    const spec = { bdf: EDU, vslot: 5, permissive: true, msitranslate: false, rdmPolicy: 'relaxed' as const };
    const cfg = join(bundleDir, 'pcitest.cfg');
    const line = xlPciLine([spec]);
    writeFileSync(cfg, [`name = "pcitest"`, `type = "pv"`, `kernel = "/host${assetPaths().dom0Vmlinux}"`, `memory = 128`, line, ''].join('\n'));
    // -p: build the domain but never run it; the kernel only has to load.
    const created = await tb.dom0.exec(`xl create -p ${cfg}`, { timeoutMs: 120_000 });
    try {
      expect(created.code, created.stderr).toBe(0);
      const list = await tb.dom0.exec('xl pci-list pcitest');
      // vslot 5 -> guest slot 05.0.
      expect(list.stdout).toMatch(/^05\.0\s+0000:00:03\.0$/m);
      const json = await tb.dom0.exec('xl list -l pcitest');
      expect(json.code, json.stderr).toBe(0);
      const theirs = JSON.parse(json.stdout)[0].config.pcidevs as Array<Record<string, unknown>>;
      expect(theirs).toHaveLength(1);
      const ours = libxlPcidev(spec) as unknown as Record<string, unknown>;
      // libxl prints only fields that differ from their defaults, and fills some defaults in.
      for (const [k, v] of Object.entries(theirs[0]!)) if (k in ours) expect(ours[k], `libxl field ${k}`).toEqual(v);
      for (const [k, v] of Object.entries(ours)) if (v !== 0 && v !== false) expect(theirs[0]![k], `libxl field ${k}`).toEqual(v);
    } finally {
      // edu's frontend never connects in a paused domain: xl waits ~10 s for it.
      await tb.dom0.exec('xl destroy pcitest', { timeoutMs: 120_000 });
    }
  }, 400_000);

  it('refuses a BDF dom0 does not have', async () => {
    const r = await step('missing');
    expect(r.error).toMatchObject({ code: 'NO_SUCH_DEVICE' });
    expect(r.error.message).toContain(EDU);
  }, 200_000);
});
