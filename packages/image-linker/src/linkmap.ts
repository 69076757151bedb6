/**
 * Reading GNU ld's link map (`-Map`): how many bytes each input file put into each output
 * section. Used to record per-input sizes in the image at build time.
 */
export interface MapContribution {
  outputSection: string;
  inputSection: string;
  /** `file.o`, `lib.a(member.o)`, or `*fill*` for padding. */
  file: string;
  address: bigint;
  size: number;
}

const OUT_SECTION = /^(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/;
const OUT_NAME_ONLY = /^(\S+)\s*$/;
const IN_SECTION = /^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/;
const IN_NAME_ONLY = /^ (\S+)\s*$/;
const CONTINUATION = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/;
const OUT_CONTINUATION = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s*$/;

export function parseLinkMap(text: string): MapContribution[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Linker script and memory map'));
  if (start < 0) return [];
  const out: MapContribution[] = [];
  let outputSection = '';
  let pendingIn: string | null = null;
  let pendingOut: string | null = null;
  for (let i = start + 1; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (pendingIn !== null) {
      const m = CONTINUATION.exec(line);
      if (m) out.push({ outputSection, inputSection: pendingIn, file: m[3]!.trim(), address: BigInt(`0x${m[1]}`), size: Number.parseInt(m[2]!, 16) });
      pendingIn = null;
      continue;
    }
    if (pendingOut !== null) {
      if (OUT_CONTINUATION.test(line)) outputSection = pendingOut;
      pendingOut = null;
      continue;
    }
    if (line.startsWith(' *fill*')) {
      const m = /^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/.exec(line);
      if (m) out.push({ outputSection, inputSection: '*fill*', file: '*fill*', address: BigInt(`0x${m[1]}`), size: Number.parseInt(m[2]!, 16) });
      continue;
    }
    let m = IN_SECTION.exec(line);
    if (m) {
      out.push({ outputSection, inputSection: m[1]!, file: m[4]!.trim(), address: BigInt(`0x${m[2]}`), size: Number.parseInt(m[3]!, 16) });
      continue;
    }
    m = IN_NAME_ONLY.exec(line);
    if (m && !m[1]!.includes('(') && !m[1]!.startsWith('*')) {
      pendingIn = m[1]!;
      continue;
    }
    m = OUT_SECTION.exec(line);
    if (m) {
      outputSection = m[1]!;
      continue;
    }
    m = OUT_NAME_ONLY.exec(line);
    if (m && !line.startsWith(' ') && !/^(LOAD|OUTPUT|START GROUP|END GROUP|INSERT)/.test(line)) {
      pendingOut = m[1]!;
      outputSection = m[1]!;
    }
  }
  return out;
}

/** `lib.a(member.o)` → `lib.a`; other names unchanged. */
export function archiveOf(file: string): string {
  const m = /^(.*\.a)\((.*)\)$/.exec(file);
  return m ? m[1]! : file;
}
