import type { Command } from 'commander';
import { PlexusError, UserInputError } from '../../errors/index.js';
import { listRuns, runReport, runStatusName, statusName, type RunReport } from '../../runtime/index.js';
import { RunStatus, type Store } from '../../store/index.js';
import { formatMs, type CommandRegistrar } from '../common.js';
import { addConnectionOptions, intOption, keyspaceOf, openStore, type ConnectionFlags } from './worker.js';

interface StatusCliOptions extends ConnectionFlags {
  keyspace?: string;
  runId?: string;
  wait?: boolean;
  interval: string;
  timeout?: string;
  json?: boolean;
}

function iso(d: Date | undefined): string {
  return d ? d.toISOString() : '-';
}

/** One line verdict of a run. */
export function verdict(r: Pick<RunReport, 'status' | 'succeeded' | 'comment'>): string {
  if (r.status === RunStatus.Stop) return `stopped${r.comment ? `: ${r.comment}` : ''}`;
  if (r.status === RunStatus.Complete) return r.succeeded ? 'succeeded' : 'FAILED';
  if (r.status === RunStatus.Start) return 'running';
  return runStatusName(r.status);
}

export function formatRunReport(ks: string, r: RunReport): string {
  const out: string[] = [];
  const took = r.startedAt && r.endedAt ? ` in ${formatMs(r.endedAt.getTime() - r.startedAt.getTime())}` : '';
  out.push(`run ${r.runId} in keyspace ${ks}: ${verdict(r)}${took}`);
  out.push(`  started ${iso(r.startedAt)}, ended ${iso(r.endedAt)}; start nodes: ${r.startNodes.join(', ')}`);
  out.push(`  script ${r.scriptUrl}${r.paramsUrl ? `, params ${r.paramsUrl}` : ''}`);
  const w = Math.max(4, ...r.nodes.map((n) => n.node.length));
  out.push(`  ${'NODE'.padEnd(w)}  ${'STATUS'.padEnd(12)}  ${'BATCHES'.padEnd(9)}  FAILED  RUNNING`);
  for (const n of r.nodes) {
    const batches = n.batchesTotal > 0 ? `${n.batchesFinished}/${n.batchesTotal}` : '-';
    out.push(
      `  ${n.node.padEnd(w)}  ${statusName(n.status).padEnd(12)}  ${batches.padEnd(9)}  ${String(n.batchesFailed).padStart(6)}  ${String(n.batchesRunning).padStart(7)}`,
    );
  }
  for (const n of r.nodes) {
    // one line per distinct message, naming the batches
    const byMessage = new Map<string, number[]>();
    for (const f of n.failures) byMessage.set(f.message, [...(byMessage.get(f.message) ?? []), f.batchIdx]);
    for (const [message, batches] of byMessage) {
      out.push(
        `node ${n.node} batch${batches.length > 1 ? 'es' : ''} ${batches.join(', ')} failed: ${message}`,
      );
    }
  }
  return out.join('\n') + '\n';
}

async function latestRunId(store: Store, ks: string): Promise<number> {
  const runs = await listRuns(store, ks);
  const last = runs[runs.length - 1];
  if (!last) throw new UserInputError('NO_RUNS', `keyspace ${ks} has no runs yet`);
  return last.runId;
}

export const statusCommand: CommandRegistrar = (program: Command) => {
  const cmd = program
    .command('status')
    .description('Print the runs of a keyspace, or one run with its nodes and batches')
    .option('--keyspace <name>', 'run set (default $PLEXUS_KEYSPACE)')
    .option('--run-id <n>', 'one run (default with --wait: the latest run)')
    .option('--wait', 'block until the run is complete or stopped; exit code 0 only if it succeeded')
    .option('--interval <ms>', 'how often --wait looks', '2000')
    .option('--timeout <s>', 'give --wait up after this many seconds (default: no limit)')
    .option('--json', 'print JSON instead of text');
  addConnectionOptions(cmd, false).action(async (opts: StatusCliOptions) => {
    const ks = keyspaceOf(opts.keyspace);
    const interval = intOption('--interval', opts.interval, 2000, 100, 600_000);
    const timeoutS = intOption('--timeout', opts.timeout, 0, 0, 31 * 86_400);
    const store = openStore(opts);
    try {
      if (!(await store.keyspaceExists(ks))) {
        throw new UserInputError('KEYSPACE_NOT_FOUND', `keyspace ${ks} does not exist`);
      }
      if (opts.runId === undefined && !opts.wait) {
        const runs = await listRuns(store, ks);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
          return;
        }
        if (runs.length === 0) {
          process.stdout.write(`keyspace ${ks} has no runs\n`);
          return;
        }
        const lines = [`  RUN  STATUS     STARTED                   ENDED                     START NODES`];
        for (const r of runs) {
          lines.push(
            `  ${String(r.runId).padStart(3)}  ${runStatusName(r.status).padEnd(9)}  ${iso(r.startedAt).padEnd(24)}  ${iso(r.endedAt).padEnd(24)}  ${r.startNodes.join(',')}`,
          );
        }
        process.stdout.write(`keyspace ${ks}: ${runs.length} run(s)\n${lines.join('\n')}\n`);
        return;
      }
      const runId =
        opts.runId === undefined
          ? await latestRunId(store, ks)
          : intOption('--run-id', opts.runId, 0, 1, 2 ** 31 - 1);
      const deadline = timeoutS > 0 ? Date.now() + timeoutS * 1000 : Infinity;
      let report = await runReport(store, ks, runId);
      while (opts.wait && !report.finished) {
        if (Date.now() > deadline) {
          process.stdout.write(
            opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatRunReport(ks, report),
          );
          throw new PlexusError(
            'WAIT_TIMEOUT',
            `run ${runId} in keyspace ${ks} did not end within ${timeoutS} s`,
          );
        }
        await new Promise((r) => setTimeout(r, interval));
        report = await runReport(store, ks, runId);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatRunReport(ks, report));
      if (opts.wait && !report.succeeded) process.exitCode = 1;
    } finally {
      await store.close();
    }
  });
};
