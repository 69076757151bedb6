/**
 * `rumpxen-testbed boot --domu IMG`: boots Xen with the full-mode Linux dom0 and starts IMG
 * as a real DomU with xl (optionally with a vbd, vifs and PCI devices); streams its console
 * and exits with its verdict.
 */
import { parseArgs } from 'node:util';
import { bootDomU } from '../full/boot-domu.js';
import { EXIT_BAD_INPUT, EXIT_LINE_PREFIX, EXIT_TESTBED_FAILURE, EXIT_TIMEOUT, XTF_EXIT_CODES } from '@rumpxen/protocol';
import { type CliCommand, UsageError, exitCodeRows, numberOption, RESULT_LINE_HELP, withUsage, XTF_CODES_HELP } from './command.js';
import { FULL_MODE_HELP, FULL_MODE_OPTIONS, testbedOptions } from './run.js';

export const command: CliCommand = {
  name: 'boot --domu',
  summary: 'boot a kernel as a DomU next to a Linux dom0 (full mode) and exit with its verdict',
  help: `Usage: rumpxen-testbed boot --domu IMG [--cmdline S] [--memory MB] [--timeout S]
                            [--disk FILE]... [--vif]... [--pci BDF]... [--pvh]
                            [--xenstore KEY=VALUE]... [options]

Boots Xen 4.17 with a Debian Linux dom0 in QEMU, then creates IMG as a DomU with xl (PV, or
PVH with --pvh). The DomU's console (read by xenconsoled from its console ring) goes to
stdout; progress to stderr. When the DomU powers off, crashes or reboots, it is destroyed
and QEMU stopped.

Devices: --disk FILE gives a vbd (xvda, xvdb, ...) backed by FILE through blkback (a file
outside the shared folder is copied in, so the DomU's writes do not reach it); --vif adds a
vif on dom0's bridge xenbr0 (10.77.0.1/24); --pci BDF passes a PCI device through
(QEMU's edu device is 0000:00:03.0 and is bound to xen-pciback).

Exit code:
${exitCodeRows([
  [XTF_CODES_HELP, `the DomU's last "${RESULT_LINE_HELP}" line`],
  ['N', `else its "${EXIT_LINE_PREFIX}N" line`],
  [XTF_EXIT_CODES.SUCCESS, 'else a clean poweroff (or reboot)'],
  [XTF_EXIT_CODES.CRASH, 'else a crash'],
  [EXIT_TIMEOUT, 'no end within --timeout'],
  [EXIT_BAD_INPUT, 'bad input: IMG is not a Xen ELF, an asset is missing, a bad option'],
  [EXIT_TESTBED_FAILURE, 'the testbed failed (QEMU, dom0 or xl create)'],
])}
Options:
  --domu IMG          the DomU kernel (required)
  --cmdline S         the DomU's command line
  --memory MB         the DomU's memory in MiB (default 32)
  --timeout S         seconds the DomU may run (default 60)
  --disk FILE         a raw disk image (repeat for several)
  --vif               a network interface on xenbr0 (repeat for several)
  --pci BDF           a PCI device to pass through (repeat for several)
  --pvh               boot IMG as a PVH DomU (the testbed's CPU always has +svm,+npt,
                      so Xen has HAP)
  --xenstore KEY=VALUE  write VALUE at /local/domain/<domid>/KEY before the DomU first
                      runs (created paused, written, owned by the DomU, then unpaused),
                      e.g. --xenstore 'rumpxen/cfg={"argv":["prog","x"]}' (repeatable)
${FULL_MODE_HELP}  --help              this text
`,
  async main(argv) {
    const v = withUsage('boot --domu', () =>
      parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          domu: { type: 'string' },
          cmdline: { type: 'string' },
          memory: { type: 'string' },
          timeout: { type: 'string' },
          disk: { type: 'string', multiple: true },
          vif: { type: 'boolean', multiple: true },
          pci: { type: 'string', multiple: true },
          pvh: { type: 'boolean' },
          xenstore: { type: 'string', multiple: true },
          ...FULL_MODE_OPTIONS,
        },
      }),
    ).values;
    if (!v.domu) throw new UsageError('boot --domu', 'missing the image after --domu (boot --domu IMG)');
    const memory = numberOption('boot --domu', 'memory', v.memory, true);
    const timeoutS = numberOption('boot --domu', 'timeout', v.timeout) ?? 60;
    const xenstore: Record<string, string> = {};
    for (const kv of v.xenstore ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError('boot --domu', `--xenstore '${kv}' is not KEY=VALUE; write e.g. --xenstore rumpxen/cfg='{"argv":["prog"]}'`);
      xenstore[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const r = await bootDomU({
      kernel: v.domu,
      cmdline: v.cmdline,
      memory,
      type: v.pvh ? 'pvh' : 'pv',
      disks: (v.disk ?? []).map((file) => ({ file })),
      vifs: v.vif?.length ?? 0,
      pci: v.pci,
      xenstore,
      timeoutS,
      testbed: testbedOptions('boot --domu', v),
      onConsoleLine: (line) => process.stdout.write(`${line}\n`),
      onProgress: (line) => process.stderr.write(`rumpxen-testbed: ${line}\n`),
    });
    process.stderr.write(`rumpxen-testbed: ${r.reason} (exit ${r.exitCode})\n`);
    return r.exitCode;
  },
};
