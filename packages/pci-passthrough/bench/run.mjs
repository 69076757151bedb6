#!/usr/bin/env node
// Bench of the guest side with QEMU's edu device: interrupt latency (device raise -> event,
// -> handler in its thread) against an event-channel loopback measured in the same guest,
// and edu DMA throughput against a CPU copy of the same bytes; as dom0 (guest-as-dom0 mode)
// and as a DomU with edu passed through (full mode). Progress on stderr, figures on stdout.
// Usage: node bench/run.mjs [--dom0-only]
import { assetPaths, bootGuest, Testbed } from '@rumpxen/xen-testbed';
import { buildPciTestImage, caseResults, imageDir } from '../test/helpers/guest-image.mjs';

if (process.argv.includes('--help')) {
  console.log('Usage: node bench/run.mjs [--dom0-only]\nBoots the edu driver with its bench as dom0 and (unless --dom0-only) as a DomU; prints latency and DMA figures.');
  process.exit(0);
}
try {
  assetPaths();
} catch (e) {
  console.error(`bench: the testbed's assets are missing (${e.message}); run \`npx rumpxen-testbed fetch\` first`);
  process.exit(1);
}

function figures(lines) {
  const get = (re) => {
    const l = lines.find((x) => re.test(x));
    return l ? re.exec(l) : null;
  };
  const loop = get(/^bench evtchn_loopback_ns: median (\d+)/);
  const lat = get(/^bench intr_latency_ns: event min (\d+) median (\d+); handler min (\d+) median (\d+) max (\d+)/);
  const cpy = get(/^bench memcpy: (\d+) copies of (\d+) bytes in (\d+) us/);
  const dma = get(/^bench dma: (\d+) transfers of (\d+) bytes in (\d+) us/);
  if (!loop || !lat || !cpy || !dma || caseResults(lines).bench !== 'PASS') return null;
  const bytes = Number(dma[1]) * Number(dma[2]);
  return {
    loopbackNs: Number(loop[1]),
    eventMedianNs: Number(lat[2]),
    handlerMedianNs: Number(lat[4]),
    handlerMaxNs: Number(lat[5]),
    dmaKiBs: bytes / 1024 / (Number(dma[3]) / 1e6),
    memcpyKiBs: (Number(cpy[1]) * Number(cpy[2])) / 1024 / (Math.max(1, Number(cpy[3])) / 1e6),
  };
}

function report(label, f) {
  console.log(`${label}: interrupt raise -> handler median ${(f.handlerMedianNs / 1000).toFixed(1)} us ` +
    `(event ${(f.eventMedianNs / 1000).toFixed(1)} us, max ${(f.handlerMaxNs / 1000).toFixed(1)} us), ` +
    `${(f.handlerMedianNs / f.loopbackNs).toFixed(1)}x the event-channel loopback (${(f.loopbackNs / 1000).toFixed(2)} us); ` +
    `edu DMA ${f.dmaKiBs.toFixed(1)} KiB/s = ${(f.dmaKiBs / f.memcpyKiBs).toExponential(2)}x a CPU copy (${(f.memcpyKiBs / 1024).toFixed(0)} MiB/s)`);
}

const image = buildPciTestImage('edu', imageDir('bench'));
let failed = 0;
process.stderr.write('bench: edu as dom0 ...\n');
const d0 = await bootGuest({ kernel: image, cmdline: 'bench', memoryMb: 256, timeoutS: 180, qemuArgs: ['-device', 'edu'] });
const f0 = figures(d0.consoleLines);
if (f0) report('dom0', f0);
else {
  failed++;
  console.error(`bench: dom0 run gave no figures (${d0.reason})\n${d0.consoleLines.join('\n')}`);
}
if (!process.argv.includes('--dom0-only')) {
  process.stderr.write('bench: edu as a DomU (full testbed) ...\n');
  const tb = await Testbed.start({ edu: true });
  try {
    const domu = await tb.createDomU({ name: 'edubench', kernel: image, memory: 32, pci: ['0000:00:03.0'], cmdline: 'bench' });
    const r = await domu.wait({ timeoutMs: 180_000 });
    const f1 = figures(r.console);
    if (f1) report('domU', f1);
    else {
      failed++;
      console.error(`bench: DomU run gave no figures (${r.reason})\n${r.console.join('\n')}`);
    }
  } finally {
    await tb.stop();
  }
}
process.exit(failed ? 1 : 0);
