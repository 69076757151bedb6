import { formatBdf, parseBdf as parseAddress, type PciAddress } from '@rumpxen/protocol';
import { pciErrorOf } from './errors.js';

export { formatBdf, type PciAddress };

/**
 * Parses `[DDDD:]BB:DD.F` (the form lspci, sysfs and xl use; hex fields, domain 0 when omitted)
 * with @rumpxen/protocol's parser. Throws PciError BAD_BDF naming the input and the expected form.
 */
export function parseBdf(text: string): PciAddress {
  return pciErrorOf(() => parseAddress(text));
}

/** Accepts a PciAddress or any spelling parseBdf accepts; returns the canonical form. */
export function normalizeBdf(bdf: string | PciAddress): string {
  return formatBdf(typeof bdf === 'string' ? parseBdf(bdf) : bdf);
}
