/**
 * busybox udhcpd in a full testbed's dom0, serving 10.77.0.FIRST-LAST on xenbr0 (files in its
 * own folder under dom0's /tmp), for the tests whose DomUs take their address by DHCP.
 */
import type { Testbed } from '@rumpxen/xen-testbed';
import { expect } from 'vitest';

export interface Udhcpd {
  /** What udhcpd printed so far. */
  log(): Promise<string>;
  /**
   * udhcpd's leases as busybox dumpleases prints them, once a lease line matching `pattern`
   * (grep -i) is there or after 10 s: udhcpd writes its lease file on SIGUSR1, from its main
   * loop.
   */
  leases(pattern: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops it (never throws). */
  stop(): Promise<void>;
}

export async function startUdhcpd(tb: Testbed, name: string, first: number, last: number): Promise<Udhcpd> {
  const dir = `/tmp/${name}`;
  const conf = [
    `start 10.77.0.${first}`, `end 10.77.0.${last}`, 'interface xenbr0',
    `max_leases ${last - first + 1}`, `lease_file ${dir}/leases`, `pidfile ${dir}/udhcpd.pid`,
    'option subnet 255.255.255.0', 'option lease 3600',
  ];
  const started = await tb.dom0.exec([
    `rm -rf ${dir} && mkdir -p ${dir} && : > ${dir}/leases`,
    `printf '%s\\n' ${conf.map((l) => `'${l}'`).join(' ')} > ${dir}/udhcpd.conf`,
    `busybox udhcpd -f ${dir}/udhcpd.conf > ${dir}/log 2>&1 &`,
    `echo $! > ${dir}/bg.pid`,
    `sleep 1; kill -0 $(cat ${dir}/bg.pid) || { cat ${dir}/log; exit 1; }`,
  ].join('\n'));
  expect(started.code, started.stdout + started.stderr).toBe(0);
  return {
    log: async () => (await tb.dom0.exec(`cat ${dir}/log`)).stdout,
    leases: (pattern) => tb.dom0.exec([
      `kill -USR1 $(cat ${dir}/bg.pid)`,
      `for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1; busybox dumpleases -f ${dir}/leases > ${dir}/dump 2>&1; grep -qi -- '${pattern}' ${dir}/dump && break; done`,
      `cat ${dir}/dump`,
    ].join('\n'), { timeoutMs: 60_000 }),
    stop: async () => {
      await tb.dom0.exec(`kill $(cat ${dir}/bg.pid) 2>/dev/null; sleep 1; kill -9 $(cat ${dir}/bg.pid) 2>/dev/null; true`).catch(() => undefined);
    },
  };
}
