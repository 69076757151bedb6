/**
 * How the end of a run shows on Xen's serial console, for the result protocol: the protocol
 * itself (result and exit lines, exit codes, `decideVerdict`) is @rumpxen/protocol's
 * (verdict.ts), exported here too, as the testbed's API has always had it:
 *   - the last guest line `Test result: SUCCESS|SKIP|ERROR|FAILURE|CRASH` gives 0/3/4/5/6;
 *   - otherwise a `rumpxen: exit N` line gives N, except that `exit 0` followed by a crash or
 *     a Xen panic gives 6;
 *   - otherwise a clean poweroff (or reboot) gives 0 and a crash 6;
 *   - no end within the time limit gives 124.
 */
import type { EndKind } from '@rumpxen/protocol';

export {
  decideVerdict,
  EXIT_BAD_INPUT,
  EXIT_TESTBED_FAILURE,
  EXIT_TIMEOUT,
  parseExitLine,
  parseResultLine,
  XTF_EXIT_CODES,
  type EndKind,
  type Verdict,
  type VerdictInput,
  type VerdictResult,
  type XtfResult,
} from '@rumpxen/protocol';

/**
 * Whether a line of Xen's log reports hardware-assisted paging in use (PVH and HVM guests need
 * it). Xen prints "... detected but disabled" when booted with hap=0: that is not HAP.
 */
export function reportsHap(line: string): boolean {
  return /HVM: Hardware Assisted Paging \(HAP\) detected\s*$/.test(line);
}

/** What one line of Xen's own output says about the end of a guest-as-dom0 run. */
export interface XenEndEvent {
  end: EndKind;
  /** The run is over once this line is seen (else wait for more lines, e.g. a panic's message). */
  final: boolean;
}

/**
 * Recognises the hardware domain's shutdown messages (xen/common/shutdown.c in 4.17, seen
 * on this testbed: "Hardware Dom0 halted: halting machine", "Hardware Dom0 crashed:
 * rebooting machine in 5 seconds.", "Hardware Dom0 shutdown: rebooting machine",
 * "Hardware Dom0 shutdown: watchdog rebooting machine") and Xen's panic banner.
 * `text` is the line without the "(XEN) [timestamp] " prefix.
 */
export function classifyXenLine(text: string): XenEndEvent | undefined {
  if (/^Hardware Dom\d+ halted/.test(text)) return { end: 'poweroff', final: true };
  if (/^Hardware Dom\d+ crashed/.test(text)) return { end: 'crash', final: true };
  if (/^Hardware Dom\d+ shutdown: (watchdog )?rebooting/.test(text)) return { end: 'reboot', final: true };
  if (/^Hardware Dom\d+ shutdown/.test(text)) return { end: 'crash', final: true };
  if (/^Panic on CPU \d+:/.test(text)) return { end: 'xen-panic', final: false };
  if (/^(Manual reset required|Reboot in five seconds)/.test(text)) return { end: 'xen-panic', final: true };
  return undefined;
}

const XEN_PREFIX = /^\(XEN\) (?:\[[ 0-9a-f.]+\] ?)?/;

/** Splits a serial line into Xen's own output (prefixed "(XEN)") and the hardware domain's console. */
export function splitXenLine(line: string): { source: 'xen' | 'guest'; text: string } {
  const m = XEN_PREFIX.exec(line);
  return m ? { source: 'xen', text: line.slice(m[0].length) } : { source: 'guest', text: line };
}
