/**
 * Guest-as-dom0 mode (like XTF's smoke tests): Xen in QEMU with one kernel as its only
 * domain. The serial port carries both Xen's log (lines prefixed "(XEN)") and the guest's
 * console (dom0's HYPERVISOR_console_io writes, unprefixed); the end of the run is Xen's
 * "Hardware Dom0 ..." message, after which QEMU is stopped.
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { assetPaths } from './assets.js';
import { validateKernel } from './elf.js';
import { TestbedError } from './errors.js';
import { startQemu } from './qemu.js';
import { decideVerdict, EXIT_TESTBED_FAILURE, type EndKind, type Verdict } from '@rumpxen/protocol';
import { classifyXenLine, reportsHap, splitXenLine } from './verdict.js';

export interface BootOptions {
  /** The guest kernel: an x86-64 ELF with Xen notes (PV), or with XEN_ELFNOTE_PHYS32_ENTRY (PVH). */
  kernel: string;
  /** The guest's command line. */
  cmdline?: string;
  /** Machine memory in MiB (Xen keeps a little; the rest goes to the guest). Default 256. */
  memoryMb?: number;
  /** Seconds from QEMU start to the end of the run before it is stopped with exit code 124. Default 60. */
  timeoutS?: number;
  /** Boot the guest as a PVH dom0 (dom0=pvh; the CPU gets SVM+NPT so Xen has HAP). */
  pvh?: boolean;
  /** Write Xen's own log lines to this file (temp file, then rename). */
  xenLog?: string;
  /** Copy Xen's own log lines to stderr as they come. */
  verbose?: boolean;
  /** Extra QEMU arguments, appended last. */
  qemuArgs?: string[];
  /** Extra words for Xen's command line. */
  xenCmdline?: string;
  /** Each guest console line as it arrives. */
  onConsoleLine?: (line: string) => void;
  /** Each Xen log line as it arrives. */
  onXenLine?: (line: string) => void;
  /** Stops the run early: exit code 124 (as a timeout), the reason says the caller stopped it. */
  signal?: AbortSignal;
}

export interface BootGuestTimings {
  /** ms from QEMU's spawn to the guest's first console line (undefined when it printed nothing). */
  firstConsoleLineMs?: number;
  /** ms from QEMU's spawn to the end of the run (QEMU stopped). */
  totalMs: number;
}

export interface BootResult {
  exitCode: number;
  verdict: Verdict;
  reason: string;
  end: EndKind;
  /** The guest's console lines. */
  consoleLines: string[];
  /** Xen's own log lines (with their "(XEN)" prefix). */
  xenLines: string[];
  /** The file Xen's log was written to, when `xenLog` was given. */
  xenLog?: string;
  timings: BootGuestTimings;
}

/**
 * Xen's command line for guest-as-dom0 runs. `noreboot`: a crash or panic halts instead of
 * resetting after 5 s. `serial_tx_buffer=1M`: Xen drops console characters when its 16 KiB
 * default transmit buffer is full, and QEMU's UART drains slower than a guest writes, so a
 * chatty guest lost lines and even Xen's "Hardware Dom0 halted" message (seen at ~50 KB).
 */
export function xenCommandLine(opts: { pvh?: boolean; extra?: string } = {}): string {
  const words = ['console=com1', 'loglvl=all', 'guest_loglvl=all', 'console_timestamps=boot', 'noreboot', 'serial_tx_buffer=1M'];
  if (opts.pvh) words.push('dom0=pvh', 'dom0-iommu=none');
  if (opts.extra) words.push(opts.extra);
  return words.join(' ');
}

/** The QEMU CPU model: qemu64 (Linux dom0 faults with -cpu max); PVH adds SVM and NPT so Xen finds HAP. */
export function qemuCpu(pvh: boolean | undefined): string {
  return pvh ? 'qemu64,+svm,+npt' : 'qemu64';
}

/** Boots `kernel` as Xen's only domain and applies the result protocol to its console. */
export async function bootGuest(opts: BootOptions): Promise<BootResult> {
  const kernel = resolve(opts.kernel);
  validateKernel(kernel, { pvh: !!opts.pvh });
  const xen = assetPaths().xen;
  const timeoutS = opts.timeoutS ?? 60;
  const memoryMb = opts.memoryMb ?? 256;
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new TestbedError(`timeout ${timeoutS}: must be a positive number of seconds`, 2);
  if (!Number.isInteger(memoryMb) || memoryMb < 64) throw new TestbedError(`memory ${memoryMb} MiB: must be a whole number of MiB, at least 64 (Xen and the guest share it)`, 2);

  const consoleLines: string[] = [];
  const xenLines: string[] = [];
  let end: EndKind | undefined;
  let panicMessage: string | undefined;
  let awaitingPanicText = false;
  let sawHap = false;
  let firstConsoleAt: number | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const qemu = startQemu({
    label: 'boot',
    args: (tmpDir) => {
      // QEMU's multiboot module string is "path args": the path must hold no space or comma.
      let guest = kernel;
      if (/[\s,]/.test(kernel)) {
        guest = join(tmpDir, 'guest.elf');
        copyFileSync(kernel, guest);
      }
      const module = opts.cmdline ? `${guest} ${opts.cmdline.replace(/,/g, ',,')}` : guest;
      return [
        '-machine', 'pc',
        '-cpu', qemuCpu(opts.pvh),
        '-m', String(memoryMb),
        '-kernel', xen,
        '-append', xenCommandLine({ pvh: opts.pvh, extra: opts.xenCmdline }).replace(/,/g, ',,'),
        '-initrd', module,
        ...(opts.qemuArgs ?? []),
      ];
    },
    onSerialLine: (line) => {
      const { source, text } = splitXenLine(line);
      if (source === 'guest') {
        if (end) return; // a line after the end is Xen's halt noise, not the guest's
        firstConsoleAt ??= performance.now();
        consoleLines.push(line);
        opts.onConsoleLine?.(line);
        return;
      }
      xenLines.push(line);
      opts.onXenLine?.(line);
      if (opts.verbose) process.stderr.write(`${line}\n`);
      if (reportsHap(text)) sawHap = true;
      if (awaitingPanicText && text.trim() && !/^\*+$/.test(text.trim())) {
        panicMessage = text.trim();
        awaitingPanicText = false;
      }
      const ev = classifyXenLine(text);
      if (!ev) return;
      if (ev.end === 'xen-panic' && !ev.final) awaitingPanicText = true;
      end ??= ev.end;
      if (ev.final) finish();
    },
  });

  const timer = setTimeout(() => {
    end ??= 'timeout';
    finish();
  }, timeoutS * 1000);
  let aborted = false;
  const onAbort = () => {
    if (!end) aborted = true;
    end ??= 'timeout';
    finish();
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort);
  let qemuExit: Awaited<typeof qemu.exited> | undefined;
  void qemu.exited.then((x) => {
    qemuExit = x;
    finish();
  });

  try {
    await finished;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await qemu.stop();
  }
  const totalMs = performance.now() - qemu.startedAt;
  const { listenerError } = await qemu.exited;
  if (listenerError !== undefined) throw listenerError;

  let detail: string | undefined;
  if (!end) {
    // QEMU ended by itself: without a shutdown message that is a reset (triple fault) or a QEMU error.
    const stderr = qemu.stderr().trim();
    if (xenLines.length === 0 && consoleLines.length === 0) {
      throw new TestbedError(`QEMU exited (code ${qemuExit?.code}) before Xen printed anything: ${stderr || 'no message'}\nCommand: ${qemu.argv.join(' ')}`, EXIT_TESTBED_FAILURE);
    }
    end = 'machine-reset';
    detail = `QEMU exited (code ${qemuExit?.code}) with no shutdown message from Xen${stderr ? `; QEMU said: ${stderr}` : ''}`;
  }
  if (end === 'xen-panic') {
    detail = `Xen panicked: ${panicMessage ?? 'see its log'}`;
    if (opts.pvh && !sawHap) detail += '. Xen did not report HAP: PVH needs the CPU model to have SVM and NPT (-cpu qemu64,+svm,+npt, the default for --pvh)';
  }
  const v = decideVerdict({ guestLines: consoleLines, end, timeoutS, detail });
  if (aborted) v.reason = `stopped by the caller (AbortSignal) after ${(totalMs / 1000).toFixed(1)} s with the guest still running`;

  let xenLog: string | undefined;
  if (opts.xenLog) {
    xenLog = resolve(opts.xenLog);
    mkdirSync(dirname(xenLog), { recursive: true });
    const tmp = join(dirname(xenLog), `.${basename(xenLog)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, xenLines.join('\n') + '\n');
      renameSync(tmp, xenLog);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new TestbedError(`cannot write the Xen log to ${xenLog}: ${(e as Error).message}; pass a writable path with --xen-log`);
    }
  }
  return {
    ...v,
    end,
    consoleLines,
    xenLines,
    xenLog,
    timings: { firstConsoleLineMs: firstConsoleAt === undefined ? undefined : firstConsoleAt - qemu.startedAt, totalMs },
  };
}
