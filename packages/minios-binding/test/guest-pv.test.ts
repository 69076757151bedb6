/**
 * The xen-pv guest kernel booted by Xen (in QEMU) as the only domain: the app contract
 * (argv, exit status), crash reports, and the kernel's own services.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { bootGuest } from '@rumpxen/xen-testbed';
import { xenPvTarget } from '../src/targets.js';
import { buildTestImage, imageDir } from './guest-image.js';

const target = xenPvTarget;
let dir: string;
let hello: string;
let crash: string;
let ktest: string;

beforeAll(() => {
  dir = imageDir('pv');
  hello = buildTestImage(target, ['hello.c'], dir, 'hello.elf');
  crash = buildTestImage(target, ['crash.c'], dir, 'crash.elf');
  ktest = buildTestImage(target, ['ktest.c'], dir, 'ktest.elf');
});

function caseLines(lines: string[]): Map<string, string> {
  const cases = new Map<string, string>();
  for (const l of lines) {
    const m = /^case (\S+): (PASS|FAIL|SKIP)(.*)$/.exec(l.trim());
    if (m) cases.set(m[1], m[2] + m[3]);
  }
  return cases;
}

describe('xen-pv guest as dom0', () => {
  it('runs main with argv from the command line and reports its exit status', async () => {
    const r = await bootGuest({ kernel: hello, cmdline: '7 second', memoryMb: 128, timeoutS: 60 });
    expect(r.consoleLines).toContain('hello: argv[0] = rumpxen');
    expect(r.consoleLines).toContain('hello: argv[1] = 7');
    expect(r.consoleLines).toContain('hello: argv[2] = second');
    expect(r.consoleLines).toContain('rumpxen: exit 7');
    expect(r.end).toBe('crash');
    expect(r.exitCode).toBe(7);
  }, 120_000);

  it('powers off when main returns 0', async () => {
    const r = await bootGuest({ kernel: hello, cmdline: '0', memoryMb: 128, timeoutS: 60 });
    expect(r.consoleLines).toContain('rumpxen: exit 0');
    expect(r.end).toBe('poweroff');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('passes its kernel self-test (pages, heap, OOM -> ENOMEM, threads, TLS, time, events)', async () => {
    const r = await bootGuest({ kernel: ktest, memoryMb: 128, timeoutS: 90 });
    const cases = caseLines(r.consoleLines);
    for (const name of ['pages', 'heap', 'malloc_oom', 'threads_tls', 'block_wake', 'time', 'evtchn_loopback', 'gnttab']) {
      expect(cases.get(name), `case ${name}`).toBe('PASS');
    }
    expect(r.verdict).toBe('SUCCESS');
    expect(r.exitCode).toBe(0);
  }, 150_000);

  it('reports a page fault with registers, fault address and a named backtrace, then crashes', async () => {
    const r = await bootGuest({ kernel: crash, cmdline: 'null', memoryMb: 128, timeoutS: 60 });
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: crash: trap 14 (page fault)');
    expect(text).toMatch(/fault address 0xdead000 \(read access, not present\)/);
    expect(text).toMatch(/rumpxen: rip 0x[0-9a-f]{16} cs 0xe03[03]/);
    expect(text).toMatch(/rumpxen: rax 0x[0-9a-f]{16} rbx/);
    expect(text).toMatch(/0x[0-9a-f]{16} crash_read_bad_pointer\+0x/);
    expect(text).toMatch(/0x[0-9a-f]{16} main_thread\+0x/);
    expect(r.end).toBe('crash');
    expect(r.verdict).toBe('CRASH');
  }, 120_000);

  it('turns rumpuser_exit(RUMPUSER_PANIC) into a crash with a message', async () => {
    const r = await bootGuest({ kernel: crash, cmdline: 'panic', memoryMb: 128, timeoutS: 60 });
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: panic: rumpuser_exit(RUMPUSER_PANIC)');
    expect(text).toMatch(/rumpuser_exit\+0x[0-9a-f]+\n 0x[0-9a-f]{16} main\+0x/);
    expect(r.end).toBe('crash');
  }, 120_000);

  it('stops a stack overflow at the guard page (Xen crashes the domain on PV)', async () => {
    const r = await bootGuest({ kernel: crash, cmdline: 'overflow', memoryMb: 128, timeoutS: 60 });
    // On PV the fault frame itself would land in the guard page, so Xen ends the domain:
    // its report names the unmapped L1 entry; nothing past the guard was overwritten.
    expect(r.xenLines.join('\n')).toMatch(/domain_crash_sync called from entry\.S/);
    expect(r.xenLines.join('\n')).toMatch(/L1\[0x[0-9a-f]+\] = 0000000000000000/);
    expect(r.consoleLines).not.toContain('rumpxen: exit 0');
    expect(r.end).toBe('crash');
  }, 120_000);
});
