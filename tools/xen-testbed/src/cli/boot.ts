import { parseArgs } from 'node:util';
import { bootGuest } from '../boot.js';
import { type CliCommand, numberOption, withUsage, UsageError } from './command.js';

export const command: CliCommand = {
  name: 'boot',
  summary: 'boot a kernel as Xen\'s only domain (guest-as-dom0) and exit with its verdict',
  help: `Usage: rumpxen-testbed boot --kernel IMG [--cmdline S] [--memory MB] [--timeout S]
                            [--pvh] [--xen-log FILE] [--verbose] [--qemu-arg ARG]...
       rumpxen-testbed boot --domu IMG ...   (full mode: IMG as a DomU next to a Linux dom0;
                                              see rumpxen-testbed boot --domu --help)

Boots Xen 4.17 in QEMU (TCG) with IMG as the only domain, like XTF's smoke tests. IMG is an
x86-64 ELF with the Xen ELF notes (PV), or with XEN_ELFNOTE_PHYS32_ENTRY (--pvh). The
guest's console goes to stdout; Xen's own log to --xen-log FILE, or to stderr with
--verbose. When the guest powers off, crashes or reboots, QEMU is stopped.

Exit code:
  0/3/4/5/6  the guest's last "Test result: SUCCESS|SKIP|ERROR|FAILURE|CRASH" line
  N          else the guest's "rumpxen: exit N" line
  0          else a clean poweroff (or reboot)
  6          else a crash (or a Xen panic)
  124        no end within --timeout
  2          bad input: IMG is not a bootable ELF, an asset is missing, a bad option
  1          the testbed failed (QEMU would not start)

Options:
  --kernel IMG      the guest kernel (required)
  --cmdline S       the guest's command line
  --memory MB       machine memory in MiB (default 256)
  --timeout S       seconds before the run is stopped with exit code 124 (default 60)
  --pvh             boot as a PVH dom0 (Xen: dom0=pvh dom0-iommu=none; CPU qemu64,+svm,+npt)
  --xen-log FILE    write Xen's log lines to FILE
  --verbose         copy Xen's log lines to stderr as they come
  --qemu-arg ARG    one more QEMU argument (repeat for several)
  --help            this text
`,
  async main(argv) {
    const v = withUsage('boot', () =>
      parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      kernel: { type: 'string' },
      cmdline: { type: 'string' },
      memory: { type: 'string' },
      timeout: { type: 'string' },
      pvh: { type: 'boolean' },
      'xen-log': { type: 'string' },
      verbose: { type: 'boolean' },
      'qemu-arg': { type: 'string', multiple: true },
    } }),
    ).values;
    if (!v.kernel) {
      throw new UsageError('boot', 'missing --kernel IMG (the guest kernel to boot)');
    }
    const r = await bootGuest({
      kernel: v.kernel,
      cmdline: v.cmdline,
      memoryMb: numberOption('boot', 'memory', v.memory, true),
      timeoutS: numberOption('boot', 'timeout', v.timeout),
      pvh: !!v.pvh,
      xenLog: v['xen-log'],
      verbose: !!v.verbose,
      qemuArgs: v['qemu-arg'],
      onConsoleLine: (line) => process.stdout.write(`${line}\n`),
    });
    process.stderr.write(`rumpxen-testbed: ${r.reason} (exit ${r.exitCode})\n`);
    return r.exitCode;
  },
};
