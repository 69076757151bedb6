/**
 * The rumpuser conformance suite (the same freestanding objects the posix target runs, from
 * @rumpxen/hypercall-api's build) linked into xen-pv and xen-pvh images and booted as the
 * only domain. Each case's outcome is reported by name.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { bootGuest, type BootResult } from '@rumpxen/xen-testbed';
import { conformanceFileParam, parseConformanceOutput, type ConformanceReport, type TargetDefinition } from '@rumpxen/hypercall-api';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';
import { imageDir, linkConformanceImage } from './guest-image.js';
import { expectXenPasses, expectXenSkips, hostFile } from './guest-expect.js';


describe.each([
  { target: xenPvTarget, pvh: false },
  { target: xenPvhTarget, pvh: true },
])('rumpuser conformance on $target.name (dom0)', ({ target, pvh }: { target: TargetDefinition; pvh: boolean }) => {
  let result: BootResult;
  let report: ConformanceReport;

  beforeAll(async () => {
    const image = linkConformanceImage(target, join(imageDir(`conf-${target.name}`), 'conformance.elf'));
    result = await bootGuest({
      kernel: image, memoryMb: 128, timeoutS: 120, pvh, cmdline: `${conformanceFileParam}=${hostFile}`,
    });
    report = parseConformanceOutput(result.consoleLines.join('\n'));
    for (const c of report.cases) console.log(`${target.name} case ${c.name}: ${c.outcome} ${c.reason}`.trimEnd());
  }, 180_000);

  it('reports every announced case, ends with Test result: SUCCESS and powers off', () => {
    expect(report.announced).not.toBeNull();
    expect(report.cases.length).toBe(report.announced);
    expect(report.result).toBe('SUCCESS');
    expect(result.end).toBe('poweroff');
  });

  it('skips exactly the host-file cases (ENXIO) and the CPU frequency (ENOENT), with their reasons', () => {
    expectXenSkips(report);
  });

  it('names its random source: the testbed\'s guest-as-dom0 CPU (qemu64) has no RDRAND', () => {
    expect(result.consoleLines).toContain('rumpuser: random source: TSC-jitter generator (no RDRAND on this CPU; not cryptographic)');
    expect(result.consoleLines).not.toContain('rumpuser: random source: RDRAND');
  });

  it('passes every other case', () => {
    expectXenPasses(report);
  });
});
