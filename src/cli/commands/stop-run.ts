import type { Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import { stopRun } from '../../runtime/index.js';
import type { CommandRegistrar } from '../common.js';
import { addConnectionOptions, intOption, keyspaceOf, openStore, type ConnectionFlags } from './worker.js';

interface StopRunCliOptions extends ConnectionFlags {
  keyspace?: string;
  runId: string;
  comment: string;
}

export const stopRunCommand: CommandRegistrar = (program: Command) => {
  const cmd = program
    .command('stop-run')
    .description(
      'Stop a run: batches in flight finish, the others are not processed; later runs do not read it',
    )
    .option('--keyspace <name>', 'run set (default $PLEXUS_KEYSPACE)')
    .requiredOption('--run-id <n>', 'run to stop')
    .option('--comment <text>', 'reason, recorded in wf_run_history', 'stopped by plexus stop-run');
  addConnectionOptions(cmd, false).action(async (opts: StopRunCliOptions) => {
    const ks = keyspaceOf(opts.keyspace);
    const runId = intOption('--run-id', opts.runId, 0, 1, 2 ** 31 - 1);
    const store = openStore(opts);
    try {
      if (!(await store.keyspaceExists(ks))) {
        throw new UserInputError('KEYSPACE_NOT_FOUND', `keyspace ${ks} does not exist`);
      }
      const stopped = await stopRun(store, ks, runId, opts.comment);
      process.stdout.write(
        stopped
          ? `run ${runId} in keyspace ${ks} stopped\n`
          : `run ${runId} in keyspace ${ks} was already stopped\n`,
      );
    } finally {
      await store.close();
    }
  });
};
