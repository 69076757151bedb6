/**
 * The guest side as dom0 (the testbed's guest-as-dom0 mode, QEMU's pc machine with two
 * `-device edu`, no IOMMU): the edu driver, written against the MD layer only, finds edu by
 * scanning bus 0 through port I/O, maps BAR0 with DOMID_IO (mmu_update), reads the id, checks liveness,
 * computes factorials, takes INTx (GSI pirq) and MSI interrupts in thread context, makes a
 * DMA round trip of random bytes in machine-contiguous memory below edu's 28-bit mask, and
 * has its bad requests refused with clear messages; the second edu's INTx handler runs next to
 * the first's MSI handler.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assetPaths, bootGuest, type BootResult } from '@rumpxen/xen-testbed';
import { buildPciTestImage, caseResults, EDU_CASES, imageDir } from './helpers/guest-image.mjs';

describe('edu driver on the MD layer, as dom0 (xen-pv)', () => {
  let image: string;
  let run: BootResult;

  beforeAll(async () => {
    assetPaths(); // fails with the fetch command when the testbed's assets are missing
    image = buildPciTestImage('edu', imageDir('dom0'));
    run = await bootGuest({ kernel: image, memoryMb: 256, timeoutS: 120, qemuArgs: ['-device', 'edu', '-device', 'edu'] });
  }, 200_000);

  it('passes every case and powers off with SUCCESS', () => {
    const cases = caseResults(run.consoleLines);
    for (const name of EDU_CASES) expect(cases[name], `case ${name}\n${run.consoleLines.join('\n')}`).toBe('PASS');
    expect(run.verdict).toBe('SUCCESS');
    expect(run.end).toBe('poweroff');
    expect(run.exitCode).toBe(0);
  });

  it('found edu on bus 0 through port I/O and mapped its 1 MiB BAR0 outside RAM', () => {
    const found = run.consoleLines.find((l) => l.startsWith('edu: found at'));
    expect(found).toMatch(/^edu: found at 00:[0-9a-f]{2}\.0 \(config space via dom0 port I\/O\), pin 1 line \d+$/);
    const bar = run.consoleLines.find((l) => l.startsWith('edu: BAR0 at'));
    expect(bar).toMatch(/^edu: BAR0 at 0x[0-9a-f]+, 1024 KiB$/);
    // The 256 MiB machine's RAM ends far below the PCI hole where SeaBIOS puts BAR0.
    expect(Number.parseInt(/0x([0-9a-f]+)/.exec(bar!)![1]!, 16)).toBeGreaterThanOrEqual(0x10000000);
  });

  it('mapped BAR0 with mmu_update naming DOMID_IO (the kernel\'s mk_arch_map_foreign)', () => {
    expect(run.consoleLines).toContain('edu: BAR0 mapped with mmu_update DOMID_IO');
  });

  it('gave freed DMA memory back to the kernel: more pages churned than were free, p2m/M2P agree after reuse', () => {
    const churn = run.consoleLines.find((l) => l.startsWith('edu: ') && l.includes('DMA allocations of 256 KiB'));
    const m = /^edu: (\d+) DMA allocations of 256 KiB \((\d+) pages, (\d+) free\) freed back to the kernel in \d+ ms$/.exec(churn ?? '');
    expect(m, run.consoleLines.join('\n')).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(Number(m![3]));
    expect(run.consoleLines).toContainEqual(expect.stringMatching(/^edu: freed DMA pages reallocated by the kernel at 0x[0-9a-f]+: p2m, M2P and virt_to_mach name frame 0x[0-9a-f]+$/));
  });

  it('runs two devices\' interrupt handlers side by side (second edu INTx, first edu MSI)', () => {
    expect(caseResults(run.consoleLines).multi_intr).toBe('PASS');
    expect(run.consoleLines).toContainEqual(expect.stringMatching(/^edu: second edu at 00:[0-9a-f]{2}\.0, BAR0 0x[0-9a-f]+, INTx next to the first's MSI$/));
  });

  it('took INTx as a GSI pirq and MSI as an MSI pirq', () => {
    expect(run.consoleLines).toContainEqual(expect.stringMatching(/^edu: INTx interrupt at gsi (5|9|10|11)$/));
    expect(run.consoleLines).toContainEqual(expect.stringMatching(/^edu: MSI interrupt at msi pirq \d+$/));
  });

  it('put both DMA buffers below edu\'s 28-bit mask', () => {
    const line = run.consoleLines.find((l) => l.startsWith('edu: DMA buffers at machine'));
    const addrs = [...line!.matchAll(/0x([0-9a-f]+)/g)].map((m) => Number.parseInt(m[1]!, 16));
    expect(addrs).toHaveLength(2);
    for (const a of addrs) expect(a + 4096).toBeLessThanOrEqual(1 << 28);
  });

  it('refuses bad requests with messages naming the input and the fix', () => {
    const refused = run.consoleLines.filter((l) => l.startsWith('edu: refused as expected: '));
    expect(refused).toContainEqual(expect.stringMatching(/refusing to map 0x[0-9a-f]+\+0x1000 as device memory: it is RAM, not a BAR/));
    expect(refused).toContainEqual(expect.stringMatching(/Xen has no machine-contiguous extent of 4 KiB below 2\^20 \(XENMEM_exchange: -12\)/));
    expect(refused).toContainEqual(expect.stringMatching(/DMA allocation of 67108864 bytes .* the limit is 4 MiB/));
    expect(refused).toContainEqual(expect.stringMatching(/8192 bytes cannot fit in one segment that does not cross a 0x1000 boundary/));
    expect(refused).toContainEqual(expect.stringMatching(/outside the DMA tag's range 0x0\.\.0xfff and this layer does not bounce/));
  });

  it('reports a missing device clearly when edu is absent', async () => {
    const r = await bootGuest({ kernel: image, memoryMb: 128, timeoutS: 90 });
    const cases = caseResults(r.consoleLines);
    expect(cases.edu_probe).toMatch(/^FAIL pcix: no PCI device 1234:11e8 on buses 0\.\.0 \(config space via dom0 port I\/O\); pass the device/);
    expect(r.verdict).toBe('FAILURE');
  }, 150_000);
});
