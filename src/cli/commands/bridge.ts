import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { createBridge, loadBridgeConfig, type Bridge, type BridgeStatus } from '../../bridge/index.js';
import { UserInputError } from '../../errors/index.js';
import { createLogger, metricsRegistry, startHealthServer, type HealthServer } from '../../obs/index.js';
import type { CommandRegistrar } from '../common.js';

interface BridgeCliOptions {
  config: string;
  metricsPort?: string;
  metricsHost?: string;
  statusFile?: string;
  statusEvery?: string;
  check?: boolean;
}

/** Writes the status snapshot atomically (temp file + rename), for a supervisor or a person to read. */
function writeStatus(file: string, status: BridgeStatus): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(status, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

function parsePort(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UserInputError('BAD_OPTION', `--metrics-port ${v}: expected a port number 0-65535`);
  }
  return n;
}

export const bridgeCommand: CommandRegistrar = (program: Command) => {
  program
    .command('bridge')
    .description('Run one stream bridge (source -> disk buffer -> sink, at-least-once) until SIGTERM/SIGINT')
    .requiredOption('--config <file>', 'bridge config (.yaml or .json); ${ENV} references are expanded')
    .option(
      '--metrics-port <n>',
      'serve /metrics, /healthz, /readyz on this port (0 = any free port; default $PLEXUS_METRICS_PORT)',
    )
    .option('--metrics-host <host>', 'address for the metrics server', '0.0.0.0')
    .option('--status-file <file>', 'write the status snapshot (JSON) to this file while running and on exit')
    .option('--status-every <ms>', 'how often the status file is rewritten', '2000')
    .option('--check', 'validate the config and exit')
    .action(async (opts: BridgeCliOptions) => {
      const cfg = loadBridgeConfig(opts.config);
      if (opts.check) {
        process.stdout.write(
          `${opts.config}: OK: bridge ${cfg.name}, ${cfg.source.type} -> ${cfg.buffer ? 'disk buffer -> ' : ''}${cfg.sink.type}\n`,
        );
        return;
      }
      const logger = createLogger({ name: 'plexus-bridge' });
      const registry = metricsRegistry();
      const bridge: Bridge = createBridge(cfg, { registry, logger });
      const statusFile = opts.statusFile ? path.resolve(opts.statusFile) : undefined;
      const port = parsePort(opts.metricsPort ?? process.env.PLEXUS_METRICS_PORT);
      let health: HealthServer | undefined;
      if (port !== undefined) {
        health = await startHealthServer({
          port,
          host: opts.metricsHost ?? '0.0.0.0',
          registry,
          live: () => bridge.state.getPhase() !== 'Failed',
          ready: () => bridge.state.isReady(),
          status: () => bridge.status(),
        });
        logger.info({ port: health.port }, 'serving /metrics, /healthz, /readyz, /status');
      }
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          logger.warn(
            { signal: sig },
            'second signal: exiting now (unacknowledged messages will be redelivered)',
          );
          process.exit(130);
        }
        logger.info(
          { signal: sig },
          'stopping: no new messages; flushing and acknowledging what is in flight',
        );
        void bridge.stop(`received ${sig}`);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      const statusTimer = statusFile
        ? setInterval(
            () => writeStatus(statusFile, bridge.status()),
            Math.max(100, Number(opts.statusEvery) || 2000),
          )
        : undefined;
      try {
        await bridge.start();
        if (statusFile) writeStatus(statusFile, bridge.status());
        const outcome = await bridge.done;
        if (statusFile) writeStatus(statusFile, outcome.status);
        const c = outcome.status.counters;
        logger.info(
          {
            phase: outcome.status.phase,
            received: c.received,
            delivered: c.delivered,
            duplicates: c.duplicates,
          },
          'bridge finished',
        );
        if (outcome.error) {
          process.stderr.write(`error: bridge ${cfg.name} failed: ${outcome.error}\n`);
          process.exitCode = 1;
        }
      } finally {
        if (statusTimer) clearInterval(statusTimer);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await health?.close();
      }
    });
};
