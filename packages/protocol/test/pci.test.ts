// The PCI device model: the one BDF parser, its refusals (which part was wrong, for callers
// that word them their own way), and the three per-device renderings with every option.
import { describe, expect, it } from 'vitest';
import { checkPassthrough, formatBdf, libvirtHostdev, libxlPci, parseBdf, PciSpecError, xlPciLine, xlPciSpec, type PciSpecProblem } from '../src/index.js';

describe('parseBdf', () => {
  it('reads the lspci, sysfs and xl spellings; formatBdf writes the canonical one', () => {
    expect(parseBdf(' 10ab:fe:0a.1 ')).toEqual({ domain: 0x10ab, bus: 0xfe, device: 0x0a, function: 1 });
    expect(formatBdf(parseBdf('3:0.0'))).toBe('0000:03:00.0');
  });

  it.each([
    ['bdf', () => parseBdf('00:03'), '00:03', undefined],
    ['device-number', () => parseBdf('0000:00:20.0'), '0000:00:20.0', 0x20],
    ['vslot', () => checkPassthrough({ bdf: '00:03.0', vslot: 32 }), '0000:00:03.0', 32],
    ['rdm_policy', () => checkPassthrough({ bdf: '00:03.0', rdmPolicy: 'lax' as 'strict' }), '0000:00:03.0', 'lax'],
  ] as const)('refuses a bad %s, saying which part was wrong', (problem: PciSpecProblem, f, input, value) => {
    expect(f).toThrow(PciSpecError);
    expect(f).toThrow(expect.objectContaining({ problem, input, value }));
  });
});

describe('the per-device renderings', () => {
  const every = { bdf: '0001:02:1c.3', vslot: 4, permissive: true, msitranslate: false, seize: true, powerMgmt: true, rdmPolicy: 'relaxed' } as const;

  it('write only the options given, each in its own form', () => {
    expect(xlPciSpec({ bdf: '00:03.0' })).toBe('0000:00:03.0');
    expect(xlPciSpec(every)).toBe('0001:02:1c.3@04,permissive=1,msitranslate=0,seize=1,power_mgmt=1,rdm_policy=relaxed');
    expect(xlPciLine([{ bdf: '00:03.0' }, { bdf: '00:04.0', permissive: false }])).toBe("pci = [ '0000:00:03.0', '0000:00:04.0,permissive=0' ]");
    expect(JSON.stringify(libxlPci(every))).toBe(
      '{"func":3,"dev":28,"bus":2,"domain":1,"vdevfn":35,"msitranslate":false,"power_mgmt":true,"permissive":true,"seize":true,"rdm_policy":"relaxed"}',
    );
    expect(libvirtHostdev({ ...every, managed: false })).toBe(
      [
        "<hostdev mode='subsystem' type='pci' managed='no'>",
        "  <driver name='xen'/>",
        "  <source writeFiltering='no'>",
        "    <address domain='0x0001' bus='0x02' slot='0x1c' function='0x3'/>",
        '  </source>',
        "  <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x3'/>",
        '</hostdev>',
      ].join('\n'),
    );
  });
});
