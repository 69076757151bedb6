/**
 * The shape of a `rumpxen-testbed` subcommand, and argument parsing with errors that name
 * the bad option and point at --help. Every subcommand module (fetch, boot, run, domu)
 * exports `command: CliCommand`; src/cli.ts dispatches to them.
 */
import { EXIT_BAD_INPUT, RESULT_LINE_PREFIX, XTF_EXIT_CODES, XTF_RESULTS } from '@rumpxen/protocol';
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
    super(`${message}\nSee: rumpxen-testbed ${command} --help`, EXIT_BAD_INPUT);
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

/** The result protocol's exit codes and result line, as the help texts show them: `0/3/4/5/6`, `Test result: SUCCESS|...`. */
export const XTF_CODES_HELP = XTF_RESULTS.map((r) => XTF_EXIT_CODES[r]).join('/');
export const RESULT_LINE_HELP = `${RESULT_LINE_PREFIX}${XTF_RESULTS.join('|')}`;

/** The rows of a help text's "Exit code:" table: each code in a column as wide as XTF_CODES_HELP. */
export function exitCodeRows(rows: readonly (readonly [code: string | number, meaning: string])[]): string {
  return rows.map(([code, meaning]) => `  ${String(code).padEnd(XTF_CODES_HELP.length)}  ${meaning}\n`).join('');
}
