// Runs in the testbed's Linux dom0 (under the host's node, chrooted onto the host's / with
// dom0's /sys bound in): one step of the assignment round trip against the real kernel and
// xen-pciback, printing the outcome as one JSON line. Imports the bundle the test builds.
//
// usage: node steps.mjs STEP BUNDLE_DIR XL_INFO_FILE STATE_DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [step, bundleDir, xlInfoFile, stateDir] = process.argv.slice(2);
const pci = await import(join(bundleDir, 'index.js'));
const EDU = '0000:00:03.0';
const xlInfo = async () => readFileSync(xlInfoFile, 'utf8');
const base = { stateDir, xlInfo, verifyTimeoutMs: 5000 };

const json = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
const report = async (extra = {}) => ({
  driver: await pci.currentDriver(EDU),
  state: await pci.readAssignmentState(EDU, base),
  pcibackSlots: readFileSync('/sys/bus/pci/drivers/pciback/slots', 'utf8'),
  ...extra,
});
const failure = (e) => ({ error: { name: e.name, code: e.code, message: e.message } });

let out;
try {
  switch (step) {
    case 'inspect': {
      const devices = await pci.listDevices();
      const { device, config } = await pci.inspectDevice(EDU);
      out = { bdfs: devices.map((d) => d.bdf), device, config, iommu: await pci.detectIommu({ xlInfo }) };
      break;
    }
    case 'inspect-all': {
      const devices = await pci.listDevices();
      out = { entries: await Promise.all(devices.map((d) => pci.inspectDevice(d.bdf))) };
      break;
    }
    case 'assert':
      try {
        await pci.assertAssignable(EDU);
        out = await report({ assignable: true });
      } catch (e) {
        out = await report(failure(e));
      }
      break;
    case 'restore-to-stub':
      out = await report({ result: (await pci.restore(EDU, { ...base, driver: 'pci-stub' })).plan });
      break;
    case 'assign-faulty': {
      // The real kernel, with pciback's bind made to fail: the executor must undo the unbind
      // and new_slot it already did.
      const writeAttribute = async (path, value) => {
        if (path.endsWith('/pciback/bind')) {
          const e = new Error('injected failure');
          e.code = 'EIO';
          throw e;
        }
        writeFileSync(path, value);
      };
      try {
        await pci.makeAssignable(EDU, { ...base, writeAttribute });
        out = await report({ unexpectedSuccess: true });
      } catch (e) {
        out = await report(failure(e));
      }
      break;
    }
    case 'assign':
      out = await report({ result: (await pci.makeAssignable(EDU, base)).plan });
      break;
    case 'restore':
      out = await report({ result: (await pci.restore(EDU, base)).plan });
      break;
    case 'missing':
      try {
        await pci.makeAssignable('0000:00:1f.7', base);
        out = { unexpectedSuccess: true };
      } catch (e) {
        out = failure(e);
      }
      break;
    default:
      throw new Error(`unknown step '${step}'`);
  }
} catch (e) {
  out = failure(e);
}
console.log(json(out));
