/**
 * `run` picks one runner of four (src/run/{host,addon,xl,testbed}.ts) and loads the testbed
 * runner, and with it @rumpxen/xen-testbed, only for a run on the testbed: a posix run never
 * loads the testbed package, neither through the library (the testbed mocked here, its
 * factory counting loads) nor through the built CLI (a Node resolve hook logging every module).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { build, compileSources, resolveTarget, run } from '../src/index.js';
import { CLI, workdir } from './helpers.js';

const loads = vi.hoisted(() => ({ testbed: 0, booted: [] as string[] }));

vi.mock('@rumpxen/xen-testbed', () => {
  loads.testbed += 1;
  return {
    missingPackages: () => [],
    fetchAssets: () => undefined,
    bootGuest: async (o: { kernel: string; onConsoleLine?: (l: string) => void }) => {
      loads.booted.push(o.kernel);
      o.onConsoleLine?.('Test result: SUCCESS');
      return { exitCode: 0, verdict: 'SUCCESS', reason: 'the stand-in testbed' };
    },
    Testbed: { start: () => Promise.reject(new Error('no full testbed in this test')) },
  };
});

async function image(target: 'posix' | 'xen-pv', tag: string): Promise<string> {
  const def = resolveTarget(target);
  const dir = workdir(tag);
  writeFileSync(join(dir, 'main.c'), '#include <rumpuser.h>\nint main(void) { rumpuser_dprintf("hello\\n"); return 0; }\n');
  const objs = await compileSources([join(dir, 'main.c')], def, dir);
  return (await build({ inputs: objs, target: def, output: join(dir, `main.${target}`) })).output;
}

describe('run: one runner per place, the testbed loaded only for a run on it', () => {
  it('runs a posix image on the host without loading @rumpxen/xen-testbed; a run on the testbed loads it then', async () => {
    expect(loads.testbed).toBe(0); // importing the library did not load it
    const posix = await run({ image: await image('posix', 'run-posix'), timeoutS: 30 });
    expect(posix).toMatchObject({ ranOn: 'host', exitCode: 0 });
    expect(posix.console).toContain('hello');
    expect(loads.testbed).toBe(0);

    const pv = await image('xen-pv', 'run-pv');
    const onTestbed = await run({ image: pv, on: 'testbed', timeoutS: 30 });
    expect(loads.testbed).toBe(1);
    expect(loads.booted).toEqual([pv]);
    expect(onTestbed).toMatchObject({ ranOn: 'testbed', exitCode: 0, reason: 'the stand-in testbed' });
  });
});

describe('the built CLI', () => {
  it('runs a posix image without resolving @rumpxen/xen-testbed', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx nx run @rumpxen/image-linker:build)`);
    const img = await image('posix', 'run-cli');
    const dir = workdir('resolve-log');
    const log = join(dir, 'resolved.log');
    writeFileSync(log, '');
    // A resolve hook (it runs on the loader thread) appends every module URL the CLI resolves.
    writeFileSync(join(dir, 'hooks.mjs'), [
      "import { appendFileSync } from 'node:fs';",
      'let log;',
      'export function initialize(data) { log = data.log; }',
      'export async function resolve(specifier, context, next) {',
      '  const r = await next(specifier, context);',
      "  appendFileSync(log, r.url + '\\n');",
      '  return r;',
      '}',
    ].join('\n'));
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url, { data: { log: ${JSON.stringify(log)} } });\n`);
    const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), CLI, 'run', img, '--timeout', '30'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello');
    const resolved = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // The hook saw the CLI's own imports (so it works) and never the testbed's package.
    expect(resolved.some((u) => u.includes('/packages/protocol/'))).toBe(true);
    expect(resolved.filter((u) => u.includes('xen-testbed'))).toEqual([]);
  });
});
