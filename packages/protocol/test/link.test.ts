/**
 * The guest image link step: the command line guestLinkCommand builds, and that the
 * image-linker and the test helpers that link guest images run ld with the same one (seen by
 * an `ld` first on PATH that records its arguments, then runs the real one).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { guestLinkCommand, linkGuestImage, type GuestLinkSpec } from '../src/link.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const spec: GuestLinkSpec = {
  script: '/t/xen-pv.ld',
  entry: 'mk_start',
  startObject: '/t/start.o',
  objects: ['/a/main.o', '/a/more.o'],
  wholeArchives: ['/c/librump.a', '/c/librumpvfs.a'],
  archives: ['/a/libapp.a', '/t/libmkernel.a'],
  ldflags: ['-nostdlib', '-static', '-z', 'max-page-size=4096', '--no-dynamic-linker'],
  map: '/o/link.map',
  output: '/o/app.elf',
};

describe('guestLinkCommand', () => {
  it('starts at the entry, links start object, objects, whole archives, then one archive group', () => {
    expect(guestLinkCommand(spec)).toEqual([
      'ld', '-static', '-nostdlib', '--no-dynamic-linker', '-T', '/t/xen-pv.ld', '-e', 'mk_start',
      '-nostdlib', '-static', '-z', 'max-page-size=4096', '--no-dynamic-linker',
      '-Map', '/o/link.map', '-o', '/o/app.elf', '/t/start.o', '/a/main.o', '/a/more.o',
      '--whole-archive', '/c/librump.a', '/c/librumpvfs.a', '--no-whole-archive',
      '--start-group', '/a/libapp.a', '/t/libmkernel.a', '--end-group',
    ]);
  });

  it('reads a supplement script first, keeps the entry under --gc-sections, and leaves out what is not asked for', () => {
    const args = guestLinkCommand({ ...spec, ld: '/usr/bin/ld.bfd', supplement: '/o/supplement.ld', gcSections: true, map: undefined, wholeArchives: [], startObject: null });
    expect(args).toEqual([
      '/usr/bin/ld.bfd', '-static', '-nostdlib', '--no-dynamic-linker', '-T', '/o/supplement.ld', '-T', '/t/xen-pv.ld',
      '-e', 'mk_start', '--gc-sections', '--undefined', 'mk_start',
      '-nostdlib', '-static', '-z', 'max-page-size=4096', '--no-dynamic-linker',
      '-o', '/o/app.elf', '/a/main.o', '/a/more.o', '--start-group', '/a/libapp.a', '/t/libmkernel.a', '--end-group',
    ]);
  });
});

describe('linkGuestImage', () => {
  it('throws naming the image, ld\'s message and the command when ld fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rumpxen-link-'));
    try {
      writeFileSync(join(dir, 'x.ld'), 'SECTIONS { }\n');
      const out = join(dir, 'x.elf');
      expect(() => linkGuestImage({ ...spec, map: undefined, script: join(dir, 'x.ld'), startObject: null, objects: [join(dir, 'missing.o')], wholeArchives: [], archives: [], output: out }))
        .toThrow(new RegExp(`linking ${out} failed \\(exit 1: .*missing\\.o.*\\); the command was: ld -static`));
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the test helpers link guest images with the image-linker\'s command line', () => {
  // The leaf depends on nothing, and these packages depend on it: they are loaded at run time
  // from the workspace (built first, as npm test does), not imported statically.
  const load = (specifier: string): Promise<Record<string, unknown>> => import(specifier) as Promise<Record<string, unknown>>;
  let dir: string;
  let record: string;
  const savedPath = process.env.PATH;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rumpxen-link-argv-'));
    const realLd = execFileSync('sh', ['-c', 'command -v ld'], { encoding: 'utf8' }).trim();
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    record = join(dir, 'ld-args');
    writeFileSync(join(bin, 'ld'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nexec '${realLd}' "$@"\n`);
    chmodSync(join(bin, 'ld'), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The arguments of the last ld run. */
  function lastLink(): string[] {
    const args = readFileSync(record, 'utf8').trimEnd().split('\n');
    rmSync(record);
    return args;
  }

  /** Arguments with the paths of script, map and output (temp files of each linker) as placeholders. */
  function shape(args: string[]): string[] {
    const named: Record<string, string> = { '-T': '<script>', '-Map': '<map>', '-o': '<output>' };
    return args.map((a, i) => named[args[i - 1]!] ?? a);
  }

  async function imageLinkerArgs(inputs: string[]): Promise<string[]> {
    const linker = await load('@rumpxen/image-linker');
    const build = linker.build as (o: { inputs: string[]; target: string; output: string }) => Promise<{ command: string[] }>;
    const result = await build({ inputs, target: 'xen-pv', output: join(dir, 'image-linker.elf') });
    const args = lastLink();
    expect(shape(result.command.slice(1))).toEqual(shape(args));
    return args;
  }

  it('minios-binding test/guest-image.ts (linkImage)', async () => {
    const helper = await load(pathToFileURL(join(root, 'packages/minios-binding/test/guest-image.ts')).href);
    const minios = await load('@rumpxen/minios-binding');
    const target = minios.xenPvTarget as { startObject: string };
    if (!existsSync(target.startObject)) throw new Error(`${target.startObject} is missing: build @rumpxen/minios-binding first (npx nx run @rumpxen/minios-binding:build)`);
    const main = join(dir, 'main.c');
    writeFileSync(main, 'int main(void) { return 0; }\n');
    const object = (helper.compileForTarget as (t: unknown, s: string, d: string) => string)(target, main, dir);
    (helper.linkImage as (t: unknown, i: { objects: string[] }, o: string) => string)(target, { objects: [object] }, join(dir, 'helper.elf'));
    const fromHelper = lastLink();
    expect(shape(fromHelper)).toEqual(shape(await imageLinkerArgs([object])));
  });

  it('pci-passthrough test/helpers/guest-image.mjs (buildPciTestImage)', async () => {
    const helper = await load(pathToFileURL(join(root, 'packages/pci-passthrough/test/helpers/guest-image.mjs')).href);
    const pci = await load('@rumpxen/pci-passthrough');
    const lib = (pci.pciGuestLibrary as (t: string, o: { check: boolean }) => { archive: string })('xen-pv', { check: true });
    (helper.buildPciTestImage as (p: string, d: string) => string)('pcistuck', dir);
    const fromHelper = lastLink();
    expect(shape(fromHelper)).toEqual(shape(await imageLinkerArgs([join(dir, 'pcistuck.o'), lib.archive])));
  });
});
