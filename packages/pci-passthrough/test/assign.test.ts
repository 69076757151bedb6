import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertAssignable,
  detectIommu,
  iommuFromXlInfo,
  makeAssignable,
  PciError,
  planMakeAssignable,
  planRestore,
  preparePassthrough,
  readAssignmentState,
  restore,
  type AssignOptions,
} from '../src/index.js';
import { FakeSysfs } from './helpers/fakeSysfs.js';

const EDU = '0000:00:03.0';
const XL_INFO_IOMMU = `host                   : dom0
release                : 6.1.0-26-amd64
virt_caps              : pv hvm hvm_directio pv_directio hap gnttab-v1 gnttab-v2
total_memory           : 511
xen_version            : 4.17.5-pre
`;
const XL_INFO_NO_IOMMU = XL_INFO_IOMMU.replace(' hvm_directio pv_directio', '');

async function caught(p: Promise<unknown>): Promise<PciError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PciError) return e;
    throw e;
  }
  throw new Error('expected a PciError');
}

describe('planning (pure)', () => {
  it('plans save, unbind, new_slot, bind, verify for a device on a host driver', () => {
    const plan = planMakeAssignable({ bdf: EDU, driver: 'edu', pcibackLoaded: true, state: null, now: new Date(0) });
    expect(plan.action).toBe('assign');
    expect(plan.steps.map((s) => s.step)).toEqual([
      { op: 'save-state', state: { bdf: EDU, originalDriver: 'edu', assignedAt: '1970-01-01T00:00:00.000Z' } },
      { op: 'unbind', bdf: EDU, driver: 'edu' },
      { op: 'write', path: 'bus/pci/drivers/pciback/new_slot', value: EDU },
      { op: 'bind', bdf: EDU, driver: 'pciback' },
      { op: 'expect-driver', bdf: EDU, driver: 'pciback' },
    ]);
    expect(plan.steps[1]!.undo).toEqual([
      { op: 'bind', bdf: EDU, driver: 'edu' },
      { op: 'expect-driver', bdf: EDU, driver: 'edu' },
    ]);
  });

  it('skips the unbind for an unbound device and does nothing for one already on pciback', () => {
    expect(planMakeAssignable({ bdf: EDU, driver: null, pcibackLoaded: true, state: null }).steps.map((s) => s.step.op)).toEqual([
      'save-state',
      'write',
      'bind',
      'expect-driver',
    ]);
    const none = planMakeAssignable({ bdf: EDU, driver: 'pciback', pcibackLoaded: true, state: null });
    expect(none.action).toBe('none');
    expect(none.steps).toEqual([]);
  });

  it('refuses when pciback is not loaded, saying how to load it', () => {
    expect(() => planMakeAssignable({ bdf: EDU, driver: 'edu', pcibackLoaded: false, state: null })).toThrow(/modprobe xen-pciback/);
  });

  it('plans a restore to the remembered driver, and refuses one with no record', () => {
    const state = { bdf: EDU, originalDriver: 'edu', assignedAt: 'x' };
    const plan = planRestore({ bdf: EDU, driver: 'pciback', state, loadedDrivers: ['edu', 'pciback'] });
    expect(plan.steps.map((s) => s.step.op)).toEqual(['unbind', 'write', 'bind', 'expect-driver', 'delete-state']);
    expect(() => planRestore({ bdf: EDU, driver: 'pciback', state: null, loadedDrivers: [] })).toThrow(/no record of its original driver/);
    expect(() => planRestore({ bdf: EDU, driver: 'pciback', state, loadedDrivers: ['pciback'] })).toThrow(/modprobe edu/);
    expect(() => planRestore({ bdf: EDU, driver: 'e1000', state, loadedDrivers: ['edu'] })).toThrow(/bound to 'e1000', not pciback/);
  });
});

describe('parsing xl info', () => {
  it('finds the directio capabilities only when Xen has an IOMMU', () => {
    expect(iommuFromXlInfo(XL_INFO_IOMMU)).toMatchObject({ present: true, source: 'xl-info' });
    expect(iommuFromXlInfo(XL_INFO_NO_IOMMU)).toMatchObject({ present: false, detail: 'virt_caps: pv hvm hap gnttab-v1 gnttab-v2' });
    expect(iommuFromXlInfo('garbage').present).toBe(false);
  });
});

describe('executor over a temp sysfs with a kernel stand-in', () => {
  let fake: FakeSysfs;
  let stateDir: string;
  let options: AssignOptions;

  beforeEach(() => {
    fake = new FakeSysfs({ xen: true, drivers: ['pciback', 'edu', 'virtio-pci'] });
    fake.addDevice({ bdf: EDU, vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, driver: 'edu' });
    fake.addDevice({ bdf: '0000:00:04.0', vendor: 0x1af4, device: 0x1041, classCode: 0x020000, driver: 'virtio-pci' });
    stateDir = mkdtempSync(join(tmpdir(), 'rumpxen-pcistate-'));
    options = { sysfsRoot: fake.root, stateDir, writeAttribute: fake.write, xlInfo: async () => XL_INFO_IOMMU, verifyTimeoutMs: 100 };
  });
  afterEach(() => {
    fake.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('makes a device assignable and restores it to its original driver', async () => {
    const result = await makeAssignable('00:03.0', options);
    expect(result.driver).toBe('pciback');
    expect(result.iommu).toMatchObject({ present: true, source: 'xl-info' });
    expect(fake.driverOf(EDU)).toBe('pciback');
    expect(fake.pcibackSlots.has(EDU)).toBe(true);
    expect(fake.writes).toEqual([
      { path: 'bus/pci/drivers/edu/unbind', value: EDU },
      { path: 'bus/pci/drivers/pciback/new_slot', value: EDU },
      { path: 'bus/pci/drivers/pciback/bind', value: EDU },
    ]);
    expect(JSON.parse(readFileSync(join(stateDir, `${EDU}.json`), 'utf8'))).toMatchObject({ bdf: EDU, originalDriver: 'edu' });
    // Idempotent: a second call changes nothing.
    const again = await makeAssignable(EDU, options);
    expect(again.plan.action).toBe('none');
    expect(fake.writes).toHaveLength(3);

    const back = await restore(EDU, options);
    expect(back.driver).toBe('edu');
    expect(fake.driverOf(EDU)).toBe('edu');
    expect(fake.pcibackSlots.has(EDU)).toBe(false);
    expect(existsSync(join(stateDir, `${EDU}.json`))).toBe(false);
    // The other device was never touched.
    expect(fake.driverOf('0000:00:04.0')).toBe('virtio-pci');
  });

  it('rolls back to the original driver when pciback refuses the bind', async () => {
    fake.failWrite = (path) => (path.endsWith('pciback/bind') ? Object.assign(new Error('EINVAL'), { code: 'EINVAL' }) : null);
    const e = await caught(makeAssignable(EDU, options));
    expect(e.code).toBe('SYSFS_WRITE_FAILED');
    expect(e.message).toMatch(/0000:00:03\.0/);
    expect(e.message).toMatch(/pciback\/bind/);
    expect(e.message).toMatch(/rolled back: 0000:00:03\.0 is as it was before \(driver edu\)/);
    expect(fake.driverOf(EDU)).toBe('edu');
    expect(fake.pcibackSlots.has(EDU)).toBe(false);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('rolls back when the bind is accepted but the device does not end up on pciback', async () => {
    fake.silentBindFailure = 'pciback';
    const e = await caught(makeAssignable(EDU, options));
    expect(e.code).toBe('VERIFY_FAILED');
    expect(e.message).toMatch(/should now be bound to pciback but is bound to no driver/);
    expect(fake.driverOf(EDU)).toBe('edu');
    expect(fake.pcibackSlots.has(EDU)).toBe(false);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('reports an incomplete rollback with the commands to finish it by hand', async () => {
    fake.failWrite = (path) =>
      path.endsWith('pciback/bind') || path.endsWith('edu/bind') ? Object.assign(new Error('EIO'), { code: 'EIO' }) : null;
    const e = await caught(makeAssignable(EDU, options));
    expect(e.message).toMatch(/ROLLBACK INCOMPLETE, fix by hand: echo 0000:00:03\.0 > \/sys\/bus\/pci\/drivers\/edu\/bind/);
  });

  it('rolls a failed restore back onto pciback', async () => {
    await makeAssignable(EDU, options);
    fake.failWrite = (path) => (path.endsWith('edu/bind') ? Object.assign(new Error('ENODEV'), { code: 'ENODEV' }) : null);
    const e = await caught(restore(EDU, options));
    expect(e.message).toMatch(/restore of 0000:00:03\.0 failed.*rolled back: 0000:00:03\.0 is as it was before \(driver pciback\)/);
    expect(fake.driverOf(EDU)).toBe('pciback');
    expect(fake.pcibackSlots.has(EDU)).toBe(true);
    expect(await readAssignmentState(EDU, options)).toMatchObject({ originalDriver: 'edu' });
  });

  it('refuses without an IOMMU (xl info), naming the device and the fix, and changes nothing', async () => {
    const e = await caught(makeAssignable(EDU, { ...options, xlInfo: async () => XL_INFO_NO_IOMMU }));
    expect(e.code).toBe('NO_IOMMU');
    expect(e.message).toMatch(/cannot make 0000:00:03\.0 assignable: Xen reports no IOMMU/);
    expect(e.message).toMatch(/-machine q35 -device intel-iommu/);
    expect(fake.writes).toEqual([]);
    expect(fake.driverOf(EDU)).toBe('edu');
  });

  it('refuses without an IOMMU off Xen (no iommu_groups)', async () => {
    const plain = new FakeSysfs({ drivers: ['pciback'] });
    try {
      plain.addDevice({ bdf: EDU, vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, driver: 'edu' });
      expect(await detectIommu({ sysfsRoot: plain.root })).toMatchObject({ present: false, source: 'iommu-groups' });
      const e = await caught(makeAssignable(EDU, { sysfsRoot: plain.root, stateDir, writeAttribute: plain.write }));
      expect(e.code).toBe('NO_IOMMU');
      expect(e.message).toMatch(/not a Xen dom0 and has no IOMMU \(0 IOMMU group/);
      expect(plain.writes).toEqual([]);
    } finally {
      plain.cleanup();
    }
  });

  it('refuses a missing BDF listing the ones present, and a malformed one showing the form', async () => {
    const missing = await caught(makeAssignable('0000:00:1f.7', options));
    expect(missing.code).toBe('NO_SUCH_DEVICE');
    expect(missing.message).toMatch(/no PCI device '0000:00:1f.7'.*present: 0000:00:03\.0, 0000:00:04\.0/);
    const bad = await caught(makeAssignable('00:3', options));
    expect(bad.code).toBe('BAD_BDF');
    expect(bad.message).toMatch(/'00:3'.*DDDD:BB:DD\.F/);
    expect(fake.writes).toEqual([]);
  });

  it('refuses when pciback is not loaded and changes nothing', async () => {
    rmSync(join(fake.root, 'bus/pci/drivers/pciback'), { recursive: true });
    const e = await caught(makeAssignable(EDU, options));
    expect(e.code).toBe('NO_PCIBACK');
    expect(e.message).toMatch(/0000:00:03\.0.*modprobe xen-pciback/);
    expect(fake.writes).toEqual([]);
  });

  it('assertAssignable names the host driver still bound, and passes once on pciback', async () => {
    const e = await caught(assertAssignable(EDU, options));
    expect(e.code).toBe('BOUND_TO_HOST_DRIVER');
    expect(e.message).toMatch(/0000:00:03\.0 is still bound to host driver 'edu'.*xl pci-assignable-add 0000:00:03\.0/);
    await makeAssignable(EDU, options);
    await expect(assertAssignable(EDU, options)).resolves.toBeUndefined();
  });

  it('restore of a device with no record says how to name the driver', async () => {
    await makeAssignable(EDU, options);
    rmSync(join(stateDir, `${EDU}.json`));
    const e = await caught(restore(EDU, options));
    expect(e.code).toBe('NOT_ASSIGNED');
    const back = await restore(EDU, { ...options, driver: 'edu' });
    expect(back.driver).toBe('edu');
  });

  it('preparePassthrough checks every device before changing any, and emits the config entries', async () => {
    const refused = await caught(preparePassthrough(['00:03.0', '00:04.0'], options));
    expect(refused.code).toBe('BOUND_TO_HOST_DRIVER');
    const missing = await caught(preparePassthrough(['00:03.0', '00:1f.7'], { ...options, assign: true }));
    expect(missing.code).toBe('NO_SUCH_DEVICE');
    const twice = await caught(preparePassthrough(['00:03.0', '0000:00:03.0'], { ...options, assign: true }));
    expect(twice.message).toMatch(/'0000:00:03\.0' is named twice \(also as '00:03\.0'\)/);
    expect(fake.writes).toEqual([]);

    const ok = await preparePassthrough(['00:03.0', { bdf: '00:04.0', permissive: true }], { ...options, assign: true });
    expect(ok.xlPciLine).toBe("pci = [ '0000:00:03.0', '0000:00:04.0,permissive=1' ]");
    expect(ok.pcidevs).toEqual([
      { func: 0, dev: 3, bus: 0, domain: 0 },
      { func: 0, dev: 4, bus: 0, domain: 0, permissive: true },
    ]);
    expect([fake.driverOf(EDU), fake.driverOf('0000:00:04.0')]).toEqual(['pciback', 'pciback']);
    // Now both are on pciback, checking without assign passes.
    expect((await preparePassthrough([EDU, '00:04.0'], options)).devices.map((d) => d.assigned)).toEqual([null, null]);
  });

  it('preparePassthrough restores the devices it assigned when a later one fails', async () => {
    fake.failWrite = (path, value) => (path.endsWith('pciback/bind') && value === '0000:00:04.0' ? Object.assign(new Error('EBUSY'), { code: 'EBUSY' }) : null);
    const e = await caught(preparePassthrough([EDU, '00:04.0'], { ...options, assign: true }));
    expect(e.message).toMatch(/assign of 0000:00:04\.0 failed.*devices this call had already assigned: 0000:00:03\.0 restored/);
    expect(fake.driverOf(EDU)).toBe('edu');
    expect(fake.driverOf('0000:00:04.0')).toBe('virtio-pci');
    expect(fake.pcibackSlots.size).toBe(0);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('refuses to start when the state folder cannot be written, changing nothing', async () => {
    const blocker = join(stateDir, 'not-a-folder');
    writeFileSync(blocker, '');
    const e = await caught(makeAssignable(EDU, { ...options, stateDir: join(blocker, 'state') }));
    expect(e.code).toBe('BAD_STATE');
    expect(e.message).toMatch(/cannot record 0000:00:03\.0's original driver in .*not-a-folder\/state\/0000:00:03\.0\.json.*writable folder/);
    expect(fake.writes).toEqual([]);
    expect(fake.driverOf(EDU)).toBe('edu');
  });

  it('refuses a state file or --driver that names a path instead of a driver', async () => {
    await makeAssignable(EDU, options);
    writeFileSync(join(stateDir, `${EDU}.json`), JSON.stringify({ bdf: EDU, originalDriver: '../../../kernel', assignedAt: 'x' }));
    const bad = await caught(restore(EDU, options));
    expect(bad.code).toBe('BAD_STATE');
    expect(bad.message).toMatch(/is not a valid assignment record for 0000:00:03\.0/);
    rmSync(join(stateDir, `${EDU}.json`));
    const override = await caught(restore(EDU, { ...options, driver: '../edu' }));
    expect(override.code).toBe('BAD_OPTION');
    expect(override.message).toMatch(/driver '\.\.\/edu': not a driver name/);
    expect(fake.driverOf(EDU)).toBe('pciback');
  });

  it('dry run plans without writing', async () => {
    const r = await makeAssignable(EDU, { ...options, dryRun: true });
    expect(r.plan.steps).toHaveLength(5);
    expect(fake.writes).toEqual([]);
    expect(fake.driverOf(EDU)).toBe('edu');
  });
});

describe('bad input against the real sysfs of this host (read-only)', () => {
  const devices = existsSync('/sys/bus/pci/devices') ? readdirSync('/sys/bus/pci/devices').sort() : [];
  const bound = devices.find((d) => existsSync(`/sys/bus/pci/devices/${d}/driver`) && !readFileSync(`/sys/bus/pci/devices/${d}/uevent`, 'utf8').includes('DRIVER=pciback'));

  it.skipIf(!bound)('a device on a host driver is refused by assertAssignable', async () => {
    const e = await caught(assertAssignable(bound!));
    expect(e.code).toBe('BOUND_TO_HOST_DRIVER');
    expect(e.message).toContain(bound!);
  });

  it.skipIf(devices.length === 0)('an absent BDF is refused', async () => {
    const e = await caught(assertAssignable('0000:ff:1f.7'));
    expect(e.code).toBe('NO_SUCH_DEVICE');
    expect(e.message).toContain(devices[0]!);
  });

  it.skipIf(!bound)('makeAssignable (dry run) checks the IOMMU the way this host has it', async () => {
    const iommu = await detectIommu();
    if (iommu.present) {
      const r = await makeAssignable(bound!, { dryRun: true, stateDir: mkdtempSync(join(tmpdir(), 'rumpxen-pcistate-')) });
      expect(r.done).toEqual([]);
    } else {
      const e = await caught(makeAssignable(bound!, { dryRun: true }));
      expect(e.code).toBe('NO_IOMMU');
      expect(e.message).toContain(bound!);
    }
  });
});
