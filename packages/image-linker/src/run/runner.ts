/**
 * The runner interface every way of running an image implements (host.ts, addon.ts, xl.ts,
 * testbed.ts), the options and result of `run`, and the result protocol they all apply.
 */
import { decideVerdict, parseExitLine, parseResultLine, type EndKind, type VerdictResult } from '@rumpxen/protocol';
import type { RenderedConfig, DiskSpec, NetSpec } from '../config.js';
import type { ImageReport } from '../inspect.js';

export type RunPlace = 'auto' | 'xen' | 'testbed';
/** How a run on a local Xen host starts the domain: @rumpxen/xen-control's addon (no `xl`), or `xl`. */
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
   * On a local Xen host: `addon` (@rumpxen/xen-control's native addon, libxenctrl/libxenguest
   * or libxl, no `xl` process), `xl` (the xl toolstack), or `auto` (default: the addon, `xl`
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
  /** With `ranOn: 'xen'`: how the domain was started (`addon`: @rumpxen/xen-control's native addon, `xl`: the xl toolstack). */
  via?: 'addon' | 'xl';
  console: string[];
  durationMs: number;
}

/** A run in progress: its console as an async iterable, its result as a promise (await the handle itself for the result). */
export interface RunHandle extends PromiseLike<RunResult> {
  console: AsyncIterable<string>;
  result: Promise<RunResult>;
}

/** What a runner returns; `run` adds the console and the duration. */
export type RunOutcome = Omit<RunResult, 'durationMs' | 'console'>;

/** What a runner is given: the options, the image's report, its rendered config, and where its output goes. */
export interface RunContext {
  opts: RunOptions;
  report: ImageReport;
  cfg: RenderedConfig;
  timeoutS: number;
  /** Each console line, as it arrives. */
  emit: (line: string) => void;
  /** Progress lines. */
  progress: (line: string) => void;
}

/** One way of running an image: start it, stream its console to `ctx.emit`, and judge its end. */
export interface Runner {
  readonly name: 'host' | 'addon' | 'xl' | 'testbed';
  run(ctx: RunContext): Promise<RunOutcome>;
}

/**
 * The result protocol (@rumpxen/protocol's `decideVerdict`: XTF line, `rumpxen: exit N`,
 * poweroff 0, crash 6, timeout 124) for a host process or a run on a local Xen host. A host
 * process that printed neither a result line nor an exit line is judged by its exit status.
 */
export function judge(lines: string[], end: EndKind, timeoutS: number, processCode?: number): VerdictResult {
  if (processCode !== undefined && end !== 'timeout' && !lines.some((l) => parseResultLine(l) !== undefined || parseExitLine(l) !== undefined)) {
    return { exitCode: processCode, verdict: processCode === 0 ? 'SUCCESS' : 'FAILURE', reason: `the program exited with status ${processCode}` };
  }
  return decideVerdict({ guestLines: lines, end, timeoutS });
}
