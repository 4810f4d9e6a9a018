import { jest } from '@jest/globals';
import {
  CONFIGMAPS,
  Informer,
  JOBS,
  PODS,
  isConflict,
  isNotFound,
  type KubeObject,
} from '../../../src/operator/index.js';
import { eventually, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-core');
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Pod extends KubeObject {
  spec: { containers: Array<{ name: string; image: string }> };
  status?: { phase?: string };
}

describe('KubeClient on core and batch resources', () => {
  it('creates, reads, lists, patches, replaces and deletes ConfigMaps', async () => {
    const ns = env.namespace;
    const created = await env.client.create<ConfigMap>(CONFIGMAPS, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'script', namespace: ns, labels: { app: 'plexus' } },
      data: { 'script.yaml': 'nodes: {}' },
    });
    expect(created.metadata.uid).toBeDefined();
    expect(typeof created.metadata.creationTimestamp).toBe('string');
    expect((await env.client.get<ConfigMap>(CONFIGMAPS, ns, 'script'))?.data).toEqual({
      'script.yaml': 'nodes: {}',
    });
    expect(await env.client.get(CONFIGMAPS, ns, 'absent')).toBeUndefined();

    const list = await env.client.list<ConfigMap>(CONFIGMAPS, { namespace: ns, labelSelector: 'app=plexus' });
    expect(list.items.map((c) => c.metadata.name)).toEqual(['script']);
    expect(list.resourceVersion).not.toBe('');

    const patched = await env.client.mergePatch<ConfigMap>(CONFIGMAPS, ns, 'script', {
      data: { 'params.yaml': 'a: 1' },
    });
    expect(Object.keys(patched.data ?? {}).sort()).toEqual(['params.yaml', 'script.yaml']);

    const stale = { ...created, data: { x: 'y' } };
    const err = await env.client.replace(CONFIGMAPS, ns, 'script', stale).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(err)).toBe(true);
    const replaced = await env.client.replace<ConfigMap>(CONFIGMAPS, ns, 'script', {
      ...patched,
      data: { only: 'this' },
    });
    expect(replaced.data).toEqual({ only: 'this' });

    expect(await env.client.delete(CONFIGMAPS, ns, 'script')).toBe(true);
    expect(await env.client.delete(CONFIGMAPS, ns, 'script')).toBe(false);
  });

  it('patches a Pod status through its subresource (no kubelet here)', async () => {
    const ns = env.namespace;
    await env.client.create<Pod>(PODS, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'worker-0', namespace: ns },
      spec: { containers: [{ name: 'worker', image: 'plexus:test' }] },
    });
    const running = await env.client.mergePatchStatus<Pod>(PODS, ns, 'worker-0', {
      status: { phase: 'Running' },
    });
    expect(running.status?.phase).toBe('Running');
  });

  it('creates a batch/v1 Job and reports a missing one as not found', async () => {
    const ns = env.namespace;
    const job = await env.client.create(JOBS, ns, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'workers', namespace: ns },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'plexus:test' }] },
        },
      },
    } as KubeObject);
    expect(job.metadata.name).toBe('workers');
    const err = await env.client.mergePatch(JOBS, ns, 'nope', { metadata: { labels: { a: 'b' } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isNotFound(err)).toBe(true);
  });

  it('informs on ConfigMaps (core watch path)', async () => {
    const informer = new Informer<ConfigMap>({
      client: env.client,
      resource: CONFIGMAPS,
      namespace: env.namespace,
    });
    const seen: string[] = [];
    informer.addHandlers({
      add: (c) => seen.push(`add ${c.metadata.name}`),
      delete: (c) => seen.push(`delete ${c.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync();
    await env.client.create<ConfigMap>(CONFIGMAPS, env.namespace, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace: env.namespace },
    });
    await env.client.delete(CONFIGMAPS, env.namespace, 'watched');
    await eventually('add and delete', () =>
      seen.includes('add watched') && seen.includes('delete watched') ? true : undefined,
    );
    await informer.stop();
  });
});
