/**
 * The rumpuser conformance suite (the same freestanding objects the posix target runs, from
 * @rumpxen/hypercall-api's build) linked into a xen-pv image and booted as the only domain.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootGuest, type BootResult } from '@rumpxen/xen-testbed';
import { xenPvTarget, guestPackageRoot } from '../src/targets.js';
import { imageDir, linkImage } from './guest-image.js';

const conformanceLib = join(guestPackageRoot, '..', 'hypercall-api', 'build', 'libconformance.a');

describe('rumpuser conformance on xen-pv (dom0)', () => {
  let result: BootResult;

  beforeAll(async () => {
    if (!existsSync(conformanceLib)) {
      throw new Error(`${conformanceLib} is missing: run \`npx nx run @rumpxen/hypercall-api:build\` first`);
    }
    const image = linkImage(xenPvTarget, { wholeArchives: [conformanceLib] }, join(imageDir('conf'), 'conformance.elf'));
    result = await bootGuest({ kernel: image, memoryMb: 128, timeoutS: 120 });
  }, 180_000);

  it('reports every case and ends with Test result: SUCCESS', () => {
    const cases = result.consoleLines.filter((l) => /^case \S+: /.test(l));
    const failed = cases.filter((l) => /: FAIL/.test(l));
    expect(failed, failed.join('\n')).toEqual([]);
    const header = result.consoleLines.find((l) => /^conformance: rumpuser v17, \d+ cases$/.test(l));
    expect(header).toBeDefined();
    const total = Number(/(\d+) cases/.exec(header!)![1]);
    expect(cases.length).toBe(total);
    expect(cases.filter((l) => /: PASS$/.test(l)).length).toBeGreaterThan(total / 2);
    expect(result.consoleLines).toContain('Test result: SUCCESS');
    expect(result.verdict).toBe('SUCCESS');
    expect(result.end).toBe('poweroff');
  });
});
