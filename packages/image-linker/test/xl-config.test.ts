/**
 * The domain configs against the real toolstack: in a full testbed's dom0, `xl create -n`
 * (dry run) must accept our xl.cfg with a disk, a vif and the testbed's PCI device, and the
 * libxl JSON it derives must agree with ours; then our xl.cfg really starts hello (`xl create -c`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testbed, EDU_BDF } from '@rumpxen/xen-testbed';
import { describe, expect, it } from 'vitest';
import { buildProject, loadManifest, renderConfig } from '../src/index.js';
import { workdir } from './helpers.js';

const HELLO = join(__dirname, '..', '..', '..', 'examples', 'hello', 'rumpxen.json');

describe('xl accepts the rendered config', () => {
  it('dry run agrees with our libxl JSON; the xl.cfg boots hello', async () => {
    const dir = workdir('xl');
    const img = await buildProject(loadManifest(HELLO), { target: 'xen-pv', output: join(dir, 'hello.xen-pv') });
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20));
    const withDevices = renderConfig({ image: img.output, name: 'hello-dev', memoryMb: 32, disks: [`${disk},xvda,ro`], nets: ['xenbr0', '00:16:3e:00:00:07'], pci: [EDU_BDF], env: ['A=1'], args: ['one'] });
    writeFileSync(join(dir, 'dev.cfg'), withDevices.xl);
    const plain = renderConfig({ image: img.output, name: 'hello-run', memoryMb: 32, args: ['via-xl-cfg'] });
    writeFileSync(join(dir, 'run.cfg'), plain.xl);
    const tb = await Testbed.start({ shareDir: dir });
    try {
      const dry = await tb.dom0.exec(`xl -v create -n ${join(dir, 'dev.cfg')} 2>/dev/null`, { timeoutMs: 60_000 });
      expect(dry.code).toBe(0);
      const theirs = JSON.parse(dry.stdout);
      const ours = JSON.parse(withDevices.libxl);
      expect(theirs.c_info.name).toBe(ours.c_info.name);
      expect(theirs.c_info.type).toBe(ours.c_info.type);
      for (const k of ['kernel', 'cmdline', 'max_memkb', 'target_memkb', 'max_vcpus']) expect(theirs.b_info[k], k).toBe(ours.b_info[k]);
      expect(theirs.b_info['type.pv']).toBeDefined();
      expect(theirs.disks.map((d: { pdev_path: string; vdev: string }) => [d.pdev_path, d.vdev])).toEqual(ours.disks.map((d: { pdev_path: string; vdev: string }) => [d.pdev_path, d.vdev]));
      expect(theirs.disks[0].readwrite ?? 0).toBe(ours.disks[0].readwrite);
      // xl fills in the default bridge (xenbr0) for the MAC-only vif.
      expect(theirs.nics.map((n: { bridge?: string; mac?: string }) => [n.bridge, n.mac ?? null])).toEqual([['xenbr0', null], ['xenbr0', '00:16:3e:00:00:07']]);
      expect(ours.nics).toEqual([{ bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:07' }]);
      expect(theirs.pcidevs.map((p: { dev?: number; bus?: number; func?: number }) => [p.bus ?? 0, p.dev ?? 0, p.func ?? 0])).toEqual(ours.pcidevs.map((p: { bus: number; dev: number; func: number }) => [p.bus, p.dev, p.func]));
      const ran = await tb.dom0.exec(`timeout 90 xl create -c ${join(dir, 'run.cfg')} 2>&1`, { timeoutMs: 120_000 });
      expect(ran.stdout).toContain('hello: argv[1] = via-xl-cfg');
      expect(ran.stdout).toContain('Test result: SUCCESS');
    } finally {
      await tb.stop();
    }
  }, 300_000);
});
