import { describe, expect, it } from 'vitest';
import {
  barSizeFromProbe,
  decodeConfigSpace,
  parseResourceFile,
  PciError,
  romSizeFromProbe,
  type MsiCapability,
  type MsixCapability,
  type PcieCapability,
  type PowerManagementCapability,
} from '../src/index.js';
import { ConfigBuilder } from './helpers/configBuilder.js';

describe('barSizeFromProbe', () => {
  it('sizes a 32-bit memory BAR from its read-back mask', () => {
    expect(barSizeFromProbe(0xfff00000)).toBe(0x100000n); // 1 MiB, like edu's BAR0
    expect(barSizeFromProbe(0xfffff008)).toBe(0x1000n); // prefetchable bit ignored
  });
  it('sizes a 64-bit memory BAR from both halves', () => {
    expect(barSizeFromProbe(0xfff8000c, 0xffffffff)).toBe(0x80000n);
    expect(barSizeFromProbe(0x0000000c, 0xfffffffe)).toBe(0x200000000n); // 8 GiB
  });
  it('sizes I/O BARs, including 16-bit decoders', () => {
    expect(barSizeFromProbe(0xffffffe1)).toBe(32n);
    expect(barSizeFromProbe(0x0000ffe1)).toBe(32n);
  });
  it('reports 0 for an unimplemented BAR', () => {
    expect(barSizeFromProbe(0)).toBe(0n);
    expect(barSizeFromProbe(0x4, 0)).toBe(0n);
  });
  it('refuses a 64-bit probe without its upper half', () => {
    expect(() => barSizeFromProbe(0xfff8000c)).toThrow(/highProbe/);
  });
  it('sizes an expansion ROM', () => {
    expect(romSizeFromProbe(0xfffe0000)).toBe(0x20000n);
    expect(romSizeFromProbe(0xfffe0001)).toBe(0x20000n);
  });
});

describe('decodeConfigSpace: endpoint header and BARs', () => {
  const b = new ConfigBuilder(256).endpoint(0x1234, 0x11e8, 0x00ff00, 0);
  b.u16(0x04, 0x0406); // memory + bus master + INTx disabled
  b.u32(0x10, 0xfea00000); // BAR0 mem32
  b.u32(0x14, 0x0000c001); // BAR1 io
  b.u32(0x18, 0xe000000c); // BAR2 mem64 prefetchable, low
  b.u32(0x1c, 0x00000080); // BAR3 high half
  b.u16(0x2c, 0x1af4).u16(0x2e, 0x1100).u32(0x30, 0xfeb00001).u8(0x3c, 11).u8(0x3d, 1);
  const resources = parseResourceFile(
    [
      '0x00000000fea00000 0x00000000feafffff 0x0000000000040200',
      '0x000000000000c000 0x000000000000c01f 0x0000000000040101',
      '0x00000080e0000000 0x00000080efffffff 0x000000000014220c',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x0000000000000000 0x0000000000000000 0x0000000000000000',
      '0x00000000feb00000 0x00000000feb3ffff 0x0000000000046200',
    ].join('\n'),
  );
  const d = decodeConfigSpace(b.bytes, { resources });

  it('decodes ids, class, command and interrupt pin', () => {
    expect(d.vendorId).toBe(0x1234);
    expect(d.deviceId).toBe(0x11e8);
    expect(d.revision).toBe(0x10);
    expect(d.classCode).toMatchObject({ baseClass: 0x00, subclass: 0xff, code: 0x00ff00 });
    expect(d.headerLayout).toBe('endpoint');
    expect(d.commandFlags).toEqual({ ioSpace: false, memorySpace: true, busMaster: true, intxDisabled: true });
    expect(d.subsystemVendorId).toBe(0x1af4);
    expect(d.subsystemId).toBe(0x1100);
    expect(d.interruptPin).toBe('INTA');
    expect(d.interruptLine).toBe(11);
    expect(d.capabilities).toEqual([]);
  });

  it('decodes mem32, io and 64-bit prefetchable BARs with sizes from the resource lines', () => {
    expect(d.bars).toEqual([
      { index: 0, offset: 0x10, kind: 'mem32', prefetchable: false, address: 0xfea00000n, size: 0x100000n },
      { index: 1, offset: 0x14, kind: 'io', prefetchable: false, address: 0xc000n, size: 0x20n },
      { index: 2, offset: 0x18, kind: 'mem64', prefetchable: true, address: 0x80e0000000n, size: 0x10000000n },
    ]);
    expect(d.expansionRom).toEqual({ offset: 0x30, address: 0xfeb00000n, enabled: true, size: 0x40000n });
    expect(d.warnings).toEqual([]);
  });

  it('leaves sizes null without resource lines', () => {
    expect(decodeConfigSpace(b.bytes).bars.map((x) => x.size)).toEqual([null, null, null]);
  });

  it('warns about a 64-bit BAR in the last slot', () => {
    const c = new ConfigBuilder(256).endpoint(0x1234, 0x1, 0x020000);
    c.u32(0x24, 0xf000000c);
    const r = decodeConfigSpace(c.bytes);
    expect(r.bars).toHaveLength(1);
    expect(r.bars[0]).toMatchObject({ index: 5, kind: 'mem64' });
    expect(r.warnings.join()).toMatch(/BAR5 .*64-bit.*last BAR/);
  });
});

describe('decodeConfigSpace: capabilities', () => {
  function edu() {
    // MSI (64-bit, per-vector masking: mask at 0x50, pending at 0x54), PM at 0x60, PCIe at 0x68, MSI-X at 0xa0.
    const c = new ConfigBuilder(256).endpoint(0x1234, 0x11e8, 0x00ff00, 0x40);
    c.cap(0x40, 0x05, 0x60).u16(0x42, 0x0080 | 0x0100 | (3 << 1) | (1 << 4) | 1);
    c.u32(0x44, 0xfee00000).u32(0x48, 0x1).u16(0x4c, 0x4021).u32(0x50, 0x000000f0).u32(0x54, 0x00000002);
    c.cap(0x60, 0x01, 0x68).u16(0x62, 0xc803).u16(0x64, 0x0003);
    c.cap(0x68, 0x10, 0xa0).u16(0x6a, 0x0002).u32(0x6c, 0x00000002).u16(0x70, 0x2030).u32(0x74, 0x00000043).u16(0x7a, 0x0041);
    c.cap(0xa0, 0x11, 0x00).u16(0xa2, 0x8000 | 0x4000 | 15).u32(0xa4, 0x00002002).u32(0xa8, 0x00003002);
    return c;
  }

  it('walks MSI, PM, PCIe and MSI-X and decodes their fields', () => {
    const d = decodeConfigSpace(edu().bytes);
    expect(d.warnings).toEqual([]);
    expect(d.capabilities.map((c) => [c.offset, c.kind])).toEqual([
      [0x40, 'msi'],
      [0x60, 'pm'],
      [0x68, 'pcie'],
      [0xa0, 'msix'],
    ]);
    const msi = d.capabilities[0] as MsiCapability;
    expect(msi).toMatchObject({
      name: 'MSI',
      enabled: true,
      address64: true,
      perVectorMasking: true,
      multipleMessageCapable: 8,
      multipleMessageEnabled: 2,
      messageAddress: 0x1fee00000n,
      messageData: 0x4021,
      maskBits: 0xf0,
      pendingBits: 0x2,
    });
    const pm = d.capabilities[1] as PowerManagementCapability;
    expect(pm).toMatchObject({ version: 3, d1Support: false, d2Support: false, pmeSupport: ['D0', 'D3hot', 'D3cold'], powerState: 'D3hot' });
    const pcie = d.capabilities[2] as PcieCapability;
    expect(pcie).toMatchObject({
      version: 2,
      deviceType: 'endpoint',
      maxPayloadSupported: 512,
      maxPayload: 256,
      maxReadRequest: 512,
      link: { maxSpeed: '8GT/s', maxWidth: 4, speed: '2.5GT/s', width: 4 },
    });
    const msix = d.capabilities[3] as MsixCapability;
    expect(msix).toMatchObject({ enabled: true, functionMask: true, tableSize: 16, tableBar: 2, tableOffset: 0x2000, pbaBar: 2, pbaOffset: 0x3000 });
  });

  it('decodes 32-bit MSI without masking', () => {
    const b = new ConfigBuilder(256).endpoint(0x8086, 0x100e, 0x020000, 0x50);
    b.cap(0x50, 0x05, 0).u16(0x52, 0).u32(0x54, 0xfee0100c).u16(0x58, 0x0041);
    const msi = decodeConfigSpace(b.bytes).capabilities[0] as MsiCapability;
    expect(msi).toMatchObject({ enabled: false, address64: false, perVectorMasking: false, multipleMessageCapable: 1, messageAddress: 0xfee0100cn, messageData: 0x41, maskBits: null });
  });

  it('stops at a capability loop and says where', () => {
    const b = new ConfigBuilder(256).endpoint(0x1234, 0x1, 0x020000, 0x40);
    b.cap(0x40, 0x01, 0x50).cap(0x50, 0x09, 0x40).u8(0x52, 4);
    const d = decodeConfigSpace(b.bytes);
    expect(d.capabilities.map((c) => c.offset)).toEqual([0x40, 0x50]);
    expect(d.warnings).toEqual([expect.stringMatching(/loops back to 0x40/)]);
  });

  it('stops at a self-loop', () => {
    const b = new ConfigBuilder(256).endpoint(0x1234, 0x1, 0x020000, 0x80);
    b.cap(0x80, 0x05, 0x80);
    const d = decodeConfigSpace(b.bytes);
    expect(d.capabilities).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/loops back to 0x80/);
  });

  it('refuses pointers into the header and masks the reserved low bits', () => {
    const b = new ConfigBuilder(256).endpoint(0x1234, 0x1, 0x020000, 0x43); // 0x43 -> 0x40
    b.cap(0x40, 0x01, 0x10);
    const d = decodeConfigSpace(b.bytes);
    expect(d.capabilities.map((c) => c.offset)).toEqual([0x40]);
    expect(d.warnings[0]).toMatch(/0x10 points into the standard header/);
  });

  it('does not read past the end when a capability straddles it', () => {
    const b = new ConfigBuilder(256).endpoint(0x1234, 0x1, 0x020000, 0xfc);
    b.cap(0xfc, 0x05, 0).u16(0xfe, 0x0180); // 64-bit MSI needs bytes up to 0x113
    const d = decodeConfigSpace(b.bytes);
    expect(d.capabilities).toEqual([{ id: 5, name: 'MSI', offset: 0xfc, kind: 'other' }]);
    expect(d.warnings[0]).toMatch(/MSI capability at 0xfc extends past/);
  });

  it('survives every possible byte at the capability pointer of a random image', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let trial = 0; trial < 200; trial++) {
      const b = new ConfigBuilder(trial % 2 ? 256 : 4096);
      for (let i = 0; i < b.bytes.length; i++) b.bytes[i] = rnd();
      b.u8(0x0e, 0).u16(0x06, 0x10);
      const d = decodeConfigSpace(b.bytes);
      expect(d.capabilities.length).toBeLessThanOrEqual(48);
      expect(d.extendedCapabilities.length).toBeLessThanOrEqual(960);
    }
  });

  it('decodes nothing past a 64-byte unprivileged read, and says so', () => {
    const d = decodeConfigSpace(edu().bytes.slice(0, 64));
    expect(d.capabilities).toEqual([]);
    expect(d.warnings[0]).toMatch(/only the 64-byte header/);
  });

  it('rejects an image shorter than the header, naming its length', () => {
    expect(() => decodeConfigSpace(new Uint8Array(32))).toThrow(PciError);
    expect(() => decodeConfigSpace(new Uint8Array(32))).toThrow(/32 bytes.*64-byte/);
  });
});

describe('decodeConfigSpace: extended capabilities', () => {
  it('walks the extended list of a PCIe function', () => {
    const b = new ConfigBuilder(4096).endpoint(0x8086, 0x1521, 0x020000);
    b.u32(0x100, (0x140 << 20) | (1 << 16) | 0x0001); // AER v1 -> 0x140
    b.u32(0x140, (0x160 << 20) | (1 << 16) | 0x0003); // serial number -> 0x160
    b.u32(0x160, (0 << 20) | (1 << 16) | 0x0010); // SR-IOV, end
    const d = decodeConfigSpace(b.bytes);
    expect(d.extendedCapabilities).toEqual([
      { id: 1, name: 'Advanced Error Reporting', version: 1, offset: 0x100 },
      { id: 3, name: 'Device Serial Number', version: 1, offset: 0x140 },
      { id: 0x10, name: 'Single Root I/O Virtualization', version: 1, offset: 0x160 },
    ]);
    expect(d.warnings).toEqual([]);
  });

  it('stops at an extended loop and at a pointer below 0x100', () => {
    const loop = new ConfigBuilder(4096).endpoint(0x8086, 0x1521, 0x020000);
    loop.u32(0x100, (0x200 << 20) | (1 << 16) | 0x000d).u32(0x200, (0x100 << 20) | (1 << 16) | 0x000e);
    const d = decodeConfigSpace(loop.bytes);
    expect(d.extendedCapabilities.map((c) => c.offset)).toEqual([0x100, 0x200]);
    expect(d.warnings[0]).toMatch(/extended capability list loops back to 0x100/);

    const low = new ConfigBuilder(4096).endpoint(0x8086, 0x1521, 0x020000);
    low.u32(0x100, (0x040 << 20) | (1 << 16) | 0x0001);
    const e = decodeConfigSpace(low.bytes);
    expect(e.extendedCapabilities).toHaveLength(1);
    expect(e.warnings[0]).toMatch(/points to 0x40, below 0x100/);
  });

  it('finds none in an all-zero extended space', () => {
    expect(decodeConfigSpace(new ConfigBuilder(4096).endpoint(1, 2, 0x060000).bytes).extendedCapabilities).toEqual([]);
  });
});

describe('decodeConfigSpace: bridge header', () => {
  it('decodes bus numbers, windows and the two BARs of a type-1 header', () => {
    const b = new ConfigBuilder(256);
    b.u16(0, 0x8086).u16(2, 0x244e).u8(0x0b, 0x06).u8(0x0a, 0x04).u8(0x0e, 0x81);
    b.u32(0x10, 0xfe000000);
    b.u8(0x18, 0).u8(0x19, 1).u8(0x1a, 3);
    b.u8(0x1c, 0x11).u8(0x1d, 0x21).u16(0x30, 0).u16(0x32, 0); // I/O 0x1000..0x2fff, 32-bit capable
    b.u16(0x20, 0xfd00).u16(0x22, 0xfdf0); // mem 0xfd000000..0xfdffffff
    b.u16(0x24, 0x0011).u16(0x26, 0x0001).u32(0x28, 0x1).u32(0x2c, 0x1); // empty? base 0x1_0010_0000 > limit
    b.u16(0x3e, 0x0010);
    const d = decodeConfigSpace(b.bytes);
    expect(d.headerLayout).toBe('bridge');
    expect(d.multiFunction).toBe(true);
    expect(d.classCode.name).toBe('PCI bridge');
    expect(d.bars).toEqual([{ index: 0, offset: 0x10, kind: 'mem32', prefetchable: false, address: 0xfe000000n, size: null }]);
    expect(d.subsystemVendorId).toBeNull();
    expect(d.bridge).toEqual({
      primaryBus: 0,
      secondaryBus: 1,
      subordinateBus: 3,
      io: { base: 0x1000n, limit: 0x2fffn },
      memory: { base: 0xfd000000n, limit: 0xfdffffffn },
      prefetchable: null,
      bridgeControl: 0x10,
    });
  });
});
