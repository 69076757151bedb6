import { describe, expect, it } from 'vitest';
import { formatBdf, libvirtHostdevXml, libxlPcidev, libxlPcidevs, normalizeBdf, parseBdf, PciError, xlPciEntry, xlPciLine } from '../src/index.js';

describe('BDF parsing', () => {
  it('accepts the lspci, sysfs and xl spellings', () => {
    expect(parseBdf('0000:00:03.0')).toEqual({ domain: 0, bus: 0, device: 3, function: 0 });
    expect(parseBdf('00:1f.7')).toEqual({ domain: 0, bus: 0, device: 0x1f, function: 7 });
    expect(parseBdf(' 10ab:fe:0a.1 ')).toEqual({ domain: 0x10ab, bus: 0xfe, device: 0x0a, function: 1 });
    expect(formatBdf({ domain: 1, bus: 2, device: 3, function: 4 })).toBe('0001:02:03.4');
    expect(normalizeBdf('3:0.0')).toBe('0000:03:00.0');
  });

  it.each([
    ['', /malformed PCI address ''/],
    ['00:03', /malformed PCI address '00:03': expected \[DDDD:\]BB:DD\.F/],
    ['00:03.8', /'00:03\.8'/],
    ['0000:00:20.0', /device number 0x20 is above 0x1f/],
    ['00000:00:03.0', /'00000:00:03\.0'/],
    ['gg:00.0', /hex digits, e\.g\. 0000:00:03\.0/],
  ])('rejects %j with a message naming it and the fix', (input, message) => {
    expect(() => parseBdf(input)).toThrow(PciError);
    expect(() => parseBdf(input)).toThrow(message);
    try {
      parseBdf(input);
    } catch (e) {
      expect((e as PciError).code).toBe('BAD_BDF');
      expect((e as PciError).exitCode).toBe(2);
    }
  });
});

describe('xl pci= entries', () => {
  it('writes the canonical BDF and only the options given', () => {
    expect(xlPciEntry({ bdf: '00:03.0' })).toBe('0000:00:03.0');
    expect(xlPciEntry({ bdf: '00:03.0', vslot: 5, permissive: true, msitranslate: false, seize: true, powerMgmt: true, rdmPolicy: 'relaxed' })).toBe(
      '0000:00:03.0@05,permissive=1,msitranslate=0,seize=1,power_mgmt=1,rdm_policy=relaxed',
    );
    expect(xlPciLine([{ bdf: '00:03.0' }, { bdf: '0000:00:04.0', permissive: true }])).toBe(
      "pci = [ '0000:00:03.0', '0000:00:04.0,permissive=1' ]",
    );
  });

  it('rejects a bad vslot or rdm_policy naming the value and the allowed range', () => {
    expect(() => xlPciEntry({ bdf: '00:03.0', vslot: 32 })).toThrow(/vslot 32 for 0000:00:03\.0.*0\.\.31/);
    expect(() => xlPciEntry({ bdf: '00:03.0', rdmPolicy: 'lax' as 'strict' })).toThrow(/rdm_policy 'lax'.*'strict' or 'relaxed'/);
    expect(() => xlPciEntry({ bdf: 'nonsense' })).toThrow(/malformed PCI address 'nonsense'/);
  });
});

describe('libxl pcidevs', () => {
  it('emits libxl_device_pci fields, vdevfn from the guest slot', () => {
    expect(libxlPcidev({ bdf: '0001:02:1c.3', vslot: 4, permissive: true, rdmPolicy: 'strict' })).toEqual({
      func: 3,
      dev: 0x1c,
      bus: 2,
      domain: 1,
      vdevfn: (4 << 3) | 3,
      permissive: true,
      rdm_policy: 'strict',
    });
    expect(JSON.parse(JSON.stringify(libxlPcidevs([{ bdf: '00:03.0', msitranslate: true }])))).toEqual({
      pcidevs: [{ func: 0, dev: 3, bus: 0, domain: 0, msitranslate: true }],
    });
  });
});

describe('libvirt hostdev', () => {
  it('emits a managed subsystem PCI hostdev for the xen driver', () => {
    expect(libvirtHostdevXml({ bdf: '00:03.0' })).toBe(
      [
        "<hostdev mode='subsystem' type='pci' managed='yes'>",
        "  <driver name='xen'/>",
        '  <source>',
        "    <address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>",
        '  </source>',
        '</hostdev>',
      ].join('\n'),
    );
  });
  it('maps permissive to writeFiltering=no, vslot to a guest address, managed=false to no', () => {
    const xml = libvirtHostdevXml({ bdf: '0000:01:00.1', permissive: true, vslot: 6, managed: false });
    expect(xml).toContain("managed='no'");
    expect(xml).toContain("<source writeFiltering='no'>");
    expect(xml).toContain("<address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>");
    expect(xml).toContain("<address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x1'/>");
  });
});
