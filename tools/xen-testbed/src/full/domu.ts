/**
 * DomUs started by xl in the full-mode dom0. The kernel (and any disk outside the shared
 * folders) is copied into the run share so dom0 sees it; the console is read from
 * xenconsoled's log on that share; the end is noticed by `xl list -v` in dom0 at each @releaseDomain event
 * (DomUs are created with `on_poweroff/on_crash/on_reboot = "preserve"`, so their shutdown
 * reason can still be read), and the verdict follows the testbed's result protocol.
 */
import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TestbedError } from '../errors.js';
import type { ExecOptions, ExecResult } from './control.js';
import { shellQuote } from './dom0-scripts.js';
import { FileFollower } from './follow.js';
import { BadKernelError } from '../errors.js';
import { XEN_ELFNOTE, readKernelInfo } from '../elf.js';
import { type EndKind, type VerdictResult, decideVerdict } from '../verdict.js';
import { DomainConfigError, EXIT_TIMEOUT, parseBdf, PciSpecError, SHUTDOWN, renderXlCfg, shutdownReason, type DomainConfig } from '@rumpxen/protocol';

/** How a DomU ended, as dom0 saw it. */
export type DomUEnd =
  | { kind: 'shutdown'; /** SHUTDOWN_* of xen/sched.h (@rumpxen/protocol's SHUTDOWN_REASONS): 0 poweroff, 1 reboot, 2 suspend, 3 crash, 4 watchdog, 5 soft reset. */ reasonCode: number }
  | { kind: 'crashed' }
  | { kind: 'gone' }
  | { kind: 'timeout'; timeoutMs: number };

/** The result protocol (verdict.ts) applied to a DomU's console and end. */
export function judgeDomU(lines: readonly string[], end: DomUEnd): VerdictResult {
  let kind: EndKind;
  let detail: string | undefined;
  switch (end.kind) {
    case 'timeout':
      return decideVerdict({ guestLines: lines, end: 'timeout', timeoutS: end.timeoutMs / 1000 });
    case 'crashed':
      kind = 'crash';
      break;
    case 'gone':
      kind = 'crash';
      detail = 'the domain disappeared before it shut down (destroyed from outside?)';
      break;
    case 'shutdown':
      kind = end.reasonCode === SHUTDOWN.poweroff ? 'poweroff' : end.reasonCode === SHUTDOWN.reboot || end.reasonCode === SHUTDOWN.watchdog ? 'reboot' : 'crash';
      if (end.reasonCode !== SHUTDOWN.poweroff && end.reasonCode !== SHUTDOWN.reboot) detail = `shutdown reason ${shutdownReason(end.reasonCode) ?? end.reasonCode}`;
      break;
  }
  return decideVerdict({ guestLines: lines, end: kind, detail });
}

export interface DomUDisk {
  /** Host file backing the disk (raw image). */
  file: string;
  /** Virtual device name in the DomU (default xvda, xvdb, ... in order). */
  vdev?: string;
  readonly?: boolean;
}

export interface DomUVif {
  /** MAC address (default: xl picks one). */
  mac?: string;
  /** Bridge in dom0 (default xenbr0, which has the testbed's bridge address). */
  bridge?: string;
}

export interface DomUOptions {
  /** The DomU kernel: an ELF with Xen notes. */
  kernel: string;
  /** An initial ramdisk for the kernel (e.g. a Linux initramfs). */
  ramdisk?: string;
  /** Memory in MiB (default 32). */
  memory?: number;
  cmdline?: string;
  /** Domain name (default domu1, domu2, ...). Letters, digits, `.`, `_`, `-`. */
  name?: string;
  /** `pv` (default) or `pvh` (needs the testbed started with `pvh: true`). */
  type?: 'pv' | 'pvh';
  vcpus?: number;
  disks?: DomUDisk[];
  /** A number of vifs on xenbr0, or their settings. */
  vifs?: number | DomUVif[];
  /** PCI devices (BDFs bound to xen-pciback in dom0), e.g. ['0000:00:03.0']. */
  pci?: string[];
  /** More xl.cfg lines, verbatim. */
  extraCfg?: string[];
  /**
   * Leave the DomU paused after creation (`xl create -p`); start it with `domu.unpause()`.
   * Its console is read from the start either way.
   */
  paused?: boolean;
  /**
   * xenstore entries to write before the DomU first runs, keys relative to
   * `/local/domain/<domid>/` (e.g. `{ 'rumpxen/cfg': '{"argv":["x"]}' }`). The domain is
   * created paused, the keys written with dom0's `xenstore-write -R` (values verbatim, no
   * backslash escapes), the nodes this made (keys and new folders above them) given to the
   * domain (`xenstore-chmod NODE n<domid>`: it owns and reads them, other unprivileged
   * domains do not; nodes libxl made keep their permissions), then it is unpaused (unless
   * `paused`).
   */
  xenstore?: Record<string, string>;
  /** Every console line as it arrives (also available through the handle's async iterator). */
  onConsoleLine?: (line: string) => void;
}

export interface WaitOptions {
  /** Give up (destroy the DomU, verdict timeout 124) after this long. Default 120 s. */
  timeoutMs?: number;
  /** Leave the shut-down domain in place instead of destroying it. */
  keep?: boolean;
}

export interface DomUResult extends VerdictResult {
  /** How the domain ended as Xen saw it. */
  end: DomUEnd;
  /** All console lines. */
  console: string[];
}

interface Exec {
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
}

const POLL_MS = 100;

/** A DomU created by xl. Iterate it (`for await (const line of domu)`) for its console lines. */
export class DomU implements AsyncIterable<string> {
  /** Console lines so far. */
  readonly lines: string[] = [];
  /** ms from just before `xl create` to the first console line, when there was one. */
  firstLineMs?: number;
  /** ms that `xl create` took (as seen from the host). */
  createMs = 0;
  /** Xen's domain id. */
  domid = -1;
  private readonly createdAt = performance.now();
  private partial = '';
  /** Console bytes are decoded as UTF-8 (a character split across reads is kept for the next). */
  private readonly decoder = new StringDecoder('utf8');
  private readonly log: FileFollower;
  private poller?: NodeJS.Timeout;
  private ended = false;
  private waiters: Array<() => void> = [];
  private result?: Promise<DomUResult>;
  private detachedReason?: string;

  /** Starts reading the console log; call before `xl create` so the first line's time is seen. */
  constructor(
    private readonly dom0: Exec,
    readonly name: string,
    logFile: string,
    private readonly onLine?: (line: string) => void,
  ) {
    // xenconsoled appends: skip what an earlier domain of the same name left in the log.
    this.log = new FileFollower(logFile, existsSync(logFile) ? statSync(logFile).size : 0);
    this.poller = setInterval(() => this.readLog(), POLL_MS);
  }

  /** Records what `xl create` reported. */
  created(domid: number, createMs: number, paused = false): void {
    this.domid = domid;
    this.createMs = createMs;
    this.paused = paused;
    this.readLog();
  }

  /** True while a DomU created with `paused: true` has not been unpaused. */
  paused = false;

  /** Starts a DomU created with `paused: true` (`xl unpause`). */
  async unpause(): Promise<void> {
    if (this.detachedReason) throw new TestbedError(`DomU ${this.name}: cannot unpause: ${this.detachedReason}`);
    const r = await this.dom0.exec(`xl unpause ${shellQuote(this.name)} 2>&1`, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new TestbedError(`xl unpause ${this.name} failed (exit ${r.code}): ${r.stdout.trim()}`);
    this.paused = false;
  }

  private push(line: string): void {
    if (this.firstLineMs === undefined) this.firstLineMs = performance.now() - this.createdAt;
    this.lines.push(line);
    this.onLine?.(line);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Reads what xenconsoled appended to the DomU's log since the last call. */
  private readLog(final = false): void {
    this.partial += this.decoder.write(this.log.next());
    if (final) this.partial += this.decoder.end();
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      this.push(this.partial.slice(0, nl).replace(/\r+$/, ''));
      this.partial = this.partial.slice(nl + 1);
    }
    if (final && this.partial) {
      this.push(this.partial.replace(/\r+$/, ''));
      this.partial = '';
    }
  }

  private finishConsole(): void {
    if (this.ended) return;
    this.readLog(true);
    if (this.poller) clearInterval(this.poller);
    this.ended = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Console lines, from the first, until the DomU has ended (after `wait()` or `destroy()`). */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    let i = 0;
    for (;;) {
      while (i < this.lines.length) yield this.lines[i++]!;
      if (this.ended) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The console's last lines, for an error message: what the DomU was doing when it failed. */
  private consoleTail(n = 30): string {
    if (this.lines.length === 0) return '; its console printed nothing';
    const tail = this.lines.slice(-n);
    const skipped = this.lines.length - tail.length;
    return `; its console${skipped ? ` (last ${tail.length} of ${this.lines.length} lines)` : ''}:\n  ${tail.join('\n  ')}`;
  }

  /** Resolves with the first console line matching `match`; rejects after `timeoutMs` or when the console ends. */
  async waitForLine(match: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    let i = 0;
    for (;;) {
      for (; i < this.lines.length; i++) if (match.test(this.lines[i]!)) return this.lines[i]!;
      if (this.ended) throw new TestbedError(`DomU ${this.name}: its console ended without a line matching ${match}${this.consoleTail()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new TestbedError(`DomU ${this.name}: no console line matching ${match} within ${timeoutMs} ms${this.consoleTail()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Waits until the DomU shuts down or crashes (or the timeout), then judges its console by
   * the result protocol and destroys it (unless `keep`). Calling it again returns the same result.
   */
  wait(opts: WaitOptions = {}): Promise<DomUResult> {
    this.result ??= this.waitOnce(opts);
    return this.result;
  }

  private async waitOnce(opts: WaitOptions): Promise<DomUResult> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let end: DomUEnd;
    try {
      const r = await this.dom0.exec(`tb-wait-domain ${shellQuote(this.name)}`, { timeoutMs });
      const out = r.stdout.trim();
      const m = /^shutdown (\d+)$/.exec(out);
      end = m ? { kind: 'shutdown', reasonCode: Number(m[1]) } : out === 'crashed' ? { kind: 'crashed' } : { kind: 'gone' };
    } catch (e) {
      if (this.detachedReason) throw new TestbedError(`DomU ${this.name}: ${this.detachedReason} before the DomU ended`);
      if (e instanceof TestbedError && e.exitCode === EXIT_TIMEOUT) end = { kind: 'timeout', timeoutMs };
      else throw e;
    }
    // xenconsoled may still be copying the last bytes of the ring into the log.
    await new Promise((r) => setTimeout(r, 300));
    this.readLog();
    if (!opts.keep && !this.detachedReason) await this.destroy();
    this.finishConsole();
    const verdict = judgeDomU(this.lines, end);
    return { ...verdict, end, console: [...this.lines] };
  }

  /** Destroys the domain (no error when it is already gone). */
  async destroy(): Promise<void> {
    if (!this.detachedReason) {
      const n = shellQuote(this.name);
      // A domain that is already gone is fine; one that xl could not destroy is not.
      const r = await this.dom0.exec(`xl destroy ${n} 2>&1 && exit 0; xl domid ${n} >/dev/null 2>&1 && exit 1; exit 0`, { timeoutMs: 60_000 });
      if (r.code !== 0) throw new TestbedError(`xl destroy ${this.name} failed: ${r.stdout.trim()}`);
    }
    this.readLog();
    if (this.result === undefined) this.finishConsole();
  }

  /** The testbed is going away: stop reading, end the console. */
  detach(reason: string): void {
    this.detachedReason = reason;
    this.finishConsole();
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new TestbedError(`DomU name '${name}' is not usable: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`, 2);
  }
}

function isInside(file: string, dir: string | undefined): boolean {
  return dir !== undefined && (file === dir || file.startsWith(dir.endsWith('/') ? dir : dir + '/'));
}

/**
 * Checks what can be checked before any boot: names, files, the kernel's Xen notes, BDFs.
 * Throws TestbedError/BadKernelError (exit code 2 for a bad kernel) naming the bad input.
 */
export function checkDomUOptions(opts: DomUOptions): void {
  if (opts.name !== undefined) checkName(opts.name);
  const kernel = resolve(opts.kernel);
  if (!existsSync(kernel)) throw new BadKernelError(`DomU kernel '${opts.kernel}' does not exist; pass the path of an ELF image with Xen notes`);
  const info = readKernelInfo(kernel);
  if (info.kind === 'elf') {
    if ((opts.type ?? 'pv') === 'pv' && !info.xenNotes.has(XEN_ELFNOTE.ENTRY) && !info.xenNotes.has(XEN_ELFNOTE.HYPERCALL_PAGE)) {
      throw new BadKernelError(`DomU kernel '${opts.kernel}' has no Xen PV ELF notes (XEN_ELFNOTE_ENTRY), so xl cannot boot it as PV; add the notes of xen/elfnote.h${info.xenNotes.has(XEN_ELFNOTE.PHYS32_ENTRY) ? " or boot it with type: 'pvh'" : ''}`);
    }
    if (opts.type === 'pvh' && !info.xenNotes.has(XEN_ELFNOTE.PHYS32_ENTRY)) {
      throw new BadKernelError(`DomU kernel '${opts.kernel}' has no XEN_ELFNOTE_PHYS32_ENTRY note, so it cannot boot as PVH; boot it as PV or add the note`);
    }
  }
  if (opts.ramdisk !== undefined && !existsSync(opts.ramdisk)) throw new TestbedError(`DomU ramdisk '${opts.ramdisk}' does not exist; pass the path of an initramfs`, 2);
  for (const d of opts.disks ?? []) {
    if (!existsSync(d.file)) throw new TestbedError(`disk file '${d.file}' does not exist; create it first (e.g. truncate -s 16M ${d.file})`, 2);
    if (d.vdev !== undefined && !/^xvd[a-z]+$/.test(d.vdev)) throw new TestbedError(`disk '${d.file}': vdev '${d.vdev}' is not a Xen disk name like xvda`, 2);
  }
  for (const bdf of opts.pci ?? []) {
    try {
      parseBdf(bdf);
    } catch (e) {
      if (!(e instanceof PciSpecError)) throw e;
      throw new TestbedError(`PCI address '${bdf}' is not a BDF like 0000:00:03.0`, 2);
    }
  }
  for (const [key, value] of Object.entries(opts.xenstore ?? {})) {
    // xenstore path syntax: letters, digits and -/_@. in '/'-separated parts; relative to the domain's path.
    if (!/^[A-Za-z0-9_@.-]+(\/[A-Za-z0-9_@.-]+)*$/.test(key) || key.split('/').some((p) => p === '.' || p === '..') || key.length > 1000) {
      throw new TestbedError(`xenstore key '${key}' is not usable: write it relative to /local/domain/<domid>/, as parts of letters, digits, '-', '_', '@' or '.' joined by '/' (e.g. 'rumpxen/cfg')`, 2);
    }
    if (typeof value !== 'string') throw new TestbedError(`xenstore value of '${key}' is a ${typeof value}, not a string; pass e.g. JSON.stringify(value)`, 2);
    if (value.includes('\0') || Buffer.byteLength(value) > 4096) {
      throw new TestbedError(`xenstore value of '${key}' ${value.includes('\0') ? 'contains a NUL byte' : `is ${Buffer.byteLength(value)} bytes`}: xenstore-write takes at most 4096 bytes without NUL; shorten it`, 2);
    }
  }
  for (const [key, v] of [['memory', opts.memory], ['vcpus', opts.vcpus]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new TestbedError(`DomU ${key} ${v} is not a positive whole number`, 2);
  }
}

/**
 * A DomU's xl.cfg: @rumpxen/protocol's renderXlCfg (the one xl.cfg writer) for the domain,
 * kept after it ends (`preserve` on poweroff, reboot and crash, so `tb-wait-domain` can read
 * its shutdown reason), then `extra` lines verbatim. A value xl.cfg cannot hold is a
 * TestbedError naming it (exit code 2).
 */
export function domUXlCfg(domain: Omit<DomainConfig, 'on_poweroff' | 'on_reboot' | 'on_crash'>, extra: readonly string[] = []): string {
  try {
    const text = renderXlCfg({ ...domain, on_poweroff: 'preserve', on_reboot: 'preserve', on_crash: 'preserve' });
    return extra.length ? `${text}${extra.join('\n')}\n` : text;
  } catch (e) {
    if (e instanceof DomainConfigError) throw new TestbedError(`DomU '${domain.name}': ${e.message}`, 2);
    throw e;
  }
}

/** Creates a DomU: stages its files on the run share, writes its xl.cfg and runs `xl create`. */
export async function createDomU(dom0: Exec, runDir: string, shareDir: string | undefined, name: string, opts: DomUOptions): Promise<DomU> {
  checkName(name);
  checkDomUOptions(opts);
  const staged = join(runDir, 'domu', `${name}.kernel`);
  copyFileSync(resolve(opts.kernel), staged);

  let stagedRamdisk: string | undefined;
  if (opts.ramdisk !== undefined) {
    stagedRamdisk = join(runDir, 'domu', `${name}.ramdisk`);
    copyFileSync(opts.ramdisk, stagedRamdisk);
  }

  const disks = (opts.disks ?? []).map((d, i) => {
    const file = resolve(d.file);
    // dom0 sees the repository and the run folder at their host paths; other files are copied in.
    let target = file;
    if (!isInside(file, shareDir) && !isInside(file, runDir)) {
      target = join(runDir, 'disks', `${name}-${i}-${basename(file)}`);
      copyFileSync(file, target);
    }
    return { target, vdev: d.vdev ?? `xvd${String.fromCharCode(97 + i)}`, readonly: Boolean(d.readonly) };
  });
  const vifs = typeof opts.vifs === 'number' ? Array.from({ length: opts.vifs }, () => ({}) as DomUVif) : (opts.vifs ?? []);
  const cfg = domUXlCfg({
    name,
    type: opts.type ?? 'pv',
    kernel: staged,
    ...(stagedRamdisk ? { ramdisk: stagedRamdisk } : {}),
    ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}),
    memory: opts.memory ?? 32,
    vcpus: opts.vcpus ?? 1,
    disks,
    vifs: vifs.map((v) => ({ bridge: v.bridge ?? 'xenbr0', ...(v.mac ? { mac: v.mac } : {}) })),
    pci: opts.pci ?? [],
  }, opts.extraCfg ?? []);
  const cfgFile = join(runDir, 'domu', `${name}.cfg`);
  writeFileSync(cfgFile, cfg);

  const domu = new DomU(dom0, name, join(runDir, 'xenlog', `guest-${name}.log`), opts.onConsoleLine);
  const r = await dom0.exec(createScript(name, cfgFile, opts), { timeoutMs: 120_000 }).catch((e: unknown) => {
    domu.detach('xl create failed');
    throw e;
  });
  if (r.code !== 0) {
    domu.detach('xl create failed');
    throw new TestbedError(`xl create of DomU '${name}' failed (exit ${r.code}):\n${(r.stderr + r.stdout).trim()}\nxl.cfg (${cfgFile}):\n${cfg.trimEnd()}`);
  }
  domu.created(Number(r.stdout.trim().split('\n').pop()), r.ms, opts.paused === true);
  return domu;
}

/**
 * dom0's part of createDomU: `xl create`, or with `paused`/`xenstore`: `xl create -p`, the
 * xenstore entries (each key and the folders it creates below the domain's path owned by the
 * domain), then `xl unpause` unless `paused`. Prints the domid last. A failure after the
 * create destroys the half-made domain.
 */
function createScript(name: string, cfgFile: string, opts: DomUOptions): string {
  const n = shellQuote(name);
  const entries = Object.entries(opts.xenstore ?? {});
  if (!opts.paused && entries.length === 0) return `xl create ${shellQuote(cfgFile)} && xl domid ${n}`;
  const lines = [`xl create -p ${shellQuote(cfgFile)} || exit 1`, `id=$(xl domid ${n}) || exit 1`, `fail() { echo "$*" >&2; xl destroy ${n} >/dev/null 2>&1; exit 1; }`];
  // Nodes that do not exist yet (the key and folders above it) become the domain's; nodes
  // libxl already made (console/, device/, ...) keep their permissions.
  const nodes = new Set<string>();
  for (const [key] of entries) {
    const parts = key.split('/');
    for (let i = 1; i <= parts.length; i++) nodes.add(parts.slice(0, i).join('/'));
  }
  lines.push('new=');
  // (checkDomUOptions allows only [A-Za-z0-9_@.-/] in keys: no quoting needed in the list.)
  for (const node of nodes) lines.push(`xenstore-exists "/local/domain/$id/${node}" 2>/dev/null || new="$new ${node}"`);
  for (const [key, value] of entries) {
    lines.push(`xenstore-write -R "/local/domain/$id/"${shellQuote(key)} ${shellQuote(value)} || fail "xenstore-write of ${key} failed"`);
  }
  lines.push('for node in $new; do xenstore-chmod "/local/domain/$id/$node" "n$id" || fail "xenstore-chmod of $node failed"; done');
  if (!opts.paused) lines.push(`xl unpause ${n} || fail "xl unpause failed"`);
  lines.push('echo "$id"');
  return lines.join('\n');
}
