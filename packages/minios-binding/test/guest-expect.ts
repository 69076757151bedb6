/** What the Xen targets' self-test and conformance runs must show, in either placement (dom0 or DomU). */
import { expect } from 'vitest';
import type { ConformanceReport } from '@rumpxen/hypercall-api';

/**
 * The cases that skip on Xen, with their reasons. The file parameter is set, so the file and
 * block-I/O cases reach rumpuser_open/getfileinfo and skip on ENXIO (a guest has no host
 * files); the CPU frequency is unknown to the guest (ENOENT, allowed by the suite). Every other
 * case must PASS.
 */
const noHostFile = (call: string) => new RegExp(`^${call.replace(/[()"]/g, '\\$&')}.* returned ENXIO: this target has no host files$`);
export const expectedSkips: Record<string, RegExp> = {
  getparam_cpu_frequency: /^the target does not know its CPU frequency \(ENOENT, allowed\)$/,
  file_getfileinfo: noHostFile('rumpuser_getfileinfo'),
  file_open_errors: noHostFile('rumpuser_open'),
  bio_write_read: noHostFile('rumpuser_open('),
  bio_read_past_end: noHostFile('rumpuser_open('),
  iovwrite_iovread: noHostFile('rumpuser_open('),
  syncfd_flags: noHostFile('rumpuser_open('),
};
/** The file the file and bio cases are pointed at (the guest has none: ENXIO). */
export const hostFile = '/rumpxen-conformance-file';

/** The report skips exactly `expectedSkips`, each with its reason. */
export function expectXenSkips(report: ConformanceReport): void {
  const skipped = report.cases.filter((c) => c.outcome === 'SKIP');
  expect(skipped.map((c) => c.name).sort()).toEqual(Object.keys(expectedSkips).sort());
  for (const c of skipped) expect(c.reason, `case ${c.name}`).toMatch(expectedSkips[c.name]!);
}

/** Every case of the report outside `expectedSkips` passed (and there are more than 30). */
export function expectXenPasses(report: ConformanceReport): void {
  const others = report.cases.filter((c) => !(c.name in expectedSkips));
  expect(others.length).toBeGreaterThan(30);
  for (const c of others) expect(`case ${c.name}: ${c.outcome} ${c.reason}`.trimEnd()).toBe(`case ${c.name}: PASS`);
}

/** The guest kernel self-test's cases (c/test/ktest.c), in order. */
export const KTEST_CASES = ['pages', 'heap', 'malloc_oom', 'threads_tls', 'tls_many_threads', 'thread_on_stack', 'block_wake', 'time', 'sleep_while_yielding', 'evtchn_loopback', 'gnttab', 'daemonize'];
