/**
 * Registration of the StreamBridge controller in the controller process (`plexus controller`): settings
 * from the environment, an event recorder, a gauge of bridges by phase, and the controller itself.
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | PLEXUS_BRIDGE_POLL_INTERVAL | how often each bridge's pods are scraped (`/status`) | `15s` |
 * | PLEXUS_BRIDGE_STATUS_INTERVAL | counter-only status writes at most this often per bridge | `30s` |
 * | PLEXUS_BRIDGE_STALE_AFTER | a pod report older than this makes the bridge Degraded | `60s` |
 * | PLEXUS_BRIDGE_METRICS_PORT | port of the bridge pods' /metrics, /healthz, /readyz, /status | `9090` |
 */
import { Gauge, type Registry } from 'prom-client';
import type { StreamBridge } from '../../api/index.js';
import { AggregateUserError } from '../../errors/index.js';
import { parseDurationMs } from '../config.js';
import { EventRecorder } from '../events.js';
import type { OperatorContext } from '../run.js';
import { setupStreamBridgeController, type StreamBridgeControllerOptions } from './controller.js';

export interface StreamBridgeRegistrationOptions {
  registry?: Registry;
  env?: Readonly<Record<string, string | undefined>>;
  /** Overrides (tests): e.g. a scraper. */
  overrides?: Partial<StreamBridgeControllerOptions>;
}

/** The controller's settings from the environment; every problem is reported at once, naming the variable. */
export function streamBridgeSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Pick<
  StreamBridgeControllerOptions,
  'pollIntervalMs' | 'minStatusIntervalMs' | 'staleAfterMs' | 'metricsPort'
> {
  const problems: string[] = [];
  const duration = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const ms = parseDurationMs(v);
    if (ms === undefined || ms <= 0) {
      problems.push(`${name}: "${v}" is not a positive duration such as 15s`);
      return undefined;
    }
    return ms;
  };
  const out: ReturnType<typeof streamBridgeSettingsFromEnv> = {};
  const poll = duration('PLEXUS_BRIDGE_POLL_INTERVAL');
  const status = duration('PLEXUS_BRIDGE_STATUS_INTERVAL');
  const stale = duration('PLEXUS_BRIDGE_STALE_AFTER');
  if (poll !== undefined) out.pollIntervalMs = poll;
  if (status !== undefined) out.minStatusIntervalMs = status;
  if (stale !== undefined) out.staleAfterMs = stale;
  const port = env.PLEXUS_BRIDGE_METRICS_PORT;
  if (port !== undefined && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      problems.push(`PLEXUS_BRIDGE_METRICS_PORT: "${port}" is not a port number 1-65535`);
    else out.metricsPort = n;
  }
  if (problems.length > 0) throw new AggregateUserError('INVALID_OPERATOR_CONFIG', problems);
  return out;
}

/** Registers the StreamBridge controller on the operator's manager. */
export function registerStreamBridgeController(
  ctx: OperatorContext,
  opts: StreamBridgeRegistrationOptions = {},
): { close(): Promise<void> } {
  const { manager, client, config } = ctx;
  const settings = streamBridgeSettingsFromEnv(opts.env ?? {});
  const events = new EventRecorder({
    client,
    reportingController: 'plexus.dev/streambridge-controller',
    reportingInstance: config.identity,
    logger: ctx.logger,
  });
  const { controller, bridges } = setupStreamBridgeController(manager, {
    client,
    events,
    ...(config.image ? { defaultImage: config.image } : {}),
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
    workers: config.reconcileWorkers,
    resyncPeriodMs: config.resyncPeriodMs,
    ...settings,
    ...opts.overrides,
  });
  let gauge: Gauge | undefined;
  if (opts.registry) {
    gauge = new Gauge({
      name: 'plexus_streambridges',
      help: 'StreamBridges in the watched namespaces by namespace and phase (from the cache).',
      labelNames: ['namespace', 'phase'],
      registers: [opts.registry],
      collect() {
        this.reset();
        for (const b of bridges.list() as StreamBridge[]) {
          this.inc({ namespace: b.metadata.namespace ?? '', phase: b.status?.phase ?? 'Pending' });
        }
      },
    });
  }
  ctx.logger.info({ controller: controller.name, ...settings }, 'StreamBridge controller registered');
  return {
    close: async () => {
      if (gauge && opts.registry) opts.registry.removeSingleMetric('plexus_streambridges');
    },
  };
}
