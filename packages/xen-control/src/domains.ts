/** Domains: list, look up, create (the libxl fast path), pause, shut down, destroy, wait. */
import { actionFor, shutdownReason, type DomainConfig, type ShutdownAction, type ShutdownReasonName } from '@rumpxen/protocol';
import { createRequest, type CreateConfig } from './config.js';
import { call, XenConfigError, XenError } from './errors.js';
import { enterCreation } from './inflight.js';
import type { ConsoleRing } from './console-ring.js';
import type { NativeConsoleRing, NativeDomainInfo, NativeSession } from './native.js';

export type DomainState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'dying' | 'idle';
/** SHUTDOWN_* by name (@rumpxen/protocol's SHUTDOWN_REASONS); `destroyed`: the domain was destroyed (by anyone) before it shut down; `unknown`: a code Xen does not define. */
export type ShutdownReason = ShutdownReasonName | 'destroyed' | 'unknown';

export interface DomainInfo {
  domid: number;
  name: string;
  uuid: string;
  state: DomainState;
  /** Set when state is `shutdown`. */
  shutdownReason?: ShutdownReason;
  /** Current memory, KiB. */
  memory: number;
  /** Maximum memory, KiB. */
  maxMemory: number;
  /** Online vcpus. */
  vcpus: number;
  /** CPU time used, seconds. */
  cpuTime: number;
}

/**
 * Where the direct path's create time went, in milliseconds measured inside the addon on a
 * monotonic clock (CLOCK_MONOTONIC), in the order the steps run. `build` of
 * CreatedDomain.timings is domain + image + memory + load; `xenstore` is nodes + introduce.
 */
export interface CreatePhases {
  /** From the call to the C library starting: the config check, the in-flight registration (exit and signal listeners), the hop to a pool thread. */
  dispatch: number;
  /** xc_domain_create, the vcpus, the CPUID policy, the memory limits, the two event channels. */
  domain: number;
  /** The kernel (and ramdisk) read (or taken from the image cache) and parsed by libxenguest. */
  image: number;
  /** The guest's memory populated. */
  memory: number;
  /** The image copied in, page tables, start info, vcpu context, grant table. */
  load: number;
  /** The xenstore nodes (console, memory, vcpus, guest config...), one transaction. */
  nodes: number;
  /** xs_introduce_domain: xenstored connects the guest's ring (and xenconsoled hears of it). */
  introduce: number;
  /** With `consoleRing: true`: the guest's console page mapped (before the unpause), else 0. */
  attach: number;
  /** xc_domain_unpause (0 with `paused: true`). */
  unpause: number;
  /** From the C library returning to the promise settling (the hop back to the JavaScript thread, the in-flight listeners removed). */
  settle: number;
  /** The kernel (and ramdisk) came from the image cache: the file was unchanged since an earlier create. */
  imageCached: boolean;
  /** The nodes went to xenstored pipelined in one write (false: one round trip each, when xenstored has no socket). */
  nodesBatched: boolean;
  /** Transactions the nodes took: more than 1 when xenstored refused a commit (EAGAIN: a concurrent write to a node it read, such as another domain's appearing under /local/domain) and it ran again. */
  nodesTries: number;
}

/** xc_physinfo's memory figures, in 4 KiB pages. */
export interface PhysInfo {
  totalPages: number;
  /** Pages no domain owns (what `xl info free_memory` reports, in MiB). */
  freePages: number;
  /** Free pages still to be scrubbed. */
  scrubPages: number;
  /** Pages claimed for domains being built. */
  outstandingPages: number;
}

export interface CreatedDomain {
  domid: number;
  name: string;
  /** Which path built it (see CreateOptions.engine). */
  engine: 'direct' | 'libxl';
  /**
   * Milliseconds building the domain (libxl_domain_create_new, or the direct builder), writing
   * xenstore, unpausing, and in all (the call, as JavaScript saw it); `phases`, for the direct
   * path, breaks build and xenstore down.
   */
  timings: { build: number; xenstore: number; unpause: number; total: number; phases?: CreatePhases };
  /** With `consoleRing: true`: the console ring reader, mapped before the guest first ran. */
  consoleRing?: ConsoleRing;
}

export interface ShutdownResult {
  domid: number;
  reason: ShutdownReason;
  /**
   * The image's exit status: what the guest wrote to its xenstore node
   * `data/rumpxen/exit-status` before shutting down (the rumpxen guest kernel
   * does, see EXIT_STATUS_NODE); else its `rumpxen: exit N` console line when a
   * console opened with `xen.console()` saw it; otherwise 0 for a poweroff
   * (the guest protocol powers off only for 0) and null when unknown.
   */
  exitStatus: number | null;
  /** The action applied: the domain's on_poweroff/on_crash, or the one passed in. */
  action: ShutdownAction;
}

/** Where a rumpxen guest writes its exit status, relative to its xenstore home /local/domain/<id>. */
export const EXIT_STATUS_NODE = 'data/rumpxen/exit-status';

/** The guest's exit-status node as an integer, or undefined when absent or not a 32-bit decimal (the guest is untrusted). */
export function parseExitStatusNode(raw: Buffer | undefined): number | undefined {
  if (raw === undefined || raw.length === 0 || raw.length > 11) return undefined;
  const text = raw.toString('latin1');
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= -0x80000000 && n <= 0x7fffffff ? n : undefined;
}

/** The name of a SHUTDOWN_* code as this API reports it (`unknown` for a code Xen does not define). */
export function shutdownReasonName(code: number): ShutdownReason {
  return shutdownReason(code) ?? 'unknown';
}

/**
 * Milliseconds on CLOCK_MONOTONIC, the clock the addon's C library times with
 * (process.hrtime reads it on Linux), so JavaScript and C timestamps compare.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function toInfo(n: NativeDomainInfo): DomainInfo {
  const state: DomainState = n.dying
    ? 'dying'
    : n.shutdown
      ? 'shutdown'
      : n.paused
        ? 'paused'
        : n.running
          ? 'running'
          : n.blocked
            ? 'blocked'
            : 'idle';
  const info: DomainInfo = {
    domid: n.domid,
    name: n.name,
    uuid: n.uuid,
    state,
    memory: n.memoryKb,
    maxMemory: n.maxMemoryKb,
    vcpus: n.vcpus,
    cpuTime: n.cpuTimeNs / 1e9,
  };
  if (n.shutdown) info.shutdownReason = shutdownReasonName(n.shutdownReason);
  return info;
}

export function checkDomid(id: unknown, field = 'domid'): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 0x7ff0) {
    throw new XenConfigError(field, `${JSON.stringify(id)} is not a domain id`, 'pass an integer from 0 to 32751 (see domains.list())');
  }
  return id;
}

export class Domains {
  private readonly actions = new Map<number, Pick<DomainConfig, 'on_poweroff' | 'on_reboot' | 'on_crash'>>();

  constructor(
    private readonly session: () => NativeSession,
    private readonly exitStatusOf: (domid: number) => number | undefined,
    private readonly beforeDestroy: (domid: number) => Promise<void> = async () => undefined,
    private readonly abortCreations: () => number = () => 0,
    /** Called before a domain is destroyed through this object: lets go of its mapped console rings. */
    private readonly releaseDomain: (domid: number) => void = () => undefined,
    /** Wraps (and tracks) the console ring a create opened. */
    private readonly adoptRing?: (domid: number, ring: NativeConsoleRing, attachedAtMs: number, attachMs: number) => ConsoleRing,
  ) {}

  async list(): Promise<DomainInfo[]> {
    return (await call(this.session().domainList())).map(toInfo);
  }

  /** A domain by id or by name. */
  async get(idOrName: number | string): Promise<DomainInfo> {
    return toInfo(await call(this.session().domainInfo(await this.resolve(idOrName))));
  }

  /** The domain id for a name (or the id itself). */
  async resolve(idOrName: number | string): Promise<number> {
    if (typeof idOrName === 'string') {
      if (idOrName.length === 0) throw new XenConfigError('name', 'is empty', 'pass a domain name or id');
      return call(this.session().domainLookup(idOrName));
    }
    return checkDomid(idOrName);
  }

  /**
   * Creates and starts a domain without xl: the direct builder or
   * libxl_domain_create_new with a config built in C (see CreateOptions.engine),
   * the guest config written to xenstore, then unpause.
   * A failure part way destroys the half-built domain before rejecting, and
   * so does the process ending meanwhile (exit, uncaught exception, SIGINT,
   * SIGTERM, SIGHUP: see inflight.ts).
   */
  async create(config: CreateConfig): Promise<CreatedDomain> {
    const t0 = performance.now();
    const m0 = monotonicMs();
    const req = createRequest(config);
    const leave = enterCreation(this.abortCreations);
    let r;
    try {
      r = await call(this.session().domainCreate(req.config, { direct: req.direct, paused: req.paused, consoleRing: req.consoleRing === true }));
    } finally {
      leave();
    }
    // As given, not defaulted: a reboot takes on_poweroff's action when on_reboot is not set (actionFor).
    this.actions.set(r.domid, { on_poweroff: config.on_poweroff, on_reboot: config.on_reboot, on_crash: config.on_crash });
    const timings: CreatedDomain['timings'] = { build: r.buildMs, xenstore: r.xenstoreMs, unpause: r.unpauseMs, total: performance.now() - t0 };
    if (req.direct) {
      timings.phases = {
        dispatch: Math.max(0, r.startedAtMs - m0),
        domain: r.domainMs,
        image: r.imageMs,
        memory: r.memoryMs,
        load: r.loadMs,
        nodes: r.nodesMs,
        introduce: r.introduceMs,
        attach: r.attachMs,
        unpause: r.unpauseMs,
        settle: Math.max(0, monotonicMs() - r.endedAtMs),
        imageCached: r.imageCached,
        nodesBatched: r.nodesBatched,
        nodesTries: r.nodesTries,
      };
    }
    const created: CreatedDomain = { domid: r.domid, name: req.config.name, engine: req.direct ? 'direct' : 'libxl', timings };
    if (r.ring) {
      if (this.adoptRing) created.consoleRing = this.adoptRing(r.domid, r.ring, r.ringAttachedAtMs ?? 0, r.attachMs);
      else r.ring.close();
    }
    return created;
  }

  async pause(id: number | string): Promise<void> {
    return call(this.session().domainPause(await this.resolve(id)));
  }

  async unpause(id: number | string): Promise<void> {
    return call(this.session().domainUnpause(await this.resolve(id)));
  }

  /** Asks the guest to power off or reboot (writes xenstore control/shutdown); resolves once asked, without waiting: the guest decides when (see waitForShutdown). */
  async shutdown(id: number | string, reason: 'poweroff' | 'reboot' = 'poweroff'): Promise<void> {
    if (reason !== 'poweroff' && reason !== 'reboot') {
      throw new XenConfigError('reason', `unsupported shutdown reason ${JSON.stringify(reason)}`, "use 'poweroff' or 'reboot'");
    }
    return call(this.session().domainShutdown(await this.resolve(id), reason === 'reboot'));
  }

  /**
   * Destroys the domain. One the direct path built (it has no /libxl/<domid>) is destroyed
   * without libxl: xc_domain_destroy, then its /local/domain/<id> and /vm/<uuid> nodes in one
   * xenstore batch; any other through libxl_domain_destroy (devices, backends and all).
   */
  async destroy(id: number | string): Promise<void> {
    const domid = await this.resolve(id);
    this.releaseDomain(domid);
    await call(this.session().domainDestroy(domid));
    this.actions.delete(domid);
  }

  /**
   * Resolves once the domain has shut down, with the reason and exit status,
   * then applies its on_poweroff/on_crash action (destroy by default) unless
   * `action` overrides it.  Does not block the event loop (waits on a thread).
   */
  async waitForShutdown(id: number | string, opts: { action?: ShutdownAction } = {}): Promise<ShutdownResult> {
    const domid = await this.resolve(id);
    if (opts.action !== undefined && opts.action !== 'destroy' && opts.action !== 'preserve') {
      throw new XenConfigError('action', `unknown action ${JSON.stringify(opts.action)}`, "use 'destroy' or 'preserve'");
    }
    await call(this.session().domainInfo(domid)); // a domain that never existed is an error, not a result
    let reason: ShutdownReason;
    try {
      reason = shutdownReasonName(await call(this.session().domainWaitShutdown(domid)));
    } catch (e) {
      if (!(e instanceof XenError && e.code === 'ESRCH')) throw e;
      reason = 'destroyed';
    }
    const action = opts.action ?? actionFor(this.actions.get(domid) ?? {}, reason);
    // An open console may still be draining the ring (and the exit line) from xenconsoled.
    await this.beforeDestroy(domid);
    const written = reason === 'destroyed' ? undefined : await this.readExitStatusNode(domid);
    const seen = written ?? this.exitStatusOf(domid);
    const exitStatus = seen !== undefined ? seen : reason === 'poweroff' ? 0 : null;
    if (action === 'destroy' && reason !== 'destroyed') {
      this.releaseDomain(domid);
      try {
        await call(this.session().domainDestroy(domid));
      } catch (e) {
        // Someone else finished it off between the shutdown and now.
        if (!(e instanceof XenError && e.code === 'ESRCH')) throw e;
      }
    }
    this.actions.delete(domid);
    return { domid, reason, exitStatus, action };
  }

  private async readExitStatusNode(domid: number): Promise<number | undefined> {
    try {
      return parseExitStatusNode(await call(this.session().xsRead(0, `/local/domain/${domid}/${EXIT_STATUS_NODE}`)));
    } catch (e) {
      if (e instanceof XenError && (e.code === 'ENOENT' || e.code === 'EACCES')) return undefined;
      throw e;
    }
  }

  /** Memory Xen has not given to any domain, KiB (libxl_get_free_memory). */
  async freeMemory(): Promise<number> {
    return call(this.session().freeMemory());
  }

  /** The hypervisor's own page counts (xc_physinfo): what a leak check compares before and after. */
  async physinfo(): Promise<PhysInfo> {
    return call(this.session().physinfo());
  }
}
