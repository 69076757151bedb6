/**
 * The passthroughNics option's fixed facts and its refusal of an unknown model (before QEMU
 * starts). The NICs working end to end is @rumpxen/image-linker's test/netbsd-pci-nic.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PASSTHROUGH_NICS, Testbed, TestbedError, type PassthroughNicModel } from '../src/index.js';

describe('passthroughNics', () => {
  it('each model has its own slot, MAC and dom0 peer MAC', () => {
    const nics = Object.values(PASSTHROUGH_NICS);
    expect(nics.map((n) => n.model)).toEqual(['e1000', 'pcnet']);
    expect(new Set(nics.map((n) => n.bdf)).size).toBe(nics.length);
    expect(new Set(nics.flatMap((n) => [n.mac, n.dom0Mac])).size).toBe(2 * nics.length);
    for (const n of nics) {
      expect(n.bdf).toMatch(/^0000:00:[01][0-9a-f]\.0$/);
      expect(n.bdf).not.toBe('0000:00:03.0'); // edu's
    }
  });

  it('an unknown model is refused, naming the models, before QEMU starts', async () => {
    const t0 = Date.now();
    const start = Testbed.start({ passthroughNics: ['rtl8139' as PassthroughNicModel] });
    await expect(start).rejects.toThrow(TestbedError);
    await expect(start).rejects.toThrow(/passthroughNics: 'rtl8139' is not a NIC model the testbed passes through; use 'e1000' or 'pcnet'/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
