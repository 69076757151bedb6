#!/usr/bin/env node
// The `image-linker` command. npm links a package's bins into node_modules/.bin when it
// installs, only for bin files that exist then, and dist/ is built after the install; so the
// bin is this committed file, which runs the built CLI (dist/cli.js runs main on import and
// sets process.exitCode, so its exit code is this process's).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
const fix = 'build it: `npm run build` at the repository root, or `npx nx run @rumpxen/image-linker:build`';
if (!existsSync(cli)) {
  process.stderr.write(`image-linker: @rumpxen/image-linker is not built (${fileURLToPath(cli)} is missing); ${fix}\n`);
  process.exit(1);
}
try {
  await import(cli.href);
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  process.stderr.write(`image-linker: the built CLI cannot be loaded (${e.message.split('\n')[0]}); ${fix}\n`);
  process.exit(1);
}
