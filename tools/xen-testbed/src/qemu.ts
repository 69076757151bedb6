/**
 * QEMU as a child process that never outlives its run: every live QEMU is in a registry that
 * is emptied on process exit, SIGINT, SIGTERM and uncaught exceptions; QEMU also gets a
 * parent-death signal (setpriv --pdeathsig) so a SIGKILLed Node takes it down too. Each run
 * has its own temp folder (for sockets, initramfs, logs), removed on stop; folders left by a
 * killed process are swept by the next run. The first serial port is the process's stdout and
 * comes out as a stream of lines.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@rumpxen/protocol';
import { TestbedError } from './errors.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
const TMP_PREFIX = 'rumpxen-testbed-';

export interface QemuOptions {
  /**
   * Machine arguments (kernel, append, initrd, memory, cpu, devices). The testbed adds
   * `-nodefaults -no-reboot -monitor none -display none -serial stdio` itself; more serial
   * ports or chardevs may be added here (put their sockets in `tmpDir`, see `prepareArgs`).
   */
  args: string[] | ((tmpDir: string) => string[]);
  /** Every line of the first serial port (without the line end), as it arrives. */
  onSerialLine?: (line: string) => void;
  /** Folder name prefix hint for the temp folder (e.g. 'boot', 'full'). */
  label?: string;
  /** Extra environment for QEMU. */
  env?: NodeJS.ProcessEnv;
}

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the testbed stopped QEMU (stop(), or cleanup on exit); false when QEMU ended by itself. */
  stoppedByTestbed: boolean;
  /** What a serial-line listener threw (QEMU was stopped because of it). */
  listenerError?: unknown;
}

/** One running QEMU. */
export interface QemuRun {
  readonly pid: number;
  /** This run's own temp folder; removed when the run ends. */
  readonly tmpDir: string;
  /** The full argument list QEMU was started with. */
  readonly argv: readonly string[];
  /** Wall-clock ms (performance.now()) when QEMU was spawned. */
  readonly startedAt: number;
  /** Serial lines seen so far. */
  readonly serialLines: readonly string[];
  /** QEMU's own stderr so far (its error messages). */
  stderr(): string;
  /** Subscribes to serial lines; returns the unsubscribe function. */
  onSerialLine(cb: (line: string) => void): () => void;
  /** Resolves with the first serial line (already seen or future) matching `match`; rejects on timeout or QEMU exit. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs: number): Promise<string>;
  /** Writes to the first serial port (QEMU's stdin). */
  writeSerial(data: string | Buffer): void;
  /** Resolves when QEMU has exited and the temp folder is gone. */
  readonly exited: Promise<QemuExit>;
  /** Stops QEMU (SIGTERM, then SIGKILL after 2 s) and removes the temp folder. Idempotent. */
  stop(): Promise<QemuExit>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Live {
  child: ChildProcess;
  tmpDir: string;
  markStopped(): void;
}

const live = new Set<Live>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const l of live) {
    l.markStopped();
    try {
      l.child.kill('SIGKILL');
    } catch {
      // already gone
    }
    rmSync(l.tmpDir, { recursive: true, force: true });
  }
  live.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  killAllNow();
  uninstallHooks();
  // Default behaviour when nobody else listens: die of the same signal.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}
const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');
const onSighup = () => onSignal('SIGHUP');

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killAllNow);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  process.off('SIGHUP', onSighup);
}

/** Number of QEMUs this process has running (for tests and diagnostics). */
export function liveQemuCount(): number {
  return live.size;
}

/** Stops every QEMU this process started (what exit and signal handling do). */
export function stopAllQemu(): void {
  killAllNow();
  uninstallHooks();
}

/** Removes temp folders of runs whose Node process no longer exists (it was SIGKILLed). */
function sweepStaleTmpDirs(): void {
  const base = tmpdir();
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(base, name), { recursive: true, force: true });
  }
}

let qemuChecked = false;
/** Throws a TestbedError with the fix when qemu-system-x86_64 is not installed. */
export function checkQemuInstalled(): void {
  if (qemuChecked) return;
  const r = spawnSync(QEMU_BINARY, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new TestbedError(
      `${QEMU_BINARY} is not installed (or does not run: ${r.error?.message ?? r.stderr.trim()}).\n` +
        `Fix: apt-get install -y qemu-system-x86 (as root, 'rumpxen-testbed fetch' does it for you).`,
    );
  }
  qemuChecked = true;
}

const hasSetpriv = (() => {
  let known: boolean | undefined;
  return () => (known ??= existsSync('/usr/bin/setpriv') || spawnSync('setpriv', ['--version']).status === 0);
})();

/** The arguments the testbed always adds. */
export const BASE_QEMU_ARGS = ['-nodefaults', '-no-reboot', '-monitor', 'none', '-display', 'none', '-serial', 'stdio'] as const;

/** Starts QEMU. Throws TestbedError when QEMU is missing; QEMU's own start errors show up as an early exit with stderr. */
export function startQemu(opts: QemuOptions): QemuRun {
  checkQemuInstalled();
  sweepStaleTmpDirs();
  const tmpDir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-${opts.label ?? 'qemu'}-`));
  let machineArgs: string[];
  try {
    machineArgs = typeof opts.args === 'function' ? opts.args(tmpDir) : opts.args;
  } catch (e) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  }
  const argv = [...BASE_QEMU_ARGS, ...machineArgs];
  const [cmd, cmdArgs] = hasSetpriv() ? ['setpriv', ['--pdeathsig', 'KILL', '--', QEMU_BINARY, ...argv]] : [QEMU_BINARY, argv];
  const startedAt = performance.now();
  const child = spawn(cmd, cmdArgs as string[], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });

  let stoppedByTestbed = false;
  const entry: Live = { child, tmpDir, markStopped: () => (stoppedByTestbed = true) };
  live.add(entry);
  installHooks();

  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  if (opts.onSerialLine) listeners.add(opts.onSerialLine);
  let partial = '';
  let listenerError: unknown;
  const emit = (line: string) => {
    lines.push(line);
    for (const cb of [...listeners]) {
      try {
        cb(line);
      } catch (e) {
        // A throwing listener must not become an uncaught exception with QEMU left running.
        if (listenerError === undefined) {
          listenerError = e;
          void stop();
        }
      }
    }
  };
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      emit(partial.slice(0, nl).replace(/\r+$/, ''));
      partial = partial.slice(nl + 1);
    }
  });
  let stderrText = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderrText.length < 1 << 16) stderrText += chunk;
  });
  child.stdin!.on('error', () => {
    // QEMU gone: writes are dropped
  });

  const exited = new Promise<QemuExit>((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      if (partial) {
        emit(partial.replace(/\r+$/, ''));
        partial = '';
      }
      live.delete(entry);
      if (live.size === 0) uninstallHooks();
      rmSync(tmpDir, { recursive: true, force: true });
      resolve({ code, signal, stoppedByTestbed, listenerError });
    };
    child.on('error', (e) => {
      stderrText += `${cmd}: ${e.message}\n`;
      finish(null, null);
    });
    // 'close' waits for stdout to drain, so every serial line is seen before `exited` resolves.
    child.on('close', (code, signal) => finish(code, signal));
  });

  let stopping: Promise<QemuExit> | undefined;
  const stop = (): Promise<QemuExit> => {
    if (stopping) return stopping;
    stoppedByTestbed = true;
    stopping = (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        const r = await exited;
        clearTimeout(timer);
        return r;
      }
      return exited;
    })();
    return stopping;
  };

  const run: QemuRun = {
    pid: child.pid ?? -1,
    tmpDir,
    argv: [QEMU_BINARY, ...argv],
    startedAt,
    serialLines: lines,
    stderr: () => stderrText,
    onSerialLine(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    waitForLine(match, timeoutMs) {
      const test = typeof match === 'function' ? match : (l: string) => match.test(l);
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          unsubscribe();
        };
        const unsubscribe = run.onSerialLine((l) => {
          if (test(l)) {
            cleanup();
            resolve(l);
          }
        });
        const timer = setTimeout(() => {
          cleanup();
          reject(new TestbedError(`no serial line matching ${String(match)} within ${timeoutMs} ms`));
        }, timeoutMs);
        void exited.then((x) => {
          cleanup();
          reject(new TestbedError(`QEMU exited (code ${x.code}, signal ${x.signal}) before a serial line matched ${String(match)}${stderrText ? `; QEMU said: ${stderrText.trim()}` : ''}`));
        });
      });
    },
    writeSerial(data) {
      if (child.stdin!.writable) child.stdin!.write(data);
    },
    exited,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
  return run;
}
