import type { Registry } from 'prom-client';
import type { EngineIo, PythonSettings } from '../engine/index.js';
import { errorMessage, UserInputError } from '../errors/index.js';
import { metricsRegistry, type Logger } from '../obs/index.js';
import type {
  BatchHandler,
  BatchMessage,
  Disposition,
  RabbitMqConsumer,
  RabbitMqQueue,
} from '../queue/index.js';
import {
  createBatchHandler,
  instanceName,
  recordBatchFailure,
  runScriptLoader,
  type HandlerDeps,
  type RunEvent,
} from '../runtime/index.js';
import { validateKeyspaceName, type DistributedStore } from '../store/index.js';
import { workerMetrics, type WorkerMetrics } from './metrics.js';
import { Sweeper } from './sweep.js';

export interface WorkerOptions {
  readonly ks: string;
  readonly store: DistributedStore;
  readonly queue: RabbitMqQueue;
  /** Batches processed at the same time (= the queue prefetch). */
  readonly concurrency: number;
  readonly io: EngineIo;
  readonly python?: PythonSettings;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** Name in batch history and lease owner (default host/plexus/pid). */
  readonly instance?: string;
  /** Transient failures of one batch before it fails (default 5). */
  readonly maxFailures?: number;
  /** Batch lease lifetime without renewal (default the runtime's, 30 s). */
  readonly leaseTtlMs?: number;
  /** How often the sweep repairs unpublished work (default 30 s; 0 turns it off). */
  readonly sweepIntervalMs?: number;
  /** Delay before a batch whose dependencies are not ready is tried again (default 1 s). */
  readonly waitRetryMs?: number;
  /** Overrides for runs whose store does not record them (the Cassandra store records them). */
  readonly overrides?: Readonly<Record<string, string>>;
}

export interface WorkerHandle {
  readonly instance: string;
  /** Consuming and connected to the broker. */
  ready(): boolean;
  /** For /healthz: the process answers; broker or store outages are retried, not fatal. */
  live(): boolean;
  /** Batch messages being handled now. */
  inFlight(): number;
  /** Runs one sweep now (tests, tools). */
  sweepNow(): Promise<void>;
  /**
   * Stops taking batches and waits up to `graceMs` for those in flight; after that the rest are released:
   * their messages go back to the queue (and their leases expire) for another worker.
   */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_SWEEP_MS = 30_000;

/**
 * A worker of one keyspace: consumes its batch queue with the runtime's batch handler (the same handler
 * as local runs), records batch/node/run state in the store, gives a batch up after `maxFailures`
 * transient failures (the batch and its node fail with the error), sweeps periodically for work a crash
 * left unpublished, and keeps metrics. Stateless: any worker can take any batch.
 */
export async function startWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  validateKeyspaceName(opts.ks);
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1 || opts.concurrency > 256) {
    throw new UserInputError(
      'BAD_OPTION',
      `concurrency ${opts.concurrency}: expected an integer from 1 to 256`,
    );
  }
  const { ks, store, queue, logger } = opts;
  const instance = opts.instance ?? instanceName();
  const metrics: WorkerMetrics = workerMetrics(opts.registry ?? metricsRegistry());
  const getScript = runScriptLoader(store, {
    readText: (url) => opts.io.readText(url),
    overrides: opts.overrides,
  });
  const onEvent = (e: RunEvent): void => {
    if (e.kind === 'batch-end' && e.result) {
      metrics.rows.inc({ direction: 'in' }, e.result.rowsIn);
      metrics.rows.inc({ direction: 'out' }, e.result.rowsOut);
    }
    if (e.kind === 'batch-end' && e.error) {
      logger.warn({ ks, run: e.runId, node: e.node, bi: e.batchIdx, err: e.error }, 'batch failed');
    } else if (e.kind === 'node-end') {
      logger.info({ ks, run: e.runId, node: e.node, status: e.status }, 'node finished');
    } else if (e.kind === 'run-end') {
      logger.info({ ks, run: e.runId, comment: e.comment }, 'run complete');
    }
  };
  const deps: HandlerDeps = {
    store,
    queue,
    io: opts.io,
    python: opts.python,
    logger,
    getScript,
    instance,
    onEvent,
    leaseTtlMs: opts.leaseTtlMs,
    waitRetryMs: opts.waitRetryMs,
  };
  const handler = createBatchHandler(deps);
  let inFlight = 0;
  const handle: BatchHandler = async (msg: BatchMessage): Promise<Disposition> => {
    inFlight++;
    metrics.inFlight.inc();
    const end = metrics.batchSeconds.startTimer();
    let d: Disposition;
    try {
      d = await handler(msg);
    } catch (err) {
      logger.error(
        { ks, run: msg.runId, node: msg.node, bi: msg.batchIdx, err: errorMessage(err) },
        'batch handler failed',
      );
      d = { kind: 'retry', reason: errorMessage(err) };
    } finally {
      inFlight--;
      metrics.inFlight.dec();
    }
    const outcome = d.kind === 'retry' ? (d.wait ? 'wait' : 'retry') : d.kind;
    metrics.batches.inc({ outcome });
    end({ outcome });
    return d;
  };

  let stopping = false;
  let lastReconnects = queue.reconnects;
  const syncBroker = (): void => {
    metrics.brokerConnected.set(queue.isConnected() ? 1 : 0);
    if (queue.reconnects > lastReconnects) {
      metrics.brokerReconnects.inc(queue.reconnects - lastReconnects);
      lastReconnects = queue.reconnects;
    }
  };
  const consumer: RabbitMqConsumer = await queue.consume(ks, handle, opts.concurrency, {
    maxFailures: opts.maxFailures ?? 5,
    onGiveUp: async (msg, reason) => {
      metrics.batches.inc({ outcome: 'given_up' });
      logger.error({ ks, run: msg.runId, node: msg.node, bi: msg.batchIdx, reason }, 'batch given up');
      await recordBatchFailure(deps, msg, reason);
    },
  });
  logger.info({ ks, instance, concurrency: opts.concurrency }, 'worker consuming');

  const sweeper = new Sweeper({
    store,
    queue,
    ks,
    getScript,
    owner: instance,
    leaseTtlMs: Math.max(2 * (opts.sweepIntervalMs ?? DEFAULT_SWEEP_MS), 10_000),
    logger,
  });
  let sweeping: Promise<void> | undefined;
  const sweepNow = (): Promise<void> => {
    sweeping ??= sweeper
      .sweep()
      .then((r) => {
        if (r.republishedBatches > 0) metrics.republished.inc(r.republishedBatches);
      })
      .catch((err: unknown) =>
        logger.warn({ ks, err: errorMessage(err) }, 'sweep failed; trying again later'),
      )
      .finally(() => {
        sweeping = undefined;
      });
    return sweeping;
  };
  const sweepMs = opts.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
  const timers: NodeJS.Timeout[] = [setInterval(syncBroker, 1000)];
  if (sweepMs > 0) timers.push(setInterval(() => void sweepNow(), sweepMs));
  for (const t of timers) t.unref();
  syncBroker();

  return {
    instance,
    ready: () => !stopping && queue.isConnected(),
    live: () => true,
    inFlight: () => inFlight,
    sweepNow,
    async stop(graceMs = 60_000) {
      if (stopping) return;
      stopping = true;
      for (const t of timers) clearInterval(t);
      logger.info(
        { ks, inFlight: consumer.inFlight() },
        'stopping: no new batches; finishing those in flight',
      );
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), graceMs);
      });
      const outcome = await Promise.race([consumer.stop().then(() => 'drained' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'expired') {
        logger.warn(
          { ks, inFlight: consumer.inFlight(), graceMs },
          'grace period over: releasing the batches in flight to other workers',
        );
        await consumer.abort();
      }
      await sweeping;
    },
  };
}
