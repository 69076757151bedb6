/**
 * The guest C compile step (src/compile.ts): the commands, objects and errors it makes; and
 * that it is the one: no other script, helper or module of the workspace runs a C compiler
 * with the guest toolchain contract's flags.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildGuestArchive, compileGuestObjects, compileGuestObjectsSync, compilerIncludeDir, GuestCompileError, guestCompileCommand, runGuestBuild,
} from '../src/compile.js';
import { guestKernelCflags } from '../src/toolchain.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rumpxen-compile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function source(path: string, text: string): string {
  const file = join(dir, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Every file under a folder, as paths relative to it. */
function files(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(folder, f)).isFile()).sort();
}

const BROKEN = 'int broken(void) { return undeclared_name; }\n';

describe('guestCompileCommand', () => {
  it('is cc, the flags in order, -isystem, -I, then -c source -o object', () => {
    expect(guestCompileCommand({ cflags: ['-O2', '-I', '/own'], systemIncludeDirs: ['/gcc/include'], includeDirs: ['/a', '/b'], source: 's.c', object: 's.o' }))
      .toEqual(['gcc', '-O2', '-I', '/own', '-isystem', '/gcc/include', '-I', '/a', '-I', '/b', '-c', 's.c', '-o', 's.o']);
    expect(guestCompileCommand({ cc: 'cc', cflags: [], source: 'x.S', object: 'x.o' })).toEqual(['cc', '-c', 'x.S', '-o', 'x.o']);
  });
});

describe('compileGuestObjects', () => {
  it('compiles every source into outDir, objects named for their path under the source root', async () => {
    const srcs = [source('c/kern/mm.c', 'int mm;\n'), source('c/arch/pv/setup.c', 'int setup;\n'), source('c/arch/entry.S', '.globl entry\nentry: ret\n')];
    const out = join(dir, 'obj');
    const objects = await compileGuestObjects({ sources: srcs, cflags: [...guestKernelCflags, '-O2'], outDir: out, sourceRoot: join(dir, 'c'), jobs: 2 });
    expect(objects).toEqual(['kern_mm.o', 'arch_pv_setup.o', 'arch_entry.o'].map((o) => join(out, o)));
    expect(files(out)).toEqual(['arch_entry.o', 'arch_pv_setup.o', 'kern_mm.o']);
    expect(execFileSync('nm', [objects[0]!], { encoding: 'utf8' })).toMatch(/ B mm$/m);
  });

  it('a source that does not compile: the error names it, shows the compiler\'s first lines and the command; its object is not written', async () => {
    const good = source('good.c', 'int good;\n');
    const bad = source('bad.c', BROKEN);
    const out = join(dir, 'obj');
    const error = await compileGuestObjects({ sources: [good, bad], cflags: ['-Wall'], outDir: out, jobs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestCompileError);
    const e = error as GuestCompileError;
    expect(e.source).toBe(bad);
    expect(e.message.split('\n')[0]).toBe(`${bad} does not compile (gcc exit 1):`);
    expect(e.message).toMatch(/bad\.c:1:\d+: error: .undeclared_name. undeclared/);
    expect(e.message).toContain(`the command was: gcc -Wall -c ${bad} -o ${join(out, 'bad.o')}`);
    expect(e.firstLines[0]).toMatch(/bad\.c/);
    // Only whole objects: none for the source that failed, no temp file left.
    expect(files(out)).toEqual(['good.o']);
  });

  it('shows at most ten of the compiler\'s lines, and says how many more there were', async () => {
    const bad = source('many.c', Array.from({ length: 30 }, (_, i) => `int f${i}(void) { return u${i}; }`).join('\n'));
    const e = (await compileGuestObjects({ sources: [bad], cflags: [], outDir: join(dir, 'obj') }).catch((x: unknown) => x)) as GuestCompileError;
    const shown = e.message.split('\n').filter((l) => l.startsWith('  '));
    expect(shown).toHaveLength(11);
    expect(shown[10]).toMatch(/^ {2}\(\d+ more lines\)$/);
  });

  it('stops starting compiles after one fails, and throws the first failed source in the list', async () => {
    const log = join(dir, 'ran');
    const cc = join(dir, 'cc');
    writeFileSync(cc, `#!/bin/sh\nfor a in "$@"; do case "$a" in *.c) echo "$a" >> '${log}';; esac; done\nexec gcc "$@"\n`);
    chmodSync(cc, 0o755);
    const srcs = [source('a.c', BROKEN), source('b.c', BROKEN), source('c.c', 'int c;\n'), source('d.c', 'int d;\n')];
    const e = (await compileGuestObjects({ sources: srcs, cflags: [], outDir: join(dir, 'obj'), cc, jobs: 2 }).catch((x: unknown) => x)) as GuestCompileError;
    expect(e.source).toBe(srcs[0]);
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual([srcs[0], srcs[1]]);
    expect(files(join(dir, 'obj'))).toEqual([]);
  });

  it('a compiler that is not there: the error names the source and the compiler', async () => {
    const s = source('x.c', 'int x;\n');
    const e = (await compileGuestObjects({ sources: [s], cflags: [], outDir: join(dir, 'obj'), cc: 'no-such-cc-rumpxen' }).catch((x: unknown) => x)) as GuestCompileError;
    expect(e).toBeInstanceOf(GuestCompileError);
    expect(e.message).toMatch(new RegExp(`^${s} does not compile \\(no-such-cc-rumpxen was not found: install gcc`));
  });

  it('refuses two sources that would share an object, before compiling either', async () => {
    const a = source('one/x.c', 'int a;\n');
    const b = source('two/x.c', 'int b;\n');
    await expect(compileGuestObjects({ sources: [a, b], cflags: [], outDir: join(dir, 'obj') })).rejects.toThrow(`${b} and ${a} would both compile to ${join(dir, 'obj', 'x.o')}`);
    expect(existsSync(join(dir, 'obj'))).toBe(false);
  });

  it('compilerHeaders gives back the compiler\'s stddef.h under -nostdinc', async () => {
    const s = source('h.c', '#include <stddef.h>\nsize_t h;\n');
    const outDir = join(dir, 'obj');
    await expect(compileGuestObjects({ sources: [s], cflags: ['-nostdinc'], outDir })).rejects.toThrow(/stddef\.h/);
    await expect(compileGuestObjects({ sources: [s], cflags: ['-nostdinc'], compilerHeaders: true, outDir })).resolves.toEqual([join(outDir, 'h.o')]);
    expect(existsSync(join(compilerIncludeDir(), 'stddef.h'))).toBe(true);
  });

  it('passes what a compile that succeeded printed to onOutput', async () => {
    const s = source('w.c', 'int w(void) { int unused; return 0; }\n');
    const seen: string[] = [];
    await compileGuestObjects({ sources: [s], cflags: ['-Wall'], outDir: join(dir, 'obj'), onOutput: (src, out) => seen.push(`${src}: ${out}`) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/unused variable/);
  });
});

describe('compileGuestObjectsSync', () => {
  it('makes the same objects and the same error', () => {
    const good = source('good.c', 'int good;\n');
    const bad = source('bad.c', BROKEN);
    const out = join(dir, 'obj');
    expect(compileGuestObjectsSync({ sources: [good], cflags: [], outDir: out, objectName: () => 'named.o' })).toEqual([join(out, 'named.o')]);
    expect(() => compileGuestObjectsSync({ sources: [bad], cflags: [], outDir: out })).toThrow(GuestCompileError);
    expect(() => compileGuestObjectsSync({ sources: [bad], cflags: [], outDir: out })).toThrow(new RegExp(`^${bad} does not compile \\(gcc exit 1\\):\\n[\\s\\S]*undeclared_name`));
    expect(files(out)).toEqual(['named.o']);
  });
});

describe('buildGuestArchive', () => {
  it('archives the compiled sources, then the objects given, and leaves no temp files', async () => {
    const extra = compileGuestObjectsSync({ sources: [source('extra.c', 'int extra;\n')], cflags: [], outDir: join(dir, 'pre') });
    const archive = join(dir, 'out', 'libx.a');
    await buildGuestArchive({ sources: [source('src/a.c', 'int a;\n'), source('src/b.c', 'int b;\n')], cflags: [], sourceRoot: join(dir, 'src'), archive, objects: extra });
    expect(execFileSync('ar', ['t', archive], { encoding: 'utf8' }).trim().split('\n')).toEqual(['a.o', 'b.o', 'extra.o']);
    expect(files(join(dir, 'out'))).toEqual(['libx.a']);
  });

  it('when a source does not compile, the archive is left as it was', async () => {
    const archive = join(dir, 'out', 'libx.a');
    mkdirSync(join(dir, 'out'));
    writeFileSync(archive, 'the old archive');
    const bad = source('bad.c', BROKEN);
    await expect(buildGuestArchive({ sources: [source('ok.c', 'int ok;\n'), bad], cflags: [], archive })).rejects.toThrow(`${bad} does not compile`);
    expect(readFileSync(archive, 'utf8')).toBe('the old archive');
    expect(files(join(dir, 'out'))).toEqual(['libx.a']);
  });
});

describe('runGuestBuild (the shell builds\' way in)', () => {
  it('OUT a folder: the objects; OUT an archive: sources, then objects', async () => {
    const c = join(dir, 'c');
    const [obj] = await runGuestBuild([c, join(dir, 'obj'), '-O2', '--', source('c/rumpuser/files.c', 'int files;\n')], {});
    expect(obj).toBe(join(dir, 'obj', 'rumpuser_files.o'));
    const archive = join(dir, 'lib.a');
    expect(await runGuestBuild([c, archive, '-O2', '--', source('c/kern/mm.c', 'int mm;\n'), '--', obj!], {})).toEqual([archive]);
    expect(execFileSync('ar', ['t', archive], { encoding: 'utf8' }).trim().split('\n')).toEqual(['kern_mm.o', 'rumpuser_files.o']);
    await expect(runGuestBuild([c, archive, '-O2'], {})).rejects.toThrow(/SOURCE_ROOT OUT FLAGS\.\.\. -- SOURCES/);
  });
});

describe('guest C has one build: this module', () => {
  // A file that runs a C compiler (gcc, cc, clang or $CC as the program, not a --version or
  // -print-* query) and reads the guest toolchain contract (its flags lists, or a target's
  // cflags/kernelCflags) compiles guest C itself. Scanned: the TS/JS and shell of every
  // workspace (src, test, scripts, bench, c/*.sh, …) but what is built or installed.
  const SKIP = new Set(['node_modules', 'dist', 'build', '.cache', 'fixtures', 'include']);
  const THIS_MODULE = 'packages/protocol/src/compile.ts';
  // Not builds: what gcc records for the contract's flags is itself under test there.
  const PROBES = new Set(['packages/protocol/test/toolchain.test.ts', 'packages/protocol/test/compile.test.ts']);

  const SCRIPT = /\.(?:[cm]?[jt]s|sh)$/;
  const COMPILER = String.raw`(?:(['"\x60])(?:gcc|cc|clang)\1|cc\b|CC\b)`;
  const SPAWN = new RegExp(String.raw`\b(?:spawn|spawnSync|execFile|execFileSync|run)\(\s*${COMPILER}\s*(?:,\s*(\[[^\]]{0,40}))?`, 'g');
  const QUERY = /^\[\s*['"](?:--version|-print-|-dump)/;
  const CONTRACT = /\b(?:guestCflags|guestKernelCflags|i386Cflags|kernelCflags|cflags|kernel_flags)\b/i;
  // A shell line that runs the compiler: gcc, cc, clang or $CC in command position.
  const SHELL_COMPILE = /(?:^\s*|\$\(\s*|[;&|]\s*)(?:"?\$\{?CC\}?"?|gcc|cc|clang)(?=\s)/m;

  function workspaceFiles(): string[] {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) {
          if (!SKIP.has(e.name) && !e.name.startsWith('.')) walk(join(d, e.name));
        } else if (SCRIPT.test(e.name) && !e.name.endsWith('.d.ts')) {
          out.push(relative(root, join(d, e.name)));
        }
      }
    };
    for (const group of ['packages', 'tools']) {
      for (const ws of readdirSync(join(root, group))) walk(join(root, group, ws));
    }
    walk(join(root, 'scripts'));
    return out.sort();
  }

  /** Why a file (its name and text) counts as compiling guest C itself, or null. */
  function compilesGuestC(file: string, text = readFileSync(join(root, file), 'utf8')): string | null {
    if (file.endsWith('.sh')) {
      const code = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
      const m = SHELL_COMPILE.exec(code);
      return m ? `runs the compiler: ${code.slice(m.index).split('\n')[0]!.trim()}` : null;
    }
    const spawns = [...text.matchAll(SPAWN)].filter((m) => !QUERY.test(m[2] ?? ''));
    if (spawns.length === 0 || !CONTRACT.test(text)) return null;
    return `runs ${spawns[0]![0].split('\n')[0]!.trim()}… with the toolchain contract's flags`;
  }

  it('the scan sees the workspaces\' scripts and helpers', () => {
    const all = workspaceFiles();
    for (const f of ['packages/minios-binding/c/build.sh', 'packages/pci-passthrough/c/build.sh', 'packages/minios-binding/test/guest-image.ts',
      'packages/pci-passthrough/test/helpers/guest-image.mjs', 'packages/xen-control/test/guest-images.ts', 'tools/xen-testbed/src/fixtures.ts',
      'packages/image-linker/src/project.ts', THIS_MODULE]) expect(all).toContain(f);
    // This module is found by the check (it is the one allowed).
    expect(compilesGuestC(THIS_MODULE)).not.toBeNull();
  });

  it('the check finds each way guest C used to be compiled', () => {
    const was: Record<string, string> = {
      'c/build.sh': '"$CC" "${kernel_flags[@]}" "${common_flags[@]}" "${extra[@]}" -c "$src" -o "$obj"',
      'pcix.sh': 'flags=("${kernel_flags[@]}" -isystem "$($CC -print-file-name=include)")\n',
      'guest-image.ts': "execFileSync('gcc', ['-std=gnu11', ...target.cflags, '-c', source, '-o', out]);",
      'fixtures.ts': "import { guestKernelCflags } from '@rumpxen/protocol';\nrun('gcc', [...CFLAGS[opts.kind], '-c', join(src, s), '-o', obj], opts.kind);",
      'project.ts': 'const c = spawn(cc, args, { stdio: ["ignore", "ignore", "pipe"] }); // args = [...target.cflags]',
    };
    for (const [name, text] of Object.entries(was)) expect(compilesGuestC(name, text), name).not.toBeNull();
    // Asking the compiler its version, or compiling without the contract, is not a guest build.
    expect(compilesGuestC('version.ts', "spawnSync('cc', ['--version']); const cflags = [];")).toBeNull();
    expect(compilesGuestC('probe.ts', "spawnSync('gcc', ['-std=c11', '-c', src, '-o', out]);")).toBeNull();
  });

  it('no script, helper or module but src/compile.ts runs a compiler with the contract\'s flags', () => {
    const offenders = workspaceFiles()
      .filter((f) => f !== THIS_MODULE && !PROBES.has(f))
      .map((f) => ({ file: f, why: compilesGuestC(f) }))
      .filter((o) => o.why !== null);
    expect(offenders, 'compile guest C with @rumpxen/protocol\'s compileGuestObjects/buildGuestArchive (src/compile.ts), not a compiler call of your own').toEqual([]);
  });
});
