import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PciError } from './errors.js';
import { sysfsRootOf, type SysfsOptions } from './sysfs.js';

/** Whether Xen (or, off Xen, the host kernel) has an IOMMU that can confine a passed-through device. */
export interface IommuStatus {
  present: boolean;
  /** Where the answer came from. */
  source: 'xl-info' | 'iommu-groups';
  /** What was seen: the virt_caps line, or the number of IOMMU groups. */
  detail: string;
}

export interface IommuOptions extends SysfsOptions {
  /**
   * Returns the text of `xl info`. Default: runs `xl info` when sysfs says the kernel runs on
   * Xen (`hypervisor/type` is `xen`).
   */
  xlInfo?: () => Promise<string>;
}

/**
 * Reads the `virt_caps` line of `xl info` output. Xen lists `pv_directio` / `hvm_directio`
 * only when it enabled an IOMMU (VT-d, AMD-Vi) and can therefore pass devices through.
 */
export function iommuFromXlInfo(text: string): IommuStatus {
  const line = text.split('\n').find((l) => /^\s*virt_caps\s*:/.test(l));
  if (line === undefined) {
    return { present: false, source: 'xl-info', detail: `no virt_caps line in 'xl info' output` };
  }
  const caps = line.split(':').slice(1).join(':').trim();
  const present = caps.split(/\s+/).some((c) => c.endsWith('directio'));
  return { present, source: 'xl-info', detail: `virt_caps: ${caps}` };
}

async function runsOnXen(options: SysfsOptions): Promise<boolean> {
  try {
    return (await readFile(join(sysfsRootOf(options), 'hypervisor/type'), 'utf8')).trim() === 'xen';
  } catch {
    return false;
  }
}

function runXlInfo(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('xl', ['info'], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new PciError(
            'NO_IOMMU',
            `cannot tell whether Xen has an IOMMU: 'xl info' failed (${error.message.trim()}${stderr ? `: ${stderr.trim()}` : ''}); ` +
              `run this in dom0 with the Xen tools installed and xenstored running`,
          ),
        );
      } else resolve(stdout);
    });
  });
}

/** Finds out whether an IOMMU is available, without deciding whether that is an error. */
export async function detectIommu(options: IommuOptions = {}): Promise<IommuStatus> {
  if (options.xlInfo || (await runsOnXen(options))) {
    return iommuFromXlInfo(await (options.xlInfo ?? runXlInfo)());
  }
  const dir = join(sysfsRootOf(options), 'kernel/iommu_groups');
  let groups = 0;
  try {
    groups = (await readdir(dir)).length;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { present: groups > 0, source: 'iommu-groups', detail: `${groups} IOMMU group(s) in ${dir}` };
}

/** Throws PciError NO_IOMMU, naming the device and how to get an IOMMU, when there is none. */
export async function requireIommu(bdf: string, options: IommuOptions = {}): Promise<IommuStatus> {
  const status = await detectIommu(options);
  if (!status.present) {
    const where =
      status.source === 'xl-info'
        ? `Xen reports no IOMMU (${status.detail}; passthrough needs pv_directio or hvm_directio)`
        : `this host is not a Xen dom0 and has no IOMMU (${status.detail})`;
    throw new PciError(
      'NO_IOMMU',
      `cannot make ${bdf} assignable: ${where}. Xen refuses PCI passthrough without an IOMMU. ` +
        `Enable one: in QEMU use -machine q35 -device intel-iommu; on hardware enable VT-d/AMD-Vi in the firmware and ` +
        `do not pass iommu=0 to Xen. Pass requireIommu: false only to prepare a device on a machine that will not run the guest.`,
    );
  }
  return status;
}
