/**
 * Xen ELF notes: the note table, their decoding and the target an image's notes imply are
 * @rumpxen/protocol's (one table for TS, checked against Xen's xen/elfnote.h), exported here
 * as part of this package's API.
 */
export { XEN_NOTE_TYPES, decodeXenNote, targetFromNotes, xenNotes, type ImageTarget, type NoteValueKind, type XenNote } from '@rumpxen/protocol';
