import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { threadId } from 'node:worker_threads';
import { UserInputError } from '../errors/index.js';
import type { Script, ScriptNode } from '../script/index.js';
import type { BatchMessage, BatchQueue } from '../queue/index.js';
import {
  keepsRunOverrides,
  RunStatus,
  splitTokenRange,
  validateKeyspaceName,
  type Store,
  type TableSpec,
} from '../store/index.js';

export interface BatchInterval {
  readonly batchIdx: number;
  readonly first: bigint;
  readonly last: bigint;
}

/** Batches of a node (§4.4): one per input URL for file readers, token ranges for table readers. */
export function batchesOf(node: ScriptNode): BatchInterval[] {
  if (node.type === 'file_table') {
    return node.r.urls.map((_, i) => ({ batchIdx: i, first: BigInt(i), last: BigInt(i) }));
  }
  return splitTokenRange(node.r.expectedBatchesTotal).map((r, i) => ({
    batchIdx: i,
    first: r.first,
    last: r.last,
  }));
}

export function batchMessages(ks: string, runId: number, node: ScriptNode): BatchMessage[] {
  const batches = batchesOf(node);
  const ts = Date.now();
  return batches.map((b) => ({
    v: 1,
    id: `${String(b.batchIdx).padStart(6, '0')}-${randomUUID()}`,
    ts,
    ks,
    runId,
    node: node.name,
    batchIdx: b.batchIdx,
    batchesTotal: batches.length,
    firstToken: b.first.toString(),
    lastToken: b.last.toString(),
    attempt: 0,
  }));
}

/** Data and index tables a node creates (none for table_file). */
export function tableSpecsOf(script: Script, node: ScriptNode): TableSpec[] {
  if (node.type === 'table_file') return [];
  const specs: TableSpec[] = [{ kind: 'data', name: node.w.name, fields: script.tableFields(node.w.name) }];
  for (const idx of node.w.indexes)
    specs.push({ kind: idx.def.unique ? 'unique' : 'non_unique', name: idx.name });
  return specs;
}

/** Identifies this process in batch history rows. */
export function instanceName(): string {
  return `${os.hostname()}/plexus/${process.pid}${threadId > 0 ? `/t${threadId}` : ''}`;
}

export interface StartRunOptions {
  readonly store: Store;
  readonly queue: BatchQueue;
  readonly ks: string;
  readonly script: Script;
  readonly startNodes: readonly string[];
  readonly scriptUrl: string;
  readonly paramsUrl?: string;
  readonly description?: string;
  /**
   * The `--param` overrides the script was loaded with. Stores that keep them (distributed) record them
   * with the run, so that every worker loads the same script.
   */
  readonly overrides?: Readonly<Record<string, string>>;
  /**
   * A run id already taken with `store.nextRunId` (a controller records it before starting, so that a crash
   * and retry resumes the same run instead of starting a second one). Starting again with the same id is
   * idempotent: every step is insert-if-missing and each node is published once.
   */
  readonly runId?: number;
}

export interface StartedRun {
  readonly runId: number;
  readonly affectedNodes: readonly string[];
}

/**
 * Starts a run (§4.2): keyspace, run id, affected nodes, run properties, tables, status start; then
 * publishes the batches of the nodes that can run now (their dependencies come from earlier runs or
 * from files). The others are published by the handler that completes their last dependency.
 */
export async function startRun(opts: StartRunOptions): Promise<StartedRun> {
  const { store, queue, ks, script } = opts;
  validateKeyspaceName(ks);
  const startNodes = opts.startNodes.map((s) => s.trim()).filter((s) => s !== '');
  if (startNodes.length === 0) throw new UserInputError('NO_START_NODES', 'no start nodes given');
  const unknown = startNodes.filter((n) => !script.nodes.has(n));
  if (unknown.length > 0) {
    throw new UserInputError(
      'UNKNOWN_START_NODE',
      `start node(s) not in the script: ${unknown.join(', ')}; nodes: ${[...script.nodes.keys()].join(', ')}`,
    );
  }
  await store.ensureKeyspace(ks);
  const runId = opts.runId ?? (await store.nextRunId(ks));
  const affected = script.affectedNodes(startNodes);
  await store.putRunProperties(ks, {
    runId,
    startNodes,
    affectedNodes: affected,
    scriptUrl: opts.scriptUrl,
    paramsUrl: opts.paramsUrl ?? '',
    description: opts.description ?? '',
  });
  if (opts.overrides && Object.keys(opts.overrides).length > 0 && keepsRunOverrides(store)) {
    await store.putRunOverrides(ks, runId, opts.overrides);
  }
  const specs: TableSpec[] = [];
  for (const name of affected) specs.push(...tableSpecsOf(script, script.nodes.get(name)!));
  await store.createTables(ks, runId, specs);
  await store.putRunStatus(ks, runId, RunStatus.Start, 'start');
  const affectedSet = new Set(affected);
  for (const name of affected) {
    const parentsInRun = script.dag.parents(name).filter((p) => affectedSet.has(p));
    if (parentsInRun.length === 0) await publishNode(store, queue, ks, runId, script.nodes.get(name)!);
  }
  return { runId, affectedNodes: affected };
}

/** Publishes a node's batches once per run (the first caller wins). */
export async function publishNode(
  store: Store,
  queue: BatchQueue,
  ks: string,
  runId: number,
  node: ScriptNode,
): Promise<boolean> {
  if (!(await store.claimOnce(ks, runId, node.name, 'publish'))) return false;
  await queue.publish(ks, batchMessages(ks, runId, node));
  return true;
}

/** Stops a run: later batches of it are marked stopreceived; consumers of its tables see nogo. */
export async function stopRun(store: Store, ks: string, runId: number, comment: string): Promise<boolean> {
  const props = await store.getRunProperties(ks);
  if (!props.some((p) => p.runId === runId)) {
    throw new UserInputError('UNKNOWN_RUN', `keyspace ${ks} has no run ${runId}`);
  }
  return store.putRunStatus(ks, runId, RunStatus.Stop, comment);
}
