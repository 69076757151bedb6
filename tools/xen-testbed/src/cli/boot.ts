import { parseArgs } from 'node:util';
import { bootGuest } from '../boot.js';
import { EXIT_BAD_INPUT, EXIT_LINE_PREFIX, EXIT_TESTBED_FAILURE, EXIT_TIMEOUT, XTF_EXIT_CODES } from '@rumpxen/protocol';
import { type CliCommand, exitCodeRows, numberOption, RESULT_LINE_HELP, withUsage, UsageError, XTF_CODES_HELP } from './command.js';

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
${exitCodeRows([
  [XTF_CODES_HELP, `the guest's last "${RESULT_LINE_HELP}" line`],
  ['N', `else the guest's "${EXIT_LINE_PREFIX}N" line`],
  [XTF_EXIT_CODES.SUCCESS, 'else a clean poweroff (or reboot)'],
  [XTF_EXIT_CODES.CRASH, 'else a crash (or a Xen panic)'],
  [EXIT_TIMEOUT, 'no end within --timeout'],
  [EXIT_BAD_INPUT, 'bad input: IMG is not a bootable ELF, an asset is missing, a bad option'],
  [EXIT_TESTBED_FAILURE, 'the testbed failed (QEMU would not start)'],
])}
Options:
  --kernel IMG      the guest kernel (required)
  --cmdline S       the guest's command line
  --memory MB       machine memory in MiB (default 256)
  --timeout S       seconds before the run is stopped with exit code ${EXIT_TIMEOUT} (default 60)
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
