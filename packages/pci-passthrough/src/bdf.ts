import { PciError } from './errors.js';

/** A PCI address: segment (domain), bus, device (slot) and function. */
export interface PciAddress {
  domain: number;
  bus: number;
  device: number;
  function: number;
}

const BDF_RE = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/**
 * Parses `[DDDD:]BB:DD.F` (the form lspci, sysfs and xl use; hex fields, domain 0 when omitted).
 * Throws PciError BAD_BDF naming the input and the expected form.
 */
export function parseBdf(text: string): PciAddress {
  const trimmed = text.trim();
  const m = BDF_RE.exec(trimmed);
  const fix = `write it as DDDD:BB:DD.F with hex digits, e.g. 0000:00:03.0 (see 'lspci -D' or /sys/bus/pci/devices)`;
  if (!m) {
    throw new PciError('BAD_BDF', `malformed PCI address '${text}': expected [DDDD:]BB:DD.F; ${fix}`, 2);
  }
  const address: PciAddress = {
    domain: m[1] === undefined ? 0 : parseInt(m[1], 16),
    bus: parseInt(m[2]!, 16),
    device: parseInt(m[3]!, 16),
    function: parseInt(m[4]!, 10),
  };
  if (address.device > 0x1f) {
    throw new PciError(
      'BAD_BDF',
      `malformed PCI address '${text}': device number 0x${address.device.toString(16)} is above 0x1f (a bus has 32 device slots); ${fix}`,
      2,
    );
  }
  return address;
}

/** Canonical `DDDD:BB:DD.F`, the name of the device's folder in /sys/bus/pci/devices. */
export function formatBdf(address: PciAddress): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `${hex(address.domain, 4)}:${hex(address.bus, 2)}:${hex(address.device, 2)}.${address.function}`;
}

/** Accepts a PciAddress or any spelling parseBdf accepts; returns the canonical form. */
export function normalizeBdf(bdf: string | PciAddress): string {
  return formatBdf(typeof bdf === 'string' ? parseBdf(bdf) : bdf);
}
