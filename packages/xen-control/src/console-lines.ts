/**
 * What a domain's console reader does with the text it gets, whatever the source (the pty of
 * xenconsoled in `DomainConsole`, the ring itself in `ConsoleRing`): cut it into lines
 * (without line ends or CRs), notice the guest's exit line, hand the lines out as an async
 * iterator and find the next line matching a pattern within a deadline.
 */
import { parseExitLine } from '@rumpxen/protocol';

import { XenConfigError } from './errors.js';

export abstract class ConsoleLines implements AsyncIterableIterator<string>, Disposable {
  private readonly lines: string[] = [];
  private partial = '';
  protected ended = false;
  /** A read error to give the next reader (after the lines before it). */
  protected failure: Error | undefined;

  protected constructor(
    readonly domid: number,
    /** How errors name this reader: "console", "console ring". */
    private readonly label: string,
    /** What a timeout's message suggests looking at. */
    private readonly where: string,
    private readonly onExitStatus: (status: number) => void,
  ) {}

  /**
   * Waits until more output may have arrived, the reader ended, or timeoutMs passed
   * (Infinity: no limit); may resolve early.
   */
  protected abstract more(timeoutMs: number): Promise<void>;

  /** True once no more lines will come (the source ended or the reader was closed). */
  protected get done(): boolean {
    return this.ended;
  }

  abstract close(): void;

  /** Takes decoded text; returns how many complete lines it ended. */
  protected take(text: string): number {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) this.push(raw);
    return parts.length;
  }

  /** The source ended: what is left of a last line (and `rest`, undecoded until now) is a line. */
  protected finish(rest = ''): void {
    if (this.ended) return;
    const last = this.partial + rest;
    this.partial = '';
    if (last.length > 0) this.push(last);
    this.ended = true;
  }

  private push(raw: string): void {
    const line = raw.replace(/\r/g, '');
    const status = parseExitLine(line);
    if (status !== undefined) this.onExitStatus(status);
    this.lines.push(line);
  }

  /** The next line; done once the domain's output is all read (it shut down or is gone), or on close(). */
  async next(): Promise<IteratorResult<string>> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return { done: false, value: line };
      if (this.failure) throw this.failure;
      if (this.done) return { done: true, value: undefined };
      await this.more(Infinity);
    }
  }

  async return(): Promise<IteratorResult<string>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The next line matching re (lines before it are consumed), or an error after timeoutMs; the reader stays open. */
  async waitForLine(re: RegExp, timeoutMs = 30_000): Promise<string> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new XenConfigError('timeoutMs', `must be a non-negative number, got ${timeoutMs}`, 'pass e.g. 30000');
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (re.test(line)) return line;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) throw new Error(`domain ${this.domid} ${this.label} ended before a line matched ${re}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`domain ${this.domid} ${this.label}: no line matched ${re} within ${timeoutMs} ms; check ${this.where} or raise the timeout`);
      }
      await this.more(left);
    }
  }
}
