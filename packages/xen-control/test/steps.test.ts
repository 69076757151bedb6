// The dom0 check reports step by step (test/dom0/steps.mjs), and the full-mode test reads
// each step's own result (test/step-results.ts): one step that throws fails only the
// assertions on it and on the steps that need it. Shown on the host, without Xen.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runSteps, STEP_PREFIX } from './dom0/steps.mjs';
import { PACKAGE_DIR } from './dom0/testbed-setup.mjs';
import { StepResults } from './step-results.js';

describe('runSteps and StepResults', () => {
  it('reports each step on its own: a step that throws fails alone, and the steps that need it are not run', async () => {
    const lines: string[] = [];
    const cleaned: string[] = [];
    const ran: string[] = [];
    const bad = await runSteps(
      [
        { name: 'a', run: () => (ran.push('a'), { n: 1 }) },
        { name: 'b', run: async () => { ran.push('b'); throw new Error('b broke'); } },
        { name: 'c', run: () => (ran.push('c'), 'c ok') },
        { name: 'd', needs: ['b'], run: () => (ran.push('d'), 'never') },
        { name: 'e', needs: ['a'], run: (values) => (ran.push('e'), (values.a as { n: number }).n + 1) },
      ],
      { write: (l) => lines.push(l), afterFailure: async (name) => void cleaned.push(name) },
    );
    expect(bad).toBe(2);
    expect(ran).toEqual(['a', 'b', 'c', 'e']);
    expect(cleaned).toEqual(['b']);
    expect(lines.every((l) => l.startsWith(STEP_PREFIX) && l.endsWith('\n'))).toBe(true);

    const results = new StepResults(`noise\n${lines.join('')}`, 'the script died');
    expect(results.value('a')).toEqual({ n: 1 });
    expect(results.value('c')).toBe('c ok');
    expect(results.value('e')).toBe(2);
    expect(() => results.value('b')).toThrow(/dom0 step 'b' failed: Error: b broke/);
    expect(() => results.value('d')).toThrow(/dom0 step 'd' not run: it needs b, which did not succeed/);
    expect(() => results.value('f')).toThrow(/dom0 step 'f' reported nothing: the script died/);
  });

  it('a step returning nothing still counts as done for the steps that need it', async () => {
    const lines: string[] = [];
    await runSteps([{ name: 'setup', run: () => undefined }, { name: 'use', needs: ['setup'], run: () => 'ran' }], { write: (l) => lines.push(l) });
    const results = new StepResults(lines.join(''), '');
    expect(results.value('setup')).toBeNull();
    expect(results.value('use')).toBe('ran');
  });
});

describe.skipIf(existsSync('/dev/xen/privcmd'))('xen-check.mjs on a host without Xen', () => {
  it("reports the 'open' step's failure and every other step as not run, one line each, and exits 1", () => {
    if (!existsSync(join(PACKAGE_DIR, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run npm run build in packages/xen-control first');
    const r = spawnSync(process.execPath, [join(PACKAGE_DIR, 'test', 'dom0', 'xen-check.mjs'), '--kernel', '/nonexistent/kernel', '--cycles', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    const results = new StepResults(r.stdout, `exit ${r.status}`);
    expect(() => results.value('open')).toThrow(/dom0 step 'open' failed: XenUnavailableError: Xen is not available here/);
    const names = [...results.records.keys()];
    expect(names).toEqual(expect.arrayContaining(['domains', 'xenstore', 'evtchn', 'boot.direct', 'boot.libxl', 'cycles.direct', 'killed.libxl.throw']));
    for (const name of names.filter((n) => n !== 'open')) expect(() => results.value(name)).toThrow(/not run: it needs open/);
  });
});
