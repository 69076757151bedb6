/** Reading what another writer (QEMU's 9p server, on dom0's behalf) appended to a file. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Follows one file from `offset`; `next()` returns the bytes appended since the last call. */
export class FileFollower {
  constructor(
    readonly path: string,
    public offset = 0,
  ) {}

  /** New bytes (empty when none, or while the file does not exist yet). */
  next(): Buffer {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return Buffer.alloc(0);
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return Buffer.alloc(0);
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }
}
