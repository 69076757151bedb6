/**
 * virtif: the hypercalls of NetBSD's virtual network interface component (librumpnet_virtif)
 * and the one upcall (VIF_DELIVERPKT) the host uses to hand a received frame to the kernel.
 * Symbol names are built from VIRTIF_BASE (default `virt`): VIFHYPER_CREATE is
 * `rumpcomp_<base>_create`, VIF_DELIVERPKT is `rump_virtif_<base>_deliverpkt`. Facts follow
 * NetBSD's sys/rump/net/lib/libvirtif/virtif_user.h and if_virt.h; contracts are written here.
 * Checked complete against the pinned NetBSD tree by test/virtif.test.ts: if_virt.h also names
 * VIFHYPER_FLAGS (rumpcomp_<base>_flags), which no prototype declares and if_virt.c never calls.
 */
import type { Constant, Hypercall, Param } from './types.js';

const p = (name: string, type: string): Param => ({ name, type });

export const VIFHYPER_REVISION = 20140313;
export const VIRTIF_DEFAULT_BASE = 'virt';

/** The C symbol a virtif macro name resolves to for a given VIRTIF_BASE. */
export function virtifSymbol(macro: string, base: string = VIRTIF_DEFAULT_BASE): string {
  const m = virtifMacros.find((x) => x.macro === macro);
  if (!m) {
    throw new Error(
      `virtifSymbol: "${macro}" is not a virtif macro; use one of ${virtifMacros.map((x) => x.macro).join(', ')}`,
    );
  }
  return `${m.prefix}${base}${m.suffix}`;
}

export const virtifMacros = [
  { macro: 'VIFHYPER_CREATE', prefix: 'rumpcomp_', suffix: '_create' },
  { macro: 'VIFHYPER_DYING', prefix: 'rumpcomp_', suffix: '_dying' },
  { macro: 'VIFHYPER_DESTROY', prefix: 'rumpcomp_', suffix: '_destroy' },
  { macro: 'VIFHYPER_SEND', prefix: 'rumpcomp_', suffix: '_send' },
  { macro: 'VIF_DELIVERPKT', prefix: 'rump_virtif_', suffix: '_deliverpkt' },
] as const;

function vif(
  name: string, direction: Hypercall['direction'], returns: string, params: Param[], contract: string,
): Hypercall {
  return {
    name, symbol: virtifSymbol(name), interface: 'virtif', area: 'virtif', direction, returns, params,
    mandatory: true, librumpImport: false, contract,
  };
}

export const virtifFunctions: Hypercall[] = [
  vif('VIFHYPER_CREATE', 'hypercall', 'int',
    [p('devstr', 'const char *'), p('vif_sc', 'struct virtif_sc *'), p('enaddr', 'uint8_t *'), p('viup', 'struct virtif_user **')],
    'Attaches the host network device named devstr for interface softc vif_sc, may fill the 6-byte MAC address enaddr, and stores the host state in *viup; returns 0 or a NetBSD errno.'),
  vif('VIFHYPER_DYING', 'hypercall', 'int', [p('viu', 'struct virtif_user *')],
    'Tells the host side to stop delivering packets (the interface is going away); returns 0 or a NetBSD errno.'),
  vif('VIFHYPER_DESTROY', 'hypercall', 'void', [p('viu', 'struct virtif_user *')],
    'Frees the host side after VIFHYPER_DYING; no VIF_DELIVERPKT may follow.'),
  vif('VIFHYPER_SEND', 'hypercall', 'void',
    [p('viu', 'struct virtif_user *'), p('iov', 'struct iovec *'), p('iovlen', 'size_t')],
    'Transmits one Ethernet frame gathered from iovlen buffers; drops it silently if it cannot be sent.'),
  vif('VIF_DELIVERPKT', 'upcall', 'void',
    [p('vif_sc', 'struct virtif_sc *'), p('iov', 'struct iovec *'), p('iovlen', 'size_t')],
    'Upcall the host makes (scheduled on a rump CPU) to hand one received Ethernet frame, in iovlen buffers, to the interface.'),
];

export const virtifConstants: Constant[] = [
  {
    name: 'VIFHYPER_REVISION', interface: 'virtif', group: 'version', value: VIFHYPER_REVISION,
    c: String(VIFHYPER_REVISION), meaning: 'Revision of the virtif hypercall interface.',
  },
];

/** Incomplete types the virtif prototypes mention. */
export const virtifOpaque = ['virtif_sc', 'virtif_user', 'iovec'];
