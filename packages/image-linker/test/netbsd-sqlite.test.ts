/**
 * A real-world C program, unmodified, in a DomU with NetBSD's libc: SQLite's amalgamation
 * (3.54.1, as the better-sqlite3 npm package ships it; fetched with `npm pack` and checked by
 * examples/netbsd-sqlite/prepare.mjs) with the small driver examples/netbsd-sqlite/main.c.
 * The program is compiled with @rumpxen/netbsd-libc's driver `rumpxen-cc` (SQLite's object
 * cached by the hash of its source and flags) and linked by the image-linker's CLI
 * (`build APP.o --libc netbsd --component vfs --component fs_tmpfs`) for xen-pv and xen-pvh;
 * the manifest examples/netbsd-sqlite/rumpxen.json builds it too (xen-pv here). Each image is
 * booted as a DomU of a full testbed: it mounts a tmpfs on /tmp, runs script.sql on a
 * database there (transactions, a ROLLBACK and a savepoint, indexes and their query plans,
 * joins, aggregates, a window function), closes and re-opens the file and checks what
 * persisted. Its console must match, line for line, the same driver and amalgamation built
 * with the host's cc and glibc and run on the host; its exit status must be 0.
 *
 * Set-up (fetch, host build, three compiles of the ~9 MB sqlite3.c, each about 20-30 s, two
 * of them cached for the next run) takes a minute or two; NetBSD's libc is built first when the cache lacks it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildHostProgram, buildWithDriver, MANIFEST, prepareSqlite, runHostProgram, SQLITE_PACKAGE } from '../../../examples/netbsd-sqlite/prepare.mjs';
import { fullTestbed } from './full-testbed.js';
import { CLI, cli, libcTestFolder } from './netbsd-libc-setup.js';

const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

/** The driver's own lines: from "sqlite <version>" to "done" (the guest kernel's lines around them dropped). */
function programLines(lines: string[]): string[] {
  const clean = lines.map((l) => l.replace(/\r$/, ''));
  const first = clean.findIndex((l) => l.startsWith('sqlite '));
  if (first < 0) return [];
  const last = clean.indexOf('done', first);
  return clean.slice(first, last < 0 ? undefined : last + 1);
}

/** The CLI with room for compiling sqlite3.c (the manifest's build has no object cache). */
const slowCli = (args: string[]) => cli(args, 900_000);

/** The images booted: built with rumpxen-cc per target, and from the manifest. */
const images: Record<string, string> = {};
const BOOTS: Array<{ key: string; target: Target; how: string }> = [
  { key: 'cc.xen-pv', target: 'xen-pv', how: 'built with rumpxen-cc' },
  { key: 'cc.xen-pvh', target: 'xen-pvh', how: 'built with rumpxen-cc' },
  { key: 'manifest.xen-pv', target: 'xen-pv', how: 'built from rumpxen.json' },
];
let expected: string[] = [];
let host: { code: number; stdout: string; stderr: string };

libcTestFolder('netbsd-sqlite-test', async (dir) => {
  prepareSqlite({ onProgress: (l) => console.error(l) });
  const h = buildHostProgram(join(dir, 'host'));
  if (h.compileSeconds) console.log(`sqlite3.c for the host compiled in ${h.compileSeconds.toFixed(1)} s`);
  host = runHostProgram(h.program);
  expected = programLines(host.stdout.split('\n'));
  for (const target of TARGETS) {
    const t1 = Date.now();
    const d = await buildWithDriver(target, join(dir, 'cc'), { onProgress: (l) => console.error(l) });
    if (d.compileSeconds) console.log(`sqlite3.c for ${target} compiled with rumpxen-cc in ${d.compileSeconds.toFixed(1)} s`);
    const out = join(dir, `netbsd-sqlite.cc.${target}`);
    const b = slowCli(['build', d.app, '--libc', 'netbsd', '--target', target, ...d.components.flatMap((c) => ['--component', c]), '-o', out]);
    expect(b.code, b.stderr).toBe(0);
    console.log(`netbsd-sqlite for ${target} with rumpxen-cc: ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    images[`cc.${target}`] = out;
  }
  const out = join(dir, 'netbsd-sqlite.manifest.xen-pv');
  const t2 = Date.now();
  const b = slowCli(['build', MANIFEST, '--target', 'xen-pv', '-o', out]);
  expect(b.code, b.stderr).toBe(0);
  console.log(`netbsd-sqlite for xen-pv from its manifest (sqlite3.c compiled, no cache): ${((Date.now() - t2) / 1000).toFixed(1)} s`);
  images['manifest.xen-pv'] = out;
}, 1_800_000);


describe('SQLite built with the host C library', () => {
  it('runs the whole script and reports what persisted (the expected output)', () => {
    const why = `${host.stdout}\n${host.stderr}`;
    expect(host.code, why).toBe(0);
    expect(expected[0], why).toBe(`sqlite ${SQLITE_PACKAGE.sqliteVersion}`);
    expect(expected.at(-1), why).toBe('done');
    // Spot checks, so that a host run that went wrong in the same way as a DomU run cannot pass.
    expect(expected, why).toContain('rolled back|3000|14994|0');
    expect(expected, why).toContain('reopened|41|3000|14994');
    expect(expected, why).toContain('persisted|last-one|Oslo');
    expect(expected, why).toContain('clock after 2020|1');
    expect(expected.filter((l) => l === 'ok'), why).toHaveLength(2);
  });
});

describe('SQLite in DomUs of a full testbed (NetBSD libc, tmpfs)', () => {
  const testbed = fullTestbed();

  for (const { key, target, how } of BOOTS) {
    it(`${target}, ${how}: the console matches the host's output line for line, exit 0`, async () => {
      expect(expected.length, 'the host run gave no output to compare with').toBeGreaterThan(40);
      const domu = await testbed().createDomU({
        kernel: images[key]!, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv', name: `sqlite-${key.replace('.', '-')}`,
      });
      try {
        const res = await domu.wait({ timeoutMs: 300_000 });
        const why = res.console.join('\n');
        const lines = programLines(res.console);
        // The one line only the DomU prints: it mounted the tmpfs the database is on.
        const start = res.console.findIndex((l) => l.startsWith('sqlite '));
        expect(res.console.slice(0, Math.max(start, 0)), why).toContain('tmpfs mounted on /tmp');
        expect(lines, why).toEqual(expected);
        expect(res.exitCode, why).toBe(0);
        expect(res.end, why).toEqual({ kind: 'shutdown', reasonCode: 0 });
      } finally {
        await domu.destroy().catch(() => undefined);
      }
    }, 420_000);
  }
});
