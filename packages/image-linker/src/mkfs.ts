/**
 * An FFS image from a folder, for a DomU's vbd: NetBSD's own makefs(8) as Debian packages it
 * (`makefs`), run with the options a NetBSD 7.99 rump kernel mounts (little-endian, FFSv2 by
 * default, 8 KiB blocks and 1 KiB fragments: makefs's defaults), sized to fit the folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { ImageLinkerError } from './errors.js';

export interface MkfsOptions {
  /** FFS version: 2 (UFS2, the default) or 1 (UFS1); NetBSD 7.99 mounts both. */
  ffsVersion?: 1 | 2;
  /** Image size in MiB; by default makefs makes it just big enough for the folder. */
  sizeMib?: number;
  /** The makefs binary; by default `makefs` on PATH, then /usr/sbin/makefs. */
  makefs?: string;
}

export interface MkfsResult {
  image: string;
  bytes: number;
  /** makefs's report (size, block and fragment size, inodes). */
  log: string;
}

function findMakefs(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = join(d, 'makefs');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Writes an FFS image of `folder` (its files, folders and symbolic links, with their modes)
 * to `image`: through a temp file beside it, renamed when makefs succeeded. Throws
 * ImageLinkerError for a missing folder or a missing makefs (naming the Debian package).
 */
export function makeFfsImage(folder: string, image: string, opts: MkfsOptions = {}): MkfsResult {
  const src = resolve(folder);
  if (!existsSync(src) || !statSync(src).isDirectory()) {
    throw new ImageLinkerError(folder, 'is not a folder.', 'Name the folder whose files the image should hold: image-linker mkfs FOLDER IMAGE.');
  }
  const version = opts.ffsVersion ?? 2;
  if (version !== 1 && version !== 2) {
    throw new ImageLinkerError(`FFS version ${String(version)}`, 'is neither 1 nor 2.', 'Use ffsVersion 1 or 2.');
  }
  const makefs = opts.makefs ?? findMakefs();
  if (!makefs || !existsSync(makefs)) {
    throw new ImageLinkerError('makefs', `was not found (${makefs ?? 'on PATH, /usr/sbin or /sbin'}): it is what builds an FFS image from a folder.`,
      'Install Debian\'s package "makefs" (NetBSD\'s makefs): apt-get install makefs, or run scripts/setup.sh.', 1);
  }
  const out = resolve(image);
  if (!existsSync(dirname(out))) {
    throw new ImageLinkerError(image, `cannot be written: its folder ${dirname(out)} does not exist.`, 'Create the folder first or name another path.');
  }
  const tmp = `${out}.tmp-${process.pid}`;
  // -M: makefs refuses a file system under 40 KiB, which a folder of a few small files asks for.
  const args = ['-t', 'ffs', '-B', 'le', '-o', `version=${version}`, '-M', '1m'];
  if (opts.sizeMib !== undefined) {
    if (!Number.isInteger(opts.sizeMib) || opts.sizeMib <= 0) {
      throw new ImageLinkerError(`size ${opts.sizeMib}`, 'is not a positive whole number of MiB.', 'Give e.g. 16, or leave it out to fit the folder.');
    }
    args.push('-s', `${opts.sizeMib}m`);
  }
  args.push(tmp, src);
  const r = spawnSync(makefs, args, { encoding: 'utf8' });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new ImageLinkerError(folder, `makefs (${makefs} ${args.join(' ')}) failed: ${r.error?.message ?? log.trim()}`,
      opts.sizeMib !== undefined ? 'Give a larger size, or none to fit the folder.' : 'Check that the folder and its files are readable.', 1);
  }
  renameSync(tmp, out);
  return { image: out, bytes: statSync(out).size, log };
}
