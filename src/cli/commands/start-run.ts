import path from 'node:path';
import type { Command } from 'commander';
import { createEngineIo, startRun } from '../../runtime/index.js';
import { loadScript } from '../../script/index.js';
import { parseParamOverrides, type CommandRegistrar } from '../common.js';
import { addConnectionOptions, keyspaceOf, openQueue, openStore, type ConnectionFlags } from './worker.js';

interface StartRunCliOptions extends ConnectionFlags {
  params?: string;
  keyspace?: string;
  startNodes: string;
  param?: string[];
  description?: string;
}

/** A local path as an absolute path (workers run elsewhere); URLs with a scheme stay as they are. */
export function absoluteUrl(url: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) ? url : path.resolve(url);
}

export const startRunCommand: CommandRegistrar = (program: Command) => {
  const cmd = program
    .command('start-run')
    .description('Start a run on the workers (Cassandra + RabbitMQ); prints the run id')
    .argument('<script>', 'script file or URL (path, file://, s3://, https://): the workers read it too')
    .option('--params <url>', 'parameters file or URL')
    .option('--keyspace <name>', 'run set (created on first use; default $PLEXUS_KEYSPACE)')
    .requiredOption('--start-nodes <a,b>', 'comma-separated start nodes')
    .option(
      '--param <key=value...>',
      'override a parameter (repeatable); recorded with the run for the workers',
    )
    .option('--description <text>', 'run description (wf_run_properties.run_description)');
  addConnectionOptions(cmd, true)
    .addHelpText(
      'after',
      '\nThe script is validated here first; the run is created only when it loads without errors.\n' +
        'Follow it with: plexus status --keyspace <ks> --run-id <id> --wait',
    )
    .action(async (script: string, opts: StartRunCliOptions) => {
      const ks = keyspaceOf(opts.keyspace);
      const scriptUrl = absoluteUrl(script);
      const paramsUrl = opts.params === undefined ? undefined : absoluteUrl(opts.params);
      const overrides = parseParamOverrides(opts.param);
      const io = createEngineIo();
      const loaded = await loadScript({
        scriptUrl,
        paramsUrl,
        overrides: Object.keys(overrides).length > 0 ? overrides : undefined,
        readText: (u) => io.readText(u),
      });
      for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
      const store = openStore(opts);
      const queue = openQueue(opts);
      try {
        const started = await startRun({
          store,
          queue,
          ks,
          script: loaded,
          startNodes: opts.startNodes.split(','),
          scriptUrl,
          paramsUrl,
          overrides,
          description: opts.description,
        });
        process.stderr.write(
          `run ${started.runId} started in keyspace ${ks}: ${started.affectedNodes.length} node(s): ${started.affectedNodes.join(', ')}\n`,
        );
        process.stdout.write(`${started.runId}\n`);
      } finally {
        await queue.close();
        await store.close();
      }
    });
};
