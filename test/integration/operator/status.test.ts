import { jest } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import type { DataRun, DataRunStatus } from '../../../src/api/index.js';
import {
  DATARUN_RESOURCE,
  Manager,
  addFinalizer,
  isBeingDeleted,
  removeFinalizer,
  isConflict,
  setConditions,
  writeStatus,
  type ReconcileRequest,
} from '../../../src/operator/index.js';
import { eventually, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-status');
});

const run = (name: string): DataRun => ({
  apiVersion: 'plexus.dev/v1alpha1',
  kind: 'DataRun',
  metadata: { name, namespace: env.namespace },
  spec: { script: { inline: 'nodes: {}' }, startNodes: ['a'] },
});

describe('status subresource', () => {
  it('writes status (with observedGeneration) without touching the spec or the generation', async () => {
    const created = await env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, run('s1'));
    const now = Date.now();
    const status: DataRunStatus = {
      phase: 'Pending',
      conditions: setConditions(
        [],
        [{ type: 'Accepted', status: 'True', reason: 'Valid', observedGeneration: 1 }],
        now,
      ),
    };
    const updated = await writeStatus(env.client, DATARUN_RESOURCE, created, status);
    expect(updated?.status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });
    expect(updated?.metadata.generation).toBe(1);
    expect(updated?.spec).toEqual(created.spec);

    // Unchanged status: nothing is sent.
    expect(await writeStatus(env.client, DATARUN_RESOURCE, updated!, { ...status })).toBeUndefined();

    // Status sent to the main resource is ignored; a spec change bumps the generation.
    const viaMain = await env.client.mergePatch<DataRun>(DATARUN_RESOURCE, env.namespace, 's1', {
      spec: { suspend: true },
      status: { phase: 'Failed' },
    });
    expect(viaMain.status?.phase).toBe('Pending');
    expect(viaMain.metadata.generation).toBe(2);

    // A field dropped from the desired status is removed (merge patch null).
    const cleared = await writeStatus(env.client, DATARUN_RESOURCE, viaMain, {
      phase: 'Suspended',
      conditions: status.conditions,
    });
    expect(cleared?.status).toMatchObject({ phase: 'Suspended', observedGeneration: 2 });
  });

  it('refuses a status computed from a stale resourceVersion (optimistic lock)', async () => {
    const created = await env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, run('s2'));
    await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 's2', { spec: { suspend: true } });
    const err = await writeStatus(env.client, DATARUN_RESOURCE, created, { phase: 'Running' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(err)).toBe(true);
  });
});

describe('Manager with a controller', () => {
  it('reconciles DataRuns into a status with conditions, and follows spec changes', async () => {
    const reconciled: string[] = [];
    const manager = new Manager({ client: env.client });
    const informer = manager.informer<DataRun>({ resource: DATARUN_RESOURCE, namespace: env.namespace });
    const controller = manager.controller({
      name: 'datarun-test',
      reconcile: async (req: ReconcileRequest) => {
        reconciled.push(req.key);
        const obj = await env.client.get<DataRun>(DATARUN_RESOURCE, req.namespace, req.name);
        if (!obj) return;
        const generation = obj.metadata.generation ?? 0;
        const suspended = obj.spec.suspend === true;
        await writeStatus(env.client, DATARUN_RESOURCE, obj, {
          ...obj.status,
          phase: suspended ? 'Suspended' : 'Pending',
          conditions: setConditions(
            obj.status?.conditions,
            [
              { type: 'Accepted', status: 'True', reason: 'Valid', observedGeneration: generation },
              {
                type: 'Suspended',
                status: suspended ? 'True' : 'False',
                reason: suspended ? 'SuspendedByUser' : 'NotSuspended',
                observedGeneration: generation,
              },
            ],
            Date.now(),
          ),
        });
      },
    });
    controller.watch(informer);
    const stop = new AbortController();
    const running = manager.run(stop.signal);

    await env.client.create(DATARUN_RESOURCE, env.namespace, run('m1'));
    const first = await eventually('Accepted condition', async () => {
      const o = await env.client.get<DataRun>(DATARUN_RESOURCE, env.namespace, 'm1');
      return o?.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') ? o : undefined;
    });
    expect(first.status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });
    const acceptedAt = first.status?.conditions?.find((c) => c.type === 'Accepted')?.lastTransitionTime;
    expect(manager.ready()).toBe(true);

    await delay(1100);
    await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 'm1', { spec: { suspend: true } });
    const second = await eventually('Suspended phase', async () => {
      const o = await env.client.get<DataRun>(DATARUN_RESOURCE, env.namespace, 'm1');
      return o?.status?.observedGeneration === 2 ? o : undefined;
    });
    expect(second.status?.phase).toBe('Suspended');
    const conds = second.status?.conditions ?? [];
    expect(conds.find((c) => c.type === 'Accepted')?.lastTransitionTime).toBe(acceptedAt);
    expect(conds.find((c) => c.type === 'Suspended')).toMatchObject({
      status: 'True',
      reason: 'SuspendedByUser',
    });
    expect(conds.find((c) => c.type === 'Suspended')?.lastTransitionTime).not.toBe(acceptedAt);

    stop.abort();
    expect(await running).toBe('stopped');
    expect(reconciled.filter((k) => k === `${env.namespace}/m1`).length).toBeGreaterThanOrEqual(2);
  });
});

describe('finalizers', () => {
  it('keeps a deleted DataRun until the controller removes its finalizer', async () => {
    const created = await env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, run('fin'));
    const withFinalizer = await addFinalizer(env.client, DATARUN_RESOURCE, created, 'plexus.dev/cleanup');
    expect(withFinalizer.metadata.finalizers).toEqual(['plexus.dev/cleanup']);
    expect(await addFinalizer(env.client, DATARUN_RESOURCE, withFinalizer, 'plexus.dev/cleanup')).toBe(
      withFinalizer,
    );

    // A finalizer edit computed from a stale object is refused.
    const stale = await addFinalizer(env.client, DATARUN_RESOURCE, created, 'plexus.dev/other').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isConflict(stale)).toBe(true);

    await env.client.delete(DATARUN_RESOURCE, env.namespace, 'fin');
    const deleting = await env.client.get<DataRun>(DATARUN_RESOURCE, env.namespace, 'fin');
    expect(deleting && isBeingDeleted(deleting)).toBe(true);

    await removeFinalizer(env.client, DATARUN_RESOURCE, deleting!, 'plexus.dev/cleanup');
    await eventually('object gone', async () =>
      (await env.client.get(DATARUN_RESOURCE, env.namespace, 'fin')) === undefined ? true : undefined,
    );
  });
});
