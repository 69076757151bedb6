#!/usr/bin/env node
// `npm start`: boot a NetBSD rump kernel in a Xen domain on the embedded testbed and print its
// console (examples/netbsd: banner, kern.ostype/osrelease, a file on tmpfs, TCP over lo0).
// The first run builds NetBSD for the image's target (minutes, with progress).
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
process.exit(run(linkerCli, ['run', join(root, 'examples', 'netbsd', 'rumpxen.json'), '-v']));
