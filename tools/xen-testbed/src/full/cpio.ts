/**
 * A writer for the `newc` cpio format the Linux kernel unpacks as an initramfs, so the
 * testbed needs no host `cpio`. Entries are written in the order given; parents first.
 */

/** One file system object of the archive. Paths are relative (no leading `/`). */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

function header(ino: number, mode: number, size: number, nameSize: number, rdevMajor = 0, rdevMinor = 0): Buffer {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, rdevMajor, rdevMinor, nameSize, 0];
  return Buffer.from('070701' + fields.map(hex8).join(''), 'latin1');
}

/** The archive bytes for `entries`, ending with the `TRAILER!!!` record. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const record = (ino: number, mode: number, name: string, data: Buffer, rdev: [number, number] = [0, 0]) => {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    push(header(ino, mode, data.length, nameBytes.length, rdev[0], rdev[1]));
    push(nameBytes);
    push(pad4(offset));
    if (data.length > 0) {
      push(data);
      push(pad4(offset));
    }
  };
  let ino = 1;
  for (const e of entries) {
    if (e.path.startsWith('/') || e.path.length === 0) throw new Error(`cpio entry path '${e.path}' must be relative and non-empty`);
    switch (e.type) {
      case 'dir':
        record(ino++, S_IFDIR | (e.mode ?? 0o755), e.path, Buffer.alloc(0));
        break;
      case 'file':
        record(ino++, S_IFREG | (e.mode ?? 0o644), e.path, e.data);
        break;
      case 'symlink':
        record(ino++, S_IFLNK | 0o777, e.path, Buffer.from(e.target, 'utf8'));
        break;
      case 'char':
        record(ino++, S_IFCHR | (e.mode ?? 0o600), e.path, Buffer.alloc(0), [e.major, e.minor]);
        break;
    }
  }
  record(0, 0, 'TRAILER!!!', Buffer.alloc(0));
  return Buffer.concat(parts);
}
