/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 * - a candidate acquires the Lease when it is unheld, already its own, or not renewed for leaseDuration
 *   as observed on the candidate's own clock (so clock skew between nodes does not matter);
 * - the leader renews every retryPeriod; if it could not renew for renewDeadline it stops leading
 *   (its `onStoppedLeading` runs and the leader signal aborts) — the process should then exit;
 * - updates use the Lease's resourceVersion (optimistic concurrency), so two candidates never both win;
 * - on a clean stop the leader releases the Lease so a standby takes over at once.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { silentLogger } from '../obs/index.js';
import { errorMessage } from '../errors/index.js';
import { microTime, sleep, systemClock, type Clock, type RandomSource } from './clock.js';
import { isAlreadyExists, isConflict, LEASES, type KubeClient, type KubeObject } from './kube-client.js';
import type { OperatorMetrics } from './metrics.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** Whether `identity` may take or keep the Lease now (pure; `observedAtMs` is when we last saw it change). */
export function canAcquire(
  spec: LeaseSpec | undefined,
  observedAtMs: number,
  identity: string,
  nowMs: number,
  leaseDurationMs: number,
): boolean {
  const holder = spec?.holderIdentity;
  if (!holder || holder === identity) return true;
  return observedAtMs + leaseDurationMs <= nowMs;
}

/** The Lease spec after `identity` acquires or renews it (pure). */
export function nextLeaseSpec(
  current: LeaseSpec | undefined,
  identity: string,
  nowMs: number,
  leaseDurationMs: number,
): LeaseSpec {
  const now = microTime(nowMs);
  const takingOver = current?.holderIdentity !== identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: takingOver || !current?.acquireTime ? now : current.acquireTime,
    renewTime: now,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (takingOver && current?.holderIdentity ? 1 : 0),
  };
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  /** Lease name, e.g. plexus-operator. */
  name: string;
  /** Unique per process (default: host name + random id; set it to the pod name). */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the Lease up when stopped while leading (default true). */
  releaseOnStop?: boolean;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

export interface LeaderCallbacks {
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends (lost, or stopped). */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export class LeaderElector {
  readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly log: Logger;
  private observed: { spec: LeaseSpec | undefined; atMs: number } | undefined;
  private leading = false;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.identity = opts.identity ?? `${os.hostname()}_${randomUUID()}`;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = (opts.logger ?? silentLogger()).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: this.identity,
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed (may be another candidate). */
  observedLeader(): string | undefined {
    return this.observed?.spec?.holderIdentity;
  }

  /**
   * Campaigns until leader, leads until the Lease is lost or `signal` aborts, then returns.
   * Resolves true when leadership was lost (the caller should exit), false when stopped by `signal`.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    this.opts.metrics?.leader(this.opts.name, false);
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(callbacks, this.renewDeadlineMs)) break;
      await sleep(this.clock, this.retryPeriodMs * (1 + 0.2 * this.random()), signal);
    }
    if (signal.aborted) return false;

    this.leading = true;
    this.opts.metrics?.leader(this.opts.name, true);
    this.log.info('became leader');
    const leaderScope = new AbortController();
    void Promise.resolve()
      .then(() => callbacks.onStartedLeading(leaderScope.signal))
      .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'onStartedLeading failed'));

    let lastRenew = this.clock.now();
    let lost = false;
    while (!signal.aborted) {
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (signal.aborted) break;
      const remaining = this.renewDeadlineMs - (this.clock.now() - lastRenew);
      if (remaining > 0 && (await this.tryAcquireOrRenew(callbacks, remaining))) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        lost = true;
        this.log.error(
          { renewDeadlineMs: this.renewDeadlineMs },
          'could not renew the lease in time; stopping',
        );
        break;
      }
    }

    leaderScope.abort();
    this.leading = false;
    this.opts.metrics?.leader(this.opts.name, false);
    if (!lost && (this.opts.releaseOnStop ?? true)) await this.release();
    try {
      callbacks.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'onStoppedLeading failed');
    }
    return lost;
  }

  private observe(spec: LeaseSpec | undefined, callbacks: LeaderCallbacks): void {
    const prev = this.observed?.spec;
    const changed =
      !this.observed ||
      prev?.holderIdentity !== spec?.holderIdentity ||
      prev?.renewTime !== spec?.renewTime ||
      prev?.leaseTransitions !== spec?.leaseTransitions;
    if (changed) {
      if (spec?.holderIdentity && prev?.holderIdentity !== spec.holderIdentity)
        callbacks.onNewLeader?.(spec.holderIdentity);
      this.observed = { spec, atMs: this.clock.now() };
    }
  }

  private async tryAcquireOrRenew(callbacks: LeaderCallbacks, timeoutMs: number): Promise<boolean> {
    try {
      return await withTimeout(this.attempt(callbacks), timeoutMs, this.clock);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'lease update failed');
      return false;
    }
  }

  private async attempt(callbacks: LeaderCallbacks): Promise<boolean> {
    const { client, namespace, name } = this.opts;
    const lease = await client.get<Lease>(LEASES, namespace, name);
    const now = this.clock.now();
    if (!lease) {
      const spec = nextLeaseSpec(undefined, this.identity, now, this.leaseDurationMs);
      try {
        await client.create<Lease>(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec,
        });
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
      this.observe(spec, callbacks);
      return true;
    }
    this.observe(lease.spec, callbacks);
    if (!canAcquire(lease.spec, this.observed?.atMs ?? now, this.identity, now, this.leaseDurationMs))
      return false;
    const spec = nextLeaseSpec(lease.spec, this.identity, now, this.leaseDurationMs);
    try {
      await client.replace<Lease>(LEASES, namespace, name, { ...lease, spec });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(spec, callbacks);
    return true;
  }

  private async release(): Promise<void> {
    const { client, namespace, name } = this.opts;
    try {
      const lease = await client.get<Lease>(LEASES, namespace, name);
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.clock.now());
      await client.replace<Lease>(LEASES, namespace, name, {
        ...lease,
        spec: {
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
        },
      });
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not release the lease (it expires on its own)');
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`timed out after ${Math.round(ms)} ms`)), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
