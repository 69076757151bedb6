/**
 * The posix target: a rump kernel as an ordinary Linux process, with this package's
 * librumpuser (pthreads) beneath it. The host compiler driver links; its crt provides the
 * entry point.
 */
import { hypercallApiArtifacts } from '../artifacts.js';
import type { TargetDefinition } from '../target.js';

export const posixTarget: TargetDefinition = {
  name: 'posix',
  triple: 'x86_64-pc-linux-gnu',
  cflags: ['-pthread'],
  includeDirs: [hypercallApiArtifacts.includeDir],
  startObject: null,
  // Static, so an image is self-contained; librumpuser.so.0 is the drop-in for dynamic kernels.
  libraries: [hypercallApiArtifacts.librumpuserStatic],
  linkerScript: null,
  entrySymbol: '_start',
  // Non-PIE executables load at 0x400000; user space ends at the 47-bit boundary.
  layout: { start: 0x400000n, end: 0x800000000000n },
  // --export-dynamic publishes link sets (__start_link_set_*) to rumpuser_dl_bootstrap.
  ldflags: ['-no-pie', '-pthread', '-Wl,--export-dynamic'],
};
