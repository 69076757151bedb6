/**
 * The xl runner, on a local Xen host with the xl toolstack: `xl create -p` (the domain kept
 * after it ends, so its end can be read), the guest config into xenstore, `xl console`
 * attached, `xl unpause`; the end is polled with `xl list -v` once a second (SHUTDOWN_*
 * reasons as @rumpxen/protocol numbers them), then the domain is destroyed. `run` takes it
 * when @rumpxen/xen-control's addon cannot be used, or when xl is asked for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHUTDOWN } from '@rumpxen/protocol';
import { GUEST_CONFIG_XENSTORE_KEY } from '../config.js';
import { ImageLinkerError } from '../errors.js';
import { judge, type RunContext, type RunOutcome, type Runner } from './runner.js';

/**
 * Where the Xen tools (`xl`, `xenstore-write`, `xenstore-chmod`) are looked up: the folder
 * named by `RUMPXEN_XEN_BIN` when set, else PATH.
 */
export function xenTool(name: string): string {
  const dir = process.env.RUMPXEN_XEN_BIN;
  return dir ? join(dir, name) : name;
}

function sh(cmd: string, args: string[], input?: string): Promise<{ code: number; out: string; missing?: boolean }> {
  return new Promise((r) => {
    const c = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    if (input !== undefined) c.stdin!.end(input);
    c.on('error', (e: NodeJS.ErrnoException) => r({ code: 127, out: `${cmd}: ${e.code === 'ENOENT' ? 'not found' : e.message}`, missing: e.code === 'ENOENT' }));
    c.on('close', (code) => r({ code: code ?? 1, out }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How a domain stands, from `xl list -v NAME`: running/paused, shut down (with SHUTDOWN_* reason), crashed, or gone. */
async function xlState(name: string): Promise<{ kind: 'running' } | { kind: 'shutdown'; reason: number } | { kind: 'crashed' } | { kind: 'gone' }> {
  const r = await sh(xenTool('xl'), ['list', '-v', name]);
  const row = r.code === 0 ? r.out.split('\n').find((l) => l.startsWith(`${name} `)) : undefined;
  if (!row) return { kind: 'gone' };
  // Name ID Mem VCPUs State Time(s) UUID Reason-Code ...; State is "rbpscd" with '-' for unset flags.
  const f = row.trim().split(/\s+/);
  const state = f[4] ?? '';
  if (state[4] === 'c') return { kind: 'crashed' };
  if (state[3] === 's') return { kind: 'shutdown', reason: Number(f[7] ?? 0) };
  return { kind: 'running' };
}

/** Needs `xl`, `xenstore-write` and `xenstore-chmod` (xenTool); destroys the domain however the run ends, also on SIGINT/SIGTERM. */
async function runXl({ cfg, emit, timeoutS, progress }: RunContext): Promise<RunOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'image-linker-xl-'));
  const xl = xenTool('xl');
  let created = false;
  let con: ReturnType<typeof spawn> | undefined;
  const destroy = () => (created ? sh(xl, ['destroy', cfg.name]) : Promise.resolve({ code: 0, out: '' }));
  const onSignal = (sig: NodeJS.Signals) => {
    con?.kill();
    void destroy().finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const cfgPath = join(dir, `${cfg.name}.cfg`);
    writeFileSync(cfgPath, cfg.xl);
    progress(`xl create -p ${cfgPath}`);
    // KEY=VALUE after the file overrides it: keep the domain when it ends, so its end is readable.
    const create = await sh(xl, ['create', '-p', '-q', cfgPath, 'on_poweroff="preserve"', 'on_reboot="preserve"', 'on_crash="preserve"']);
    if (create.missing) {
      throw new ImageLinkerError(`--on xen (${xl})`, 'needs the Xen toolstack, but xl was not found.', 'Install it (Debian: apt-get install xen-utils), put xl and xenstore-* on PATH, or name their folder in RUMPXEN_XEN_BIN.', 1);
    }
    if (create.code !== 0) throw new ImageLinkerError(cfg.kernel, `could not be started by xl: ${create.out.trim()}`, 'Check that xl works on this host (run as root, xencommons started) and that no domain is named ' + cfg.name + ' already (xl list).', 1);
    created = true;
    const domid = (await sh(xl, ['domid', cfg.name])).out.trim();
    if (!/^\d+$/.test(domid)) throw new ImageLinkerError(cfg.name, `was created but xl domid answered: ${domid}`, 'Check the host with xl list.', 1);
    // The guest reads its config at boot: write it while the domain is paused, owned by the domain.
    const base = `/local/domain/${domid}`;
    const dirKey = `${base}/${GUEST_CONFIG_XENSTORE_KEY.split('/')[0]}`;
    const key = `${base}/${GUEST_CONFIG_XENSTORE_KEY}`;
    for (const [cmd, args] of [
      ['xenstore-write', ['-R', key, cfg.guestJson]],
      ['xenstore-chmod', [dirKey, `n${domid}`]],
      ['xenstore-chmod', [key, `n${domid}`]],
    ] as const) {
      const r = await sh(xenTool(cmd), [...args]);
      if (r.code !== 0) throw new ImageLinkerError(key, `could not be written with ${cmd}: ${r.out.trim()}`, 'Install the xenstore tools (Debian: xenstore-utils) or name their folder in RUMPXEN_XEN_BIN.', 1);
    }
    progress(`created ${cfg.name} (domid ${domid}), config in xenstore ${key}; unpausing`);
    const lines: string[] = [];
    // xenconsole ends at EOF on its stdin: give it a pipe that stays open.
    con = spawn(xl, ['console', cfg.name], { stdio: ['pipe', 'pipe', 'pipe'] });
    let consoleClosed = false;
    const closed = new Promise<void>((r) => con!.on('close', () => ((consoleClosed = true), r())));
    con.on('error', () => {});
    let partial = '';
    con.stdout!.on('data', (d: Buffer) => {
      partial += d.toString().replace(/\r/g, '');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        emit(l);
      }
    });
    const unpause = await sh(xl, ['unpause', cfg.name]);
    if (unpause.code !== 0) throw new ImageLinkerError(cfg.name, `could not be unpaused: ${unpause.out.trim()}`, 'Check the host with xl list.', 1);
    const deadline = Date.now() + timeoutS * 1000;
    let end: 'poweroff' | 'crash' | 'timeout' = 'timeout';
    for (;;) {
      const st = await xlState(cfg.name);
      if (st.kind === 'crashed' || (st.kind === 'shutdown' && st.reason !== SHUTDOWN.poweroff && st.reason !== SHUTDOWN.reboot) || st.kind === 'gone') {
        end = 'crash';
        break;
      }
      if (st.kind === 'shutdown') {
        end = 'poweroff';
        break;
      }
      if (Date.now() >= deadline) break;
      await Promise.race([sleep(1000), closed]);
      if (consoleClosed) await sleep(200);
    }
    // Let xenconsoled pass on the ring's last bytes before the console goes.
    if (!consoleClosed) await Promise.race([sleep(500), closed]);
    con.kill();
    await closed;
    if (partial) {
      lines.push(partial);
      emit(partial);
    }
    return { ...judge(lines, end, timeoutS), ranOn: 'xen', via: 'xl' };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    con?.kill();
    await destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const xlRunner: Runner = { name: 'xl', run: runXl };
