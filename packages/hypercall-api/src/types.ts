/**
 * The shapes every hypercall interface is described in. C types are kept as C text
 * (abstract declarators, e.g. `void *(*)(void *)`, `void *[8]`) so the header generator and
 * the type checks print them verbatim; `declare()` in render.ts puts a name into one.
 */

/** Which interface (and therefore which generated header) a function or constant belongs to. */
export type InterfaceName = 'rumpuser' | 'rumpuser_component' | 'rumpcomp_pci' | 'virtif';

/** Functional area of a hypercall. `termination` holds `rumpuser_exit` and `rumpuser_kill`. */
export type Area =
  | 'init'
  | 'memory'
  | 'files'
  | 'clocks'
  | 'params'
  | 'errno'
  | 'termination'
  | 'console'
  | 'random'
  | 'threads'
  | 'curlwp'
  | 'mutex'
  | 'rw'
  | 'cv'
  | 'dl'
  | 'daemonize'
  | 'sysproxy'
  | 'component'
  | 'pci'
  | 'virtif';

export interface Param {
  name: string;
  /** C type as an abstract declarator: `const char *`, `void *(*)(void *)`, `rump_biodone_fn`. */
  type: string;
}

/** Who calls whom: the kernel calls a hypercall; the hypercall layer calls an upcall. */
export type Direction = 'hypercall' | 'upcall';

export interface Hypercall {
  /** C symbol; for virtif the macro name (`VIFHYPER_SEND`), resolved through `VIRTIF_BASE`. */
  name: string;
  /** The linker symbol (equal to name, except virtif: resolved with VIRTIF_BASE `virt`). */
  symbol: string;
  interface: InterfaceName;
  area: Area;
  direction: Direction;
  returns: string;
  params: Param[];
  /** Ends in `...` (only `rumpuser_dprintf`). */
  variadic?: boolean;
  /** Never returns (`__dead` in NetBSD's header). */
  noreturn?: boolean;
  /** printf-style checking: [format argument index, first variadic index], 1-based. */
  printf?: [number, number];
  /** A target must provide it for a rump kernel to run; false for the interface's optional calls. */
  mandatory: boolean;
  /** NetBSD's librump.so (rumpkern) imports it: a target must at least link it. */
  librumpImport: boolean;
  /** Declared only when this feature macro is defined (PCI: DMAFREE, IOSPACE). */
  feature?: string;
  /** The contract in a sentence: what the caller may expect. */
  contract: string;
}

/** A `#define` (or enum member) with its value as C text and as a number/string for tools. */
export interface Constant {
  name: string;
  interface: InterfaceName;
  /** Family it belongs to, e.g. `open`, `ft`, `bio`, `syncfd`, `clock`, `mtx`. */
  group: string;
  /** Value as printed into the header. */
  c: string;
  /** Value as TS sees it. */
  value: number | bigint | string;
  /** Member of this C enum instead of a `#define`. */
  enumName?: string;
  meaning: string;
}

export interface StructField {
  name: string;
  type: string;
}

export interface StructDef {
  /** Tag, without `struct`. */
  name: string;
  interface: InterfaceName;
  fields: StructField[];
  meaning: string;
}

export interface TypedefDef {
  name: string;
  interface: InterfaceName;
  /** Abstract declarator the name stands for. */
  type: string;
  meaning: string;
}

export interface EnumDef {
  name: string;
  interface: InterfaceName;
  meaning: string;
}
