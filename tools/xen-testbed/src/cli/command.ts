/**
 * The shape of a `rumpxen-testbed` subcommand, and argument parsing with errors that name
 * the bad option and point at --help. Every subcommand module (fetch, boot, run, domu)
 * exports `command: CliCommand`; src/cli.ts dispatches to them.
 */
import { TestbedError } from '../errors.js';

export interface CliCommand {
  name: string;
  /** One line for the top-level --help. */
  summary: string;
  /** The full text of `rumpxen-testbed <name> --help`. */
  help: string;
  /** Runs the command; resolves with the process exit code. */
  main(argv: string[]): Promise<number>;
}

/** A usage mistake: exit code 2, message names the option and points at --help. */
export class UsageError extends TestbedError {
  constructor(command: string, message: string) {
    super(`${message}\nSee: rumpxen-testbed ${command} --help`, 2);
    this.name = 'UsageError';
  }
}

/**
 * Joins `--qemu-arg VALUE` into `--qemu-arg=VALUE`: QEMU's arguments start with "-", which
 * parseArgs would otherwise take for an option of ours and refuse.
 */
export function joinPassThroughValues(argv: readonly string[], names: readonly string[] = ['qemu-arg']): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (names.includes(a.replace(/^--/, '')) && a.startsWith('--') && i + 1 < argv.length) {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Runs an argument parse (node:util parseArgs), turning its errors into UsageError. */
export function withUsage<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError(command, (e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** A number option: undefined when absent, UsageError when not a positive number (integer if asked). */
export function numberOption(command: string, name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(command, `--${name} ${value}: expected a positive ${integer ? 'whole ' : ''}number`);
  }
  return n;
}
