import { errorMessage, PlexusError } from '../errors/index.js';
import type { Logger } from '../obs/index.js';
import type { BatchQueue, QueueCounts } from '../queue/index.js';
import { batchMessages, isTerminal, listRuns, nodeStatusesOf, publishNode } from '../runtime/index.js';
import type { Script } from '../script/index.js';
import { NodeStatus, RunStatus, type DistributedStore } from '../store/index.js';

export interface SweepDeps {
  readonly store: DistributedStore;
  readonly queue: BatchQueue & { counts(ks: string): Promise<QueueCounts> };
  readonly ks: string;
  readonly getScript: (ks: string, runId: number) => Promise<Script>;
  /** Lease owner name of this worker. */
  readonly owner: string;
  /** Lifetime of the sweep lease: one worker of the keyspace sweeps at a time. */
  readonly leaseTtlMs: number;
  readonly logger?: Logger;
}

export interface SweepResult {
  /** False when another worker holds the sweep lease or the keyspace does not exist yet. */
  readonly swept: boolean;
  /** Nodes whose batches were never published (no scheduling claim existed) and now are. */
  readonly publishedNodes: readonly string[];
  /** Batches published again because they were claimed but never reached the queue. */
  readonly republishedBatches: number;
}

/**
 * Repairs what a crash can leave unpublished. Publishing a node is "claim once, then publish"; a process
 * that dies between the two leaves a node whose parents completed but whose batches never reached the
 * queue. For every running run, the sweep looks at the nodes that can run (all their parents in the run
 * are done): a node never claimed is published now; a claimed node with batches that have no history at
 * all is a suspect, and its missing batches are published again when the queue was idle (nothing ready,
 * nothing waiting) on two sweeps in a row with the same batches missing. A batch published twice is
 * harmless: processing is idempotent, a finished batch is acknowledged at once.
 */
export class Sweeper {
  private readonly suspects = new Map<string, string>();

  constructor(private readonly deps: SweepDeps) {}

  async sweep(): Promise<SweepResult> {
    const { store, queue, ks, logger } = this.deps;
    const none: SweepResult = { swept: false, publishedNodes: [], republishedBatches: 0 };
    if (!(await store.keyspaceExists(ks))) return none;
    let leader: boolean;
    try {
      leader = await store.acquireLease(ks, 'sweep', this.deps.owner, this.deps.leaseTtlMs);
    } catch (err) {
      // the keyspace is being created (start-run): its tables are not all there yet
      if (err instanceof PlexusError && err.code === 'TABLE_NOT_FOUND') return none;
      throw err;
    }
    if (!leader) return none;
    await store.renewLease(ks, 'sweep', this.deps.owner, this.deps.leaseTtlMs);
    const runs = (await listRuns(store, ks)).filter((r) => r.status === RunStatus.Start);
    const counts = await queue.counts(ks);
    const idle = counts.ready === 0 && counts.waiting === 0;
    const publishedNodes: string[] = [];
    let republished = 0;
    const live = new Set<string>();
    for (const run of runs) {
      let script: Script;
      try {
        script = await this.deps.getScript(ks, run.runId);
      } catch (err) {
        logger?.warn(
          { ks, run: run.runId, err: errorMessage(err) },
          'sweep: cannot load the script of the run',
        );
        continue;
      }
      const statuses = nodeStatusesOf(await store.getNodeHistory(ks, run.runId));
      const statusOf = (n: string): NodeStatus => statuses.get(n) ?? NodeStatus.None;
      const affected = new Set(run.affectedNodes);
      for (const name of run.affectedNodes) {
        const node = script.nodes.get(name);
        if (!node || isTerminal(statusOf(name))) continue;
        const parents = script.dag.parents(name).filter((p) => affected.has(p));
        if (!parents.every((p) => isTerminal(statusOf(p)))) continue;
        if (await publishNode(store, queue, ks, run.runId, node)) {
          logger?.warn(
            { ks, run: run.runId, node: name },
            'sweep: published a node whose batches were never published',
          );
          publishedNodes.push(name);
          continue;
        }
        const started = new Set((await store.getBatchHistory(ks, run.runId, name)).map((h) => h.batchIdx));
        const missing = batchMessages(ks, run.runId, node).filter((m) => !started.has(m.batchIdx));
        const key = `${run.runId}/${name}`;
        if (missing.length === 0 || !idle) continue;
        live.add(key);
        const signature = missing.map((m) => m.batchIdx).join(',');
        if (this.suspects.get(key) === signature) {
          await queue.publish(ks, missing);
          republished += missing.length;
          this.suspects.delete(key);
          logger?.warn(
            { ks, run: run.runId, node: name, batches: missing.length },
            'sweep: published again batches that never reached the queue',
          );
        } else {
          this.suspects.set(key, signature);
        }
      }
    }
    for (const key of [...this.suspects.keys()]) if (!live.has(key)) this.suspects.delete(key);
    return { swept: true, publishedNodes, republishedBatches: republished };
  }
}
