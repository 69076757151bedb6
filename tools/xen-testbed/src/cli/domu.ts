// PLACEHOLDER written by the testbed foundation so the CLI builds; the full-mode engineer
// owns this file and replaces it (contract: export `command: CliCommand` from ./command.js).
import type { CliCommand } from './command.js';

export const command: CliCommand = {
  name: 'boot --domu',
  summary: 'full mode (not built yet)',
  help: 'Full mode (Linux dom0 with xl) is not built yet in this checkout.\n',
  async main() {
    process.stderr.write('rumpxen-testbed: full mode is not built yet in this checkout\n');
    return 1;
  },
};
