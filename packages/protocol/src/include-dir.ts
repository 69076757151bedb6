/**
 * The C headers this package ships, for C builds to pass with `-I` (read it with
 * `node -e "import('@rumpxen/protocol').then((m) => console.log(m.protocolIncludeDir))"`):
 *   rumpxen/case.h      the case protocol and runner of guest test programs (verdict.ts's lines)
 *   rumpxen/xen_note.h  XEN_ELFNOTE_* numbers and a Xen note for assembly (xen-notes.ts's table)
 * Freestanding, so code built with -nostdinc may include them.
 */
import { fileURLToPath } from 'node:url';

/** `<this package>/c/include` (this module runs from src/ or from the bundle in dist/, one level down). */
export const protocolIncludeDir: string = fileURLToPath(new URL('../c/include', import.meta.url));
