/**
 * How NetBSD is built for a target: the buildrump.sh options and the compiler flags. The
 * flags come from the target definition (the guest toolchain contract), so the NetBSD
 * archives and the code linked with them are compiled alike; this file only adds what
 * NetBSD's 2016 sources need from gcc 12 and the build mode.
 */
import { posixTarget, type TargetDefinition, type TargetName } from '@rumpxen/hypercall-api';
import { xenPvhTarget, xenPvTarget } from '@rumpxen/minios-binding';
import { NetbsdBuildError } from './errors.js';

export type BuildMode = 'userspace' | 'kernel';

export interface NetbsdBuildConfig {
  /**
   * `userspace`: shared and static libraries for a host process (posix), NetBSD's own
   * hypercall library built too but replaced at run time by ours. `kernel`: kernel-only
   * static archives (`-k`) with curlwp as a hypercall, non-PIC, for a freestanding guest.
   */
  mode: BuildMode;
  /** buildrump.sh options other than the folders and -j. */
  args: string[];
  /** The compiler flags NetBSD's objects get (buildrump.sh `-F CFLAGS=…`). */
  cflags: string[];
  /** Variables buildrump.sh's bootstrap needs in its environment. */
  env: Record<string, string>;
}

export const TARGETS: readonly TargetName[] = ['posix', 'xen-pv', 'xen-pvh'];

/** Target definitions by name: posix from hypercall-api, xen-pv/xen-pvh from minios-binding. */
export function targetDefinition(name: string): TargetDefinition {
  switch (name) {
    case 'posix':
      return posixTarget;
    case 'xen-pv':
      return xenPvTarget;
    case 'xen-pvh':
      return xenPvhTarget;
    default:
      throw new NetbsdBuildError(`target "${name}"`, 'is not a known target.', `Use one of: ${TARGETS.join(', ')}.`);
  }
}

/** Flags of a target that are about where headers come from, not how code is generated. */
const INCLUDE_FLAG = /^(-nostdinc|-I.*|-isystem.*|-include.*)$/;

/**
 * gcc 12 against 2016 code: -fcommon for the tentative definitions NetBSD relies on, and
 * NOGCCERROR (there are ~1,600 warnings; -Wno-error would be overridden by NetBSD's -Werror).
 */
const GCC12 = { cflags: ['-fcommon'], vars: ['-V', 'NOGCCERROR=1'], env: { HOST_CFLAGS: '-O -fcommon' } };

/**
 * Build librumpnet_virtif (the hypercall network interface; its hypercalls are the guest's
 * netfront). A kernel-only build skips buildrump.sh's platform probe, so its mk.conf says
 * RUMP_VIRTIF=no, and a plain `-V RUMP_VIRTIF=yes` (an environment variable for make) loses to
 * that assignment. In MAKEFLAGS the assignment is a command-line variable of every make run,
 * which wins over mk.conf; build.sh puts its own flags in front of it.
 */
const VIRTIF = ['-V', 'MAKEFLAGS=RUMP_VIRTIF=yes'];

/**
 * A DomU is a host, not a router (README, "A host, not a router"). NetBSD's rump kernels define
 * GATEWAY (sys/rump/include/opt/opt_rumpkernel.h), so ip_input.c's default IPFORWARDING is 1:
 * the kernel forwards IPv4 packets that are not for it and, when one leaves by the interface it
 * came in on, sends its sender an ICMP redirect. Measured: while ARP's duplicate address
 * detection holds a new address tentative, a packet for it goes to the address's local route on
 * lo0, comes back in on lo0 and is forwarded again until its TTL runs out, each pass but the
 * first sending a redirect from 127.0.0.1 (62 for a packet that came with TTL 64).
 * IPFORWSRCRT (default 1 whatever GATEWAY says) forwards source-routed packets addressed to us
 * even with forwarding off. Both can still be turned on by sysctl (net.inet.ip.forwarding,
 * net.inet.ip.forwsrcrt). IPv6 needs nothing: IPV6FORWARDING follows GATEWAY6, which rump does
 * not define.
 */
export const NOT_A_ROUTER_CFLAGS: readonly string[] = ['-DIPFORWARDING=0', '-DIPFORWSRCRT=0'];

export function buildConfig(target: TargetDefinition): NetbsdBuildConfig {
  if (target.name === 'posix') {
    // A host process: NetBSD's own userspace flags (PIC shared and static libraries). The
    // posix target's cflags (-pthread) are for linking programs, not for compiling NetBSD.
    return { mode: 'userspace', args: ['-r', ...GCC12.vars], cflags: [...GCC12.cflags], env: { ...GCC12.env } };
  }
  const codegen = (target.kernelCflags ?? target.cflags).filter((f) => !INCLUDE_FLAG.test(f));
  return {
    mode: 'kernel',
    args: ['-r', '-k', '-V', 'RUMP_CURLWP=hypercall', '-V', 'MKPIC=no', '-V', 'MKSTATICLIB=yes', ...VIRTIF, ...GCC12.vars],
    cflags: [...GCC12.cflags, ...NOT_A_ROUTER_CFLAGS, ...codegen],
    env: { ...GCC12.env },
  };
}
