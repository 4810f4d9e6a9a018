import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The bridge's Prometheus series (`plexus_bridge_*`), one set per registry, labelled by bridge name
 * (bridges are few and long-lived, so the name is a bounded label).
 */
export interface BridgeMetricSet {
  messagesReceived: Counter<'bridge'>;
  bytesReceived: Counter<'bridge'>;
  messagesDelivered: Counter<'bridge'>;
  bytesDelivered: Counter<'bridge'>;
  duplicates: Counter<'bridge'>;
  deadLettered: Counter<'bridge'>;
  discarded: Counter<'bridge' | 'reason'>;
  retries: Counter<'bridge' | 'side'>;
  reconnects: Counter<'bridge' | 'side'>;
  errors: Counter<'bridge' | 'side' | 'kind'>;
  connected: Gauge<'bridge' | 'side'>;
  inFlight: Gauge<'bridge'>;
  bufferBytes: Gauge<'bridge'>;
  bufferFiles: Gauge<'bridge'>;
  lastDelivery: Gauge<'bridge'>;
  uploadSeconds: Histogram<'bridge'>;
  uploadedObjects: Counter<'bridge'>;
  uploadedBytes: Counter<'bridge'>;
}

const sets = new WeakMap<Registry, BridgeMetricSet>();

export function bridgeMetrics(registry: Registry): BridgeMetricSet {
  const existing = sets.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const set: BridgeMetricSet = {
    messagesReceived: new Counter({
      name: 'plexus_bridge_messages_received_total',
      help: 'Messages taken from the source',
      labelNames: ['bridge'],
      registers,
    }),
    bytesReceived: new Counter({
      name: 'plexus_bridge_bytes_received_total',
      help: 'Payload bytes taken from the source',
      labelNames: ['bridge'],
      registers,
    }),
    messagesDelivered: new Counter({
      name: 'plexus_bridge_messages_delivered_total',
      help: 'Messages the sink (or its durable disk buffer) confirmed and the source was acknowledged for',
      labelNames: ['bridge'],
      registers,
    }),
    bytesDelivered: new Counter({
      name: 'plexus_bridge_bytes_delivered_total',
      help: 'Payload bytes confirmed by the sink',
      labelNames: ['bridge'],
      registers,
    }),
    duplicates: new Counter({
      name: 'plexus_bridge_duplicates_redelivered_total',
      help: 'Messages the source handed out again (at-least-once redelivery)',
      labelNames: ['bridge'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'plexus_bridge_dead_lettered_total',
      help: 'Messages the sink refused for good and that went to the dead-letter target',
      labelNames: ['bridge'],
      registers,
    }),
    discarded: new Counter({
      name: 'plexus_bridge_discarded_total',
      help: 'Records or bytes set aside (torn buffer tail, quarantined segment): any increase is worth a look',
      labelNames: ['bridge', 'reason'],
      registers,
    }),
    retries: new Counter({
      name: 'plexus_bridge_retries_total',
      help: 'Operations retried after a failure',
      labelNames: ['bridge', 'side'],
      registers,
    }),
    reconnects: new Counter({
      name: 'plexus_bridge_reconnects_total',
      help: 'Connections re-established (after a loss or a rotation)',
      labelNames: ['bridge', 'side'],
      registers,
    }),
    errors: new Counter({
      name: 'plexus_bridge_errors_total',
      help: 'Errors by side and kind',
      labelNames: ['bridge', 'side', 'kind'],
      registers,
    }),
    connected: new Gauge({
      name: 'plexus_bridge_connected',
      help: '1 when the side is connected',
      labelNames: ['bridge', 'side'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'plexus_bridge_in_flight_messages',
      help: 'Messages received and not yet acknowledged',
      labelNames: ['bridge'],
      registers,
    }),
    bufferBytes: new Gauge({
      name: 'plexus_bridge_buffer_bytes',
      help: 'Bytes in the local disk buffer (active and committed segments)',
      labelNames: ['bridge'],
      registers,
    }),
    bufferFiles: new Gauge({
      name: 'plexus_bridge_buffer_files',
      help: 'Committed segments waiting in the local disk buffer',
      labelNames: ['bridge'],
      registers,
    }),
    lastDelivery: new Gauge({
      name: 'plexus_bridge_last_delivery_timestamp_seconds',
      help: 'When the sink last confirmed a message (seconds since the epoch)',
      labelNames: ['bridge'],
      registers,
    }),
    uploadSeconds: new Histogram({
      name: 'plexus_bridge_upload_duration_seconds',
      help: 'Time to upload one committed segment',
      labelNames: ['bridge'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    uploadedObjects: new Counter({
      name: 'plexus_bridge_uploaded_objects_total',
      help: 'Objects uploaded from the disk buffer',
      labelNames: ['bridge'],
      registers,
    }),
    uploadedBytes: new Counter({
      name: 'plexus_bridge_uploaded_bytes_total',
      help: 'Object bytes uploaded from the disk buffer',
      labelNames: ['bridge'],
      registers,
    }),
  };
  sets.set(registry, set);
  return set;
}
