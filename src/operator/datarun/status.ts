/**
 * DataRun status from what the controller observed (pure): the run report read from the store, the spec
 * verdict, suspension and the worker Job. Lists are bounded (nodes, output files) and the message truncated,
 * so the status stays far below etcd's request limit however large the script.
 */
import {
  MAX_NODE_STATUSES,
  MAX_OUTPUT_FILES,
  STATUS_MESSAGE_MAX,
  type DataRun,
  type DataRunPhase,
  type DataRunStatus,
  type NodeState,
  type NodeStatus as NodeStatusEntry,
} from '../../api/index.js';
import { expandUrlTemplate } from '../../engine/index.js';
import type { RunReport } from '../../runtime/index.js';
import type { Script } from '../../script/index.js';
import { NodeStatus, RunStatus } from '../../store/index.js';
import { rfc3339 } from '../clock.js';
import { setConditions, truncate, type ConditionUpdate } from '../conditions.js';

export function nodeState(s: NodeStatus): NodeState {
  switch (s) {
    case NodeStatus.Start:
      return 'Running';
    case NodeStatus.Success:
      return 'Succeeded';
    case NodeStatus.Fail:
      return 'Failed';
    case NodeStatus.StopReceived:
      return 'Stopped';
    default:
      return 'Pending';
  }
}

/** What the reconcile observed and decided, the input of `computeStatus`. */
export interface Observed {
  readonly keyspace: string;
  /** The spec problem, when the spec is invalid. */
  readonly invalid?: { reason: string; message: string };
  readonly suspended: boolean;
  readonly runId?: number;
  readonly report?: RunReport;
  /** The loaded script (for output file names). */
  readonly script?: Script;
  /** Why the run failed outside the store (lost worker attempts, ...). */
  readonly failure?: { reason: string; message: string };
  /** Condition reason and message while waiting (e.g. WaitingForWorkers). */
  readonly waiting?: { reason: string; message: string };
  readonly nowMs: number;
}

/** The files a run wrote: the output URLs of its finished table_file nodes, per batch. */
export function outputFilesOf(script: Script | undefined, report: RunReport): string[] {
  if (!script) return [];
  const out = new Set<string>();
  for (const n of report.nodes) {
    const node = script.nodes.get(n.node);
    if (!node || node.type !== 'table_file' || n.status !== NodeStatus.Success) continue;
    for (let b = 0; b < Math.max(1, n.batchesTotal); b++)
      out.add(expandUrlTemplate(node.w.urlTemplate, report.runId, b));
  }
  return [...out];
}

export function computeStatus(run: DataRun, o: Observed): DataRunStatus {
  const prev = run.status ?? {};
  const gen = run.metadata.generation;
  const cond = (type: string, status: 'True' | 'False', reason: string, message = ''): ConditionUpdate => ({
    type,
    status,
    reason,
    message,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
  });
  const next: DataRunStatus = { keyspace: o.keyspace };
  if (o.runId !== undefined) next.runId = o.runId;
  if (prev.startTime) next.startTime = prev.startTime;
  if (prev.completionTime) next.completionTime = prev.completionTime;
  let phase: DataRunPhase = 'Pending';
  let message = '';
  const updates: ConditionUpdate[] = [];

  if (o.invalid) {
    phase = 'Failed';
    message = o.invalid.message;
    updates.push(
      cond('Accepted', 'False', o.invalid.reason, message),
      cond('Progressing', 'False', 'Invalid', message),
      cond('Complete', 'False', 'Invalid'),
      cond('Failed', 'True', o.invalid.reason, message),
      cond('Suspended', 'False', 'NotSuspended'),
    );
  } else {
    updates.push(cond('Accepted', 'True', 'Valid', 'script and connections resolved'));
    const r = o.report;
    if (r) {
      const nodes: NodeStatusEntry[] = r.nodes.slice(0, MAX_NODE_STATUSES).map((n) => ({
        name: n.node,
        state: nodeState(n.status),
        batches: {
          done: Math.max(0, n.batchesFinished - n.batchesFailed),
          failed: n.batchesFailed,
          total: n.batchesTotal,
        },
      }));
      const finishedNodes = r.nodes.filter((n) => n.status === NodeStatus.Success).length;
      const batches = r.nodes.reduce(
        (acc, n) => ({
          done: acc.done + Math.max(0, n.batchesFinished - n.batchesFailed),
          failed: acc.failed + n.batchesFailed,
          total: acc.total + n.batchesTotal,
        }),
        { done: 0, failed: 0, total: 0 },
      );
      next.nodes = nodes;
      next.progress = `${finishedNodes}/${r.nodes.length}`;
      next.batches = batches;
      next.batchProgress = `${batches.done}/${batches.total}`;
      if (r.startedAt && !next.startTime) next.startTime = r.startedAt.toISOString();
      const files = outputFilesOf(o.script, r);
      if (files.length > 0) {
        next.outputFiles = files.slice(0, MAX_OUTPUT_FILES);
        next.outputFilesTotal = files.length;
      }
      const started = r.nodes.some((n) => n.status !== NodeStatus.None || n.batchesTotal > 0);
      if (r.finished && r.status === RunStatus.Complete) {
        phase = r.succeeded ? 'Succeeded' : 'Failed';
        const failedNodes = r.nodes.filter((n) => n.status !== NodeStatus.Success);
        message = r.succeeded
          ? `run ${r.runId} succeeded: ${r.nodes.length} node(s)`
          : `run ${r.runId} failed: ${failedNodes
              .map(
                (n) => `${n.node} ${nodeState(n.status)}${n.failures[0] ? `: ${n.failures[0].message}` : ''}`,
              )
              .join('; ')}`;
      } else if (r.finished && !o.suspended) {
        phase = 'Failed';
        message = `run ${r.runId} was stopped${r.comment ? `: ${r.comment}` : ''}`;
      } else if (started) {
        phase = 'Running';
        message = `run ${r.runId}: ${next.progress} nodes, ${next.batchProgress} batches`;
      }
    }
    if (o.failure && phase !== 'Succeeded') {
      phase = 'Failed';
      message = o.failure.message;
    }
    if (o.suspended && phase !== 'Succeeded' && phase !== 'Failed') {
      phase = 'Suspended';
      message = 'suspended: the run is stopped and the workers are scaled down';
    }
    if (phase === 'Pending' && o.waiting) message = o.waiting.message;
    const failedReason =
      o.failure?.reason ?? (r?.finished && r.status === RunStatus.Stop ? 'RunStopped' : 'NodeFailed');
    updates.push(
      phase === 'Running' || phase === 'Pending'
        ? cond(
            'Progressing',
            'True',
            phase === 'Running' ? 'NodesRunning' : (o.waiting?.reason ?? 'WaitingForWorkers'),
            message,
          )
        : cond('Progressing', 'False', phase === 'Suspended' ? 'Suspended' : 'Finished', message),
      phase === 'Suspended'
        ? cond('Suspended', 'True', 'SuspendedByUser', message)
        : cond('Suspended', 'False', 'NotSuspended'),
      phase === 'Succeeded'
        ? cond('Complete', 'True', 'AllNodesSucceeded', message)
        : cond('Complete', 'False', phase === 'Failed' ? 'Failed' : 'NotFinished'),
      phase === 'Failed'
        ? cond('Failed', 'True', failedReason, message)
        : cond('Failed', 'False', 'NoFailure'),
    );
  }
  if ((phase === 'Succeeded' || phase === 'Failed') && !next.completionTime)
    next.completionTime = rfc3339(o.nowMs);
  next.phase = phase;
  if (message) next.message = truncate(message, STATUS_MESSAGE_MAX);
  next.conditions = setConditions(prev.conditions, updates, o.nowMs);
  return next;
}

export function isTerminalPhase(phase: DataRunPhase | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
