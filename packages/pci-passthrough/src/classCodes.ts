/**
 * PCI class codes (base class, subclass) as assigned by the PCI-SIG code and ID assignment
 * specification, decoded to short English names for listings.
 */
interface ClassEntry {
  name: string;
  subclasses: Record<number, string>;
}

const CLASSES: Record<number, ClassEntry> = {
  0x00: { name: 'Unclassified device', subclasses: { 0x00: 'Non-VGA unclassified device', 0x01: 'VGA compatible unclassified device' } },
  0x01: {
    name: 'Mass storage controller',
    subclasses: {
      0x00: 'SCSI storage controller', 0x01: 'IDE interface', 0x02: 'Floppy disk controller',
      0x03: 'IPI bus controller', 0x04: 'RAID bus controller', 0x05: 'ATA controller',
      0x06: 'SATA controller', 0x07: 'Serial Attached SCSI controller',
      0x08: 'Non-Volatile memory controller', 0x09: 'Universal Flash Storage controller',
      0x80: 'Mass storage controller',
    },
  },
  0x02: {
    name: 'Network controller',
    subclasses: {
      0x00: 'Ethernet controller', 0x01: 'Token ring network controller', 0x02: 'FDDI network controller',
      0x03: 'ATM network controller', 0x04: 'ISDN controller', 0x05: 'WorldFip controller',
      0x06: 'PICMG controller', 0x07: 'Infiniband controller', 0x08: 'Fabric controller',
      0x80: 'Network controller',
    },
  },
  0x03: { name: 'Display controller', subclasses: { 0x00: 'VGA compatible controller', 0x01: 'XGA compatible controller', 0x02: '3D controller', 0x80: 'Display controller' } },
  0x04: { name: 'Multimedia controller', subclasses: { 0x00: 'Multimedia video controller', 0x01: 'Multimedia audio controller', 0x02: 'Computer telephony device', 0x03: 'Audio device', 0x80: 'Multimedia controller' } },
  0x05: { name: 'Memory controller', subclasses: { 0x00: 'RAM memory', 0x01: 'FLASH memory', 0x02: 'CXL', 0x80: 'Memory controller' } },
  0x06: {
    name: 'Bridge',
    subclasses: {
      0x00: 'Host bridge', 0x01: 'ISA bridge', 0x02: 'EISA bridge', 0x03: 'MicroChannel bridge',
      0x04: 'PCI bridge', 0x05: 'PCMCIA bridge', 0x06: 'NuBus bridge', 0x07: 'CardBus bridge',
      0x08: 'RACEway bridge', 0x09: 'Semi-transparent PCI-to-PCI bridge', 0x0a: 'InfiniBand to PCI host bridge',
      0x80: 'Bridge',
    },
  },
  0x07: { name: 'Communication controller', subclasses: { 0x00: 'Serial controller', 0x01: 'Parallel controller', 0x02: 'Multiport serial controller', 0x03: 'Modem', 0x04: 'GPIB controller', 0x05: 'Smart Card controller', 0x80: 'Communication controller' } },
  0x08: {
    name: 'Generic system peripheral',
    subclasses: {
      0x00: 'PIC', 0x01: 'DMA controller', 0x02: 'Timer', 0x03: 'RTC', 0x04: 'PCI Hot-plug controller',
      0x05: 'SD Host controller', 0x06: 'IOMMU', 0x80: 'System peripheral',
    },
  },
  0x09: { name: 'Input device controller', subclasses: { 0x00: 'Keyboard controller', 0x01: 'Digitizer Pen', 0x02: 'Mouse controller', 0x03: 'Scanner controller', 0x04: 'Gameport controller', 0x80: 'Input device controller' } },
  0x0a: { name: 'Docking station', subclasses: { 0x00: 'Generic Docking Station', 0x80: 'Docking Station' } },
  0x0b: { name: 'Processor', subclasses: { 0x00: '386', 0x01: '486', 0x02: 'Pentium', 0x10: 'Alpha', 0x20: 'Power PC', 0x30: 'MIPS', 0x40: 'Co-processor' } },
  0x0c: {
    name: 'Serial bus controller',
    subclasses: {
      0x00: 'FireWire (IEEE 1394)', 0x01: 'ACCESS Bus', 0x02: 'SSA', 0x03: 'USB controller',
      0x04: 'Fibre Channel', 0x05: 'SMBus', 0x06: 'InfiniBand', 0x07: 'IPMI Interface',
      0x08: 'SERCOS interface', 0x09: 'CANBUS', 0x80: 'Serial bus controller',
    },
  },
  0x0d: { name: 'Wireless controller', subclasses: { 0x00: 'IRDA controller', 0x01: 'Consumer IR controller', 0x10: 'RF controller', 0x11: 'Bluetooth', 0x12: 'Broadband', 0x20: '802.1a controller', 0x21: '802.1b controller', 0x80: 'Wireless controller' } },
  0x0e: { name: 'Intelligent controller', subclasses: { 0x00: 'I2O' } },
  0x0f: { name: 'Satellite communications controller', subclasses: { 0x01: 'Satellite TV controller', 0x02: 'Satellite audio communication controller', 0x03: 'Satellite voice communication controller', 0x04: 'Satellite data communication controller' } },
  0x10: { name: 'Encryption controller', subclasses: { 0x00: 'Network and computing encryption device', 0x10: 'Entertainment encryption device', 0x80: 'Encryption controller' } },
  0x11: { name: 'Signal processing controller', subclasses: { 0x00: 'DPIO module', 0x01: 'Performance counters', 0x10: 'Communication synchronizer', 0x20: 'Signal processing management', 0x80: 'Signal processing controller' } },
  0x12: { name: 'Processing accelerators', subclasses: { 0x00: 'Processing accelerators', 0x01: 'SNIA Smart Data Accelerator Interface (SDXI) controller' } },
  0x13: { name: 'Non-Essential Instrumentation', subclasses: {} },
  0x40: { name: 'Coprocessor', subclasses: {} },
  0xff: { name: 'Unassigned class', subclasses: {} },
};

/** A decoded 24-bit class code (`class` in sysfs, config bytes 0x09..0x0b). */
export interface PciClass {
  /** The 24-bit value: base class << 16 | subclass << 8 | programming interface. */
  code: number;
  baseClass: number;
  subclass: number;
  progIf: number;
  /** Most specific name known: the subclass name, else the base class name, else a hex form. */
  name: string;
  baseClassName: string;
}

export function decodeClassCode(code: number): PciClass {
  const baseClass = (code >>> 16) & 0xff;
  const subclass = (code >>> 8) & 0xff;
  const progIf = code & 0xff;
  const entry = CLASSES[baseClass];
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const baseClassName = entry?.name ?? `Class ${hex(baseClass)}`;
  const name = entry?.subclasses[subclass] ?? (entry ? `${entry.name} [${hex(subclass)}]` : `Class ${hex(baseClass)}${hex(subclass)}`);
  return { code: code & 0xffffff, baseClass, subclass, progIf, name, baseClassName };
}
