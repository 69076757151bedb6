/**
 * `rumpxen-testbed run --dom0-cmd CMD`: boots Xen with the full-mode Linux dom0, runs CMD in
 * dom0's shell, prints its output and exits with its exit code.
 */
import { parseArgs } from 'node:util';
import { Testbed, type TestbedOptions } from '../full/testbed.js';
import { EXIT_BAD_INPUT, EXIT_TESTBED_FAILURE, EXIT_TIMEOUT } from '@rumpxen/protocol';
import { TestbedError } from '../errors.js';
import { type CliCommand, UsageError, numberOption, withUsage } from './command.js';

/** Options shared by the full-mode commands (`run`, `boot --domu`). */
export const FULL_MODE_OPTIONS = {
  share: { type: 'string' },
  'no-share': { type: 'boolean' },
  'no-host-root': { type: 'boolean' },
  'machine-memory': { type: 'string' },
  'dom0-memory': { type: 'string' },
  verbose: { type: 'boolean' },
  'qemu-arg': { type: 'string', multiple: true },
} as const;

export const FULL_MODE_HELP = `  --share DIR         host folder shared read-write into dom0 at the same path
                      (default: this repository's root)
  --no-share          share no folder (the run folder is always shared)
  --no-host-root      do not share the host's / read-only at dom0's /host (then the
                      host's node cannot run in dom0)
  --machine-memory MB QEMU memory in MiB (default 2048)
  --dom0-memory MB    dom0's memory in MiB (default 512)
  --verbose           copy Xen's and dom0's console to stderr as it comes
  --qemu-arg ARG      one more QEMU argument (repeat for several)
`;

type FullValues = { [K in keyof typeof FULL_MODE_OPTIONS]?: (typeof FULL_MODE_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof FULL_MODE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The TestbedOptions the full-mode options describe. */
export function testbedOptions(command: string, v: FullValues): TestbedOptions {
  if (v.share && v['no-share']) throw new UsageError(command, '--share and --no-share contradict each other: pass one');
  return {
    shareDir: v['no-share'] ? false : v.share,
    hostRoot: !v['no-host-root'],
    memoryMb: numberOption(command, 'machine-memory', v['machine-memory'], true),
    dom0MemoryMb: numberOption(command, 'dom0-memory', v['dom0-memory'], true),
    qemuArgs: v['qemu-arg'],
    onConsoleLine: v.verbose ? (l) => process.stderr.write(`${l}\n`) : undefined,
  };
}

export const command: CliCommand = {
  name: 'run',
  summary: 'boot Xen with a Linux dom0 (full mode), run a shell command in dom0, exit with its code',
  help: `Usage: rumpxen-testbed run --dom0-cmd CMD [--timeout S] [options]

Boots Xen 4.17 with a Debian Linux dom0 (xenstored, xenconsoled, xl) in QEMU, runs CMD
with dom0's busybox sh, streams its stdout and stderr (polled every 0.1 s), and exits with
its exit code.

In dom0: this repository (or --share DIR) is mounted read-write at its host path and is
the working folder; the host's / is at /host (read-only), and 'node', 'npm', 'npx' and
'hostrun PROG' run the host's programs there; xl, xenstore-* and busybox are in PATH;
the bridge xenbr0 has 10.77.0.1/24; QEMU's edu device (0000:00:03.0) is bound to
xen-pciback.

Exit code: CMD's exit code; ${EXIT_TIMEOUT} when CMD ran longer than --timeout (it is killed);
${EXIT_BAD_INPUT} for a bad option or a missing asset; ${EXIT_TESTBED_FAILURE} when the testbed failed to start.

Options:
  --dom0-cmd CMD      the command (required)
  --timeout S         seconds CMD may run (default 300)
${FULL_MODE_HELP}  --help              this text
`,
  async main(argv) {
    const v = withUsage('run', () =>
      parseArgs({ args: argv, strict: true, allowPositionals: false, options: { 'dom0-cmd': { type: 'string' }, timeout: { type: 'string' }, ...FULL_MODE_OPTIONS } }),
    ).values;
    const cmd = v['dom0-cmd'];
    if (!cmd) throw new UsageError('run', "missing --dom0-cmd CMD (the shell command to run in dom0, e.g. --dom0-cmd 'xl list')");
    const timeoutS = numberOption('run', 'timeout', v.timeout) ?? 300;
    const tbOpts = testbedOptions('run', v);
    process.stderr.write('rumpxen-testbed: booting Xen and the Linux dom0 in QEMU...\n');
    const tb = await Testbed.start(tbOpts);
    process.stderr.write(`rumpxen-testbed: dom0 ready after ${(tb.timings.readyMs / 1000).toFixed(1)} s\n`);
    try {
      const r = await tb.dom0.exec(cmd, {
        timeoutMs: timeoutS * 1000,
        onOutput: (chunk, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
      });
      return r.code;
    } catch (e) {
      if (e instanceof TestbedError && e.exitCode === EXIT_TIMEOUT) {
        process.stderr.write(`rumpxen-testbed run: ${e.message}\n`);
        return EXIT_TIMEOUT;
      }
      throw e;
    } finally {
      await tb.stop();
    }
  },
};
