/**
 * Records events.k8s.io/v1 Events about objects (`kubectl describe` shows them).
 *
 * - Rate-limited per object (token bucket: `burst` events, then one per `refillMs`), so a hot reconcile
 *   loop cannot flood the API server; dropped events are counted in plexus_events_total{result="dropped"}.
 * - An event identical to one recorded within `aggregateWindowMs` (same object, type, reason, action and
 *   note) is not created again: the existing Event's `series` count is bumped instead.
 * - Recording never throws: a failure is logged and counted, the reconcile goes on.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { silentLogger } from '../obs/index.js';
import { errorMessage } from '../errors/index.js';
import { truncate } from './conditions.js';
import { microTime, systemClock, type Clock } from './clock.js';
import { EVENTS, objectKey, type KubeClient, type KubeObject } from './kube-client.js';
import type { OperatorMetrics } from './metrics.js';

export type EventType = 'Normal' | 'Warning';

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface KubeEvent extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: ObjectReference;
  related?: ObjectReference;
  note?: string;
  type: EventType;
  series?: { count: number; lastObservedTime: string };
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** e.g. plexus.dev/operator */
  reportingController: string;
  /** e.g. the pod name (default: host name). */
  reportingInstance?: string;
  /** Events an object may get at once (default 25). */
  burst?: number;
  /** One more event allowed per this many ms (default 30 s). */
  refillMs?: number;
  /** Identical events within this window are aggregated (default 10 min). */
  aggregateWindowMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

/** Notes are limited to 1 kB by the API. */
const NOTE_MAX = 1024;
const MAX_TRACKED = 4096;

export function referenceTo(obj: KubeObject): ObjectReference {
  return {
    ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
    ...(obj.kind ? { kind: obj.kind } : {}),
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
    ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
  };
}

/** Per-key token bucket (pure apart from the clock). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly clock: Clock,
  ) {}

  take(key: string): boolean {
    const now = this.clock.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) / this.refillMs);
    b.at = now;
    if (this.buckets.size >= MAX_TRACKED && !this.buckets.has(key)) {
      // Forget the oldest bucket: full buckets of idle objects carry no information.
      const first = this.buckets.keys().next().value;
      if (first !== undefined) this.buckets.delete(first);
    }
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export class EventRecorder {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limiter: TokenBuckets;
  private readonly recent = new Map<
    string,
    { name: string; namespace: string; count: number; firstMs: number }
  >();
  private readonly instance: string;

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'events' });
    this.limiter = new TokenBuckets(opts.burst ?? 25, opts.refillMs ?? 30_000, this.clock);
    this.instance = opts.reportingInstance ?? os.hostname();
  }

  /**
   * Records an event about `regarding`. `reason` is CamelCase (what happened), `action` what the controller
   * did or failed to do (e.g. Reconcile, StartRun), `note` a human sentence. Resolves to the Event's name, or
   * undefined when it was dropped or could not be written.
   */
  async record(
    regarding: KubeObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
    related?: KubeObject,
  ): Promise<string | undefined> {
    const namespace = regarding.metadata.namespace ?? 'default';
    const objectId = regarding.metadata.uid ?? objectKey(regarding);
    const trimmed = truncate(note, NOTE_MAX);
    const aggKey = [objectId, type, reason, action, trimmed].join('\u0000');
    const now = this.clock.now();
    const window = this.opts.aggregateWindowMs ?? 600_000;
    this.expire(now, window);

    if (!this.limiter.take(objectId)) {
      this.opts.metrics?.event('dropped');
      this.log.debug({ object: objectKey(regarding), reason }, 'event dropped by the per-object rate limit');
      return undefined;
    }

    const seen = this.recent.get(aggKey);
    try {
      if (seen) {
        seen.count++;
        await this.opts.client.mergePatch<KubeEvent>(EVENTS, seen.namespace, seen.name, {
          series: { count: seen.count, lastObservedTime: microTime(now) },
        });
        this.opts.metrics?.event('aggregated');
        return seen.name;
      }
      const name = `${regarding.metadata.name}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
      const event: KubeEvent = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.opts.reportingController,
        reportingInstance: this.instance,
        action: truncate(action, 128),
        reason: truncate(reason, 128),
        regarding: referenceTo(regarding),
        ...(related ? { related: referenceTo(related) } : {}),
        note: trimmed,
        type,
      };
      await this.opts.client.create<KubeEvent>(EVENTS, namespace, event);
      this.recent.set(aggKey, { name, namespace, count: 1, firstMs: now });
      this.opts.metrics?.event('created');
      return name;
    } catch (err) {
      if (seen) this.recent.delete(aggKey);
      this.opts.metrics?.event('failed');
      this.log.warn(
        { err: errorMessage(err), object: objectKey(regarding), reason },
        'could not record event',
      );
      return undefined;
    }
  }

  normal(regarding: KubeObject, reason: string, action: string, note: string): Promise<string | undefined> {
    return this.record(regarding, 'Normal', reason, action, note);
  }

  warning(regarding: KubeObject, reason: string, action: string, note: string): Promise<string | undefined> {
    return this.record(regarding, 'Warning', reason, action, note);
  }

  private expire(now: number, window: number): void {
    for (const [k, v] of this.recent) {
      if (now - v.firstMs > window) this.recent.delete(k);
    }
    while (this.recent.size > MAX_TRACKED) {
      const first = this.recent.keys().next().value;
      if (first === undefined) break;
      this.recent.delete(first);
    }
  }
}
