import { randomBytes } from 'node:crypto';
import {
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { requireService } from '../services.js';

// Smoke test of the harness' kube-apiserver + etcd through @kubernetes/client-node 1.4 (object-parameter
// calls): a CRD of its own, a custom object with a status subresource, a watch, a Pod and a Job (no
// scheduler or kubelet, so they stay Pending).
const TIMEOUT = 180_000;
const suffix = randomBytes(4).toString('hex');
const group = 'infra-smoke.plexus.test';
const plural = `smokes${suffix}`;
const kind = `Smoke${suffix}`;
const crdName = `${plural}.${group}`;
const namespace = 'default';

interface SmokeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { size: number };
  status?: { phase?: string; observed?: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${ms} ms`);
    await sleep(200);
  }
}

describe('infra: kube-apiserver', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(requireService('PLEXUS_TEST_KUBECONFIG'));
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const podName = `infra-smoke-pod-${suffix}`;
  const jobName = `infra-smoke-job-${suffix}`;

  afterAll(async () => {
    const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
    await quiet(core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 }));
    await quiet(batch.deleteNamespacedJob({ name: jobName, namespace, propagationPolicy: 'Background' }));
    await quiet(ext.deleteCustomResourceDefinition({ name: crdName }));
  }, TIMEOUT);

  it(
    'applies a CRD, creates a custom object, patches its status and sees the change on a watch',
    async () => {
      const crd: V1CustomResourceDefinition = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } },
                    status: {
                      type: 'object',
                      properties: { phase: { type: 'string' }, observed: { type: 'integer' } },
                    },
                  },
                },
              },
            },
          ],
        },
      };
      await ext.createCustomResourceDefinition({ body: crd });
      await eventually('CRD Established', async () => {
        const cur = await ext.readCustomResourceDefinition({ name: crdName });
        return cur.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      });

      const ref = { group, version: 'v1', namespace, plural };
      const name = `smoke-${suffix}`;
      // Served right after Established can still race the discovery cache: retry a NotFound briefly.
      const created = await eventually('custom object created', async () => {
        try {
          return (await custom.createNamespacedCustomObject({
            ...ref,
            body: { apiVersion: `${group}/v1`, kind, metadata: { name }, spec: { size: 3 } },
          })) as SmokeObject;
        } catch (err) {
          if ((err as { code?: number }).code === 404) return undefined;
          throw err;
        }
      });
      expect(created.metadata.resourceVersion).toBeTruthy();

      // Schema validation is enforced by the real API server.
      await expect(
        custom.createNamespacedCustomObject({
          ...ref,
          body: { apiVersion: `${group}/v1`, kind, metadata: { name: `${name}-bad` }, spec: { size: 0 } },
        }),
      ).rejects.toMatchObject({ code: 422 });

      // Watch from the created object's resourceVersion, then patch its status subresource.
      const seen: SmokeObject[] = [];
      let watchError: unknown;
      const watch = new Watch(kc);
      const ctl = await watch.watch(
        `/apis/${group}/v1/namespaces/${namespace}/${plural}`,
        { resourceVersion: created.metadata.resourceVersion, allowWatchBookmarks: true },
        (phase, obj: SmokeObject) => {
          if (phase === 'MODIFIED') seen.push(obj);
        },
        (err) => {
          watchError = err;
        },
      );
      try {
        const patched = (await custom.patchNamespacedCustomObjectStatus(
          { ...ref, name, body: { status: { phase: 'Ready', observed: 3 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as SmokeObject;
        expect(patched.status).toEqual({ phase: 'Ready', observed: 3 });
        // The status subresource ignores spec changes, and the main resource ignores status changes.
        expect(patched.spec).toEqual({ size: 3 });

        const event = await eventually('MODIFIED watch event', async () => {
          if (watchError) throw new Error(`watch failed: ${String(watchError)}`);
          return seen.find((o) => o.metadata.name === name && o.status?.phase === 'Ready');
        });
        expect(event.status?.observed).toBe(3);
      } finally {
        ctl.abort();
      }
      await custom.deleteNamespacedCustomObject({ ...ref, name });
    },
    TIMEOUT,
  );

  it(
    'creates a Pod and a Job that stay Pending (no scheduler, no kubelet, no controllers)',
    async () => {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: podName, labels: { app: 'infra-smoke' } },
          spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }] },
        },
      });
      const pod = await core.readNamespacedPod({ name: podName, namespace });
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.spec?.nodeName).toBeUndefined();

      await batch.createNamespacedJob({
        namespace,
        body: {
          metadata: { name: jobName },
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }],
              },
            },
          },
        },
      });
      const job = await batch.readNamespacedJob({ name: jobName, namespace });
      expect(job.metadata?.uid).toBeTruthy();
      // Nothing runs it: no active, succeeded or failed pods.
      expect(job.status?.active ?? 0).toBe(0);
      expect(job.status?.succeeded ?? 0).toBe(0);
    },
    TIMEOUT,
  );
});
