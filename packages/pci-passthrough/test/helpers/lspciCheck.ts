import { expect } from 'vitest';

/**
 * Cross-checks decoded devices against lspci (pciutils), which reads the same kernel data with
 * its own decoder. Values may be bigints or, after a JSON trip out of dom0, hex strings.
 */
type Big = bigint | string;
const big = (v: Big | null | undefined): bigint | null => (v === null || v === undefined ? null : typeof v === 'bigint' ? v : BigInt(v));

export interface DecodedEntry {
  device: { bdf: string; vendorId: number; deviceId: number; classCode: { code: number }; revision: number | null; subsystemVendorId: number | null; subsystemDeviceId: number | null; driver: string | null };
  config: {
    status: number;
    bars: Array<{ index: number; kind: string; prefetchable: boolean; address: Big; size: Big | null }>;
    capabilities: Array<Record<string, any> & { offset: number; kind: string }>;
    extendedCapabilities: Array<{ offset: number; version: number }>;
  };
}

/** `lspci -D -n -vvv` output split per device. */
export function splitLspciVerbose(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(line);
    if (m) {
      current = [line];
      out.set(m[1]!, current);
    } else if (current && line.trim() !== '') current.push(line);
  }
  return out;
}

function parseLspciSize(text: string): bigint {
  const m = /^(\d+)([KMGT]?)$/.exec(text)!;
  const mult = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return BigInt(m[1]!) * mult;
}

/** Compares ids, class, revision and subsystem with `lspci -D -n -mm`. Returns devices compared. */
export function compareWithLspciMm(entries: DecodedEntry[], mmText: string): number {
  const byBdf = new Map(entries.map((e) => [e.device.bdf, e.device]));
  const lines = mmText.trim().split('\n');
  expect(lines.length).toBe(entries.length);
  for (const line of lines) {
    const fields = [...line.matchAll(/"([^"]*)"|(-[a-z][0-9a-f]+)|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    const [bdf, cls, vendor, device] = fields;
    const d = byBdf.get(bdf!)!;
    expect(d, bdf).toBeDefined();
    expect(parseInt(cls!, 16), `${bdf} class`).toBe(d.classCode.code >>> 8);
    expect(parseInt(vendor!, 16), `${bdf} vendor`).toBe(d.vendorId);
    expect(parseInt(device!, 16), `${bdf} device`).toBe(d.deviceId);
    const rev = fields.find((f) => /^-r[0-9a-f]+$/.test(f));
    expect(rev ? parseInt(rev.slice(2), 16) : 0, `${bdf} revision`).toBe(d.revision ?? 0);
    const quoted = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    if (quoted[3]) expect(parseInt(quoted[3], 16), `${bdf} subsystem vendor`).toBe(d.subsystemVendorId);
    if (quoted[4]) expect(parseInt(quoted[4], 16), `${bdf} subsystem device`).toBe(d.subsystemDeviceId);
  }
  return lines.length;
}

/**
 * Compares BARs, capability offsets, MSI/MSI-X fields, extended capabilities and drivers with
 * `lspci -D -n -vvv` (needs a root reader on both sides). Returns the capabilities compared.
 */
export function compareWithLspciVerbose(entries: DecodedEntry[], verboseText: string): { capabilities: number; bars: number } {
  const verbose = splitLspciVerbose(verboseText);
  let capsCompared = 0;
  let barsCompared = 0;
  for (const { device, config } of entries) {
    const bdf = device.bdf;
    const lines = verbose.get(bdf)!;
    expect(lines, bdf).toBeDefined();
    const regions = lines.flatMap((l) => {
      const m = /Region (\d): (Memory|I\/O ports) at ([0-9a-f]+)(?: \((64|32)-bit, (prefetchable|non-prefetchable)\))?.*\[size=(\w+)\]/.exec(l);
      return m ? [{ index: Number(m[1]), io: m[2] !== 'Memory', address: BigInt(`0x${m[3]}`), bits: m[4], pf: m[5] === 'prefetchable', size: parseLspciSize(m[6]!) }] : [];
    });
    for (const r of regions) {
      const bar = config.bars.find((b) => b.index === r.index)!;
      expect(bar, `${bdf} BAR${r.index}`).toBeDefined();
      expect(big(bar.address), `${bdf} BAR${r.index} address`).toBe(r.address);
      expect(big(bar.size), `${bdf} BAR${r.index} size`).toBe(r.size);
      expect(bar.kind === 'io', `${bdf} BAR${r.index} io`).toBe(r.io);
      if (!r.io) {
        expect(bar.kind === 'mem64', `${bdf} BAR${r.index} 64-bit`).toBe(r.bits === '64');
        expect(bar.prefetchable, `${bdf} BAR${r.index} prefetchable`).toBe(r.pf);
      }
      barsCompared++;
    }
    expect(config.bars.filter((b) => (big(b.size) ?? 0n) > 0n).length, `${bdf} BAR count`).toBe(regions.length);
    const capLines = lines.filter((l) => /^\tCapabilities: \[[0-9a-f]{2}\]/.test(l));
    expect(config.capabilities.map((c) => c.offset), `${bdf} capability offsets`).toEqual(capLines.map((l) => parseInt(/\[([0-9a-f]+)\]/.exec(l)![1]!, 16)));
    for (const cap of config.capabilities) {
      const line = capLines.find((l) => l.includes(`[${cap.offset.toString(16).padStart(2, '0')}]`))!;
      const what = `${bdf} cap ${cap.offset.toString(16)}: ${line}`;
      capsCompared++;
      if (cap.kind === 'msix') {
        expect(line, what).toContain(`Count=${cap.tableSize}`);
        expect(line, what).toContain(cap.enabled ? 'Enable+' : 'Enable-');
        expect(line, what).toContain(cap.functionMask ? 'Masked+' : 'Masked-');
      }
      if (cap.kind === 'msi') {
        expect(line, what).toContain(cap.enabled ? 'Enable+' : 'Enable-');
        expect(line, what).toContain(`Count=${cap.multipleMessageEnabled}/${cap.multipleMessageCapable}`);
        expect(line, what).toContain(cap.address64 ? '64bit+' : '64bit-');
        expect(line, what).toContain(cap.perVectorMasking ? 'Maskable+' : 'Maskable-');
      }
      if (cap.kind === 'vendor') expect(line, what).toMatch(/Vendor Specific/);
      if (cap.kind === 'pcie') expect(line, what).toMatch(/Express/);
      if (cap.kind === 'pm') expect(line, what).toMatch(new RegExp(`Power Management version ${cap.version}`));
    }
    const extLines = lines.filter((l) => /^\tCapabilities: \[[0-9a-f]{3} v\d+\]/.test(l));
    expect(config.extendedCapabilities.map((c) => `${c.offset.toString(16)} v${c.version}`), `${bdf} extended`).toEqual(
      extLines.map((l) => /\[([0-9a-f]{3} v\d+)\]/.exec(l)![1]),
    );
    const driverLine = lines.find((l) => l.includes('Kernel driver in use:'));
    expect(device.driver, `${bdf} driver`).toBe(driverLine ? driverLine.split(':')[1]!.trim() : null);
    // Every capability lspci listed was compared.
    expect(capLines.length).toBe(config.capabilities.length);
  }
  return { capabilities: capsCompared, bars: barsCompared };
}
