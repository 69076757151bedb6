// Proof on real Xen: one testbed dom0 (Xen 4.17 + Debian dom0 in QEMU) runs the host's node
// on this package's dist/ and addon from the repository share (test/dom0/xen-check.mjs),
// against Xen itself: Domain-0, xenstore, event channels, both create paths with a DomU that
// writes its console ring, shutdown reasons, mappings, devices, and 20 create/destroy cycles.
// xen-check.mjs reports each step on its own (test/dom0/steps.mjs): each test below reads the
// steps it depends on, so a step that fails in dom0 fails only the tests on it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { xenPvhTarget, xenPvTarget } from '@rumpxen/minios-binding';
import { assetPaths, buildLinuxDomUInitramfs, EDU_BDF, Testbed } from '@rumpxen/xen-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildDomUFixture, PACKAGE_DIR } from './dom0/testbed-setup.mjs';
import { buildTestImage, caseResults } from './guest-images.js';
import { StepResults } from './step-results.js';

const pkg = PACKAGE_DIR;

const CYCLES = 20;

interface DomainJson { domid: number; name: string; uuid: string; state: string; memory: number; maxMemory: number; vcpus: number; cpuTime: number; shutdownReason?: string }
interface DomainsStep { domains: DomainJson[]; dom0: DomainJson; dom0ByName: number }
interface XenstoreStep { read: string; ls: string[]; perms: { domid: number; access: string }[]; removed: boolean }
interface WatchStep { initial: { path: string; token: string }; fired: { path: string; token: string } }
interface TransactionStep {
  txResult: string; txCommitted: string; txConflict: string; txConflictRuns: number; txConflictValue: string; txNoRetry: string; txNoRetryValue: string;
}
interface EvtchnStep { pa: number; pb: number; fired: number | null; timeout: number | null }
interface CrashStep { crash: { reason: string; exitStatus: number | null; action: string }; crashKept: DomainJson }
interface ConsoleRingStep { fmemRing: { size: number; text: string }; fmemReadOnly: boolean; gntRing: string; consoleInput: boolean }
interface ParallelStep {
  listedWhileParked: boolean; watchEndsOnClose: boolean[]; hangStillRunning: boolean; waitPending: boolean;
  waitAfterDestroy: { resolved?: { reason: string; exitStatus: number | null }; rejected?: string };
  pausedState: string; unpausedState: string; shutdownRequest: string; hangGone: boolean;
}
interface VbdStep {
  engine: string; devices: number; params?: string; mode?: string; dev?: string; scriptIsWrapper: boolean; hotplugStatus?: string;
  backendState?: string; physicalDevice?: string; loop: string | null; loopBacking: string | null; loopReadOnly: string | null;
  image: string; backendGone: boolean; loopBackingAfter: string | null;
}
interface VifStep {
  engine: string; mac?: string; bridge?: string; script?: string; frontendMac?: string; hotplugStatus?: string; backendState?: string;
  ifname: string; master: string; scriptIsWrapper: boolean; backendGone: boolean; ifaceGone: boolean;
}
interface PciStep { engine: string; backendDev: string | undefined; gone: boolean; backendGone: boolean }
interface LinuxStep {
  engine: string; stayedUp: boolean; upMs: number; marker: string; lines: string[];
  vbdState?: string; vbdFrontendState?: string; vifState?: string; vifFrontendState?: string; gone: boolean;
}
interface Booted {
  created: { domid: number; name: string; engine: string; timings: { build: number; xenstore: number; unpause: number; total: number } };
  guestCfg: string;
  listed: boolean;
  shutdown: { domid: number; reason: string; exitStatus: number | null; action: string };
  firstLineMs: number | null;
  console: string[];
  gone: boolean;
}
interface XstestRun { engine: string; lines: string[]; shutdown: { reason: string; exitStatus: number | null; action: string } }
interface SleeperRun { engine: string; slept: boolean; lines: string[]; shutdown: { domid: number; reason: string; exitStatus: number | null; action: string }; ack: string | undefined }
interface ExitRun { engine: string; shutdown: { domid: number; reason: string; exitStatus: number | null; action: string }; node: string | undefined; state: string; shutdownReason: string }
interface Killed {
  engine: string; how: string; seen: { domid: number; state: string } | null; exitedBeforeKill: boolean;
  exit: { code: number | null; signal: string | null } | 'timeout';
  leftoverAtExit: number; leftover: number; freeBefore: number; freeAfter: number; nodesLeft: string | null; stdout: string; stderr: string;
}
interface BadCreate { rejected: boolean; name?: string; syscall?: string; message?: string; leftover: number }
interface Cycles { count: number; ms: number; freeBefore: number; freeAfter: number; leftover: number }
interface Perm { domid: number; access: string }
interface FastPath {
  loop: number;
  ringLines: string[]; ringLost: number; ringTimings: { attach: number; attachedAt: number; firstLine?: number; firstLineAt?: number };
  phases: Record<string, number | boolean>; timings: { build: number; xenstore: number; unpause: number; total: number };
  nodes: Record<string, string | undefined>; perms: { home: Perm[]; vm: Perm[]; control: Perm[]; data: Perm[] };
  shutdown: { reason: string; exitStatus: number | null; action: string }; vmGone: boolean;
  firstLines: string[]; cached: boolean[]; batched: boolean[]; attached: boolean[]; lastNodesLeft: string | null; lastVmLeft: string | null;
  libxlFirstLine: string; libxlEngine: string;
  freeBefore: number; freeAfter: number; xlFreeBefore: number; xlFreeAfter: number; domainsAfter: string[]; xlDomainsAfter: string[];
}
interface ImageCacheStep { first: { cached: boolean; first: string }; again: { cached: boolean; first: string }; replaced: { cached: boolean; first: string }; replacedAgain: { cached: boolean; first: string } }
type Engine = 'direct' | 'libxl';
const ENGINES: Engine[] = ['direct', 'libxl'];

let tb: Testbed | undefined;
let steps: StepResults;
let stderrLines: string[];
let assignableAfter: string;
const step = <T>(name: string): T => steps.value<T>(name);

beforeAll(async () => {
  const fixtures = join(pkg, 'build', 'fixtures');
  mkdirSync(fixtures, { recursive: true });
  const kernel = buildDomUFixture();
  // The guest kernel's xstest program (c/test/xstest.c) as a xen-pv image, where dom0 can see it.
  const xstest = buildTestImage(xenPvTarget, 'xstest.c', fixtures, 'xstest.elf');
  const xstestPvh = buildTestImage(xenPvhTarget, 'xstest.c', fixtures, 'xstest-pvh.elf');
  // c/test/sleeper.c (sleeps an hour: only a shutdown request ends it) and c/test/hello.c (returns argv[1]).
  const sleeper = buildTestImage(xenPvTarget, 'sleeper.c', fixtures, 'sleeper.elf');
  const sleeperPvh = buildTestImage(xenPvhTarget, 'sleeper.c', fixtures, 'sleeper-pvh.elf');
  const hello = buildTestImage(xenPvTarget, 'hello.c', fixtures, 'hello.elf');
  const helloPvh = buildTestImage(xenPvhTarget, 'hello.c', fixtures, 'hello-pvh.elf');
  // The testbed's Linux DomU (the dom0 kernel with busybox, xen-blkfront and xen-netfront): real frontends.
  const linuxKernel = assetPaths().dom0Vmlinux;
  const linuxRamdisk = buildLinuxDomUInitramfs().path;
  if (!existsSync(join(pkg, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run npm run build in packages/xen-control first');
  // edu: QEMU's PCI test device at EDU_BDF, bound to xen-pciback, for the passthrough check.
  // pvh: hardware-assisted paging for Xen, so the PVH image can run.
  tb = await Testbed.start({ edu: true, pvh: true });
  // Step reports as they come: a timeout or a crash of the script keeps those already made.
  let stdout = '';
  let stderr = '';
  let why: string;
  try {
    const r = await tb.dom0.exec(`cd ${pkg} && hostrun node test/dom0/xen-check.mjs --kernel ${kernel} --cycles ${CYCLES} --pci ${EDU_BDF} --image ${xstest} --pvh-image ${xstestPvh}` +
      ` --sleeper ${sleeper} --sleeper-pvh ${sleeperPvh} --hello ${hello} --hello-pvh ${helloPvh}` +
      ` --linux ${linuxKernel} --linux-ramdisk ${linuxRamdisk}`, {
      timeoutMs: 420_000,
      onOutput: (chunk, stream) => (stream === 'stdout' ? (stdout += chunk) : (stderr += chunk)),
    });
    stdout = r.stdout;
    stderr = r.stderr;
    why = `xen-check.mjs ended (exit ${r.code}) without reaching it`;
  } catch (e) {
    why = `xen-check.mjs did not finish: ${(e as Error).message}`;
  }
  steps = new StepResults(stdout, `${why}; its last stderr lines:\n${stderr.split('\n').slice(-15).join('\n')}`);
  // What dom0 saw, for reading after a run (build/ is git-ignored).
  writeFileSync(join(pkg, 'build', 'xen-check.json'), JSON.stringify(Object.fromEntries(steps.records), null, 2));
  writeFileSync(join(pkg, 'build', 'xen-check.log'), stderr);
  assignableAfter = (await tb.dom0.exec('xl pci-assignable-list', { timeoutMs: 30_000 })).stdout;
  stderrLines = stderr.split('\n').filter((l) => l.length > 0);
}, 600_000);

afterAll(async () => {
  await tb?.stop();
});

describe('the addon in a real dom0', () => {
  it('lists Domain-0 and finds it by id and by name', () => {
    const out = step<DomainsStep>('domains');
    expect(out.domains.map((d) => d.name)).toEqual(['Domain-0']);
    expect(out.dom0).toMatchObject({ domid: 0, name: 'Domain-0', state: 'running', vcpus: 1 });
    expect(out.dom0.memory).toBeGreaterThan(100 * 1024);
    expect(out.dom0.cpuTime).toBeGreaterThan(0);
    expect(out.dom0ByName).toBe(0);
  });

  it('reads, writes, lists, removes and sets permissions in xenstore', () => {
    const out = step<XenstoreStep>('xenstore');
    expect(out.read).toBe('hello from node');
    expect(out.ls).toEqual(['a', 'dir']);
    expect(out.perms).toEqual([{ domid: 0, access: 'none' }, { domid: 5, access: 'read' }]);
    expect(out.removed).toBe(true);
  });

  it('fires a watch on registration and again on a write', () => {
    const watch = step<WatchStep>('watch');
    expect(watch.initial).toEqual({ path: '/local/domain/0/rumpxen-check/w', token: 'tok' });
    expect(watch.fired).toEqual({ path: '/local/domain/0/rumpxen-check/w', token: 'tok' });
  });

  it('commits a transaction', () => {
    const out = step<TransactionStep>('transaction');
    expect(out.txResult).toBe('in-tx');
    expect(out.txCommitted).toBe('in-tx');
  });

  it('reruns a transaction whose commit meets a concurrent write (EAGAIN), and gives EAGAIN with no retries left', () => {
    const out = step<TransactionStep>('transaction');
    expect(out.txConflictRuns).toBe(2);
    expect(out.txConflict).toBe('outside');
    expect(out.txConflictValue).toBe('outside+tx2');
    expect(out.txNoRetry).toBe('EAGAIN');
    expect(out.txNoRetryValue).toBe('outside again');
  });

  it('delivers an event between two bound ports and times out when none is pending', () => {
    const evtchn = step<EvtchnStep>('evtchn');
    expect(evtchn.fired).toBe(evtchn.pa);
    expect(evtchn.pb).not.toBe(evtchn.pa);
    expect(evtchn.timeout).toBeNull();
  });

  it('never lets the Xen libraries write to stderr', () => {
    expect(stderrLines.length).toBeGreaterThan(0);
    expect(stderrLines.filter((l) => !l.startsWith('xen-check: '))).toEqual([]);
  });
});

describe.each(ENGINES)('creating domains through the %s path', (engine) => {
  it('rejects a bad kernel with the builder\'s own explanation and leaves no domain behind', () => {
    const bad = step<BadCreate>(`badCreate.${engine}`);
    expect(bad.rejected).toBe(true);
    expect(bad.name).toBe('XenError');
    expect(bad.syscall).toBe(engine === 'direct' ? 'xc_dom_kernel_file' : 'libxl_domain_create_new');
    expect(bad.message).toMatch(/failed to open file '\/nonexistent\/kernel\.elf'/);
    expect(bad.leftover).toBe(0);
  });

  it('creates a PV DomU, writes its guest config before it runs, and reads its console', () => {
    const b = step<Booted>(`boot.${engine}`);
    expect(b.created.engine).toBe(engine);
    expect(b.created.domid).toBeGreaterThan(0);
    expect(b.listed).toBe(true);
    expect(JSON.parse(b.guestCfg)).toEqual({ check: engine });
    expect(b.console).toEqual(['domu-fixture: hello from a PV DomU', 'domu-fixture: cmdline=', 'Test result: SUCCESS']);
    expect(b.firstLineMs).toBeGreaterThan(0);
  });

  it('reports the poweroff with exit status 0 and destroys the domain', () => {
    const b = step<Booted>(`boot.${engine}`);
    expect(b.shutdown).toEqual({ domid: b.created.domid, reason: 'poweroff', exitStatus: 0, action: 'destroy' });
    expect(b.gone).toBe(true);
  });

  it(`runs ${CYCLES} create/destroy cycles with no domain left and Xen's free memory back where it started`, () => {
    const c = step<Cycles>(`cycles.${engine}`);
    expect(c.count).toBe(CYCLES);
    expect(c.leftover).toBe(0);
    expect(c.freeAfter).toBe(c.freeBefore);
  });
});

describe.each([
  ['image', 'xen-pv', 'direct'],
  ['pvhImage', 'xen-pvh', 'libxl'],
] as const)('a rumpxen guest image (c/test/xstest.c, %s: %s) through the %s path', (key, _target, engine) => {
  it('reads argv and env from the guest config the addon wrote before it ran', () => {
    const run = step<XstestRun>(key);
    expect(run.engine).toBe(engine);
    expect(run.lines).toContain('xstest: argv[0] = xstest');
    expect(run.lines).toContain('xstest: argv[1] = from the addon');
    expect(run.lines).toContain('xstest: GREETING = hello from node');
  });

  it('uses xenstore from the guest side', () => {
    expect(caseResults(step<XstestRun>(key).lines)).toEqual({ xs_read_write: 'PASS', xs_ls: 'PASS', xs_watch: 'PASS', xs_transaction: 'PASS' });
  });

  it('reports the exit status from the guest\'s `rumpxen: exit N` line', () => {
    const run = step<XstestRun>(key);
    expect(run.lines).toContain('rumpxen: exit 0');
    expect(run.shutdown).toEqual({ domid: expect.any(Number), reason: 'poweroff', exitStatus: 0, action: 'destroy' });
  });
});

describe('a vif through the libxl path, served by dom0\'s vif-bridge hotplug script', () => {
  it('sets up netback with the MAC and bridge asked for, runs the script, puts vif<domid>.0 on xenbr0, and removes it all on destroy', () => {
    const vif = step<VifStep>('vif');
    expect(vif).toMatchObject({
      engine: 'libxl',
      mac: '00:16:3e:12:34:56',
      bridge: 'xenbr0',
      scriptIsWrapper: true,
      frontendMac: '00:16:3e:12:34:56',
      hotplugStatus: 'connected',
      master: 'xenbr0',
      backendGone: true,
      ifaceGone: true,
    });
    // InitWait: netback waits for a frontend, and the fixture has none (Connected needs one).
    expect(vif.backendState).toBe('2');
  });
});

describe('a disk through the libxl path, served by dom0\'s block hotplug script', () => {
  it('backs the image with a read-only loop device that blkback opens, and detaches it on destroy', () => {
    const vbd = step<VbdStep>('vbd');
    expect(vbd).toMatchObject({
      engine: 'libxl',
      devices: 1,
      params: vbd.image,
      mode: 'r',
      dev: 'xvdb',
      scriptIsWrapper: true,
      hotplugStatus: 'connected',
      loopBacking: vbd.image,
      loopReadOnly: '1',
      backendGone: true,
      loopBackingAfter: null,
    });
    expect(vbd.loop).toMatch(/^\/dev\/loop\d+$/);
    expect(vbd.physicalDevice).toMatch(/^7:[0-9a-f]+$/); // loop devices: major 7 (hex, as blkback reads it)
    // InitWait: blkback waits for a frontend, and the fixture has none (Connected needs one).
    expect(vbd.backendState).toBe('2');
  });
});

describe('a Linux DomU (real blkfront and netfront) with a disk and a vif through the libxl path', () => {
  it('reads the image through blkback, pings dom0 over xenbr0, and both backends reach Connected (4)', () => {
    const l = step<LinuxStep>('linux');
    expect(l.engine).toBe('libxl');
    expect(l.stayedUp, JSON.stringify(l.lines)).toBe(true);
    expect(l.lines).toContain(`linux-domu: disk xvda 8192 sectors, starts with: ${l.marker}`);
    expect(l.lines).toContain('linux-domu: eth0 10.77.0.2/24 up');
    expect(l.lines).toContain('linux-domu: ping 10.77.0.1 ok');
    expect(l).toMatchObject({ vbdState: '4', vbdFrontendState: '4', vifState: '4', vifFrontendState: '4', gone: true });
  });
});

describe('PCI passthrough through the libxl path', () => {
  it('passes QEMU\'s edu device to a PV DomU and gives it back on destroy', () => {
    expect(step<PciStep>('pci')).toEqual({ engine: 'libxl', backendDev: EDU_BDF, gone: true, backendGone: true });
    expect(assignableAfter).toContain(EDU_BDF);
  });
});

describe('domains of the default (direct) path', () => {
  it('reports a crash and keeps the domain when on_crash is preserve', () => {
    const out = step<CrashStep>('crash');
    expect(out.crash).toMatchObject({ reason: 'crash', exitStatus: null, action: 'preserve' });
    expect(out.crashKept).toMatchObject({ name: 'rumpxen-crash', state: 'shutdown', shutdownReason: 'crash' });
  });

  it('maps a live DomU console ring read-only by frame and by grant', () => {
    const out = step<ConsoleRingStep>('consoleRing');
    expect(out.fmemRing.size).toBe(4096);
    expect(out.fmemRing.text).toContain('domu-fixture: hello from a PV DomU\ndomu-fixture: cmdline=hang\n');
    expect(out.fmemReadOnly).toBe(true);
    expect(out.gntRing).toBe(out.fmemRing.text);
  });

  it('keeps serving calls while six blocking waits are parked, and ends them on close or destroy', () => {
    const parallel = step<ParallelStep>('parallel');
    expect(parallel.listedWhileParked).toBe(true);
    expect(parallel.watchEndsOnClose).toEqual([true, true, true, true, true]);
    expect(parallel.hangStillRunning).toBe(true);
    expect(parallel.waitPending).toBe(true);
    expect(parallel.waitAfterDestroy.resolved).toMatchObject({ reason: 'destroyed', exitStatus: null });
  });

  it('writes console input that xenconsoled delivers into the guest\'s ring', () => {
    expect(step<ConsoleRingStep>('consoleRing').consoleInput).toBe(true);
  });

  it('asks the guest to power off through xenstore control/shutdown', () => {
    expect(step<ParallelStep>('parallel').shutdownRequest).toBe('poweroff');
  });

  it('pauses and unpauses a domain and destroys it by name', () => {
    const out = step<ParallelStep>('parallel');
    expect(out.pausedState).toBe('paused');
    expect(out.unpausedState).not.toBe('paused');
    expect(out.hangGone).toBe(true);
  });
});

describe.each([
  ['sleeperPoweroff', 'xen-pv', 'direct', 'poweroff'],
  ['sleeperReboot', 'xen-pvh', 'libxl', 'reboot'],
] as const)('a guest kernel image asked to shut down (c/test/sleeper.c, %s: %s, %s path)', (key, _target, engine, reason) => {
  it(`acts on a ${reason} request in control/shutdown: prints it, acknowledges it, shuts down with that reason`, () => {
    const run = step<SleeperRun>(key);
    expect(run.engine).toBe(engine);
    expect(run.slept).toBe(true);
    expect(run.lines).toContain(`rumpxen: shutdown requested by the toolstack: ${reason}`);
    expect(run.lines).not.toContain('sleeper: woke up');
    expect(run.shutdown).toEqual({ domid: expect.any(Number), reason, exitStatus: reason === 'poweroff' ? 0 : null, action: 'preserve' });
    expect(run.ack).toBe('');
  });
});

describe.each([
  ['exitSeven', 'xen-pv', 'direct'],
  ['exitSevenPvh', 'xen-pvh', 'libxl'],
] as const)('a guest kernel image whose main returns 7 (c/test/hello.c, %s: %s, %s path)', (key, _target, engine) => {
  it('reports reason crash and exit status 7 from the guest\'s xenstore node, with no console open', () => {
    const run = step<ExitRun>(key);
    expect(run.engine).toBe(engine);
    expect(run.node).toBe('7');
    expect(run.shutdown).toEqual({ domid: expect.any(Number), reason: 'crash', exitStatus: 7, action: 'preserve' });
    expect(run).toMatchObject({ state: 'shutdown', shutdownReason: 'crash' });
  });
});

describe('the direct fast path: console ring, phase timings, batched nodes, image cache, direct destroy', () => {
  it('reads every console line straight from the ring, ending when the domain powers off, with the create\'s phases timed', () => {
    const f = step<FastPath>('fastPath');
    expect(f.ringLines).toEqual(['domu-fixture: hello from a PV DomU', 'domu-fixture: cmdline=', 'Test result: SUCCESS']);
    expect(f.ringLost).toBe(0);
    expect(f.ringTimings.attach).toBeGreaterThanOrEqual(0);
    expect(f.ringTimings.firstLine).toBeGreaterThanOrEqual(0);
    expect(f.ringTimings.firstLineAt).toBeGreaterThanOrEqual(f.ringTimings.attachedAt);
    for (const p of ['dispatch', 'domain', 'image', 'memory', 'load', 'nodes', 'introduce', 'attach', 'unpause', 'settle']) {
      expect(f.phases[p], p).toBeGreaterThanOrEqual(0);
    }
    // build and xenstore are the sums of their phases.
    const ph = f.phases as Record<string, number>;
    expect(f.timings.build).toBeGreaterThanOrEqual(ph.domain! + ph.image! + ph.memory! + ph.load! - 0.01);
    expect(f.timings.xenstore).toBeCloseTo(ph.nodes! + ph.introduce!, 3);
    expect(f.phases).toMatchObject({ nodesBatched: true, nodesTries: expect.any(Number) });
    expect(f.shutdown).toEqual({ domid: expect.any(Number), reason: 'poweroff', exitStatus: 0, action: 'destroy' });
    expect(f.vmGone).toBe(true);
  });

  it('writes the nodes xenconsoled and the guest read in one transaction, with the guest\'s permissions', () => {
    const f = step<FastPath>('fastPath');
    expect(f.nodes).toMatchObject({
      name: 'rumpxen-fast', memoryTarget: String(16 * 1024), staticMax: String(16 * 1024), cpu0: 'online',
      consoleType: 'xenconsoled', consoleOutput: 'pty', consoleLimit: '1048576', cfg: JSON.stringify({ fast: true }),
    });
    expect(f.nodes.vm).toMatch(/^\/vm\/[0-9a-f-]{36}$/);
    expect(f.nodes.vmName).toBe('rumpxen-fast');
    expect(f.nodes.consolePort).toMatch(/^\d+$/);
    expect(f.nodes.consoleRingRef).toMatch(/^\d+$/);
    const domid = Number(f.nodes.domid);
    expect(f.perms.home).toEqual([{ domid: 0, access: 'none' }, { domid, access: 'read' }]);
    expect(f.perms.vm).toEqual([{ domid: 0, access: 'none' }, { domid, access: 'read' }]);
    expect(f.perms.control).toEqual([{ domid, access: 'none' }]);
    expect(f.perms.data).toEqual([{ domid, access: 'none' }]);
  });

  it(`runs a loop of create (ring mapped before the guest runs), first line and destroy that leaves no domain, no node and all of Xen's memory free (xc_physinfo and xl info)`, () => {
    const f = step<FastPath>('fastPath');
    expect(f.firstLines).toEqual(Array.from({ length: f.loop }, () => 'domu-fixture: hello from a PV DomU'));
    expect(f.attached).toEqual(Array.from({ length: f.loop }, () => true));
    expect(f.cached).toEqual(Array.from({ length: f.loop }, () => true)); // the image was read once, by the first domain
    expect(f.batched).toEqual(Array.from({ length: f.loop }, () => true));
    expect(f.lastNodesLeft).toBeNull();
    expect(f.lastVmLeft).toBeNull();
    expect(f.domainsAfter).toEqual(['Domain-0']);
    expect(f.xlDomainsAfter).toEqual(['Domain-0']);
    expect(f.freeAfter).toBe(f.freeBefore);
    expect(f.xlFreeAfter).toBe(f.xlFreeBefore);
  });

  it('maps the console ring before unpausing on the libxl path too', () => {
    const f = step<FastPath>('fastPath');
    expect(f.libxlEngine).toBe('libxl');
    expect(f.libxlFirstLine).toBe('domu-fixture: hello from a PV DomU');
  });

  it('keeps an image in the cache until its file changes, then builds from the new contents', () => {
    const c = step<ImageCacheStep>('imageCache');
    expect(c.first).toEqual({ cached: false, first: 'domu-fixture: hello from a PV DomU' });
    expect(c.again).toEqual({ cached: true, first: 'domu-fixture: hello from a PV DomU' });
    expect(c.replaced.cached).toBe(false);
    expect(c.replaced.first).not.toMatch(/domu-fixture/);
    expect(c.replacedAgain).toEqual({ cached: true, first: c.replaced.first });
  });
});

describe('a process that ends while domains.create runs', () => {
  it.each([
    ['direct', 'SIGTERM'],
    ['libxl', 'SIGINT'],
    ['direct', 'throw'],
    ['libxl', 'throw'],
  ] as const)('%s path, ended by %s mid-create: the half-built domain is destroyed and Xen\'s free memory comes back', (engine, how) => {
    const k = step<Killed>(`killed.${engine}.${how}`);
    // The domain existed, half-built, while the child was still running.
    expect(k.seen).not.toBeNull();
    expect(k.exitedBeforeKill).toBe(false);
    expect(k.stdout).toBe(''); // the create neither finished nor was reported
    if (how === 'throw') {
      expect(k.exit).toEqual({ code: 1, signal: null });
      expect(k.stderr).toContain('an uncaught exception, on purpose');
    } else {
      expect(k.exit).toEqual({ code: null, signal: how }); // our hook re-raised the signal
    }
    expect(k.leftover).toBe(0);
    expect(k.nodesLeft).toBeNull();
    expect(k.freeAfter).toBe(k.freeBefore);
  });
});
