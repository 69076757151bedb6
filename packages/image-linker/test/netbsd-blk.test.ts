/**
 * NetBSD's disk stack on Xen vbds: examples/netbsd-blk/blk.c (components by name: fs_ffs,
 * which brings dev_disk and vfs) registers the vbd with etfs (host path "/dev/xvda", what
 * rumpuser_open and blkfront get) and
 * - mounts an FFS made by NetBSD's own newfs (built for the host by @rumpxen/netbsd-build's
 *   buildHostTool) read-write in one DomU, writes files and directories, unmounts; NetBSD's
 *   fsck_ffs (built the same way) finds the image clean on the host; a second DomU (xen-pvh)
 *   and a posix NetBSD process on the host read every byte back;
 * - on a read-only vbd: the device refuses O_RDWR, a read-write mount fails, a read-only one
 *   works and every write is refused with EROFS;
 * - writes and reads the last 512-byte sector of a 5 GiB sparse disk through the raw device,
 *   which dom0 then reads with dd.
 * Also: the host tools themselves (newfs's image is clean, a corrupted one is not).
 * One file, so its QEMU boots run one after another.
 */
import { caseVerdicts } from '@rumpxen/protocol';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed } from '@rumpxen/xen-testbed';
import { buildHostTool, buildNetbsd, type HostTool } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest } from '../src/index.js';
import { workdir } from './helpers.js';

const MANIFEST = join(__dirname, '..', '..', '..', 'examples', 'netbsd-blk', 'blk.json');
const BIG = 5 * 1024 * 1024 * 1024;
type Target = 'posix' | 'xen-pv' | 'xen-pvh';

const images = {} as Record<Target, string>;
let newfs: HostTool;
let fsck: HostTool;
let dir: string;

const cases = caseVerdicts;

const pass = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'PASS']));

function makeFfs(file: string, mib: number): void {
  const r = spawnSync(newfs.path, ['-F', '-s', `${mib}m`, file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`${mib}.0MB`);
}

/** fsck_ffs -n -f: exit status and output. */
function checkFfs(file: string): { status: number | null; out: string } {
  const r = spawnSync(fsck.path, ['-n', '-f', file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** blk.posix on the host: its console (rumpuser_dprintf writes to stderr there) and exit status. */
function hostRun(args: string[]): { lines: string[]; text: string; status: number | null } {
  const r = spawnSync(images.posix, args, { encoding: 'utf8', timeout: 120_000 });
  const text = r.stdout + r.stderr;
  return { lines: text.split('\n'), text, status: r.status };
}

function sparse(file: string, size: number): void {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
}

function readSector(file: string, sector: number): Buffer {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(512);
  readSync(fd, b, 0, 512, sector * 512);
  closeSync(fd);
  return b;
}

beforeAll(async () => {
  // Fail here, not in a rebuild, when npm test's NetBSD step did not run.
  await buildNetbsd('posix', { cachedOnly: true });
  await buildNetbsd('xen-pv', { cachedOnly: true });
  newfs = await buildHostTool('newfs');
  fsck = await buildHostTool('fsck_ffs');
  dir = workdir('netbsd-blk');
  const m = loadManifest(MANIFEST);
  for (const target of ['posix', 'xen-pv', 'xen-pvh'] as const) {
    const b = await buildProject(m, { target, output: join(dir, `blk.${target}`) });
    expect(new Set(b.components)).toEqual(new Set(['fs_ffs', 'dev_disk', 'dev', 'vfs', 'rump']));
    images[target] = b.output;
  }
}, 180_000);

describe('NetBSD\'s newfs and fsck_ffs as host tools', () => {
  it('newfs -F makes an FFS image that fsck_ffs finds clean; a damaged root directory is found', () => {
    const img = join(dir, 'tools.img');
    makeFfs(img, 16);
    const clean = checkFfs(img);
    expect(clean.status, clean.out).toBe(0);
    expect(clean.out).toMatch(/^1 files, 1 used, \d+ free/m);
    // The root directory's size (di_size of inode 2, in the first cylinder group's inodes)
    // made 123456, which is no multiple of the directory block.
    const sb = Buffer.alloc(2048);
    const fd = openSync(img, 'r+');
    readSync(fd, sb, 0, 2048, 8192);
    expect(sb.readUInt32LE(1372)).toBe(0x011954); // FS_UFS1_MAGIC
    const inodes = sb.readInt32LE(16) * sb.readInt32LE(52); // fs_iblkno * fs_fsize
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(123456n);
    writeSync(fd, size, 0, 8, inodes + 2 * 128 + 8);
    closeSync(fd);
    const bad = checkFfs(img);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('DIRECTORY /: LENGTH 123456 NOT MULTIPLE OF 512');
  });

  it('refuses what only a NetBSD host has, naming it', () => {
    const r = spawnSync(newfs.path, ['/dev/nonexistent-disk'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('newfs (rumpxen host build): ');
    expect(r.stderr).toContain('use an image file');
  });
});

describe('NetBSD on posix (etfs over a host file)', () => {
  it('writes an FFS image that fsck_ffs finds clean, reads it back, and addresses a 5 GiB file\'s last sector', () => {
    const img = join(dir, 'posix.img');
    makeFfs(img, 64);
    const w = hostRun(['ffs-write', img]);
    expect(cases(w.lines), w.text).toEqual(pass('etfs_register', 'mount_rw', 'write_files', 'unmount'));
    expect(w.status).toBe(0);
    const v = hostRun(['ffs-verify', img]);
    expect(cases(v.lines), v.text).toEqual(pass('etfs_register', 'mount_ro', 'read_files', 'list_dir', 'unmount'));
    expect(v.status).toBe(0);
    expect(checkFfs(img).status).toBe(0);
    const big = join(dir, 'posix-big.img');
    sparse(big, BIG);
    const r = hostRun(['raw', big, String(BIG)]);
    expect(cases(r.lines), r.text).toEqual(pass('etfs_register', 'raw_open', 'raw_last_sector', 'raw_first_sector'));
    expect(r.status).toBe(0);
    expect(readSector(big, BIG / 512 - 1).toString('latin1')).toContain('the last sector, written by NetBSD');
  }, 240_000);
});

describe('NetBSD in Xen DomUs over blkfront', () => {
  let tb: Testbed;
  let ffsImg: string;
  beforeAll(async () => {
    tb = await Testbed.start({ edu: false, pvh: true });
    // In the run folder: dom0 reaches it at the same path, and nothing is copied.
    ffsImg = join(tb.runDir, 'disks', 'ffs.img');
    makeFfs(ffsImg, 64);
  }, 240_000);
  afterAll(async () => {
    await tb?.stop();
  });

  async function runDomU(target: 'xen-pv' | 'xen-pvh', args: string, disk: { file: string; readonly?: boolean }) {
    const domu = await tb.createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv', cmdline: args,
      disks: [{ file: disk.file, vdev: 'xvda', readonly: disk.readonly }],
    });
    const r = await domu.wait({ timeoutMs: 240_000 });
    return { ...r, text: r.console.join('\n') };
  }

  it('xen-pv: mounts the FFS read-write from the vbd, writes files and directories, unmounts; fsck_ffs finds it clean', async () => {
    const r = await runDomU('xen-pv', 'ffs-write /dev/xvda', { file: ffsImg });
    expect(cases(r.console), r.text).toEqual(pass('etfs_register', 'mount_rw', 'write_files', 'unmount'));
    expect(r.text).toMatch(/^blkfront: xvda: 67108864 bytes \(131072 sectors of 512\), logical block 512, read-write, /m);
    expect(r.exitCode).toBe(0);
    const c = checkFfs(ffsImg);
    expect(c.status, c.out).toBe(0);
    // root, hello.txt, tree, tree/sub, its 20 files, big.bin
    expect(c.out).toMatch(/^25 files, \d+ used, \d+ free/m);
    expect(c.out).toContain('** Last Mounted on /mnt');
  }, 300_000);

  it('a second DomU (xen-pvh) and NetBSD on the host read every byte back', async () => {
    const r = await runDomU('xen-pvh', 'ffs-verify /dev/xvda', { file: ffsImg });
    expect(cases(r.console), r.text).toEqual(pass('etfs_register', 'mount_ro', 'read_files', 'list_dir', 'unmount'));
    expect(r.text).toContain('blk: /mnt/tree/sub lists 22 entries, /mnt/tree/big.bin has 2097152 bytes');
    expect(r.exitCode).toBe(0);
    const copy = join(dir, 'ffs-copy.img');
    copyFileSync(ffsImg, copy);
    const h = hostRun(['ffs-verify', copy]);
    expect(cases(h.lines), h.text).toEqual(pass('etfs_register', 'mount_ro', 'read_files', 'list_dir', 'unmount'));
    expect(h.status).toBe(0);
  }, 300_000);

  it('a read-only vbd: O_RDWR and a read-write mount are refused, a read-only mount works, writes fail with EROFS', async () => {
    const r = await runDomU('xen-pv', 'ffs-readonly /dev/xvda', { file: ffsImg, readonly: true });
    expect(cases(r.console), r.text).toEqual(pass('etfs_register', 'device_refuses_rdwr', 'mount_rw_refused', 'mount_ro', 'read_file', 'write_erofs', 'unmount'));
    expect(r.text).toMatch(/^blkfront: xvda: 67108864 bytes .*, read-only, /m);
    // rumpblk asked rumpuser_open for read-write first: EROFS made it fall back to read-only,
    // so NetBSD's device refuses O_RDWR with EACCES.
    expect(r.text).toContain('blk: open(/dev/xvda, O_RDWR) on the read-only disk: -1, errno 13');
    expect(r.exitCode).toBe(0);
    expect(checkFfs(ffsImg).status).toBe(0);
  }, 300_000);

  it('xen-pv: the raw device addresses the last sector of a 5 GiB disk; dom0 reads it with dd', async () => {
    const big = join(tb.runDir, 'disks', 'big.img');
    sparse(big, BIG);
    const r = await runDomU('xen-pv', `raw /dev/xvda ${BIG}`, { file: big });
    expect(cases(r.console), r.text).toEqual(pass('etfs_register', 'raw_open', 'raw_last_sector', 'raw_first_sector'));
    expect(r.text).toContain(`blk: /dev/rxvda: ${BIG} bytes, last sector ${BIG / 512 - 1}`);
    expect(r.exitCode).toBe(0);
    const last = BIG / 512 - 1;
    const dd = await tb.dom0.exec(`dd if=${big} bs=512 skip=${last} count=1 2>/dev/null | od -An -c | head -4`);
    expect(dd.code).toBe(0);
    expect(dd.stdout.replace(/\s+/g, '')).toContain('rumpxennetbsd-blk:thelastsector,writtenbyNetBSD');
    const sector = readSector(big, last);
    expect(sector.readBigUInt64LE(504)).toBe(BigInt(last));
    expect(readSector(big, 0).toString('latin1')).toContain('the first sector, written by NetBSD');
  }, 300_000);
});
