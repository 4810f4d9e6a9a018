/**
 * A level-triggered controller: informers only enqueue `namespace/name` keys; workers take keys from the
 * work queue (one worker per key at a time) and call `reconcile`, which re-reads the state and acts.
 *
 * Outcome of a reconcile:
 * - resolves `{ requeueAfterMs }` ⇒ the key comes back after that delay (polling, deadlines);
 * - resolves `{ requeue: true }` ⇒ rate-limited requeue without counting an error;
 * - resolves otherwise ⇒ done, the key's backoff is reset;
 * - throws a Conflict (409) ⇒ rate-limited requeue (the cache was stale), not an error;
 * - throws anything else ⇒ logged, counted, rate-limited requeue with exponential backoff.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../obs/index.js';
import { errorMessage } from '../errors/index.js';
import { systemClock, type Clock } from './clock.js';
import type { Informer } from './informer.js';
import { isConflict, objectKey, parseKey, type KubeObject } from './kube-client.js';
import { operatorMetrics, type OperatorMetrics, type ReconcileResult } from './metrics.js';
import { WorkQueue, type RateLimiter } from './workqueue.js';

export interface ReconcileOutcome {
  requeue?: boolean;
  requeueAfterMs?: number;
}

export interface ReconcileRequest {
  key: string;
  namespace: string;
  name: string;
  /** Aborts when the controller stops (leadership lost, shutdown). */
  signal: AbortSignal;
  logger: Logger;
}

export type Reconciler = (req: ReconcileRequest) => Promise<ReconcileOutcome | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Keys reconciled in parallel (default 2). */
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics;
  private readonly clock: Clock;

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? operatorMetrics();
    this.log = (opts.logger ?? silentLogger()).child({ controller: opts.name });
    this.queue = new WorkQueue<string>({
      name: opts.name,
      clock: this.clock,
      observer: this.metrics.queueObserver(opts.name),
      ...(opts.rateLimiter ? { rateLimiter: opts.rateLimiter } : {}),
    });
  }

  /**
   * Enqueues the keys of an informer's objects on add, update, delete and resync. `mapKey` maps an object to
   * the key to reconcile (default: its own namespace/name; e.g. an owned object's owner).
   */
  watch<T extends KubeObject>(
    informer: Informer<T>,
    mapKey: (obj: T) => string | undefined = objectKey,
  ): void {
    const enqueue = (obj: T) => {
      const key = mapKey(obj);
      if (key) this.queue.add(key);
    };
    informer.addHandlers({
      add: enqueue,
      update: (_old, obj) => enqueue(obj),
      delete: enqueue,
      resync: enqueue,
    });
  }

  /** Runs the workers until `signal` aborts, then waits for in-flight reconciles to finish. */
  async run(signal: AbortSignal): Promise<void> {
    const workers = Math.max(1, this.opts.workers ?? 2);
    const stop = () => void this.queue.shutDown();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    this.log.info({ workers }, 'controller started');
    await Promise.all(Array.from({ length: workers }, () => this.worker(signal)));
    await this.queue.shutDown();
    this.log.info('controller stopped');
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processKey(key, signal);
    }
  }

  private async processKey(key: string, signal: AbortSignal): Promise<void> {
    const { namespace, name } = parseKey(key);
    const logger = this.log.child({ key });
    const started = this.clock.now();
    let result: ReconcileResult = 'success';
    this.metrics.activeWorkers.inc({ controller: this.name });
    try {
      const outcome = (await this.opts.reconcile({ key, namespace, name, signal, logger })) ?? {};
      if (outcome.requeueAfterMs !== undefined && outcome.requeueAfterMs >= 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, outcome.requeueAfterMs);
        result = 'requeue_after';
      } else if (outcome.requeue) {
        this.queue.addRateLimited(key);
        result = 'requeue';
      } else {
        this.queue.forget(key);
      }
    } catch (err) {
      if (isConflict(err)) {
        logger.debug({ err: errorMessage(err) }, 'conflict; requeued');
        this.queue.addRateLimited(key);
        result = 'requeue';
      } else {
        result = 'error';
        const retries = this.queue.numRequeues(key);
        logger.error({ err: errorMessage(err), retries }, 'reconcile failed');
        this.queue.addRateLimited(key);
      }
    } finally {
      this.metrics.activeWorkers.dec({ controller: this.name });
      this.metrics.reconciled(this.name, result, (this.clock.now() - started) / 1000);
      this.queue.done(key);
    }
  }
}
