/**
 * The fixture guests: tiny freestanding Xen kernels (sources in the package's `fixtures/`)
 * for testing the testbed and anything that starts domains. One source tree, two images:
 *   pv   x86-64 PV (start_info, Xen ELF notes incl. HYPERCALL_PAGE)
 *   pvh  32-bit PVH (XEN_ELFNOTE_PHYS32_ENTRY, hypercall page through Xen's CPUID MSR)
 * Each runs as the only domain (console through HYPERVISOR_console_io) and as a DomU
 * (console ring + event channel, which xenconsoled reads); its command line picks what it
 * does (README "Fixture guests", fixtures/fixture.c).
 * Built with the host's gcc and ld (gcc -m32 for PVH), about 0.3 s per image.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileGuestObjectsSync, GuestCompileError, guestKernelCflags, i386Cflags, protocolIncludeDir } from '@rumpxen/protocol';
import { TestbedError } from './errors.js';

export type FixtureKind = 'pv' | 'pvh';

export interface BuildFixtureOptions {
  /** `pv` (x86-64 PV, boot without `pvh`) or `pvh` (32-bit PVH: `bootGuest({ pvh: true })`, `createDomU({ type: 'pvh' })`). */
  kind: FixtureKind;
  /** Folder for the image (created if missing); default `<this package>/build/fixtures`. */
  outDir?: string;
  /**
   * The XEN_ELFNOTE_SUPPORTED_FEATURES bitmap (a 32-bit word); default `1 << 11`
   * (XENFEAT_dom0). `null` leaves the note out: Xen 4.17 then builds a PV dom0 from the image
   * without looking for XENFEAT_dom0; a bitmap without bit 11 makes it refuse one ("Kernel
   * does not support Dom0 operation").
   */
  supportedFeatures?: number | null;
  /** A XEN_ELFNOTE_FEATURES string to add (Xen's `a|!b` form: letters, digits, `_`, `!`, `|`); default none. */
  features?: string;
}

const FIXTURES: Record<FixtureKind, { m32: boolean; sources: string[]; script: string; out: string }> = {
  pv: { m32: false, sources: ['pv-start.S', 'pages.S', 'pv.c', 'console.c', 'fixture.c'], script: 'pv.ld', out: 'fixture-pv.elf' },
  pvh: { m32: true, sources: ['pvh-start.S', 'pages.S', 'pvh.c', 'console.c', 'fixture.c'], script: 'pvh.ld', out: 'fixture-pvh.elf' },
};

/**
 * A fixture is a tiny guest kernel: the guest toolchain contract's kernel flags (the 32-bit
 * PVH one without the x86-64 code model), then this build's own. -frecord-gcc-switches keeps
 * each object's flags in the image (.GCC.command.line, not loaded), where a test reads them.
 */
const CFLAGS: Record<FixtureKind, readonly string[]> = {
  pv: guestKernelCflags,
  pvh: i386Cflags(guestKernelCflags),
};
const OWN_CFLAGS = ['-O2', '-fno-asynchronous-unwind-tables', '-frecord-gcc-switches', '-Wall', '-Wextra', '-Werror'];

/** This package's folder: the nearest folder above this module with fixtures/fixture.c (it runs from src/, dist/ or a bundle). */
function packageDir(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'fixtures', 'fixture.c'))) return dir;
    if (dirname(dir) === dir) {
      throw new TestbedError(`fixture sources not found: no fixtures/fixture.c in ${start} or any folder above it (the @rumpxen/xen-testbed package ships them in fixtures/; reinstall it)`);
    }
  }
}

/** The folder with the fixture sources. */
export function fixtureSourceDir(): string {
  return join(packageDir(), 'fixtures');
}

function run(cmd: string, args: string[], kind: FixtureKind): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? `${r.error.message}${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (install it: apt-get install -y gcc binutils)` : ''}` : r.stderr;
    throw new TestbedError(`building the ${kind} fixture failed: ${cmd} ${args.join(' ')}\n${why}`);
  }
}

/** Compiles a fixture's sources into `tmp` with @rumpxen/protocol's guest compile step (`pv-start.S` → `pv-start.o`). */
function compileFixture(f: (typeof FIXTURES)[FixtureKind], kind: FixtureKind, defines: string[], src: string, tmp: string): string[] {
  try {
    return compileGuestObjectsSync({
      sources: f.sources.map((s) => join(src, s)),
      cflags: [...(f.m32 ? ['-m32'] : []), ...CFLAGS[kind], ...OWN_CFLAGS, ...defines],
      // The note numbers and layout: @rumpxen/protocol's rumpxen/xen_note.h.
      includeDirs: [protocolIncludeDir],
      outDir: tmp,
    });
  } catch (e) {
    if (e instanceof GuestCompileError) throw new TestbedError(`building the ${kind} fixture failed: ${e.message}`);
    throw e;
  }
}

/** The gcc -D flags and the file name suffix of a fixture variant's feature notes. */
function noteVariant(opts: BuildFixtureOptions): { defines: string[]; suffix: string } {
  const defines: string[] = [];
  let suffix = '';
  const sf = opts.supportedFeatures;
  if (sf === null) {
    defines.push('-DFIXTURE_NO_SUPPORTED_FEATURES');
    suffix += '-sf-none';
  } else if (sf !== undefined) {
    if (!Number.isInteger(sf) || sf < 0 || sf > 0xffffffff) throw new TestbedError(`supportedFeatures ${sf}: must be a 32-bit bitmap (0 to 0xffffffff) or null`, 2);
    defines.push(`-DFIXTURE_SUPPORTED_FEATURES=0x${sf.toString(16)}`);
    suffix += `-sf-0x${sf.toString(16)}`;
  }
  if (opts.features !== undefined) {
    if (!/^[A-Za-z0-9_!|]*$/.test(opts.features)) throw new TestbedError(`features '${opts.features}': only letters, digits, '_', '!' and '|' are allowed`, 2);
    defines.push(`-DFIXTURE_FEATURES="${opts.features}"`);
    suffix += `-f-${opts.features.replace(/\|/g, '+').replace(/!/g, '~')}`;
  }
  return { defines, suffix };
}

/**
 * Builds one fixture image into `outDir` (linked under a temp name, then renamed: parallel
 * builds are safe) and returns its absolute path, `<outDir>/fixture-<kind>.elf` (with the
 * feature-note options: `fixture-<kind>[-sf-<none|0xN>][-f-<features, | as +, ! as ~>].elf`).
 * Throws a TestbedError naming the failed command when gcc or ld fails.
 */
export function buildFixture(opts: BuildFixtureOptions): string {
  const f = FIXTURES[opts.kind];
  if (!f) throw new TestbedError(`fixture kind '${String(opts.kind)}' is unknown: use 'pv' or 'pvh'`, 2);
  const variant = noteVariant(opts);
  const src = fixtureSourceDir();
  const outDir = resolve(opts.outDir ?? join(packageDir(), 'build', 'fixtures'));
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(outDir, `.fixture-${opts.kind}-`));
  try {
    const objs = compileFixture(f, opts.kind, variant.defines, src, tmp);
    const elf = join(tmp, f.out);
    run('ld', [...(f.m32 ? ['-m', 'elf_i386'] : []), '-nostdlib', '-static', '-no-pie', '-z', 'noexecstack', '-z', 'max-page-size=4096',
      '-T', join(src, f.script), '-o', elf, ...objs], opts.kind);
    const out = join(outDir, f.out.replace(/\.elf$/, `${variant.suffix}.elf`));
    renameSync(elf, out);
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
