import { describeStep, makeAssignable, restore, type AssignResult, type SysfsWrite } from './assign.js';
import { formatBdf, parseBdf } from './bdf.js';
import { PciError } from './errors.js';
import { PCI_LIST_HELP, pciListCommand, type CommandIo } from './listCommand.js';

/**
 * `image-linker pci assign|restore`: make devices assignable to Xen guests (bind to
 * xen-pciback) and give them back. `pciCommand(args)` dispatches everything after `pci`.
 */
export interface AssignCommandIo extends CommandIo {
  /** How sysfs attributes are written (tests run against a stand-in kernel). */
  writeAttribute?: SysfsWrite;
}

const defaultIo: AssignCommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export const PCI_ASSIGN_HELP = `Usage: image-linker pci assign [options] BDF...

Make PCI devices assignable to Xen guests (run in dom0, as root): check the device exists and
Xen has an IOMMU, remember the host driver, unbind it, bind xen-pciback, verify. A failure
undoes what was done. A device already on pciback is left alone.

Options:
  --dry-run          print the steps without doing them
  --state-dir DIR    where original drivers are remembered (default $RUMPXEN_PCI_STATE_DIR
                     or /var/lib/rumpxen/pci)
  --sysfs-root DIR   sysfs mount point (default /sys)
  --no-iommu-check   skip the IOMMU check (Xen will still refuse passthrough without one)
  -h, --help         show this help
`;

export const PCI_RESTORE_HELP = `Usage: image-linker pci restore [options] BDF...

Give devices made assignable by 'pci assign' back to the host driver they had before (run in
dom0, as root): unbind xen-pciback, drop the device from pciback's slots, bind the driver,
verify. A failure undoes what was done.

Options:
  --driver NAME      return to NAME instead of the remembered driver
  --unbound          leave the device without a driver
  --dry-run          print the steps without doing them
  --state-dir DIR    where original drivers are remembered (default $RUMPXEN_PCI_STATE_DIR
                     or /var/lib/rumpxen/pci)
  --sysfs-root DIR   sysfs mount point (default /sys)
  -h, --help         show this help
`;

export const PCI_HELP = `Usage: image-linker pci COMMAND [options]

Commands:
  list [BDF...]      list the host's PCI devices (--json, -v)
  assign BDF...      bind devices to xen-pciback for passthrough
  restore BDF...     give them back to their host drivers

'image-linker pci COMMAND --help' describes each.
`;

interface Parsed {
  bdfs: string[];
  dryRun: boolean;
  stateDir?: string;
  sysfsRoot?: string;
  iommuCheck: boolean;
  driver?: string | null;
  help: boolean;
}

function parseArgs(command: 'assign' | 'restore', args: string[]): Parsed {
  const p: Parsed = { bdfs: [], dryRun: false, iommuCheck: true, help: false };
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined || v.startsWith('-')) throw new PciError('BAD_OPTION', `${name} needs a value; see 'image-linker pci ${command} --help'`, 2);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') p.help = true;
    else if (a === '--dry-run') p.dryRun = true;
    else if (a === '--state-dir') p.stateDir = value(++i, a);
    else if (a === '--sysfs-root') p.sysfsRoot = value(++i, a);
    else if (a === '--no-iommu-check' && command === 'assign') p.iommuCheck = false;
    else if (a === '--driver' && command === 'restore') p.driver = value(++i, a);
    else if (a === '--unbound' && command === 'restore') p.driver = null;
    else if (a.startsWith('-')) throw new PciError('BAD_OPTION', `unknown option '${a}' for 'pci ${command}'; see 'image-linker pci ${command} --help'`, 2);
    else p.bdfs.push(formatBdf(parseBdf(a)));
  }
  if (!p.help && p.bdfs.length === 0) {
    throw new PciError('BAD_OPTION', `'pci ${command}' needs at least one device address (e.g. 0000:00:03.0); list them with 'image-linker pci list'`, 2);
  }
  return p;
}

function report(io: CommandIo, result: AssignResult, dryRun: boolean): void {
  const verb = dryRun ? 'would run' : 'did';
  if (result.plan.action === 'none') {
    for (const n of result.plan.notes) io.stdout(`${n}\n`);
    return;
  }
  const steps = dryRun ? result.plan.steps.map((s) => s.step) : result.done;
  io.stdout(`${result.bdf}: ${result.plan.action} (${verb}):\n`);
  for (const s of steps) io.stdout(`  ${describeStep(s)}\n`);
  if (!dryRun) io.stdout(`${result.bdf}: now bound to ${result.driver ?? 'no driver'}\n`);
}

async function run(command: 'assign' | 'restore', args: string[], io: AssignCommandIo): Promise<number> {
  try {
    const p = parseArgs(command, args);
    if (p.help) {
      io.stdout(command === 'assign' ? PCI_ASSIGN_HELP : PCI_RESTORE_HELP);
      return 0;
    }
    const common = {
      ...(p.sysfsRoot !== undefined ? { sysfsRoot: p.sysfsRoot } : {}),
      ...(p.stateDir !== undefined ? { stateDir: p.stateDir } : {}),
      ...(io.writeAttribute ? { writeAttribute: io.writeAttribute } : {}),
      dryRun: p.dryRun,
    };
    for (const bdf of p.bdfs) {
      if (!p.dryRun) io.stderr(`${command === 'assign' ? 'assigning' : 'restoring'} ${bdf}...\n`);
      const result =
        command === 'assign'
          ? await makeAssignable(bdf, { ...common, requireIommu: p.iommuCheck })
          : await restore(bdf, { ...common, ...(p.driver !== undefined ? { driver: p.driver } : {}) });
      report(io, result, p.dryRun);
    }
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`image-linker pci ${command}: ${err.message}\n`);
    return e instanceof PciError ? e.exitCode : 1;
  }
}

export function pciAssignCommand(args: string[], io: AssignCommandIo = defaultIo): Promise<number> {
  return run('assign', args, io);
}

export function pciRestoreCommand(args: string[], io: AssignCommandIo = defaultIo): Promise<number> {
  return run('restore', args, io);
}

/** Everything after `image-linker pci`: `list`, `assign`, `restore`. Returns the exit code. */
export async function pciCommand(args: string[], io: AssignCommandIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
      return pciListCommand(rest, io);
    case 'assign':
      return pciAssignCommand(rest, io);
    case 'restore':
      return pciRestoreCommand(rest, io);
    case '-h':
    case '--help':
      io.stdout(PCI_HELP);
      return 0;
    case undefined:
      io.stderr(`image-linker pci: name a command\n${PCI_HELP}`);
      return 2;
    default:
      io.stderr(`image-linker pci: unknown command '${sub}'; use list, assign or restore (see 'image-linker pci --help')\n`);
      return 2;
  }
}

export { PCI_LIST_HELP };
