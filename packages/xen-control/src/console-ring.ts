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
import { parseExitLine } from '@rumpxen/protocol';

import { call, XenConfigError, XenError } from './errors.js';
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

export class ConsoleRing implements AsyncIterableIterator<string>, Disposable {
  private readonly lines: string[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private ended = false;
  private closed = false;
  private pending: Promise<void> | undefined;
  private lostBytes = 0;
  readonly timings: ConsoleRingTimings;

  constructor(
    readonly domid: number,
    private readonly ring: NativeConsoleRing,
    private readonly attachedAtMs: number,
    attachMs: number,
    private readonly onExitStatus: (status: number) => void = () => undefined,
    private readonly onClose: () => void = () => undefined,
  ) {
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
        if (c.data.length > 0) this.take(this.decoder.write(c.data), c.atMs);
        if (c.ended) this.finish();
      } catch (e) {
        // close() cancels a read in flight: that is the end, not an error.
        if (!(e instanceof XenError && e.code === 'ECANCELED' && this.closed)) throw e;
        this.finish();
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private take(text: string, atMs: number): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    if (parts.length > 0 && this.timings.firstLine === undefined) {
      this.timings.firstLine = Math.max(0, atMs - this.attachedAtMs);
      this.timings.firstLineAt = atMs;
    }
    for (const raw of parts) this.push(raw);
  }

  private push(raw: string): void {
    const line = raw.replace(/\r/g, '');
    const status = parseExitLine(line);
    if (status !== undefined) this.onExitStatus(status);
    this.lines.push(line);
  }

  private finish(): void {
    if (this.ended) return;
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.push(rest);
    this.ended = true;
  }

  /** The next line; done once the domain has shut down (or is gone) and its output is read, or on close(). */
  async next(): Promise<IteratorResult<string>> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return { done: false, value: line };
      if (this.ended || this.closed) return { done: true, value: undefined };
      await this.fill(READ_SLICE_MS);
    }
  }

  async return(): Promise<IteratorResult<string>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next line matching re (lines before it are consumed), or an error after timeoutMs. */
  async waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new XenConfigError('timeoutMs', `must be a non-negative number, got ${timeoutMs}`, 'pass e.g. 30000');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (re.test(line)) return line;
        continue;
      }
      if (this.ended || this.closed) throw new Error(`domain ${this.domid} console ring ended before a line matched ${re}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`domain ${this.domid} console ring: no line matched ${re} within ${timeoutMs} ms; check the guest's output or raise the timeout`);
      }
      await this.fill(left);
    }
  }

  /** Unmaps the page; a read in flight ends (the iterator is done). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.close();
    this.onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
