/**
 * A DomU is a host, not a router: the kernel-mode build (xen-pv, xen-pvh) is compiled with
 * IPFORWARDING=0 and IPFORWSRCRT=0, so NetBSD's ipforwarding and ip_forwsrcrt start at 0
 * (rump kernels define GATEWAY, which makes the first 1; the second is 1 by default). Checked in
 * the flags, in the build's mk.conf and in the object itself: a zero-initialised int goes to .bss
 * (nm type B), the defaults of 1 to .data (type D; so they were before the flags). IPv6's
 * ip6_forwarding is 0 either way (IPV6FORWARDING follows GATEWAY6, which rump does not define).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { xenPvTarget } from '@rumpxen/minios-binding';
import { posixTarget } from '@rumpxen/hypercall-api';
import { buildConfig, buildNetbsd, NOT_A_ROUTER_CFLAGS, type NetbsdBuild } from '../src/index.js';
import { join } from 'node:path';

let pv: NetbsdBuild;

beforeAll(async () => {
  pv = await buildNetbsd('xen-pv', { cachedOnly: true });
});

/** nm's type letter for symbol `name` as defined (not undefined) in `member` of `archive`. */
function symbolType(archive: string, member: string, name: string): string | undefined {
  const out = spawnSync('nm', ['-A', archive], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
  const line = out.split('\n').find((l) => l.includes(`:${member}:`) && l.endsWith(` ${name}`) && !/ U /.test(l));
  return line?.split(/\s+/).at(-2);
}

describe('a DomU is a host, not a router', () => {
  it('kernel builds get -DIPFORWARDING=0 -DIPFORWSRCRT=0; posix keeps NetBSD\'s rump defaults', () => {
    const flags = ['-DIPFORWARDING=0', '-DIPFORWSRCRT=0'];
    expect(NOT_A_ROUTER_CFLAGS).toEqual(flags);
    expect(buildConfig(xenPvTarget).cflags).toEqual(expect.arrayContaining(flags));
    for (const f of flags) expect(buildConfig(posixTarget).cflags).not.toContain(f);
    expect(pv.config.cflags).toEqual(expect.arrayContaining(flags));
    const mkConf = readFileSync(join(pv.dir, 'tools', 'mk.conf'), 'utf8');
    expect(/^BUILDRUMP_CFLAGS=(.*)$/m.exec(mkConf)?.[1]?.split(' ')).toEqual(expect.arrayContaining(flags));
  });

  it('ipforwarding, ip_forwsrcrt and ip6_forwarding start at 0 in the archives (in .bss)', () => {
    // ip_input.c and in6_proto.c are members of librumpnet_net.a (component net_net).
    const net = pv.components.find((c) => c.name === 'net_net')!.archive;
    expect(symbolType(net, 'ip_input.o', 'rumpns_ipforwarding')).toBe('B');
    expect(symbolType(net, 'ip_input.o', 'rumpns_ip_forwsrcrt')).toBe('B');
    expect(symbolType(net, 'in6_proto.o', 'rumpns_ip6_forwarding')).toBe('B');
    // Redirects stay allowed for a kernel that a program turns into a router by sysctl.
    expect(symbolType(net, 'ip_input.o', 'rumpns_ipsendredirects')).toBe('D');
  });
});
