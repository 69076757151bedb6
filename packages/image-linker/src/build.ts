/**
 * `build`: link objects, archives and rump kernel components into an image for a target,
 * through GNU ld and the target's linker script (posix: the host compiler driver), then
 * validate it: nothing undefined, entry and Xen notes as the target needs, sections inside
 * the target's layout, TLS carried. Written to a temp file and renamed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ImageLinkerError } from './errors.js';
import { parseElf, SHF_ALLOC, SHF_TLS, ET_EXEC, type ElfFile } from './elf.js';
import { hasTls, indexSymbols, isComponentPath, linkSetNames, loadInput, resolveComponent, sysrootArchives, type LoadedInput } from './inputs.js';
import { buildNetbsd, componentName, resolveComponents } from '@rumpxen/netbsd-build';
import { INPUTS_SECTION, inspectBytes, type ImageReport, type InputRole, type InputSize } from './inspect.js';
import { archiveOf, parseLinkMap } from './linkmap.js';
import { resolveTarget, type TargetDefinition, type TargetName } from './targets.js';
import { guestLinkCommand, targetFromNotes, xenNotes } from '@rumpxen/protocol';
import { libcLink } from './libc.js';

export interface BuildOptions {
  /** Relocatable objects and archives: the application. */
  inputs: string[];
  /** Target name or a full definition. */
  target: TargetName | TargetDefinition | string;
  /**
   * Rump kernel components, linked whole: archive paths; or names (`net_netinet`, `fs_tmpfs`,
   * …) of the target's NetBSD build from @rumpxen/netbsd-build, with every component they
   * need added (built first when it is not in the cache); or, with `sysroot`, names looked
   * up there.
   */
  components?: string[];
  /** A buildrump.sh destdir or NetBSD sysroot: component names and hints are looked up here. */
  sysroot?: string;
  /** Image path; default `<first input's stem>.<target>` in the current directory. */
  output?: string;
  /** Also write GNU ld's link map here. */
  map?: string;
  /** Link with --gc-sections (link sets and the entry are kept regardless). */
  gcSections?: boolean;
  /**
   * A C library: `netbsd` links NetBSD's libc, libm and libutil with @rumpxen/netbsd-libc's
   * layer under them (xen-pv, xen-pvh), and the base rump kernel (`rump`, added when no
   * component brings it) as rebuilt to export system calls under libc's names.
   */
  libc?: string;
  /** GNU ld to run (default `ld`), and the host compiler driver for posix (default `cc`). */
  ld?: string;
  cc?: string;
  /** Progress lines (one step each). */
  onProgress?: (line: string) => void;
}

export interface BuildResult {
  output: string;
  map: string | null;
  target: string;
  /** The command that linked the image. */
  command: string[];
  linkSets: string[];
  /** The rump kernel components linked, by name (those given and those they needed). */
  components: string[];
  report: ImageReport;
  durationMs: number;
}

/**
 * Component specs to archive paths. Names without a sysroot come from the target's NetBSD
 * build, each with what it needs; paths and sysroot names are taken as given.
 */
async function resolveComponentSpecs(specs: string[], def: TargetDefinition, sysroot: string | undefined, progress: (l: string) => void): Promise<{ paths: string[]; names: string[] }> {
  const paths: string[] = [];
  const netbsdNames: string[] = [];
  for (const spec of specs) {
    if (isComponentPath(spec) || sysroot) paths.push(resolveComponent(spec, sysroot));
    else netbsdNames.push(spec);
  }
  if (netbsdNames.length) {
    const nb = await buildNetbsd(def, { onProgress: progress });
    const chosen = resolveComponents(nb.components, netbsdNames);
    progress(`NetBSD components for ${def.name}: ${chosen.map((c) => c.name).join(' ')} (from ${nb.libDir})`);
    paths.push(...chosen.map((c) => c.archive));
  }
  const unique = [...new Set(paths)];
  return { paths: unique, names: unique.map((p) => componentName(basename(p)) ?? basename(p)) };
}

interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(cmd: string, args: string[]): Promise<ToolRun> {
  return new Promise((resolveRun, reject) => {
    // ld's messages are parsed (undefined references, with hints): keep them in English.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new ImageLinkerError(cmd, 'was not found on PATH.', 'Install GNU binutils and a C compiler (apt-get install binutils gcc), or pass ld/cc explicitly.', 1)
          : e,
      );
    });
    child.on('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

export interface UndefinedReference {
  symbol: string;
  /** Input that needs it (object or `archive(member)`), as ld reported it. */
  neededBy: string;
  /** Where it is defined, if anywhere we could look (sysroot, components, target libraries). */
  providedBy: string | null;
}

/** Pulls `undefined reference to` diagnostics out of GNU ld's stderr. */
export function parseUndefined(stderr: string): { symbol: string; neededBy: string }[] {
  const found = new Map<string, { symbol: string; neededBy: string }>();
  let file = '';
  for (const line of stderr.split('\n')) {
    const inFn = /^(?:.*?ld(?:\.bfd)?: )?(.+?): in function `.*':$/.exec(line);
    if (inFn) {
      file = inFn[1]!;
      continue;
    }
    const und = /undefined reference to `([^']+)'/.exec(line);
    if (und) {
      const sym = und[1]!;
      // Without an "in function" line, ld prefixes the object: "ld: x.o:(.data+0x0): undefined ..."
      const direct = /^(?:.*?ld(?:\.bfd)?: )?([^:]+?)(?::\([^)]*\))?: undefined reference/.exec(line);
      const by = direct && !direct[1]!.includes('(.') && !/\.(c|S|s|cc)$/.test(direct[1]!) ? direct[1]! : file;
      const key = `${sym}\0${by}`;
      if (!found.has(key)) found.set(key, { symbol: sym, neededBy: by });
    }
  }
  return [...found.values()];
}

function hintFor(symbol: string, providers: LoadedInput[]): string | null {
  for (const p of providers) {
    for (const o of p.objects) {
      if (o.elf.symbols.some((s) => s.name === symbol && s.shndx !== 0 && s.binding !== 'local')) return p.path;
    }
  }
  return null;
}

function linkerSupplement(linkSets: string[], tls: boolean, script: string | null): string | null {
  const statements: string[] = [];
  for (const set of linkSets) statements.push(`  ${set} : { KEEP(*(${set})) }`);
  // Carry TLS when the target's script does not place it itself.
  if (tls && (script === null ? false : !/\.tdata\b/.test(script))) {
    statements.push('  .tdata : { *(.tdata .tdata.* .gnu.linkonce.td.*) }');
    statements.push('  .tbss : { *(.tbss .tbss.* .gnu.linkonce.tb.*) *(.tcommon) }');
  }
  if (statements.length === 0) return null;
  const anchors = ['.data', '.rodata', '.text'];
  const anchor = script === null ? '.data' : anchors.find((a) => new RegExp(`(^|\\s)\\${a}\\s*(\\S+\\s*)?:`, 'm').test(script));
  if (!anchor) return null;
  return `/* image-linker: keep link sets${tls ? ', carry TLS' : ''} */\nSECTIONS\n{\n${statements.join('\n')}\n}\nINSERT AFTER ${anchor};\n`;
}

function roleOf(file: string, roles: Map<string, InputRole>): InputRole {
  if (file === '*fill*') return 'linker';
  return roles.get(resolve(archiveOf(file))) ?? roles.get(archiveOf(file)) ?? 'host';
}

/** Per-input sizes from the link map, classified by the output sections' flags. */
function inputSizes(mapText: string, elf: ElfFile, roles: Map<string, InputRole>): InputSize[] {
  const byName = new Map(elf.sections.map((s) => [s.name, s]));
  const totals = new Map<string, InputSize>();
  for (const c of parseLinkMap(mapText)) {
    const out = byName.get(c.outputSection);
    if (!out || !(out.flags & SHF_ALLOC) || c.size === 0) continue;
    const input = c.file === '*fill*' ? '(padding)' : archiveOf(c.file);
    const entry = totals.get(input) ?? { input, role: roleOf(c.file, roles), text: 0, data: 0, bss: 0 };
    if (out.type === 8) entry.bss += c.size;
    else if (out.flags & 1n) entry.data += c.size;
    else entry.text += c.size;
    totals.set(input, entry);
  }
  return [...totals.values()].sort((a, b) => b.text + b.data + b.bss - (a.text + a.data + a.bss));
}

function validateImage(elf: ElfFile, def: TargetDefinition, shown: string): void {
  const entrySym = elf.symbols.find((s) => s.name === def.entrySymbol && s.shndx !== 0);
  if (!entrySym) {
    throw new ImageLinkerError(shown, `has no entry symbol ${def.entrySymbol}, which target ${def.name} starts at.`, `Link the target's start object (${def.startObject ?? 'host crt'}) or define ${def.entrySymbol}.`);
  }
  if (def.linkerScript !== null && elf.entry !== entrySym.value) {
    throw new ImageLinkerError(shown, `starts at 0x${elf.entry.toString(16)}, not at ${def.entrySymbol} (0x${entrySym.value.toString(16)}).`, `Fix the ENTRY() of target ${def.name}'s linker script.`);
  }
  const notes = xenNotes(elf.notes);
  const implied = targetFromNotes(notes);
  if (def.name === 'posix' && notes.length > 0) {
    throw new ImageLinkerError(shown, 'carries Xen ELF notes but was linked for posix.', 'Remove the Xen start object from the inputs, or build with --target xen-pv or xen-pvh.');
  }
  if (def.name !== 'posix') {
    if (elf.type !== ET_EXEC) {
      throw new ImageLinkerError(shown, 'is not a fixed-address executable (ET_EXEC); Xen loads images at their link addresses.', `Link without -pie; check target ${def.name}'s ldflags.`);
    }
    if (elf.segments.some((s) => s.typeName === 'INTERP' || s.typeName === 'DYNAMIC')) {
      throw new ImageLinkerError(shown, 'needs a dynamic loader (PT_INTERP/PT_DYNAMIC), which a DomU does not have.', 'Link statically; pass archives (.a), not shared objects.');
    }
  }
  if (def.name === 'xen-pv') {
    if (implied !== 'xen-pv' && implied !== 'xen-pv+pvh') {
      throw new ImageLinkerError(shown, `lacks the Xen PV ELF notes (its notes say ${implied}).`, "Link target xen-pv's start object, which defines the notes (GUEST_OS, ENTRY, HYPERCALL_PAGE...).");
    }
    const entryNote = notes.find((n) => n.name === 'ENTRY');
    if (entryNote && entryNote.value !== elf.entry) {
      throw new ImageLinkerError(shown, `has XEN_ELFNOTE_ENTRY ${String(entryNote.value)} but its ELF entry is 0x${elf.entry.toString(16)}.`, 'Make the ENTRY note and the linker script ENTRY() name the same symbol.');
    }
  }
  if (def.name === 'xen-pvh') {
    const phys = notes.find((n) => n.name === 'PHYS32_ENTRY');
    if (!phys || typeof phys.value !== 'bigint') {
      throw new ImageLinkerError(shown, 'lacks XEN_ELFNOTE_PHYS32_ENTRY, so Xen cannot start it as PVH.', "Link target xen-pvh's start object, which defines the note.");
    }
    const v = phys.value;
    if (!elf.segments.some((s) => s.typeName === 'LOAD' && v >= s.paddr && v < s.paddr + s.memsz)) {
      throw new ImageLinkerError(shown, `has PHYS32_ENTRY 0x${v.toString(16)} outside every loadable segment.`, "Fix target xen-pvh's start object or linker script (AT() addresses).");
    }
  }
  for (const s of elf.sections) {
    if (!(s.flags & SHF_ALLOC) || s.size === 0n || ((s.flags & SHF_TLS) !== 0n && s.type === 8)) continue;
    if (s.addr < def.layout.start || s.addr + s.size > def.layout.end) {
      throw new ImageLinkerError(
        shown,
        `has section ${s.name} at 0x${s.addr.toString(16)}-0x${(s.addr + s.size).toString(16)}, outside target ${def.name}'s layout 0x${def.layout.start.toString(16)}-0x${def.layout.end.toString(16)}.`,
        'Make the image smaller (fewer components, --gc-sections) or fix the linker script addresses.',
      );
    }
  }
  // Judged on what was linked: an archive's TLS members count only when ld pulled them in.
  const tlsLinked = elf.sections.some((s) => (s.flags & SHF_TLS) !== 0n && s.size > 0n);
  if (tlsLinked && !elf.segments.some((s) => s.typeName === 'TLS')) {
    throw new ImageLinkerError(shown, 'has thread-local data (.tdata/.tbss) in its inputs but no PT_TLS segment.', `Target ${def.name}'s linker script must give .tdata/.tbss a TLS program header (PHDRS ... PT_TLS).`);
  }
}

/** The target with more linker flags (the getters of a definition, such as its script, kept). */
function withLdflags(target: TargetDefinition, ldflags: string[]): TargetDefinition {
  return Object.create(target, { ldflags: { value: [...target.ldflags, ...ldflags], enumerable: true } }) as TargetDefinition;
}

/** Links and validates an image. Throws ImageLinkerError (exit code 2) on bad input. */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => {});
  const target = resolveTarget(opts.target);
  const libc = opts.libc ? await libcLink(opts.libc, target.name, progress) : undefined;
  // With a libc: its link flags (main reached through the start-up code) on top of the target's.
  const def: TargetDefinition = libc ? withLdflags(target, libc.ldflags) : target;
  if (opts.inputs.length === 0) {
    throw new ImageLinkerError('build', 'was given no inputs.', 'Pass the application objects or archives (the ones defining main), or a rumpxen.json manifest.');
  }
  const output = resolve(opts.output ?? `${basename(opts.inputs[0]!).replace(/\.(o|a)$/, '')}.${def.name}`);
  if (opts.sysroot && !existsSync(opts.sysroot)) {
    throw new ImageLinkerError(`--sysroot ${opts.sysroot}`, 'does not exist.', 'Pass the buildrump.sh destdir or NetBSD sysroot that holds lib/*.a.');
  }

  progress(`reading ${opts.inputs.length} input(s)`);
  const inputs = [...opts.inputs, ...(libc?.archives ?? [])].map((p) => loadInput(p));
  const resolved = await resolveComponentSpecs(opts.components ?? [], def, opts.sysroot, progress);
  let componentPaths = resolved.paths;
  const componentNames = resolved.names;
  if (libc) {
    // The libc build's base rump kernel stands in for the one the names resolved to.
    const base = componentNames.indexOf('rump');
    if (base >= 0) componentPaths = componentPaths.map((p, i) => (i === base ? libc.rumpKernel : p));
    else {
      componentPaths = [...componentPaths, libc.rumpKernel];
      componentNames.push('rump');
    }
  }
  const components = componentPaths.map((p) => loadInput(p));
  for (const c of components) {
    if (c.kind !== 'archive') {
      throw new ImageLinkerError(`--component ${c.path}`, 'is an object file; components are rump kernel archives (lib*.a).', 'Pass it as an input instead, or pass the archive.');
    }
  }
  for (const artifact of [...(def.startObject ? [def.startObject] : []), ...def.libraries]) {
    if (!existsSync(artifact)) {
      throw new ImageLinkerError(
        `target ${def.name}`,
        `is not built: its file ${artifact} does not exist.`,
        `Build the package that provides it (npx nx run-many -t build; ${def.name === 'posix' ? '@rumpxen/hypercall-api' : '@rumpxen/minios-binding'}).`,
        1,
      );
    }
  }
  const libraries = def.libraries.map((p) => loadInput(p));
  const start = def.startObject ? [loadInput(def.startObject)] : [];

  const appIndex = indexSymbols([...inputs, ...components]);
  if (!appIndex.definedBy.has('main')) {
    throw new ImageLinkerError(
      opts.inputs.join(', '),
      "define no function main, and every image starts the application's main.",
      'Add the object that defines main to the inputs (a component archive alone is not an application).',
    );
  }

  const all = [...start, ...inputs, ...components, ...libraries];
  const linkSets = linkSetNames(all);
  const tls = hasTls(all);
  const tmp = mkdtempSync(join(tmpdir(), 'image-linker-'));
  const tmpOut = join(dirname(output), `.${basename(output)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const mapPath = join(tmp, 'link.map');
    const extra = linkerSupplement(linkSets, tls, def.linkerScript);
    const extraPath = join(tmp, 'supplement.ld');
    if (extra) writeFileSync(extraPath, extra);
    const objects = inputs.filter((i) => i.kind === 'object').map((i) => i.path);
    const archives = inputs.filter((i) => i.kind === 'archive').map((i) => i.path);
    let cmd: string;
    let args: string[];
    if (def.linkerScript !== null) {
      const scriptPath = join(tmp, `${def.name}.ld`);
      writeFileSync(scriptPath, def.linkerScript);
      [cmd, ...args] = guestLinkCommand({
        ld: opts.ld,
        script: scriptPath,
        supplement: extra ? extraPath : undefined,
        entry: def.entrySymbol,
        gcSections: opts.gcSections,
        startObject: def.startObject,
        objects,
        wholeArchives: componentPaths,
        archives: [...archives, ...def.libraries],
        ldflags: def.ldflags,
        map: mapPath,
        output: tmpOut,
      });
    } else {
      cmd = opts.cc ?? 'cc';
      args = [
        ...(extra ? [`-Wl,-T,${extraPath}`] : []),
        ...(opts.gcSections ? ['-Wl,--gc-sections'] : []),
        `-Wl,-Map=${mapPath}`, '-o', tmpOut,
        ...(def.startObject ? [def.startObject] : []),
        ...objects,
        ...(componentPaths.length ? ['-Wl,--whole-archive', ...componentPaths, '-Wl,--no-whole-archive'] : []),
        '-Wl,--start-group', ...archives, ...def.libraries, '-Wl,--end-group',
        ...def.ldflags,
      ];
    }
    progress(`linking ${def.name} image with ${cmd}`);
    const linked = await runTool(cmd, args);
    if (linked.code !== 0) {
      const undefs = parseUndefined(linked.stderr);
      if (undefs.length > 0) {
        const providers = [...components, ...libraries, ...(opts.sysroot ? sysrootArchives(opts.sysroot).map((p) => loadInput(p)) : [])];
        const hostArtifacts = ['__stack_chk_fail', '__stack_chk_guard', '_GLOBAL_OFFSET_TABLE_', '__tls_get_addr', '__cxa_atexit', '__libc_start_main'];
        const detail = undefs.map((u) => {
          const where = hintFor(u.symbol, providers);
          if (!where && hostArtifacts.includes(u.symbol) && def.name !== 'posix') {
            return `${u.symbol} (needed by ${u.neededBy}; a host-compiler default: compile with target ${def.name}'s cflags, ${def.cflags.join(' ')})`;
          }
          const hint = where ? `provided by ${where}${componentPaths.includes(resolve(where)) ? '' : ` (add --component ${where})`}` : 'defined by no input, component, target library or sysroot archive';
          return `${u.symbol} (needed by ${u.neededBy}; ${hint})`;
        });
        throw new ImageLinkerError(
          opts.inputs.join(', '),
          `${undefs.length === 1 ? 'needs 1 symbol' : `need ${undefs.length} symbols`} that nothing defines when linked for target ${def.name}: ${detail.join('; ')}.`,
          'Add the component or object that defines each symbol (see the hints), or remove the references.',
        );
      }
      throw new ImageLinkerError(opts.inputs.join(', '), `could not be linked for target ${def.name}; ${cmd} said: ${linked.stderr.trim().split('\n').slice(0, 12).join(' | ')}`, 'Fix the problem ld names above.');
    }

    progress('validating the image');
    let bytes = readFileSync(tmpOut);
    const elf = parseElf(bytes, output);
    validateImage(elf, def, output);
    const undefinedLeft = def.name === 'posix' ? [] : elf.symbols.filter((s) => s.shndx === 0 && s.binding === 'global' && s.name !== '');
    if (undefinedLeft.length > 0) {
      throw new ImageLinkerError(output, `still has undefined symbols after linking: ${undefinedLeft.map((s) => s.name).join(', ')}.`, 'Add the components or objects that define them.');
    }

    // Record per-input sizes inside the image (non-allocated section) for `inspect`.
    const roles = new Map<string, InputRole>();
    if (def.startObject) roles.set(resolve(def.startObject), 'start');
    for (const i of inputs) roles.set(resolve(i.path), 'object');
    for (const a of libc?.archives ?? []) roles.set(resolve(a), 'library');
    for (const c of componentPaths) roles.set(resolve(c), 'component');
    for (const l of def.libraries) roles.set(resolve(l), 'library');
    const mapText = readFileSync(mapPath, 'utf8');
    const record = inputSizes(mapText, elf, roles);
    const recordPath = join(tmp, 'inputs.json');
    writeFileSync(recordPath, JSON.stringify({ target: def.name, entrySymbol: def.entrySymbol, inputs: record }));
    const objcopy = await runTool(opts.ld ? opts.ld.replace(/ld(\.bfd)?$/, 'objcopy') : 'objcopy', ['--add-section', `${INPUTS_SECTION}=${recordPath}`, tmpOut]);
    if (objcopy.code !== 0) {
      throw new ImageLinkerError(output, `could not be annotated by objcopy: ${objcopy.stderr.trim()}`, 'Install GNU binutils (objcopy).', 1);
    }
    bytes = readFileSync(tmpOut);
    const report = inspectBytes(bytes, output);

    if (opts.map) {
      const mapTmp = `${opts.map}.tmp-${process.pid}`;
      writeFileSync(mapTmp, mapText);
      renameSync(mapTmp, opts.map);
    }
    renameSync(tmpOut, output);
    progress(`wrote ${output} (${bytes.length} bytes)`);
    return {
      output,
      map: opts.map ? resolve(opts.map) : null,
      target: def.name,
      command: [cmd, ...args.map((a) => (a === tmpOut ? output : a))],
      linkSets,
      components: componentNames,
      report: { ...report, path: output },
      durationMs: Date.now() - started,
    };
  } finally {
    rmSync(tmpOut, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}
