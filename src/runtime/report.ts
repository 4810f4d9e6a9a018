import { UserInputError } from '../errors/index.js';
import { NodeStatus, RunStatus, type Store } from '../store/index.js';
import { batchStatusOf, isTerminal, nodeCompletionOf, nodeStatusesOf, runStatusOf } from './status.js';

/** One node of a run as the store records it. */
export interface NodeReport {
  readonly node: string;
  readonly status: NodeStatus;
  /** 0 until a batch of the node was seen. */
  readonly batchesTotal: number;
  readonly batchesFinished: number;
  readonly batchesFailed: number;
  /** Batches whose latest status is start. */
  readonly batchesRunning: number;
  readonly failures: readonly { readonly batchIdx: number; readonly message: string }[];
}

/** A run's state from the workflow tables (what `plexus status` prints and the operator reports). */
export interface RunReport {
  readonly runId: number;
  readonly status: RunStatus;
  readonly startNodes: readonly string[];
  readonly affectedNodes: readonly string[];
  readonly scriptUrl: string;
  readonly paramsUrl: string;
  readonly description: string;
  readonly startedAt?: Date;
  /** When the run completed or was stopped. */
  readonly endedAt?: Date;
  /** Comment of the completion (per-node verdicts) or of the stop (the reason). */
  readonly comment: string;
  readonly nodes: readonly NodeReport[];
  /** Completed or stopped: nothing more will happen. */
  readonly finished: boolean;
  /** Completed with every affected node successful. */
  readonly succeeded: boolean;
}

/** The runs of a keyspace, oldest first (without per-node details). */
export async function listRuns(store: Store, ks: string): Promise<Omit<RunReport, 'nodes' | 'succeeded'>[]> {
  const [props, history] = await Promise.all([store.getRunProperties(ks), store.getRunHistory(ks)]);
  return props.map((p) => {
    const events = history.filter((h) => h.runId === p.runId);
    const status = runStatusOf(events);
    const end = events.find((e) => e.status === status && status !== RunStatus.Start);
    return {
      runId: p.runId,
      status,
      startNodes: p.startNodes,
      affectedNodes: p.affectedNodes,
      scriptUrl: p.scriptUrl,
      paramsUrl: p.paramsUrl,
      description: p.description,
      startedAt: events.find((e) => e.status === RunStatus.Start)?.ts,
      endedAt: end?.ts,
      comment: end?.comment ?? '',
      finished: status === RunStatus.Complete || status === RunStatus.Stop,
    };
  });
}

/** Run, node and batch state of one run; an unknown run is a user error naming the keyspace. */
export async function runReport(store: Store, ks: string, runId: number): Promise<RunReport> {
  const run = (await listRuns(store, ks)).find((r) => r.runId === runId);
  if (!run) throw new UserInputError('UNKNOWN_RUN', `keyspace ${ks} has no run ${runId}`);
  const [nodeHistory, batchHistory] = await Promise.all([
    store.getNodeHistory(ks, runId),
    store.getBatchHistory(ks, runId),
  ]);
  const statuses = nodeStatusesOf(nodeHistory);
  const nodes: NodeReport[] = run.affectedNodes.map((node) => {
    const rows = batchHistory.filter((b) => b.node === node);
    const completion = nodeCompletionOf(rows);
    const byBatch = new Map<number, typeof rows>();
    for (const r of rows) byBatch.set(r.batchIdx, [...(byBatch.get(r.batchIdx) ?? []), r]);
    let running = 0;
    const failures: { batchIdx: number; message: string }[] = [];
    for (const [batchIdx, list] of [...byBatch].sort((a, b) => a[0] - b[0])) {
      const latest = batchStatusOf(list);
      if (latest?.status === NodeStatus.Start) running++;
      const failed = list.find((r) => r.status === NodeStatus.Fail);
      if (failed) failures.push({ batchIdx, message: failed.comment });
    }
    return {
      node,
      status: statuses.get(node) ?? NodeStatus.None,
      batchesTotal: completion.batchesTotal,
      batchesFinished: completion.finished,
      batchesFailed: completion.failed,
      batchesRunning: running,
      failures,
    };
  });
  const succeeded =
    run.status === RunStatus.Complete &&
    nodes.every((n) => n.status === NodeStatus.Success) &&
    nodes.every((n) => isTerminal(n.status));
  return { ...run, nodes, succeeded };
}
