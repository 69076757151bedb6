import { parseBdf, formatBdf } from './bdf.js';
import { decodeConfigSpace, type DecodedConfigSpace, type PciCapability } from './configSpace.js';
import { PciError } from './errors.js';
import { listDevices, readConfigSpace, type PciDevice } from './sysfs.js';
import type { PciResource } from './resources.js';

/**
 * `image-linker pci list`: the image-linker CLI calls `pciListCommand(args)` with the words
 * after `pci list` and exits with the returned code.
 */

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export const PCI_LIST_HELP = `Usage: image-linker pci list [options] [BDF...]

List the host's PCI devices from sysfs: address, ids, class, bound driver (pciback = ready
for Xen passthrough), IOMMU group, NUMA node and BARs.

Options:
  --json             print a JSON array instead of a table (addresses and sizes as hex strings)
  -v, --verbose      also decode each device's config space: BARs, capabilities (MSI, MSI-X,
                     PCIe, power management...), extended capabilities (root reads all of it)
  --sysfs-root DIR   read DIR/bus/pci/devices instead of /sys/bus/pci/devices
  -h, --help         show this help

BDF filters the list to the named devices ([DDDD:]BB:DD.F, e.g. 0000:00:03.0).
Exit status: 0 ok, 2 bad arguments or unknown device, 1 other failure.
`;

/** JSON with bigints as hex strings (BAR addresses and sizes go past 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2);
}

/** 4096 -> "4K", 1048576 -> "1M". */
export function formatSize(size: bigint): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let n = size;
  let u = 0;
  while (n >= 1024n && n % 1024n === 0n && u < units.length - 1) {
    n /= 1024n;
    u++;
  }
  return `${n}${units[u]}`;
}

function barSummary(resources: PciResource[]): string {
  const parts = resources
    .filter((r) => r.index <= 6 && r.kind !== 'none')
    .map((r) => {
      const name = r.index === 6 ? 'rom' : `${r.index}`;
      const kind = r.kind === 'io' ? 'io' : r.mem64 ? 'mem64' : 'mem32';
      return `${name}:${kind}${r.prefetchable ? ',pf' : ''} ${formatSize(r.size)}`;
    });
  return parts.length === 0 ? '-' : parts.join(' ');
}

function hex(n: number | null, width: number): string {
  return n === null ? '-' : n.toString(16).padStart(width, '0');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}

function capabilityLine(cap: PciCapability): string {
  const at = `[${cap.offset.toString(16).padStart(2, '0')}] ${cap.name}`;
  switch (cap.kind) {
    case 'pm':
      return `${at}: version ${cap.version}, state ${cap.powerState}, PME from ${cap.pmeSupport.join(',') || 'none'}`;
    case 'msi':
      return `${at}: ${cap.enabled ? 'enabled' : 'disabled'}, ${cap.address64 ? '64-bit' : '32-bit'}, ` +
        `${cap.multipleMessageCapable} vector(s) capable, ${cap.perVectorMasking ? 'per-vector masking' : 'no masking'}`;
    case 'msix':
      return `${at}: ${cap.enabled ? 'enabled' : 'disabled'}, ${cap.tableSize} entries, table BAR${cap.tableBar}+0x${cap.tableOffset.toString(16)}, ` +
        `PBA BAR${cap.pbaBar}+0x${cap.pbaOffset.toString(16)}`;
    case 'pcie':
      return `${at}: v${cap.version} ${cap.deviceType}, MPS ${cap.maxPayload}/${cap.maxPayloadSupported}` +
        (cap.link ? `, link ${cap.link.speed} x${cap.link.width} (max ${cap.link.maxSpeed} x${cap.link.maxWidth})` : '');
    case 'vendor':
      return `${at}: length ${cap.length}` +
        (cap.virtio ? `, virtio ${cap.virtio.cfgTypeName} in BAR${cap.virtio.bar}+0x${cap.virtio.offset.toString(16)} (${cap.virtio.length} bytes)` : '');
    default:
      return at;
  }
}

function verboseBlock(config: DecodedConfigSpace): string {
  const lines: string[] = [];
  for (const bar of config.bars) {
    lines.push(`    BAR${bar.index}: ${bar.kind}${bar.prefetchable ? ' prefetchable' : ''} at 0x${bar.address.toString(16)}` +
      (bar.size !== null ? `, ${formatSize(bar.size)}` : ''));
  }
  if (config.expansionRom) {
    lines.push(`    ROM: at 0x${config.expansionRom.address.toString(16)} ${config.expansionRom.enabled ? 'enabled' : 'disabled'}` +
      (config.expansionRom.size !== null ? `, ${formatSize(config.expansionRom.size)}` : ''));
  }
  lines.push(`    interrupt pin ${config.interruptPin}, line ${config.interruptLine}`);
  for (const cap of config.capabilities) lines.push(`    ${capabilityLine(cap)}`);
  for (const ext of config.extendedCapabilities) lines.push(`    [${ext.offset.toString(16)}] ${ext.name} v${ext.version}`);
  for (const w of config.warnings) lines.push(`    warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** Runs `pci list`; returns the exit code. */
export async function pciListCommand(args: string[], io: CommandIo = defaultIo): Promise<number> {
  let json = false;
  let verbose = false;
  let sysfsRoot: string | undefined;
  const filters: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--json') json = true;
      else if (a === '-v' || a === '--verbose') verbose = true;
      else if (a === '-h' || a === '--help') {
        io.stdout(PCI_LIST_HELP);
        return 0;
      } else if (a === '--sysfs-root' || a.startsWith('--sysfs-root=')) {
        const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
        if (!value) throw new PciError('BAD_OPTION', `--sysfs-root needs a folder, e.g. --sysfs-root /sys`, 2);
        sysfsRoot = value;
      } else if (a.startsWith('-')) {
        throw new PciError('BAD_OPTION', `unknown option '${a}' for 'pci list'; see 'image-linker pci list --help'`, 2);
      } else filters.push(formatBdf(parseBdf(a)));
    }
    const options = sysfsRoot === undefined ? {} : { sysfsRoot };
    let devices = await listDevices(options);
    if (filters.length > 0) {
      const missing = filters.filter((f) => !devices.some((d) => d.bdf === f));
      if (missing.length > 0) {
        throw new PciError(
          'NO_SUCH_DEVICE',
          `no PCI device ${missing.join(', ')} on this host (present: ${devices.map((d) => d.bdf).join(', ') || 'none'}); run 'image-linker pci list' without an address to see them`,
          2,
        );
      }
      devices = devices.filter((d) => filters.includes(d.bdf));
    }
    const configs = new Map<string, DecodedConfigSpace>();
    if (verbose) {
      for (const d of devices) configs.set(d.bdf, decodeConfigSpace(await readConfigSpace(d.bdf, options), d.resources.length > 0 ? { resources: d.resources } : {}));
    }
    if (json) {
      io.stdout(toJson(devices.map((d: PciDevice) => (verbose ? { ...d, config: configs.get(d.bdf) } : d))) + '\n');
      return 0;
    }
    const rows = [['BDF', 'ID', 'CLASS', 'DRIVER', 'IOMMU', 'NUMA', 'BARS']];
    let out = '';
    for (const d of devices) {
      rows.push([
        d.bdf,
        `${hex(d.vendorId, 4)}:${hex(d.deviceId, 4)}`,
        d.classCode.name,
        d.driver ?? '-',
        d.iommuGroup === null ? '-' : String(d.iommuGroup),
        d.numaNode === null ? '-' : String(d.numaNode),
        barSummary(d.resources),
      ]);
    }
    if (!verbose) {
      io.stdout(table(rows));
      return 0;
    }
    const lines = table(rows).split('\n');
    out += lines[0] + '\n';
    devices.forEach((d, i) => {
      out += lines[i + 1] + '\n' + verboseBlock(configs.get(d.bdf)!);
    });
    io.stdout(out);
    return 0;
  } catch (e) {
    if (e instanceof PciError) {
      io.stderr(`image-linker pci list: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr(`image-linker pci list: ${(e as Error).message}\n`);
    return 1;
  }
}
