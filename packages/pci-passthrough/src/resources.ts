/**
 * The `resource` file of a PCI device in sysfs: one line per resource, `0xSTART 0xEND 0xFLAGS`.
 * Lines 0..5 are the BARs, 6 the expansion ROM, further lines bridge windows or SR-IOV BARs.
 * Linux sized every BAR when it enumerated the bus, so this is where sizes come from when the
 * config space may only be read.
 */

/** Linux `IORESOURCE_*` flag bits that matter for passthrough (include/linux/ioport.h). */
export const IORESOURCE = {
  IO: 0x100,
  MEM: 0x200,
  PREFETCH: 0x2000,
  READONLY: 0x4000,
  MEM_64: 0x100000,
  DISABLED: 0x10000000,
  UNSET: 0x20000000,
} as const;

export interface PciResource {
  /** Line number in the file: 0..5 BARs, 6 ROM, 7+ windows / SR-IOV BARs. */
  index: number;
  start: bigint;
  end: bigint;
  flags: number;
  /** end - start + 1, or 0 for an unused line. */
  size: bigint;
  kind: 'mem' | 'io' | 'none';
  prefetchable: boolean;
  mem64: boolean;
  /** Sized but not given an address by the host (IORESOURCE_UNSET or DISABLED). */
  unassigned: boolean;
}

/**
 * Parses the text of a sysfs `resource` file. `source` names the file in error messages.
 * Throws Error naming the file and line when a line is not three hex numbers.
 */
export function parseResourceFile(text: string, source = 'resource'): PciResource[] {
  const out: PciResource[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, index) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3 || parts.some((p) => !/^0x[0-9a-fA-F]+$/.test(p))) {
      throw new Error(`${source} line ${index + 1} '${line}': expected three hex numbers 0xSTART 0xEND 0xFLAGS`);
    }
    const start = BigInt(parts[0]!);
    const end = BigInt(parts[1]!);
    const flags = Number(BigInt(parts[2]!) & 0xffffffffn);
    const used = !(start === 0n && end === 0n) && end >= start;
    const kind = !used ? 'none' : flags & IORESOURCE.IO ? 'io' : flags & IORESOURCE.MEM ? 'mem' : 'none';
    out.push({
      index,
      start,
      end,
      flags,
      size: kind === 'none' ? 0n : end - start + 1n,
      kind,
      prefetchable: (flags & IORESOURCE.PREFETCH) !== 0,
      mem64: (flags & IORESOURCE.MEM_64) !== 0,
      unassigned: (flags & (IORESOURCE.UNSET | IORESOURCE.DISABLED)) !== 0,
    });
  });
  return out;
}
