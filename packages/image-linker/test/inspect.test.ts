import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hypercall, mandatory } from '@rumpxen/hypercall-api';
import { ImageLinkerError, buildProject, inspect, knownHypercalls, loadManifest } from '../src/index.js';
import { cli, compile, workdir } from './helpers.js';

const HELLO = join(__dirname, '..', '..', '..', 'examples', 'hello', 'rumpxen.json');

describe('inspect', () => {
  it('a program built elsewhere: posix, sizes per source file from its symbols', async () => {
    const dir = workdir('insp-host');
    writeFileSync(join(dir, 'prog.c'), 'static int table[1000] = {1};\nint big[5000];\nint main(void) { return table[0] + big[1]; }\n');
    const exe = join(dir, 'prog');
    execFileSync('gcc', ['-O0', join(dir, 'prog.c'), '-o', exe]);
    const r = await inspect(exe);
    expect(r.target).toBe('posix');
    expect(r.xenNotes).toEqual([]);
    expect(r.inputsFrom).toBe('symbols');
    const prog = r.inputs.find((i) => i.input === 'prog.c');
    expect(prog?.data).toBe(4000); // table
    expect(r.inputs.find((i) => i.input === '(global symbols)')?.bss).toBeGreaterThanOrEqual(20000); // big
    expect(r.hypercalls.present).toEqual([]);
    // Sizes agree with binutils' size(1) (Berkeley format: text includes read-only data).
    const [text, data, bss] = execFileSync('size', [exe]).toString().split('\n')[1]!.trim().split(/\s+/).map(Number);
    expect(r.sizes.text + r.sizes.data + r.sizes.bss).toBe(text! + data! + bss!);
  });

  it('hello on xen-pv: hypercalls present and mandatory ones missing agree with nm', async () => {
    const dir = workdir('insp-hello');
    const img = await buildProject(loadManifest(HELLO), { target: 'xen-pv', output: join(dir, 'hello.xen-pv') });
    const r = await inspect(img.output);
    const definedByNm = new Set(
      execFileSync('nm', ['--defined-only', img.output]).toString().split('\n').map((l) => l.trim().split(/\s+/)[2]).filter((n): n is string => !!n),
    );
    const known = knownHypercalls().map((h) => h.name);
    expect(r.hypercalls.present.sort()).toEqual(known.filter((n) => definedByNm.has(n)).sort());
    expect(r.hypercalls.missingMandatory.sort()).toEqual(mandatory.map((h) => h.name).filter((n) => !definedByNm.has(n)).sort());
    // hello calls these itself, so they must be there; it never allocates, so malloc need not be.
    for (const n of ['rumpuser_init', 'rumpuser_clock_sleep', 'rumpuser_thread_create', 'rumpuser_getparam']) expect(r.hypercalls.present).toContain(n);
    expect(hypercall('rumpuser_malloc').mandatory).toBe(true);
    expect(r.inputs.find((i) => i.role === 'object')?.input).toMatch(/main\.xen-pv\.o$/);
    expect(r.inputs.find((i) => i.role === 'library')?.input).toMatch(/libmkernel\.a$/);
  });

  it('--json prints the report with addresses as hex strings', () => {
    const dir = workdir('insp-json');
    const img = join(dir, 'h');
    expect(cli(['build', HELLO, '--target', 'xen-pv', '-o', img]).code).toBe(0);
    const r = cli(['inspect', img, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.target).toBe('xen-pv');
    expect(j.entry).toMatch(/^0x[0-9a-f]+$/);
    expect(j.xenNotes.map((n: { name: string }) => n.name)).toContain('HYPERCALL_PAGE');
    const text = cli(['inspect', img]).stdout;
    expect(text).toMatch(/^target: {3}xen-pv \(executable, x86-64\)$/m);
    expect(text).toMatch(/^missing mandatory rumpuser hypercalls \(\d+\):/m);
  });

  it('refuses a relocatable object, naming it', async () => {
    const dir = workdir('insp-obj');
    const obj = compile(dir, 'x.c', 'int x;');
    await expect(inspect(obj)).rejects.toThrow(ImageLinkerError);
    await expect(inspect(obj)).rejects.toThrow(/x\.o: is a relocatable object, not a linked image\. Link it first/);
  });
});
