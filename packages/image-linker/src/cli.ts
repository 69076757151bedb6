#!/usr/bin/env node
/**
 * image-linker CLI: build, inspect, config, run, mkfs (and pci). Exit codes: 0 ok (run: the
 * image's verdict code), 2 bad input (one paragraph on stderr naming the input and the fix),
 * 1 other failure.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pciCommand } from '@rumpxen/pci-passthrough';
import { build } from './build.js';
import { parseEnv, renderConfig } from './config.js';
import { ImageLinkerError } from './errors.js';
import { formatReport, inspect, reportToJson } from './inspect.js';
import { isManifestPath, loadManifest } from './manifest.js';
import { makeFfsImage } from './mkfs.js';
import { buildProject } from './project.js';
import { run, type RunPlace } from './run/index.js';

const USAGE = `usage: image-linker <command> [options]

commands:
  build INPUT... --target xen-pv|xen-pvh|posix [--component NAME|ARCHIVE]... [--sysroot DIR]
        [-o OUT] [--map FILE] [--gc-sections] [--libc netbsd]
      Link objects (.o) and archives (.a) into an image for the target and validate it.
      Components (rump kernel archives) are linked whole. --target may also name a JSON
      target definition file. --libc netbsd links NetBSD's libc, libm and libutil with
      @rumpxen/netbsd-libc's layer under them (xen-pv, xen-pvh).
  build MANIFEST.json [--target T] [-o OUT] [--map FILE] [--component X]... [--sysroot DIR]
        [--gc-sections] [--libc netbsd]
      Compile the manifest's sources and link its image; flags override or add to it.
  inspect IMG [--json]
      Target (from the Xen notes), entry, notes, segments, size by input, hypercalls present
      and mandatory ones missing.
  config IMG [--memory MB] [--vcpus N] [--disk FILE[,vdev][,ro]]... [--net BRIDGE|MAC]...
        [--pci BDF]... [--env K=V]... [--name NAME] [--format xl|libxl|libvirt|json] [-- ARGS]
      The guest's JSON config and the domain config (xl.cfg, libxl JSON, libvirt XML).
      Without --format, writes IMG.guest.json, IMG.xl.cfg, IMG.libxl.json, IMG.libvirt.xml.
  run IMG|MANIFEST.json [--on auto|xen|testbed] [flags as for config but --format]
        [--pci-assign] [--timeout S] [-- ARGS]
      Start the image (posix: as a host process; Xen: on this Xen host when
      /dev/xen/privcmd exists, else on the embedded testbed) and stream its console.
      On a Xen host (--on xen, as root): through @rumpxen/xen-control's Xen addon,
      without xl (PV without devices: libxenctrl/libxenguest directly; else libxl):
      created paused, the guest config written to xenstore (rumpxen/cfg), the console
      opened, unpaused. When the addon cannot be loaded or opened, or with
      RUMPXEN_XEN_VIA=xl: xl create -p, xenstore-write/-chmod, xl unpause, xl console
      (xl and xenstore-* on PATH or in the folder named by RUMPXEN_XEN_BIN).
      RUMPXEN_XEN_VIA=addon refuses the xl fallback. -v names the path taken.
      Exit code: the run's verdict (0 success, 3 skip, 4 error, 5 failure, 6 crash,
      N from "rumpxen: exit N", 124 timeout).
      --pci BDF on a Xen host: each device must be on xen-pciback (else the run stops
      before creating the domain, naming the driver that holds it); --pci-assign binds it
      to xen-pciback first (remembering its driver: give it back with image-linker pci
      restore BDF). On a full testbed the same check (or assignment) runs in the
      testbed's dom0, whose QEMU edu device 0000:00:03.0 is on xen-pciback already.
  mkfs FOLDER IMAGE [--size MIB] [--ffs 1|2]
      An FFS image (little-endian, FFSv2 unless --ffs 1, sized to fit unless --size) of
      the folder, for a DomU's vbd (a NetBSD rump kernel mounts it: component fs_ffs).
      Runs NetBSD's makefs as Debian packages it (apt-get install makefs).
  pci list [--json] [-v] [--sysfs-root DIR] [BDF...]
  pci assign [--dry-run] [--state-dir DIR] [--sysfs-root DIR] [--no-iommu-check] BDF...
  pci restore [--driver NAME | --unbound] [--dry-run] [--state-dir DIR] [--sysfs-root DIR] BDF...
      This host's PCI devices (from sysfs: BDF, ids, class, driver, IOMMU group, BARs;
      -v decodes config space), and making them assignable to Xen guests (bind to
      xen-pciback) and giving them back; from @rumpxen/pci-passthrough. See
      image-linker pci --help and image-linker pci COMMAND --help.

options:
  -h, --help     this text
  -q, --quiet    no progress on stderr (progress shows by default when stderr is a terminal)
  -v, --verbose  progress on stderr even when it is not a terminal
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  target: { type: 'string' },
  component: { type: 'string', multiple: true },
  sysroot: { type: 'string' },
  output: { type: 'string', short: 'o' },
  map: { type: 'string' },
  'gc-sections': { type: 'boolean' },
  libc: { type: 'string' },
  json: { type: 'boolean' },
  memory: { type: 'string' },
  vcpus: { type: 'string' },
  disk: { type: 'string', multiple: true },
  net: { type: 'string', multiple: true },
  pci: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  name: { type: 'string' },
  format: { type: 'string' },
  on: { type: 'string' },
  timeout: { type: 'string' },
  'pci-assign': { type: 'boolean' },
  size: { type: 'string' },
  ffs: { type: 'string' },
} satisfies ParseArgsConfig['options'];

const ALLOWED: Record<string, string[]> = {
  build: ['target', 'component', 'sysroot', 'output', 'map', 'gc-sections', 'libc'],
  inspect: ['json'],
  config: ['memory', 'vcpus', 'disk', 'net', 'pci', 'env', 'name', 'format'],
  run: ['on', 'memory', 'vcpus', 'disk', 'net', 'pci', 'pci-assign', 'env', 'name', 'timeout'],
  mkfs: ['size', 'ffs'],
};

function usageError(problem: string): never {
  throw new ImageLinkerError('image-linker', problem, 'See image-linker --help.');
}

function intFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new ImageLinkerError(`${flag} ${v}`, 'is not a positive whole number.', `Write e.g. ${flag} ${flag === '--memory' ? 64 : flag === '--timeout' ? 60 : 1}.`);
  return Number(v);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function main(argv: string[]): Promise<number> {
  // `pci ...` belongs to @rumpxen/pci-passthrough: everything after `pci` goes to its pciCommand.
  const first = argv.findIndex((a) => !a.startsWith('-'));
  if (first >= 0 && argv[first] === 'pci' && argv.slice(0, first).every((a) => ['-q', '-v', '--quiet', '--verbose'].includes(a))) {
    return pciCommand(argv.slice(first + 1));
  }
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const guestArgs = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    usageError(`${(e as Error).message}.`);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!command) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!(command in ALLOWED)) usageError(`has no command "${command}"; the commands are build, inspect, config, run, mkfs and pci.`);
  for (const key of Object.keys(values)) {
    if (['help', 'quiet', 'verbose'].includes(key)) continue;
    if (!ALLOWED[command]!.includes(key)) usageError(`${command} does not take --${key}.`);
  }
  const showProgress = !values.quiet && (values.verbose || process.stderr.isTTY);
  const progress = showProgress ? (l: string) => process.stderr.write(`image-linker: ${l}\n`) : undefined;

  if (command === 'build') {
    if (rest.length === 1 && isManifestPath(rest[0]!)) {
      const loaded = loadManifest(rest[0]!);
      const m = {
        ...loaded,
        components: [...loaded.components, ...(values.component ?? [])],
        sysroot: values.sysroot ?? loaded.sysroot,
        gcSections: values['gc-sections'] ?? loaded.gcSections,
        libc: values.libc ?? loaded.libc,
      };
      const r = await buildProject(m, { target: values.target, output: values.output, map: values.map, onProgress: progress });
      process.stdout.write(`${r.output}\n`);
      return 0;
    }
    if (rest.length === 0) usageError('build needs at least one input (objects, archives or a rumpxen.json).');
    if (!values.target) usageError('build needs --target xen-pv, xen-pvh or posix (or a rumpxen.json manifest that names it).');
    const r = await build({
      inputs: rest,
      target: values.target,
      components: values.component,
      sysroot: values.sysroot,
      output: values.output,
      map: values.map,
      gcSections: values['gc-sections'],
      libc: values.libc,
      onProgress: progress,
    });
    process.stdout.write(`${r.output}\n`);
    return 0;
  }

  if (command === 'inspect') {
    if (rest.length !== 1) usageError('inspect takes exactly one image.');
    const r = await inspect(rest[0]!);
    process.stdout.write(`${values.json ? reportToJson(r) : formatReport(r)}\n`);
    return 0;
  }

  if (command === 'mkfs') {
    if (rest.length !== 2) usageError('mkfs takes a folder and an image path: image-linker mkfs FOLDER IMAGE.');
    if (values.ffs !== undefined && values.ffs !== '1' && values.ffs !== '2') {
      throw new ImageLinkerError(`--ffs ${values.ffs}`, 'is not an FFS version.', 'Use --ffs 1 or --ffs 2 (the default).');
    }
    const r = makeFfsImage(rest[0]!, rest[1]!, {
      sizeMib: intFlag(values.size, '--size'),
      ffsVersion: values.ffs === '1' ? 1 : 2,
    });
    progress?.(r.log.trim());
    process.stdout.write(`${r.image} (${r.bytes} bytes)\n`);
    return 0;
  }

  const deviceOpts = {
    memoryMb: intFlag(values.memory, '--memory'),
    vcpus: intFlag(values.vcpus, '--vcpus'),
    disks: values.disk,
    nets: values.net,
    pci: values.pci,
    env: values.env,
  };

  if (command === 'config') {
    if (rest.length !== 1) usageError('config takes exactly one image.');
    const image = rest[0]!;
    const report = await inspect(image);
    if (report.target === 'posix') {
      throw new ImageLinkerError(image, 'is a posix image (a host program), which has no domain config.', 'Run it with image-linker run, or build it for xen-pv or xen-pvh to configure a DomU.');
    }
    if (report.target !== 'xen-pv' && report.target !== 'xen-pvh') {
      throw new ImageLinkerError(image, 'carries no Xen ELF notes, so it is not a DomU image.', 'Build it with --target xen-pv or xen-pvh (image-linker inspect shows what it is).');
    }
    const cfg = renderConfig({ image, name: values.name, type: report.target === 'xen-pvh' ? 'xen-pvh' : 'xen-pv', ...deviceOpts, args: guestArgs });
    const forms: Record<string, [string, string]> = {
      json: ['guest.json', `${JSON.stringify(cfg.guest, null, 2)}\n`],
      xl: ['xl.cfg', cfg.xl],
      libxl: ['libxl.json', cfg.libxl],
      libvirt: ['libvirt.xml', cfg.libvirt],
    };
    if (values.format) {
      const f = forms[values.format];
      if (!f) throw new ImageLinkerError(`--format ${values.format}`, 'is not a config format.', 'Use xl, libxl, libvirt or json.');
      process.stdout.write(f[1]);
      return 0;
    }
    for (const [suffix, text] of Object.values(forms)) {
      const path = `${image}.${suffix}`;
      writeAtomic(path, text);
      process.stdout.write(`${path}\n`);
    }
    return 0;
  }

  // run
  if (rest.length !== 1) usageError('run takes exactly one image or rumpxen.json.');
  let image = rest[0]!;
  let fromManifest: ReturnType<typeof loadManifest> | undefined;
  if (isManifestPath(image)) {
    fromManifest = loadManifest(image);
    const built = await buildProject(fromManifest, { onProgress: progress });
    image = built.output;
  }
  const r = await run({
    image,
    name: values.name ?? fromManifest?.name,
    on: (values.on ?? 'auto') as RunPlace,
    memoryMb: deviceOpts.memoryMb ?? fromManifest?.memory,
    vcpus: deviceOpts.vcpus ?? fromManifest?.vcpus,
    disks: [...(fromManifest?.devices.disks ?? []), ...(deviceOpts.disks ?? [])],
    nets: [...(fromManifest?.devices.nets ?? []), ...(deviceOpts.nets ?? [])],
    pci: [...(fromManifest?.devices.pci ?? []), ...(deviceOpts.pci ?? [])],
    pciAssign: values['pci-assign'],
    env: { ...(fromManifest?.env ?? {}), ...parseEnv(deviceOpts.env) },
    args: guestArgs.length ? guestArgs : fromManifest?.args,
    timeoutS: intFlag(values.timeout, '--timeout') ?? fromManifest?.timeout,
    onConsoleLine: (l) => process.stdout.write(`${l}\n`),
    onProgress: progress,
  });
  progress?.(`${r.ranOn}${r.via ? ` (${r.via})` : ''}: ${r.reason} (exit ${r.exitCode}, ${r.durationMs} ms)`);
  return r.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ImageLinkerError) {
      process.stderr.write(`image-linker: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else if (e instanceof Error && typeof (e as { exitCode?: unknown }).exitCode === 'number') {
      // The testbed's own errors carry their message and exit code (2: bad input, 1: testbed).
      process.stderr.write(`image-linker: ${e.message}\n`);
      process.exitCode = (e as unknown as { exitCode: number }).exitCode;
    } else {
      process.stderr.write(`image-linker: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
