/**
 * buildrump.sh's own test programs (its tests/ folder), built with its make wrapper against
 * the posix NetBSD build and run the way tests/testrump.sh runs them, but over this
 * project's librumpuser.so.0: it comes first on the loader path (the programs carry
 * DT_RUNPATH, which LD_LIBRARY_PATH overrides), and each test checks that ld.so really
 * resolves librumpuser.so.0 to ours.
 *
 * Out of scope: simpleclient, nettest_routed and nettest_routed6 need remote system calls
 * (rump_server, rumpclient: the sysproxy hypercalls), which librumpuser does not provide yet.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hypercallApiArtifacts } from '@rumpxen/hypercall-api';
import { buildNetbsd, type NetbsdBuild } from '../src/index.js';

let nb: NetbsdBuild;
let work: string;
/** Tags the processes of this file, so that daemonized servers can be found and ended. */
const tag = randomUUID();
const ourLibDir = join(hypercallApiArtifacts.librumpuserShared, '..');

beforeAll(async () => {
  nb = await buildNetbsd('posix', { cachedOnly: true });
  work = mkdtempSync(join(tmpdir(), 'buildrump-tests-'));
}, 30_000);

afterAll(() => {
  killTagged();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Ends every process still running with this file's tag (servers that daemonized). */
function killTagged(): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`RUMPXEN_TEST_TAG=${tag}`)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, LD_LIBRARY_PATH: ourLibDir, RUMPXEN_TEST_TAG: tag };
}

/**
 * Builds one of buildrump.sh's test programs as testrump.sh does; returns its object folder.
 * `vars` are make variables given on the command line (they override the Makefiles').
 */
function buildTest(name: string, vars: string[] = []): string {
  const src = join(nb.buildrumpDir, 'tests', name);
  const obj = join(work, name);
  const extradep = join(work, '.testrumpdepend');
  writeFileSync(extradep, '');
  for (const args of [[`MAKEOBJDIR=${obj}`, ...vars, 'obj'], [`MAKEOBJDIR=${obj}`, `DPSRCS=${extradep}`, ...vars, 'dependall']]) {
    const r = spawnSync(nb.rumpmake, args, { cwd: src, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`building ${name} (${args.join(' ')}) failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  }
  return obj;
}

/** An object defining rump_init_server as a refusal, in place of the sysproxy component. */
function noSysproxy(): string {
  const obj = join(work, 'no-sysproxy.o');
  if (!existsSync(obj)) {
    const src = join(work, 'no-sysproxy.c');
    writeFileSync(src, 'int rump_init_server(const char *url) { (void)url; return 78; /* NetBSD ENOSYS */ }\n');
    const r = spawnSync('cc', ['-fPIC', '-c', src, '-o', obj], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`compiling ${src} failed: ${r.stderr}`);
  }
  return obj;
}

function runIn(dir: string, cmd: string, args: string[] = []): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: env(), timeout: 120_000 });
}

function expectOk(r: SpawnSyncReturns<string>, what: string): void {
  expect(r.error, `${what}: ${String(r.error)}`).toBeUndefined();
  expect(r.status, `${what} exited ${r.status} (signal ${r.signal}):\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/** ld.so's own answer to where librumpuser.so.0 comes from for this program. */
function loadedRumpuser(program: string): string | undefined {
  const r = spawnSync(program, [], { encoding: 'utf8', env: { ...env(), LD_TRACE_LOADED_OBJECTS: '1' } });
  return /librumpuser\.so\.0 => (\S+)/.exec(r.stdout)?.[1];
}

describe("buildrump.sh's tests over the project's librumpuser.so.0", () => {
  it('init: bootstrap (rump_init)', () => {
    const obj = buildTest('init');
    expect(loadedRumpuser(join(obj, 'init'))).toBe(join(ourLibDir, 'librumpuser.so.0'));
    const r = runIn(obj, join(obj, 'init'));
    expectOk(r, 'init');
    expect(r.stdout + r.stderr).toMatch(/NetBSD \d+\.\d+/);
  }, 180_000);

  it('fstest: VFS', () => {
    const obj = buildTest('fstest');
    expect(loadedRumpuser(join(obj, 'fstest'))).toBe(join(ourLibDir, 'librumpuser.so.0'));
    expectOk(runIn(obj, join(obj, 'fstest')), 'fstest');
  }, 180_000);

  it('fstest_img: sysvbfs images through etfs (rumpuser_open/bio)', () => {
    const obj = buildTest('fstest_img');
    const images = join(work, 'images');
    mkdirSync(images, { recursive: true });
    for (const f of ['sysvbfs_be.img', 'sysvbfs_le.img']) copyFileSync(join(nb.buildrumpDir, 'tests', 'fstest_img', f), join(images, f));
    expect(loadedRumpuser(join(obj, 'fstest2'))).toBe(join(ourLibDir, 'librumpuser.so.0'));
    expectOk(runIn(obj, './fstest2', [images]), 'fstest2');
  }, 180_000);

  for (const [name, server, client] of [
    ['nettest_simple', 'server', 'client'],
    ['nettest_simple6', 'server6', 'client6'],
  ] as const) {
    it(`${name}: ${name.endsWith('6') ? 'IPv6' : 'IPv4'} between two rump kernels over shmif`, () => {
      // tests/Makefile.inc links the sysproxy component into every program "for historic
      // compat", and only the router roles call rump_init_server. librumpuser has no
      // sysproxy hypercalls yet, so the component is swapped, through its make variable, for
      // an object whose rump_init_server refuses (ENOSYS): the roles run here never call it.
      const obj = buildTest(name, [`RUMPKERN_SYSPROXY=${noSysproxy()}`]);
      expect(loadedRumpuser(join(obj, name))).toBe(join(ourLibDir, 'librumpuser.so.0'));
      rmSync(join(obj, 'busmem'), { force: true });
      try {
        // The server daemonizes (rump_daemonize_begin/done) once it listens; the client then talks to it.
        expectOk(runIn(obj, `./${name}`, [server]), `${name} ${server}`);
        expectOk(runIn(obj, `./${name}`, [client]), `${name} ${client}`);
      } finally {
        killTagged();
      }
    }, 240_000);
  }

  it('dynamic: components loaded at run time (rumpuser_dl_bootstrap)', () => {
    const obj = buildTest('dynamic');
    expect(loadedRumpuser(join(obj, 'dynamic'))).toBe(join(ourLibDir, 'librumpuser.so.0'));
    const r = runIn(obj, './dynamic');
    // testrump.sh treats 37 as "component load failed, skipping": here that is a failure.
    expectOk(r, 'dynamic');
  }, 180_000);
});
