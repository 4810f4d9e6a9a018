/**
 * An in-memory KubeClient for unit tests of the controller logic (informer, leader election, events).
 * Objects carry increasing resourceVersions; replace checks them (409 Conflict); watchers get events;
 * tests can inject failures. Integration tests use the real API server instead.
 */
import {
  KubeApiError,
  objectKey,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectList,
  type ResourceType,
  type WatchEventType,
  type WatchHandle,
  type WatchOptions,
} from '../../../src/operator/index.js';
import type { PlexusError } from '../../../src/errors/index.js';

interface Watcher {
  plural: string;
  onEvent: (type: WatchEventType, obj: KubeObject) => void;
  onClose: (err?: PlexusError) => void;
  open: boolean;
}

export class FakeKube implements KubeClient {
  rv = 100;
  readonly store = new Map<string, Map<string, KubeObject>>();
  readonly watchers: Watcher[] = [];
  readonly calls: string[] = [];
  /** Errors thrown by the next calls of an operation (`list`, `watch`, `get`, `replace`, ...). */
  readonly failNext = new Map<string, PlexusError[]>();

  private bucket(plural: string): Map<string, KubeObject> {
    let b = this.store.get(plural);
    if (!b) this.store.set(plural, (b = new Map()));
    return b;
  }

  private maybeFail(op: string): void {
    this.calls.push(op);
    const errs = this.failNext.get(op);
    const e = errs?.shift();
    if (e) throw e;
  }

  private notify(plural: string, type: WatchEventType, obj: KubeObject): void {
    for (const w of this.watchers) if (w.open && w.plural === plural) w.onEvent(type, structuredClone(obj));
  }

  /** Test helper: store an object as the API server would (new resourceVersion) and notify watchers. */
  put<T extends KubeObject>(rt: ResourceType, obj: T, silently = false): T {
    const b = this.bucket(rt.plural);
    const key = objectKey(obj);
    const existed = b.has(key);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    if (!silently) this.notify(rt.plural, existed ? 'MODIFIED' : 'ADDED', stored);
    return structuredClone(stored);
  }

  remove(rt: ResourceType, key: string, silently = false): void {
    const b = this.bucket(rt.plural);
    const obj = b.get(key);
    if (!obj) return;
    b.delete(key);
    this.rv++;
    if (!silently)
      this.notify(rt.plural, 'DELETED', {
        ...obj,
        metadata: { ...obj.metadata, resourceVersion: String(this.rv) },
      });
  }

  /** Test helper: end every open watch (cleanly, or with an error / an ERROR event). */
  closeWatches(
    how: { err?: PlexusError; errorEvent?: { code: number; reason: string; message: string } } = {},
  ): void {
    for (const w of this.watchers) {
      if (!w.open) continue;
      if (how.errorEvent) w.onEvent('ERROR', { kind: 'Status', ...how.errorEvent } as unknown as KubeObject);
      w.open = false;
      w.onClose(how.err);
    }
  }

  openWatches(): number {
    return this.watchers.filter((w) => w.open).length;
  }

  async get<T extends KubeObject>(rt: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    this.maybeFail('get');
    const o = this.bucket(rt.plural).get(`${namespace}/${name}`);
    return o ? (structuredClone(o) as T) : undefined;
  }

  async list<T extends KubeObject>(rt: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    this.maybeFail('list');
    const items = [...this.bucket(rt.plural).values()].filter(
      (o) => !opts.namespace || o.metadata.namespace === opts.namespace,
    );
    return { items: structuredClone(items) as T[], resourceVersion: String(this.rv) };
  }

  async watch<T extends KubeObject>(
    rt: ResourceType,
    _opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: T) => void,
    onClose: (err?: PlexusError) => void,
  ): Promise<WatchHandle> {
    this.maybeFail('watch');
    const w: Watcher = {
      plural: rt.plural,
      onEvent: onEvent as (type: WatchEventType, obj: KubeObject) => void,
      onClose,
      open: true,
    };
    this.watchers.push(w);
    return { stop: () => void (w.open = false) };
  }

  async create<T extends KubeObject>(rt: ResourceType, namespace: string, body: T): Promise<T> {
    this.maybeFail('create');
    const key = `${namespace}/${body.metadata.name}`;
    if (this.bucket(rt.plural).has(key))
      throw new KubeApiError(409, 'AlreadyExists', `${key} already exists`);
    return this.put(rt, { ...body, metadata: { ...body.metadata, namespace } });
  }

  async replace<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    body: T,
  ): Promise<T> {
    this.maybeFail('replace');
    const cur = this.bucket(rt.plural).get(`${namespace}/${name}`);
    if (!cur) throw new KubeApiError(404, 'NotFound', `${name} not found`);
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'the object has been modified');
    }
    return this.put(rt, body);
  }

  async mergePatch<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T> {
    this.maybeFail('mergePatch');
    const cur = this.bucket(rt.plural).get(`${namespace}/${name}`);
    if (!cur) throw new KubeApiError(404, 'NotFound', `${name} not found`);
    return this.put(rt, { ...cur, ...patch } as T);
  }

  async mergePatchStatus<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T> {
    this.maybeFail('mergePatchStatus');
    const cur = this.bucket(rt.plural).get(`${namespace}/${name}`) as
      (KubeObject & { status?: object }) | undefined;
    if (!cur) throw new KubeApiError(404, 'NotFound', `${name} not found`);
    const p = patch as { status?: object };
    return this.put(rt, { ...cur, status: { ...(cur.status ?? {}), ...(p.status ?? {}) } } as unknown as T);
  }

  async delete(rt: ResourceType, namespace: string, name: string): Promise<boolean> {
    this.maybeFail('delete');
    const key = `${namespace}/${name}`;
    if (!this.bucket(rt.plural).has(key)) return false;
    this.remove(rt, key);
    return true;
  }
}
