import { jest } from '@jest/globals';
import type { DataRun } from '../../../src/api/index.js';
import { createKubeClient, DATARUN_RESOURCE, Informer } from '../../../src/operator/index.js';
import { CuttableProxy, eventually, setUpKube, withServer, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-informer');
});

const run = (name: string, replicas = 1): DataRun => ({
  apiVersion: 'plexus.dev/v1alpha1',
  kind: 'DataRun',
  metadata: { name, namespace: env.namespace },
  spec: { script: { inline: 'nodes: {}' }, startNodes: ['a'], workers: { replicas } },
});

function recorder(informer: Informer<DataRun>) {
  const events: string[] = [];
  informer.addHandlers({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (_old, o) => events.push(`update ${o.metadata.name} ${o.spec.workers?.replicas ?? ''}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
  });
  return events;
}

describe('Informer against the real API server', () => {
  it('sees add, update and delete, and rides through short server-side watch timeouts', async () => {
    const informer = new Informer<DataRun>({
      client: env.client,
      resource: DATARUN_RESOURCE,
      namespace: env.namespace,
      watchTimeoutSeconds: 1,
    });
    await env.client.create(DATARUN_RESOURCE, env.namespace, run('before'));
    const events = recorder(informer);
    informer.start();
    await informer.waitForSync();
    expect(events).toEqual(['add before']);

    await env.client.create(DATARUN_RESOURCE, env.namespace, run('r1'));
    await eventually('add r1', () => events.includes('add r1') || undefined);
    // Let a few watches time out on the server (timeoutSeconds ≈ 1 s) between changes.
    await eventually('two server-side watch timeouts', () => (informer.connects >= 3 ? true : undefined));
    await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 'r1', {
      spec: { workers: { replicas: 5 } },
    });
    await eventually('update r1', () => events.includes('update r1 5') || undefined);
    await env.client.delete(DATARUN_RESOURCE, env.namespace, 'r1');
    await eventually('delete r1', () => events.includes('delete r1') || undefined);

    expect(informer.connects).toBeGreaterThanOrEqual(3);
    expect(informer.lists).toBe(1);
    expect(informer.keys()).toEqual([`${env.namespace}/before`]);
    await informer.stop();
  });

  it('survives the API server going away and catches up on what changed meanwhile', async () => {
    const cluster = env.kc.getCurrentCluster()!;
    const target = new URL(cluster.server);
    const proxy = new CuttableProxy(target.hostname, Number(target.port || 443));
    await proxy.up();
    const viaProxy = createKubeClient(withServer(env.kc, `https://127.0.0.1:${proxy.port}`));
    const informer = new Informer<DataRun>({
      client: viaProxy,
      resource: DATARUN_RESOURCE,
      namespace: env.namespace,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    try {
      await env.client.create(DATARUN_RESOURCE, env.namespace, run('stays'));
      await env.client.create(DATARUN_RESOURCE, env.namespace, run('goes'));
      const events = recorder(informer);
      informer.start();
      await informer.waitForSync();
      await eventually('watching', () => informer.state === 'watching' || undefined);

      await proxy.down();
      await eventually('backoff after the outage', () => informer.state === 'backoff' || undefined);
      // Changes while the informer cannot reach the server:
      await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 'stays', {
        spec: { workers: { replicas: 7 } },
      });
      await env.client.delete(DATARUN_RESOURCE, env.namespace, 'goes');
      await env.client.create(DATARUN_RESOURCE, env.namespace, run('new'));
      await new Promise((r) => setTimeout(r, 1500));
      await proxy.up();

      await eventually('caught up', () =>
        events.includes('update stays 7') && events.includes('delete goes') && events.includes('add new')
          ? true
          : undefined,
      );
      expect(informer.connects).toBeGreaterThanOrEqual(2);
      expect(informer.keys().sort()).toEqual(
        [`${env.namespace}/before`, `${env.namespace}/new`, `${env.namespace}/stays`].sort(),
      );

      // And it keeps following live changes after the reconnect.
      await env.client.create(DATARUN_RESOURCE, env.namespace, run('after'));
      await eventually('add after', () => events.includes('add after') || undefined);
    } finally {
      await informer.stop();
      await proxy.close();
    }
  });
});
