/**
 * One DomU run from start to verdict: boot the full-mode testbed, `xl create` the image,
 * wait for its end, stop everything. The library form of `rumpxen-testbed boot --domu`,
 * beside guest-as-dom0's `bootGuest()`.
 */
import { type DomUOptions, type DomUResult, checkDomUOptions } from './domu.js';
import { Testbed, type TestbedOptions } from './testbed.js';

/** DomUOptions (but not `paused`: the DomU runs to its end), plus how to run the testbed. */
export interface BootDomUOptions extends Omit<DomUOptions, 'paused'> {
  /** Seconds the DomU may run after `xl create` before it is destroyed with exit code 124. Default 60. */
  timeoutS?: number;
  /** How to start the testbed. */
  testbed?: TestbedOptions;
  /** Progress lines (dom0 ready, DomU created), for a CLI's stderr. */
  onProgress?: (line: string) => void;
}

export interface BootDomUResult extends DomUResult {
  domid: number;
  timings: {
    /** QEMU spawn → dom0 ready. */
    dom0ReadyMs: number;
    /** `xl create` as seen from the host. */
    createMs: number;
    /** Just before `xl create` → the DomU's first console line. */
    firstConsoleLineMs?: number;
  };
}

/** Boots a testbed, runs `opts.kernel` as a DomU to its end and returns its verdict; QEMU is always stopped. */
export async function bootDomU(opts: BootDomUOptions): Promise<BootDomUResult> {
  checkDomUOptions(opts); // bad input fails before a boot is paid for
  const { timeoutS = 60, testbed, onProgress, ...domuOpts } = opts;
  onProgress?.('booting Xen and the Linux dom0 in QEMU...');
  const tb = await Testbed.start(testbed);
  try {
    onProgress?.(`dom0 ready after ${(tb.timings.readyMs / 1000).toFixed(1)} s`);
    const domu = await tb.createDomU(domuOpts);
    onProgress?.(`created DomU ${domu.name} (domid ${domu.domid}) in ${(domu.createMs / 1000).toFixed(1)} s`);
    const r = await domu.wait({ timeoutMs: timeoutS * 1000 });
    return { ...r, domid: domu.domid, timings: { dom0ReadyMs: tb.timings.readyMs, createMs: domu.createMs, firstConsoleLineMs: domu.firstLineMs } };
  } finally {
    await tb.stop();
  }
}
