// What the image-linker benches share: their command line, progress output, a scratch folder
// removed on exit or signal, and the least-memory bisection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Parses a bench's command line: `--help` prints `usage` and `about` and exits 0; `numbers`
 * are `--name N` options (positive whole numbers, with their defaults); `flags` are bare
 * switches; `targets` (when given) is a `--targets a,b` option limited to xen-pv and xen-pvh,
 * defaulting to its `env` variable, then to `dflt`. Anything else is an error (exit 2) that
 * names it.
 * @param {{ script: string, usage: string, about: string, numbers?: Record<string, number>,
 *   flags?: string[], targets?: { env: string, dflt: string } }} spec
 * @returns {{ num: Record<string, number>, flag: Record<string, boolean>, targets: string[] }}
 */
export function benchArgs(spec, argv = process.argv.slice(2)) {
  const fail = (why) => {
    console.error(`bench/${spec.script}: ${why}; usage: ${spec.usage}`);
    process.exit(2);
  };
  if (argv.includes('--help')) {
    console.log(`usage: ${spec.usage}\n${spec.about}`);
    process.exit(0);
  }
  const numbers = spec.numbers ?? {};
  const num = { ...numbers };
  const flag = Object.fromEntries((spec.flags ?? []).map((f) => [f, false]));
  let targets = spec.targets ? (process.env[spec.targets.env] ?? spec.targets.dflt).split(',') : [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name !== undefined && name in flag) {
      flag[name] = true;
    } else if (name !== undefined && (name in numbers || (name === 'targets' && spec.targets))) {
      const value = argv[++i];
      if (value === undefined) fail(`--${name} needs a value`);
      if (name === 'targets') {
        targets = value.split(',');
      } else {
        const v = Number(value);
        if (!Number.isInteger(v) || v <= 0) fail(`--${name} needs a positive whole number, not ${value}`);
        num[name] = v;
      }
    } else {
      fail(`unknown argument ${argv[i]}`);
    }
  }
  for (const t of targets) if (t !== 'xen-pv' && t !== 'xen-pvh') fail(`target ${t}: only xen-pv and xen-pvh`);
  return { num, flag, targets };
}

/** One progress line on stderr (the figures go to stdout). */
export const progress = (line) => process.stderr.write(`bench: ${line}\n`);

/**
 * A scratch folder under `parent` (the system's temporary folder unless given), removed by
 * the returned `cleanup` and on SIGINT/SIGTERM (the signal is then raised again, so the
 * process still ends by it).
 */
export function scratchDir(prefix, parent = tmpdir()) {
  const dir = mkdtempSync(join(parent, prefix));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      cleanup();
      process.kill(process.pid, sig);
    });
  }
  return { dir, cleanup };
}

/** Why a probe run did not count as running: a timeout, a crash, or its exit code. */
export const verdictWhy = (exitCode, verdict) =>
  exitCode === 124 ? 'hangs (timeout)' : verdict === 'CRASH' ? 'crash' : `exit ${exitCode}`;

/**
 * The least memory in [lo, hi] MiB that `runsAt(mib)` (resolving `{ ok, why }`) says runs:
 * hi is probed first (nothing below it is tried if it fails), then lo, then a bisection
 * between them. Each probe is a progress line under `label`; `probes` lists them.
 * @returns {Promise<{ least?: number, probes: string[], note?: string }>}
 */
export async function bisectLeastMemory(label, lo, hi, runsAt) {
  const probes = [];
  const probe = async (m) => {
    const r = await runsAt(m);
    probes.push(`${m}:${r.ok ? 'ok' : r.why}`);
    progress(`${label}: ${m} MiB ${r.ok ? 'runs' : `does not run (${r.why})`}`);
    return r.ok;
  };
  if (!(await probe(hi))) return { least: undefined, probes, note: `does not run even in ${hi} MiB` };
  if (await probe(lo)) return { least: lo, probes, note: `runs in ${lo} MiB, the lower end of the search` };
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await probe(mid)) hi = mid;
    else lo = mid;
  }
  return { least: hi, probes };
}
