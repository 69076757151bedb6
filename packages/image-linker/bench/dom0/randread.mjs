#!/usr/bin/env node
// Random 4 KiB reads for bench/netbsd-io.mjs, run in the full testbed's dom0 by the host's node
// (`hostrun node randread.mjs DEVICE SIZE COUNT TAG`): the baseline of io.c's randread. The
// same sequence as io.c: COUNT blocks of 4096 bytes, block = x mod (SIZE / 4096) for the
// xorshift32 x (13, 17, 5) from the seed 2463534242, read with O_DIRECT (no page cache) at
// their offsets; each block's first 8 bytes are checked against io.c's pattern of disk TAG
// (TAG << 56 | sector, little-endian). Prints one JSON line: reads, ms, per second, and how
// many blocks did not match.
import { closeSync, constants, openSync, readSync } from 'node:fs';

const [device, sizeArg, countArg, tag = 'a'] = process.argv.slice(2);
const size = Number(sizeArg);
const count = Number(countArg);
if (!device || !Number.isSafeInteger(size) || size < 4096 || !Number.isSafeInteger(count) || count <= 0) {
  console.error('usage: randread.mjs DEVICE SIZE COUNT [TAG]');
  process.exit(2);
}
const BLOCK = 4096;
const nblocks = Math.floor(size / BLOCK);
const fd = openSync(device, constants.O_RDONLY | constants.O_DIRECT);

// O_DIRECT wants the buffer aligned to the device's logical block (512 here); node cannot ask
// for an aligned buffer, so find the offset into a larger one at which a read is accepted.
const big = Buffer.alloc(BLOCK * 2);
let at = -1;
for (let off = 0; off < BLOCK; off += 16) {
  try {
    readSync(fd, big, off, BLOCK, 0);
    at = off;
    break;
  } catch (e) {
    if (e.code !== 'EINVAL') throw e;
  }
}
if (at < 0) {
  console.error('randread: no buffer offset is accepted for O_DIRECT reads');
  process.exit(1);
}
const buf = big.subarray(at, at + BLOCK);
const want = (blk) => (BigInt(tag.charCodeAt(0)) << 56n) | BigInt(blk * (BLOCK / 512));

let x = 2463534242;
let bad = 0;
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  x = (x ^ (x << 13)) >>> 0;
  x = (x ^ (x >>> 17)) >>> 0;
  x = (x ^ (x << 5)) >>> 0;
  const blk = x % nblocks;
  const n = readSync(fd, buf, 0, BLOCK, blk * BLOCK);
  if (n !== BLOCK || buf.readBigUInt64LE(0) !== want(blk)) bad++;
}
const ms = performance.now() - t0;
closeSync(fd);
console.log(JSON.stringify({ reads: count, ms: Math.round(ms * 10) / 10, perSecond: Math.round((count / ms) * 1000 * 10) / 10, bad }));
