#!/usr/bin/env node
/**
 * rumpxen-testbed: dispatches to one subcommand module per command (src/cli/*.ts, each
 * exporting `command: CliCommand`). `boot --domu IMG` is full mode and goes to
 * src/cli/domu.ts; `run` is src/cli/run.ts.
 */
import { command as boot } from './cli/boot.js';
import { joinPassThroughValues, type CliCommand } from './cli/command.js';
import { command as domu } from './cli/domu.js';
import { command as fetch } from './cli/fetch.js';
import { command as run } from './cli/run.js';
import { TestbedError } from './errors.js';
import { stopAllQemu } from './qemu.js';

const commands: CliCommand[] = [fetch, boot, run];

function topHelp(): string {
  const listed = [...commands, { ...domu, name: 'boot --domu' }];
  const width = Math.max(...listed.map((c) => c.name.length));
  return `Usage: rumpxen-testbed <command> [options]

The embedded Xen: Debian's Xen 4.17 booted in QEMU (TCG, no KVM needed).

Commands:
${listed.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'rumpxen-testbed <command> --help' for a command's options.
`;
}

/** Picks the command for argv (without node and the script); `boot --domu` is the full-mode DomU boot. */
export function selectCommand(argv: string[]): { cmd?: CliCommand; rest: string[] } {
  const [name, ...rest] = argv;
  if (name === 'boot' && rest.some((a) => a === '--domu' || a.startsWith('--domu='))) return { cmd: domu, rest };
  return { cmd: commands.find((c) => c.name === name), rest };
}

export async function main(argv: string[]): Promise<number> {
  const [name] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // Asked for help: stdout, success. No command at all: a usage error, on stderr.
    (name ? process.stdout : process.stderr).write(topHelp());
    return name ? 0 : 2;
  }
  const { cmd, rest } = selectCommand(argv);
  if (!cmd) {
    process.stderr.write(`rumpxen-testbed: unknown command '${name}'; commands: ${commands.map((c) => c.name).join(', ')}\nSee: rumpxen-testbed --help\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help);
    return 0;
  }
  try {
    return await cmd.main(joinPassThroughValues(rest));
  } catch (e) {
    if (e instanceof TestbedError) {
      process.stderr.write(`rumpxen-testbed ${cmd.name}: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  } finally {
    stopAllQemu();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`rumpxen-testbed: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
