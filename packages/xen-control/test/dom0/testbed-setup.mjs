// Shared by test/xen-full.test.ts and bench/: the DomU fixture. (The testbed's dom0 itself
// gives the host's node, chrooted by `hostrun`, libxl's state folders and xenstored's socket.)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture } from '@rumpxen/xen-testbed';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The testbed's PV fixture as a DomU (writes to its console ring; its command line picks
// `hang`, `crash` or `result=WORD`, otherwise it powers off after three lines).
/** Builds the testbed's PV fixture into build/fixtures/fixture-pv.elf and returns its path. */
export function buildDomUFixture() {
  return buildFixture({ kind: 'pv', outDir: join(PACKAGE_DIR, 'build', 'fixtures') });
}
