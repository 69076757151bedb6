/**
 * The testbed runner, on the embedded testbed (@rumpxen/xen-testbed, which `run` loads only
 * for a run on it): the guest as Xen's only domain when it has no devices and declares dom0
 * support (dom0-rule.ts), else a full testbed (Xen + Linux dom0) with the image as a DomU.
 */
import { resolve, dirname, sep } from 'node:path';
import { Testbed, bootGuest, fetchAssets, missingPackages } from '@rumpxen/xen-testbed';
import { GUEST_CONFIG_XENSTORE_KEY } from '../config.js';
import { ImageLinkerError } from '../errors.js';
import { declaresDom0 } from './dom0-rule.js';
import type { RunContext, RunOutcome, Runner } from './runner.js';

function commonDir(paths: string[]): string {
  const parts = paths.map((p) => dirname(resolve(p)).split(sep));
  const first = parts[0] ?? [''];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && p[i] === first[i]) i += 1;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

/**
 * `--pci` on a full testbed: the devices are the testbed dom0's, so pci-passthrough's
 * `preparePassthrough` runs there (the host's node in dom0's chroot onto the host's `/`,
 * which sees dom0's sysfs and, through the testbed's wrappers, dom0's xl).
 */
async function prepareInDom0(tb: Testbed, bdfs: string[], assign: boolean, progress: (l: string) => void): Promise<void> {
  progress(`pci: ${assign ? 'making assignable' : 'checking that xen-pciback holds'} ${bdfs.join(', ')} in the testbed's dom0`);
  const url = import.meta.resolve('@rumpxen/pci-passthrough');
  const script = [
    `const { preparePassthrough } = await import(${JSON.stringify(url)});`,
    'try {',
    `  const p = await preparePassthrough(${JSON.stringify(bdfs)}, { assign: ${assign} });`,
    "  console.log(JSON.stringify({ devices: p.devices.map((d) => ({ bdf: d.bdf, action: d.assigned ? d.assigned.plan.action : 'none' })) }));",
    '} catch (e) {',
    '  console.log(JSON.stringify({ error: { message: String(e && e.message), exitCode: typeof (e && e.exitCode) === "number" ? e.exitCode : 1 } }));',
    '}',
  ].join('\n');
  const quoted = `'${script.replace(/'/g, `'\\''`)}'`;
  const r = await tb.dom0.exec(`hostrun ${process.execPath} --input-type=module -e ${quoted}`, { timeoutMs: 180_000 });
  let out: { devices?: { bdf: string; action: string }[]; error?: { message: string; exitCode: number } } | undefined;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    out = undefined;
  }
  if (!out) throw new ImageLinkerError('--pci', `could not be checked in the testbed's dom0 (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(-500)}`, 'Check that the testbed shares the host\'s / into dom0 (hostRoot) and that @rumpxen/pci-passthrough is built.', 1);
  if (out.error) throw new ImageLinkerError(`--pci ${bdfs.join(' ')}`, `in the testbed's dom0: ${out.error.message}.`, 'The testbed has QEMU\'s edu device at 0000:00:03.0 on xen-pciback; list dom0\'s devices with image-linker pci list in dom0.', out.error.exitCode);
  for (const d of out.devices ?? []) progress(`pci: ${d.bdf} ${d.action === 'assign' ? 'bound to xen-pciback in dom0' : 'is on xen-pciback'} (testbed dom0)`);
}

async function runTestbed({ opts, report, cfg, emit, timeoutS, progress }: RunContext): Promise<RunOutcome> {
  const pvh = report.target === 'xen-pvh';
  const pciAssign = !!opts.pciAssign;
  // Guest as the only domain is fast; a full testbed (Linux dom0 + xl) is needed for devices
  // and for kernels that do not declare dom0 support.
  const devices = cfg.disks.length + cfg.nets.length + cfg.pci.length > 0 || !declaresDom0(report);
  if (!declaresDom0(report)) progress('the image does not declare XENFEAT_dom0, so it runs as a DomU of a full testbed');
  // Fetch the testbed's Debian assets on first use (the testbed reports its progress on stderr).
  const missing = missingPackages();
  if (missing.length > 0) {
    progress(`fetching the testbed's assets (${missing.join(', ')})`);
    fetchAssets({ quiet: true });
  }
  if (!devices) {
    progress(`booting Xen in QEMU with ${cfg.kernel} as its only domain${pvh ? ' (PVH)' : ''}`);
    // As the only domain the guest would get all of QEMU's memory: dom0_mem gives it its own.
    const r = await bootGuest({
      kernel: cfg.kernel,
      cmdline: cfg.cmdline,
      memoryMb: Math.max(256, cfg.memoryMb + 64),
      xenCmdline: `dom0_mem=${cfg.memoryMb}M,max:${cfg.memoryMb}M`,
      timeoutS,
      pvh,
      onConsoleLine: emit,
    });
    return { exitCode: r.exitCode, verdict: r.verdict, reason: r.reason, ranOn: 'testbed' };
  }
  // The DomU kernel and disks are read in dom0 at the same paths: share their common folder.
  const share = commonDir([cfg.kernel, ...cfg.disks.map((d) => d.file)]);
  if (share === sep) {
    throw new ImageLinkerError(cfg.kernel, 'and the disk files share no folder below /, so the testbed cannot give them to dom0.', 'Put the image and its disks under one folder (e.g. the project folder).');
  }
  progress(`starting the full testbed (Xen + Linux dom0) sharing ${share}`);
  const tb = await Testbed.start({ pvh, shareDir: share });
  try {
    if (cfg.pci.length > 0) await prepareInDom0(tb, cfg.pci, pciAssign, progress);
    progress('creating the DomU');
    const domu = await tb.createDomU({
      kernel: cfg.kernel,
      memory: cfg.memoryMb,
      cmdline: cfg.cmdline,
      name: cfg.name,
      type: pvh ? 'pvh' : 'pv',
      vcpus: cfg.vcpus,
      disks: cfg.disks.map((d) => ({ file: d.file, vdev: d.vdev, readonly: d.readonly })),
      vifs: cfg.nets.map((n) => ({ ...(n.mac ? { mac: n.mac } : {}), ...(n.bridge ? { bridge: n.bridge } : {}) })),
      pci: cfg.pci,
      // Written while the domain is still paused (xl create -p), so the guest finds it at boot.
      xenstore: { [GUEST_CONFIG_XENSTORE_KEY]: cfg.guestJson },
      onConsoleLine: emit,
    });
    const r = await domu.wait({ timeoutMs: timeoutS * 1000 });
    return { exitCode: r.exitCode, verdict: r.verdict, reason: r.reason, ranOn: 'testbed-domu' };
  } finally {
    await tb.stop();
  }
}

export const testbedRunner: Runner = { name: 'testbed', run: runTestbed };
