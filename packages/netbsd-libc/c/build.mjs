#!/usr/bin/env node
/**
 * Builds the layer under NetBSD's libc for xen-pv and xen-pvh: c/*.c compiled with the
 * target's application flags (the guest toolchain contract, @rumpxen/minios-binding's target
 * definitions) against the guest kernel's headers, archived as build/<target>/libnblibc.a.
 * Run by this package's build after tsup.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuestArchive, protocolIncludeDir } from '@rumpxen/protocol';
import { guestIncludeDir, xenPvhTarget, xenPvTarget } from '@rumpxen/minios-binding';
import { hypercallApiArtifacts } from '@rumpxen/hypercall-api';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = dirname(here);
const sources = readdirSync(here).filter((f) => f.endsWith('.c')).sort().map((f) => join(here, f));
for (const target of [xenPvTarget, xenPvhTarget]) {
  const archive = join(pkg, 'build', target.name, 'libnblibc.a');
  await buildGuestArchive({
    sources,
    cflags: [...target.cflags, '-std=gnu11', '-O2', '-g', '-fno-asynchronous-unwind-tables', '-Wall', '-Wextra', '-Werror'],
    compilerHeaders: true,
    includeDirs: [here, guestIncludeDir, protocolIncludeDir, hypercallApiArtifacts.includeDir],
    sourceRoot: here,
    archive,
  });
  console.log(archive);
}
