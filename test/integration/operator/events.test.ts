import { jest } from '@jest/globals';
import type { DataRun } from '../../../src/api/index.js';
import { DATARUN_RESOURCE, EVENTS, EventRecorder, type KubeEvent } from '../../../src/operator/index.js';
import { setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-events');
});

describe('event recorder on a real API server', () => {
  it('creates events.k8s.io/v1 Events about a DataRun and aggregates repeats into a series', async () => {
    const run = await env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, {
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'DataRun',
      metadata: { name: 'evented', namespace: env.namespace },
      spec: { script: { inline: 'nodes: {}' }, startNodes: ['a'] },
    });
    const recorder = new EventRecorder({
      client: env.client,
      reportingController: 'plexus.dev/operator',
      reportingInstance: 'operator-test',
    });
    const started = await recorder.normal(run, 'RunStarted', 'StartRun', 'run 1 started');
    expect(started).toBeDefined();
    const warned = await recorder.warning(
      run,
      'NodeFailed',
      'Reconcile',
      'node read_orders failed: file not found',
    );
    const again = await recorder.warning(
      run,
      'NodeFailed',
      'Reconcile',
      'node read_orders failed: file not found',
    );
    expect(again).toBe(warned);

    const list = await env.client.list<KubeEvent>(EVENTS, { namespace: env.namespace });
    const mine = list.items.filter((e) => e.regarding?.uid === run.metadata.uid);
    expect(mine.map((e) => e.reason).sort()).toEqual(['NodeFailed', 'RunStarted']);
    const failed = mine.find((e) => e.reason === 'NodeFailed');
    expect(failed).toMatchObject({
      type: 'Warning',
      action: 'Reconcile',
      reportingController: 'plexus.dev/operator',
      reportingInstance: 'operator-test',
      note: 'node read_orders failed: file not found',
      regarding: { kind: 'DataRun', name: 'evented', namespace: env.namespace },
      series: { count: 2 },
    });
  });
});
