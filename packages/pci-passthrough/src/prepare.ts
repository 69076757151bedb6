import { formatBdf, parseBdf } from './bdf.js';
import { libxlPcidev, xlPciEntry, xlPciLine, type LibxlDevicePci, type PassthroughSpec } from './emit.js';
import { PciError } from './errors.js';
import { assertAssignable, makeAssignable, restore, type AssignOptions, type AssignResult } from './assign.js';
import { readDevice, type PciDevice } from './sysfs.js';

/**
 * What `image-linker ... --pci BDF` needs: check (or make) every named device assignable and
 * produce the guest config entries. All devices are checked before any is changed, and when
 * making one assignable fails, the ones already changed by this call are restored.
 */
export interface PrepareOptions extends AssignOptions {
  /** Bind the devices to pciback (default false: they must already be on pciback). */
  assign?: boolean;
}

export interface PreparedDevice {
  bdf: string;
  device: PciDevice;
  /** Set when this call made the device assignable. */
  assigned: AssignResult | null;
  xl: string;
  libxl: LibxlDevicePci;
}

export interface PreparedPassthrough {
  devices: PreparedDevice[];
  /** `pci = [ ... ]` for an xl config. */
  xlPciLine: string;
  pcidevs: LibxlDevicePci[];
}

export async function preparePassthrough(requests: Array<string | PassthroughSpec>, options: PrepareOptions = {}): Promise<PreparedPassthrough> {
  const specs = requests.map((r) => (typeof r === 'string' ? { bdf: r } : r));
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const bdf = typeof spec.bdf === 'string' ? formatBdf(parseBdf(spec.bdf)) : formatBdf(spec.bdf);
    const input = typeof spec.bdf === 'string' ? spec.bdf : bdf;
    if (seen.has(bdf)) {
      throw new PciError('BAD_OPTION', `PCI device '${input}' is named twice (also as '${seen.get(bdf)}'); name each device once`, 2);
    }
    seen.set(bdf, input);
    xlPciEntry(spec); // validates the options before anything changes
  }
  const devices = await Promise.all(specs.map((s) => readDevice(s.bdf, options)));
  const prepared: PreparedDevice[] = [];
  for (const [i, spec] of specs.entries()) {
    const device = devices[i]!;
    let assigned: AssignResult | null = null;
    if (options.assign) {
      try {
        assigned = await makeAssignable(device.bdf, options);
      } catch (e) {
        const undone: string[] = [];
        for (const p of [...prepared].reverse()) {
          if (!p.assigned || p.assigned.plan.action !== 'assign') continue;
          try {
            await restore(p.bdf, options);
            undone.push(`${p.bdf} restored`);
          } catch (r) {
            undone.push(`${p.bdf} NOT restored (${(r as Error).message})`);
          }
        }
        if (undone.length === 0 || !(e instanceof PciError)) throw e;
        throw new PciError(e.code, `${e.message}; devices this call had already assigned: ${undone.join(', ')}`, e.exitCode);
      }
    } else {
      await assertAssignable(device.bdf, options);
    }
    prepared.push({ bdf: device.bdf, device, assigned, xl: xlPciEntry(spec), libxl: libxlPcidev(spec) });
  }
  return { devices: prepared, xlPciLine: xlPciLine(specs), pcidevs: prepared.map((p) => p.libxl) };
}
