/**
 * The host end of the dom0 control channel. Commands travel as files on the run share
 * (`ctl/<id>.sh`) and are started by a `RUN <id>` line on a virtio-serial port; dom0's agent
 * writes `ctl/<id>.out` / `.err` and answers `DONE <id> <code>`. The port carries only short
 * lines, so output of any size or bytes never needs framing.
 */
import { EXIT_TIMEOUT } from '@rumpxen/protocol';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TestbedError } from '../errors.js';
import { FileFollower } from './follow.js';
import { shellQuote } from './dom0-scripts.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the command, as seen from the host. */
  ms: number;
}

export interface ExecOptions {
  /** Kill the command (its whole session in dom0) and reject after this long. Default 60 s. */
  timeoutMs?: number;
  /** Working folder in dom0 (default: the repository share, or `/`). */
  cwd?: string;
  /** Environment variables exported for the command. */
  env?: Record<string, string>;
  /** Output as it is written (polled every 100 ms); the result still holds all of it. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

interface Pending {
  resolve: (r: { code: number }) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/** The control channel: a unix socket QEMU connects its virtserialport to. */
export class ControlChannel {
  private readonly server: Server;
  private socket?: Socket;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readyWaiters: Array<() => void> = [];
  private isReady = false;
  private closed = false;

  /** Listens on `socketPath`; commands go through `ctlDir` (the run share's `ctl/`). */
  constructor(
    readonly socketPath: string,
    private readonly ctlDir: string,
  ) {
    this.server = createServer((s) => this.attach(s));
    this.server.on('error', () => {
      // Reported through the waiters: QEMU exits when it cannot connect.
    });
    this.server.listen(socketPath);
  }

  private attach(s: Socket): void {
    this.socket?.destroy();
    this.socket = s;
    s.setEncoding('latin1');
    s.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.onLine(this.buffer.slice(0, nl).replace(/\r$/, ''));
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
    s.on('error', () => {
      // QEMU went away; stop() or the exit watcher reports it.
    });
  }

  private onLine(line: string): void {
    if (line === 'READY') {
      this.isReady = true;
      for (const w of this.readyWaiters.splice(0)) w();
      return;
    }
    const m = /^DONE (\S+) (\d+)$/.exec(line);
    if (m) {
      const p = this.pending.get(m[1]!);
      if (p) {
        this.pending.delete(m[1]!);
        if (p.timer) clearTimeout(p.timer);
        p.resolve({ code: Number(m[2]) });
      } else {
        this.cleanup(m[1]!);
      }
    }
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Resolves when dom0's agent has said READY. */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private cleanup(id: string): void {
    for (const ext of ['sh', 'out', 'err']) rmSync(join(this.ctlDir, `${id}.${ext}`), { force: true });
  }

  /** Runs `script` with dom0's `sh`; see ExecOptions. */
  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.closed) throw new TestbedError(`dom0 command '${script}' not run: the testbed is stopped`);
    if (!this.isReady || !this.socket) throw new TestbedError(`dom0 command '${script}' not run: dom0 is not ready yet (await Testbed.start() first)`);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const id = String(this.nextId++);
    const prelude: string[] = [];
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TestbedError(`environment variable name '${k}' is not valid for sh; use letters, digits and '_'`);
      prelude.push(`export ${k}=${shellQuote(v)}`);
    }
    if (opts.cwd) prelude.push(`cd ${shellQuote(opts.cwd)} || exit 125`);
    const body = [...prelude, script, ''].join('\n');
    writeFileSync(join(this.ctlDir, `${id}.sh`), body);
    const started = performance.now();
    const streams = opts.onOutput
      ? (['stdout', 'stderr'] as const).map((name) => ({ name, file: new FileFollower(join(this.ctlDir, `${id}.${name === 'stdout' ? 'out' : 'err'}`)), decoder: new StringDecoder('utf8') }))
      : [];
    const pump = () => {
      for (const s of streams) {
        const text = s.decoder.write(s.file.next());
        if (text) opts.onOutput!(text, s.name);
      }
    };
    const poller = streams.length ? setInterval(pump, 100) : undefined;
    const { code } = await new Promise<{ code: number }>((resolve, reject) => {
      const entry: Pending = { resolve, reject };
      entry.timer = setTimeout(() => {
        entry.resolve = () => this.cleanup(id);
        entry.reject = () => {};
        this.socket?.write(`KILL ${id}\n`);
        reject(new TestbedError(`dom0 command timed out after ${timeoutMs} ms and was killed: ${script}\n(raise ExecOptions.timeoutMs if it needs longer)`, EXIT_TIMEOUT));
      }, timeoutMs);
      this.pending.set(id, entry);
      this.socket!.write(`RUN ${id}\n`);
    }).finally(() => {
      if (poller) clearInterval(poller);
    });
    pump();
    for (const s of streams) {
      const rest = s.decoder.end();
      if (rest) opts.onOutput!(rest, s.name);
    }
    const read = (ext: string) => {
      const f = join(this.ctlDir, `${id}.${ext}`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    };
    const result = { code, stdout: read('out'), stderr: read('err'), ms: performance.now() - started };
    this.cleanup(id);
    return result;
  }

  /** Rejects every command still running and stops listening. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new TestbedError(`dom0 command ${id} did not finish: ${reason}`));
      this.pending.delete(id);
    }
    this.socket?.destroy();
    this.server.close();
  }
}
