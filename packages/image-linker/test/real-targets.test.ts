/**
 * The real targets from the other packages: posix (@rumpxen/hypercall-api) and xen-pv
 * (@rumpxen/minios-binding). Link sets and TLS through each target's own link path, images
 * that run (posix on this host), and the rule that no target library defines a strong POSIX name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, compileSources, inspect, loadInput, parseElf, resolveTarget, run } from '../src/index.js';
import { hypercalls } from '@rumpxen/hypercall-api';
import { COMPONENT_C, archive, compile, workdir } from './helpers.js';
import { writeFileSync } from 'node:fs';

const LINKSET_MAIN = (print: string) => `
#include <rumpuser.h>
struct modinfo { const char *name; int order; };
extern const struct modinfo *const __start_link_set_modules[];
extern const struct modinfo *const __stop_link_set_modules[];
extern __thread long curlwp_vfs, curlwp_net, tbss_vfs;
static void *worker(void *arg) { (void)arg; curlwp_vfs = 99; tbss_vfs = 5; return 0; }
static void no_unsched(int n, int *c, void *i) { (void)n; (void)i; *c = 0; }
static void no_sched(int n, void *i) { (void)n; (void)i; }
static const struct rumpuser_hyperup hyp = { .hyp_backend_unschedule = no_unsched, .hyp_backend_schedule = no_sched };
int main(void) {
  void *cookie;
  rumpuser_init(RUMPUSER_VERSION, &hyp);
  int n = (int)(__stop_link_set_modules - __start_link_set_modules);
  for (int i = 0; i < n; i++) ${print}("linkset: %s\\n", __start_link_set_modules[i]->name);
  rumpuser_thread_create(worker, 0, "w", 1, 0, -1, &cookie);
  rumpuser_thread_join(cookie);
  /* The worker's writes went to its own TLS block: ours still has the initial values. */
  int ok = n == 2 && curlwp_vfs == 0x31 && curlwp_net == 0x31 && tbss_vfs == 0;
  ${print}("case linkset_tls: %s n=%d vfs=%ld net=%ld tbss=%ld\\n", ok ? "PASS" : "FAIL", n, curlwp_vfs, curlwp_net, tbss_vfs);
  ${print}("Test result: %s\\n", ok ? "SUCCESS" : "FAILURE");
  return ok ? 0 : 1;
}
`;

async function linksetImage(targetName: 'posix' | 'xen-pv', tag: string) {
  const def = resolveTarget(targetName);
  const dir = workdir(tag);
  writeFileSync(join(dir, 'main.c'), LINKSET_MAIN('rumpuser_dprintf'));
  writeFileSync(join(dir, 'vfs.c'), COMPONENT_C('vfs'));
  writeFileSync(join(dir, 'net.c'), COMPONENT_C('net'));
  const [main, vfs, net] = await compileSources([join(dir, 'main.c'), join(dir, 'vfs.c'), join(dir, 'net.c')], def, join(dir, 'obj'));
  const out = join(dir, `linkset.${targetName}`);
  const r = await build({
    inputs: [main!],
    target: def,
    components: [archive(dir, 'librumpvfs.a', [vfs!]), archive(dir, 'librumpnet.a', [net!])],
    output: out,
    gcSections: true,
  });
  return { dir, out, r };
}

const HELLO = join(__dirname, '..', '..', '..', 'examples', 'hello');

describe('posix target', () => {
  it('keeps link sets under --gc-sections and gives each thread its own TLS (run on this host)', async () => {
    const { out, r } = await linksetImage('posix', 'posix-ls');
    expect(r.linkSets).toEqual(['link_set_modules']);
    const rep = await inspect(out);
    expect(rep.target).toBe('posix');
    expect(rep.tls.present).toBe(true);
    const res = await run({ image: out, timeoutS: 30 });
    expect(res.console).toEqual(expect.arrayContaining(['linkset: vfs', 'linkset: net', 'case linkset_tls: PASS n=2 vfs=49 net=49 tbss=0']));
    expect(res.exitCode).toBe(0);
    expect(res.ranOn).toBe('host');
  });

  it('builds examples/hello for posix; it reports, its threads wake in order, exit 0', async () => {
    const def = resolveTarget('posix');
    const dir = workdir('hello-posix');
    const objs = await compileSources([join(HELLO, 'main.c')], def, dir);
    const r = await build({ inputs: objs, target: def, output: join(dir, 'hello') });
    const lines: string[] = [];
    const handle = run({ image: r.output, timeoutS: 30, args: ['x'] });
    for await (const l of handle.console) lines.push(l);
    const res = await handle;
    expect(res.exitCode).toBe(0);
    expect(lines).toEqual(res.console);
    expect(lines).toContain('case threads_wake_in_order: PASS');
    expect(lines.filter((l) => /thread \d woke/.test(l))).toEqual(['hello: thread 1 woke after 100 ms', 'hello: thread 2 woke after 200 ms', 'hello: thread 3 woke after 300 ms']);
    expect(lines.at(-1)).toBe('Test result: SUCCESS');
  });

  it("an independent object's main return value is the run's exit code", async () => {
    const def = resolveTarget('posix');
    const dir = workdir('exit7-posix');
    writeFileSync(join(dir, 'seven.c'), '#include <rumpuser.h>\nint main(void) { rumpuser_dprintf("returning 7\\n"); return 7; }\n');
    const objs = await compileSources([join(dir, 'seven.c')], def, dir);
    const r = await build({ inputs: objs, target: def, output: join(dir, 'seven') });
    const res = await run({ image: r.output, timeoutS: 30 });
    expect(res.console).toContain('returning 7');
    expect(res.exitCode).toBe(7);
  });
});

describe('xen-pv target (link step)', () => {
  it('links components with link sets and TLS through the guest kernel linker script', async () => {
    const { out } = await linksetImage('xen-pv', 'pv-ls');
    const elf = parseElf(readFileSync(out), out);
    expect(elf.sections.find((s) => s.name === 'link_set_modules')?.size).toBe(16n);
    const tls = elf.segments.find((s) => s.typeName === 'TLS')!;
    // curlwp_vfs, curlwp_net (.tdata) and tbss_vfs (.tbss); --gc-sections dropped the unused tbss_net.
    expect(tls.filesz).toBe(16n);
    expect(tls.memsz).toBe(24n);
    const rep = await inspect(out);
    expect(rep.target).toBe('xen-pv');
    expect(rep.entrySymbol).toBe(resolveTarget('xen-pv').entrySymbol);
    expect(rep.xenNotes.find((n) => n.name === 'ENTRY')?.value).toBe(rep.entry);
    expect(rep.undefinedSymbols).toEqual([]);
    expect(rep.inputs.filter((i) => i.role === 'component').map((i) => i.input.split('/').pop()).sort()).toEqual(['librumpnet.a', 'librumpvfs.a']);
    expect(rep.hypercalls.present).toEqual(expect.arrayContaining(['rumpuser_init', 'rumpuser_thread_create', 'rumpuser_dprintf']));
  });
});

// Names a rump kernel built with RUMP_KERNEL_IS_LIBC exports weakly (and the C library the
// guest kernel must leave to it): a strong definition of any of them below the rump kernel
// would win over the kernel's and break it.
const POSIX_NAMES = `read write open close lseek pread pwrite stat fstat lstat mmap munmap mprotect
  malloc free calloc realloc posix_memalign aligned_alloc clock_gettime clock_nanosleep nanosleep
  gettimeofday time sleep usleep exit _exit abort getpid kill raise signal sigaction sigprocmask
  pthread_create pthread_join pthread_self pthread_mutex_lock pthread_mutex_unlock pthread_cond_wait
  printf fprintf sprintf snprintf vsnprintf puts putchar getenv setenv errno __errno __errno_location
  memcpy memset memmove memcmp strlen strcmp strncmp strcpy strncpy strchr strdup ioctl fcntl poll
  select socket bind connect accept listen sendto recvfrom dup dup2 pipe fork execve waitpid
  getrandom random rand srand qsort fsync ftruncate mkdir rmdir unlink rename chdir getcwd`.split(/\s+/);

function strongPosixNames(files: string[]): string[] {
  const strong: string[] = [];
  for (const f of files) {
    for (const obj of loadInput(f).objects) {
      for (const s of obj.elf.symbols) {
        if (s.shndx !== 0 && s.binding === 'global' && POSIX_NAMES.includes(s.name)) strong.push(`${s.name} in ${obj.name}`);
      }
    }
  }
  return strong;
}

describe('target libraries define no strong POSIX names', () => {
  it('the check finds a strong read and ignores a weak malloc (control)', () => {
    const dir = workdir('posix-names');
    const lib = archive(dir, 'libbad.a', [compile(dir, 'bad.c', 'long read(int fd, void *b, unsigned long n) { (void)fd; (void)b; return (long)n; }\n__attribute__((weak)) void *malloc(unsigned long n) { (void)n; return 0; }\n')]);
    expect(strongPosixNames([lib])).toEqual([`read in ${lib}(bad.o)`]);
  });

  for (const name of ['posix', 'xen-pv', 'xen-pvh'] as const) {
    const def = (() => {
      try {
        return resolveTarget(name);
      } catch {
        return null;
      }
    })();
    const files = def ? [...(def.startObject ? [def.startObject] : []), ...def.libraries] : [];
    it(`${name}: start object and libraries`, () => {
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(f), f).toBe(true);
      expect(strongPosixNames(files)).toEqual([]);
      // nm agrees on the whole of each file: no T/D/B/R definition of a POSIX name.
      for (const f of files) {
        const nm = execFileSync('nm', ['-g', '--defined-only', f]).toString();
        const hits = nm.split('\n').filter((l) => /^[0-9a-f]+ [TDBR] /.test(l) && POSIX_NAMES.includes(l.split(' ')[2] ?? ''));
        expect(hits).toEqual([]);
      }
    });
  }
});

// A rump kernel (librump.a with its faction and driver archives) imports the rumpuser
// hypercalls and the component helpers; sysproxy (rumpuser_sp_*) only with the optional
// sysproxy component, which no target implements. A stand-in component that references every
// one of them must link whole, with nothing undefined, on every target.
describe('a stand-in rump kernel importing every rumpuser hypercall but sysproxy', () => {
  const needed = hypercalls
    .filter((h) => (h.interface === 'rumpuser' && h.area !== 'sysproxy') || h.interface === 'rumpuser_component')
    .map((h) => h.name);
  const KERNEL_C = `${needed.map((n) => `extern char ${n}[];`).join('\n')}
__attribute__((used)) void *const stand_in_imports[] = { ${needed.join(', ')} };
long stand_in_kernel(void) { return (long)stand_in_imports[0]; }
`;
  it('references the 45 librump.so imports and the component helpers', () => {
    const imports = hypercalls.filter((h) => h.librumpImport).map((h) => h.name);
    expect(imports).toHaveLength(45);
    expect(needed).toEqual(expect.arrayContaining(imports));
    expect(needed.length).toBeGreaterThanOrEqual(51);
    expect(needed).toEqual(expect.arrayContaining(['rumpuser_daemonize_begin', 'rumpuser_daemonize_done', 'rumpuser_anonmmap', 'rumpuser_dl_bootstrap', 'rumpuser_iovread', 'rumpuser_component_kthread']));
  });

  for (const name of ['posix', 'xen-pv', 'xen-pvh'] as const) {
    it(`${name}: links it with --component and leaves nothing undefined`, async () => {
      const def = resolveTarget(name);
      const dir = workdir(`stand-in-${name}`);
      writeFileSync(join(dir, 'kernel.c'), KERNEL_C);
      writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
      const [kernel, main] = await compileSources([join(dir, 'kernel.c'), join(dir, 'main.c')], def, join(dir, 'obj'));
      const out = join(dir, `stand-in.${name}`);
      await build({ inputs: [main!], target: def, components: [archive(dir, 'librump.a', [kernel!])], output: out });
      const rep = await inspect(out);
      expect(rep.undefinedSymbols).toEqual([]);
      expect([...rep.hypercalls.present, ...rep.hypercalls.imported]).toEqual(expect.arrayContaining(needed));
    });
  }
});
