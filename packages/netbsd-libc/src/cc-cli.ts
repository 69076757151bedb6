/** The `rumpxen-cc` command (bin/rumpxen-cc.js runs this built file): see cc.ts. */
import { ccMain } from './cc.js';

ccMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`rumpxen-cc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
