/**
 * A domain's console read straight from its ring (`xen.consoleRing(domid)`): the guest's
 * console page mapped read-only (grant 0, which the toolstack seeds for dom0, else the frame
 * in `console/ring-ref`) and followed with a cursor of our own. Nothing waits for
 * xenconsoled to notice the domain, map the ring and publish a pty, which is most of the
 * time from a create to the guest's first line through `xen.console()`.
 *
 * It only peeks: xenconsoled stays the ring's consumer, so `xen.console()`, its log and
 * console input work as before, side by side. The ring holds 2048 bytes: a guest that writes
 * faster than this reads (polling, 1 ms at first, backing off to 10 ms) overwrites bytes
 * before they are seen; they are counted in `lost`, never made up. Everything read from the
 * page is the guest's and is checked before use (its indices against the ring's size).
 * Output only: input goes through `xen.console()`.
 *
 * Close it before the domain is destroyed: the mapping holds the guest's page, and a
 * destroyed domain whose page is still mapped lingers (dying) until it is unmapped.
 * `domains.destroy()` and `domains.waitForShutdown()` close the rings opened through the same
 * `Xen` first.
 */
import { StringDecoder } from 'node:string_decoder';

import { ConsoleLines } from './console-lines.js';
import { call, XenError } from './errors.js';
import type { NativeConsoleRing } from './native.js';

/**
 * Milliseconds, measured in the addon on CLOCK_MONOTONIC; the `...At` fields are points on
 * that clock (`monotonicMs()`, process.hrtime's), to line up with a caller's own timestamps.
 */
export interface ConsoleRingTimings {
  /** Mapping the guest's console page. */
  attach: number;
  /** When the page was mapped. */
  attachedAt: number;
  /** From the page being mapped to the first complete line seen; undefined until one is. */
  firstLine?: number;
  /** When the reader first saw a complete line. */
  firstLineAt?: number;
}

/** One native read at most waits this long, so close() and deadlines are noticed promptly. */
const READ_SLICE_MS = 200;

export class ConsoleRing extends ConsoleLines {
  private readonly decoder = new StringDecoder('utf8');
  private closed = false;
  private pending: Promise<void> | undefined;
  private lostBytes = 0;
  readonly timings: ConsoleRingTimings;

  constructor(
    domid: number,
    private readonly ring: NativeConsoleRing,
    private readonly attachedAtMs: number,
    attachMs: number,
    onExitStatus: (status: number) => void = () => undefined,
    private readonly onClose: () => void = () => undefined,
  ) {
    super(domid, 'console ring', "the guest's output", onExitStatus);
    this.timings = { attach: attachMs, attachedAt: attachedAtMs };
  }

  /** Bytes the guest's ring overwrote before this reader saw them. */
  get lost(): number {
    return this.lostBytes;
  }

  /** One read of the ring (at most one in flight; a second caller waits for it). */
  private fill(timeoutMs: number): Promise<void> {
    this.pending ??= (async () => {
      try {
        const c = await call(this.ring.read(Math.max(0, Math.min(READ_SLICE_MS, Math.ceil(timeoutMs)))));
        this.lostBytes += c.lost;
        if (c.data.length > 0) this.takeAt(this.decoder.write(c.data), c.atMs);
        if (c.ended) this.finish(this.decoder.end());
      } catch (e) {
        // close() cancels a read in flight: that is the end, not an error.
        if (!(e instanceof XenError && e.code === 'ECANCELED' && this.closed)) throw e;
        this.finish(this.decoder.end());
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private takeAt(text: string, atMs: number): void {
    if (this.take(text) > 0 && this.timings.firstLine === undefined) {
      this.timings.firstLine = Math.max(0, atMs - this.attachedAtMs);
      this.timings.firstLineAt = atMs;
    }
  }

  protected more(timeoutMs: number): Promise<void> {
    return this.fill(Math.min(timeoutMs, READ_SLICE_MS));
  }

  protected override get done(): boolean {
    return this.ended || this.closed;
  }

  /** Unmaps the page; a read in flight ends (the iterator is done). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.close();
    this.onClose();
  }
}
