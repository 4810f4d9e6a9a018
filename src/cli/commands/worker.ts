import type { Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import {
  createLogger,
  metricsRegistry,
  startHealthServer,
  type HealthServer,
  type Logger,
} from '../../obs/index.js';
import { RabbitMqQueue, rabbitMqSettings } from '../../queue/index.js';
import { createEngineIo, instanceName } from '../../runtime/index.js';
import { CassandraStore, cassandraSettings } from '../../store/index.js';
import { startWorker } from '../../worker/index.js';
import type { CommandRegistrar } from '../common.js';
import { pythonSettingsFromEnv } from '../python.js';

/** Connection flags shared by worker, start-run, stop-run and status (each falls back to its env var). */
export interface ConnectionFlags {
  cassandra?: string;
  cassandraDc?: string;
  rabbitmq?: string;
}

export function addConnectionOptions(cmd: Command, withQueue: boolean): Command {
  cmd
    .option(
      '--cassandra <host[:port],...>',
      'Cassandra contact points (default $PLEXUS_CASSANDRA_CONTACT_POINTS)',
    )
    .option(
      '--cassandra-dc <name>',
      'Cassandra local data center (default $PLEXUS_CASSANDRA_LOCAL_DC or datacenter1)',
    );
  if (withQueue)
    cmd.option(
      '--rabbitmq <url>',
      'RabbitMQ URL amqp://user:password@host:5672/vhost (default $PLEXUS_RABBITMQ_URL)',
    );
  return cmd;
}

export function openStore(flags: ConnectionFlags): CassandraStore {
  return new CassandraStore(
    cassandraSettings({ contactPoints: flags.cassandra, localDataCenter: flags.cassandraDc }),
  );
}

export function openQueue(flags: ConnectionFlags, logger?: Logger): RabbitMqQueue {
  return new RabbitMqQueue(
    { ...rabbitMqSettings({ url: flags.rabbitmq }), connectionName: `plexus ${instanceName()}` },
    logger,
  );
}

/** `--keyspace`, else $PLEXUS_KEYSPACE; a clear error when neither is given. */
export function keyspaceOf(value: string | undefined): string {
  const ks = value ?? process.env.PLEXUS_KEYSPACE;
  if (!ks)
    throw new UserInputError('NO_KEYSPACE', 'no keyspace: give --keyspace <name> or set PLEXUS_KEYSPACE');
  return ks;
}

export function intOption(
  flag: string,
  value: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === '') return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UserInputError('BAD_OPTION', `${flag} ${value}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

interface WorkerCliOptions extends ConnectionFlags {
  keyspace?: string;
  concurrency?: string;
  metricsPort?: string;
  metricsHost: string;
  maxFailures?: string;
  sweepInterval?: string;
  leaseTtl?: string;
  shutdownGrace?: string;
}

export const workerCommand: CommandRegistrar = (program: Command) => {
  const cmd = program
    .command('worker')
    .description(
      "Process the batches of a keyspace's runs from RabbitMQ (state in Cassandra) until SIGTERM/SIGINT",
    )
    .option('--keyspace <name>', 'keyspace whose batch queue to consume (default $PLEXUS_KEYSPACE)')
    .option(
      '--concurrency <n>',
      'batches processed at the same time (default $PLEXUS_WORKER_CONCURRENCY or 2)',
    )
    .option(
      '--metrics-port <n>',
      'serve /metrics, /healthz, /readyz on this port (default $PLEXUS_METRICS_PORT)',
    )
    .option('--metrics-host <host>', 'address of the metrics server', '0.0.0.0')
    .option(
      '--max-failures <n>',
      'transient failures before a batch fails (default $PLEXUS_MAX_BATCH_FAILURES or 5)',
    )
    .option('--sweep-interval <ms>', 'how often to repair work a crash left unpublished; 0 = never', '30000')
    .option('--lease-ttl <ms>', 'batch lease lifetime: how soon a dead worker’s batch is taken over', '30000')
    .option(
      '--shutdown-grace <ms>',
      'on SIGTERM, how long batches in flight may finish before release',
      '60000',
    );
  addConnectionOptions(cmd, true).action(async (opts: WorkerCliOptions) => {
    const ks = keyspaceOf(opts.keyspace);
    const env = process.env;
    const concurrency = intOption(
      '--concurrency',
      opts.concurrency ?? env.PLEXUS_WORKER_CONCURRENCY,
      2,
      1,
      256,
    );
    const port = opts.metricsPort ?? env.PLEXUS_METRICS_PORT;
    const metricsPort =
      port === undefined || port === '' ? undefined : intOption('--metrics-port', port, 0, 0, 65535);
    const maxFailures = intOption(
      '--max-failures',
      opts.maxFailures ?? env.PLEXUS_MAX_BATCH_FAILURES,
      5,
      1,
      1000,
    );
    const sweepIntervalMs = intOption('--sweep-interval', opts.sweepInterval, 30_000, 0, 86_400_000);
    const leaseTtlMs = intOption('--lease-ttl', opts.leaseTtl, 30_000, 1000, 3_600_000);
    const graceMs = intOption('--shutdown-grace', opts.shutdownGrace, 60_000, 0, 86_400_000);
    const logger = createLogger({ name: 'plexus-worker' });
    const store = openStore(opts);
    const queue = openQueue(opts, logger);
    let health: HealthServer | undefined;
    try {
      // fail fast (with the reason) when Cassandra cannot be reached at all
      if (!(await store.keyspaceExists(ks))) {
        logger.info({ ks }, 'keyspace does not exist yet: waiting for a run to be started');
      }
      const registry = metricsRegistry();
      const worker = await startWorker({
        ks,
        store,
        queue,
        concurrency,
        io: createEngineIo(),
        python: pythonSettingsFromEnv(),
        logger,
        registry,
        maxFailures,
        sweepIntervalMs,
        leaseTtlMs,
      });
      if (metricsPort !== undefined) {
        health = await startHealthServer({
          port: metricsPort,
          host: opts.metricsHost,
          registry,
          live: () => worker.live(),
          ready: () => worker.ready(),
        });
        logger.info({ port: health.port }, 'serving /metrics, /healthz, /readyz');
      }
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          signals++;
          if (signals > 1) {
            logger.warn(
              { signal: sig },
              'second signal: exiting now (batches in flight will be redelivered)',
            );
            process.exit(130);
          }
          logger.info({ signal: sig }, 'shutting down');
          void worker.stop(graceMs).then(resolve, (err: unknown) => {
            logger.error({ err: String(err) }, 'error while stopping');
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      logger.info({ ks }, 'worker stopped');
    } finally {
      await health?.close();
      await queue.close();
      await store.close();
    }
  });
};
