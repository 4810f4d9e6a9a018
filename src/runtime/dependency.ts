import { buildKey } from '../expr/index.js';
import type { DependencyPolicy, Script, ScriptNode } from '../script/index.js';
import { NodeStatus, RunStatus, type Store } from '../store/index.js';
import type { Value } from '../values/index.js';
import { compareUtf8 } from '../engine/index.js';
import { nodeStatusOf, runStatusOf, runStatusName, statusName } from './status.js';

export type DependencyCmd = 'go' | 'wait' | 'nogo';

export interface DependencyVerdict {
  readonly cmd: DependencyCmd;
  /** Run id whose table the reader reads (index 0) and whose index/table the lookup reads (index 1). */
  readonly readerRunId?: number;
  readonly lookupRunId?: number;
  /** What decided it, for the batch comment. */
  readonly reason: string;
}

/** Nodes whose tables this node reads: [reader table creator, lookup right table creator]. */
export function dependencyNodes(script: Script, node: ScriptNode): (string | undefined)[] {
  if (node.type === 'file_table') return [];
  const reader = script.tableCreator(node.r.table)?.name;
  if (node.type !== 'table_lookup_table') return [reader];
  return [reader, script.tableCreator(node.l.rightTable)?.name];
}

interface NrsEvent {
  readonly runId: number;
  readonly isCurrent: boolean;
  readonly runStatus: RunStatus;
  readonly nodeStatus: NodeStatus;
}

/**
 * Dependency check of Capillaries (§4.9): for every dependency node, the runs that affected it are
 * ordered by the policy's event_priority_order; the first run for which some rule matches decides
 * (go / wait / nogo, and which run's tables to read). No matching rule → wait.
 */
export async function checkDependencies(
  store: Store,
  ks: string,
  script: Script,
  node: ScriptNode,
  runId: number,
): Promise<DependencyVerdict> {
  if (node.type === 'file_table') return { cmd: 'go', reason: 'file reader' };
  const deps = dependencyNodes(script, node);
  const props = await store.getRunProperties(ks);
  const verdicts: { cmd: DependencyCmd; runId?: number; reason: string }[] = [];
  const runStatusCache = new Map<number, RunStatus>();
  for (const dep of deps) {
    if (dep === undefined) {
      verdicts.push({ cmd: 'nogo', reason: 'the table this node reads has no creator in the script' });
      continue;
    }
    const candidates = props.filter((p) => p.affectedNodes.includes(dep));
    if (candidates.length === 0) {
      verdicts.push({
        cmd: 'nogo',
        reason: `dependency node ${dep} was never run in keyspace ${ks}: start a run with it (or its parents) first`,
      });
      continue;
    }
    const events: NrsEvent[] = [];
    for (const c of candidates) {
      let rs = runStatusCache.get(c.runId);
      if (rs === undefined) {
        rs = runStatusOf(await store.getRunHistory(ks, c.runId));
        runStatusCache.set(c.runId, rs);
      }
      const ns = nodeStatusOf(await store.getNodeHistory(ks, c.runId, dep));
      events.push({ runId: c.runId, isCurrent: c.runId === runId, runStatus: rs, nodeStatus: ns });
    }
    verdicts.push(evaluatePolicy(node.dependencyPolicy, dep, events));
  }
  const reason = verdicts.map((v) => v.reason).join('; ');
  if (verdicts.some((v) => v.cmd === 'nogo')) return { cmd: 'nogo', reason };
  if (verdicts.some((v) => v.cmd === 'wait')) return { cmd: 'wait', reason };
  return { cmd: 'go', readerRunId: verdicts[0]?.runId, lookupRunId: verdicts[1]?.runId, reason };
}

function nrsValues(e: NrsEvent): Record<string, Value> {
  return {
    run_id: BigInt(e.runId),
    run_is_current: e.isCurrent,
    run_status: BigInt(e.runStatus),
    node_status: BigInt(e.nodeStatus),
  };
}

export function evaluatePolicy(
  policy: DependencyPolicy,
  dep: string,
  events: readonly NrsEvent[],
): { cmd: DependencyCmd; runId?: number; reason: string } {
  const keyed = events.map((e) => {
    const nrs = nrsValues(e);
    const key = buildKey(
      policy.eventPriorityOrder,
      policy.eventPriorityOrder.components.map((c) => nrs[c.field] ?? 0n),
    );
    return { e, nrs, key };
  });
  keyed.sort((a, b) => compareUtf8(a.key, b.key));
  for (const { e, nrs } of keyed) {
    for (let i = 0; i < policy.rules.length; i++) {
      const rule = policy.rules[i]!;
      if (rule.expr.eval({ nrs }) === true) {
        return {
          cmd: rule.cmd,
          runId: e.runId,
          reason:
            `${dep} is ${statusName(e.nodeStatus)} in run ${e.runId} (run ${runStatusName(e.runStatus)}): ` +
            `${rule.cmd} by rule ${i + 1} of policy ${policy.name}`,
        };
      }
    }
  }
  const first = keyed[0]?.e;
  return {
    cmd: 'wait',
    runId: first?.runId,
    reason: `${dep}: no rule of policy ${policy.name} matched → wait`,
  };
}
