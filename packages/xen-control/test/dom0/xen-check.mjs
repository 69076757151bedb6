// Runs inside the testbed's dom0 (host node, chrooted onto the host's / by `hostrun`):
// exercises the Xen API against real Xen as named steps (steps.mjs), each reporting its own
// result line on stdout, so one step that throws fails alone. Progress goes to stderr.
//   node xen-check.mjs [--kernel PATH [--cmdline TEXT] [--cycles N] [--pci BDF]] [--image PATH] ...
// --kernel: the testbed's PV fixture (console ring; its command line picks hang, crash, ...).
// --image: a rumpxen guest image running c/test/xstest.c (argv/env from rumpxen/cfg, xenstore cases).
// --pvh-image: the same program linked for xen-pvh (needs a testbed started with pvh: true).
// --sleeper / --sleeper-pvh: c/test/sleeper.c (sleeps an hour) for xen-pv / xen-pvh: shutdown requests.
// --hello / --hello-pvh: c/test/hello.c (returns argv[1]) for xen-pv / xen-pvh: a non-zero exit status.
// --linux KERNEL --linux-ramdisk PATH: the testbed's Linux DomU (real blkfront/netfront) for Connected backends.
// Exit status: 0 when every step succeeded, 1 otherwise.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Xen } from '../../dist/index.js';
import { runSteps } from './steps.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const kernel = opt('--kernel');
const cmdline = opt('--cmdline');
const cycles = Number(opt('--cycles') ?? '0');
// Domains the fastPath step creates and destroys in its loop.
const FAST_LOOP = Number(opt('--fast-loop') ?? '10');
const pci = opt('--pci');
const image = opt('--image');
const pvhImage = opt('--pvh-image');
const sleeper = opt('--sleeper');
const sleeperPvh = opt('--sleeper-pvh');
const hello = opt('--hello');
const helloPvh = opt('--hello-pvh');
const linuxKernel = opt('--linux');
const linuxRamdisk = opt('--linux-ramdisk');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
const log = (msg) => process.stderr.write(`xen-check: [${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);
const ENGINES = ['direct', 'libxl'];

/** @type {import('../../dist/index.js').Xen} */
let xen;
/** Made by the hotplugScripts step; removed at the end. */
let hotplugDir;
const steps = [];
/** Adds a step; `needs` names steps whose success (and value) it depends on. 'open' is needed by all. */
const step = (name, run, needs = []) => steps.push({ name, needs: name === 'open' ? [] : ['open', ...needs], run: async (values) => {
  log(name);
  return run(values);
} });

// Reads a domain's console until it ends, for `body` to run meanwhile; returns the lines.
async function withConsole(domid, body) {
  const con = await xen.console(domid);
  const lines = [];
  let firstAt;
  const reading = (async () => {
    for await (const line of con) {
      firstAt ??= performance.now();
      lines.push(line);
    }
  })();
  try {
    const out = await body(lines);
    return { out, lines, firstAt };
  } finally {
    con.close();
    await reading;
  }
}

// Destroys a domain a step made, if it is still there (a step's own clean-up).
async function destroyQuietly(domid) {
  if (domid === undefined) return;
  await xen.domains.destroy(domid).catch(() => undefined);
}

step('open', async () => {
  xen = await Xen.open();
  return true;
});

step('domains', async () => ({
  domains: await xen.domains.list(),
  dom0: await xen.domains.get(0),
  dom0ByName: (await xen.domains.get('Domain-0')).domid,
}));

step('xenstore', async () => {
  const base = '/local/domain/0/rumpxen-check/xs';
  try {
    await xen.xenstore.write(`${base}/a`, 'hello from node');
    const read = await xen.xenstore.read(`${base}/a`);
    await xen.xenstore.mkdir(`${base}/dir`);
    const ls = (await xen.xenstore.ls(base)).sort();
    const missing = await xen.xenstore.readOptional(`${base}/nope`);
    await xen.xenstore.setPermissions(`${base}/a`, [{ domid: 0, access: 'none' }, { domid: 5, access: 'read' }]);
    const perms = await xen.xenstore.getPermissions(`${base}/a`);
    await xen.xenstore.rm(base);
    const removed = (await xen.xenstore.readOptional(`${base}/a`)) === undefined;
    return { read, ls, missing: missing ?? null, perms, removed };
  } finally {
    await xen.xenstore.rm(base).catch(() => undefined);
  }
});

step('watch', async () => {
  const base = '/local/domain/0/rumpxen-check';
  const watch = await xen.xenstore.watch(`${base}/w`, 'tok');
  try {
    const initial = await watch.next(); // xenstore fires once on registration
    const fired = watch.next();
    await xen.xenstore.write(`${base}/w`, 'changed');
    return { initial: initial.value, fired: (await fired).value };
  } finally {
    watch.close();
    await xen.xenstore.rm(`${base}/w`).catch(() => undefined);
  }
});

step('transaction', async () => {
  const base = '/local/domain/0/rumpxen-check/tx';
  try {
    const out = {};
    out.txResult = await xen.xenstore.transaction(async (tx) => {
      await tx.write(`${base}/v`, 'in-tx');
      return tx.read(`${base}/v`);
    });
    out.txCommitted = await xen.xenstore.read(`${base}/v`);
    // Another connection (xenstore-write, its own process) changes the node the transaction
    // read: xenstored refuses the commit with EAGAIN and the body runs again from scratch.
    let runs = 0;
    out.txConflict = await xen.xenstore.transaction(async (tx) => {
      runs++;
      const seen = await tx.read(`${base}/v`);
      if (runs === 1) execFileSync('xenstore-write', [`${base}/v`, 'outside']);
      await tx.write(`${base}/v`, `${seen}+tx${runs}`);
      return seen;
    });
    out.txConflictRuns = runs;
    out.txConflictValue = await xen.xenstore.read(`${base}/v`);
    out.txNoRetry = await xen.xenstore.transaction(async (tx) => {
      await tx.read(`${base}/v`);
      execFileSync('xenstore-write', [`${base}/v`, 'outside again']);
      await tx.write(`${base}/v`, 'lost');
    }, { retries: 0 }).then(() => 'committed', (e) => e.code);
    out.txNoRetryValue = await xen.xenstore.read(`${base}/v`);
    return out;
  } finally {
    await xen.xenstore.rm(base).catch(() => undefined);
  }
});

step('evtchn', async () => {
  const a = await xen.evtchn();
  const b = await xen.evtchn();
  try {
    const pa = await a.bindUnbound(0);
    const pb = await b.bindInterdomain(0, pa);
    const waiting = a.wait(10_000);
    await b.notify(pb);
    const out = { pa, pb, fired: await waiting, timeout: await a.wait(50) };
    await a.unbind(pa);
    await b.unbind(pb);
    return out;
  } finally {
    a.close();
    b.close();
  }
});

if (kernel) {
  for (const engine of ENGINES) {
    step(`badCreate.${engine}`, async () => {
      let out;
      try {
        await xen.domains.create({ name: 'rumpxen-bad', kernel: '/nonexistent/kernel.elf', memory: 16, engine });
        out = { rejected: false };
      } catch (e) {
        out = { rejected: true, name: e.name, code: e.code, syscall: e.syscall, message: e.message };
      }
      out.leftover = (await xen.domains.list()).filter((x) => x.domid !== 0).length;
      return out;
    });
  }

  // Creates the fixture through one engine, reads its console, waits for its poweroff.
  for (const engine of ENGINES) {
    step(`boot.${engine}`, async () => {
      const t0 = performance.now();
      const d = await xen.domains.create({ name: `rumpxen-check-${engine}`, kernel, memory: 16, cmdline, guestConfig: { check: engine }, engine });
      const r = { created: d };
      const { out: shutdown, lines, firstAt } = await withConsole(d.domid, async () => {
        r.guestCfg = await xen.xenstore.read(`/local/domain/${d.domid}/rumpxen/cfg`);
        r.listed = (await xen.domains.list()).some((x) => x.domid === d.domid && x.name === `rumpxen-check-${engine}`);
        return xen.domains.waitForShutdown(d.domid);
      });
      r.shutdown = shutdown;
      r.firstLineMs = firstAt === undefined ? null : firstAt - t0;
      r.console = lines;
      r.gone = !(await xen.domains.list()).some((x) => x.domid === d.domid);
      return r;
    });
  }

  step('crash', async () => {
    const crasher = await xen.domains.create({ name: 'rumpxen-crash', kernel, memory: 16, cmdline: 'crash', on_crash: 'preserve' });
    try {
      const crash = await xen.domains.waitForShutdown(crasher.domid);
      const crashKept = await xen.domains.get('rumpxen-crash');
      return { crash, crashKept };
    } finally {
      await destroyQuietly(crasher.domid);
    }
  });

  step('consoleRing', async () => {
    const hang = await xen.domains.create({ name: 'rumpxen-ring', kernel, memory: 16, cmdline: 'hang' });
    try {
      const out = {};
      const con = await xen.console(hang.domid);
      try {
        await con.waitForLine(/hello from a PV DomU/, 60_000);
        await con.write('ping from dom0\n');
        const ringRef = Number(await xen.xenstore.read(`/local/domain/${hang.domid}/console/ring-ref`));
        const fmem = await xen.foreignMemory();
        const m1 = await fmem.map(hang.domid, [ringRef]);
        // struct xencons_interface: in[1024], out[2048], then the indices.
        out.fmemRing = { size: m1.size, text: m1.read(1024, 2048).toString('latin1').replace(/\0+$/, '') };
        try {
          m1.write(0, Buffer.from('x'));
          out.fmemReadOnly = false;
        } catch (e) {
          out.fmemReadOnly = /read-only/.test(e.message);
        }
        // Console input: xenconsoled copies what we wrote into the ring's in[] (the fixture never reads it).
        const deadline = performance.now() + 10_000;
        let input = '';
        while (performance.now() < deadline && !input.includes('ping from dom0')) {
          input = m1.read(0, 1024).toString('latin1');
          if (!input.includes('ping from dom0')) await sleep(50);
        }
        out.consoleInput = input.includes('ping from dom0');
        m1.close();
        fmem.close();
      } finally {
        con.close();
      }
      const gnt = await xen.grantTable();
      const m2 = await gnt.map(hang.domid, [0]); // grant 0: the console ring, seeded for dom0 by the toolstack
      out.gntRing = m2.read(1024, 2048).toString('latin1').replace(/\0+$/, '');
      m2.close();
      gnt.close();
      return out;
    } finally {
      await destroyQuietly(hang.domid);
    }
  });

  step('parallel', async () => {
    const hang = await xen.domains.create({ name: 'rumpxen-hang', kernel, memory: 16, cmdline: 'hang' });
    try {
      // Six parked waits (one shutdown wait, five watches) outnumber libuv's four pool threads:
      // ordinary calls must still complete, because waits park on threads of their own.
      const waiting = xen.domains.waitForShutdown(hang.domid, { action: 'preserve' }).then(
        (r) => ({ resolved: r }),
        (e) => ({ rejected: e.message }),
      );
      const watches = await Promise.all([1, 2, 3, 4, 5].map((i) => xen.xenstore.watch(`/local/domain/0/rumpxen-park/${i}`)));
      await Promise.all(watches.map((w) => w.next())); // the initial event of each
      const parked = watches.map((w) => w.next());
      const t0 = performance.now();
      const listed = await xen.domains.list();
      await xen.xenstore.write('/local/domain/0/rumpxen-park/x', '1');
      const out = { listedWhileParked: listed.some((d) => d.domid === hang.domid), ms: performance.now() - t0 };
      for (const w of watches) w.close();
      out.watchEndsOnClose = (await Promise.all(parked)).map((r) => r.done);
      await xen.xenstore.rm('/local/domain/0/rumpxen-park');
      out.hangStillRunning = (await xen.domains.get(hang.domid)).state !== 'shutdown';
      out.waitPending = await Promise.race([waiting.then(() => false), sleep(200).then(() => true)]);
      await xen.domains.pause(hang.domid);
      out.pausedState = (await xen.domains.get(hang.domid)).state;
      await xen.domains.unpause(hang.domid);
      out.unpausedState = (await xen.domains.get(hang.domid)).state;
      await xen.domains.shutdown(hang.domid, 'poweroff');
      out.shutdownRequest = await xen.xenstore.read(`/local/domain/${hang.domid}/control/shutdown`);
      await xen.domains.destroy('rumpxen-hang');
      out.waitAfterDestroy = await waiting;
      out.hangGone = !(await xen.domains.list()).some((x) => x.name === 'rumpxen-hang');
      return out;
    } finally {
      await destroyQuietly(hang.domid);
      await xen.xenstore.rm('/local/domain/0/rumpxen-park').catch(() => undefined);
    }
  });

  // dom0's hotplug scripts (busybox sh, /etc/xen/scripts in dom0's root) for libxl in this
  // chroot of the host's /: wrappers in the shared /tmp that go back to dom0's root through
  // /proc/1/root with the environment libxl gives them (XENBUS_PATH, vif, ...).
  step('hotplugScripts', async () => {
    const dir = mkdtempSync('/tmp/rumpxen-hotplug-');
    hotplugDir = dir;
    const wrap = (name) => {
      const file = join(dir, name);
      writeFileSync(file, `#!/bin/sh\n# dom0's ${name} hotplug script, run in dom0's root.\nexec /usr/sbin/chroot /proc/1/root /bin/sh /etc/xen/scripts/${name} "$@"\n`, { mode: 0o755 });
      return file;
    };
    return { dir, block: wrap('block'), vif: wrap('vif-bridge') };
  });

  step('vif', async ({ hotplugScripts: hs }) => {
    const v = await xen.domains.create({
      name: 'rumpxen-vif', kernel, memory: 16, cmdline: 'hang',
      vifs: [{ mac: '00:16:3e:12:34:56', bridge: 'xenbr0', script: hs.vif }],
    });
    try {
      const be = `/local/domain/0/backend/vif/${v.domid}/0`;
      const ifname = `vif${v.domid}.0`;
      let master;
      try {
        master = basename(readlinkSync(`/sys/class/net/${ifname}/master`));
      } catch (e) {
        master = `(none: ${e.code})`;
      }
      const out = {
        engine: v.engine,
        mac: await xen.xenstore.readOptional(`${be}/mac`),
        bridge: await xen.xenstore.readOptional(`${be}/bridge`),
        script: await xen.xenstore.readOptional(`${be}/script`),
        frontendMac: await xen.xenstore.readOptional(`/local/domain/${v.domid}/device/vif/0/mac`),
        hotplugStatus: await xen.xenstore.readOptional(`${be}/hotplug-status`),
        backendState: await xen.xenstore.readOptional(`${be}/state`),
        ifname,
        master,
      };
      out.scriptIsWrapper = out.script === hs.vif;
      await xen.domains.destroy(v.domid);
      out.backendGone = (await xen.xenstore.readOptional(`${be}/mac`)) === undefined;
      out.ifaceGone = !existsSync(`/sys/class/net/${ifname}`);
      return out;
    } finally {
      await destroyQuietly(v.domid);
    }
  }, ['hotplugScripts']);

  step('vbd', async ({ hotplugScripts: hs }) => {
    const img = join(hs.dir, 'disk.img');
    writeFileSync(img, Buffer.alloc(1024 * 1024, 0x5a));
    const v = await xen.domains.create({
      name: 'rumpxen-vbd', kernel, memory: 16, cmdline: 'hang',
      disks: [{ target: img, vdev: 'xvdb', readonly: true, script: hs.block }],
    });
    try {
      const fe = `/local/domain/${v.domid}/device/vbd`;
      const devs = await xen.xenstore.ls(fe);
      const be = devs.length === 1 ? await xen.xenstore.read(`${fe}/${devs[0]}/backend`) : '';
      const loop = await xen.xenstore.readOptional(`${be}/physical-device-path`);
      const loopName = loop ? basename(loop) : '';
      const sysfs = (file) => {
        try {
          return readFileSync(file, 'utf8').trim();
        } catch {
          return null;
        }
      };
      const out = {
        engine: v.engine,
        devices: devs.length,
        params: await xen.xenstore.readOptional(`${be}/params`),
        mode: await xen.xenstore.readOptional(`${be}/mode`),
        dev: await xen.xenstore.readOptional(`${be}/dev`),
        scriptIsWrapper: (await xen.xenstore.readOptional(`${be}/script`)) === hs.block,
        hotplugStatus: await xen.xenstore.readOptional(`${be}/hotplug-status`),
        backendState: await xen.xenstore.readOptional(`${be}/state`),
        physicalDevice: await xen.xenstore.readOptional(`${be}/physical-device`),
        loop: loop ?? null,
        loopBacking: loopName ? sysfs(`/sys/block/${loopName}/loop/backing_file`) : null,
        loopReadOnly: loopName ? sysfs(`/sys/block/${loopName}/ro`) : null,
        image: img,
      };
      await xen.domains.destroy(v.domid);
      out.backendGone = (await xen.xenstore.readOptional(`${be}/params`)) === undefined;
      out.loopBackingAfter = loopName ? sysfs(`/sys/block/${loopName}/loop/backing_file`) : null;
      return out;
    } finally {
      await destroyQuietly(v.domid);
    }
  }, ['hotplugScripts']);

  if (linuxKernel && linuxRamdisk) {
    step('linux', async ({ hotplugScripts: hs }) => {
      const img = join(hs.dir, 'linux-disk.img');
      const marker = `MARKER-${process.pid}-${Date.now()}`;
      writeFileSync(img, Buffer.concat([Buffer.from(marker), Buffer.alloc(4 * 1024 * 1024 - marker.length)]));
      const t0 = performance.now();
      const d = await xen.domains.create({
        name: 'rumpxen-linux', kernel: linuxKernel, ramdisk: linuxRamdisk, memory: 192,
        cmdline: 'console=hvc0 quiet tb.ip=10.77.0.2/24 tb.peer=10.77.0.1 tb.mode=hang',
        disks: [{ target: img, vdev: 'xvda', readonly: true, script: hs.block }],
        vifs: [{ mac: '00:16:3e:00:00:42', bridge: 'xenbr0', script: hs.vif }],
      });
      try {
        const { out } = await withConsole(d.domid, async (lines) => {
          let stayedUp = false;
          const deadline = performance.now() + 180_000;
          while (performance.now() < deadline && !(stayedUp = lines.some((l) => /linux-domu: staying up|Test result:/.test(l)))) await sleep(100);
          const vbdBe = `/local/domain/0/backend/vbd/${d.domid}/51712`; // xvda
          const vifBe = `/local/domain/0/backend/vif/${d.domid}/0`;
          const r = {
            engine: d.engine,
            stayedUp,
            upMs: performance.now() - t0,
            marker,
            lines: lines.filter((l) => l.startsWith('linux-domu:')),
            vbdState: await xen.xenstore.readOptional(`${vbdBe}/state`),
            vbdFrontendState: await xen.xenstore.readOptional(`/local/domain/${d.domid}/device/vbd/51712/state`),
            vifState: await xen.xenstore.readOptional(`${vifBe}/state`),
            vifFrontendState: await xen.xenstore.readOptional(`/local/domain/${d.domid}/device/vif/0/state`),
          };
          await xen.domains.destroy(d.domid);
          return r;
        });
        out.gone = !(await xen.domains.list()).some((x) => x.domid === d.domid);
        return out;
      } finally {
        await destroyQuietly(d.domid);
      }
    }, ['hotplugScripts']);
  }

  if (pci) {
    step('pci', async () => {
      const p = await xen.domains.create({ name: 'rumpxen-pci', kernel, memory: 16, cmdline: 'hang', pci: [pci] });
      try {
        const be = `/local/domain/0/backend/pci/${p.domid}/0`;
        const out = { engine: p.engine, backendDev: await xen.xenstore.readOptional(`${be}/dev-0`) };
        await xen.domains.destroy(p.domid); // ~10 s: libxl waits for the pcifront the fixture never starts
        out.gone = !(await xen.domains.list()).some((x) => x.domid === p.domid);
        out.backendGone = (await xen.xenstore.readOptional(`${be}/dev-0`)) === undefined;
        return out;
      } finally {
        await destroyQuietly(p.domid);
      }
    });
  }

  if (cycles > 0) {
    for (const engine of ENGINES) {
      step(`cycles.${engine}`, async () => {
        const free0 = await xen.domains.freeMemory();
        const t1 = performance.now();
        for (let i = 0; i < cycles; i++) {
          const c = await xen.domains.create({ name: `rumpxen-cycle-${i}`, kernel, memory: 16, cmdline: 'hang', paused: i % 2 === 1, engine });
          await xen.domains.destroy(c.domid);
        }
        const ms = performance.now() - t1;
        // Xen frees a destroyed domain's pages as the destroy completes; allow it a moment.
        let freeAfter = await xen.domains.freeMemory();
        for (let tries = 0; freeAfter !== free0 && tries < 50; tries++) {
          await sleep(100);
          freeAfter = await xen.domains.freeMemory();
        }
        return {
          count: cycles,
          ms,
          freeBefore: free0,
          freeAfter,
          leftover: (await xen.domains.list()).filter((x) => x.name.startsWith('rumpxen-cycle-')).length,
        };
      });
    }
  }
}

// The fast path (issue 15): the console ring read directly, the create's phase timings, the
// nodes the batched transaction wrote, and a create/destroy loop that leaves nothing behind.
const xlFreeMiB = () => Number(execFileSync('xl', ['info', 'free_memory'], { encoding: 'utf8' }).trim());
const xlDomains = () => execFileSync('xl', ['list'], { encoding: 'utf8' }).split('\n').slice(1).map((l) => l.split(/\s+/)[0]).filter(Boolean);
if (kernel) {
  step('fastPath', async () => {
    const out = { loop: FAST_LOOP };
    const free0 = (await xen.domains.physinfo()).freePages;
    const xlFree0 = xlFreeMiB();
    // One domain that powers off: every line from the ring, the iterator ending with the domain.
    const d = await xen.domains.create({ name: 'rumpxen-fast', kernel, memory: 16, guestConfig: { fast: true } });
    let ring;
    try {
      ring = await xen.consoleRing(d.domid);
      const lines = [];
      for await (const line of ring) lines.push(line);
      out.ringLines = lines;
      out.ringLost = ring.lost;
      out.ringTimings = ring.timings;
      out.phases = d.timings.phases;
      out.timings = { build: d.timings.build, xenstore: d.timings.xenstore, unpause: d.timings.unpause, total: d.timings.total };
      // The nodes the one transaction wrote, as xenconsoled and the guest read them.
      const home = `/local/domain/${d.domid}`;
      const read = (p) => xen.xenstore.readOptional(`${home}/${p}`);
      const vm = await read('vm');
      out.nodes = {
        name: await read('name'), domid: await read('domid'), vm, vmName: await xen.xenstore.readOptional(`${vm}/name`),
        memoryTarget: await read('memory/target'), staticMax: await read('memory/static-max'), cpu0: await read('cpu/0/availability'),
        consolePort: await read('console/port'), consoleRingRef: await read('console/ring-ref'), consoleType: await read('console/type'),
        consoleOutput: await read('console/output'), consoleLimit: await read('console/limit'), cfg: await read('rumpxen/cfg'),
      };
      out.perms = {
        home: await xen.xenstore.getPermissions(home),
        vm: await xen.xenstore.getPermissions(vm),
        control: await xen.xenstore.getPermissions(`${home}/control`),
        data: await xen.xenstore.getPermissions(`${home}/data`),
      };
      out.shutdown = await xen.domains.waitForShutdown(d.domid);
      out.vmGone = (await xen.xenstore.readOptional(`${vm}/name`)) === undefined;
    } finally {
      ring?.close();
      await destroyQuietly(d.domid);
    }
    // The loop: create with the ring mapped before the guest runs, its first line, destroy (every
    // other one with its ring still open: destroy closes it, or the domain would linger as a
    // zombie holding the mapped page).
    out.firstLines = [];
    out.cached = [];
    out.batched = [];
    out.attached = [];
    let last;
    for (let i = 0; i < FAST_LOOP; i++) {
      const c = await xen.domains.create({ name: `rumpxen-fast-${i}`, kernel, memory: 16, cmdline: 'hang', consoleRing: true });
      const r = c.consoleRing;
      out.firstLines.push(await r.waitForLine(/./, 60_000));
      out.cached.push(c.timings.phases.imageCached);
      out.batched.push(c.timings.phases.nodesBatched);
      out.attached.push(c.timings.phases.attach > 0 && r.timings.attachedAt > 0);
      if (i % 2 === 0) r.close();
      last = { domid: c.domid, vm: await xen.xenstore.readOptional(`/local/domain/${c.domid}/vm`) };
      await xen.domains.destroy(c.domid);
    }
    // The libxl path maps the ring the same way (grant 0 is seeded by libxl too).
    const lx = await xen.domains.create({ name: 'rumpxen-fast-libxl', kernel, memory: 16, cmdline: 'hang', engine: 'libxl', consoleRing: true });
    try {
      out.libxlFirstLine = await lx.consoleRing.waitForLine(/./, 60_000);
      out.libxlEngine = lx.engine;
    } finally {
      await destroyQuietly(lx.domid);
    }
    out.lastNodesLeft = (await xen.xenstore.readOptional(`/local/domain/${last.domid}/name`)) ?? null;
    out.lastVmLeft = (await xen.xenstore.readOptional(`${last.vm}/name`)) ?? null;
    // Xen gives the pages back once nobody maps them (xenconsoled unmaps on @releaseDomain).
    let free1 = (await xen.domains.physinfo()).freePages;
    for (let tries = 0; free1 !== free0 && tries < 100; tries++) {
      await sleep(100);
      free1 = (await xen.domains.physinfo()).freePages;
    }
    out.freeBefore = free0;
    out.freeAfter = free1;
    out.xlFreeBefore = xlFree0;
    out.xlFreeAfter = xlFreeMiB();
    out.domainsAfter = (await xen.domains.list()).map((x) => x.name);
    out.xlDomainsAfter = xlDomains();
    return out;
  });

  // The image cache is keyed by the file: rewriting it (same path) makes the next create read it again.
  if (hello) {
    step('imageCache', async () => {
      const path = join(mkdtempSync('/tmp/rumpxen-image-'), 'kernel.elf');
      const out = {};
      const boot = async (name) => {
        const c = await xen.domains.create({ name, kernel: path, memory: 16, cmdline: 'hang', guestConfig: { argv: ['hello', '0'] } });
        try {
          const r = await xen.consoleRing(c.domid);
          return { cached: c.timings.phases.imageCached, first: await r.waitForLine(/./, 60_000) };
        } finally {
          await destroyQuietly(c.domid);
        }
      };
      try {
        writeFileSync(path, readFileSync(kernel));
        out.first = await boot('rumpxen-cache-1');
        out.again = await boot('rumpxen-cache-2');
        writeFileSync(path, readFileSync(hello)); // same path, new contents
        out.replaced = await boot('rumpxen-cache-3');
        out.replacedAgain = await boot('rumpxen-cache-4');
        return out;
      } finally {
        rmSync(dirname(path), { recursive: true, force: true });
      }
    });
  }
}

// An xstest image with a guest config: its console and end.
async function runXstest(path, type) {
  const d = await xen.domains.create({
    name: `rumpxen-xstest-${type}`,
    kernel: path,
    type,
    memory: 16,
    guestConfig: { argv: ['xstest', 'from the addon'], env: ['GREETING=hello from node'] },
  });
  try {
    const { out: end, lines } = await withConsole(d.domid, () => xen.domains.waitForShutdown(d.domid));
    return { engine: d.engine, lines, shutdown: end };
  } finally {
    await destroyQuietly(d.domid);
  }
}
if (image) step('image', () => runXstest(image, 'pv'));
if (pvhImage) step('pvhImage', () => runXstest(pvhImage, 'pvh'));

// A guest kernel image that sleeps, asked to shut down through control/shutdown.
async function requestShutdown(path, type, reason) {
  const d = await xen.domains.create({ name: `rumpxen-sleeper-${type}`, kernel: path, type, memory: 16 });
  try {
    // One reader only: a console is a single iterator (waitForLine alongside would compete for lines).
    const { out, lines } = await withConsole(d.domid, async (seen) => {
      let slept = false;
      const deadline = performance.now() + 60_000;
      while (performance.now() < deadline && !(slept = seen.some((l) => /^sleeper: sleeping/.test(l)))) await sleep(50);
      await xen.domains.shutdown(d.domid, reason);
      const end = await xen.domains.waitForShutdown(d.domid, { action: 'preserve' });
      const ack = await xen.xenstore.readOptional(`/local/domain/${d.domid}/control/shutdown`);
      await xen.domains.destroy(d.domid);
      return { slept, shutdown: end, ack };
    });
    return { engine: d.engine, ...out, lines };
  } finally {
    await destroyQuietly(d.domid);
  }
}
if (sleeper) step('sleeperPoweroff', () => requestShutdown(sleeper, 'pv', 'poweroff'));
if (sleeperPvh) step('sleeperReboot', () => requestShutdown(sleeperPvh, 'pvh', 'reboot'));

// A guest kernel image whose main returns 7, with no console open: the status can only come from xenstore.
async function exitSeven(path, type) {
  const d = await xen.domains.create({ name: `rumpxen-hello-${type}`, kernel: path, type, memory: 16, guestConfig: { argv: ['hello', '7'] } });
  try {
    const end = await xen.domains.waitForShutdown(d.domid, { action: 'preserve' });
    const node = await xen.xenstore.readOptional(`/local/domain/${d.domid}/data/rumpxen/exit-status`);
    const kept = await xen.domains.get(d.domid);
    return { engine: d.engine, shutdown: end, node, state: kept.state, shutdownReason: kept.shutdownReason };
  } finally {
    await destroyQuietly(d.domid);
  }
}
if (hello) step('exitSeven', () => exitSeven(hello, 'pv'));
if (helloPvh) step('exitSevenPvh', () => exitSeven(helloPvh, 'pvh'));

// A process that ends while domains.create runs: its half-built domain must be destroyed.
async function killMidCreate(engine, how) {
  const name = `rumpxen-kill-${engine}-${how}`;
  const free0 = await xen.domains.freeMemory();
  const script = join(dirname(fileURLToPath(import.meta.url)), 'create-child.mjs');
  const child = spawn(process.execPath, [script, '--engine', engine, '--kernel', kernel, '--name', name, ...(how === 'throw' ? ['--throw'] : [])], {
    env: { ...process.env, RUMPXEN_TEST_CREATE_DELAY_MS: '120000' },
    stdio: [how === 'throw' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  let exitedEarly = false;
  const exited = new Promise((r) => child.on('exit', (code, signal) => { exitedEarly = true; r({ code, signal }); }));
  let seen;
  const deadline = performance.now() + 60_000;
  while (!seen && !exitedEarly && performance.now() < deadline) {
    seen = (await xen.domains.list()).find((d) => d.name === name);
    if (!seen) await sleep(20);
  }
  const r = { engine, how, seen: seen ? { domid: seen.domid, state: seen.state } : null, exitedBeforeKill: exitedEarly };
  if (how === 'throw') child.stdin.end('throw now\n');
  else child.kill(how);
  r.exit = await Promise.race([exited, sleep(60_000).then(() => 'timeout')]);
  if (r.exit === 'timeout') child.kill('SIGKILL');
  r.leftoverAtExit = (await xen.domains.list()).filter((d) => d.name === name || (seen && d.domid === seen.domid)).length;
  // Xen gives the pages back as the destroy completes; allow it a moment.
  let free1 = await xen.domains.freeMemory();
  for (let tries = 0; free1 !== free0 && tries < 100; tries++) {
    await sleep(100);
    free1 = await xen.domains.freeMemory();
  }
  r.freeBefore = free0;
  r.freeAfter = free1;
  r.leftover = (await xen.domains.list()).filter((d) => d.domid !== 0).length;
  r.nodesLeft = seen ? (await xen.xenstore.readOptional(`/local/domain/${seen.domid}/name`)) ?? null : null;
  r.stdout = stdout;
  r.stderr = stderr;
  // What this case left (its assertions report it) must not count against the next one.
  if (r.leftover) {
    for (const d of await xen.domains.list()) if (d.domid !== 0) await xen.domains.destroy(d.domid).catch(() => undefined);
  }
  return r;
}
if (kernel) {
  for (const [engine, how] of [['direct', 'SIGTERM'], ['libxl', 'SIGINT'], ['direct', 'throw'], ['libxl', 'throw']]) {
    step(`killed.${engine}.${how}`, () => killMidCreate(engine, how));
  }
}

let failures;
try {
  failures = await runSteps(steps, {
    // A step that threw may have left domains or xenstore nodes: later steps count leftovers.
    afterFailure: async () => {
      if (!xen) return;
      for (const d of await xen.domains.list()) if (d.domid !== 0) await xen.domains.destroy(d.domid).catch(() => undefined);
      await xen.xenstore.rm('/local/domain/0/rumpxen-check').catch(() => undefined);
    },
  });
} finally {
  xen?.close();
}
if (hotplugDir) rmSync(hotplugDir, { recursive: true, force: true });
process.exitCode = failures === 0 ? 0 : 1;
