/**
 * The guest toolchain contract: the gcc flags C code must be compiled with to run in a
 * rumpxen guest (x86-64, freestanding, no libc, at a fixed address below 2 GiB). The single
 * list every build reads: the xen-pv/xen-pvh TargetDefinitions (cflags, kernelCflags), and
 * through them the guest kernel, pcix and the NetBSD rump kernel archives; the conformance
 * suite's objects; the testbed's fixture guests.
 */

/**
 * Flags for every object linked into a rumpxen image, application code included (which,
 * unlike kernel code, may use floating point and SSE).
 */
export const guestCflags: readonly string[] = Object.freeze([
  '-ffreestanding',
  '-fno-pic',
  '-fno-pie',
  // The image is linked below 1 GiB, so 32-bit absolute addresses reach all of it.
  '-mcmodel=small',
  // Xen builds event and trap frames on the current stack, right below the stack pointer.
  '-mno-red-zone',
  '-fno-stack-protector',
  // Frames larger than a page are probed page by page, so they hit a thread's guard page
  // instead of stepping over it into memory below.
  '-fstack-clash-protection',
  // The crash report's backtrace walks frame pointers.
  '-fno-omit-frame-pointer',
  '-nostdinc',
]);

/**
 * Flags for code that runs as the guest kernel: the guest kernel itself, the NetBSD rump
 * kernel archives built for the Xen targets, and freestanding code that plays their part (the
 * conformance suite, pcix, the fixture guests). The kernel saves no vector register state on
 * its event paths, so kernel code uses general registers only; and it must not have loops
 * turned into calls to memset/memcpy, or builtins into library calls it does not define.
 */
export const guestKernelCflags: readonly string[] = Object.freeze([
  ...guestCflags,
  '-fno-builtin',
  '-fno-tree-loop-distribute-patterns',
  '-mgeneral-regs-only',
]);

/** Flags of the contract that only x86-64 code takes: gcc refuses `-mcmodel=small` with `-m32`. */
const X86_64_ONLY = new Set(['-mcmodel=small']);

/**
 * The contract's flags for code compiled with `-m32` (a 32-bit PVH entry, the testbed's
 * 32-bit PVH fixture): the same list without the x86-64 code model.
 */
export function i386Cflags(flags: readonly string[]): string[] {
  return flags.filter((f) => !X86_64_ONLY.has(f));
}
