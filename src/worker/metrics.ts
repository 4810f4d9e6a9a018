import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The worker's Prometheus metrics (registered once per registry). */
export interface WorkerMetrics {
  readonly batches: Counter<'outcome'>;
  readonly batchSeconds: Histogram<'outcome'>;
  readonly inFlight: Gauge;
  readonly rows: Counter<'direction'>;
  readonly republished: Counter;
  readonly brokerConnected: Gauge;
  readonly brokerReconnects: Counter;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function workerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  return {
    batches: reuse(
      registry,
      'plexus_worker_batches_total',
      () =>
        new Counter({
          name: 'plexus_worker_batches_total',
          help: 'Batch messages handled, by outcome: ack (done), wait, retry (failed, tried again later), dead, given_up.',
          labelNames: ['outcome'],
          registers,
        }),
    ),
    batchSeconds: reuse(
      registry,
      'plexus_worker_batch_seconds',
      () =>
        new Histogram({
          name: 'plexus_worker_batch_seconds',
          help: 'Time spent handling one batch message, by outcome.',
          labelNames: ['outcome'],
          buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 1200],
          registers,
        }),
    ),
    inFlight: reuse(
      registry,
      'plexus_worker_batches_in_flight',
      () =>
        new Gauge({
          name: 'plexus_worker_batches_in_flight',
          help: 'Batch messages being handled now.',
          registers,
        }),
    ),
    rows: reuse(
      registry,
      'plexus_worker_rows_total',
      () =>
        new Counter({
          name: 'plexus_worker_rows_total',
          help: 'Rows read (in) and written (out) by the batches this worker completed.',
          labelNames: ['direction'],
          registers,
        }),
    ),
    republished: reuse(
      registry,
      'plexus_worker_sweep_republished_total',
      () =>
        new Counter({
          name: 'plexus_worker_sweep_republished_total',
          help: 'Batches the periodic sweep published because a crash had left them unpublished.',
          registers,
        }),
    ),
    brokerConnected: reuse(
      registry,
      'plexus_worker_broker_connected',
      () =>
        new Gauge({
          name: 'plexus_worker_broker_connected',
          help: '1 while connected to RabbitMQ.',
          registers,
        }),
    ),
    brokerReconnects: reuse(
      registry,
      'plexus_worker_broker_reconnects_total',
      () =>
        new Counter({
          name: 'plexus_worker_broker_reconnects_total',
          help: 'Times the RabbitMQ connection was lost and re-established.',
          registers,
        }),
    ),
  };
}
