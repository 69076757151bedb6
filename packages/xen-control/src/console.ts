/**
 * A domain's console through xenconsoled: the pty whose path xenconsoled
 * publishes at /local/domain/<id>/console/tty, read as lines and written raw.
 */
import { closeSync, constants, openSync, write as fsWrite } from 'node:fs';
import { ReadStream } from 'node:tty';

import { ConsoleLines } from './console-lines.js';
import { XenConfigError } from './errors.js';
import { loadAddon } from './native.js';
import type { XenStore } from './xenstore.js';

export interface ConsoleOptions {
  /** How long to wait for xenconsoled to publish the pty, ms. Default 10000. */
  timeoutMs?: number;
}

/** Console output as an async iterable of lines (without line ends), and a writer for input. */
export class DomainConsole extends ConsoleLines {
  private waiter: (() => void) | undefined;
  private lastDataAt = performance.now();
  private readonly stream: ReadStream;
  private writeFd: number;

  private constructor(
    domid: number,
    readonly ttyPath: string,
    readFd: number,
    writeFd: number,
    onExitStatus: (status: number) => void,
  ) {
    super(domid, 'console', "the guest's output (xenconsoled log)", onExitStatus);
    this.writeFd = writeFd;
    // Raw: no echo (echo would send the guest's output back to it as input), no CR/LF rewriting.
    loadAddon().ttyMakeRaw(readFd);
    this.stream = new ReadStream(readFd);
    this.stream.on('data', (chunk: Buffer) => {
      this.lastDataAt = performance.now();
      this.take(chunk.toString('utf8'));
      this.wake();
    });
    this.stream.on('end', () => this.end());
    this.stream.on('error', (e: NodeJS.ErrnoException) => {
      // EIO: xenconsoled closed the pty's other side because the domain is gone.
      if (e.code !== 'EIO') this.failure = e;
      this.end();
    });
  }

  /** Opens the console of domid, waiting for xenconsoled to publish its pty. */
  static async open(xs: XenStore, domid: number, onExitStatus: (status: number) => void, opts: ConsoleOptions = {}): Promise<DomainConsole> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new XenConfigError('timeoutMs', `must be a non-negative number, got ${timeoutMs}`, 'pass e.g. { timeoutMs: 10000 }');
    const key = `/local/domain/${domid}/console/tty`;
    const deadline = Date.now() + timeoutMs;
    let tty: string | undefined;
    for (;;) {
      tty = (await xs.readOptional(key))?.trim();
      if (tty) break;
      if (Date.now() >= deadline) {
        throw new XenConfigError(`domain ${domid} console`, `xenconsoled did not publish ${key} within ${timeoutMs} ms`, 'check that xenconsoled runs in dom0 and that the domain exists');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return DomainConsole.fromTty(tty, domid, onExitStatus);
  }

  /** Opens a console on a known pty path (xenconsoled's, or any tty that carries a guest console). */
  static fromTty(tty: string, domid: number, onExitStatus: (status: number) => void = () => undefined): DomainConsole {
    const readFd = openSync(tty, constants.O_RDWR | constants.O_NOCTTY);
    let writeFd: number;
    try {
      writeFd = openSync(tty, constants.O_WRONLY | constants.O_NOCTTY);
    } catch (e) {
      closeSync(readFd);
      throw e;
    }
    try {
      return new DomainConsole(domid, tty, readFd, writeFd, onExitStatus);
    } catch (e) {
      closeSync(readFd);
      closeSync(writeFd);
      throw e;
    }
  }

  private end(): void {
    this.finish();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  protected more(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => this.wake(), timeoutMs) : undefined;
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Resolves once no output has arrived for quietMs (or the console ended),
   * at most maxMs: lets xenconsoled drain the ring of a domain that just shut
   * down before the domain is destroyed.
   */
  async settle(quietMs = 150, maxMs = 2000): Promise<void> {
    const deadline = performance.now() + maxMs;
    while (!this.ended && performance.now() < deadline) {
      const idle = performance.now() - this.lastDataAt;
      if (idle >= quietMs) return;
      await new Promise((r) => setTimeout(r, quietMs - idle));
    }
  }

  /** Sends input to the guest. */
  async write(data: string | Buffer): Promise<void> {
    if (this.writeFd < 0) throw new Error(`domain ${this.domid} console is closed; open a new one with xen.console(${this.domid})`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) {
      off += await new Promise<number>((resolve, reject) =>
        fsWrite(this.writeFd, buf, off, buf.length - off, null, (e, n) => (e ? reject(e) : resolve(n))),
      );
    }
  }

  close(): void {
    if (this.writeFd >= 0) {
      closeSync(this.writeFd);
      this.writeFd = -1;
    }
    this.stream.destroy();
    this.end();
  }
}
