/** The host runner: a posix image as a host process, argv and env from the rendered config. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ImageLinkerError } from '../errors.js';
import { judge, type RunContext, type RunOutcome, type Runner } from './runner.js';

async function runHost({ opts, cfg, emit, timeoutS }: RunContext): Promise<RunOutcome> {
  const env = Object.fromEntries(cfg.guest.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const child = spawn(resolve(opts.image), cfg.guest.argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], argv0: cfg.guest.argv[0] });
  const lines: string[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      emit(l);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutS * 1000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r, reject) => {
    child.on('error', (e) => reject(new ImageLinkerError(opts.image, `could not be started (${(e as NodeJS.ErrnoException).code}).`, 'Build the image for posix on this host (image-linker build --target posix).')));
    child.on('close', (c, sig) => r({ code: c, signal: sig }));
  });
  clearTimeout(timer);
  if (partial) {
    lines.push(partial);
    emit(partial);
  }
  // Killed by a signal: a crash (verdict CRASH, 6); else its exit status, unless it printed a result or exit line.
  if (timedOut) return { ...judge(lines, 'timeout', timeoutS), ranOn: 'host' };
  if (code === null) return { ...judge(lines, 'crash', timeoutS, undefined), reason: `the program was killed by ${signal ?? 'a signal'}`, ranOn: 'host' };
  return { ...judge(lines, code === 0 ? 'poweroff' : 'crash', timeoutS, code), ranOn: 'host' };
}

export const hostRunner: Runner = { name: 'host', run: runHost };
