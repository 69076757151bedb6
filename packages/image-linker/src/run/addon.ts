/**
 * The addon runner, on a local Xen host through @rumpxen/xen-control's addon (no xl): the
 * domain is created paused (the `direct` builder for PV without devices, libxl otherwise)
 * with the guest config in xenstore, its console (xenconsoled's pty) opened, then unpaused;
 * `waitForShutdown` gives the end, and the domain is destroyed at the end, at the timeout,
 * or on SIGINT/SIGTERM.
 */
import { Xen, XenConfigError, XenError, type DomainConfig, type ShutdownResult } from '@rumpxen/xen-control';
import { GUEST_CONFIG_XENSTORE_KEY, type RenderedConfig } from '../config.js';
import { ImageLinkerError } from '../errors.js';
import { judge, type RunContext, type RunOutcome, type Runner } from './runner.js';

/**
 * A rendered config as the DomainConfig the addon creates: its domain (the one model) without
 * the command line, the guest config going to xenstore `rumpxen/cfg` before unpause instead.
 */
export function toDomainConfig(cfg: RenderedConfig): DomainConfig {
  const { name, kernel, type, memory, vcpus, disks, vifs, pci } = cfg.domain;
  return { name, kernel, type, memory, vcpus, disks, vifs, pci, guestConfig: cfg.guest };
}

/** Opens the addon's Xen session; what went wrong when it cannot (not built, no Xen 4.17 libraries, no Xen). */
export async function openXen(): Promise<{ xen: Xen } | { why: string }> {
  try {
    return { xen: await Xen.open() };
  } catch (e) {
    return { why: (e as Error).message.split('\n')[0]! };
  }
}

async function runAddon(xen: Xen, { cfg, emit, timeoutS, progress }: RunContext): Promise<RunOutcome> {
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

/** The addon runner on an open session (`openXen`), which it closes when the run ends. */
export function addonRunner(xen: Xen): Runner {
  return {
    name: 'addon',
    async run(ctx) {
      try {
        return await runAddon(xen, ctx);
      } finally {
        xen.close();
      }
    },
  };
}
