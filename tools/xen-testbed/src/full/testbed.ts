/**
 * Full mode: Xen with a Debian Linux dom0 (xenstored, xenconsoled, xl) in QEMU, the host's
 * folders shared into dom0 over 9p, and a control channel that runs commands in dom0. One
 * `Testbed` keeps one dom0 up across many steps; DomUs are started with `createDomU`.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AssetPaths, assetPaths, repoRoot } from '../assets.js';
import { TestbedError } from '../errors.js';
import { reportsHap } from '../verdict.js';
import { type QemuRun, startQemu } from '../qemu.js';
import { ControlChannel, type ExecOptions, type ExecResult } from './control.js';
import { CONTROL_PORT_NAME, INIT_PREFIX, SHARE_TAGS, shellQuote } from './dom0-scripts.js';
import { type DomU, type DomUOptions, createDomU } from './domu.js';
import { buildDom0Initramfs } from './initramfs.js';

/** Where QEMU's `edu` device sits (we place it at slot 3 of the root bus). */
export const EDU_BDF = '0000:00:03.0';

/** QEMU NIC models the testbed can pass to a DomU (NetBSD drivers: wm(4), pcn(4)). */
export type PassthroughNicModel = 'e1000' | 'pcnet';

/**
 * A NIC for a DomU: QEMU's `model` at `bdf`, hidden by xen-pciback, whose network is a QEMU
 * hub joined to a virtio-net NIC of dom0 (MAC `dom0Mac`) on the bridge xenbr0. No traffic
 * leaves QEMU.
 */
export interface PassthroughNic {
  model: PassthroughNicModel;
  /** Where it sits on the root bus, for `pci: [bdf]`. */
  bdf: string;
  /** The MAC QEMU gives it (the DomU's driver reads it from the device). */
  mac: string;
  /** dom0's peer NIC on the hub, on xenbr0. */
  dom0Mac: string;
}

/** Slots and MACs of each model, fixed so tests can name them. */
export const PASSTHROUGH_NICS: Readonly<Record<PassthroughNicModel, PassthroughNic>> = {
  e1000: { model: 'e1000', bdf: '0000:00:04.0', mac: '52:54:00:72:78:04', dom0Mac: '52:54:00:72:78:d4' },
  pcnet: { model: 'pcnet', bdf: '0000:00:05.0', mac: '52:54:00:72:78:05', dom0Mac: '52:54:00:72:78:d5' },
};

export interface TestbedOptions {
  /** QEMU machine memory in MiB (default 2048): dom0 gets `dom0MemoryMb`, DomUs the rest. */
  memoryMb?: number;
  /** dom0's memory in MiB (Xen's `dom0_mem`, default 512: Xen builds dom0 and Linux boots faster the less it has — 768 MiB costs ≈2 s more under TCG). */
  dom0MemoryMb?: number;
  /** QEMU vCPUs (default 1; the host has few cores and TCG is single-threaded per vCPU). */
  smp?: number;
  /** QEMU `-cpu` (default `qemu64,+rdrand,+svm,+npt`, or without `+svm,+npt` when `pvh` is false). */
  cpu?: string;
  /**
   * Give Xen hardware-assisted paging (`+svm,+npt`) so PVH DomUs can run. Default true: the
   * Linux dom0 (PV) boots the same with it, and its boot time did not measurably change.
   */
  pvh?: boolean;
  /** Host folder shared read-write into dom0 at the same path (default: this repository's root; false: none). */
  shareDir?: string | false;
  /** Share the host's `/` read-only at dom0's `/host`, so `node`/`hostrun` work in dom0 (default true). */
  hostRoot?: boolean;
  /** Add QEMU's `edu` PCI device at 0000:00:03.0 and bind it to xen-pciback (default true). */
  edu?: boolean;
  /**
   * NICs to pass to DomUs (`PASSTHROUGH_NICS[model]`: e1000 at 0000:00:04.0, pcnet at
   * 0000:00:05.0), each bound to xen-pciback at boot; its network is a QEMU hub joined to a
   * virtio-net NIC of dom0 that sits on xenbr0, so dom0 (10.77.0.1, udhcpd there) reaches the
   * DomU's driver and no traffic leaves QEMU. Default none.
   */
  passthroughNics?: PassthroughNicModel[];
  /** dom0's address on the bridge `xenbr0` (default 10.77.0.1/24). */
  bridgeAddress?: string;
  /** How long to wait for dom0 to be ready (default 180 s). */
  readyTimeoutMs?: number;
  /** Extra words for Xen's and dom0's command lines, and extra QEMU arguments. */
  xenArgs?: string[];
  dom0Args?: string[];
  qemuArgs?: string[];
  /** Every line of the machine's serial console (Xen and dom0's hvc0). */
  onConsoleLine?: (line: string) => void;
  /** Asset paths (default: the cache). */
  assets?: AssetPaths;
}

/** Milliseconds from QEMU's start to each milestone of the dom0 boot. */
export interface BootTimings {
  /** QEMU start → dom0's start-up script running ("modules" step). */
  dom0InitMs?: number;
  /** QEMU start → dom0's agent answers (xenstored and xenconsoled up, `xl list` worked). */
  readyMs: number;
}

/** dom0, as a place to run commands. */
export interface Dom0 {
  /** Runs `script` in dom0's busybox `sh` and returns its exit code, stdout and stderr. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
}

function checkSharePath(what: string, path: string): string {
  if (!path.startsWith('/') || /[\s,'"\\]/.test(path)) {
    throw new TestbedError(`${what} '${path}' cannot be shared into dom0: the path must be absolute and free of spaces, commas, quotes and backslashes (QEMU's -virtfs and dom0's mount need that). Move it or pass another folder.`);
  }
  if (!existsSync(path)) throw new TestbedError(`${what} '${path}' does not exist; create it or pass another folder`);
  return path;
}

/** A running full-mode testbed. Always `stop()` it (or use `await using`). */
export class Testbed {
  readonly dom0: Dom0;
  private domuCount = 0;
  private readonly domus = new Set<DomU>();
  private stopped = false;

  private constructor(
    private readonly qemu: QemuRun,
    private readonly control: ControlChannel,
    /** Host folder shared read-write into dom0 at the same path: ctl/, xenlog/, domu/. */
    readonly runDir: string,
    readonly shareDir: string | undefined,
    readonly timings: BootTimings,
    /** Xen reported hardware-assisted paging at boot: PVH DomUs can run (Debian's Xen has no shadow paging). */
    readonly hap: boolean,
    private readonly cpu: string,
  ) {
    this.dom0 = { exec: (script, opts) => this.control.exec(script, opts) };
  }

  /** Serial console lines so far (Xen's log and dom0's hvc0). */
  get consoleLines(): readonly string[] {
    return this.qemu.serialLines;
  }

  /** The QEMU process (for diagnostics). */
  get qemuPid(): number {
    return this.qemu.pid;
  }

  /** Boots Xen and dom0 and resolves once dom0 runs commands and `xl list` answers. */
  static async start(opts: TestbedOptions = {}): Promise<Testbed> {
    const assets = opts.assets ?? assetPaths();
    const xen = assets.xen;
    const vmlinux = assets.dom0Vmlinux;
    const initramfs = buildDom0Initramfs(assets);
    const shareDir = opts.shareDir === false ? undefined : checkSharePath('shareDir', realpathSync(opts.shareDir ?? repoRoot() ?? process.cwd()));
    const hostRoot = opts.hostRoot ?? true;
    const edu = opts.edu ?? true;
    const memoryMb = opts.memoryMb ?? 2048;
    const dom0MemoryMb = opts.dom0MemoryMb ?? 512;
    if (dom0MemoryMb + 128 > memoryMb) {
      throw new TestbedError(`dom0MemoryMb ${dom0MemoryMb} leaves too little of memoryMb ${memoryMb} for Xen and DomUs; give QEMU at least ${dom0MemoryMb + 128} MiB`);
    }
    const bridgeAddress = opts.bridgeAddress ?? '10.77.0.1/24';
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(bridgeAddress)) throw new TestbedError(`bridgeAddress '${bridgeAddress}' is not an IPv4 address with prefix length, like 10.77.0.1/24`);
    const nics = [...new Set(opts.passthroughNics ?? [])].map((m) => {
      const nic = PASSTHROUGH_NICS[m];
      if (!nic) throw new TestbedError(`passthroughNics: '${String(m)}' is not a NIC model the testbed passes through; use ${Object.keys(PASSTHROUGH_NICS).map((k) => `'${k}'`).join(' or ')}`);
      return nic;
    });
    const hidden = [...(edu ? [EDU_BDF] : []), ...nics.map((n) => n.bdf)];
    const cpu = opts.cpu ?? `qemu64,+rdrand${(opts.pvh ?? true) ? ',+svm,+npt' : ''}`;

    let control: ControlChannel | undefined;
    let runDir = '';
    const lines: string[] = [];
    let initAt: number | undefined;
    let hap = false;
    const qemu = startQemu({
      label: 'full',
      onSerialLine: (l) => {
        lines.push(l);
        if (!hap && reportsHap(l)) hap = true;
        if (initAt === undefined && l.includes(`${INIT_PREFIX} modules`)) initAt = performance.now();
        opts.onConsoleLine?.(l);
      },
      args: (tmp) => {
        runDir = join(tmp, 'run');
        checkSharePath('the run folder', tmp);
        for (const d of ['ctl', 'xenlog', 'domu', 'disks']) mkdirSync(join(runDir, d), { recursive: true });
        const conf = [
          `TB_RUNDIR=${shellQuote(runDir)}`,
          `TB_REPO=${shellQuote(shareDir ?? '')}`,
          `TB_HOSTROOT=${hostRoot ? 1 : 0}`,
          // The workspace the testbed runs from (its node_modules, the other packages' dist):
          // kept visible at its own path to the host's programs in dom0 even under /tmp.
          `TB_HOST_KEEP=${shellQuote(repoRoot() ?? '')}`,
          `TB_BRIDGE_ADDR=${shellQuote(bridgeAddress)}`,
          `TB_PT_NIC_MACS=${shellQuote(nics.map((n) => n.dom0Mac).join(' '))}`,
        ];
        writeFileSync(join(runDir, 'testbed.conf'), conf.join('\n') + '\n');
        const socket = join(tmp, 'ctl.sock');
        if (Buffer.byteLength(socket) > 100) {
          throw new TestbedError(`the control socket path ${socket} is longer than a unix socket allows (about 107 bytes); set TMPDIR to a shorter folder, e.g. TMPDIR=/tmp`);
        }
        control = new ControlChannel(socket, join(runDir, 'ctl'));
        const xenCmdline = [
          'console=com1',
          'loglvl=all',
          'guest_loglvl=all',
          'console_timestamps=boot',
          `dom0_mem=${dom0MemoryMb}M,max:${dom0MemoryMb}M`,
          'dom0_max_vcpus=1',
          ...(opts.xenArgs ?? []),
        ];
        const dom0Cmdline = ['console=hvc0', 'earlyprintk=xen', 'rdinit=/init', ...(hidden.length ? [`xen_pciback.hide=${hidden.map((b) => `(${b})`).join('')}`] : []), ...(opts.dom0Args ?? [])];
        const esc = (s: string) => s.replace(/,/g, ',,');
        return [
          '-machine', 'q35',
          '-device', 'intel-iommu',
          '-cpu', cpu,
          '-m', String(memoryMb),
          '-smp', String(opts.smp ?? 1),
          '-kernel', xen,
          '-append', xenCmdline.join(' '),
          '-initrd', `${esc(vmlinux)} ${esc(dom0Cmdline.join(' '))},${esc(initramfs.path)}`,
          ...(edu ? ['-device', 'edu,addr=0x3'] : []),
          // Each passed-through NIC and dom0's virtio-net on one QEMU hub (dom0's at slot + 8).
          ...nics.flatMap((n, i) => {
            const slot = Number.parseInt(n.bdf.slice(8, 10), 16);
            return [
              '-netdev', `hubport,id=ptnic${i},hubid=${i + 1}`,
              '-device', `${n.model},netdev=ptnic${i},mac=${n.mac},addr=0x${slot.toString(16)}`,
              '-netdev', `hubport,id=ptnicdom0${i},hubid=${i + 1}`,
              '-device', `virtio-net-pci,netdev=ptnicdom0${i},mac=${n.dom0Mac},addr=0x${(slot + 8).toString(16)}`,
            ];
          }),
          '-virtfs', `local,path=${runDir},mount_tag=${SHARE_TAGS.run},security_model=none`,
          ...(shareDir ? ['-virtfs', `local,path=${shareDir},mount_tag=${SHARE_TAGS.repo},security_model=none`] : []),
          ...(hostRoot ? ['-virtfs', `local,path=/,mount_tag=${SHARE_TAGS.hostRoot},security_model=none,readonly=on,multidevs=remap`] : []),
          '-device', 'virtio-serial-pci,id=vser',
          '-chardev', `socket,id=ctl,path=${socket},reconnect=1`,
          '-device', `virtserialport,bus=vser.0,chardev=ctl,name=${CONTROL_PORT_NAME}`,
          ...(opts.qemuArgs ?? []),
        ];
      },
    });
    const ctl = control!;
    const timeoutMs = opts.readyTimeoutMs ?? 180_000;
    const tail = () => lines.slice(-25).join('\n');
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: () => void = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new TestbedError(`dom0 was not ready within ${timeoutMs} ms (raise readyTimeoutMs on a slow machine). Last console lines:\n${tail()}`)), timeoutMs);
        unsubscribe = qemu.onSerialLine((l) => {
          if (l.includes(`${INIT_PREFIX} FAILED`)) reject(new TestbedError(`dom0 start-up failed: ${l.slice(l.indexOf(INIT_PREFIX))}\nLast console lines:\n${tail()}`));
          if (/Kernel panic|Panic on CPU/.test(l)) reject(new TestbedError(`dom0 or Xen panicked during boot: ${l}\nLast console lines:\n${tail()}`));
        });
        void qemu.exited.then((x) =>
          reject(new TestbedError(`QEMU exited (code ${x.code}, signal ${x.signal}) before dom0 was ready.${qemu.stderr() ? ` QEMU said: ${qemu.stderr().trim()}` : ''}\nLast console lines:\n${tail()}`)),
        );
        void ctl.whenReady().then(resolve);
      });
    } catch (e) {
      ctl.close('the testbed failed to start');
      await qemu.stop();
      throw e;
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
    const readyMs = performance.now() - qemu.startedAt;
    const dom0InitMs = initAt === undefined ? undefined : initAt - qemu.startedAt;
    // QEMU takes the last -cpu: the caller's qemuArgs may override ours.
    const cpuArg = opts.qemuArgs?.lastIndexOf('-cpu') ?? -1;
    const effectiveCpu = cpuArg >= 0 ? opts.qemuArgs![cpuArg + 1] ?? cpu : cpu;
    const tb = new Testbed(qemu, ctl, runDir, shareDir, { readyMs, dom0InitMs }, hap, effectiveCpu);
    void qemu.exited.then(() => {
      tb.stopped = true;
      ctl.close('QEMU exited');
    });
    return tb;
  }

  /** Creates and starts a DomU with xl (with `xenstore` entries written before it runs; left paused with `paused`). */
  async createDomU(opts: DomUOptions): Promise<DomU> {
    if (this.stopped) throw new TestbedError('createDomU: the testbed is stopped; start a new one with Testbed.start()');
    if (opts.type === 'pvh' && !this.hap) {
      throw new TestbedError(`createDomU: a PVH DomU needs hardware-assisted paging, which this testbed's Xen did not report (QEMU -cpu ${this.cpu}); start the testbed with pvh: true (the default) or a cpu with +svm,+npt`, 2);
    }
    const name = opts.name ?? `domu${++this.domuCount}`;
    const domu = await createDomU(this.dom0, this.runDir, this.shareDir, name, opts);
    this.domus.add(domu);
    return domu;
  }

  /** Stops QEMU (and with it every DomU); removes the run folder. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.domus) d.detach('the testbed stopped');
    this.control.close('the testbed stopped');
    await this.qemu.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
