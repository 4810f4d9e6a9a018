/**
 * Controller metrics with the names stock dashboards know (controller-runtime and client-go workqueue),
 * plus plexus_* series for the informers and the event recorder. One instance per prom-client registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricsRegistry } from '../obs/index.js';
import type { QueueObserver } from './workqueue.js';

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

export class OperatorMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly queueWait: Histogram<'name'>;
  readonly leaderStatus: Gauge<'name'>;
  readonly informerRelists: Counter<'resource' | 'reason'>;
  readonly informerRestarts: Counter<'resource'>;
  readonly eventsTotal: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Reconciliations by controller and result (success, error, requeue, requeue_after).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Reconciliations that returned an error.',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Duration of reconciliations.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Workers currently reconciling.',
      labelNames: ['controller'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['name'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Keys added to the work queue.',
      labelNames: ['name'],
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Rate-limited requeues.',
      labelNames: ['name'],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long a key waited before a worker took it.',
      labelNames: ['name'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60, 300],
      registers,
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this process holds the lease.',
      labelNames: ['name'],
      registers,
    });
    this.informerRelists = new Counter({
      name: 'plexus_informer_relists_total',
      help: 'Watch restarts by cause: expired (410 Gone, full re-list) or stale (silent stream).',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.informerRestarts = new Counter({
      name: 'plexus_informer_restarts_total',
      help: 'Watch failures followed by a backoff and a retry.',
      labelNames: ['resource'],
      registers,
    });
    this.eventsTotal = new Counter({
      name: 'plexus_events_total',
      help: 'Kubernetes Events: created, aggregated (series count bumped), dropped (rate limit) or failed.',
      labelNames: ['result'],
      registers,
    });
  }

  reconciled(controller: string, result: ReconcileResult, seconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    if (result === 'error') this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }

  queueObserver(name: string): QueueObserver {
    return {
      depth: (n) => this.queueDepth.set({ name }, n),
      added: () => this.queueAdds.inc({ name }),
      retried: () => this.queueRetries.inc({ name }),
      waited: (s) => this.queueWait.observe({ name }, s),
    };
  }

  leader(name: string, isLeader: boolean): void {
    this.leaderStatus.set({ name }, isLeader ? 1 : 0);
  }

  informerRelist(resource: string, reason: 'expired' | 'stale'): void {
    this.informerRelists.inc({ resource, reason });
  }

  informerRestart(resource: string): void {
    this.informerRestarts.inc({ resource });
  }

  event(result: 'created' | 'aggregated' | 'dropped' | 'failed'): void {
    this.eventsTotal.inc({ result });
  }
}

const perRegistry = new WeakMap<Registry, OperatorMetrics>();

/** The operator metrics of a registry (the process registry by default), created once. */
export function operatorMetrics(registry: Registry = metricsRegistry()): OperatorMetrics {
  let m = perRegistry.get(registry);
  if (!m) {
    m = new OperatorMetrics(registry);
    perRegistry.set(registry, m);
  }
  return m;
}
