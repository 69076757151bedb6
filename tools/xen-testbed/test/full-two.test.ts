/**
 * Two full-mode testbeds at once: each has its own QEMU, control socket and run folder, each
 * answers on its own, and stopping them leaves no QEMU and no temp folder. One of them is
 * started without hardware-assisted paging, and refuses a PVH DomU before xl is asked.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { Testbed, TestbedError, buildFixture, liveQemuCount } from '../src/index.js';

const mine = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`rumpxen-testbed-${process.pid}-full-`));
const started: Testbed[] = [];
afterAll(async () => {
  await Promise.all(started.map((t) => t.stop()));
}, 30_000);

describe('full mode: two testbeds at once', () => {
  it('boot side by side, answer separately, refuse PVH without HAP, and leave nothing behind', async () => {
    const pvhFixture = buildFixture({ kind: 'pvh' });
    const [a, b] = await Promise.all([
      Testbed.start({ edu: false, shareDir: false, hostRoot: false }),
      Testbed.start({ edu: false, shareDir: false, hostRoot: false, pvh: false }),
    ]);
    started.push(a, b);
    expect(liveQemuCount()).toBe(2);
    expect(mine()).toHaveLength(2);
    expect(a.runDir).not.toBe(b.runDir);

    // Each dom0 answers through its own control channel: a token written in one is not in the other.
    const [wa, wb] = await Promise.all([
      a.dom0.exec('xenstore-write /tool/which a && xenstore-read /tool/which && xl list | head -2 | tail -1 | cut -c1-8'),
      b.dom0.exec('xenstore-write /tool/which b && xenstore-read /tool/which && xl list | head -2 | tail -1 | cut -c1-8'),
    ]);
    expect([wa.code, wa.stdout]).toEqual([0, 'a\nDomain-0\n']);
    expect([wb.code, wb.stdout]).toEqual([0, 'b\nDomain-0\n']);

    expect(a.hap).toBe(true);
    expect(b.hap).toBe(false);
    const refused = await b.createDomU({ kernel: pvhFixture, type: 'pvh', memory: 16 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TestbedError);
    expect((refused as TestbedError).message).toMatch(/PVH DomU needs hardware-assisted paging.*pvh: true/);
    expect((await b.dom0.exec('xl list | wc -l')).stdout.trim()).toBe('2'); // header + Domain-0: nothing was created

    await Promise.all([a.stop(), b.stop()]);
    expect(liveQemuCount()).toBe(0);
    expect(mine()).toEqual([]);
  }, 300_000);
});
