/**
 * `run`: start an image and stream its console. posix images run as host processes; Xen
 * images run on the local Xen host (when /dev/xen/privcmd exists: through
 * `@rumpxen/minios-binding`'s native addon, or `xl` when the addon cannot be loaded or
 * opened, or when `via: 'xl'` / `RUMPXEN_XEN_VIA=xl` asks for it) or on the embedded
 * testbed (`@rumpxen/xen-testbed`): as the only domain when there are no devices, as a
 * DomU of a full testbed when there are. The exit code follows the testbed's result
 * protocol (XTF line, `rumpxen: exit N`, poweroff 0, crash 6, timeout 124).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Testbed, bootGuest, decideVerdict, fetchAssets, missingPackages, parseExitLine, parseResultLine, parseXenFeatures, type EndKind, type VerdictResult } from '@rumpxen/xen-testbed';
import { preparePassthrough } from '@rumpxen/pci-passthrough';
import { Xen, XenConfigError, XenError, type DomainConfig, type ShutdownResult } from '@rumpxen/minios-binding';
import { ImageLinkerError } from './errors.js';
import { inspect, type ImageReport } from './inspect.js';
import { renderConfig, type DiskSpec, type NetSpec, GUEST_CONFIG_XENSTORE_KEY } from './config.js';

export type RunPlace = 'auto' | 'xen' | 'testbed';
/** How a run on a local Xen host starts the domain: the minios-binding addon (no `xl`), or `xl`. */
export type XenVia = 'auto' | 'addon' | 'xl';

export interface RunOptions {
  /** The image to start. */
  image: string;
  /** Domain name; default: the image file name (a manifest's `name` in the CLI). */
  name?: string;
  on?: RunPlace;
  memoryMb?: number;
  vcpus?: number;
  disks?: (string | DiskSpec)[];
  nets?: (string | NetSpec)[];
  pci?: string[];
  /**
   * On a local Xen host with `pci`: bind each device to xen-pciback first (pci-passthrough's
   * `makeAssignable`, its driver remembered for `image-linker pci restore`). Without it
   * (default) each device must be on xen-pciback already, else the run stops before creating
   * the domain.
   */
  pciAssign?: boolean;
  env?: string[] | Record<string, string>;
  args?: string[];
  /** Seconds before the run is stopped (exit code 124). Default 120. */
  timeoutS?: number;
  /**
   * On a local Xen host: `addon` (minios-binding's native addon, libxenctrl/libxenguest or
   * libxl, no `xl` process), `xl` (the xl toolstack), or `auto` (default: the addon, `xl`
   * when the addon cannot be loaded or opened). Default from `RUMPXEN_XEN_VIA`, else `auto`.
   */
  via?: XenVia;
  /** Each console line of the guest as it arrives. */
  onConsoleLine?: (line: string) => void;
  /** Progress (assets, boot, create). */
  onProgress?: (line: string) => void;
}

export interface RunResult {
  exitCode: number;
  verdict: string;
  reason: string;
  /** Where it ran: `host` (posix), `xen` (the local Xen host), `testbed` (guest as the only domain), `testbed-domu`. */
  ranOn: 'host' | 'xen' | 'testbed' | 'testbed-domu';
  /** With `ranOn: 'xen'`: how the domain was started (`addon`: minios-binding's native addon, `xl`: the xl toolstack). */
  via?: 'addon' | 'xl';
  console: string[];
  durationMs: number;
}

/** A run in progress: its console as an async iterable, its result as a promise (await the handle itself for the result). */
export interface RunHandle extends PromiseLike<RunResult> {
  console: AsyncIterable<string>;
  result: Promise<RunResult>;
}

/**
 * The result protocol (the testbed's `decideVerdict`: XTF line, `rumpxen: exit N`, poweroff 0,
 * crash 6, timeout 124) for a host process or a run on a local Xen host. A host process that
 * printed neither a result line nor an exit line is judged by its exit status.
 */
function judge(lines: string[], end: EndKind, timeoutS: number, processCode?: number): VerdictResult {
  if (processCode !== undefined && end !== 'timeout' && !lines.some((l) => parseResultLine(l) !== undefined || parseExitLine(l) !== undefined)) {
    return { exitCode: processCode, verdict: processCode === 0 ? 'SUCCESS' : 'FAILURE', reason: `the program exited with status ${processCode}` };
  }
  return decideVerdict({ guestLines: lines, end, timeoutS });
}

class LineQueue implements AsyncIterable<string> {
  private lines: string[] = [];
  private done = false;
  private wake: (() => void) | null = null;
  push(line: string) {
    this.lines.push(line);
    this.wake?.();
  }
  end() {
    this.done = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    let i = 0;
    for (;;) {
      while (i < this.lines.length) yield this.lines[i++]!;
      if (this.done) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }
}

function commonDir(paths: string[]): string {
  const parts = paths.map((p) => dirname(resolve(p)).split(sep));
  const first = parts[0] ?? [''];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && p[i] === first[i]) i += 1;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

async function runHost(opts: RunOptions, cfg: ReturnType<typeof renderConfig>, emit: (l: string) => void, timeoutS: number): Promise<Omit<RunResult, 'durationMs' | 'console'>> {
  const child = spawn(resolve(opts.image), cfg.guest.argv.slice(1), { env: { ...process.env, ...Object.fromEntries(cfg.guest.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])) }, stdio: ['ignore', 'pipe', 'pipe'], argv0: cfg.guest.argv[0] });
  const lines: string[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      emit(l);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutS * 1000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r, reject) => {
    child.on('error', (e) => reject(new ImageLinkerError(opts.image, `could not be started (${(e as NodeJS.ErrnoException).code}).`, 'Build the image for posix on this host (image-linker build --target posix).')));
    child.on('close', (c, sig) => r({ code: c, signal: sig }));
  });
  clearTimeout(timer);
  if (partial) {
    lines.push(partial);
    emit(partial);
  }
  // Killed by a signal: a crash (verdict CRASH, 6); else its exit status, unless it printed a result or exit line.
  if (timedOut) return { ...judge(lines, 'timeout', timeoutS), ranOn: 'host' };
  if (code === null) return { ...judge(lines, 'crash', timeoutS, undefined), reason: `the program was killed by ${signal ?? 'a signal'}`, ranOn: 'host' };
  return { ...judge(lines, code === 0 ? 'poweroff' : 'crash', timeoutS, code), ranOn: 'host' };
}

/**
 * Where the Xen tools (`xl`, `xenstore-write`, `xenstore-chmod`) are looked up: the folder
 * named by `RUMPXEN_XEN_BIN` when set, else PATH.
 */
export function xenTool(name: string): string {
  const dir = process.env.RUMPXEN_XEN_BIN;
  return dir ? join(dir, name) : name;
}

function sh(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string; missing?: boolean }> {
  return new Promise((r) => {
    const c = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    if (input !== undefined) c.stdin!.end(input);
    c.on('error', (e: NodeJS.ErrnoException) => r({ code: 127, out: `${cmd}: ${e.code === 'ENOENT' ? 'not found' : e.message}`, missing: e.code === 'ENOENT' }));
    c.on('close', (code) => r({ code: code ?? 1, out }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a domain stands, from `xl list -v NAME`: running/paused, shut down (with SHUTDOWN_* reason), crashed, or gone. */
async function xlState(name: string): Promise<{ kind: 'running' } | { kind: 'shutdown'; reason: number } | { kind: 'crashed' } | { kind: 'gone' }> {
  const r = await sh(xenTool('xl'), ['list', '-v', name]);
  const row = r.code === 0 ? r.out.split('\n').find((l) => l.startsWith(`${name} `)) : undefined;
  if (!row) return { kind: 'gone' };
  // Name ID Mem VCPUs State Time(s) UUID Reason-Code ...; State is "rbpscd" with '-' for unset flags.
  const f = row.trim().split(/\s+/);
  const state = f[4] ?? '';
  if (state[4] === 'c') return { kind: 'crashed' };
  if (state[3] === 's') return { kind: 'shutdown', reason: Number(f[7] ?? 0) };
  return { kind: 'running' };
}

/**
 * On a Xen host with xl: `xl create -p` (the domain kept after it ends, so its end can be
 * read), the guest config into xenstore, `xl console` attached, `xl unpause`; the end is
 * polled with `xl list -v` once a second, then the domain is destroyed.
 */
async function runXl(cfg: ReturnType<typeof renderConfig>, emit: (l: string) => void, timeoutS: number, progress: (l: string) => void): Promise<Omit<RunResult, 'durationMs' | 'console'>> {
  const dir = mkdtempSync(join(tmpdir(), 'image-linker-xl-'));
  const xl = xenTool('xl');
  let created = false;
  let con: ReturnType<typeof spawn> | undefined;
  const destroy = () => (created ? sh(xl, ['destroy', cfg.name]) : Promise.resolve({ code: 0, out: '' }));
  const onSignal = (sig: NodeJS.Signals) => {
    con?.kill();
    void destroy().finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const cfgPath = join(dir, `${cfg.name}.cfg`);
    writeFileSync(cfgPath, cfg.xl);
    progress(`xl create -p ${cfgPath}`);
    // KEY=VALUE after the file overrides it: keep the domain when it ends, so its end is readable.
    const create = await sh(xl, ['create', '-p', '-q', cfgPath, 'on_poweroff="preserve"', 'on_reboot="preserve"', 'on_crash="preserve"']);
    if (create.missing) {
      throw new ImageLinkerError(`--on xen (${xl})`, 'needs the Xen toolstack, but xl was not found.', 'Install it (Debian: apt-get install xen-utils), put xl and xenstore-* on PATH, or name their folder in RUMPXEN_XEN_BIN.', 1);
    }
    if (create.code !== 0) throw new ImageLinkerError(cfg.kernel, `could not be started by xl: ${create.out.trim()}`, 'Check that xl works on this host (run as root, xencommons started) and that no domain is named ' + cfg.name + ' already (xl list).', 1);
    created = true;
    const domid = (await sh(xl, ['domid', cfg.name])).out.trim();
    if (!/^\d+$/.test(domid)) throw new ImageLinkerError(cfg.name, `was created but xl domid answered: ${domid}`, 'Check the host with xl list.', 1);
    // The guest reads its config at boot: write it while the domain is paused, owned by the domain.
    const base = `/local/domain/${domid}`;
    const dirKey = `${base}/${GUEST_CONFIG_XENSTORE_KEY.split('/')[0]}`;
    const key = `${base}/${GUEST_CONFIG_XENSTORE_KEY}`;
    for (const [cmd, args] of [
      ['xenstore-write', ['-R', key, cfg.guestJson]],
      ['xenstore-chmod', [dirKey, `n${domid}`]],
      ['xenstore-chmod', [key, `n${domid}`]],
    ] as const) {
      const r = await sh(xenTool(cmd), [...args]);
      if (r.code !== 0) throw new ImageLinkerError(key, `could not be written with ${cmd}: ${r.out.trim()}`, 'Install the xenstore tools (Debian: xenstore-utils) or name their folder in RUMPXEN_XEN_BIN.', 1);
    }
    progress(`created ${cfg.name} (domid ${domid}), config in xenstore ${key}; unpausing`);
    const lines: string[] = [];
    // xenconsole ends at EOF on its stdin: give it a pipe that stays open.
    con = spawn(xl, ['console', cfg.name], { stdio: ['pipe', 'pipe', 'pipe'] });
    let consoleClosed = false;
    const closed = new Promise<void>((r) => con!.on('close', () => ((consoleClosed = true), r())));
    con.on('error', () => {});
    let partial = '';
    con.stdout!.on('data', (d: Buffer) => {
      partial += d.toString().replace(/\r/g, '');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        emit(l);
      }
    });
    const unpause = await sh(xl, ['unpause', cfg.name]);
    if (unpause.code !== 0) throw new ImageLinkerError(cfg.name, `could not be unpaused: ${unpause.out.trim()}`, 'Check the host with xl list.', 1);
    const deadline = Date.now() + timeoutS * 1000;
    let end: 'poweroff' | 'crash' | 'timeout' = 'timeout';
    for (;;) {
      const st = await xlState(cfg.name);
      if (st.kind === 'crashed' || (st.kind === 'shutdown' && st.reason !== 0 && st.reason !== 1) || st.kind === 'gone') {
        end = 'crash';
        break;
      }
      if (st.kind === 'shutdown') {
        end = 'poweroff';
        break;
      }
      if (Date.now() >= deadline) break;
      await Promise.race([sleep(1000), closed]);
      if (consoleClosed) await sleep(200);
    }
    // Let xenconsoled pass on the ring's last bytes before the console goes.
    if (!consoleClosed) await Promise.race([sleep(500), closed]);
    con.kill();
    await closed;
    if (partial) {
      lines.push(partial);
      emit(partial);
    }
    return { ...judge(lines, end, timeoutS), ranOn: 'xen', via: 'xl' };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    con?.kill();
    await destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RenderedConfig → the addon's DomainConfig (the guest JSON goes to xenstore `rumpxen/cfg` before unpause). */
export function toDomainConfig(cfg: ReturnType<typeof renderConfig>): DomainConfig {
  return {
    name: cfg.name,
    kernel: cfg.kernel,
    type: cfg.type === 'xen-pvh' ? 'pvh' : 'pv',
    memory: cfg.memoryMb,
    vcpus: cfg.vcpus,
    disks: cfg.disks.map((d) => ({ target: d.file, vdev: d.vdev, readonly: d.readonly })),
    vifs: cfg.nets.map((n) => ({ ...(n.bridge ? { bridge: n.bridge } : {}), ...(n.mac ? { mac: n.mac } : {}) })),
    pci: cfg.pci,
    guestConfig: cfg.guest,
  };
}

/** Which way to start a domain on the local Xen host: the option, else RUMPXEN_XEN_VIA, else auto. */
function xenVia(opt: XenVia | undefined): XenVia {
  const v = opt ?? process.env.RUMPXEN_XEN_VIA ?? 'auto';
  if (v !== 'auto' && v !== 'addon' && v !== 'xl') {
    const src = opt !== undefined ? `via: ${JSON.stringify(opt)}` : `RUMPXEN_XEN_VIA=${v}`;
    throw new ImageLinkerError(src, 'is not a way to start a domain.', 'Use auto (the addon, xl if it cannot be opened), addon or xl.');
  }
  return v;
}

/**
 * On a Xen host through minios-binding's addon (no xl): the domain is created paused
 * (the `direct` builder for PV without devices, libxl otherwise) with the guest config in
 * xenstore, its console (xenconsoled's pty) opened, then unpaused; `waitForShutdown` gives
 * the end, and the domain is destroyed at the end, at the timeout, or on SIGINT/SIGTERM.
 */
async function runAddon(xen: Xen, cfg: ReturnType<typeof renderConfig>, emit: (l: string) => void, timeoutS: number, progress: (l: string) => void): Promise<Omit<RunResult, 'durationMs' | 'console'>> {
  const wrap = (e: unknown, what: string): never => {
    if (e instanceof XenConfigError) throw new ImageLinkerError(`${cfg.name} (${e.field})`, `was refused by the Xen addon: ${e.message}`, 'Fix that setting (see image-linker config --help).', 2);
    if (e instanceof XenError) throw new ImageLinkerError(cfg.kernel, `could not be ${what} through the Xen addon (${e.syscall}: ${e.code}): ${e.message.trim()}`, `Check the host (xl list: no domain named ${cfg.name} already; enough free memory: xl info), or force the xl path with RUMPXEN_XEN_VIA=xl.`, 1);
    throw e;
  };
  let domid: number | undefined;
  let gone = false;
  let destroying: Promise<void> | undefined;
  const seen: string[] = [];
  const destroy = () => {
    if (domid === undefined || gone) return Promise.resolve();
    const id = domid;
    destroying ??= xen.domains.destroy(id).catch((e: unknown) => {
      // Already gone (shut down and destroyed by waitForShutdown) is fine.
      if (!(e instanceof XenError && e.code === 'ESRCH')) throw e;
    });
    return destroying;
  };
  let interrupted: NodeJS.Signals | undefined;
  const die = (sig: NodeJS.Signals) => {
    void destroy()
      .catch(() => undefined)
      .finally(() => {
        xen.close();
        process.kill(process.pid, sig);
      });
  };
  // During the create there is no domain id yet: die once the create returns (below).
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = sig;
    if (domid !== undefined) die(sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let pump: Promise<void> | undefined;
  let con: Awaited<ReturnType<Xen['console']>> | undefined;
  try {
    const dc = toDomainConfig(cfg);
    // libxl (and xl) refuse a second domain of the same name; the direct builder does not check.
    const clash = await xen.domains.resolve(cfg.name).then(
      (id) => id,
      (e: unknown) => {
        if (e instanceof XenError && e.code === 'ESRCH') return undefined;
        throw e;
      },
    );
    if (clash !== undefined) throw new ImageLinkerError(cfg.kernel, `cannot be started as domain "${cfg.name}": domain ${clash} already has that name.`, `Stop it first (xl destroy ${cfg.name}), or run a copy of the image under another file name.`, 1);
    const created = await xen.domains.create({ ...dc, paused: true }).catch((e: unknown) => wrap(e, 'created'));
    domid = created.domid;
    if (interrupted) {
      die(interrupted);
      return await new Promise<never>(() => undefined);
    }
    progress(`created ${cfg.name} (domid ${domid}) through the addon's ${created.engine} path in ${Math.round(created.timings.total)} ms, config in xenstore /local/domain/${domid}/${GUEST_CONFIG_XENSTORE_KEY}; unpausing`);
    con = await xen.console(domid).catch((e: unknown) => wrap(e, 'given a console'));
    const c = con;
    pump = (async () => {
      for await (const l of c) {
        seen.push(l);
        emit(l);
      }
    })();
    await xen.domains.unpause(domid).catch((e: unknown) => wrap(e, 'unpaused'));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutS * 1000)));
    const waiting = xen.domains.waitForShutdown(domid);
    const first = await Promise.race([waiting, timedOut]);
    clearTimeout(timer);
    let end: 'poweroff' | 'crash' | 'timeout';
    if (first === 'timeout') {
      end = 'timeout';
      await destroy();
      await waiting.catch(() => undefined);
      gone = true;
    } else {
      gone = true; // waitForShutdown destroyed it (on_poweroff/on_crash default: destroy)
      const res: ShutdownResult = first;
      // reboot counts as an orderly end, like the xl path; anything else (crash, watchdog, destroyed by someone) as a crash.
      end = res.reason === 'poweroff' || res.reason === 'reboot' ? 'poweroff' : 'crash';
      progress(`domain ${domid} shut down: ${res.reason}${res.exitStatus === null ? '' : `, exit status ${res.exitStatus}`}`);
    }
    // waitForShutdown let the console drain; the pty ends when the domain goes.
    con.close();
    await pump;
    return { ...judge(seen, end, timeoutS), ranOn: 'xen', via: 'addon' };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    con?.close();
    await pump?.catch(() => undefined);
    await destroy().catch(() => undefined);
  }
}

/**
 * Whether the testbed's Xen (4.17) boots the image as its only domain (dom0), by Xen's rule
 * (the testbed's `xenDom0Support()`): a PV kernel is refused ("Kernel does not support Dom0
 * operation") only when it has a XEN_ELFNOTE_SUPPORTED_FEATURES note and XENFEAT_dom0 (bit 11)
 * is in neither that note (its first 32-bit word; the notes ORed) nor a XEN_ELFNOTE_FEATURES
 * string ("dom0" or "!dom0"); an image without the note boots as dom0. Xen 4.17 builds a PVH
 * dom0 without this check. (A 2-byte SUPPORTED_FEATURES note, which Xen reads as 0, decodes
 * like a 4-byte one here.)
 */
export function declaresDom0(report: ImageReport): boolean {
  if (report.target === 'xen-pvh') return true;
  let note = false;
  let supported = 0n;
  for (const n of report.xenNotes) {
    if (n.name === 'SUPPORTED_FEATURES') {
      note = true;
      if (typeof n.value === 'bigint') supported |= n.value & 0xffffffffn;
      else if (typeof n.value === 'string' && n.value.length >= 8 && n.value.length % 8 === 0) supported |= BigInt(Buffer.from(n.value, 'hex').readUInt32LE(0));
    } else if (n.name === 'FEATURES' && typeof n.value === 'string') {
      supported |= BigInt(parseXenFeatures(n.value).supported >>> 0);
    }
  }
  return !note || ((supported >> 11n) & 1n) === 1n;
}

/**
 * `--pci` on a full testbed: the devices are the testbed dom0's, so pci-passthrough's
 * `preparePassthrough` runs there (the host's node in dom0's chroot onto the host's `/`,
 * which sees dom0's sysfs and, through the testbed's wrappers, dom0's xl).
 */
async function prepareInDom0(tb: Testbed, bdfs: string[], assign: boolean, progress: (l: string) => void): Promise<void> {
  progress(`pci: ${assign ? 'making assignable' : 'checking that xen-pciback holds'} ${bdfs.join(', ')} in the testbed's dom0`);
  const url = import.meta.resolve('@rumpxen/pci-passthrough');
  const script = [
    `const { preparePassthrough } = await import(${JSON.stringify(url)});`,
    'try {',
    `  const p = await preparePassthrough(${JSON.stringify(bdfs)}, { assign: ${assign} });`,
    "  console.log(JSON.stringify({ devices: p.devices.map((d) => ({ bdf: d.bdf, action: d.assigned ? d.assigned.plan.action : 'none' })) }));",
    '} catch (e) {',
    '  console.log(JSON.stringify({ error: { message: String(e && e.message), exitCode: typeof (e && e.exitCode) === "number" ? e.exitCode : 1 } }));',
    '}',
  ].join('\n');
  const quoted = `'${script.replace(/'/g, `'\\''`)}'`;
  const r = await tb.dom0.exec(`hostrun ${process.execPath} --input-type=module -e ${quoted}`, { timeoutMs: 180_000 });
  let out: { devices?: { bdf: string; action: string }[]; error?: { message: string; exitCode: number } } | undefined;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    out = undefined;
  }
  if (!out) throw new ImageLinkerError('--pci', `could not be checked in the testbed's dom0 (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(-500)}`, 'Check that the testbed shares the host\'s / into dom0 (hostRoot) and that @rumpxen/pci-passthrough is built.', 1);
  if (out.error) throw new ImageLinkerError(`--pci ${bdfs.join(' ')}`, `in the testbed's dom0: ${out.error.message}.`, 'The testbed has QEMU\'s edu device at 0000:00:03.0 on xen-pciback; list dom0\'s devices with image-linker pci list in dom0.', out.error.exitCode);
  for (const d of out.devices ?? []) progress(`pci: ${d.bdf} ${d.action === 'assign' ? 'bound to xen-pciback in dom0' : 'is on xen-pciback'} (testbed dom0)`);
}

async function runTestbed(report: ImageReport, cfg: ReturnType<typeof renderConfig>, pvh: boolean, emit: (l: string) => void, timeoutS: number, progress: (l: string) => void, pciAssign: boolean): Promise<Omit<RunResult, 'durationMs' | 'console'>> {
  // Guest as the only domain is fast; a full testbed (Linux dom0 + xl) is needed for devices
  // and for kernels that do not declare dom0 support.
  const devices = cfg.disks.length + cfg.nets.length + cfg.pci.length > 0 || !declaresDom0(report);
  if (!declaresDom0(report)) progress('the image does not declare XENFEAT_dom0, so it runs as a DomU of a full testbed');
  // Fetch the testbed's Debian assets on first use (the testbed reports its progress on stderr).
  const missing = missingPackages();
  if (missing.length > 0) {
    progress(`fetching the testbed's assets (${missing.join(', ')})`);
    fetchAssets({ quiet: true });
  }
  if (!devices) {
    progress(`booting Xen in QEMU with ${cfg.kernel} as its only domain${pvh ? ' (PVH)' : ''}`);
    // As the only domain the guest would get all of QEMU's memory: dom0_mem gives it its own.
    const r = await bootGuest({
      kernel: cfg.kernel,
      cmdline: cfg.cmdline,
      memoryMb: Math.max(256, cfg.memoryMb + 64),
      xenCmdline: `dom0_mem=${cfg.memoryMb}M,max:${cfg.memoryMb}M`,
      timeoutS,
      pvh,
      onConsoleLine: emit,
    });
    return { exitCode: r.exitCode, verdict: r.verdict, reason: r.reason, ranOn: 'testbed' };
  }
  // The DomU kernel and disks are read in dom0 at the same paths: share their common folder.
  const share = commonDir([cfg.kernel, ...cfg.disks.map((d) => d.file)]);
  if (share === sep) {
    throw new ImageLinkerError(cfg.kernel, 'and the disk files share no folder below /, so the testbed cannot give them to dom0.', 'Put the image and its disks under one folder (e.g. the project folder).');
  }
  progress(`starting the full testbed (Xen + Linux dom0) sharing ${share}`);
  const tb = await Testbed.start({ pvh, shareDir: share });
  try {
    if (cfg.pci.length > 0) await prepareInDom0(tb, cfg.pci, pciAssign, progress);
    progress('creating the DomU');
    const domu = await tb.createDomU({
      kernel: cfg.kernel,
      memory: cfg.memoryMb,
      cmdline: cfg.cmdline,
      name: cfg.name,
      type: pvh ? 'pvh' : 'pv',
      vcpus: cfg.vcpus,
      disks: cfg.disks.map((d) => ({ file: d.file, vdev: d.vdev, readonly: d.readonly })),
      vifs: cfg.nets.map((n) => ({ ...(n.mac ? { mac: n.mac } : {}), ...(n.bridge ? { bridge: n.bridge } : {}) })),
      pci: cfg.pci,
      // Written while the domain is still paused (xl create -p), so the guest finds it at boot.
      xenstore: { [GUEST_CONFIG_XENSTORE_KEY]: cfg.guestJson },
      onConsoleLine: emit,
    });
    const r = await domu.wait({ timeoutMs: timeoutS * 1000 });
    return { exitCode: r.exitCode, verdict: r.verdict, reason: r.reason, ranOn: 'testbed-domu' };
  } finally {
    await tb.stop();
  }
}

/** Starts an image; the handle streams its console and resolves to the verdict. */
export function run(opts: RunOptions): RunHandle {
  const queue = new LineQueue();
  const started = Date.now();
  const lines: string[] = [];
  const emit = (l: string) => {
    lines.push(l);
    queue.push(l);
    opts.onConsoleLine?.(l);
  };
  const progress = opts.onProgress ?? (() => {});
  const result = (async (): Promise<RunResult> => {
    try {
      const report = await inspect(opts.image);
      const timeoutS = opts.timeoutS ?? 120;
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new ImageLinkerError(`--timeout ${opts.timeoutS}`, 'is not a positive number of seconds.', 'Write e.g. --timeout 60.');
      const on = opts.on ?? 'auto';
      if (!['auto', 'xen', 'testbed'].includes(on)) throw new ImageLinkerError(`--on ${on}`, 'is not a place to run.', 'Use auto, xen or testbed.');
      const pvh = report.target === 'xen-pvh';
      const cfg = renderConfig({
        image: opts.image,
        name: opts.name,
        type: pvh ? 'xen-pvh' : 'xen-pv',
        memoryMb: opts.memoryMb,
        vcpus: opts.vcpus,
        disks: opts.disks,
        nets: opts.nets,
        pci: opts.pci,
        env: opts.env,
        args: opts.args,
      });
      let r: Omit<RunResult, 'durationMs' | 'console'>;
      if (report.target === 'posix') {
        r = await runHost(opts, cfg, emit, timeoutS);
      } else if (on === 'xen' || (on === 'auto' && existsSync('/dev/xen/privcmd'))) {
        if (!existsSync('/dev/xen/privcmd')) throw new ImageLinkerError('--on xen', 'needs a Xen host, but /dev/xen/privcmd does not exist here.', 'Use --on testbed (or auto) to run on the embedded testbed.');
        const via = xenVia(opts.via);
        if (cfg.pci.length > 0) {
          // Before any domain exists: every device present, then on xen-pciback (made so with pciAssign).
          progress(`pci: ${opts.pciAssign ? 'making assignable' : 'checking that xen-pciback holds'} ${cfg.pci.join(', ')}`);
          const prepared = await preparePassthrough(cfg.pci, { assign: !!opts.pciAssign });
          for (const d of prepared.devices) progress(`pci: ${d.bdf} ${d.assigned && d.assigned.plan.action === 'assign' ? 'bound to xen-pciback (give it back with image-linker pci restore ' + d.bdf + ')' : 'is on xen-pciback'}`);
        }
        let xen: Xen | undefined;
        if (via !== 'xl') {
          try {
            xen = await Xen.open();
          } catch (e) {
            // Not loadable (not built, no libxen*) or not openable (XenUnavailableError): xl instead.
            const why = (e as Error).message.split('\n')[0]!;
            if (via === 'addon') throw new ImageLinkerError("--on xen with the Xen addon (via addon)", `cannot use @rumpxen/minios-binding's addon: ${why}`, 'Build it (npm run build in packages/minios-binding; needs libxen-dev), or let it fall back to xl (RUMPXEN_XEN_VIA=auto or xl).', 1);
            progress(`xen: the minios-binding Xen addon cannot be used (${why}); falling back to xl`);
          }
        }
        if (xen) {
          progress("xen: starting the domain through @rumpxen/minios-binding's Xen addon (no xl)");
          try {
            r = await runAddon(xen, cfg, emit, timeoutS, progress);
          } finally {
            xen.close();
          }
        } else {
          progress(`xen: starting the domain with xl${via === 'xl' ? ' (asked for: RUMPXEN_XEN_VIA=xl or via: xl)' : ''}`);
          r = await runXl(cfg, emit, timeoutS, progress);
        }
      } else {
        r = await runTestbed(report, cfg, pvh, emit, timeoutS, progress, !!opts.pciAssign);
      }
      return { ...r, console: lines, durationMs: Date.now() - started };
    } finally {
      queue.end();
    }
  })();
  return {
    console: queue,
    result,
    then: (onOk, onErr) => result.then(onOk, onErr),
  };
}
