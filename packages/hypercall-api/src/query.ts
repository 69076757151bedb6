/** The queryable view over every interface's data. */
import { componentFunctions, rumpuserConstants, rumpuserEnums, rumpuserFunctions, rumpuserStructs, rumpuserTypedefs } from './rumpuser.js';
import { pciConstants, pciFunctions, pciStructs } from './pci.js';
import { virtifConstants, virtifFunctions } from './virtif.js';
import type { Area, Constant, EnumDef, Hypercall, InterfaceName, StructDef, TypedefDef } from './types.js';

/** Every function of every interface: rumpuser v17, the component helpers, PCI, virtif. */
export const hypercalls: readonly Hypercall[] = Object.freeze([
  ...rumpuserFunctions,
  ...componentFunctions,
  ...pciFunctions,
  ...virtifFunctions,
]);

export const constants: readonly Constant[] = Object.freeze([...rumpuserConstants, ...pciConstants, ...virtifConstants]);
export const structs: readonly StructDef[] = Object.freeze([...rumpuserStructs, ...pciStructs]);
export const typedefs: readonly TypedefDef[] = Object.freeze([...rumpuserTypedefs]);
export const enums: readonly EnumDef[] = Object.freeze([...rumpuserEnums]);

export const areas: readonly Area[] = Object.freeze([...new Set(hypercalls.map((h) => h.area))]);
export const interfaces: readonly InterfaceName[] = Object.freeze(['rumpuser', 'rumpuser_component', 'rumpcomp_pci', 'virtif'] as InterfaceName[]);

/** The hypercalls of one area, in declaration order. */
export function byArea(area: Area): Hypercall[] {
  if (!areas.includes(area)) {
    throw new Error(`byArea: "${String(area)}" is not an area; use one of ${areas.join(', ')}`);
  }
  return hypercalls.filter((h) => h.area === area);
}

/** The functions of one interface, in declaration order. */
export function byInterface(iface: InterfaceName): Hypercall[] {
  if (!interfaces.includes(iface)) {
    throw new Error(`byInterface: "${String(iface)}" is not an interface; use one of ${interfaces.join(', ')}`);
  }
  return hypercalls.filter((h) => h.interface === iface);
}

/** rumpuser v17 hypercalls every target must implement (43). */
export const mandatory: readonly Hypercall[] = Object.freeze(rumpuserFunctions.filter((h) => h.mandatory));

/** rumpuser v17 hypercalls the interface calls optional. */
export const optional: readonly Hypercall[] = Object.freeze(rumpuserFunctions.filter((h) => !h.mandatory));

/** The rumpuser hypercalls NetBSD's librump.so imports (45): a drop-in librumpuser must define all. */
export const librumpImports: readonly Hypercall[] = Object.freeze(rumpuserFunctions.filter((h) => h.librumpImport));

/** One function by its C name (virtif: by macro name, e.g. `VIFHYPER_SEND`). */
export function hypercall(name: string): Hypercall {
  const h = hypercalls.find((x) => x.name === name);
  if (!h) {
    throw new Error(`hypercall: no function named "${name}" in rumpuser, rumpuser_component, rumpcomp_pci or virtif; list them with \`hypercalls\``);
  }
  return h;
}

/** One constant by its C name. */
export function constant(name: string): Constant {
  const k = constants.find((x) => x.name === name);
  if (!k) throw new Error(`constant: no constant named "${name}"; list them with \`constants\``);
  return k;
}

/** One struct by its tag (without `struct`). */
export function struct(name: string): StructDef {
  const s = structs.find((x) => x.name === name);
  if (!s) throw new Error(`struct: no struct named "${name}"; known: ${structs.map((x) => x.name).join(', ')}`);
  return s;
}
