/**
 * Wires informers, controllers and leader election together:
 * every replica keeps its informer caches warm (so a standby takes over fast); only the leader runs the
 * controllers; when leadership is lost the controllers stop and `run` resolves with 'lost-leadership' (the
 * process should exit and be restarted, as client-go operators do).
 */
import type { Logger } from 'pino';
import { silentLogger } from '../obs/index.js';
import { Controller, type ControllerOptions } from './controller.js';
import { Informer, type InformerOptions } from './informer.js';
import type { KubeClient, KubeObject } from './kube-client.js';
import { LeaderElector, type LeaderElectionOptions } from './leader.js';
import { operatorMetrics, type OperatorMetrics } from './metrics.js';

export interface ManagerOptions {
  client: KubeClient;
  /** Lease settings; absent: no leader election (a single replica). */
  leaderElection?: Omit<LeaderElectionOptions, 'client' | 'logger' | 'metrics'>;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

export type ManagerExit = 'stopped' | 'lost-leadership';

export class Manager {
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly controllers: Controller[] = [];
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics;
  readonly elector: LeaderElector | undefined;
  private leading = false;

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.logger ?? silentLogger();
    this.metrics = opts.metrics ?? operatorMetrics();
    this.elector = opts.leaderElection
      ? new LeaderElector({
          ...opts.leaderElection,
          client: opts.client,
          logger: this.log,
          metrics: this.metrics,
        })
      : undefined;
  }

  informer<T extends KubeObject>(opts: Omit<InformerOptions, 'client' | 'logger' | 'metrics'>): Informer<T> {
    const inf = new Informer<T>({
      ...opts,
      client: this.opts.client,
      logger: this.log,
      metrics: this.metrics,
    });
    this.informers.push(inf as unknown as Informer<KubeObject>);
    return inf;
  }

  controller(opts: Omit<ControllerOptions, 'logger' | 'metrics'>): Controller {
    const c = new Controller({ ...opts, logger: this.log, metrics: this.metrics });
    this.controllers.push(c);
    return c;
  }

  /** Liveness/readiness for /readyz: caches synced (leader or standby). */
  ready(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  isLeader(): boolean {
    return this.elector ? this.leading : true;
  }

  async run(signal: AbortSignal): Promise<ManagerExit> {
    for (const inf of this.informers) inf.start();
    try {
      // Caches fill while the API server is reachable; a stop request must not wait for that.
      await Promise.race([Promise.all(this.informers.map((i) => i.waitForSync())), aborted(signal)]);
      if (signal.aborted) return 'stopped';
      this.log.info({ informers: this.informers.length }, 'caches synced');
      if (!this.elector) {
        await this.runControllers(signal);
        return 'stopped';
      }
      let controllersDone: Promise<void> = Promise.resolve();
      const lost = await this.elector.run(signal, {
        onStartedLeading: (leaderSignal) => {
          this.leading = true;
          controllersDone = this.runControllers(leaderSignal);
        },
        onStoppedLeading: () => {
          this.leading = false;
        },
        onNewLeader: (id) => this.log.info({ leader: id }, 'leader observed'),
      });
      await controllersDone;
      return lost ? 'lost-leadership' : 'stopped';
    } finally {
      await Promise.all(this.informers.map((i) => i.stop()));
    }
  }

  private async runControllers(signal: AbortSignal): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.run(signal)));
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
