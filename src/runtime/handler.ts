import { errorMessage, isTransient } from '../errors/index.js';
import { processBatch, type BatchResult, type EngineIo, type PythonSettings } from '../engine/index.js';
import type { Logger } from '../obs/index.js';
import type { BatchHandler, BatchMessage, BatchQueue, Disposition } from '../queue/index.js';
import type { Script } from '../script/index.js';
import { isDistributedStore, NodeStatus, RunStatus, type Store } from '../store/index.js';
import { checkDependencies } from './dependency.js';
import { BatchLease } from './lease.js';
import { instanceName, publishNode } from './run.js';
import {
  batchStatusOf,
  isTerminal,
  nodeCompletionOf,
  nodeStatusesOf,
  runStatusOf,
  statusName,
} from './status.js';

/** Something happened to a batch or a run; local runs show progress from these. */
export type RunEvent =
  | {
      readonly kind: 'batch-start';
      readonly runId: number;
      readonly node: string;
      readonly batchIdx: number;
      readonly batchesTotal: number;
    }
  | {
      readonly kind: 'batch-progress';
      readonly runId: number;
      readonly node: string;
      readonly batchIdx: number;
      readonly rowsIn: number;
      readonly rowsOut: number;
    }
  | {
      readonly kind: 'batch-end';
      readonly runId: number;
      readonly node: string;
      readonly batchIdx: number;
      readonly batchesTotal: number;
      readonly status: NodeStatus;
      readonly result?: BatchResult;
      readonly error?: string;
    }
  | { readonly kind: 'node-end'; readonly runId: number; readonly node: string; readonly status: NodeStatus }
  | {
      readonly kind: 'run-end';
      readonly runId: number;
      readonly status: RunStatus;
      readonly comment: string;
    };

export interface HandlerDeps {
  readonly store: Store;
  readonly queue: BatchQueue;
  readonly io: EngineIo;
  /** The script a run was started with. */
  getScript(ks: string, runId: number): Promise<Script>;
  readonly python?: PythonSettings;
  readonly logger?: Logger;
  readonly onEvent?: (e: RunEvent) => void;
  /** Delay before a batch whose dependencies are not ready is tried again. */
  readonly waitRetryMs?: number;
  readonly instance?: string;
  /** Lifetime of a batch lease without renewal (distributed stores; default BATCH_LEASE_TTL_MS). */
  readonly leaseTtlMs?: number;
}

/**
 * The batch handler (§4.8): run status, batch history and rerun policy, dependency check, node/batch
 * status, processor, then node completion (which publishes the children that became ready, once) and
 * run completion. Queue- and store-agnostic: the same handler runs locally and in workers.
 */
export function createBatchHandler(deps: HandlerDeps): BatchHandler {
  const instance = deps.instance ?? instanceName();
  const waitMs = deps.waitRetryMs ?? 1000;
  const emit = (e: RunEvent): void => deps.onEvent?.(e);
  const leases = isDistributedStore(deps.store) ? deps.store : undefined;
  let handled = 0;

  return async (msg: BatchMessage): Promise<Disposition> => {
    const { store } = deps;
    const owner = `${instance}#${++handled}`;
    let lease: BatchLease | undefined;
    const takeLease = async (): Promise<boolean> => {
      if (!leases || lease) return true;
      lease = await BatchLease.take(
        leases,
        msg.ks,
        BatchLease.leaseName(msg.runId, msg.node, msg.batchIdx),
        owner,
        deps.leaseTtlMs,
      );
      return lease !== undefined;
    };
    const heldElsewhere: Disposition = {
      kind: 'retry',
      reason: 'another worker is processing this batch (it holds the batch lease)',
      delayMs: Math.min(10_000, deps.leaseTtlMs ?? 10_000),
      wait: true,
    };
    const { ks, runId, batchIdx, batchesTotal } = msg;
    const log = deps.logger?.child({ ks, run: runId, node: msg.node, bi: batchIdx });
    const firstToken = BigInt(msg.firstToken);
    const lastToken = BigInt(msg.lastToken);
    const putBatch = (status: NodeStatus, comment: string): Promise<void> =>
      putBatchStatus(store, msg, instance, status, comment);
    const endBatch = (status: NodeStatus, comment: string, result?: BatchResult): Promise<void> =>
      recordBatchEnd(deps, msg, instance, status, comment, result);
    try {
      // 2. run status
      const runStatus = runStatusOf(await store.getRunHistory(ks, runId));
      if (runStatus === RunStatus.None) {
        await putBatch(NodeStatus.Fail, 'run was never started');
        return { kind: 'ack' };
      }
      if (runStatus === RunStatus.Stop) {
        await endBatch(NodeStatus.StopReceived, 'run stopped');
        const script = await deps.getScript(ks, runId);
        await refreshNode(deps, script, msg, emit);
        return { kind: 'ack' };
      }
      if (runStatus !== RunStatus.Start) return { kind: 'ack' };
      // 3./4. script and node
      let script: Script;
      try {
        script = await deps.getScript(ks, runId);
      } catch (err) {
        if (isTransient(err)) return { kind: 'retry', reason: errorMessage(err) };
        const reason = `cannot load the script of run ${runId}: ${errorMessage(err)}`;
        await endBatch(NodeStatus.Fail, reason);
        return { kind: 'dead', reason };
      }
      const node = script.nodes.get(msg.node);
      if (!node) return { kind: 'dead', reason: `node ${msg.node} is not in the script of run ${runId}` };
      // 5. batch history
      const last = batchStatusOf(
        await store
          .getBatchHistory(ks, runId, msg.node)
          .then((h) => h.filter((e) => e.batchIdx === batchIdx)),
      );
      let rerun = false;
      if (last) {
        if (last.status === NodeStatus.Success || last.status === NodeStatus.Fail) {
          await refreshNode(deps, script, msg, emit);
          return { kind: 'ack' };
        }
        if (last.status === NodeStatus.StopReceived) return { kind: 'ack' };
        if (last.status === NodeStatus.Start) {
          if (node.rerunPolicy === 'fail') {
            await endBatch(
              NodeStatus.Fail,
              'the batch was started before and did not finish; rerun_policy is fail, so it is not processed again',
            );
            await refreshNode(deps, script, msg, emit);
            return { kind: 'ack' };
          }
          if (leases) {
            // the lease tells whether the worker that started it still lives
            if (!(await takeLease())) return heldElsewhere;
          } else {
            const until = last.ts.getTime() + node.maxBatchProcessingTimeMs;
            if (Date.now() < until) {
              return {
                kind: 'retry',
                reason: 'another worker may still process this batch',
                delayMs: until - Date.now(),
                wait: true,
              };
            }
          }
          rerun = true;
        }
      }
      // 6. dependencies
      const dep = await checkDependencies(store, ks, script, node, runId);
      if (dep.cmd === 'nogo') {
        await endBatch(NodeStatus.Fail, `dependencies not met: ${dep.reason}`);
        await refreshNode(deps, script, msg, emit);
        return { kind: 'ack' };
      }
      if (dep.cmd === 'wait')
        return {
          kind: 'retry',
          reason: `waiting for dependencies: ${dep.reason}`,
          delayMs: waitMs,
          wait: true,
        };
      if (!(await takeLease())) return heldElsewhere;
      // 7. node and batch start
      await store.putNodeStatus(ks, {
        runId,
        node: msg.node,
        writtenByBatchIdx: batchIdx,
        status: NodeStatus.Start,
        comment: '',
      });
      await putBatch(NodeStatus.Start, '');
      emit({ kind: 'batch-start', runId, node: msg.node, batchIdx, batchesTotal });
      // 8. processor
      let result: BatchResult;
      try {
        result = await processBatch({
          store,
          ks,
          script,
          node,
          batch: { runId, batchIdx, batchesTotal, firstToken, lastToken },
          readerRunId: dep.readerRunId,
          lookupRunId: dep.lookupRunId,
          io: deps.io,
          python: deps.python,
          rerun,
          logger: log,
          onProgress: (p) => emit({ kind: 'batch-progress', runId, node: msg.node, batchIdx, ...p }),
        });
      } catch (err) {
        if (isTransient(err)) return { kind: 'retry', reason: errorMessage(err) };
        const message = errorMessage(err);
        log?.warn({ err: message }, 'batch failed');
        await endBatch(NodeStatus.Fail, message);
        await refreshNode(deps, script, msg, emit);
        return { kind: 'ack' };
      }
      if (lease?.lost) {
        return { kind: 'retry', reason: 'the batch lease was lost to another worker while processing' };
      }
      await endBatch(NodeStatus.Success, result.comment, result);
      // 9. node and run
      await refreshNode(deps, script, msg, emit);
      return { kind: 'ack' };
    } catch (err) {
      if (isTransient(err)) return { kind: 'retry', reason: errorMessage(err) };
      throw err;
    } finally {
      await lease?.release();
    }
  };
}

/**
 * Records a batch that could not be processed at all (given up after repeated transient failures): the
 * batch fails with the reason, then node and run completion are refreshed as for any failed batch.
 */
export async function recordBatchFailure(
  deps: HandlerDeps,
  msg: BatchMessage,
  reason: string,
): Promise<void> {
  await recordBatchEnd(deps, msg, deps.instance ?? instanceName(), NodeStatus.Fail, reason);
  const script = await deps.getScript(msg.ks, msg.runId);
  await refreshNode(deps, script, msg, (e) => deps.onEvent?.(e));
}

function putBatchStatus(
  store: Store,
  msg: BatchMessage,
  instance: string,
  status: NodeStatus,
  comment: string,
): Promise<void> {
  return store.putBatchStatus(msg.ks, {
    runId: msg.runId,
    node: msg.node,
    batchIdx: msg.batchIdx,
    batchesTotal: msg.batchesTotal,
    status,
    firstToken: BigInt(msg.firstToken),
    lastToken: BigInt(msg.lastToken),
    instance,
    thread: 0,
    comment,
  });
}

/** Records a batch's final status and tells the listeners (a failure carries its reason). */
async function recordBatchEnd(
  deps: HandlerDeps,
  msg: BatchMessage,
  instance: string,
  status: NodeStatus,
  comment: string,
  result?: BatchResult,
): Promise<void> {
  await putBatchStatus(deps.store, msg, instance, status, comment);
  deps.onEvent?.({
    kind: 'batch-end',
    runId: msg.runId,
    node: msg.node,
    batchIdx: msg.batchIdx,
    batchesTotal: msg.batchesTotal,
    status,
    ...(result ? { result } : {}),
    ...(status === NodeStatus.Fail ? { error: comment } : {}),
  });
}

/**
 * Node completion from its batches; when the node is done, publishes every child whose dependencies in
 * this run are all done (exactly once per child), then checks run completion.
 */
async function refreshNode(
  deps: HandlerDeps,
  script: Script,
  msg: BatchMessage,
  emit: (e: RunEvent) => void,
): Promise<void> {
  const { store, queue } = deps;
  const { ks, runId } = msg;
  const completion = nodeCompletionOf(await store.getBatchHistory(ks, runId, msg.node));
  if (completion.status === undefined) return;
  await store.putNodeStatus(ks, {
    runId,
    node: msg.node,
    writtenByBatchIdx: msg.batchIdx,
    status: completion.status,
    comment: `${completion.finished} batches, ${completion.failed} failed`,
  });
  if (await store.claimOnce(ks, runId, msg.node, 'node-end')) {
    emit({ kind: 'node-end', runId, node: msg.node, status: completion.status });
  }
  const props = (await store.getRunProperties(ks)).find((p) => p.runId === runId);
  if (!props) return;
  const affected = new Set(props.affectedNodes);
  const statuses = nodeStatusesOf(await store.getNodeHistory(ks, runId));
  const done = (n: string): boolean => isTerminal(statuses.get(n) ?? NodeStatus.None);
  for (const child of script.dag.children(msg.node)) {
    if (!affected.has(child)) continue;
    const parentsInRun = script.dag.parents(child).filter((p) => affected.has(p));
    if (parentsInRun.every(done)) await publishNode(store, queue, ks, runId, script.nodes.get(child)!);
  }
  // run completion
  const all = props.affectedNodes.map((n) => statuses.get(n) ?? NodeStatus.None);
  if (!all.every((s) => isTerminal(s))) return;
  const combined = Math.max(...all);
  if (combined !== NodeStatus.Success && combined !== NodeStatus.Fail) return;
  const comment = JSON.stringify(
    Object.fromEntries(props.affectedNodes.map((n, i) => [n, statusName(all[i]!)])),
  );
  if (await store.putRunStatus(ks, runId, RunStatus.Complete, comment)) {
    emit({ kind: 'run-end', runId, status: RunStatus.Complete, comment });
  }
}
