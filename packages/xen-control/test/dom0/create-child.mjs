// Started by xen-check.mjs in dom0: begins a domain create and is then killed (or throws)
// while the create is in flight.  With RUMPXEN_TEST_CREATE_DELAY_MS set, the create holds
// the domain half-built (after the build, before unpause) for that long.
//   node create-child.mjs --engine direct|libxl --kernel PATH --name NAME [--throw]
// --throw: once the parent says it has seen the domain (a line on stdin), throw an uncaught
// exception (the process exits with 1). The parent, not the child, decides when: otherwise the
// child may throw and destroy the domain before the parent's own listing has seen it.
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
  process.stdin.once('data', () => {
    throw new Error('create-child: an uncaught exception, on purpose, while the create is in flight');
  });
}
