/**
 * The xen-pv and xen-pvh build targets: what the image-linker compiles against and links
 * for a rumpxen guest image. Paths point into this package's `build/<target>/`, written by
 * `c/build.sh` (run by this package's build).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { hypercallApiArtifacts, type TargetDefinition } from '@rumpxen/hypercall-api';
import { guestCflags, guestKernelCflags } from '@rumpxen/protocol';

/** This package's root: dist/ (built) and src/ (tests) both sit one level below it. */
export const guestPackageRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** The guest kernel's C headers (mk/…): what code built against the guest kernel includes. */
export const guestIncludeDir: string = join(guestPackageRoot, 'c', 'include');

/** Where a target's built files are. */
export function guestBuildDir(target: 'xen-pv' | 'xen-pvh'): string {
  return join(guestPackageRoot, 'build', target);
}

/** The guest image linker script (c/xen.lds) with the target's entry symbol filled in. */
export function guestLinkerScript(entrySymbol: string): string {
  const path = join(guestPackageRoot, 'c', 'xen.lds');
  return readFileSync(path, 'utf8').replace('@ENTRY@', entrySymbol);
}

function xenTarget(name: 'xen-pv' | 'xen-pvh', entrySymbol: string): TargetDefinition {
  const dir = guestBuildDir(name);
  let script: string | undefined;
  return {
    name,
    triple: 'x86_64-unknown-none-elf',
    // The guest toolchain contract (@rumpxen/protocol): c/build.sh compiles the kernel with
    // kernelCflags read from here, as pci-passthrough does pcix and netbsd-build NetBSD.
    cflags: [...guestCflags],
    kernelCflags: [...guestKernelCflags],
    includeDirs: [hypercallApiArtifacts.includeDir, guestIncludeDir],
    startObject: join(dir, 'start.o'),
    libraries: [join(dir, 'libmkernel.a')],
    get linkerScript(): string {
      script ??= guestLinkerScript(entrySymbol);
      return script;
    },
    entrySymbol,
    // Loaded at 1 MiB, virtual == pseudo-physical; the guest maps RAM below 1 GiB only.
    layout: { start: 0x100000n, end: 0x40000000n },
    ldflags: ['-nostdlib', '-static', '-z', 'max-page-size=4096', '--no-dynamic-linker'],
  };
}

/** x86-64 PV: Xen ELF notes, start_info, hypercall page; entry `mk_start`. */
export const xenPvTarget: TargetDefinition = xenTarget('xen-pv', 'mk_start');
/** x86-64 PVH: XEN_ELFNOTE_PHYS32_ENTRY, hvm_start_info; entry `mk_pvh_start` (32-bit). */
export const xenPvhTarget: TargetDefinition = xenTarget('xen-pvh', 'mk_pvh_start');
