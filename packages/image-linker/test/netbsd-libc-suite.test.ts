/**
 * NetBSD's libc in DomUs, checked by a test program: examples/netbsd-libc-suite/suite.c,
 * compiled with @rumpxen/netbsd-libc's driver (`rumpxen-cc -c`, then `rumpxen-cc -o` = ld -r)
 * and linked by the image-linker's CLI (`build suite.o --libc netbsd --component net_netinet
 * --component fs_tmpfs`), booted as xen-pv and xen-pvh DomUs of a full testbed. The program
 * prints one line per check (stdio floats and wide formats, snprintf, sscanf, stdio on a file,
 * open(2) flags, directories and stat on tmpfs and on the root file system, errno values,
 * TCP with select/poll/kqueue and UDP over lo0, setjmp/sigsetjmp, getaddrinfo/getnameinfo
 * from /etc/hosts, libm, fork's ENOSYS) and a summary; every line is asserted, then its exit
 * status. Its `exit N` and `return N` modes end the domain with N. The manifest build
 * (`"libc": "netbsd"`) must compile the source into the same object as the driver.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFfsImage } from '../src/index.js';
import { fullTestbed } from './full-testbed.js';
import { CLI, libcTestFolder } from './netbsd-libc-setup.js';

const ROOT = join(__dirname, '..', '..', '..');
const CC = join(ROOT, 'packages', 'netbsd-libc', 'bin', 'rumpxen-cc.js');
const EXAMPLE = join(ROOT, 'examples', 'netbsd-libc-suite');
const SOURCE = join(EXAMPLE, 'suite.c');
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];
const COMPONENTS = ['net_netinet', 'fs_tmpfs', 'fs_ffs'];
const TARGETS = ['xen-pv', 'xen-pvh'] as const;
type Target = (typeof TARGETS)[number];

/** Every check the program makes, in its order. */
const CHECKS = [
  'printf_float', 'wide_formats', 'snprintf_truncation', 'sscanf', 'mount_tmpfs', 'stdio_file',
  'open_flags_tmpfs', 'dirs_stat_tmpfs', 'open_flags_rootfs', 'dirs_stat_rootfs', 'errno',
  'tcp_lo0', 'udp_lo0', 'sigpipe', 'setjmp', 'getaddrinfo', 'libm', 'fork_enosys',
];

function node(script: string, args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 900_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, why: `${script} ${args.join(' ')}\n${r.stdout}\n${r.stderr}` };
}

/** The program's lines: from its first check line on, blank lines and the guest kernel's out. */
function checkLines(console: string[]): string[] {
  return console.filter((l) => /^(check |suite: )/.test(l));
}

const images: Partial<Record<Target, string>> = {};
const driverObjects: Partial<Record<Target, string>> = {};

const testDir = libcTestFolder('netbsd-libc-suite-test', async (dir) => {
  for (const target of TARGETS) {
    const obj = join(dir, `suite.${target}.c.o`);
    const c = node(CC, ['--target', target, ...CFLAGS, '-c', SOURCE, '-o', obj]);
    expect(c.code, c.why).toBe(0);
    driverObjects[target] = obj;
    const prog = join(dir, `suite.${target}.o`);
    const l = node(CC, ['--target', target, '-o', prog, obj]);
    expect(l.code, l.why).toBe(0);
    const out = join(dir, `suite.${target}`);
    const b = node(CLI, ['build', prog, '--libc', 'netbsd', '--target', target, ...COMPONENTS.flatMap((x) => ['--component', x]), '-o', out]);
    expect(b.code, b.why).toBe(0);
    images[target] = out;
  }
}, 1_200_000);


describe('the driver and the manifest build compile alike', () => {
  for (const target of TARGETS) {
    it(`${target}: image-linker build rumpxen.json compiles suite.c into the driver's object, byte for byte`, () => {
      const out = join(testDir(), 'manifest', `suite.${target}`);
      const b = node(CLI, ['build', join(EXAMPLE, 'rumpxen.json'), '--target', target, '-o', out]);
      expect(b.code, b.why).toBe(0);
      const manifestObject = readFileSync(join(testDir(), 'manifest', 'obj', `suite.${target}.o`));
      expect(manifestObject.equals(readFileSync(driverObjects[target]!))).toBe(true);
    }, 600_000);
  }
});

describe('NetBSD libc test suite in DomUs of a full testbed', () => {
  const testbed = fullTestbed();

  async function runDomU(target: Target, argv: string[], name: string, disk?: string) {
    const domu = await testbed().createDomU({
      kernel: images[target]!, memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv', name,
      ...(disk ? { disks: [{ file: disk, vdev: 'xvda', readonly: false }] } : {}),
      xenstore: { 'rumpxen/cfg': JSON.stringify({ argv: ['suite', ...argv], env: [] }) },
    });
    try {
      return await domu.wait({ timeoutMs: 180_000 });
    } finally {
      await domu.destroy().catch(() => undefined);
    }
  }

  for (const target of TARGETS) {
    it(`${target}: every check passes, one line each, and the domain exits 0`, async () => {
      const res = await runDomU(target, [], `nbsuite-${target}`);
      const why = res.console.join('\n');
      const lines = checkLines(res.console);
      expect(lines.map((l) => /^check ([a-z_0-9]+):/.exec(l)?.[1] ?? l).slice(0, -1), why).toEqual(CHECKS);
      for (const l of lines.slice(0, -1)) expect(l, why).toMatch(/^check [a-z_0-9]+: ok/);
      expect(lines.at(-1), why).toBe(`suite: ${CHECKS.length} passed, 0 failed`);
      // Details that the lines carry: NetBSD's answer to O_NOFOLLOW on a symlink is EFTYPE.
      expect(lines.find((l) => l.startsWith('check open_flags_tmpfs:')), why).toMatch(/O_NOFOLLOW: errno 79\)/);
      expect(lines.find((l) => l.startsWith('check fork_enosys:')), why).toBe('check fork_enosys: ok fork: -1, errno 78 (Function not implemented)');
      expect(res.console, why).toContain('netbsd-libc: fork: no processes in a rumpxen domain (one program, no fork or exec), so it fails with ENOSYS');
      expect(res.exitCode, why).toBe(0);
      expect(res.end, why).toEqual({ kind: 'shutdown', reasonCode: 0 });
    }, 300_000);

    it(`${target}: the file checks on FFS, read-write, on a vbd`, async () => {
      const empty = join(testDir(), `ffs-empty-${target}`);
      mkdirSync(empty, { recursive: true });
      const disk = makeFfsImage(empty, join(testDir(), `ffs-${target}.img`), { sizeMib: 16 }).image;
      const res = await runDomU(target, ['ffs', '/dev/xvda'], `nbsuite-ffs-${target}`, disk);
      const why = res.console.join('\n');
      const lines = checkLines(res.console);
      const ffsChecks = ['mount_ffs', 'stdio_file', 'open_flags_ffs', 'dirs_stat_ffs', 'unmount_ffs'];
      expect(lines.map((l) => /^check ([a-z_0-9]+):/.exec(l)?.[1] ?? l).slice(0, -1), why).toEqual(ffsChecks);
      for (const l of lines.slice(0, -1)) expect(l, why).toMatch(/^check [a-z_0-9]+: ok/);
      expect(lines.at(-1), why).toBe(`suite: ${ffsChecks.length} passed, 0 failed`);
      expect(res.exitCode, why).toBe(0);
    }, 300_000);

    it(`${target}: exit(N) and return N from main are the domain's exit status`, async () => {
      const n = target === 'xen-pv' ? 42 : 9;
      const ex = await runDomU(target, ['exit', String(n)], `nbsuite-exit-${target}`);
      let why = ex.console.join('\n');
      // The line has no newline: only exit's stdio flush prints it.
      expect(ex.console, why).toContain(`exiting with ${n}`);
      expect(ex.exitCode, why).toBe(n);
      expect(ex.end, why).toEqual({ kind: 'crashed' });

      const ret = await runDomU(target, ['return', String(n + 1)], `nbsuite-ret-${target}`);
      why = ret.console.join('\n');
      expect(ret.console, why).toContain(`returning ${n + 1} from main`);
      expect(ret.exitCode, why).toBe(n + 1);

      const zero = await runDomU(target, ['return', '0'], `nbsuite-ret0-${target}`);
      why = zero.console.join('\n');
      expect(zero.exitCode, why).toBe(0);
      expect(zero.end, why).toEqual({ kind: 'shutdown', reasonCode: 0 });
    }, 400_000);
  }
});
