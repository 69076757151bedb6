import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImageLinkerError, buildProject, inspect, loadManifest, validateManifest } from '../src/index.js';
import { COMPONENT_C, FREESTANDING, archive, cli, compile, targetFile, workdir } from './helpers.js';

describe('manifest', () => {
  it('resolves paths against its folder and fills defaults', () => {
    const m = validateManifest({ target: 'xen-pv', inputs: ['obj/main.o'], components: ['lib/librumpvfs.a', 'rumpnet'], memory: 32, devices: { nets: ['xenbr0'] } }, '/p/app/rumpxen.json');
    expect(m).toMatchObject({
      dir: '/p/app',
      name: 'app',
      target: 'xen-pv',
      inputs: ['/p/app/obj/main.o'],
      components: ['/p/app/lib/librumpvfs.a', 'rumpnet'],
      output: '/p/app/build/app.xen-pv',
      memory: 32,
      devices: { disks: [], nets: ['xenbr0'], pci: [] },
      env: {},
      args: [],
    });
  });

  it('names the key and the fix for each kind of mistake', () => {
    const msg = (data: unknown) => {
      try {
        validateManifest(data, 'rumpxen.json');
      } catch (e) {
        expect(e).toBeInstanceOf(ImageLinkerError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(msg([])).toMatch(/^rumpxen\.json: is not a JSON object\./);
    expect(msg({ target: 'xen-pv', inputs: 'main.o' })).toMatch(/key "inputs": must be a list of non-empty strings, not "main\.o"\. Write a list of object/);
    expect(msg({ target: 'xen', inputs: [] })).toMatch(/key "target": is "xen", which is not a target\. Write one of "xen-pv"/);
    expect(msg({ target: 'posix' })).toMatch(/key "inputs": is missing/);
    expect(msg({ target: 'posix', inputs: ['a.o'], env: { A: 1 } })).toMatch(/key "env": must be an object whose values are strings/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { disks: [42] } })).toMatch(/key "devices\.disks\[0\]": is 42, which is not a disk description/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { disks: [{ file: 'd.img', vdev: 2 }] } })).toMatch(/key "devices\.disks\[0\]": is \{"file":"d\.img","vdev":2\}, which is not a disk description\. Write "FILE\[,vdev\]\[,ro\]" or/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { disks: [{ file: 'd.img', readonly: 'yes' }] } })).toMatch(/key "devices\.disks\[0\]"/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { nets: [{}] } })).toMatch(/key "devices\.nets\[0\]": is \{\}, which is not a net description\. Write "xenbr0"/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { nets: [{ brige: 'xenbr0' }] } })).toMatch(/key "devices\.nets\[0\]"/);
    expect(msg({ target: 'posix', inputs: ['a.o'], devices: { pci: [3] } })).toMatch(/key "devices\.pci\[0\]": is 3, which is not a PCI device description\. Write a BDF/);
    expect(msg({ target: 'posix', inputs: ['a.o'], name: 'my app' })).toMatch(/key "name": is "my app", which Xen does not accept/);
    expect(msg({ target: 'posix', inputs: ['a.o'], gcsections: true })).toMatch(/key "gcsections": is not a manifest key\. Did you mean "gcSections"\?/);
    expect(msg({ target: 'posix', sources: ['nope.c'] })).toMatch(/key "sources\[0\]": names \S*nope\.c, which does not exist/);
  });

  it('builds from sources, inputs and components (CLI and library agree)', async () => {
    const dir = workdir('manifest');
    targetFile(dir, 'pv'); // ../target-pv.json, named by the manifest
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'main.c'), 'long touch_vfs(void);\nint main(void) { return (int)touch_vfs(); }\n');
    const lib = archive(dir, 'librumpvfs.a', [compile(dir, 'vfs.c', COMPONENT_C('vfs'), FREESTANDING)]);
    const file = join(dir, 'app', 'rumpxen.json');
    writeFileSync(file, JSON.stringify({ name: 'demo', target: '../target-pv.json', sources: ['main.c'], components: ['../librumpvfs.a'], gcSections: true }));
    const r = await buildProject(loadManifest(file));
    expect(r.output).toBe(join(dir, 'app', 'build', 'demo.xen-pv'));
    const rep = await inspect(r.output);
    expect(rep.inputs.map((i) => i.input)).toEqual(expect.arrayContaining([lib, join(dir, 'app', 'build', 'obj', 'main.xen-pv.o')]));
    expect(r.linkSets).toEqual(['link_set_modules']);
    const c = cli(['build', file, '-o', join(dir, 'cli.img')]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim()).toBe(join(dir, 'cli.img'));
    expect(existsSync(join(dir, 'cli.img'))).toBe(true);
  });
});
