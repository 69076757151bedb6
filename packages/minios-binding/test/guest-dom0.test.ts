/**
 * The guest kernel booted by Xen (in QEMU) as the only domain, on xen-pv and xen-pvh: the
 * app contract (argv, exit status), crash reports, and the kernel's own services.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { bootGuest } from '@rumpxen/xen-testbed';
import type { TargetDefinition } from '@rumpxen/hypercall-api';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';
import { buildTestImage, imageDir, caseResults } from './guest-image.js';
import { KTEST_CASES } from './guest-expect.js';


describe.each([
  { target: xenPvTarget, pvh: false },
  { target: xenPvhTarget, pvh: true },
])('$target.name guest as dom0', ({ target, pvh }: { target: TargetDefinition; pvh: boolean }) => {
  let hello: string;
  let crash: string;
  let ktest: string;

  beforeAll(() => {
    const dir = imageDir(target.name);
    hello = buildTestImage(target, ['hello.c'], dir, 'hello.elf');
    crash = buildTestImage(target, ['crash.c'], dir, 'crash.elf');
    ktest = buildTestImage(target, ['ktest.c'], dir, 'ktest.elf');
  });

  const boot = (kernel: string, cmdline?: string) =>
    bootGuest({ kernel, cmdline, memoryMb: 128, timeoutS: 90, pvh });

  it('runs main with argv from the command line and reports its exit status', async () => {
    const r = await boot(hello, '7 second');
    expect(r.consoleLines.some((l) => new RegExp(`^rumpxen: ${target.name} guest kernel, \\d+ MiB, dom0$`).test(l))).toBe(true);
    expect(r.consoleLines).toContain('hello: argv[0] = rumpxen');
    expect(r.consoleLines).toContain('hello: argv[1] = 7');
    expect(r.consoleLines).toContain('hello: argv[2] = second');
    expect(r.consoleLines).toContain('rumpxen: exit 7');
    expect(r.end).toBe('crash');
    expect(r.exitCode).toBe(7);
  }, 150_000);

  it('powers off when main returns 0', async () => {
    const r = await boot(hello, '0');
    expect(r.consoleLines).toContain('rumpxen: exit 0');
    expect(r.end).toBe('poweroff');
    expect(r.exitCode).toBe(0);
  }, 150_000);

  it('passes its kernel self-test (pages, heap, OOM -> ENOMEM, threads, TLS, time, events, grants)', async () => {
    const r = await boot(ktest);
    const cases = caseResults(r.consoleLines);
    for (const name of KTEST_CASES) expect(cases[name], `case ${name}`).toBe('PASS');
    // The testbed's CPU (QEMU TCG) has no invariant TSC, so Xen emulates rdtsc for a PVH
    // domain and sleep_while_yielding runs the scheduler's timer-driven path; PV reads the TSC.
    expect(r.consoleLines).toContain(`ktest: rdtsc ${pvh ? 'is' : 'is not'} emulated by Xen here`);
    expect(r.verdict).toBe('SUCCESS');
    expect(r.exitCode).toBe(0);
  }, 150_000);

  it('reports a page fault with registers, fault address and a named backtrace, then crashes', async () => {
    const r = await boot(crash, 'null');
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: crash: trap 14 (page fault)');
    expect(text).toMatch(/fault address 0xdead000 \(read access, not present\)/);
    expect(text).toMatch(pvh ? /rumpxen: rip 0x[0-9a-f]{16} cs 0x8 / : /rumpxen: rip 0x[0-9a-f]{16} cs 0xe03[03] /);
    expect(text).toMatch(/rumpxen: rax 0x[0-9a-f]{16} rbx/);
    expect(text).toMatch(/0x[0-9a-f]{16} crash_read_bad_pointer\+0x/);
    expect(text).toMatch(/0x[0-9a-f]{16} main_thread\+0x/);
    expect(r.end).toBe('crash');
    expect(r.verdict).toBe('CRASH');
  }, 150_000);

  it('turns rumpuser_exit(RUMPUSER_PANIC) into a crash with a message', async () => {
    const r = await boot(crash, 'panic');
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: panic: rumpuser_exit(RUMPUSER_PANIC)');
    expect(text).toMatch(/rumpuser_exit\+0x[0-9a-f]+\n 0x[0-9a-f]{16} main\+0x/);
    expect(r.end).toBe('crash');
  }, 150_000);

  it('reports a syscall instruction (nothing to take it) with registers and a backtrace, then crashes', async () => {
    const r = await boot(crash, 'syscall');
    const text = r.consoleLines.join('\n');
    // PV: threads run in user mode, where syscall enters our kernel; only the hypercall
    // page may use it. PVH: syscall is not enabled (EFER.SCE clear), so it is #UD.
    expect(text).toMatch(pvh ? /rumpxen: crash: trap 6 \(invalid opcode\)/
      : /rumpxen: crash: syscall instruction at 0x[0-9a-f]+ with rax 0x3c: there is no OS kernel/);
    expect(text).toMatch(/rumpxen: r13 0x[0-9a-f]{16} r14/);
    expect(text).toMatch(/rumpxen: backtrace:\n 0x[0-9a-f]{16} main\+0x/);
    expect(r.end).toBe('crash');
    expect(r.verdict).toBe('CRASH');
  }, 150_000);

  it('stops a stack overflow at the guard page with our crash report', async () => {
    const r = await boot(crash, 'overflow');
    // PVH: faults run on their own stack (IST). PV: threads run in PV user mode, so Xen
    // delivers the fault on the separate kernel (fault) stack, not below the guard page.
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: crash: trap 14 (page fault)');
    expect(text).toMatch(/fault address 0x[0-9a-f]+ \(write access, not present\)/);
    expect(text).toContain("rumpxen: stack overflow: fault in the guard page of thread 'main'");
    expect(text).toMatch(pvh ? /rumpxen: rip 0x[0-9a-f]{16} cs 0x8 / : /rumpxen: rip 0x[0-9a-f]{16} cs 0xe033 .* ss 0xe02b/);
    expect(text).toMatch(/rumpxen: r13 0x[0-9a-f]{16} r14/);
    expect(text).toMatch(/rumpxen: backtrace:\n 0x[0-9a-f]{16} crash_recurse\+0x/);
    expect(text).toContain('rumpxen: shutting down with reason crash');
    // The fault address is in the thread's guard page: the report says so only then, and
    // the reported rsp is at most one page above it.
    const fault = BigInt(/fault address (0x[0-9a-f]+)/.exec(text)![1]!);
    const rsp = BigInt(/ rsp (0x[0-9a-f]{16}) /.exec(text)![1]!);
    expect(rsp - fault < 4096n && rsp >= fault).toBe(true);
    // Xen did not have to end the domain itself.
    expect(r.xenLines.join('\n')).not.toMatch(/domain_crash_sync/);
    expect(r.consoleLines).not.toContain('rumpxen: exit 0');
    expect(r.end).toBe('crash');
    expect(r.verdict).toBe('CRASH');
    expect(r.exitCode).toBe(6);
  }, 150_000);

  it('stops frames larger than the guard page at it too (stack probes), not in memory below', async () => {
    const r = await boot(crash, 'overflow_big');
    const text = r.consoleLines.join('\n');
    expect(text).toContain('rumpxen: crash: trap 14 (page fault)');
    expect(text).toContain("rumpxen: stack overflow: fault in the guard page of thread 'main'");
    expect(text).toMatch(/rumpxen: backtrace:\n 0x[0-9a-f]{16} crash_recurse_big\+0x/);
    expect(r.consoleLines).not.toContain('rumpxen: exit 0');
    expect(r.exitCode).toBe(6);
  }, 150_000);
});
