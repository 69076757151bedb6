/**
 * The ELF and `ar` reader is @rumpxen/protocol's (one reader, which the testbed's kernel
 * checks use too); here its refusals are ImageLinkerErrors (input, problem, fix), as every
 * error a user of this package can cause.
 */
import { parseElf as parseElfFile, readArchive as readArchiveFile, type ArchiveMember, type ElfErrorFactory, type ElfFile } from '@rumpxen/protocol';
import { ImageLinkerError } from './errors.js';

export {
  ET_REL,
  ET_EXEC,
  ET_DYN,
  EM_X86_64,
  SHT_PROGBITS,
  SHT_SYMTAB,
  SHT_STRTAB,
  SHT_NOTE,
  SHT_NOBITS,
  SHT_DYNSYM,
  SHF_WRITE,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_TLS,
  PT_LOAD,
  PT_DYNAMIC,
  PT_INTERP,
  PT_NOTE,
  PT_TLS,
  SHN_UNDEF,
  SHN_ABS,
  SHN_COMMON,
  machineName,
  isElf,
  isArchive,
  type ArchiveMember,
  type ElfFile,
  type ElfKind,
  type ElfNote,
  type ElfSection,
  type ElfSegment,
  type ElfSymbol,
  type SymbolBinding,
  type SymbolType,
} from '@rumpxen/protocol';

const imageLinkerError: ElfErrorFactory = (input, problem, fix) => new ImageLinkerError(input, problem, fix);

/**
 * Parses an ELF file. `name` is used in error messages. Only the header is read from files
 * that are not ELF64 little-endian, so a caller can still say which machine they are for.
 */
export function parseElf(bytes: Uint8Array, name: string): ElfFile {
  return parseElfFile(bytes, name, { error: imageLinkerError });
}

/** Members of a System V / GNU `ar` archive, without its symbol index and long-name table. */
export function readArchive(bytes: Uint8Array, name: string): ArchiveMember[] {
  return readArchiveFile(bytes, name, { error: imageLinkerError });
}
