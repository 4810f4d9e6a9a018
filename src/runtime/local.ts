import { errorMessage } from '../errors/index.js';
import type { EngineIo, PythonSettings } from '../engine/index.js';
import type { Logger } from '../obs/index.js';
import { MemoryQueue, type BatchMessage, type Disposition } from '../queue/index.js';
import { loadScript, type Script } from '../script/index.js';
import { EmbeddedStore, NodeStatus, RunStatus, type Store } from '../store/index.js';
import { createBatchHandler, type RunEvent } from './handler.js';
import { startRun, stopRun } from './run.js';
import { lockedStore, ThreadPool } from './threads.js';
import { nodeCompletionOf, nodeStatusesOf, runStatusOf } from './status.js';

export interface LocalRunOptions {
  /** Directory of the embedded store (one database per keyspace). */
  readonly stateDir: string;
  readonly ks: string;
  readonly scriptUrl: string;
  readonly paramsUrl?: string;
  readonly overrides?: Readonly<Record<string, string>>;
  readonly startNodes: readonly string[];
  /** Batches processed at the same time. */
  readonly workers: number;
  readonly io: EngineIo;
  readonly python?: PythonSettings;
  readonly logger?: Logger;
  readonly onEvent?: (e: RunEvent) => void;
  /** Called once the script is loaded and the run id known. */
  readonly onStart?: (info: { runId: number; script: Script; affectedNodes: readonly string[] }) => void;
  /** A batch that waits for its dependencies longer than this is given up (default 10 minutes). */
  readonly maxWaitMs?: number;
  /**
   * Aborting stops the run (as stop_run does): batches in flight finish, the others are marked
   * stopreceived, and later runs in the keyspace do not read its tables.
   */
  readonly signal?: AbortSignal;
  readonly description?: string;
  /**
   * A store to use instead of the embedded store in `stateDir` (e.g. Cassandra); it is not closed at the
   * end, and batches run in this thread (no worker threads).
   */
  readonly store?: Store;
  /**
   * Process batches in worker threads (one per worker, each with its own store connection) so that a run
   * uses several cores. Default: when workers > 1, with batches processed in this thread until the threads
   * have started; `true`: only in threads (after they started). Threads use the default file I/O, not `io`.
   */
  readonly threads?: boolean;
}

export interface NodeSummary {
  readonly node: string;
  readonly type: string;
  readonly status: NodeStatus;
  readonly batchesTotal: number;
  readonly batchesFinished: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
  /** From the first batch start to the last batch end. */
  readonly elapsedMs: number;
  readonly files: readonly string[];
  readonly failures: readonly { readonly batchIdx: number; readonly message: string }[];
}

export interface LocalRunResult {
  readonly runId: number;
  readonly runStatus: RunStatus;
  readonly nodes: readonly NodeSummary[];
  readonly files: readonly string[];
  readonly elapsedMs: number;
  /** True when every affected node succeeded. */
  readonly ok: boolean;
  /** Batches that could not be processed at all (not even marked failed). */
  readonly undelivered: readonly string[];
}

interface NodeStats {
  rowsIn: number;
  rowsOut: number;
  firstStart?: number;
  lastEnd?: number;
  files: string[];
}

/**
 * Runs a script in this process: embedded store + in-process queue, `workers` batches at a time.
 * Resolves when the run is complete (or nothing more can happen) with a per-node summary.
 */
export async function runLocal(opts: LocalRunOptions): Promise<LocalRunResult> {
  const t0 = Date.now();
  const script = await loadScript({
    scriptUrl: opts.scriptUrl,
    paramsUrl: opts.paramsUrl,
    overrides: opts.overrides ? { ...opts.overrides } : undefined,
    readText: (url) => opts.io.readText(url),
  });
  const useThreads = !opts.store && (opts.threads ?? opts.workers > 1);
  // With worker threads every connection (this thread's too) takes turns on the store's write lock.
  const writeLock = new SharedArrayBuffer(4);
  const ownStore: Store = opts.store ?? new EmbeddedStore({ stateDir: opts.stateDir });
  const store: Store = useThreads ? lockedStore(ownStore, writeLock) : ownStore;
  // Waiting for dependencies is bounded by maxWaitMs below, not by a delivery count.
  const queue = new MemoryQueue({ maxDeliveries: Number.MAX_SAFE_INTEGER });
  const stats = new Map<string, NodeStats>();
  const statsOf = (node: string): NodeStats => {
    let s = stats.get(node);
    if (!s) stats.set(node, (s = { rowsIn: 0, rowsOut: 0, files: [] }));
    return s;
  };
  let runId = -1;
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const onEvent = (e: RunEvent): void => {
    if (e.runId === runId) {
      const now = Date.now();
      if (e.kind === 'batch-start') {
        const s = statsOf(e.node);
        s.firstStart ??= now;
      } else if (e.kind === 'batch-end') {
        const s = statsOf(e.node);
        s.lastEnd = now;
        if (e.result) {
          s.rowsIn += e.result.rowsIn;
          s.rowsOut += e.result.rowsOut;
          s.files.push(...e.result.filesWritten);
        }
      } else if (e.kind === 'run-end') {
        finish?.();
      }
    }
    opts.onEvent?.(e);
  };
  const handler = createBatchHandler({
    store,
    queue,
    io: opts.io,
    python: opts.python,
    logger: opts.logger,
    onEvent,
    getScript: async () => script,
  });
  const maxWait = opts.maxWaitMs ?? 600_000;
  let pool: ThreadPool | undefined;
  const wrapped = async (msg: BatchMessage): Promise<Disposition> => {
    let d: Disposition;
    try {
      d = pool ? await pool.handle(msg) : await handler(msg);
    } catch (err) {
      d = { kind: 'dead', reason: errorMessage(err) };
    }
    if (d.kind === 'retry' && Date.now() - msg.ts > maxWait) {
      d = { kind: 'dead', reason: `gave up after ${Math.round(maxWait / 1000)} s: ${d.reason}` };
    }
    return d;
  };
  try {
    if (useThreads) {
      pool = await ThreadPool.start(
        opts.workers,
        {
          stateDir: opts.stateDir,
          writeLock,
          scriptUrl: opts.scriptUrl,
          paramsUrl: opts.paramsUrl,
          overrides: opts.overrides,
          python: opts.python,
        },
        queue,
        onEvent,
        // explicit `threads: true`: every batch in a worker thread; by default the main thread works
        // until the threads are up
        opts.threads === true ? undefined : handler,
      );
    }
    const consumer = await queue.consume(opts.ks, wrapped, Math.max(1, opts.workers));
    try {
      const started = await startRun({
        store,
        queue,
        ks: opts.ks,
        script,
        startNodes: opts.startNodes,
        scriptUrl: opts.scriptUrl,
        paramsUrl: opts.paramsUrl,
        description: opts.description,
        overrides: opts.overrides,
      });
      runId = started.runId;
      opts.onStart?.({ runId, script, affectedNodes: started.affectedNodes });
      const stop = (): void => {
        void stopRun(store, opts.ks, runId, 'interrupted').catch(() => undefined);
      };
      if (opts.signal?.aborted) stop();
      opts.signal?.addEventListener('abort', stop, { once: true });
      // the run completes, or nothing is left to do (every batch settled or dead-lettered)
      await Promise.race([finished, queue.waitIdle(opts.ks)]);
    } finally {
      await consumer.stop();
    }
    // summary
    const props = (await store.getRunProperties(opts.ks)).find((p) => p.runId === runId)!;
    const statuses = nodeStatusesOf(await store.getNodeHistory(opts.ks, runId));
    const nodes: NodeSummary[] = [];
    for (const name of props.affectedNodes) {
      const history = await store.getBatchHistory(opts.ks, runId, name);
      const completion = nodeCompletionOf(history);
      const failures = history
        .filter((h) => h.status === NodeStatus.Fail)
        .map((h) => ({ batchIdx: h.batchIdx, message: h.comment }));
      const s = statsOf(name);
      nodes.push({
        node: name,
        type: script.nodes.get(name)?.type ?? '?',
        status: statuses.get(name) ?? NodeStatus.None,
        batchesTotal: completion.batchesTotal,
        batchesFinished: completion.finished,
        rowsIn: s.rowsIn,
        rowsOut: s.rowsOut,
        elapsedMs: s.firstStart !== undefined && s.lastEnd !== undefined ? s.lastEnd - s.firstStart : 0,
        files: [...new Set(s.files)].sort(),
        failures,
      });
    }
    const undelivered = queue
      .deadLetters(opts.ks)
      .map((d) => `node ${d.msg.node} batch ${d.msg.batchIdx}: ${d.reason}`);
    const runStatus = runStatusOf(await store.getRunHistory(opts.ks, runId));
    return {
      runId,
      runStatus,
      nodes,
      files: [...new Set(nodes.flatMap((n) => n.files))].sort(),
      elapsedMs: Date.now() - t0,
      ok: runStatus === RunStatus.Complete && nodes.every((n) => n.status === NodeStatus.Success),
      undelivered,
    };
  } finally {
    await pool?.close();
    await queue.close();
    if (!opts.store) await ownStore.close();
  }
}
