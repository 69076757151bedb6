// Runs in the testbed's Linux dom0 (the host's node through `hostrun`): prepares edu for a
// DomU with this package's host side -- preparePassthrough(..., { assign: true }) -- and prints
// the outcome as one JSON line. Imports the bundle guest-domu.test.ts builds.
//
// usage: node prepare-edu.mjs BUNDLE_DIR XL_INFO_FILE STATE_DIR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [bundleDir, xlInfoFile, stateDir] = process.argv.slice(2);
const pci = await import(join(bundleDir, 'index.js'));
const EDU = '0000:00:03.0';
const options = { assign: true, stateDir, xlInfo: async () => readFileSync(xlInfoFile, 'utf8'), verifyTimeoutMs: 5000 };
let out;
try {
  const before = await pci.currentDriver(EDU);
  const prepared = await pci.preparePassthrough([EDU], options);
  out = { before, after: await pci.currentDriver(EDU), xlPciLine: prepared.xlPciLine, action: prepared.devices[0].assigned?.plan.action };
} catch (e) {
  out = { error: { code: e.code, message: e.message } };
}
console.log(JSON.stringify(out));
