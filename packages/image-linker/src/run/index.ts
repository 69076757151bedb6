/**
 * `run`: start an image and stream its console, through one runner (runner.ts) of four, one
 * file each: host.ts (posix images as host processes), addon.ts and xl.ts (the local Xen host,
 * when /dev/xen/privcmd exists: through @rumpxen/xen-control's addon, or `xl` when the addon
 * cannot be loaded or opened, or when `via: 'xl'` / `RUMPXEN_XEN_VIA=xl` asks for it), and
 * testbed.ts (the embedded testbed, @rumpxen/xen-testbed: as the only domain when there are
 * no devices, as a DomU of a full testbed when there are). The testbed runner is imported only
 * for a run on the testbed, so no other run loads @rumpxen/xen-testbed. The exit code follows
 * the result protocol (XTF line, `rumpxen: exit N`, poweroff 0, crash 6, timeout 124).
 */
import { existsSync } from 'node:fs';
import { preparePassthrough } from '@rumpxen/pci-passthrough';
import { renderConfig } from '../config.js';
import { ImageLinkerError } from '../errors.js';
import { inspect } from '../inspect.js';
import { addonRunner, openXen } from './addon.js';
import { hostRunner } from './host.js';
import type { RunContext, RunHandle, RunOptions, RunResult, Runner, XenVia } from './runner.js';
import { xlRunner } from './xl.js';

export type { RunPlace, XenVia, RunOptions, RunResult, RunHandle, RunOutcome, RunContext, Runner } from './runner.js';
export { toDomainConfig } from './addon.js';
export { xenTool } from './xl.js';
export { declaresDom0 } from './dom0-rule.js';

const PRIVCMD = '/dev/xen/privcmd';

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
 * The runner for a local Xen host: the addon unless xl is asked for; xl when the addon cannot
 * be used and `via` allows it. With `pci`, each device is checked (or made assignable) first,
 * before any domain exists.
 */
async function xenRunner({ opts, cfg, progress }: RunContext): Promise<Runner> {
  if (!existsSync(PRIVCMD)) throw new ImageLinkerError('--on xen', `needs a Xen host, but ${PRIVCMD} does not exist here.`, 'Use --on testbed (or auto) to run on the embedded testbed.');
  const via = xenVia(opts.via);
  if (cfg.pci.length > 0) {
    // Before any domain exists: every device present, then on xen-pciback (made so with pciAssign).
    progress(`pci: ${opts.pciAssign ? 'making assignable' : 'checking that xen-pciback holds'} ${cfg.pci.join(', ')}`);
    const prepared = await preparePassthrough(cfg.pci, { assign: !!opts.pciAssign });
    for (const d of prepared.devices) progress(`pci: ${d.bdf} ${d.assigned && d.assigned.plan.action === 'assign' ? 'bound to xen-pciback (give it back with image-linker pci restore ' + d.bdf + ')' : 'is on xen-pciback'}`);
  }
  if (via !== 'xl') {
    // Not loadable (not built, no libxen*) or not openable (XenUnavailableError): xl instead, unless via is addon.
    const opened = await openXen();
    if ('xen' in opened) {
      progress("xen: starting the domain through @rumpxen/xen-control's Xen addon (no xl)");
      return addonRunner(opened.xen);
    }
    if (via === 'addon') throw new ImageLinkerError('--on xen with the Xen addon (via addon)', `cannot use @rumpxen/xen-control's addon: ${opened.why}`, 'Build it (npm run build in packages/xen-control; needs libxen-dev), or let it fall back to xl (RUMPXEN_XEN_VIA=auto or xl).', 1);
    progress(`xen: the xen-control Xen addon cannot be used (${opened.why}); falling back to xl`);
  }
  progress(`xen: starting the domain with xl${via === 'xl' ? ' (asked for: RUMPXEN_XEN_VIA=xl or via: xl)' : ''}`);
  return xlRunner;
}

/** Which runner runs the image: host for posix, the local Xen host's, or the testbed's (imported now, not before). */
async function pickRunner(ctx: RunContext): Promise<Runner> {
  const on = ctx.opts.on ?? 'auto';
  if (ctx.report.target === 'posix') return hostRunner;
  if (on === 'xen' || (on === 'auto' && existsSync(PRIVCMD))) return xenRunner(ctx);
  return (await import('./testbed.js')).testbedRunner;
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
      const cfg = renderConfig({
        image: opts.image,
        name: opts.name,
        type: report.target === 'xen-pvh' ? 'xen-pvh' : 'xen-pv',
        memoryMb: opts.memoryMb,
        vcpus: opts.vcpus,
        disks: opts.disks,
        nets: opts.nets,
        pci: opts.pci,
        env: opts.env,
        args: opts.args,
      });
      const ctx: RunContext = { opts, report, cfg, timeoutS, emit, progress };
      const runner = await pickRunner(ctx);
      const r = await runner.run(ctx);
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
