/** The entry point: `await Xen.open()`, then domains, xenstore, consoles, event channels, mappings. */
import { DomainConsole, type ConsoleOptions } from './console.js';
import { ConsoleRing } from './console-ring.js';
import { checkDomid, Domains } from './domains.js';
import { call, XenError, XenUnavailableError } from './errors.js';
import { EventChannels } from './evtchn.js';
import { ForeignMemory, GrantTable } from './memory.js';
import { libraryPath, loadAddon, type NativeAddon, type NativeConsoleRing, type NativeSession } from './native.js';
import { probeXen, type ProbePaths } from './probe.js';
import { XenStore } from './xenstore.js';

export interface XenOpenOptions {
  /** Override the device paths checked before opening (tests). */
  probePaths?: ProbePaths;
}

const DEBUG = /(^|,)(xen|\*)(,|$)/.test(process.env.RUMPXEN_DEBUG ?? '');
const debugLines: string[] = [];

/** Moves what the Xen libraries logged into the debug log (stderr only with RUMPXEN_DEBUG=xen). */
function pumpLog(addon: NativeAddon): void {
  const text = addon.drainLog();
  if (!text) return;
  for (const line of text.split('\n').filter((l) => l.length > 0)) {
    debugLines.push(line);
    if (DEBUG) process.stderr.write(`rumpxen:xen ${line}\n`);
  }
  if (debugLines.length > 500) debugLines.splice(0, debugLines.length - 500);
}

function loadLibrary(addon: NativeAddon): void {
  if (addon.isLoaded()) return;
  try {
    addon.load(libraryPath());
  } catch (e) {
    const msg = (e as Error).message;
    throw new XenUnavailableError([`the Xen libraries cannot be loaded (${msg}); install them with apt-get install -y libxen-dev, or the libxen* packages of Xen 4.17`]);
  }
}

export class Xen implements Disposable {
  readonly domains: Domains;
  readonly xenstore: XenStore;
  private session: NativeSession | undefined;
  private readonly children = new Set<{ close(): void }>();
  private readonly exitStatus = new Map<number, number>();
  private readonly consoles = new Map<number, Set<DomainConsole>>();
  private readonly rings = new Map<number, Set<ConsoleRing>>();

  private constructor(private readonly addon: NativeAddon, session: NativeSession) {
    this.session = session;
    const get = (): NativeSession => {
      pumpLog(this.addon);
      if (!this.session) throw new Error('this Xen handle is closed; call Xen.open() again');
      return this.session;
    };
    this.domains = new Domains(
      get,
      (domid) => this.exitStatus.get(domid),
      async (domid) => {
        await Promise.all([...(this.consoles.get(domid) ?? [])].map((c) => c.settle()));
      },
      () => this.addon.abortCreations(),
      (domid) => {
        for (const r of [...(this.rings.get(domid) ?? [])]) r.close();
      },
      (domid, ring, attachedAtMs, attachMs) => this.adoptRing(domid, ring, attachedAtMs, attachMs),
    );
    this.xenstore = new XenStore(get, addon, (h) => this.track(h));
  }

  /**
   * Opens libxenctrl, libxenstore and libxl.  Without Xen, rejects with a
   * XenUnavailableError naming what is missing; the libraries' own messages
   * go into that error (or the debug log), never to stderr.
   */
  static async open(opts: XenOpenOptions = {}): Promise<Xen> {
    const addon = loadAddon();
    const missing = probeXen(opts.probePaths);
    if (missing.length > 0) throw new XenUnavailableError(missing);
    loadLibrary(addon);
    try {
      return new Xen(addon, await call(addon.openSession()));
    } catch (e) {
      if (e instanceof XenError) throw new XenUnavailableError([`${e.syscall} failed (${e.code})`], e.message);
      throw e;
    } finally {
      pumpLog(addon);
    }
  }

  /** Recent lines the Xen libraries logged (they never reach stderr unless RUMPXEN_DEBUG=xen). */
  static debugLog(): string[] {
    return [...debugLines];
  }

  private track(h: { close(): void }): () => void {
    this.children.add(h);
    return () => this.children.delete(h);
  }

  /** The console of a domain (xenconsoled's pty). Lines `rumpxen: exit N` feed waitForShutdown's exitStatus. */
  async console(domid: number, opts: ConsoleOptions = {}): Promise<DomainConsole> {
    checkDomid(domid);
    const c = await DomainConsole.open(this.xenstore, domid, (s) => this.exitStatus.set(domid, s), opts);
    const untrack = this.track(c);
    const open = this.consoles.get(domid) ?? new Set<DomainConsole>();
    open.add(c);
    this.consoles.set(domid, open);
    const close = c.close.bind(c);
    c.close = () => {
      untrack();
      open.delete(c);
      if (open.size === 0) this.consoles.delete(domid);
      close();
    };
    return c;
  }

  /**
   * The domain's console read straight from its ring (see ConsoleRing): no wait for
   * xenconsoled, so the quickest way to a new domain's first line. Output only; it does not
   * consume (xenconsoled, `console()` and the log see everything too). `rumpxen: exit N` lines
   * feed waitForShutdown's exitStatus. Closed by `domains.destroy()`, `waitForShutdown()` and
   * `close()`.
   */
  async consoleRing(domid: number): Promise<ConsoleRing> {
    checkDomid(domid);
    const session = this.session;
    if (!session) throw new Error('this Xen handle is closed; call Xen.open() again');
    pumpLog(this.addon);
    const o = await call(session.consoleRingOpen(domid));
    return this.adoptRing(domid, o.ring, o.attachedAtMs, o.attachMs);
  }

  /** A ConsoleRing over a native ring, tracked so that destroy, waitForShutdown and close() close it. */
  private adoptRing(domid: number, ring: NativeConsoleRing, attachedAtMs: number, attachMs: number): ConsoleRing {
    const open = this.rings.get(domid) ?? new Set<ConsoleRing>();
    let untrack: () => void = () => undefined;
    const r = new ConsoleRing(domid, ring, attachedAtMs, attachMs, (s) => this.exitStatus.set(domid, s), () => {
      untrack();
      open.delete(r);
      if (open.size === 0) this.rings.delete(domid);
    });
    untrack = this.track(r);
    open.add(r);
    this.rings.set(domid, open);
    return r;
  }

  /** A libxenevtchn handle of its own. */
  async evtchn(): Promise<EventChannels> {
    this.open_();
    const h = await call(this.addon.openEvtchn());
    let untrack: () => void = () => undefined;
    const e = new EventChannels(h, () => untrack());
    untrack = this.track(e);
    return e;
  }

  /** A libxengnttab handle for mapping grants. */
  async grantTable(): Promise<GrantTable> {
    this.open_();
    const h = await call(this.addon.openGnttab());
    let untrack: () => void = () => undefined;
    const g = new GrantTable(h, () => untrack());
    untrack = this.track(g);
    return g;
  }

  /** A libxenforeignmemory handle for mapping guest frames. */
  async foreignMemory(): Promise<ForeignMemory> {
    this.open_();
    const h = await call(this.addon.openForeignMemory());
    let untrack: () => void = () => undefined;
    const f = new ForeignMemory(h, () => untrack());
    untrack = this.track(f);
    return f;
  }

  private open_(): void {
    if (!this.session) throw new Error('this Xen handle is closed; call Xen.open() again');
  }

  /** Closes every watch, console and handle opened through this object, then the session. Waits in flight finish with an error. */
  close(): void {
    for (const c of [...this.children]) c.close();
    this.children.clear();
    this.session?.close();
    this.session = undefined;
    pumpLog(this.addon);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
