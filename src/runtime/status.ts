import {
  NodeStatus,
  RunStatus,
  type BatchHistoryEvent,
  type NodeHistoryEvent,
  type RunHistoryEvent,
} from '../store/index.js';

const TERMINAL: ReadonlySet<number> = new Set([NodeStatus.Success, NodeStatus.Fail, NodeStatus.StopReceived]);

export function isTerminal(s: NodeStatus): boolean {
  return TERMINAL.has(s);
}

/** Run status from its history: stop wins over complete over start; none without rows. */
export function runStatusOf(events: readonly RunHistoryEvent[]): RunStatus {
  let s: RunStatus = RunStatus.None;
  for (const e of events) {
    if (e.status === RunStatus.Stop) return RunStatus.Stop;
    if (e.status === RunStatus.Complete) s = RunStatus.Complete;
    else if (e.status === RunStatus.Start && s === RunStatus.None) s = RunStatus.Start;
  }
  return s;
}

/**
 * Status of one node in one run from its history rows: rows collapse to earliest start / latest success /
 * latest fail / latest stop, the latest of those wins (a terminal status wins a tie with start), and
 * stopreceived is sticky. No rows → none.
 */
export function nodeStatusOf(events: readonly NodeHistoryEvent[]): NodeStatus {
  if (events.length === 0) return NodeStatus.None;
  if (events.some((e) => e.status === NodeStatus.StopReceived)) return NodeStatus.StopReceived;
  const rank = (s: NodeStatus): number => (s === NodeStatus.Start ? 0 : 1);
  let earliestStart: NodeHistoryEvent | undefined;
  const candidates: NodeHistoryEvent[] = [];
  for (const e of events) {
    if (e.status === NodeStatus.Start) {
      if (!earliestStart || e.ts < earliestStart.ts) earliestStart = e;
    } else candidates.push(e);
  }
  if (earliestStart) candidates.push(earliestStart);
  let best: NodeHistoryEvent | undefined;
  for (const e of candidates) {
    if (
      !best ||
      e.ts.getTime() > best.ts.getTime() ||
      (e.ts.getTime() === best.ts.getTime() && rank(e.status) >= rank(best.status))
    ) {
      best = e;
    }
  }
  return best ? best.status : NodeStatus.None;
}

/** Node status per node name for one run. */
export function nodeStatusesOf(events: readonly NodeHistoryEvent[]): Map<string, NodeStatus> {
  const byNode = new Map<string, NodeHistoryEvent[]>();
  for (const e of events) {
    const list = byNode.get(e.node);
    if (list) list.push(e);
    else byNode.set(e.node, [e]);
  }
  const out = new Map<string, NodeStatus>();
  for (const [node, list] of byNode) out.set(node, nodeStatusOf(list));
  return out;
}

/** Latest status of one batch (by ts; a terminal status wins a tie). */
export function batchStatusOf(events: readonly BatchHistoryEvent[]): BatchHistoryEvent | undefined {
  let best: BatchHistoryEvent | undefined;
  for (const e of events) {
    if (
      !best ||
      e.ts.getTime() > best.ts.getTime() ||
      (e.ts.getTime() === best.ts.getTime() && e.status !== NodeStatus.Start)
    ) {
      best = e;
    }
  }
  return best;
}

export interface NodeCompletion {
  /** Every batch finished: the node's status from its batches; undefined while batches are open. */
  readonly status?: NodeStatus;
  readonly batchesTotal: number;
  readonly finished: number;
  readonly failed: number;
}

/** Node completion from its batch rows (a batch is finished when any of its rows is terminal). */
export function nodeCompletionOf(events: readonly BatchHistoryEvent[]): NodeCompletion {
  let total = 0;
  const finished = new Map<number, NodeStatus>();
  for (const e of events) {
    total = Math.max(total, e.batchesTotal);
    if (isTerminal(e.status)) {
      const prev = finished.get(e.batchIdx);
      // fail outranks the others for the node's verdict
      if (prev === undefined || e.status === NodeStatus.Fail) finished.set(e.batchIdx, e.status);
    }
  }
  const statuses = [...finished.values()];
  const failed = statuses.filter((s) => s === NodeStatus.Fail).length;
  const base = { batchesTotal: total, finished: finished.size, failed };
  if (total === 0 || finished.size < total) return base;
  if (failed > 0) return { ...base, status: NodeStatus.Fail };
  if (statuses.some((s) => s === NodeStatus.StopReceived))
    return { ...base, status: NodeStatus.StopReceived };
  return { ...base, status: NodeStatus.Success };
}

export function statusName(s: number): string {
  switch (s) {
    case NodeStatus.None:
      return 'none';
    case NodeStatus.Start:
      return 'start';
    case NodeStatus.Success:
      return 'success';
    case NodeStatus.Fail:
      return 'fail';
    case NodeStatus.StopReceived:
      return 'stopreceived';
    default:
      return String(s);
  }
}

export function runStatusName(s: number): string {
  return ['none', 'start', 'complete', 'stop'][s] ?? String(s);
}
