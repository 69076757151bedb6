// run --on xen through xen-control's addon: the RenderedConfig → DomainConfig mapping,
// checked by the addon's own validation (createRequest: what reaches the C side), on any host.
// The runs themselves are in xen-run.test.ts (a full testbed's dom0).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest } from '@rumpxen/xen-control';
import { describe, expect, it } from 'vitest';
import { renderConfig, toDomainConfig } from '../src/index.js';
import { workdir } from './helpers.js';

describe('RenderedConfig → the addon DomainConfig', () => {
  it('a PV image without devices takes the direct path, with the guest config as the same JSON', () => {
    const cfg = renderConfig({ image: '/imgs/hello.xen-pv', memoryMb: 40, vcpus: 2, env: ['A=1'], args: ['one', 'two words'] });
    const dc = toDomainConfig(cfg);
    expect(dc).toEqual({ name: 'hello.xen-pv', kernel: '/imgs/hello.xen-pv', type: 'pv', memory: 40, vcpus: 2, disks: [], vifs: [], pci: [], guestConfig: cfg.guest });
    const req = createRequest(dc);
    const spec = req.config;
    expect(req.direct).toBe(true);
    expect(spec.type).toBe('pv');
    expect(spec.memory).toBe(40);
    expect(spec.vcpus).toBe(2);
    // What the addon writes to rumpxen/cfg is byte for byte what xl's path writes.
    expect(spec.guestConfigJson).toBe(cfg.guestJson);
    expect(spec.cmdline).toBeUndefined();
  });

  it('disks, vifs and PCI devices take the libxl path, each field carried over', () => {
    const dir = workdir('addon-cfg');
    const disk = join(dir, 'd.img');
    writeFileSync(disk, Buffer.alloc(4096));
    const cfg = renderConfig({ image: '/imgs/app', disks: [`${disk},xvdc,ro`, disk], nets: ['xenbr0', '00:16:3e:00:00:07'], pci: ['0000:00:03.0'] });
    const dc = toDomainConfig(cfg);
    expect(dc.disks).toEqual([
      { target: disk, vdev: 'xvdc', readonly: true },
      { target: disk, vdev: cfg.disks[1]!.vdev, readonly: false },
    ]);
    // A net given by bridge only or MAC only leaves the other out (libxl picks it).
    expect(dc.vifs).toEqual([{ bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:07' }]);
    const req = createRequest(dc);
    const spec = req.config;
    expect(req.direct).toBe(false);
    expect(spec.disks.map((d) => [d.target, d.vdev, d.readonly])).toEqual([
      [disk, 'xvdc', true],
      [disk, cfg.disks[1]!.vdev, false],
    ]);
    expect(spec.vifs).toEqual([{ bridge: 'xenbr0' }, { mac: '00:16:3e:00:00:07' }]);
    expect(spec.pci).toEqual([{ bdf: '0000:00:03.0', domain: 0, bus: 0, dev: 3, func: 0, permissive: false }]);
  });

  it('a PVH image is a pvh domain, built by libxl', () => {
    const req = createRequest(toDomainConfig(renderConfig({ image: '/imgs/hello.xen-pvh', type: 'xen-pvh' })));
    expect(req.config.type).toBe('pvh');
    expect(req.direct).toBe(false);
  });
});
