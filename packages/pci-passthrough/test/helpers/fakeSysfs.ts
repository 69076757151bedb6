import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

/**
 * A sysfs tree in a temp folder, with a stand-in for the kernel's PCI driver attributes
 * (bind, unbind, pciback new_slot/remove_slot) so the assignment executor can run on the
 * development machine without touching its real /sys.
 */
export interface FakeDeviceSpec {
  bdf: string;
  vendor: number;
  device: number;
  classCode: number;
  driver?: string;
  config?: Uint8Array;
  resource?: string;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class FakeSysfs {
  readonly root: string;
  readonly writes: Array<{ path: string; value: string }> = [];
  readonly pcibackSlots = new Set<string>();
  /** Return an error to make a write fail the way the kernel would. */
  failWrite: ((path: string, value: string) => NodeJS.ErrnoException | null) | null = null;
  /** Make a bind "succeed" without the device ending up bound (a probe that declines). */
  silentBindFailure: string | null = null;

  constructor(options: { xen?: boolean; iommuGroups?: number; drivers?: string[] } = {}) {
    this.root = mkdtempSync(join(tmpdir(), 'rumpxen-sysfs-'));
    mkdirSync(join(this.root, 'bus/pci/devices'), { recursive: true });
    for (const d of options.drivers ?? []) this.addDriver(d);
    if (options.xen) {
      mkdirSync(join(this.root, 'hypervisor'), { recursive: true });
      writeFileSync(join(this.root, 'hypervisor/type'), 'xen\n');
    }
    mkdirSync(join(this.root, 'kernel/iommu_groups'), { recursive: true });
    for (let g = 0; g < (options.iommuGroups ?? 0); g++) mkdirSync(join(this.root, 'kernel/iommu_groups', String(g)));
  }

  addDriver(name: string): void {
    const dir = join(this.root, 'bus/pci/drivers', name);
    mkdirSync(dir, { recursive: true });
    for (const attr of ['bind', 'unbind', 'new_id', 'remove_id']) writeFileSync(join(dir, attr), '');
    if (name === 'pciback') for (const attr of ['new_slot', 'remove_slot', 'slots']) writeFileSync(join(dir, attr), '');
  }

  addDevice(spec: FakeDeviceSpec): void {
    const dir = join(this.root, 'bus/pci/devices', spec.bdf);
    mkdirSync(dir, { recursive: true });
    const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}\n`;
    writeFileSync(join(dir, 'vendor'), hex(spec.vendor, 4));
    writeFileSync(join(dir, 'device'), hex(spec.device, 4));
    writeFileSync(join(dir, 'class'), hex(spec.classCode, 6));
    writeFileSync(join(dir, 'subsystem_vendor'), hex(0x1af4, 4));
    writeFileSync(join(dir, 'subsystem_device'), hex(0x1100, 4));
    writeFileSync(join(dir, 'revision'), hex(0x10, 2));
    writeFileSync(join(dir, 'numa_node'), '-1\n');
    writeFileSync(join(dir, 'enable'), spec.driver ? '1\n' : '0\n');
    writeFileSync(join(dir, 'irq'), '11\n');
    writeFileSync(join(dir, 'resource'), spec.resource ?? '0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n' + '0x0000000000000000 0x0000000000000000 0x0000000000000000\n'.repeat(6));
    writeFileSync(join(dir, 'config'), spec.config ?? new Uint8Array(256));
    if (spec.driver) this.link(spec.bdf, spec.driver);
  }

  driverOf(bdf: string): string | null {
    const link = join(this.root, 'bus/pci/devices', bdf, 'driver');
    return existsSync(link) ? basename(readlinkSync(link)) : null;
  }

  private link(bdf: string, driver: string): void {
    if (!existsSync(join(this.root, 'bus/pci/drivers', driver))) this.addDriver(driver);
    symlinkSync(join(this.root, 'bus/pci/drivers', driver), join(this.root, 'bus/pci/devices', bdf, 'driver'));
    symlinkSync(join(this.root, 'bus/pci/devices', bdf), join(this.root, 'bus/pci/drivers', driver, bdf));
  }

  private unlink(bdf: string, driver: string): void {
    rmSync(join(this.root, 'bus/pci/devices', bdf, 'driver'));
    rmSync(join(this.root, 'bus/pci/drivers', driver, bdf));
  }

  /** The executor's writeAttribute: applies the kernel's semantics for the attribute written. */
  write = async (path: string, value: string): Promise<void> => {
    const rel = relative(this.root, path);
    this.writes.push({ path: rel, value });
    const fault = this.failWrite?.(rel, value);
    if (fault) throw fault;
    const m = /^bus\/pci\/drivers\/([^/]+)\/(bind|unbind|new_slot|remove_slot)$/.exec(rel);
    if (!m) throw errno('EACCES', `${rel} is not writable in this stand-in`);
    const driver = m[1]!;
    const attr = m[2]!;
    const bdf = value.trim();
    if (!existsSync(join(this.root, 'bus/pci/devices', bdf))) throw errno('ENODEV', `no device ${bdf}`);
    const current = this.driverOf(bdf);
    switch (attr) {
      case 'unbind':
        if (current !== driver) throw errno('ENODEV', `${bdf} not bound to ${driver}`);
        this.unlink(bdf, driver);
        return;
      case 'bind':
        if (current !== null) throw errno('EBUSY', `${bdf} already bound to ${current}`);
        if (driver === 'pciback' && !this.pcibackSlots.has(bdf)) throw errno('ENODEV', `pciback does not claim ${bdf}`);
        if (this.silentBindFailure === driver) return;
        this.link(bdf, driver);
        return;
      case 'new_slot':
        this.pcibackSlots.add(bdf);
        return;
      case 'remove_slot':
        if (!this.pcibackSlots.delete(bdf)) throw errno('ENOENT', `${bdf} not in pciback slots`);
        return;
    }
  };

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
