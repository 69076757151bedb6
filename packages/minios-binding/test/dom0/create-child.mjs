// Started by xen-check.mjs in dom0: begins a domain create and is then killed (or throws)
// while the create is in flight.  With RUMPXEN_TEST_CREATE_DELAY_MS set, the create holds
// the domain half-built (after the build, before unpause) for that long.
//   node create-child.mjs --engine direct|libxl --kernel PATH --name NAME [--throw]
// --throw: once the domain is listed, throw an uncaught exception (the process exits with 1).
import { Xen } from '../../dist/index.js';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const name = opt('--name');
const xen = await Xen.open();
process.stderr.write(`create-child: creating ${name}\n`);
xen.domains.create({ name, kernel: opt('--kernel'), memory: 16, cmdline: 'hang', engine: opt('--engine') }).then(
  (d) => process.stdout.write(`created ${d.domid}\n`),
  (e) => process.stdout.write(`rejected ${e.message}\n`),
);
if (args.includes('--throw')) {
  for (;;) {
    if ((await xen.domains.list()).some((d) => d.name === name)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  setTimeout(() => {
    throw new Error('create-child: an uncaught exception, on purpose, while the create is in flight');
  }, 0);
}
