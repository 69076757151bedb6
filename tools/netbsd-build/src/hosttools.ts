/**
 * NetBSD's file system tools as host programs: `newfs` (sbin/newfs, with -F it makes an FFS
 * image in a regular file) and `fsck_ffs` (sbin/fsck_ffs, checks one), compiled from the
 * NetBSD tree with the host's cc over the tools' compatibility library (libnbcompat) of a
 * build already in the cache, for tests that make and check FFS images on the host.
 *
 * The tree has no tools/makefs, and these programs are not host tools in NetBSD's own
 * build: what they need from NetBSD that a Linux host lacks comes from small shims written
 * here, never from changed NetBSD code. `pre.h` (included first) names NetBSD's mount flags,
 * disk geometry and wedge structures and keeps glibc's dirent from renaming d_fileno; the
 * stubs stand in for what only a NetBSD host has (disk labels, the mount table, raw device
 * names, fsck_ffs's WAPBL journal replay and snapshots): each says so and exits when it is
 * reached. So both work on image files (`newfs -F`, `fsck_ffs -f image`) and refuse disks;
 * fsck_ffs refuses a journaled (WAPBL) file system it would have to replay.
 *
 * Cached like the builds: `<cache>/netbsd/hosttools/<tool>-<key>/` with `bin/<tool>`,
 * `build.log` and `result.json` written last; the key covers the NetBSD sources, the
 * compatibility library's build, the shims and the compiler.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildNetbsd, type NetbsdBuild } from './build.js';
import { netbsdCacheDir, withLock } from './cache.js';
import { NetbsdBuildError } from './errors.js';

export type HostToolName = 'newfs' | 'fsck_ffs';
export const HOST_TOOLS: readonly HostToolName[] = ['newfs', 'fsck_ffs'];

export interface HostTool {
  name: HostToolName;
  /** The program. */
  path: string;
  /** Its cache folder (bin/, obj/, shim/, build.log, result.json). */
  dir: string;
  key: string;
  /** True when this call found it in the cache. */
  cached: boolean;
}

export interface HostToolOptions {
  /** The NetBSD build whose sources and libnbcompat to use (default: posix's, else xen-pv's, from the cache). */
  build?: NetbsdBuild;
  /** Only look in the cache; throw when the tool is not built. */
  cachedOnly?: boolean;
  onProgress?: (line: string) => void;
}

/** Bumped when the way a tool is made changes. */
const FORMAT = 1;

interface ToolSpec {
  /** Sources, relative to the NetBSD tree. */
  sources: string[];
  /** Include folders, relative to the tree. */
  includes: string[];
  defines: string[];
  stubs: string;
}

/* What only a NetBSD host has: each stub names what is missing and ends the program. */
const STUB_HEAD = `#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
static void host_build_lacks(const char *prog, const char *what, int status)
{
	fprintf(stderr, "%s (rumpxen host build): %s is not available here; use an image file\\n", prog, what);
	exit(status);
}
`;

const SPECS: Record<HostToolName, ToolSpec> = {
  newfs: {
    sources: ['sbin/newfs/newfs.c', 'sbin/newfs/mkfs.c', 'sys/ufs/ffs/ffs_bswap.c', 'sys/ufs/ffs/ffs_appleufs.c', 'sbin/disklabel/dkcksum.c', 'sbin/mount/pathadj.c', 'sys/ufs/ufs/quota2_subr.c'],
    includes: ['sbin/newfs', 'sbin/disklabel', 'sbin/fsck', 'sbin/mount'],
    defines: [],
    stubs: `${STUB_HEAD}
void *getmntopts(const char *o, const void *m, int *f, int *a) { (void)o; (void)m; (void)f; (void)a; host_build_lacks("newfs", "-o (mount options, for mount_mfs)", 1); return NULL; }
void freemntopts(void *mp) { (void)mp; }
int getdiskinfo(const char *s, int fd, const char *dt, void *geo, void *dkw) { (void)s; (void)fd; (void)dt; (void)geo; (void)dkw; host_build_lacks("newfs", "a disk label", 1); return -1; }
const char *getdiskrawname(char *b, size_t n, const char *name) { (void)b; (void)n; (void)name; host_build_lacks("newfs", "a raw disk device (give -F and a file)", 1); return NULL; }
const char *getfsspecname(char *b, size_t n, const char *name) { (void)b; (void)n; (void)name; host_build_lacks("newfs", "a disk named in fstab (give -F and a file)", 1); return NULL; }
int opendisk(const char *p, int f, char *b, size_t n, int c) { (void)p; (void)f; (void)b; (void)n; (void)c; host_build_lacks("newfs", "a disk device (give -F and a file)", 1); return -1; }
`,
  },
  fsck_ffs: {
    sources: [
      ...['dir', 'inode', 'main', 'pass1', 'pass1b', 'pass2', 'pass3', 'pass4', 'pass5', 'pass6', 'setup', 'utilities', 'quota2'].map((f) => `sbin/fsck_ffs/${f}.c`),
      'sbin/fsck/fsutil.c', 'sbin/fsck/progress.c',
      ...['ffs_bswap', 'ffs_subr', 'ffs_tables', 'ffs_appleufs'].map((f) => `sys/ufs/ffs/${f}.c`),
      'sys/ufs/ufs/quota2_subr.c',
    ],
    includes: ['sbin/fsck_ffs', 'sbin/fsck', 'sbin/dump'],
    defines: ['-DPROGRESS'],
    // No disk label: fsck_ffs then takes DEV_BSIZE sectors, right for an image file.
    stubs: `${STUB_HEAD}
int getdiskinfo(const char *s, int fd, const char *dt, void *geo, void *dkw) { (void)s; (void)fd; (void)dt; (void)geo; (void)dkw; return -1; }
const char *getdiskrawname(char *b, size_t n, const char *name) { (void)b; (void)n; (void)name; return NULL; }
const char *getdiskcookedname(char *b, size_t n, const char *name) { (void)b; (void)n; (void)name; return NULL; }
const char *getfsspecname(char *b, size_t n, const char *name) { (void)b; (void)n; (void)name; return NULL; }
struct nb_statvfs;
int nb_statvfs(const char *p, struct nb_statvfs *s) { (void)p; (void)s; return -1; }
/* No WAPBL: nothing is read from a journal; a journaled file system is refused at replay. */
int check_wapbl(void) { return 0; }
void replay_wapbl(void) { host_build_lacks("fsck_ffs", "replaying a WAPBL journal", 8); }
void cleanup_wapbl(void) {}
int read_wapbl(char *b, long s, long blk) { (void)b; (void)s; (void)blk; return 0; }
int is_journal_inode(unsigned long i) { (void)i; return 0; }
int snap_open(char *f, char *b, void *t, void *d) { (void)f; (void)b; (void)t; (void)d; host_build_lacks("fsck_ffs", "-X (snapshots)", 8); return -1; }
`,
  },
};

/* NetBSD's names a Linux host lacks, for the sources above (values from NetBSD's headers). */
const PRE_H = `/* NetBSD's daddr_t is 64 bits, glibc's 32: take NetBSD's before glibc's sys/types.h runs. */
#define __daddr_t_defined 1
typedef long daddr_t;
typedef char *caddr_t;
#include "nbtool_config.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <sys/statvfs.h>
#include <sys/mount.h>
/* libnbcompat's compat_defs.h turns btodb into a left shift for makefs; NetBSD's is this. */
#undef btodb
#define btodb(bytes) ((bytes) >> 9)
/* glibc maps d_fileno to d_ino; NetBSD's ufs/ufs/dir.h does the reverse. */
#undef d_fileno
#undef MNT_FORCE
/* sys/mount.h */
#define MNT_RDONLY 0x00000001
#define MNT_SYNCHRONOUS 0x00000002
#define MNT_NOEXEC 0x00000004
#define MNT_NOSUID 0x00000008
#define MNT_NODEV 0x00000010
#define MNT_UNION 0x00000020
#define MNT_ASYNC 0x00000040
#define MNT_NOCOREDUMP 0x00008000
#define MNT_UPDATE 0x00010000
#define MNT_RELATIME 0x00020000
#define MNT_RELOAD 0x00040000
#define MNT_FORCE 0x00080000
#define MNT_IGNORE 0x00100000
#define MNT_GETARGS 0x00400000
#define MNT_DISCARD 0x00800000
#define MNT_EXTATTR 0x01000000
#define MNT_LOG 0x02000000
#define MNT_NOATIME 0x04000000
#define MNT_SYMPERM 0x20000000
#define MNT_NODEVMTIME 0x40000000
#define MNT_SOFTDEP 0x80000000
#define MNT_NOWAIT 2
#define MOUNT_FFS "ffs"
struct export_args30 { char opaque[64]; }; /* only inside mfs_args, which these builds never pass */
/* NetBSD's statvfs fields these programs name; the calls are stubbed (no mount table here). */
struct nb_statvfs { unsigned long f_flag; unsigned long f_iosize; char f_mntfromname[1024]; char f_mntonname[1024]; };
int nb_statvfs(const char *, struct nb_statvfs *);
#define statvfs nb_statvfs
#define fstatvfs(fd, s) (-1)
#define getmntinfo(mp, f) (0)
/* sys/disk.h and sys/dkio.h: geometry and wedges (never filled: there is no disk label here) */
struct disk_geom { long dg_secperunit; unsigned dg_secsize, dg_nsectors, dg_ntracks, dg_ncylinders, dg_secpercyl; };
struct dkwedge_info { char dkw_devname[16]; char dkw_wname[128]; char dkw_parent[16]; unsigned long dkw_offset, dkw_size; char dkw_ptype[32]; };
#define DKW_PTYPE_APPLEUFS "appleufs"
#define DKW_PTYPE_FFS "ffs"
/* NetBSD's libutil (util.h), stubbed: only disks have these */
const char *getdiskrawname(char *, size_t, const char *);
const char *getdiskcookedname(char *, size_t, const char *);
const char *getfsspecname(char *, size_t, const char *);
int opendisk(const char *, int, char *, size_t, int);
/* sys/stat.h, sys/signal.h */
#define SF_SNAPSHOT 0x00200000
#define SIGINFO SIGUSR2
`;

/* Headers a host build takes from the tree (nbinclude/), as NetBSD's tools do for makefs. */
const NBINCLUDE: Array<[string, string]> = [
  ['sys/sys/bootblock.h', 'sys/bootblock.h'],
  ['sys/sys/disklabel.h', 'sys/disklabel.h'],
  ['sys/sys/disklabel_acorn.h', 'sys/disklabel_acorn.h'],
  ['sys/sys/disklabel_gpt.h', 'sys/disklabel_gpt.h'],
  ['sys/sys/disklabel_rdb.h', 'sys/disklabel_rdb.h'],
  ['sys/sys/dkbad.h', 'sys/dkbad.h'],
  ['include/disktab.h', 'disktab.h'],
  ['include/mntopts.h', 'mntopts.h'],
  ['sys/ufs/ffs', 'ufs/ffs'],
  ['sys/ufs/ufs', 'ufs/ufs'],
];

function ccVersion(): string {
  const r = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '') : 'cc unavailable';
}

async function baseBuild(opts: HostToolOptions): Promise<NetbsdBuild> {
  if (opts.build) return opts.build;
  for (const target of ['posix', 'xen-pv']) {
    try {
      return await buildNetbsd(target, { cachedOnly: true });
    } catch {
      // not cached: try the next
    }
  }
  throw new NetbsdBuildError('NetBSD host tools', 'need a NetBSD build in the cache (for its sources and libnbcompat), and there is none.', 'Build one first: npx rumpxen-netbsd-build build posix   (npm test does this before its tests).');
}

/** The key of a tool: sources, the build its libnbcompat comes from, the spec and shims, the compiler. */
export function hostToolKey(name: HostToolName, build: NetbsdBuild): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, name, netbsd: build.sources.netbsd, compat: build.key, spec: SPECS[name], pre: PRE_H, cc: ccVersion() })).digest('hex');
}

/**
 * Builds NetBSD's `newfs` or `fsck_ffs` for the host, or finds it in the cache. Needs a
 * NetBSD build in the cache (never makes one).
 */
export async function buildHostTool(name: HostToolName, opts: HostToolOptions = {}): Promise<HostTool> {
  if (!HOST_TOOLS.includes(name)) {
    throw new NetbsdBuildError(`host tool "${name}"`, 'is not one this package builds.', `Use one of ${HOST_TOOLS.join(', ')}.`);
  }
  const build = await baseBuild(opts);
  const key = hostToolKey(name, build);
  const dir = join(netbsdCacheDir(), 'hosttools', `${name}-${key.slice(0, 16)}`);
  const result = join(dir, 'result.json');
  const path = join(dir, 'bin', name);
  const found = (): HostTool | undefined => (existsSync(result) && existsSync(path) ? { name, path, dir, key, cached: true } : undefined);
  const cached = found();
  if (cached) return cached;
  if (opts.cachedOnly) {
    throw new NetbsdBuildError(`NetBSD host tool ${name}`, `is not built (no ${result}).`, `Build it with buildHostTool('${name}') from @rumpxen/netbsd-build.`);
  }
  const progress = opts.onProgress ?? (() => {});
  return withLock(dir, async () => {
    const again = found();
    if (again) return again;
    rmSync(dir, { recursive: true, force: true });
    for (const d of ['bin', 'obj', 'shim', 'nbinclude']) mkdirSync(join(dir, d), { recursive: true });
    const log = join(dir, 'build.log');
    writeFileSync(log, '');
    const src = build.netbsdSrcDir;
    const tools = join(build.dir, 'tools');
    const compatLib = join(tools, 'lib', 'libnbcompat.a');
    if (!existsSync(compatLib)) {
      throw new NetbsdBuildError(`NetBSD host tool ${name}`, `needs ${compatLib}, which the build in ${build.dir} lacks.`, 'Rebuild that NetBSD build (remove its folder and run npx rumpxen-netbsd-build build posix).');
    }
    for (const [from, to] of NBINCLUDE) cpSync(join(src, from), join(dir, 'nbinclude', to), { recursive: true });
    writeFileSync(join(dir, 'shim', 'pre.h'), PRE_H);
    mkdirSync(join(dir, 'shim', 'sys'), { recursive: true });
    // Linux has neither; what these programs use of them is in pre.h.
    for (const h of ['disk.h', 'sysctl.h', 'tty.h']) writeFileSync(join(dir, 'shim', 'sys', h), '');
    writeFileSync(join(dir, 'shim', 'stubs.c'), SPECS[name].stubs);
    const spec = SPECS[name];
    const flags = [
      // NetBSD's code warns a lot on a Linux host; a call to an undeclared function never passes.
      '-O1', '-w', '-Werror=implicit-function-declaration', '-fcommon', '-DHAVE_NBTOOL_CONFIG_H=1', '-D_FILE_OFFSET_BITS=64', ...spec.defines,
      '-include', join(dir, 'shim', 'pre.h'), '-I', dir, '-I', join(dir, 'shim'), '-I', join(tools, 'include', 'compat'),
      '-I', join(src, 'tools', 'compat'), '-I', join(dir, 'nbinclude'), ...spec.includes.flatMap((i) => ['-I', join(src, i)]),
    ];
    const run = (args: string[], what: string): void => {
      appendFileSync(log, `cc ${args.join(' ')}\n`);
      const r = spawnSync('cc', args, { encoding: 'utf8' });
      appendFileSync(log, r.stdout + r.stderr);
      if (r.status !== 0) {
        throw new NetbsdBuildError(`NetBSD host tool ${name}`, `failed to compile ${what} (cc exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`, `Read ${log}.`, 1);
      }
    };
    const t0 = Date.now();
    progress(`netbsd-build: host tool ${name}: compiling ${spec.sources.length} NetBSD sources into ${dir}`);
    const objects = spec.sources.map((s) => {
      const obj = join(dir, 'obj', `${basename(s, '.c')}.o`);
      run([...flags, '-c', join(src, s), '-o', obj], s);
      return obj;
    });
    const stubObj = join(dir, 'obj', 'stubs.o');
    run(['-O1', '-c', join(dir, 'shim', 'stubs.c'), '-o', stubObj], 'the stubs');
    const tmp = `${path}.tmp`;
    run([...objects, stubObj, compatLib, '-o', tmp], `the link of ${name}`);
    renameSync(tmp, path);
    const tool: HostTool = { name, path, dir, key, cached: false };
    writeFileSync(`${result}.tmp`, `${JSON.stringify({ ...tool, cached: undefined, seconds: (Date.now() - t0) / 1000 }, null, 2)}\n`);
    renameSync(`${result}.tmp`, result);
    progress(`netbsd-build: host tool ${name}: built in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return tool;
  }, (holder) => progress(`netbsd-build: host tool ${name}: waiting for process ${holder}, which is building it`));
}
