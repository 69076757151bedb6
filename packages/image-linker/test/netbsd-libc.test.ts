/**
 * A NetBSD program with NetBSD's own libc booted under Xen: examples/netbsd-libc-hello/hello.c, built by the
 * image-linker from its manifest (`"libc": "netbsd"`, component `vfs`), run on xen-pv and
 * xen-pvh as Xen's only domain (the image-linker's `run`, arguments and environment on the
 * kernel command line) and as DomUs of a full testbed (arguments and environment from the
 * guest config in xenstore). Each run is checked against what the arguments make it print:
 * printf's %d/%.3f/%s, getenv, errno from the rump kernel through libc, malloc/realloc of
 * megabytes, fork failing with ENOSYS, write(2) on fd 2, the unterminated last line that only
 * exit's stdio flush prints, and the exit status given.
 *
 * NetBSD's libc build is made here when missing (about two minutes on top of the kernel
 * build that `npm test` makes first); the image-linker runs as its built CLI.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fullTestbed } from './full-testbed.js';
import { CLI, cli, libcTestFolder } from './netbsd-libc-setup.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-libc-hello', 'rumpxen.json');
const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

interface Run {
  n: number;
  x: number;
  word: string;
  status: number;
  greeting: string;
}

/** What hello.c prints for its arguments, computed here. */
function expectedLines(r: Run): string[] {
  const size = r.n * 100000;
  return [
    `${r.n * 6} ${Math.sqrt(r.x).toFixed(3)} ${r.word}`,
    `env GREETING=${r.greeting}`,
    'open: -1, errno 2 (No such file or directory)',
    `heap ${size * 2} ${r.n.toString(16).padStart(5, '0')}`,
    'netbsd-libc: fork: no processes in a rumpxen domain (one program, no fork or exec), so it fails with ENOSYS',
    'fork: -1, errno 78 (Function not implemented)',
    'write(2) on fd 2',
    `exiting with ${r.status}`,
    `rumpxen: exit ${r.status}`,
  ];
}

function argv(r: Run): string[] {
  return [String(r.n), String(r.x), r.word, String(r.status)];
}

/** The program's lines (from its first line on) in the console. */
function programLines(lines: string[], r: Run): string[] {
  const first = lines.findIndex((l) => l.startsWith(`${r.n * 6} `));
  return first < 0 ? [] : lines.slice(first).filter((l) => l.trim() !== '');
}


const images: Partial<Record<Target, string>> = {};

libcTestFolder('netbsd-libc-test', async (dir) => {
  for (const target of TARGETS) {
    const out = join(dir, `hello.${target}`);
    const b = cli(['build', MANIFEST, '--target', target, '-o', out]);
    expect(b.code, b.stderr).toBe(0);
    images[target] = out;
  }
}, 900_000);


describe('a NetBSD libc program as the only domain', () => {
  const runs: Record<Target, Run> = {
    'xen-pv': { n: 7, x: 2, word: 'hello', status: 3, greeting: 'from-the-command-line' },
    'xen-pvh': { n: 3, x: 10.5, word: 'pvh', status: 0, greeting: 'pvh-env' },
  };
  for (const target of TARGETS) {
    it(`${target}: printf, getenv, errno, malloc, fork, write(2) and exit(${runs[target].status})`, () => {
      const r = runs[target];
      const run = cli(['run', images[target]!, '--on', 'testbed', '--timeout', '120', '--env', `GREETING=${r.greeting}`, '--', ...argv(r)]);
      const lines = run.stdout.split('\n');
      const why = `${run.stdout}\n${run.stderr}`;
      expect(programLines(lines, r), why).toEqual(expectedLines(r));
      expect(run.code, why).toBe(r.status);
    }, 300_000);
  }
});

describe('a NetBSD libc program in DomUs of a full testbed', () => {
  const testbed = fullTestbed();

  const runs: Record<Target, Run> = {
    'xen-pv': { n: 5, x: 6.25, word: 'domu', status: 7, greeting: 'from-xenstore' },
    'xen-pvh': { n: 2, x: 0.5, word: 'pvh-domu', status: 0, greeting: 'pvh-xenstore' },
  };
  for (const target of TARGETS) {
    it(`${target}: argv and env from the guest config, exit(${runs[target].status}) as the domain's end`, async () => {
      const tb = testbed();
      const r = runs[target];
      const cfg = { argv: ['hello', ...argv(r)], env: [`GREETING=${r.greeting}`] };
      const domu = await tb.createDomU({
        kernel: images[target]!, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv', name: `nblibc-${target}`,
        xenstore: { 'rumpxen/cfg': JSON.stringify(cfg) },
      });
      try {
        const res = await domu.wait({ timeoutMs: 120_000 });
        const why = res.console.join('\n');
        expect(programLines(res.console, r), why).toEqual(expectedLines(r));
        expect(res.exitCode, why).toBe(r.status);
        // exit(0) powers the domain off; any other status ends it as a crash.
        expect(res.end, why).toEqual(r.status === 0 ? { kind: 'shutdown', reasonCode: 0 } : { kind: 'crashed' });
      } finally {
        await domu.destroy().catch(() => undefined);
      }
    }, 300_000);
  }
});
