#!/usr/bin/env node
// The `rumpxen-cc` command. npm links a package's bins into node_modules/.bin when it installs,
// only for bin files that exist then, and dist/ is built after the install; so the bin is this
// committed file, which runs the built driver (dist/cc-cli.js runs on import and sets
// process.exitCode, so its exit code is this process's).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cc-cli.js', import.meta.url);
const fix = 'build it: `npm run build` at the repository root, or `npx nx run @rumpxen/netbsd-libc:build`';
if (!existsSync(cli)) {
  process.stderr.write(`rumpxen-cc: @rumpxen/netbsd-libc is not built (${fileURLToPath(cli)} is missing); ${fix}\n`);
  process.exit(1);
}
try {
  await import(cli.href);
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write(`rumpxen-cc: the built driver cannot be loaded (${e.message.split('\n')[0]}); ${fix}\n`);
  process.exit(1);
}
