/**
 * Runs the controller process: a Manager (informers, controllers, leader election) plus the health server
 * (/metrics, /healthz, /readyz), until SIGTERM/SIGINT or the loss of leadership. Controllers are registered
 * by `setup`, so entry points stay thin.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger, metricsRegistry, startHealthServer } from '../obs/index.js';
import type { OperatorConfig } from './config.js';
import type { KubeClient } from './kube-client.js';
import { Manager, type ManagerExit } from './manager.js';
import { operatorMetrics } from './metrics.js';

export interface OperatorContext {
  manager: Manager;
  client: KubeClient;
  config: OperatorConfig;
  logger: Logger;
}

export interface RunOperatorOptions {
  config: OperatorConfig;
  client: KubeClient;
  /** Registers informers and controllers on the manager. */
  setup(ctx: OperatorContext): void;
  logger?: Logger;
  registry?: Registry;
  /** Stops the operator when aborted (default: SIGTERM and SIGINT). */
  signal?: AbortSignal;
  /** Called once the health server listens (tests use the port). */
  onListening?(port: number): void;
}

export async function runOperator(opts: RunOperatorOptions): Promise<ManagerExit> {
  const logger = opts.logger ?? createLogger({ name: 'plexus-operator' });
  const registry = opts.registry ?? metricsRegistry();
  const { config } = opts;
  const manager = new Manager({
    client: opts.client,
    logger,
    metrics: operatorMetrics(registry),
    ...(config.leaderElection
      ? {
          leaderElection: {
            namespace: config.namespace,
            name: config.leaseName,
            identity: config.identity,
            leaseDurationMs: config.leaseDurationMs,
            renewDeadlineMs: config.renewDeadlineMs,
            retryPeriodMs: config.retryPeriodMs,
          },
        }
      : {}),
  });
  opts.setup({ manager, client: opts.client, config, logger });

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    logger.info({ signal: sig }, 'stopping');
    stop.abort();
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  if (opts.signal) {
    if (opts.signal.aborted) stop.abort();
    else opts.signal.addEventListener('abort', () => stop.abort(), { once: true });
  } else {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const h = () => onSignal(sig);
      process.once(sig, h);
      handlers.push([sig, h]);
    }
  }

  const health = await startHealthServer({
    port: config.healthPort,
    registry,
    live: () => true,
    // Standbys are ready too: their caches are warm and they take over when the leader goes.
    ready: () => manager.ready(),
  });
  opts.onListening?.(health.port);
  logger.info(
    {
      port: health.port,
      namespace: config.namespace,
      watch: config.watchNamespace ?? '(all)',
      leaderElection: config.leaderElection,
    },
    'operator started',
  );
  try {
    const exit = await manager.run(stop.signal);
    if (exit === 'lost-leadership')
      logger.error('lost leadership; exiting so that a fresh process campaigns again');
    return exit;
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    await health.close();
  }
}
