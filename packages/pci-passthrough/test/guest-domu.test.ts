/**
 * The guest side as a DomU (the testbed's full mode: q35 with emulated VT-d, a Linux dom0,
 * edu at 0000:00:03.0). edu is first released from xen-pciback, then made assignable again by
 * this package's host side (preparePassthrough with assign, run by the host's node in dom0),
 * whose `pci = [...]` line goes into the DomU's xl config. The same edu driver as in the dom0
 * test reaches config space through pcifront, maps BAR0 with DOMID_IO (frames xl granted),
 * takes INTx (the GSI pirq xl mapped) and MSI (the pirq pciback returns), and makes the DMA
 * round trip through the IOMMU. A second edu, passed through beside it, has its INTx handler
 * run next to the first's MSI handler.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPaths, Testbed, type DomUResult } from '@rumpxen/xen-testbed';
import { buildPciTestImage, caseResults, EDU_CASES, imageDir } from './helpers/guest-image.mjs';
import { pkgDir, requireDist } from './helpers/prerequisites.js';
import { xlPciLine } from '../src/index.js';

const EDU = '0000:00:03.0';
/** A second edu (QEMU -device edu,addr=0x10), so two devices' interrupts run at once in the DomU. */
const EDU2 = '0000:00:10.0';
/** The package as consumers get it (dom0 sees the repo over 9p at the same path). */
const bundleDir = join(pkgDir, 'dist');
/** Scratch files handed to dom0 (xl info output). */
const scratchDir = join(pkgDir, 'build', 'guest-domu');

describe('edu driver on the MD layer, as a DomU with edu passed through (xen-pv)', () => {
  let tb: Testbed;
  let image: string;
  let released = '';
  let refused: unknown;
  let prepared: { before?: string | null; after?: string | null; xlPciLine?: string; action?: string; error?: unknown } = {};
  let assignable = '';
  let second: { code: number; stdout: string; stderr: string } | undefined;
  let bar0 = 0;
  let run: DomUResult;

  beforeAll(async () => {
    // Fails (with the fix) rather than skips: `npm test` fetches the assets and builds first.
    assetPaths();
    requireDist();
    image = buildPciTestImage('edu', imageDir('domu'));
    mkdirSync(scratchDir, { recursive: true });
    tb = await Testbed.start({ edu: true, qemuArgs: ['-device', 'edu,addr=0x10'] });
    const info = await tb.dom0.exec('xl info', { timeoutMs: 60_000 });
    writeFileSync(join(scratchDir, 'xl-info.txt'), info.stdout);
    // Give edu back to no driver, as a freshly booted host would have it.
    const rel = await tb.dom0.exec(`echo ${EDU} > /sys/bus/pci/drivers/pciback/unbind && echo ${EDU} > /sys/bus/pci/drivers/pciback/remove_slot; ` +
      `readlink /sys/bus/pci/devices/${EDU}/driver || echo unbound`);
    released = rel.stdout.trim();
    refused = await tb.createDomU({ name: 'early', kernel: image, memory: 32, pci: [EDU] }).then(() => null, (e: Error) => e);
    const r = await tb.dom0.exec(`hostrun ${process.execPath} ${join(pkgDir, 'test', 'helpers', 'prepare-edu.mjs')} ${bundleDir} ${join(scratchDir, 'xl-info.txt')} /tmp/rumpxen-pci-guest-state`,
      { timeoutMs: 180_000 });
    prepared = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    second = await tb.dom0.exec(`xl pci-assignable-add ${EDU2}`, { timeoutMs: 60_000 });
    // BAR0's machine address as dom0's kernel assigned it (first column of sysfs' resource).
    bar0 = Number((await tb.dom0.exec(`head -1 /sys/bus/pci/devices/${EDU}/resource`)).stdout.trim().split(/\s+/)[0]);
    assignable = (await tb.dom0.exec('xl pci-assignable-list', { timeoutMs: 60_000 })).stdout;
    const domu = await tb.createDomU({ name: 'edu', kernel: image, memory: 32, extraCfg: [xlPciLine([{ bdf: EDU }, { bdf: EDU2 }])] });
    run = await domu.wait({ timeoutMs: 150_000 });
  }, 500_000);

  afterAll(async () => {
    await tb?.stop();
  });

  it('refuses the DomU while edu is on no driver, then makes edu assignable with preparePassthrough', () => {
    expect(released).toBe('unbound');
    expect(refused).toBeInstanceOf(Error);
    expect(String((refused as Error).message)).toMatch(/xl create of DomU 'early' failed/);
    expect(prepared.error).toBeUndefined();
    expect(prepared).toMatchObject({ before: null, after: 'pciback', action: 'assign', xlPciLine: `pci = [ '${EDU}' ]` });
    expect(assignable).toContain(EDU);
    expect(second?.code, second?.stderr).toBe(0);
    expect(assignable).toContain(EDU2);
  });

  it('passes every case through pcifront and powers off with SUCCESS', () => {
    const cases = caseResults(run.console);
    for (const name of EDU_CASES) expect(cases[name], `case ${name}\n${run.console.join('\n')}`).toBe('PASS');
    expect(cases.multi_intr, run.console.join('\n')).toBe('PASS');
    expect(run.verdict).toBe('SUCCESS');
    expect(run.end).toMatchObject({ kind: 'shutdown', reasonCode: 0 });
  });

  it('sees edu in pciback\'s virtual slot through pcifront, with the machine BAR0', () => {
    expect(run.console).toContain('rumpxen: xen-pv guest kernel, 32 MiB, domU');
    expect(run.console).toContainEqual(expect.stringMatching(/^edu: found at 00:00\.0 \(config space via pcifront\), pin 1 line \d+$/));
    // The machine address dom0 sees in sysfs, not a guest-physical one.
    expect(bar0).toBeGreaterThan(0xe0000000);
    expect(run.console).toContain(`edu: BAR0 at 0x${bar0.toString(16)}, 1024 KiB`);
  });

  it('mapped BAR0 with mmu_update naming DOMID_IO and gave freed DMA memory back to the kernel', () => {
    expect(run.console).toContain('edu: BAR0 mapped with mmu_update DOMID_IO');
    const churn = run.console.find((l) => l.includes('DMA allocations of 256 KiB'));
    const m = /^edu: (\d+) DMA allocations of 256 KiB \((\d+) pages, (\d+) free\) freed back to the kernel in \d+ ms$/.exec(churn ?? '');
    expect(m, run.console.join('\n')).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(Number(m![3]));
  });

  it('runs two passed-through devices\' interrupt handlers side by side (second edu INTx, first edu MSI)', () => {
    expect(run.console).toContainEqual(expect.stringMatching(/^edu: second edu at 00:01\.0, BAR0 0x[0-9a-f]+, INTx next to the first's MSI$/));
  });

  it('took INTx on the GSI xl mapped and MSI on the pirq pciback gave', () => {
    expect(run.console).toContainEqual(expect.stringMatching(/^edu: INTx interrupt at gsi (1[6-9]|2[0-3])$/));
    expect(run.console).toContainEqual(expect.stringMatching(/^edu: MSI interrupt at msi pirq \d+$/));
  });

  it('put the DMA buffers below edu\'s 28-bit mask', () => {
    const line = run.console.find((l) => l.startsWith('edu: DMA buffers at machine'));
    const addrs = [...line!.matchAll(/0x([0-9a-f]+)/g)].map((m) => Number.parseInt(m[1]!, 16));
    expect(addrs).toHaveLength(2);
    for (const a of addrs) expect(a + 4096).toBeLessThanOrEqual(1 << 28);
  });

  it('bounced ordinary pages through areas below edu\'s 28-bit mask (case dma_bounce)', () => {
    const line = run.console.find((l) => l.startsWith('edu: ordinary pages at machine'));
    const m = /^edu: ordinary pages at machine (0x[0-9a-f]+) and (0x[0-9a-f]+) \((beyond|below) 2\^28\) bounced through (0x[0-9a-f]+) and (0x[0-9a-f]+)$/.exec(line ?? '');
    expect(m, run.console.join('\n')).toBeTruthy();
    for (const a of [m![4], m![5]]) expect(Number(a) + 4096).toBeLessThanOrEqual(1 << 28);
    // Where Xen put the DomU's own pages (above 2^28 they are out of edu's reach unbounced).
    console.log(line);
  });

  it('keeps the pcifront op page from reuse while pciback owns it after a timeout', async () => {
    // pcistuck closes pcifront's event channel, so pciback never sees the next op.
    const stuck = buildPciTestImage('pcistuck', imageDir('stuck'));
    const domu = await tb.createDomU({ name: 'stuck', kernel: stuck, memory: 32, extraCfg: [prepared.xlPciLine ?? ''] });
    const r = await domu.wait({ timeoutMs: 120_000 });
    const text = r.console.join('\n');
    expect(caseResults(r.console), text).toEqual({
      front_read: 'PASS', op_timeout: 'PASS', refused_while_owned: 'PASS', sent_after_clear: 'PASS',
    });
    expect(text).toMatch(/pcistuck: op while pciback owns the page failed after \d+ ms: pcix: pcifront is out of service: pciback did not answer op 0 \(conf_read\) within 10 s and still owns the op page, so op 0 \(conf_read\) was not sent/);
    expect(r.verdict).toBe('SUCCESS');
  }, 180_000);

  it('reports a DomU without a passed device clearly', async () => {
    const domu = await tb.createDomU({ name: 'nopci', kernel: image, memory: 32 });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(caseResults(r.console).edu_probe).toMatch(/^FAIL pcix: xenstore has no device\/pci\/0\/backend: no PCI device was passed to this domain; add pci = \[ 'BDF' \]/);
    expect(r.verdict).toBe('FAILURE');
  }, 120_000);
});
