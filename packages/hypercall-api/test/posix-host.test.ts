/**
 * The posix target's host-facing semantics the freestanding suite cannot see: parameters
 * from the environment, process exit and panic, NetBSD signal numbers, errno numbering.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NETBSD_ERRNO, requireArtifact } from '../src/index.js';

const probe = requireArtifact('posixProbe');

function run(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  delete clean.RUMP_NCPU;
  delete clean.RUMP_HOSTNAME;
  return spawnSync(probe, args, { encoding: 'utf8', env: { ...clean, ...env }, timeout: 20_000 });
}

describe('rumpuser_getparam (posix)', () => {
  it('_RUMPUSER_NCPU follows $RUMP_NCPU', () => {
    expect(run(['getparam', '_RUMPUSER_NCPU'], { RUMP_NCPU: '3' }).stdout).toBe('rv 0 value 3\n');
  });
  it('_RUMPUSER_NCPU defaults to the host\'s online CPUs', () => {
    const host = spawnSync('getconf', ['_NPROCESSORS_ONLN'], { encoding: 'utf8' }).stdout.trim();
    expect(run(['getparam', '_RUMPUSER_NCPU']).stdout).toBe(`rv 0 value ${host}\n`);
    expect(run(['getparam', '_RUMPUSER_NCPU'], { RUMP_NCPU: 'host' }).stdout).toBe(`rv 0 value ${host}\n`);
  });
  it('_RUMPUSER_HOSTNAME follows $RUMP_HOSTNAME, else rump-<pid>.<host name>', () => {
    expect(run(['getparam', '_RUMPUSER_HOSTNAME'], { RUMP_HOSTNAME: 'kernel7' }).stdout).toBe('rv 0 value kernel7\n');
    const r = run(['getparam', '_RUMPUSER_HOSTNAME']);
    expect(r.stdout).toBe(`rv 0 value rump-${r.pid}.${hostname()}\n`);
  });
  it('other names come from the environment, ENOENT when unset', () => {
    expect(run(['getparam', 'RUMPXEN_PROBE_PARAM'], { RUMPXEN_PROBE_PARAM: 'some value' }).stdout).toBe('rv 0 value some value\n');
    expect(run(['getparam', 'RUMPXEN_PROBE_PARAM']).stdout).toBe(`rv ${NETBSD_ERRNO.ENOENT} value -\n`);
  });
});

describe('rumpuser_exit (posix)', () => {
  it('exits with the given status', () => {
    expect(run(['exit', '7']).status).toBe(7);
    expect(run(['exit', '0']).status).toBe(0);
  });
  it('RUMPUSER_PANIC aborts (SIGABRT, core dump if enabled)', () => {
    expect(run(['panic']).signal).toBe('SIGABRT');
  });
});

describe('rumpuser_kill (posix)', () => {
  // NetBSD numbers that differ from Linux's: SIGUSR1 30 (Linux 10), SIGBUS 10 (Linux 7), SIGCHLD 20 (Linux 17).
  it.each([
    [30, 10],
    [10, 7],
    [20, 17],
    [15, 15],
  ])('NetBSD signal %i reaches the process as host signal %i', (netbsd, host) => {
    expect(run(['kill', String(netbsd)]).stdout).toBe(`rv 0 host-signal ${host}\n`);
  });
  it('refuses a signal number NetBSD does not have', () => {
    expect(run(['kill', '99']).stdout).toBe(`rv ${NETBSD_ERRNO.EINVAL} host-signal 0\n`);
  });
});

describe('errno (posix)', () => {
  it('rumpuser_seterrno sets the calling thread\'s errno', () => {
    expect(run(['seterrno', String(NETBSD_ERRNO.EAGAIN)]).stdout).toBe('errno 35\n');
  });
  it.each([
    [110, 'ETIMEDOUT'],
    [11, 'EAGAIN'],
    [35, 'EDEADLK'],
    [2, 'ENOENT'],
  ] as const)('rumpuser_component_errtrans(Linux %i) is NetBSD %s', (linux, name) => {
    expect(run(['errtrans', String(linux)]).stdout).toBe(`netbsd ${NETBSD_ERRNO[name]}\n`);
  });
});

describe('condition variable wakes (posix)', () => {
  it('a wake signalled under the mutex waits for its unlock: the woken thread sleeps once a round, not again on the mutex; mixed mutexes still wake', () => {
    const r = run(['cvdefer']);
    expect(r.status, r.stderr).toBe(0);
    const m = /^pong sleeps per round ([\d.]+)\nmixed waiters woken (\d) of 4$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    // Two threads on one CPU: at most one sleep a round (its cv wait). Waking at the signal
    // instead measured 1.2 (the woken thread ran, found the mutex held and slept on it too).
    expect(Number(m![1])).toBeLessThanOrEqual(1.02);
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(m![2]).toBe('4');
  });
});

describe('rumpuser_malloc/rumpuser_free small blocks (posix)', () => {
  it('keep freed blocks per size class for the next request of the class, bounded, and give them back to glibc', () => {
    const r = run(['smallcache']);
    expect(r.status, r.stderr).toBe(0);
    const m = /^usable (\d+) reused (\d) to-glibc (\d+) of 40 size0 (\d+) thread (\w+) (\d+)$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    // A 40-byte request is malloc'ed at its class's size (48), so the 33-byte one after it fits.
    expect(Number(m![1])).toBeGreaterThanOrEqual(48);
    expect(m![2]).toBe('1');
    // 40 freed 64-byte blocks: the list keeps 32, 8 go to glibc's free (the probe counts its calls).
    expect(Number(m![3])).toBe(8);
    // Freed with size 0 (NetBSD's free(9)): every one to glibc.
    expect(Number(m![4])).toBe(40);
    // A thread that kept 8 blocks on its list exits: all 8 go to glibc's free.
    expect(m![5]).toBe('ok');
    expect(Number(m![6])).toBeGreaterThanOrEqual(8);
  });

  it('keep a page class, (256, 4096] bytes at page alignment, shared by page requests and smaller ones', () => {
    const r = run(['pagecache']);
    expect(r.status, r.stderr).toBe(0);
    const m = /^aligned (\d) usable (\d+) reused (\d) all-aligned (\d) to-glibc (\d+) of 20$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    // A 3000-byte request gets a whole page-aligned page, so a later page request can take it.
    expect(m![1]).toBe('1');
    expect(Number(m![2])).toBeGreaterThanOrEqual(4096);
    expect(m![3]).toBe('1');
    expect(m![4]).toBe('1');
    // 20 freed pages: the list keeps 16, 4 go to glibc's free.
    expect(Number(m![5])).toBe(4);
  });
});
