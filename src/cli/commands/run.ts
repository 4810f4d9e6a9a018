import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import {
  createEngineIo,
  runLocal,
  runStatusName,
  statusName,
  type LocalRunResult,
} from '../../runtime/index.js';
import { createLogger, silentLogger } from '../../obs/index.js';
import { NodeStatus } from '../../store/index.js';
import { formatMs, parseParamOverrides, type CommandRegistrar } from '../common.js';
import { ProgressView } from '../progress.js';
import { pythonSettingsFromEnv } from '../python.js';

interface RunOptions {
  params?: string;
  keyspace: string;
  startNodes: string;
  param?: string[];
  stateDir: string;
  workers?: string;
  progress?: boolean;
}

export const runCommand: CommandRegistrar = (program: Command) => {
  program
    .command('run')
    .description('Run a script on this machine: embedded store, no servers')
    .argument('<script>', 'script file (.json or .yaml) or URL')
    .option('--params <file>', 'parameters file (.json or .yaml) or URL')
    .requiredOption(
      '--keyspace <name>',
      'run set name; a later run in the same keyspace continues from this one',
    )
    .requiredOption('--start-nodes <a,b>', 'comma-separated start nodes')
    .option('--param <key=value...>', 'override a parameter (repeatable)')
    .option('--state-dir <dir>', 'directory of the embedded store', '.plexus')
    .option('--workers <n>', 'batches processed at the same time (default: the number of CPUs)')
    .option('--no-progress', 'no live progress, plain log lines only')
    .addHelpText(
      'after',
      '\nState is kept in --state-dir (default: .plexus/ in the current directory), one database per keyspace.\n' +
        'Exit code 0 only when every node of the run succeeded.',
    )
    .action(async (script: string, opts: RunOptions) => {
      const workers = opts.workers === undefined ? os.availableParallelism() : Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1)
        throw new UserInputError('BAD_OPTION', `--workers ${opts.workers}: expected a positive integer`);
      const live = opts.progress !== false && process.stderr.isTTY === true;
      const view = new ProgressView(process.stderr, live);
      const logger = process.env.PLEXUS_LOG_LEVEL ? createLogger({ name: 'plexus' }) : silentLogger();
      // Ctrl-C stops the run (batches in flight finish); a second Ctrl-C quits at once.
      const abort = new AbortController();
      const onSigint = (): void => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping the run: batches in flight finish (Ctrl-C again to quit now)\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      const result = await runLocal({
        stateDir: path.resolve(opts.stateDir),
        ks: opts.keyspace,
        scriptUrl: script,
        paramsUrl: opts.params,
        overrides: parseParamOverrides(opts.param),
        startNodes: opts.startNodes.split(','),
        workers,
        io: createEngineIo(),
        python: pythonSettingsFromEnv(),
        logger,
        onStart: ({ runId, affectedNodes, script: loaded }) => {
          for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
          process.stderr.write(
            `run ${runId} in keyspace ${opts.keyspace}: ${affectedNodes.length} node(s), ${workers} worker(s)\n`,
          );
          view.start(affectedNodes);
        },
        onEvent: (e) => view.on(e),
        signal: abort.signal,
      }).finally(() => process.off('SIGINT', onSigint));
      view.stop();
      process.stdout.write(formatSummary(opts.keyspace, result));
      process.exitCode = result.ok ? 0 : 1;
    });
};

export function formatSummary(ks: string, r: LocalRunResult): string {
  const out: string[] = [];
  out.push(
    `run ${r.runId} in keyspace ${ks}: ${r.ok ? 'succeeded' : 'FAILED'} (${runStatusName(r.runStatus)}, ${formatMs(r.elapsedMs)})`,
  );
  const w = Math.max(4, ...r.nodes.map((n) => n.node.length));
  const tw = Math.max(4, ...r.nodes.map((n) => n.type.length));
  out.push(
    `  ${'NODE'.padEnd(w)}  ${'TYPE'.padEnd(tw)}  ${'STATUS'.padEnd(12)}  ${'BATCHES'.padEnd(9)}  ${'ROWS IN'.padStart(9)}  ${'ROWS OUT'.padStart(9)}  TIME`,
  );
  for (const n of r.nodes) {
    out.push(
      `  ${n.node.padEnd(w)}  ${n.type.padEnd(tw)}  ${statusName(n.status).padEnd(12)}  ${`${n.batchesFinished}/${n.batchesTotal}`.padEnd(9)}  ${String(n.rowsIn).padStart(9)}  ${String(n.rowsOut).padStart(9)}  ${formatMs(n.elapsedMs)}`,
    );
  }
  const failed = r.nodes.filter((n) => n.status !== NodeStatus.Success);
  for (const n of failed) {
    const byMessage = new Map<string, number[]>();
    for (const f of n.failures) {
      const prefix = `node ${n.node}: `;
      const message = f.message.startsWith(prefix) ? f.message.slice(prefix.length) : f.message;
      byMessage.set(message, [...(byMessage.get(message) ?? []), f.batchIdx]);
    }
    for (const [message, batches] of byMessage) {
      const which =
        batches.length === 1
          ? `batch ${batches[0]}`
          : `${batches.length} batches (${formatIndexes(batches)})`;
      out.push(`node ${n.node} ${which} failed: ${message}`);
    }
    if (n.failures.length === 0 && n.status === NodeStatus.None) out.push(`node ${n.node} did not run`);
  }
  for (const u of r.undelivered) out.push(`not processed: ${u}`);
  if (r.files.length > 0) {
    out.push('files written:');
    for (const f of r.files) out.push(`  ${f}`);
  }
  return out.join('\n') + '\n';
}

/** 0,1,2,5,7,8 → "0-2, 5, 7-8" */
function formatIndexes(list: readonly number[]): string {
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    let end = start;
    while (sorted[i + 1] === end + 1) end = sorted[++i]!;
    parts.push(start === end ? String(start) : `${start}-${end}`);
  }
  return parts.join(', ');
}
