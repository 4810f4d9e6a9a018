import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One prom-client registry per process, with the Node.js default metrics under the `plexus_` prefix.
 * Components register their own counters/gauges on it (names end in `_total` for counters).
 */
let registry: Registry | undefined;

export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'plexus_' });
  }
  return registry;
}
