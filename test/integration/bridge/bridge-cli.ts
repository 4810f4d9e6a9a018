/**
 * Runs `plexus bridge ...` with only the bridge command registered, as a child process of the
 * integration tests: `node --import tsx test/integration/bridge/bridge-cli.ts bridge --config f.yaml`.
 */
import { Command } from 'commander';
import { bridgeCommand } from '../../../src/cli/commands/bridge.js';
import { reportError } from '../../../src/cli/common.js';

const program = new Command('plexus').option('--debug', 'print stack traces of errors');
bridgeCommand(program);
program.exitOverride();
program
  .parseAsync(process.argv)
  .then(() => {
    process.exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  })
  .catch((err: unknown) => {
    process.exitCode = reportError(err, process.argv.includes('--debug'));
  });
