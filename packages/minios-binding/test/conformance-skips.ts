/** What the conformance suite may skip on the Xen targets, in either placement (dom0 or DomU). */
/**
 * The cases that skip on Xen, with their reasons. The file parameter is set, so the file and
 * block-I/O cases reach rumpuser_open/getfileinfo and skip on ENXIO (a guest has no host
 * files); the CPU frequency is unknown to the guest (ENOENT, allowed by the suite). Every other
 * case must PASS.
 */
const noHostFile = (call: string) => new RegExp(`^${call.replace(/[()"]/g, '\\$&')}.* returned ENXIO: this target has no host files$`);
export const expectedSkips: Record<string, RegExp> = {
  getparam_cpu_frequency: /^the target does not know its CPU frequency \(ENOENT, allowed\)$/,
  file_getfileinfo: noHostFile('rumpuser_getfileinfo'),
  file_open_errors: noHostFile('rumpuser_open'),
  bio_write_read: noHostFile('rumpuser_open('),
  bio_read_past_end: noHostFile('rumpuser_open('),
  iovwrite_iovread: noHostFile('rumpuser_open('),
  syncfd_flags: noHostFile('rumpuser_open('),
};
/** The file the file and bio cases are pointed at (the guest has none: ENXIO). */
export const hostFile = '/rumpxen-conformance-file';
