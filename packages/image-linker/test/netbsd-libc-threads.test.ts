/**
 * NetBSD's libpthread, unchanged, on the guest kernel's threads: examples/netbsd-libc-threads
 * (threads.c), built by the image-linker's CLI from its manifest and booted on xen-pv and
 * xen-pvh, as Xen's only domain (`run`, arguments on the command line) and as DomUs of a full
 * testbed (arguments from the guest config in xenstore). The program checks mutexes under
 * contention, condition variables, a timed wait, 64 threads joined with their results,
 * __thread, pthread_self/pthread_equal, per-thread errno, thread-specific data with
 * destructors, system calls from a thread next to main's, sleeps in threads, cancellation of
 * a thread in pthread_cond_wait, the rounding mode per thread, and main's
 * pthread_exit value reaching the last thread, which ends the program as the last lwp. Every
 * line is compared with what the arguments make it print, and the domain must end with
 * status 0 (the last thread's pthread_exit), a poweroff as a DomU.
 *
 * NetBSD's libc build is made here when missing (about two minutes on top of the kernel
 * build that `npm test` makes first).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fullTestbed } from './full-testbed.js';
import { CLI, cli, libcTestFolder } from './netbsd-libc-setup.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-libc-threads', 'rumpxen.json');
const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

/** threads.c's arguments: M threads increment a counter K times each; ITEMS through the queue. */
interface Run {
  threads: number;
  increments: number;
  items: number;
}

/** What threads.c prints for its arguments, computed here ("info" lines are figures, left out). */
function expectedLines(r: Run): string[] {
  // The thread writes "line 0\n" .. "line 199\n": 10 lines of 7 bytes, 90 of 8, 100 of 9.
  const threadBytes = 10 * 7 + 90 * 8 + 100 * 9;
  return [
    `ok mutex: ${r.threads} threads x ${r.increments} = ${r.threads * r.increments}`,
    `ok cond: ${r.items} items through 4 slots, sum ${(r.items * (r.items + 1)) / 2}`,
    'ok timedwait: 100 ms: Operation timed out',
    'ok join: 64 threads, 64 results right',
    "ok tls: 16 threads kept their own __thread values: 16, addresses distinct, main's -1",
    "ok self: pthread_self equals the created handle, differs from main's",
    'ok errno: thread a 9 (Bad file descriptor), thread b 2 (No such file or directory), main 0',
    'ok keys: 8 threads, own values 8, destructors run 8 (sum 36)',
    // The program's process in the rump kernel is its init process (pid 1), in every thread.
    `ok syscalls: thread wrote ${threadBytes} bytes, main ${200 * 11}, getpid 1 in both`,
    'ok sleep: 4 threads x nanosleep 300 ms overlapped (under 1200 ms), sleep(1) in a thread at least 1 s',
    'ok cancel: a thread in pthread_cond_wait: PTHREAD_CANCELED, cleanup ran holding the mutex',
    'ok fenv: nearbyint(1.5) rounding down 1, to nearest 2, main to nearest',
    'ok pthread_exit: main exited with 0x5a',
    'threads: 13 passed, 0 failed',
    'rumpxen: exit 0',
  ];
}

function argv(r: Run): string[] {
  return [String(r.threads), String(r.increments), String(r.items)];
}

/** The program's lines from its first check on, without blank lines and figures. */
function programLines(lines: string[]): string[] {
  const first = lines.findIndex((l) => /^(ok|FAIL) mutex: /.test(l));
  return first < 0 ? [] : lines.slice(first).filter((l) => l.trim() !== '' && !l.startsWith('info '));
}


const images: Partial<Record<Target, string>> = {};

libcTestFolder('netbsd-libc-threads-test', async (dir) => {
  for (const target of TARGETS) {
    const out = join(dir, `threads.${target}`);
    const b = cli(['build', MANIFEST, '--target', target, '-o', out]);
    expect(b.code, b.stderr).toBe(0);
    images[target] = out;
  }
}, 900_000);


describe('NetBSD libpthread as the only domain', () => {
  const runs: Record<Target, Run> = {
    'xen-pv': { threads: 8, increments: 500, items: 300 },
    'xen-pvh': { threads: 5, increments: 300, items: 120 },
  };
  for (const target of TARGETS) {
    const r = runs[target];
    it(`${target}: ${r.threads} threads on a mutex, ${r.items} items through a queue, 64 joins, TLS, errno, keys, syscalls, sleeps, cancel, fenv, pthread_exit`, () => {
      const run = cli(['run', images[target]!, '--on', 'testbed', '--timeout', '150', '--', ...argv(r)]);
      const why = `${run.stdout}\n${run.stderr}`;
      expect(programLines(run.stdout.split('\n')), why).toEqual(expectedLines(r));
      expect(run.code, why).toBe(0);
    }, 300_000);
  }

  it('xen-pv: a failed check is reported and ends the program with status 1', () => {
    // One thread never finds the mutex taken: the mutex check must fail, the rest pass.
    const r: Run = { threads: 1, increments: 10, items: 5 };
    const run = cli(['run', images['xen-pv']!, '--on', 'testbed', '--timeout', '150', '--', ...argv(r)]);
    const why = `${run.stdout}\n${run.stderr}`;
    const want = expectedLines(r);
    want[0] = 'FAIL mutex: 1 threads x 10 = 10 (never contended)';
    want.splice(-2, 2, 'threads: 12 passed, 1 failed', 'rumpxen: exit 1');
    expect(programLines(run.stdout.split('\n')), why).toEqual(want);
    expect(run.code, why).toBe(1);
  }, 300_000);
});

describe('NetBSD libpthread in DomUs of a full testbed', () => {
  const testbed = fullTestbed();

  const runs: Record<Target, Run> = {
    'xen-pv': { threads: 12, increments: 200, items: 77 },
    'xen-pvh': { threads: 3, increments: 700, items: 250 },
  };
  for (const target of TARGETS) {
    const r = runs[target];
    it(`${target}: the checks with arguments from the guest config; the last thread's pthread_exit powers the domain off`, async () => {
      const tb = testbed();
      const domu = await tb.createDomU({
        kernel: images[target]!, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv', name: `nbthreads-${target}`,
        xenstore: { 'rumpxen/cfg': JSON.stringify({ argv: ['threads', ...argv(r)] }) },
      });
      try {
        const res = await domu.wait({ timeoutMs: 150_000 });
        const why = res.console.join('\n');
        expect(programLines(res.console), why).toEqual(expectedLines(r));
        expect(res.exitCode, why).toBe(0);
        expect(res.end, why).toEqual({ kind: 'shutdown', reasonCode: 0 });
      } finally {
        await domu.destroy().catch(() => undefined);
      }
    }, 300_000);
  }
});
