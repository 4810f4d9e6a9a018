import { Command } from 'commander';
import { bridgeCommand } from './commands/bridge.js';
import { controllerCommand } from './commands/controller.js';
import { dagCommand } from './commands/dag.js';
import { parquetCommand } from './commands/parquet.js';
import { protoFileReaderCreatorCommand } from './commands/proto-file-reader-creator.js';
import { runCommand } from './commands/run.js';
import { startRunCommand } from './commands/start-run.js';
import { statusCommand } from './commands/status.js';
import { stopRunCommand } from './commands/stop-run.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';
import { reportError, type CommandRegistrar } from './common.js';

/** Every command of the CLI; adding one is one line here (plus its file under commands/). */
const commands: readonly CommandRegistrar[] = [
  runCommand,
  validateCommand,
  dagCommand,
  bridgeCommand,
  workerCommand,
  startRunCommand,
  stopRunCommand,
  statusCommand,
  controllerCommand,
  protoFileReaderCreatorCommand,
  parquetCommand,
];

export function buildProgram(): Command {
  const program = new Command('plexus')
    .description(
      'Runs Capillaries data-pipeline scripts (locally: embedded store, no servers) and stream bridges',
    )
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError()
    // usage errors, --help and --version throw instead of exiting (subcommands inherit this)
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI with process-style argv (`[node, script, ...args]`); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    process.exitCode = undefined;
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, argv.includes('--debug'));
  }
}
