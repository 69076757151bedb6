/**
 * The httpd DomU (examples/httpd): httpd.c with NetBSD's libc (`"libc": "netbsd"`), components
 * net_netinet, net_virtif, net_config, dev_bpf and fs_ffs. A folder (examples/httpd/www plus a
 * 5 MiB file of random bytes) becomes an FFS image with the image-linker's makeFfsImage
 * (Debian's makefs); the DomU gets it as a read-only vbd xvda and a vif on the testbed's
 * bridge xenbr0 (dom0 is 10.77.0.1), mounts it on /www and serves it on port 80. The requests
 * come from dom0: examples/httpd/client.mjs run by the host's node there (`hostrun`).
 *
 * Per target (xen-pv, xen-pvh), static address 10.77.0.2/24, FFSv2: index page, directory
 * listing, keep-alive, HEAD, the 5 MiB file's sha256, 404, 400 for a malformed request line,
 * ".." traversal refused, 16 concurrent clients, still serving after clients that reset the
 * connection mid-transfer. Then DHCP mode (busybox udhcpd in dom0), FFSv1.
 *
 * One file, so its QEMU boots run one after another.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostTool, buildNetbsd } from '@rumpxen/netbsd-build';
import type { Testbed } from '@rumpxen/xen-testbed';
import { buildProject, ImageLinkerError, loadManifest, makeFfsImage } from '../src/index.js';
import { startUdhcpd } from './dom0-udhcpd.js';
import { fullTestbed } from './full-testbed.js';
import { workdir } from './helpers.js';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'httpd');
const CLIENT = join(EXAMPLE, 'client.mjs');
const DOMU_ADDR = '10.77.0.2';
const BIG = 5 * 1024 * 1024;
const POOL_FIRST = 100;
const POOL_LAST = 110;
type Target = 'xen-pv' | 'xen-pvh';
type DomU = Awaited<ReturnType<Testbed['createDomU']>>;

const images = {} as Record<Target, string>;
const disks = {} as Record<'v1' | 'v2', string>;
let bigSha = '';
let indexSha = '';
let workDir = '';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await buildNetbsd('xen-pv', { cachedOnly: true });
  const dir = workdir('httpd');
  workDir = dir;
  const m = loadManifest(join(EXAMPLE, 'rumpxen.json'));
  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    const b = await buildProject(m, { target, output: join(dir, `httpd.${target}`) });
    expect(b.components).toEqual(expect.arrayContaining(['net_netinet', 'net_virtif', 'net_config', 'dev_bpf', 'fs_ffs', 'vfs', 'rump']));
    images[target] = b.output;
  }
  const www = join(dir, 'www');
  cpSync(join(EXAMPLE, 'www'), www, { recursive: true });
  const big = randomBytes(BIG);
  writeFileSync(join(www, 'big.bin'), big);
  bigSha = sha256(big);
  indexSha = sha256(readFileSync(join(www, 'index.html')));
  disks.v2 = makeFfsImage(www, join(dir, 'www-ffs2.img')).image;
  disks.v1 = makeFfsImage(www, join(dir, 'www-ffs1.img'), { ffsVersion: 1 }).image;
}, 600_000);

describe('image-linker mkfs: FFS images from a folder (Debian\'s makefs)', () => {
  it('makes FFSv1 and FFSv2 images that NetBSD\'s fsck_ffs finds clean, holding every byte of the folder', async () => {
    const fsck = await buildHostTool('fsck_ffs');
    for (const img of [disks.v1, disks.v2]) {
      const r = spawnSync(fsck.path, ['-n', '-f', img], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Phase 5 - Check Cyl groups/);
      // The 5 MiB file is in there: the image is at least that big, and fsck counts the files.
      expect(readFileSync(img).length).toBeGreaterThan(BIG);
      expect(r.stdout).toMatch(/^\d+ files, /m);
    }
    // The superblock's fs_magic (offset 1372) says which version: FS_UFS1_MAGIC or FS_UFS2_MAGIC.
    // makefs puts both superblocks at 8 KiB (NetBSD looks there too, after 64 KiB, for UFS2).
    expect(readFileSync(disks.v1).readUInt32LE(8192 + 1372).toString(16)).toBe('11954');
    expect(readFileSync(disks.v2).readUInt32LE(8192 + 1372).toString(16)).toBe('19540119');
  }, 300_000);

  it('refuses a missing folder and names the package when makefs is missing; leaves nothing behind', () => {
    expect(() => makeFfsImage(join(workDir, 'no-such-folder'), join(workDir, 'x.img'))).toThrow(/is not a folder/);
    let err: unknown;
    try {
      makeFfsImage(join(workDir, 'www'), join(workDir, 'y.img'), { makefs: '/nonexistent/makefs' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageLinkerError);
    expect((err as Error).message).toMatch(/makefs: was not found .*apt-get install makefs/);
    expect(existsSync(join(workDir, 'x.img')) || existsSync(join(workDir, 'y.img'))).toBe(false);
    expect(readdirSync(workDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('works from the CLI: image-linker mkfs FOLDER IMAGE --ffs 1, and exit 2 naming a bad --ffs', () => {
    const bin = join(__dirname, '..', 'bin', 'image-linker.js');
    const out = join(workDir, 'cli.img');
    const ok = spawnSync(process.execPath, [bin, 'mkfs', join(EXAMPLE, 'www'), out, '--ffs', '1'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(`${out} (1048576 bytes)`);
    expect(readFileSync(out).readUInt32LE(8192 + 1372).toString(16)).toBe('11954');
    const bad = spawnSync(process.execPath, [bin, 'mkfs', join(EXAMPLE, 'www'), out, '--ffs', '3'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--ffs 3: is not an FFS version/);
  });
});

interface Resp { path: string; status: number; headers: Record<string, string>; length: number; sha256: string; text: string }

describe('httpd in Xen DomUs: an FFS image on a read-only vbd, served over netfront', () => {
  const testbed = fullTestbed();

  /** Runs client.mjs in dom0; its parsed JSON (an exchange that failed fails the test). */
  async function client(domu: DomU, args: string, timeoutMs = 300_000): Promise<Record<string, unknown>> {
    const r = await testbed().dom0.exec(`hostrun '${process.execPath}' '${CLIENT}' ${args}`, { timeoutMs });
    const m = /^httpd-client: (\{.*\})$/m.exec(r.stdout);
    const why = `client ${args}: ${r.stdout}${r.stderr}\n--- DomU:\n${domu.lines.slice(-30).join('\n')}`;
    expect(m, why).toBeTruthy();
    const out = JSON.parse(m![1]!) as Record<string, unknown>;
    expect(out.error, why).toBeUndefined();
    expect(r.code, why).toBe(0);
    return out;
  }

  async function startDomU(target: Target, disk: string, cmdline: string): Promise<DomU> {
    const domu = await testbed().createDomU({
      kernel: images[target], memory: 64, type: target === 'xen-pvh' ? 'pvh' : 'pv',
      cmdline, vifs: 1, disks: [{ file: disk, vdev: 'xvda', readonly: true }],
    });
    await domu.waitForLine(/^httpd: serving |^rumpxen: exit|^Test result:/, 240_000).catch((e: Error) => {
      throw new Error(`${e.message}\n--- DomU:\n${domu.lines.join('\n')}`);
    });
    const text = domu.lines.join('\n');
    expect(text).toMatch(/^httpd: mounted \/dev\/xvda \(ffs, read-only\) on \/www$/m);
    return domu;
  }

  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    describe(`${target}, static address`, () => {
      let domu: DomU | undefined;
      const d = () => {
        if (!domu) throw new Error('the DomU did not start (see beforeAll)');
        return domu;
      };
      const url = `${DOMU_ADDR} 80`;
      beforeAll(async () => {
        domu = await startDomU(target, disks.v2, `static ${DOMU_ADDR}/24`);
        expect(domu.lines.join('\n')).toMatch(new RegExp(`^httpd: serving /www on http://${DOMU_ADDR.replace(/\./g, '\\.')}:80/$`, 'm'));
      }, 300_000);
      afterAll(async () => {
        await domu?.destroy().catch(() => undefined);
      });

      it('serves index.html for /, lists a folder without one, redirects a folder without its slash, answers HEAD: all on one keep-alive connection', async () => {
        const out = await client(d(), `get ${url} / /docs/ /docs /docs/hello.txt`);
        const [index, docs, redirect, hello] = out.responses as Resp[];
        expect(index!.status).toBe(200);
        expect(index!.headers['content-type']).toMatch(/^text\/html/);
        expect(index!.sha256).toBe(indexSha);
        expect(docs!.status).toBe(200);
        expect(docs!.text).toContain('Index of /docs/');
        expect(docs!.text).toContain('<a href="hello.txt">hello.txt</a>');
        expect(docs!.text).toContain('<a href="about.txt">about.txt</a>');
        expect(redirect!.status).toBe(301);
        expect(redirect!.headers.location).toBe('/docs/');
        expect(hello!.text).toBe(readFileSync(join(EXAMPLE, 'www', 'docs', 'hello.txt'), 'utf8'));
        for (const r of [index, docs, redirect, hello]) expect(r!.headers.connection).toBe('keep-alive');
        const head = await client(d(), `get ${url} --head /big.bin`);
        const h = (head.responses as Resp[])[0]!;
        expect([h.status, h.headers['content-length'], h.length]).toEqual([200, String(BIG), 0]);
      }, 300_000);

      it('sends the 5 MiB file whole (sha256 compared)', async () => {
        const t0 = Date.now();
        const out = await client(d(), `get ${url} /big.bin`);
        const r = (out.responses as Resp[])[0]!;
        expect([r.status, r.length, r.sha256]).toEqual([200, BIG, bigSha]);
        console.log(`${target}: 5 MiB file in ${((Date.now() - t0) / 1000).toFixed(1)} s (client start included)`);
      }, 300_000);

      it('answers 404 for a missing path and 400 for a malformed request line (then closes)', async () => {
        const out = await client(d(), `get ${url} /no/such/file /docs/missing.txt`);
        expect((out.responses as Resp[]).map((r) => r.status)).toEqual([404, 404]);
        for (const bad of ['GARBAGE\\r\\n\\r\\n', 'GET /\\r\\n\\r\\n', 'GET / HTTP/1.1 extra\\r\\n\\r\\n', 'GET / FTP/1.0\\r\\n\\r\\n']) {
          const raw = await client(d(), `raw ${url} '${bad}'`);
          expect(raw.statusLine, bad).toBe('HTTP/1.1 400 Bad Request');
          expect(raw.reply as string).toMatch(/\r\nConnection: close\r\n/);
        }
      }, 300_000);

      it('refuses ".." traversal out of the served folder', async () => {
        const paths = ['/../', '/docs/../../dev/', '/%2e%2e/', '/docs/%2E%2E/%2e%2e/dev/xvda', '/..%2f..%2fdev/'];
        const out = await client(d(), `get ${url} ${paths.join(' ')}`);
        for (const r of out.responses as Resp[]) {
          expect([403, 404], `${r.path}: ${r.status}`).toContain(r.status);
          expect(r.text).not.toContain('Index of');
        }
      }, 300_000);

      it('serves 16 concurrent clients the 5 MiB file, every copy whole', async () => {
        const out = await client(d(), `concurrent ${url} 16 /big.bin`, 600_000);
        const results = out.results as { status: number; length: number; sha256: string }[];
        expect(results).toHaveLength(16);
        for (const r of results) expect([r.status, r.length, r.sha256]).toEqual([200, BIG, bigSha]);
        console.log(`${target}: 16 concurrent clients, 80 MiB in ${(Number(out.ms) / 1000).toFixed(1)} s`);
      }, 600_000);

      it('keeps serving after clients that reset the connection mid-transfer', async () => {
        for (let i = 0; i < 3; i++) {
          const a = await client(d(), `abort ${url} /big.bin 65536`);
          expect(a.status).toBe(200);
          expect(Number(a.read)).toBeLessThan(BIG);
        }
        const out = await client(d(), `get ${url} /big.bin /`);
        const [big, index] = out.responses as Resp[];
        expect([big!.status, big!.sha256, index!.status, index!.sha256]).toEqual([200, bigSha, 200, indexSha]);
        // The server saw them go (EPIPE or ECONNRESET from send with MSG_NOSIGNAL), and lived.
        expect(d().lines.join('\n')).toMatch(/^httpd: a client left mid-response \((Broken pipe|Connection reset by peer)\); \d+ so far$/m);
        expect(d().lines.join('\n')).not.toMatch(/^rumpxen: exit|panic/m);
      }, 300_000);
    });
  }

  for (const target of ['xen-pv', 'xen-pvh'] as const) {
    it(`${target}: DHCP mode takes its address from dom0's udhcpd and serves an FFSv1 image there`, async () => {
      const tb = testbed();
      const udhcpd = await startUdhcpd(tb, `httpd-udhcpd-${target}`, POOL_FIRST, POOL_LAST);
      let domu: DomU | undefined;
      try {
        domu = await startDomU(target, disks.v1, 'dhcp');
        const text = domu.lines.join('\n');
        const m = /^httpd: virt0 dhcp address (\d+\.\d+\.\d+\.\d+) netmask (\S+)$/m.exec(text);
        expect(m, text).toBeTruthy();
        const addr = m![1]!;
        const last = Number(addr.split('.')[3]);
        expect(addr.startsWith('10.77.0.'), text).toBe(true);
        expect(last).toBeGreaterThanOrEqual(POOL_FIRST);
        expect(last).toBeLessThanOrEqual(POOL_LAST);
        expect(m![2]).toBe('255.255.255.0');
        expect(text).toContain(`httpd: serving /www on http://${addr}:80/`);
        const out = await client(domu, `get ${addr} 80 / /big.bin`);
        const [index, big] = out.responses as Resp[];
        expect([index!.status, index!.sha256, big!.status, big!.sha256]).toEqual([200, indexSha, 200, bigSha]);
        console.log(`${target}: DHCP lease ${addr}, served index.html and the 5 MiB file from FFSv1`);
      } finally {
        await domu?.destroy().catch(() => undefined);
        await udhcpd.stop();
      }
    }, 600_000);
  }
});


