import { parseArgs } from 'node:util';
import { ALL_PACKAGES, ASSET_PACKAGES, type AssetName, cacheDir, fetchAssets } from '../assets.js';
import { type CliCommand, UsageError, withUsage } from './command.js';

export const command: CliCommand = {
  name: 'fetch',
  summary: 'download and unpack the Debian packages the testbed boots (Xen, dom0 kernel, tools)',
  help: `Usage: rumpxen-testbed fetch [--quiet] [--only ASSET]...

Fetches what is missing from the asset cache with 'apt-get download' and unpacks it with
'dpkg -x': ${ALL_PACKAGES.join(', ')}.
Derives xen (the gunzipped multiboot ELF of xen.gz) and vmlinux (the dom0 kernel's
uncompressed ELF). Installs qemu-system-x86 with apt-get when it is missing and we are root.
Packages already in the cache are not fetched again (no network needed).

Cache: $RUMPXEN_CACHE, else <repository>/.cache (now: ${cacheDir()}).

Options:
  --quiet        say nothing when nothing is missing
  --only ASSET   fetch only the packages of ASSET (repeatable): ${Object.keys(ASSET_PACKAGES).join(', ')}
  --help         this text
`,
  async main(argv) {
    const v = withUsage('fetch', () =>
      parseArgs({ args: argv, strict: true, allowPositionals: false, options: { quiet: { type: 'boolean' }, only: { type: 'string', multiple: true } } }),
    ).values;
    for (const a of v.only ?? []) {
      if (!(a in ASSET_PACKAGES)) throw new UsageError('fetch', `--only ${a}: unknown asset; known: ${Object.keys(ASSET_PACKAGES).join(', ')}`);
    }
    fetchAssets({ quiet: !!v.quiet, only: v.only as AssetName[] | undefined });
    return 0;
  },
};
