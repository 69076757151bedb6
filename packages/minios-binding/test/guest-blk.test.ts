/**
 * blkfront and rumpuser's files on Xen, as DomUs of a full testbed (Linux dom0: blkback over
 * loop devices on files of the run folder, which the host reads too):
 * - the rumpuser conformance suite with a 64 KiB vbd as its file: every file and bio case
 *   passes (xen-pv and xen-pvh);
 * - test/blk/blktest.c "data" (xen-pv and xen-pvh): transfers of every alignment, 40 in
 *   flight, rumpuser_bio/iov/syncfd, past the end, a read-only vbd (EROFS), the last sector
 *   of a 5 GiB sparse disk; the host then checks the bytes in the disk files, and dom0 reads
 *   the last sector with dd;
 * - blktest "inject": a backend breaking the protocol five ways, each refused with a message.
 */
import { closeSync, ftruncateSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testbed } from '@rumpxen/xen-testbed';
import { conformanceFileParam, parseConformanceOutput, type TargetDefinition } from '@rumpxen/hypercall-api';
import { xenPvTarget, xenPvhTarget } from '../src/targets.js';
import { caseResults, compileForTarget, imageDir, linkConformanceImage, linkImage } from './guest-image.js';

const MIB = 1024 * 1024;
const DATA_CASES = ['names', 'rw_aligned', 'rw_unaligned', 'in_flight', 'bio', 'iov', 'flush', 'past_end', 'readonly', 'big_disk'];
const INJECT_CASES = ['rsp_prod_ahead', 'stale_id', 'wrong_op', 'unknown_status', 'id_range', 'others_unharmed'];
const FILE_CASES = ['file_getfileinfo', 'file_open_errors', 'bio_write_read', 'bio_read_past_end', 'iovwrite_iovread', 'syncfd_flags'];
const MARKER = 'rumpxen blkfront: the last sector of a 5 GiB disk';

/** blktest.c's data_byte and ro_byte. */
const dataByte = (o: number) => (Math.floor(o / 512) * 31 + (o % 512) * 7 + 0x5a) & 0xff;
const roByte = (o: number) => (o * 13 + Math.floor(o / 512) + 0xa5) & 0xff;

/** The regions blktest "data" wrote on xvda: [offset, length]. */
const WRITTEN: Array<[number, number]> = [
  [1 * MIB, 128 * 1024], [2 * MIB, MIB], [3 * MIB + 4096, 4096],
  [4 * MIB + 512, 20 * 1024], [5 * MIB, 36 * 1024], [6 * MIB + 1536, 512],
  [8 * MIB, 40 * 8192], [12 * MIB, 4096], [12 * MIB + 8192, 4096], [13 * MIB, 4096],
  [14 * MIB + 3, 5100], [15 * MIB, 4096],
];

let tb: Testbed;
let dir: string;
const images: Record<string, string> = {};

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    expect(readSync(fd, b, 0, length, offset)).toBe(length);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** A sparse file of `size` bytes in the testbed's run folder (dom0 sees it at the same path). */
function disk(name: string, size: number, fill?: (o: number) => number): string {
  const file = join(tb.runDir, 'disks', name);
  if (fill) {
    const b = Buffer.alloc(size);
    for (let o = 0; o < size; o++) b[o] = fill(o);
    writeFileSync(file, b);
  } else {
    const fd = openSync(file, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
  }
  return file;
}

beforeAll(async () => {
  dir = imageDir('blk');
  for (const target of [xenPvTarget, xenPvhTarget]) {
    const obj = compileForTarget(target, join(__dirname, 'blk', 'blktest.c'), join(dir));
    images[`blktest-${target.name}`] = linkImage(target, { objects: [obj] }, join(dir, `blktest-${target.name}.elf`));
    images[`conformance-${target.name}`] = linkConformanceImage(target, join(dir, `conformance-${target.name}.elf`));
  }
  tb = await Testbed.start({ edu: false, pvh: true });
}, 240_000);

afterAll(async () => {
  await tb?.stop();
});

describe.each([
  { target: xenPvTarget, type: 'pv' as const },
  { target: xenPvhTarget, type: 'pvh' as const },
])('vbds on $target.name', ({ target, type }: { target: TargetDefinition; type: 'pv' | 'pvh' }) => {
  it('the conformance suite passes every file and bio case on a 64 KiB vbd', async () => {
    const file = disk(`conf-${type}.img`, 64 * 1024);
    const domu = await tb.createDomU({
      kernel: images[`conformance-${target.name}`]!, memory: 16, type,
      cmdline: `${conformanceFileParam}=/dev/xvda`, disks: [{ file, vdev: 'xvda' }],
    });
    const r = await domu.wait({ timeoutMs: 120_000 });
    const report = parseConformanceOutput(r.console.join('\n'));
    const outcomes = Object.fromEntries(report.cases.map((c) => [c.name, `${c.outcome} ${c.reason}`.trimEnd()]));
    for (const c of FILE_CASES) expect(outcomes[c], `${c}\n${r.console.join('\n')}`).toBe('PASS');
    // The only skip left is the CPU frequency the guest does not know.
    expect(report.cases.filter((c) => c.outcome === 'SKIP').map((c) => c.name)).toEqual(['getparam_cpu_frequency']);
    expect(report.cases.filter((c) => c.outcome === 'FAIL')).toEqual([]);
    expect(report.cases.length).toBe(report.announced);
    expect(r.console).toContainEqual(expect.stringMatching(/^blkfront: xvda: 65536 bytes \(128 sectors of 512\), logical block 512, read-write, flush: cache flush, indirect segments: \d+; backend \/local\/domain\/0\/backend\/vbd\/\d+\/51712$/));
    expect(report.result).toBe('SUCCESS');
    expect(r.exitCode).toBe(0);
  }, 180_000);

  it('blktest data: alignments, 40 in flight, bio/iov/syncfd, past the end, read-only, a 5 GiB disk; the host reads what it wrote', async () => {
    const xvda = disk(`data-${type}.img`, 64 * MIB);
    const xvdb = disk(`ro-${type}.img`, MIB, roByte);
    const xvdc = disk(`big-${type}.img`, 5 * 1024 * MIB);
    const domu = await tb.createDomU({
      kernel: images[`blktest-${target.name}`]!, memory: 32, type, cmdline: 'data',
      disks: [{ file: xvda, vdev: 'xvda' }, { file: xvdb, vdev: 'xvdb', readonly: true }, { file: xvdc, vdev: 'xvdc' }],
    });
    const r = await domu.wait({ timeoutMs: 180_000 });
    const text = r.console.join('\n');
    expect(caseResults(r.console), text).toEqual(Object.fromEntries(DATA_CASES.map((c) => [c, 'PASS'])));
    expect(text).toMatch(/^blkfront: xvdb: 1048576 bytes \(2048 sectors of 512\), logical block 512, read-only, /m);
    expect(text).toMatch(/^blkfront: xvdc: 5368709120 bytes \(10485760 sectors of 512\), logical block 512, read-write, /m);
    expect(r.exitCode).toBe(0);

    // Every region blktest wrote holds data_byte at each offset; the gaps between stayed zero.
    for (const [off, len] of WRITTEN) {
      const b = readAt(xvda, off, len);
      const bad = b.findIndex((v, i) => v !== dataByte(off + i));
      expect(bad, `xvda region at ${off} (${len} bytes) differs at byte ${bad}`).toBe(-1);
    }
    expect(readAt(xvda, 7 * MIB, MIB).every((v) => v === 0)).toBe(true);
    expect(readAt(xvda, 14 * MIB + 2, 1)[0]).toBe(0);
    // The read-only disk is as the host wrote it.
    const ro = readAt(xvdb, 0, MIB);
    expect(ro.findIndex((v, i) => v !== roByte(i))).toBe(-1);
    // The last sector of the 5 GiB disk, read in dom0 with dd (through the loop device's file).
    const lastSector = 5 * 1024 * 2048 - 1;
    const dd = await tb.dom0.exec(`dd if=${xvdc} bs=512 skip=${lastSector} count=1 2>/dev/null | od -An -c | head -4`);
    expect(dd.code).toBe(0);
    expect(dd.stdout.replace(/\s+/g, '')).toContain(MARKER.replace(/\s+/g, ''));
    const last = readAt(xvdc, lastSector * 512, 512);
    expect(last.subarray(0, MARKER.length).toString()).toBe(MARKER);
    expect(last.readBigUInt64LE(504)).toBe(BigInt(lastSector));
    expect(readAt(xvdc, 4 * 1024 * MIB, 512).every((v) => v === 0)).toBe(true);
  }, 240_000);
});

describe('a backend that breaks the protocol (xen-pv)', () => {
  it('each bad response is refused with a message, only its vbd goes out of service, the guest runs on', async () => {
    const disks = ['xvda', 'xvdb', 'xvdc', 'xvdd', 'xvde'].map((vdev) => ({ file: disk(`inject-${vdev}.img`, MIB), vdev }));
    const domu = await tb.createDomU({ kernel: images[`blktest-${xenPvTarget.name}`]!, memory: 16, cmdline: 'inject', disks });
    const r = await domu.wait({ timeoutMs: 120_000 });
    const text = r.console.join('\n');
    expect(caseResults(r.console), text).toEqual(Object.fromEntries(INJECT_CASES.map((c) => [c, 'PASS'])));
    const refused = (dev: string, what: string) => new RegExp(`^blkfront: ${dev}: refused the backend's ${what}; ${dev} is out of service, every transfer on it fails with EIO$`, 'm');
    expect(text).toMatch(refused('xvda', String.raw`response index rsp_prod 1000 \(ours: rsp_cons 0, 0 requests outstanding\): the response producer index is ahead of the requests outstanding`));
    expect(text).toMatch(refused('xvdb', String.raw`response at ring index 0 \(id 0x[0-9a-f]+, operation 0, status 0\): the response id is not the outstanding request's \(a stale or repeated response\)`));
    expect(text).toMatch(refused('xvdc', String.raw`response at ring index 0 \(id 0x[0-9a-f]+, operation 1, status 0\): the response's operation is not the request's`));
    expect(text).toMatch(refused('xvdd', String.raw`response at ring index 0 \(id 0x[0-9a-f]+, operation 0, status 7\): the response's status is none of BLKIF_RSP_OKAY, _ERROR, _EOPNOTSUPP`));
    expect(text).toMatch(refused('xvde', String.raw`response at ring index 1 \(id 0xc8, operation 0, status 0\): the response id names no slot of the ring`));
    expect(text).not.toMatch(/rumpxen: crash|rumpxen: panic/);
    expect(r.exitCode).toBe(0);
  }, 180_000);
});
