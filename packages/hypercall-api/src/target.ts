/**
 * A build target as data: what the image-linker needs to compile against and link for one
 * platform. The posix target is defined by this package; xen-pv and xen-pvh by
 * `@rumpxen/minios-binding`. Paths are absolute and point into the built package.
 */
export type TargetName = 'posix' | 'xen-pv' | 'xen-pvh';

export interface TargetDefinition {
  name: TargetName;
  /** GNU triple the objects are built for, e.g. `x86_64-unknown-none-elf`. */
  triple: string;
  /** C compiler flags that objects linked into this target must be compiled with. */
  cflags: string[];
  /**
   * Flags for code that runs as the guest's kernel (the guest kernel itself and the NetBSD
   * rump kernel built for the target): `cflags` plus what kernel code may not do (no
   * builtins turned into library calls, no vector registers). Absent: same as `cflags`.
   */
  kernelCflags?: string[];
  /** Include directories (generated interface headers first). */
  includeDirs: string[];
  /** Object holding the entry point, linked first; null where the host's crt provides it. */
  startObject: string | null;
  /** Archives that implement the guest kernel and the hypercalls, in link order. */
  libraries: string[];
  /** GNU ld linker script text for this target; null to use the host linker's default. */
  linkerScript: string | null;
  /** Symbol the image starts at. */
  entrySymbol: string;
  /** Virtual address range every loadable section must fall within, [start, end). */
  layout: { start: bigint; end: bigint };
  /** Extra arguments for GNU ld (or the host compiler driver on posix). */
  ldflags: string[];
}
