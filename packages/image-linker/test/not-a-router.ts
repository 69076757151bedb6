/**
 * A NetBSD DomU is a host, not a router (tools/netbsd-build's README, "A host, not a router"):
 * for the tests whose DomU programs print nbnet.c's IP counter lines
 * ("PROG: ip counters WHEN: ...", nb_print_ip_counters / nb_check_not_a_router).
 */
import type { Testbed } from '@rumpxen/xen-testbed';
import { expect } from 'vitest';

/** An address of xenbr0's subnet (10.77.0.0/24) that no test gives out. */
export const STRAY_ADDR = '10.77.0.99';

/**
 * dom0 sends the DomU (at addr) two ICMP echo requests for STRAY_ADDR, through a host route
 * via the DomU, so they reach the DomU's MAC with a destination that is not its own. A host
 * drops them; a router forwards them back out of the interface they came in on and sends
 * dom0 a redirect. No reply comes either way.
 */
export async function sendStray(tb: Testbed, addr: string): Promise<void> {
  const r = await tb.dom0.exec(
    `ip route add ${STRAY_ADDR}/32 via ${addr} dev xenbr0 || exit 1; ping -c 2 -w 3 ${STRAY_ADDR}; ip route del ${STRAY_ADDR}/32`,
    { timeoutMs: 60_000 });
  expect(r.stdout, r.stdout + r.stderr).toMatch(/2 packets transmitted/);
}

interface IpCounters {
  forwarding: number;
  sourceRouted: number;
  forwarded: number;
  notForwarded: number;
  redirects: number;
  icmpRedirects: number;
  timeExceeded: number;
  ipv6: string;
}

function ipCounters(text: string, prog: string, when: string): IpCounters {
  const m = new RegExp(`^${prog}: ip counters ${when}: forwarding (\\d+), source-routed (\\d+), forwarded (\\d+), not forwarded (\\d+), redirects sent (\\d+) \\(icmp (\\d+)\\), time exceeded sent (\\d+); (.*)$`, 'm').exec(text);
  expect(m, `no "${prog}: ip counters ${when}" line:\n${text}`).toBeTruthy();
  const n = m!.slice(1, 8).map(Number);
  return { forwarding: n[0]!, sourceRouted: n[1]!, forwarded: n[2]!, notForwarded: n[3]!, redirects: n[4]!, icmpRedirects: n[5]!, timeExceeded: n[6]!, ipv6: m![8]! };
}

/**
 * Checks the DomU's counter lines "before dom0's traffic" (after its address and its own ping)
 * and "at the end", after sendStray ran in between: forwarding off (also for source-routed
 * packets), nothing forwarded and no redirect at either point, and the stray packets dropped.
 * Returns a summary for the test's log line.
 */
export function expectNotARouter(text: string, prog: string): string {
  const before = ipCounters(text, prog, "before dom0's traffic");
  const end = ipCounters(text, prog, 'at the end');
  // Time exceeded is only printed: a host sends it too, when a datagram's fragments time out.
  for (const c of [before, end]) {
    expect({ forwarding: c.forwarding, sourceRouted: c.sourceRouted, forwarded: c.forwarded, redirects: c.redirects, icmpRedirects: c.icmpRedirects }, `${JSON.stringify(c)}\n${text}`)
      .toEqual({ forwarding: 0, sourceRouted: 0, forwarded: 0, redirects: 0, icmpRedirects: 0 });
  }
  // The stray packets came in and were dropped, not forwarded.
  expect(end.notForwarded, `${JSON.stringify(before)} ${JSON.stringify(end)}`).toBeGreaterThanOrEqual(before.notForwarded + 2);
  // With IPv6 in the kernel: off by default (rump does not define GATEWAY6), nothing forwarded.
  if (end.ipv6 !== 'no ipv6') expect(end.ipv6).toMatch(/^ipv6 forwarding 0, forwarded 0, redirects sent 0 \(icmp6 0\)$/);
  return `ip: forwarding ${end.forwarding}, forwarded ${end.forwarded}, redirects ${end.redirects}, time exceeded ${end.timeExceeded}, not forwarded ${before.notForwarded} before dom0's traffic and ${end.notForwarded} at the end; ${end.ipv6}`;
}
