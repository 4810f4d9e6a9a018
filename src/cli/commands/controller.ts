import type { Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import { createLogger, metricsRegistry } from '../../obs/index.js';
import {
  createKubeClient,
  loadKubeConfig,
  operatorConfigFromEnv,
  parseDurationMs,
  runOperator,
  type OperatorContext,
} from '../../operator/index.js';
import { registerDataRunController } from '../../operator/datarun/index.js';
import { registerStreamBridgeController } from '../../operator/streambridge/index.js';
import type { CommandRegistrar } from '../common.js';
import type { Registry } from 'prom-client';

/** What a controller registration gets: the operator context, the metrics registry and the environment. */
export interface ControllerSetup {
  ctx: OperatorContext;
  registry: Registry;
  env: Readonly<Record<string, string | undefined>>;
}

/** Registers one controller on the manager; returns a closer for what it opened. */
export type ControllerRegistration = (setup: ControllerSetup) => { close(): Promise<void> };

/** The controllers `plexus controller` runs: one line per controller. */
export const controllers: readonly ControllerRegistration[] = [
  ({ ctx, registry, env }) => {
    const interval = env.PLEXUS_PROGRESS_INTERVAL;
    const progressIntervalMs =
      interval === undefined || interval === '' ? undefined : parseDurationMs(interval);
    if (interval && (progressIntervalMs === undefined || progressIntervalMs <= 0))
      throw new UserInputError(
        'INVALID_OPERATOR_CONFIG',
        `PLEXUS_PROGRESS_INTERVAL: "${interval}" is not a duration such as 5s`,
      );
    const command = env.PLEXUS_WORKER_COMMAND?.trim();
    return registerDataRunController(ctx, {
      registry,
      controllerEnv: env,
      ...(progressIntervalMs ? { progressIntervalMs } : {}),
      ...(env.PLEXUS_SNAPSHOT_MOUNT_PATH ? { snapshotMountPath: env.PLEXUS_SNAPSHOT_MOUNT_PATH } : {}),
      ...(command ? { workerCommand: command.split(/\s+/) } : {}),
    });
  },
  ({ ctx, registry, env }) => registerStreamBridgeController(ctx, { registry, env }),
];

interface ControllerCliOptions {
  kubeconfig?: string;
  namespace?: string;
}

export const controllerCommand: CommandRegistrar = (program: Command) => {
  program
    .command('controller')
    .description(
      'Run the Kubernetes controllers (DataRun, ...) with leader election until SIGTERM/SIGINT ' +
        '(in-cluster config, or --kubeconfig / $KUBECONFIG)',
    )
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--namespace <ns>', 'watch only this namespace (default $PLEXUS_WATCH_NAMESPACE, else all)')
    .addHelpText(
      'after',
      '\nSettings come from the environment (see docs/operator.md): POD_NAMESPACE, POD_NAME, PLEXUS_LEASE_*,\n' +
        'PLEXUS_HEALTH_PORT, PLEXUS_IMAGE, PLEXUS_*_SECRET, PLEXUS_PROGRESS_INTERVAL, PLEXUS_SNAPSHOT_MOUNT_PATH,\n' +
        'PLEXUS_WORKER_COMMAND, and the PLEXUS_CASSANDRA_* / PLEXUS_RABBITMQ_* connection defaults.',
    )
    .action(async (opts: ControllerCliOptions) => {
      const env = process.env;
      const config = operatorConfigFromEnv({
        env: opts.namespace ? { ...env, PLEXUS_WATCH_NAMESPACE: opts.namespace } : env,
      });
      const client = createKubeClient(loadKubeConfig(opts.kubeconfig));
      const logger = createLogger({ name: 'plexus-controller' });
      const registry = metricsRegistry();
      const closers: Array<{ close(): Promise<void> }> = [];
      try {
        const exit = await runOperator({
          config,
          client,
          logger,
          registry,
          setup: (ctx) => {
            for (const register of controllers) closers.push(register({ ctx, registry, env }));
          },
        });
        if (exit === 'lost-leadership') process.exitCode = 1;
      } finally {
        await Promise.allSettled(closers.map((c) => c.close()));
      }
    });
};
