/**
 * Full mode: one Xen + Linux dom0 boot shared by every case of this file (a boot costs
 * ~7-10 s under TCG). Everything here runs for real: QEMU, Xen, dom0's xl, DomUs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDU_BDF, Testbed, TestbedError, assetPaths, buildFixture, buildLinuxDomUInitramfs, repoRoot } from '../src/index.js';

const pkgDir = resolve(import.meta.dirname, '..');
const scratch = join(pkgDir, 'build', `full-test-${process.pid}`);
let tb: Testbed;
let fixture: string;
let pvhFixture: string;

beforeAll(async () => {
  fixture = buildFixture({ kind: 'pv' });
  pvhFixture = buildFixture({ kind: 'pvh' });
  mkdirSync(scratch, { recursive: true });
  tb = await Testbed.start(); // default pvh: Xen has HAP, so the PVH fixture runs too
}, 240_000);

afterAll(async () => {
  await tb?.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 30_000);

describe('full mode: dom0', () => {
  it('dom0 is ready: xl list shows Domain-0, xenstored answers', async () => {
    const r = await tb.dom0.exec('xl list && xenstore-read domid');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Domain-0\s+0\s/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('0');
    expect(tb.timings.readyMs).toBeGreaterThan(0);
  });

  it('exec returns exit code, stdout and stderr separately, with env and cwd', async () => {
    const r = await tb.dom0.exec('echo to-out; echo to-err >&2; exit 3');
    expect(r).toMatchObject({ code: 3, stdout: 'to-out\n', stderr: 'to-err\n' });
    const e = await tb.dom0.exec('echo "$GREETING"; pwd', { env: { GREETING: "it's $HOME" }, cwd: '/proc/xen' });
    expect(e).toMatchObject({ code: 0, stdout: "it's $HOME\n/proc/xen\n" });
  });

  it('exec streams output while the command runs', async () => {
    const chunks: Array<[string, string]> = [];
    const r = await tb.dom0.exec('echo first; echo oops >&2; sleep 2; echo second', { onOutput: (c, s) => chunks.push([s, c]) });
    expect(r).toMatchObject({ code: 0, stdout: 'first\nsecond\n', stderr: 'oops\n' });
    const out = chunks.filter(([s]) => s === 'stdout').map(([, c]) => c);
    expect(out.length).toBeGreaterThanOrEqual(2); // 'first' came before 'second' was written
    expect(out.join('')).toBe(r.stdout);
    expect(chunks.filter(([s]) => s === 'stderr').map(([, c]) => c).join('')).toBe('oops\n');
  });

  it('exec kills a command that outlives its timeout', async () => {
    const err = await tb.dom0.exec('sleep 617; echo not reached', { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestbedError);
    expect((err as TestbedError).exitCode).toBe(124);
    const ps = await tb.dom0.exec('ps -o pid,args | grep "sleep 61[7]"; true');
    expect(ps.stdout).toBe('');
  });

  it("runs the host's node in dom0 against the repository share and a real /dev/xen", async () => {
    const root = repoRoot()!;
    const script = [
      "const fs = require('fs');",
      "fs.closeSync(fs.openSync('/dev/xen/privcmd', 'r+'));",
      "console.log(process.version, require('./package.json').name, fs.readFileSync('/proc/xen/capabilities', 'utf8').trim());",
    ].join(' ');
    const r = await tb.dom0.exec(`cd ${root} && node -e "${script}"`, { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const hostName = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name;
    expect(r.stdout.trim()).toBe(`${process.version} ${hostName} control_d`);
  }, 150_000);

  it('files cross the 9p share both ways', async () => {
    const fromHost = randomBytes(3000).toString('base64');
    const hostFile = join(scratch, 'from-host.txt');
    writeFileSync(hostFile, fromHost);
    const r1 = await tb.dom0.exec(`cat ${hostFile}`);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe(fromHost);

    const token = randomBytes(16).toString('hex');
    const dom0File = join(scratch, 'from-dom0.txt');
    const r2 = await tb.dom0.exec(`echo ${token} > ${dom0File} && uname -r`);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/amd64/); // written by the Linux dom0, not the host
    expect(readFileSync(dom0File, 'utf8')).toBe(`${token}\n`);
  });

  it("the host's programs in dom0 find dom0's xl and xenstore tools, and share dom0's /tmp", async () => {
    const token = randomBytes(8).toString('hex');
    const r = await tb.dom0.exec(`hostrun sh -c 'command -v xl; xl list | grep -c "^Domain-0 "; xenstore-read domid; pwd; echo ${token} >/tmp/from-chroot'; cat /tmp/from-chroot`);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['/run/testbed/bin/xl', '1', '0', repoRoot()!, token, '']);
  }, 60_000);

  it("libxl's state folders and xenstored's socket are dom0's own inside the host's /", async () => {
    const token = randomBytes(8).toString('hex');
    // Written in the chroot, read in dom0 (and back): the same folders, writable on the read-only share.
    const r = await tb.dom0.exec(
      `hostrun sh -c 'echo ${token} >/var/lib/xen/tb-probe && echo ${token} >/run/xen/tb-probe && test -S /run/xenstored/socket && echo socket' && cat /var/lib/xen/tb-probe /run/xen/tb-probe && rm /var/lib/xen/tb-probe /run/xen/tb-probe`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['socket', token, token, '']);
  }, 60_000);

  it("QEMU's edu device is in dom0 and assignable through xen-pciback", async () => {
    const r = await tb.dom0.exec(`cat /sys/bus/pci/devices/${EDU_BDF}/vendor /sys/bus/pci/devices/${EDU_BDF}/device; basename $(readlink /sys/bus/pci/devices/${EDU_BDF}/driver); xl pci-assignable-list`);
    expect(r.code).toBe(0);
    const [vendor, device, driver, ...assignable] = r.stdout.trim().split('\n').map((l) => l.trim());
    expect([vendor, device, driver]).toEqual(['0x1234', '0x11e8', 'pciback']);
    expect(assignable).toContain(EDU_BDF);
  });
});

describe('full mode: DomUs', () => {
  it('boots the PV fixture as a DomU: its console ring line is read and its verdict is SUCCESS', async () => {
    const domu = await tb.createDomU({ kernel: fixture, cmdline: 'hello-from-test', memory: 16 });
    expect(domu.domid).toBeGreaterThan(0);
    const first = await domu.waitForLine(/domu-fixture: hello/, 30_000);
    expect(first).toBe('domu-fixture: hello from a PV DomU');
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r).toMatchObject({ exitCode: 0, verdict: 'SUCCESS', end: { kind: 'shutdown', reasonCode: 0 } });
    expect(r.console).toContain('domu-fixture: cmdline=hello-from-test');
    const lines: string[] = [];
    for await (const l of domu) lines.push(l);
    expect(lines).toEqual(r.console);
    const list = await tb.dom0.exec('xl list');
    expect(list.stdout).not.toMatch(new RegExp(`^${domu.name}\\s`, 'm'));
  }, 90_000);

  it('creates a DomU paused with xenstore entries the DomU owns, and unpauses it', async () => {
    const value = '{"argv":["x","a b","q\\"\\\\n"]}'; // quotes and backslashes stay verbatim (xenstore-write -R)
    const domu = await tb.createDomU({ kernel: fixture, cmdline: 'paused-case', memory: 16, paused: true, xenstore: { 'rumpxen/cfg': value, 'tb-test/a/b': 'second' } });
    expect(domu.paused).toBe(true);
    const base = `/local/domain/${domu.domid}`;
    const r = await tb.dom0.exec(`xl list ${domu.name} | tail -1; xenstore-read -R ${base}/rumpxen/cfg; echo; xenstore-ls -p ${base}/rumpxen; xenstore-ls -p ${base}/tb-test; xenstore-ls -p ${base} | grep -E '^(rumpxen|tb-test|console) '`);
    expect(r.code, r.stderr).toBe(0);
    const [state, read, ...rest] = r.stdout.split('\n');
    expect(state).toMatch(/\s--p---\s/); // paused, never ran
    expect(read).toBe(value);
    // The new nodes are the DomU's (owner = its domid, nobody else); libxl's console/ keeps its own.
    const perms = rest.join('\n');
    expect(perms).toMatch(new RegExp(`^cfg = .*\\(n${domu.domid}\\)$`, 'm'));
    expect(perms).toMatch(new RegExp(`^rumpxen = "".*\\(n${domu.domid}\\)$`, 'm'));
    expect(perms).toMatch(new RegExp(`^a = "".*\\(n${domu.domid}\\)$`, 'm'));
    expect(perms).toMatch(new RegExp(`^ b = "second".*\\(n${domu.domid}\\)$`, 'm'));
    expect(perms).toMatch(new RegExp(`^console = "".*\\(n0,r${domu.domid}\\)$`, 'm'));
    await new Promise((res) => setTimeout(res, 1000));
    expect(domu.lines).toEqual([]); // a paused DomU prints nothing
    await domu.unpause();
    expect(domu.paused).toBe(false);
    const res = await domu.wait({ timeoutMs: 60_000 });
    expect(res.console).toContain('domu-fixture: cmdline=paused-case');
    expect(res).toMatchObject({ exitCode: 0, verdict: 'SUCCESS' });
  }, 90_000);

  it('refuses a bad xenstore key before anything is created', async () => {
    for (const key of ['/local/domain/0/x', 'a/../b', 'a b', '']) {
      const err = await tb.createDomU({ kernel: fixture, xenstore: { [key]: 'v' } }).catch((e: unknown) => e);
      expect(err, key).toBeInstanceOf(TestbedError);
      expect((err as TestbedError).exitCode).toBe(2);
      expect((err as Error).message).toContain(`xenstore key '${key}' is not usable`);
    }
  });

  it('boots the PVH fixture as a PVH DomU (console ring found through HVM params)', async () => {
    const domu = await tb.createDomU({ kernel: pvhFixture, type: 'pvh', cmdline: 'pvh-case', memory: 16 });
    const r = await domu.wait({ timeoutMs: 60_000 });
    expect(r.console).toEqual(['domu-fixture: hello from a PVH DomU', 'domu-fixture: cmdline=pvh-case', 'Test result: SUCCESS']);
    expect(r).toMatchObject({ exitCode: 0, verdict: 'SUCCESS', end: { kind: 'shutdown', reasonCode: 0 } });
  }, 90_000);

  it('a DomU that crashes gives verdict CRASH (6); one that fails its test gives 5', async () => {
    const crash = await tb.createDomU({ kernel: fixture, cmdline: 'crash', memory: 16 });
    const fail = await tb.createDomU({ kernel: fixture, cmdline: 'result=FAILURE', memory: 16 });
    const [rc, rf] = await Promise.all([crash.wait({ timeoutMs: 60_000 }), fail.wait({ timeoutMs: 60_000 })]);
    expect(rc).toMatchObject({ exitCode: 6, verdict: 'CRASH', end: { kind: 'crashed' } });
    expect(rc.console).toContain('domu-fixture: crashing on purpose');
    expect(rf).toMatchObject({ exitCode: 5, verdict: 'FAILURE' });
  }, 90_000);

  it('the fixtures take the mode= form as DomUs too: exit:7 -> 7 (PV), result:SKIP -> 3 (PVH)', async () => {
    const exit7 = await tb.createDomU({ kernel: fixture, cmdline: 'mode=exit:7', memory: 16 });
    const skip = await tb.createDomU({ kernel: pvhFixture, type: 'pvh', cmdline: 'mode=result:SKIP', memory: 16 });
    const [re, rs] = await Promise.all([exit7.wait({ timeoutMs: 60_000 }), skip.wait({ timeoutMs: 60_000 })]);
    expect(re.console).toEqual(['fixture: hello from the test guest', 'fixture: mode exit:7', 'rumpxen: exit 7']);
    expect(re).toMatchObject({ exitCode: 7, end: { kind: 'crashed' } });
    expect(rs.console).toEqual(['fixture: hello from the test guest', 'fixture: mode result:SKIP', 'case first: PASS', 'case second: SKIP not applicable here', 'Test result: SKIP']);
    expect(rs).toMatchObject({ exitCode: 3, verdict: 'SKIP', end: { kind: 'shutdown', reasonCode: 0 } });
  }, 90_000);

  it('a DomU that does not end is destroyed at the timeout with exit code 124', async () => {
    const domu = await tb.createDomU({ kernel: fixture, cmdline: 'hang', memory: 16 });
    await domu.waitForLine(/hanging/, 30_000);
    const r = await domu.wait({ timeoutMs: 2_000 });
    expect(r).toMatchObject({ exitCode: 124, verdict: 'TIMEOUT' });
    const list = await tb.dom0.exec(`xl domid ${domu.name}`);
    expect(list.code).not.toBe(0);
  }, 90_000);

  it('a DomU gets a file-backed vbd, a vif on xenbr0 and the edu device', async () => {
    const disk = join(scratch, 'disk.img');
    writeFileSync(disk, '');
    truncateSync(disk, 4 << 20);
    const domu = await tb.createDomU({ kernel: fixture, cmdline: 'hang', memory: 16, disks: [{ file: disk }], vifs: 1, pci: [EDU_BDF] });
    try {
      await domu.waitForLine(/hanging/, 30_000);
      const n = domu.name;
      const r = await tb.dom0.exec(`xl block-list ${n}; echo @; xl network-list ${n}; echo @; xl pci-list ${n}; echo @; ls /sys/class/net/xenbr0/brif; echo @; losetup -a`);
      expect(r.code).toBe(0);
      const [block, net, pci, brif, loops] = r.stdout.split('@\n');
      expect(block).toMatch(new RegExp(`^51712\\s+0\\s.*/backend/vbd/${domu.domid}/51712`, 'm')); // xvda
      expect(net).toMatch(new RegExp(`/backend/vif/${domu.domid}/0`));
      expect(pci).toContain(EDU_BDF);
      expect(brif!.split('\n')).toContain(`vif${domu.domid}.0`);
      expect(loops).toContain(disk.slice(0, 40)); // busybox shortens the path
    } finally {
      await domu.destroy();
    }
    expect(existsSync(disk)).toBe(true);
  }, 120_000);

  it("a Linux DomU reads its vbd through blkback and reaches dom0 over the vif (and back)", async () => {
    const disk = join(scratch, 'linux-disk.img');
    const marker = `MARKER-${randomBytes(6).toString('hex')}`;
    writeFileSync(disk, marker);
    truncateSync(disk, 4 << 20);
    const ramdisk = buildLinuxDomUInitramfs().path;
    const domu = await tb.createDomU({
      kernel: assetPaths().dom0Vmlinux,
      ramdisk,
      memory: 192,
      cmdline: 'console=hvc0 quiet tb.ip=10.77.0.2/24 tb.peer=10.77.0.1 tb.mode=hang',
      disks: [{ file: disk, readonly: true }],
      vifs: 1,
    });
    try {
      await domu.waitForLine(/linux-domu: staying up/, 150_000);
      expect(domu.lines).toContain(`linux-domu: disk xvda 8192 sectors, starts with: ${marker}`);
      expect(domu.lines).toContain('linux-domu: eth0 10.77.0.2/24 up');
      expect(domu.lines).toContain('linux-domu: ping 10.77.0.1 ok');
      const ping = await tb.dom0.exec('ping -c 2 -w 20 10.77.0.2');
      expect(ping.code).toBe(0);
      expect(ping.stdout).toMatch(/2 packets received/);
    } finally {
      await domu.destroy();
    }
  }, 240_000);
});
