/**
 * The rumpuser conformance suite (the same freestanding objects the posix target runs, from
 * @rumpxen/hypercall-api's build) linked into xen-pv and xen-pvh images and booted as the
 * only domain. Each case's outcome is reported by name.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { bootGuest, type BootResult } from '@rumpxen/xen-testbed';
import type { TargetDefinition } from '@rumpxen/hypercall-api';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';
import { imageDir, linkConformanceImage, caseResults } from './guest-image.js';

describe.each([
  { target: xenPvTarget, pvh: false },
  { target: xenPvhTarget, pvh: true },
])('rumpuser conformance on $target.name (dom0)', ({ target, pvh }: { target: TargetDefinition; pvh: boolean }) => {
  let result: BootResult;

  beforeAll(async () => {
    const image = linkConformanceImage(target, join(imageDir(`conf-${target.name}`), 'conformance.elf'));
    result = await bootGuest({ kernel: image, memoryMb: 128, timeoutS: 120, pvh });
  }, 180_000);

  it('runs every case without a failure and ends with Test result: SUCCESS', () => {
    const cases = caseResults(result.consoleLines);
    for (const [name, outcome] of Object.entries(cases)) console.log(`${target.name} case ${name}: ${outcome}`);
    const failed = Object.entries(cases).filter(([, o]) => o.startsWith('FAIL'));
    expect(failed.map(([n, o]) => `${n}: ${o}`)).toEqual([]);
    const header = result.consoleLines.find((l) => /^conformance: rumpuser v17, \d+ cases$/.test(l));
    expect(header).toBeDefined();
    const total = Number(/(\d+) cases/.exec(header!)![1]);
    expect(Object.keys(cases).length).toBe(total);
    expect(Object.values(cases).filter((o) => o === 'PASS').length).toBeGreaterThan(total / 2);
    expect(result.consoleLines).toContain('Test result: SUCCESS');
    expect(result.end).toBe('poweroff');
  });
});
