/**
 * A resilient informer: list + watch with a local cache, built on KubeClient.
 *
 * - Lists (paginated), then watches from the list's resourceVersion with bookmarks and a server-side
 *   timeout (jittered), re-watching from the last seen resourceVersion after every clean close.
 * - 410 Gone (resourceVersion too old) ⇒ re-list; the re-list is diffed against the cache so that objects
 *   deleted or changed while disconnected produce delete/update events.
 * - Any other failure ⇒ retry with capped exponential backoff and jitter, forever, until stopped (the
 *   client-node 1.4 informer stops for good instead).
 * - A stale-stream timer re-watches when nothing (not even a bookmark) arrived for `staleAfterMs`, since a
 *   half-open connection can stall silently.
 * - A periodic resync hands every cached object to `resync` handlers (controllers re-enqueue the keys).
 *
 * Handlers run synchronously and must not throw (they should only enqueue keys); a throwing handler is
 * logged and does not disturb the stream.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../obs/index.js';
import { errorMessage, type PlexusError } from '../errors/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { sleep, systemClock, type Clock, type RandomSource, type TimerHandle } from './clock.js';
import {
  isGone,
  KubeApiError,
  objectKey,
  type KubeClient,
  type KubeObject,
  type ResourceType,
  type WatchEventType,
  type WatchHandle,
} from './kube-client.js';
import type { OperatorMetrics } from './metrics.js';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, obj: T): void;
  delete?(obj: T): void;
  resync?(obj: T): void;
}

export interface InformerOptions {
  client: KubeClient;
  resource: ResourceType;
  /** Watch one namespace; absent: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** Server-side watch timeout; each watch adds up to 20 % jitter (default 300 s). */
  watchTimeoutSeconds?: number;
  /** Re-watch when the stream was silent this long (default: watch timeout + 60 s). */
  staleAfterMs?: number;
  /** Hand every cached object to resync handlers this often (default 10 min; 0 disables). */
  resyncPeriodMs?: number;
  /** List page size (default 500). */
  pageSize?: number;
  backoff?: Partial<BackoffOptions>;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

/** Lifecycle of the list/watch loop, for logs, metrics and tests. */
export type InformerState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

class GoneError extends Error {}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private loop: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private currentWatch: { handle?: WatchHandle; finish: (err?: Error) => void } | undefined;
  private stateValue: InformerState = 'idle';
  /** Count of (re)connections of the watch stream; tests use it to see a restart. */
  connects = 0;
  /** Count of full lists. */
  lists = 0;

  constructor(private readonly opts: InformerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = (opts.logger ?? silentLogger()).child({
      informer: opts.resource.plural,
      namespace: opts.namespace,
    });
    this.backoff = new Backoff({
      initialMs: 1000,
      maxMs: 30_000,
      jitter: 'full',
      random: this.random,
      ...opts.backoff,
    });
  }

  get state(): InformerState {
    return this.stateValue;
  }

  /** Registers handlers; objects already cached are delivered to `add` at once. */
  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (h.add) for (const obj of this.cache.values()) this.safely('add', () => h.add?.(obj));
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    const period = this.opts.resyncPeriodMs ?? 600_000;
    if (period > 0) this.scheduleResync(period);
  }

  /** Resolves once the first list is in the cache (or the informer was stopped). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    this.currentWatch?.handle?.stop();
    this.currentWatch?.finish();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.loop;
    this.stateValue = 'stopped';
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        if (this.stopped) break;
        const started = this.clock.now();
        const eventsSeen = await this.watchOnce(this.resourceVersion ?? '');
        // A stream that closes at once with nothing on it is a failure in disguise: back off.
        if (eventsSeen === 0 && this.clock.now() - started < 1000)
          await this.pause('watch closed immediately');
        else this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof GoneError || isGone(err)) {
          this.log.info('resourceVersion expired (410 Gone); re-listing');
          this.opts.metrics?.informerRelist(this.opts.resource.plural, 'expired');
          this.resourceVersion = undefined;
          continue;
        }
        await this.pause(errorMessage(err));
      }
    }
  }

  private async pause(reason: string): Promise<void> {
    const delay = this.backoff.next();
    this.stateValue = 'backoff';
    this.opts.metrics?.informerRestart(this.opts.resource.plural);
    this.log.warn(
      { attempt: this.backoff.attempts, delayMs: Math.round(delay) },
      `watch interrupted: ${reason}; retrying`,
    );
    await sleep(this.clock, delay, this.stopController.signal);
  }

  private async relist(): Promise<void> {
    this.stateValue = 'listing';
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.opts.client.list<T>(this.opts.resource, {
        ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
        ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        limit: this.opts.pageSize ?? 500,
        ...(cont ? { continue: cont } : {}),
      });
      for (const item of page.items) fresh.set(objectKey(item), item);
      rv = page.resourceVersion;
      cont = page.continue;
    } while (cont && !this.stopped);
    if (this.stopped) return;
    this.lists++;
    // Diff against the cache: what disappeared while we were away is deleted, what changed is updated.
    for (const [key, old] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.log.debug({ objects: fresh.size, resourceVersion: rv }, 'listed');
  }

  /** One watch stream; resolves with the number of events seen on a clean close, rejects on errors. */
  private watchOnce(rv: string): Promise<number> {
    const timeoutBase = this.opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.max(1, Math.round(timeoutBase * (1 + 0.2 * this.random())));
    const staleAfter = this.opts.staleAfterMs ?? (timeoutSeconds + 60) * 1000;
    let seen = 0;
    let staleTimer: TimerHandle | undefined;
    return new Promise<number>((resolve, reject) => {
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        if (staleTimer) this.clock.clearTimeout(staleTimer);
        current.handle?.stop();
        this.currentWatch = undefined;
        if (err) reject(err);
        else resolve(seen);
      };
      const current: { handle?: WatchHandle; finish: (err?: Error) => void } = { finish };
      this.currentWatch = current;
      const armStale = () => {
        if (staleTimer) this.clock.clearTimeout(staleTimer);
        staleTimer = this.clock.setTimeout(() => {
          this.log.warn({ staleAfterMs: staleAfter }, 'watch stream silent; reconnecting');
          this.opts.metrics?.informerRelist(this.opts.resource.plural, 'stale');
          finish();
        }, staleAfter);
      };
      const onEvent = (type: WatchEventType, obj: T) => {
        if (finished) return;
        seen++;
        armStale();
        try {
          this.apply(type, obj);
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const onClose = (err?: PlexusError) => finish(err);
      this.stateValue = 'watching';
      this.connects++;
      armStale();
      this.opts.client
        .watch<T>(
          this.opts.resource,
          {
            ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
            ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
            resourceVersion: rv,
            timeoutSeconds,
            allowWatchBookmarks: true,
          },
          onEvent,
          onClose,
        )
        .then(
          (handle) => {
            current.handle = handle;
            if (finished) handle.stop();
          },
          (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
        );
    });
  }

  private apply(type: WatchEventType, obj: T): void {
    if (type === 'ERROR') {
      const status = obj as unknown as { code?: number; reason?: string; message?: string };
      if (status.code === 410) throw new GoneError(status.message ?? 'resourceVersion expired');
      throw new KubeApiError(
        status.code ?? 500,
        status.reason ?? '',
        `watch ${this.opts.resource.plural}: ${status.message ?? 'error event'}`,
      );
    }
    const rv = obj.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj);
    } else {
      this.cache.set(key, obj);
      if (old) this.emit('update', obj, old);
      else this.emit('add', obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      this.safely(kind, () => {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(old ?? obj, obj);
        else h.delete?.(obj);
      });
    }
  }

  private scheduleResync(period: number): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      if (this.synced) {
        for (const obj of this.cache.values()) {
          for (const h of this.handlers) this.safely('resync', () => h.resync?.(obj));
        }
      }
      this.scheduleResync(period);
    }, period);
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, `informer ${what} handler threw`);
    }
  }
}
