import { jest } from '@jest/globals';
import http from 'node:http';
import { Registry } from 'prom-client';
import type { DataRun } from '../../../src/api/index.js';
import { silentLogger } from '../../../src/obs/index.js';
import {
  DATARUN_RESOURCE,
  operatorConfigFromEnv,
  runOperator,
  setCondition,
  writeStatus,
} from '../../../src/operator/index.js';
import { eventually, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-run');
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('runOperator', () => {
  it('elects itself, serves health and metrics, reconciles, and stops cleanly', async () => {
    const config = operatorConfigFromEnv({
      env: {
        POD_NAMESPACE: env.namespace,
        POD_NAME: 'operator-it-0',
        PLEXUS_WATCH_NAMESPACE: env.namespace,
        PLEXUS_HEALTH_PORT: '0',
        PLEXUS_LEASE_DURATION: '4s',
        PLEXUS_RENEW_DEADLINE: '3s',
        PLEXUS_RETRY_PERIOD: '500ms',
      },
    });
    const stop = new AbortController();
    let port = 0;
    const running = runOperator({
      config,
      client: env.client,
      logger: silentLogger(),
      registry: new Registry(),
      signal: stop.signal,
      onListening: (p) => (port = p),
      setup: ({ manager, client, config: c }) => {
        const informer = manager.informer<DataRun>({
          resource: DATARUN_RESOURCE,
          namespace: c.watchNamespace,
          resyncPeriodMs: c.resyncPeriodMs,
        });
        const controller = manager.controller({
          name: 'datarun',
          workers: c.reconcileWorkers,
          reconcile: async ({ namespace, name }) => {
            const run = informer.get(`${namespace}/${name}`);
            if (!run) return;
            await writeStatus(client, DATARUN_RESOURCE, run, {
              ...run.status,
              conditions: setCondition(
                run.status?.conditions,
                {
                  type: 'Accepted',
                  status: 'True',
                  reason: 'Valid',
                  observedGeneration: run.metadata.generation ?? 0,
                },
                Date.now(),
              ),
            });
          },
        });
        controller.watch(informer);
      },
    });

    try {
      await eventually('health server', () => port || undefined);
      expect((await get(port, '/healthz')).status).toBe(200);
      await eventually('ready', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined));
      await eventually('leader', async () =>
        (await get(port, '/metrics')).body.includes('leader_election_master_status{name="plexus-operator"} 1')
          ? true
          : undefined,
      );

      await env.client.create(DATARUN_RESOURCE, env.namespace, {
        apiVersion: 'plexus.dev/v1alpha1',
        kind: 'DataRun',
        metadata: { name: 'ran', namespace: env.namespace },
        spec: { script: { inline: 'nodes: {}' }, startNodes: ['a'] },
      } as DataRun);
      await eventually('Accepted', async () => {
        const o = await env.client.get<DataRun>(DATARUN_RESOURCE, env.namespace, 'ran');
        return o?.status?.conditions?.some((c) => c.type === 'Accepted') ? true : undefined;
      });
      // The status is visible as soon as the API server stored it; the reconcile that wrote it is counted
      // once the write returned to the controller, a moment later.
      const successes = /controller_runtime_reconcile_total\{controller="datarun",result="success"\} [1-9]/;
      const metrics = await eventually('a successful reconcile counted', async () => {
        const body = (await get(port, '/metrics')).body;
        return successes.test(body) ? body : undefined;
      });
      expect(metrics).toMatch(successes);
      expect(metrics).toContain('workqueue_depth{name="datarun"}');
    } catch (err) {
      // a failed check must not leave the operator running (its timers and server would keep jest alive)
      stop.abort();
      await running.catch(() => undefined);
      throw err;
    }

    stop.abort();
    expect(await running).toBe('stopped');
    await expect(get(port, '/healthz')).rejects.toThrow();
  });
});
