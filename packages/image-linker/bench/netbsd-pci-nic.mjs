#!/usr/bin/env node
// Bench: NetBSD's PCI NIC drivers on passed-through QEMU NICs (examples/netbsd-pci-nic: wm(4)
// on e1000, pcn(4) on pcnet) against netfront (examples/netbsd-net on a vif), all xen-pv DomUs
// on one full testbed, one after another, every interface on dom0's bridge xenbr0:
//   - ping round trip dom0 → DomU (busybox ping, average ms of --pings);
//   - TCP echo: dom0's busybox nc sends --tcp-mib MiB to the DomU's port 7, which sends every
//     byte back; MB/s (10^6 bytes/s) of bytes through each way, from nc's start to its end,
//     with the sha256 of what came back checked against what was sent.
// The NIC DomUs take their address by DHCP from udhcpd in dom0; the netfront one is given
// 10.77.0.2/24. Progress goes to stderr, the figures to stdout.
// Usage: node bench/netbsd-pci-nic.mjs [--tcp-mib 10] [--pings 20]
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSTHROUGH_NICS, Testbed } from '@rumpxen/xen-testbed';
import { buildNetbsd } from '@rumpxen/netbsd-build';
import { buildProject, loadManifest } from '../dist/index.js';
import { benchArgs, progress, scratchDir } from './common.mjs';

const { num } = benchArgs({
  script: 'netbsd-pci-nic.mjs',
  usage: 'node bench/netbsd-pci-nic.mjs [--tcp-mib 10] [--pings 20]',
  about: 'Ping and TCP echo through passed-through e1000 (wm) and pcnet (pcn) against netfront, xen-pv, one full testbed.',
  numbers: { 'tcp-mib': 10, pings: 20 },
});
const TCP = num['tcp-mib'] * 1024 * 1024;
const PINGS = num.pings;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const DOM0_ADDR = '10.77.0.1';
const { dir, cleanup } = scratchDir('image-linker-pcinic-bench-');
const UDHCPD = '/tmp/pcinic-bench-udhcpd';

function pingAvg(out) {
  const sent = /(\d+) packets transmitted, (\d+) packets received/.exec(out);
  const rtt = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out);
  if (!sent || !rtt) throw new Error(`no ping summary in:\n${out}`);
  return { sent: Number(sent[1]), received: Number(sent[2]), avgMs: Number(rtt[1]) };
}

/** Boots one DomU, waits for its ready line and address, pings it and runs the TCP echo. */
async function measure(tb, { label, kernel, cmdline, pci, vifs, ready, address }) {
  const domu = await tb.createDomU({ kernel, memory: 64, type: 'pv', cmdline, pci, vifs, name: `bench-${label.split(" ")[0]}` });
  try {
    await domu.waitForLine(ready, 240_000);
    const text = domu.lines.join('\n');
    const addr = address(text);
    if (!addr) throw new Error(`${label}: no address in:\n${text}`);
    const ping = await tb.dom0.exec(`ping -c ${PINGS} -i 0.2 -w 60 ${addr}`, { timeoutMs: 90_000 });
    const p = pingAvg(ping.stdout);
    const t0 = Date.now();
    const tcp = await tb.dom0.exec(
      `sha256sum < /tmp/pcinic-in; timeout 300 nc ${addr} 7 < /tmp/pcinic-in | sha256sum`, { timeoutMs: 330_000 });
    const seconds = (Date.now() - t0) / 1000;
    const [sent, got] = tcp.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    if (tcp.code !== 0 || !sent || sent !== got) throw new Error(`${label}: the TCP echo came back wrong (${tcp.stdout}${tcp.stderr})`);
    return { label, addr, ping: p, tcpSeconds: seconds, mbps: TCP / 1e6 / seconds };
  } finally {
    await domu.destroy().catch(() => undefined);
  }
}

let tb;
try {
  await buildNetbsd('xen-pv', { onProgress: progress });
  const nic = (await buildProject(loadManifest(join(root, 'examples', 'netbsd-pci-nic', 'nic.json')), { target: 'xen-pv', output: join(dir, 'nic.xen-pv') })).output;
  const net = (await buildProject(loadManifest(join(root, 'examples', 'netbsd-net', 'net.json')), { target: 'xen-pv', output: join(dir, 'net.xen-pv') })).output;
  progress('starting the full testbed with e1000 and pcnet passed through');
  tb = await Testbed.start({ edu: false, pvh: false, passthroughNics: ['e1000', 'pcnet'] });
  const prep = await tb.dom0.exec([
    `head -c ${TCP} /dev/urandom > /tmp/pcinic-in`,
    `rm -rf ${UDHCPD} && mkdir -p ${UDHCPD} && : > ${UDHCPD}/leases`,
    `printf '%s\\n' 'start 10.77.0.100' 'end 10.77.0.110' 'interface xenbr0' 'lease_file ${UDHCPD}/leases' 'pidfile ${UDHCPD}/pid' 'option subnet 255.255.255.0' > ${UDHCPD}/conf`,
    `busybox udhcpd -f ${UDHCPD}/conf > ${UDHCPD}/log 2>&1 & echo $! > ${UDHCPD}/bg.pid`,
  ].join('\n'), { timeoutMs: 120_000 });
  if (prep.code !== 0) throw new Error(`dom0 preparation failed: ${prep.stderr}`);
  const dhcpAddr = (ifname) => (text) => new RegExp(`^nic: ${ifname} dhcp address (\\S+) netmask`, 'm').exec(text)?.[1];
  const runs = [
    { label: 'wm0 (e1000, passed through)', kernel: nic, cmdline: `wm0 ${DOM0_ADDR} ${TCP}`, pci: [PASSTHROUGH_NICS.e1000.bdf], ready: /^nic: ready$/, address: dhcpAddr('wm0') },
    { label: 'pcn0 (pcnet, passed through)', kernel: nic, cmdline: `pcn0 ${DOM0_ADDR} ${TCP} prom`, pci: [PASSTHROUGH_NICS.pcnet.bdf], ready: /^nic: ready$/, address: dhcpAddr('pcn0') },
    { label: 'virt0 (netfront, vif)', kernel: net, cmdline: `serve 10.77.0.2 24 ${DOM0_ADDR} ${TCP} 1`, vifs: 1, ready: /^net: ready$/, address: () => '10.77.0.2' },
  ];
  const results = [];
  for (const r of runs) {
    progress(`${r.label} ...`);
    results.push(await measure(tb, r));
  }
  const base = results.at(-1);
  console.log(`\nNetBSD PCI NIC drivers against netfront (xen-pv DomUs, one testbed; ${PINGS} pings, ${TCP / 1048576} MiB TCP echo; load ${loadavg()[0].toFixed(1)})`);
  console.log('| interface | ping avg | vs netfront | TCP echo, each way | vs netfront |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.label} | ${r.ping.avgMs.toFixed(2)} ms (${r.ping.received}/${r.ping.sent}) | ${(r.ping.avgMs / base.ping.avgMs).toFixed(2)}x | ${r.mbps.toFixed(2)} MB/s (${r.tcpSeconds.toFixed(1)} s) | ${(r.mbps / base.mbps).toFixed(2)}x |`);
  }
} finally {
  await tb?.stop();
  cleanup();
}
