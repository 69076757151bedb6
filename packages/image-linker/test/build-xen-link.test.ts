import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, inspect, parseElf, ImageLinkerError } from '../src/index.js';
import { COMPONENT_C, FREESTANDING, archive, compile, workdir, xenTarget } from './helpers.js';

const MAIN_C = `
struct modinfo { const char *name; int order; };
extern const struct modinfo *const __start_link_set_modules[];
extern const struct modinfo *const __stop_link_set_modules[];
long touch_vfs(void); long touch_net(void);
int main(void) {
  return (int)(__stop_link_set_modules - __start_link_set_modules) + (int)touch_vfs() + (int)touch_net();
}
`;

function fixture(tag: string) {
  const dir = workdir(tag);
  const main = compile(dir, 'main.c', MAIN_C, FREESTANDING);
  const vfs = archive(dir, 'librumpvfs.a', [compile(dir, 'vfs.c', COMPONENT_C('vfs'), FREESTANDING)]);
  const net = archive(dir, 'librumpnet.a', [compile(dir, 'net.c', COMPONENT_C('net'), FREESTANDING)]);
  return { dir, main, vfs, net };
}

describe('build: xen link step with the real xen-pv/xen-pvh targets', () => {
  it('keeps every link set entry under --gc-sections and carries TLS as PT_TLS', async () => {
    const f = fixture('linkset');
    const out = join(f.dir, 'img');
    const r = await build({ inputs: [f.main], target: xenTarget('pv'), components: [f.vfs, f.net], output: out, gcSections: true });
    expect(r.linkSets).toEqual(['link_set_modules']);
    const elf = parseElf(readFileSync(out), out);
    const sec = elf.sections.find((s) => s.name === 'link_set_modules');
    expect(sec?.size).toBe(16n); // two 8-byte pointers, one per component
    const start = elf.symbols.find((s) => s.name === '__start_link_set_modules');
    const stop = elf.symbols.find((s) => s.name === '__stop_link_set_modules');
    expect(start?.value).toBe(sec?.addr);
    expect(stop!.value - start!.value).toBe(16n);
    const tls = elf.segments.find((s) => s.typeName === 'TLS');
    expect(tls).toBeDefined();
    expect(tls!.filesz).toBe(16n); // .tdata: curlwp_vfs + curlwp_net
    expect(tls!.memsz).toBe(32n); // + .tbss
    // ld agrees with our reader.
    expect(execFileSync('readelf', ['-lW', out]).toString()).toMatch(/^\s+TLS\s/m);
  });

  it('without --whole-archive-style components, an unreferenced component is left out (control)', async () => {
    const f = fixture('control');
    const only = compile(f.dir, 'only.c', `long touch_vfs(void); struct m; extern struct m *__start_link_set_modules[], *__stop_link_set_modules[];
      int main(void) { return (int)touch_vfs() + (int)(__stop_link_set_modules - __start_link_set_modules); }`, FREESTANDING);
    const out = join(f.dir, 'img');
    // net as a plain input archive: nothing references it, so ld pulls no member from it.
    await build({ inputs: [only, f.vfs, f.net], target: xenTarget('pv'), output: out });
    const elf = parseElf(readFileSync(out), out);
    expect(elf.sections.find((s) => s.name === 'link_set_modules')?.size).toBe(8n);
    expect(elf.symbols.some((s) => s.name === 'touch_net')).toBe(false);
  });

  it('records size by input and inspect reads target, entry and notes back', async () => {
    const f = fixture('inspect');
    const out = join(f.dir, 'img');
    await build({ inputs: [f.main], target: xenTarget('pv'), components: [f.vfs, f.net], output: out });
    const r = await inspect(out);
    expect(r.target).toBe('xen-pv');
    expect(r.entrySymbol).toBe('mk_start');
    const elf = parseElf(readFileSync(out), out);
    expect(r.entry).toBe(elf.symbols.find((s) => s.name === 'mk_start')!.value);
    // minios-binding's xen-pv start object carries exactly these notes, each once (Xen reads
    // them by type, so their order is free).
    const names = r.xenNotes.map((n) => n.name);
    expect([...names].sort()).toEqual(['BSD_SYMTAB', 'ENTRY', 'FEATURES', 'GUEST_OS', 'GUEST_VERSION', 'HYPERCALL_PAGE', 'LOADER', 'PADDR_OFFSET', 'PAE_MODE', 'SUPPORTED_FEATURES', 'VIRT_BASE', 'XEN_VERSION']);
    expect(r.xenNotes.find((n) => n.name === 'GUEST_OS')?.value).toBe('rumpxen');
    expect(r.xenNotes.find((n) => n.name === 'ENTRY')?.value).toBe(r.entry);
    expect(r.xenNotes.find((n) => n.name === 'HYPERCALL_PAGE')?.value).toBe(elf.symbols.find((s) => s.name === 'mk_hypercall_page')!.value);
    expect(r.inputsFrom).toBe('build-record');
    const vfs = r.inputs.find((i) => i.input === f.vfs);
    expect(vfs?.role).toBe('component');
    expect(vfs!.data).toBe(8); // .tdata: curlwp_vfs
    expect(vfs!.bss).toBe(8); // .tbss: tbss_vfs
    expect(vfs!.text).toBeGreaterThanOrEqual(16 + 4 + 8); // modinfo, its name, the link set pointer (read-only)
    const start = r.inputs.find((i) => i.role === 'start');
    expect(start!.text).toBeGreaterThanOrEqual(4096); // the hypercall page
    expect(start!.bss).toBeGreaterThanOrEqual(16384); // the stack
    // The sum of the inputs equals the image's allocated bytes (padding counted separately).
    const sum = r.inputs.reduce((a, i) => a + i.text + i.data + i.bss, 0);
    expect(sum).toBe(r.sizes.text + r.sizes.data + r.sizes.bss);
  });

  it('--map writes GNU ld\'s link map naming every input', async () => {
    const f = fixture('map');
    const map = join(f.dir, 'img.map');
    const r = await build({ inputs: [f.main], target: xenTarget('pv'), components: [f.vfs, f.net], output: join(f.dir, 'img'), map });
    expect(r.map).toBe(map);
    const text = readFileSync(map, 'utf8');
    expect(text).toMatch(/^Linker script and memory map$/m);
    for (const name of ['main.o', 'librumpvfs.a(vfs.o)', 'librumpnet.a(net.o)', xenTarget('pv').startObject!, 'libmkernel.a(']) expect(text).toContain(name);
  });

  it('builds a PVH image whose PHYS32_ENTRY points at the entry', async () => {
    const f = fixture('pvh');
    const out = join(f.dir, 'img');
    await build({ inputs: [f.main], target: xenTarget('pvh'), components: [f.vfs, f.net], output: out });
    const r = await inspect(out);
    expect(r.target).toBe('xen-pvh');
    expect(r.xenNotes.find((n) => n.name === 'PHYS32_ENTRY')?.value).toBe(r.entry);
  });

  it('rejects a PV image whose start object lacks the notes, leaving no output', async () => {
    const f = fixture('nonotes');
    const def = xenTarget('pvh');
    const out = join(f.dir, 'img');
    const err = await build({ inputs: [f.main], target: { ...def, name: 'xen-pv' }, components: [f.vfs, f.net], output: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageLinkerError);
    expect((err as ImageLinkerError).message).toMatch(/lacks the Xen PV ELF notes/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(f.dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('rejects sections outside the layout', async () => {
    const f = fixture('layout');
    const def = xenTarget('pv');
    const err = await build({ inputs: [f.main], target: { ...def, layout: { start: 0x100000n, end: 0x101000n } }, components: [f.vfs, f.net], output: join(f.dir, 'img') }).catch((e: unknown) => e);
    expect((err as ImageLinkerError).message).toMatch(/outside target xen-pv's layout 0x100000-0x101000/);
  });
});
