#!/usr/bin/env node
// `npm start`: build the hello example and boot it on the embedded testbed, printing its console.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testbedCli = join(root, 'tools', 'xen-testbed', 'dist', 'cli.js');
const linkerCli = join(root, 'packages', 'image-linker', 'dist', 'cli.js');
const run = (cli, args) => spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root }).status ?? 1;

for (const [cli, pkg] of [[testbedCli, '@rumpxen/xen-testbed'], [linkerCli, '@rumpxen/image-linker']]) {
  if (!existsSync(cli)) {
    console.error(`start: ${cli} is missing: build first (\`npm run build\`, or \`npx nx run ${pkg}:build\`; \`npm start\` does both)`);
    process.exit(1);
  }
}
if (run(testbedCli, ['fetch', '--quiet']) !== 0) process.exit(1);
process.exit(run(linkerCli, ['run', join(root, 'examples', 'hello', 'rumpxen.json')]));
