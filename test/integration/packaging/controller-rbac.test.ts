import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { requireService } from '../services.js';
import { Applier, docs, kubeRequest, type Obj } from './kube.js';

// The chart's RBAC is enough, and no more is needed: the chart is applied for real, the controller
// (`plexus controller`, from source) runs with a token of the chart's controller ServiceAccount and the
// environment of the chart's Deployment, and takes a DataRun from creation to a worker Job and back through
// deletion (finalizer) without a single 403.
const TIMEOUT = 240_000;
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'helm', 'plexus');
const run = promisify(execFile);
const helm = requireService('HELM_BIN');
const kubeconfig = requireService('PLEXUS_TEST_KUBECONFIG');
const rabbitUrl = requireService('RABBITMQ_URL');
const cassandra = requireService('CASSANDRA_CONTACT_POINTS');
const cassandraDc = requireService('CASSANDRA_LOCAL_DC');
const suffix = randomBytes(4).toString('hex');
const fullname = `plexus-rbac-${suffix}`;
const ns = `plexus-rbac-${suffix}`;
const dataNs = `plexus-rbac-data-${suffix}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-rbac-'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached after ${ms} ms`);
    await sleep(500);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('packaging: the controller under the chart RBAC', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const applier = new Applier(kc);
  let rendered: Obj[] = [];
  let controller: ChildProcess | undefined;
  let output = '';
  let lastRun = '';

  beforeAll(async () => {
    for (const name of [ns, dataNs])
      await applier.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const file of fs.readdirSync(path.join(CHART, 'crds')))
      await applier.applyCrd(docs(fs.readFileSync(path.join(CHART, 'crds', file), 'utf8'))[0] as Obj);
    const values = path.join(tmp, 'values.yaml');
    fs.writeFileSync(
      values,
      stringify({
        fullnameOverride: fullname,
        // One namespace: the controller then has a Role there (and sees no other test's objects).
        controller: { watchNamespace: dataNs },
        workloadNamespaces: [dataNs],
        connections: {
          rabbitmq: { url: rabbitUrl },
          cassandra: { contactPoints: cassandra, localDataCenter: cassandraDc },
        },
      }),
    );
    const { stdout } = await run(helm, ['template', 'plexus', CHART, '--namespace', ns, '--values', values], {
      env: { ...process.env, HELM_CACHE_HOME: tmp, HELM_CONFIG_HOME: tmp, HELM_DATA_HOME: tmp },
    });
    rendered = docs(stdout);
    for (const o of rendered) await applier.apply(o, ns);
  }, TIMEOUT);

  afterAll(async () => {
    if (controller && controller.exitCode === null) {
      controller.kill('SIGTERM');
      await new Promise((r) => controller?.once('exit', r));
    }
    // Cluster-scoped objects do not go away with the namespaces.
    for (const o of rendered.filter((x) => x.kind === 'ClusterRole' || x.kind === 'ClusterRoleBinding'))
      await kubeRequest(kc, 'DELETE', await applier.pathOf(o));
    fs.rmSync(tmp, { recursive: true, force: true });
  }, TIMEOUT);

  it(
    'reconciles a DataRun and a StreamBridge (ConfigMap, Service, StatefulSet) from creation to deletion with only the chart permissions',
    async () => {
      try {
        await scenario();
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\nDataRun: ${lastRun}\n--- controller output (last 4000 characters) ---\n${output.slice(-4000)}`,
        );
      }
    },
    TIMEOUT,
  );

  async function scenario(): Promise<void> {
    {
      // A token of the controller ServiceAccount, in a kubeconfig of its own.
      const sa = `${fullname}-controller`;
      const tokenRes = await kubeRequest(kc, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      });
      expect(tokenRes.status).toBe(201);
      const token = (JSON.parse(tokenRes.body) as { status: { token: string } }).status.token;
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('no current cluster in the harness kubeconfig');
      const ca =
        cluster.caData ?? (cluster.caFile ? fs.readFileSync(cluster.caFile).toString('base64') : undefined);
      const saKubeconfig = path.join(tmp, 'controller.kubeconfig');
      fs.writeFileSync(
        saKubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'c',
              cluster: {
                server: cluster.server,
                ...(ca ? { 'certificate-authority-data': ca } : { 'insecure-skip-tls-verify': true }),
              },
            },
          ],
          users: [{ name: 'u', user: { token } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'x',
        }),
      );

      // The environment of the chart's Deployment (fieldRefs filled in as the kubelet would).
      const deployment = rendered.find((o) => o.kind === 'Deployment') as Obj;
      const container = (
        deployment.spec as {
          template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
        }
      ).template.spec.containers[0];
      const env: Record<string, string> = {};
      for (const e of container?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const port = await freePort();
      const podName = `${fullname}-controller-0`;
      Object.assign(env, { POD_NAME: podName, POD_NAMESPACE: ns, PLEXUS_HEALTH_PORT: String(port) });
      expect(env.PLEXUS_RABBITMQ_SECRET).toBe(`${fullname}-rabbitmq`);

      controller = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'controller', '--kubeconfig', saKubeconfig],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      controller.stdout?.on('data', (c: Buffer) => (output += c.toString()));
      controller.stderr?.on('data', (c: Buffer) => (output += c.toString()));

      await eventually(
        'controller /readyz',
        async () => {
          if (controller?.exitCode !== null) throw new Error(`controller exited:\n${output}`);
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return res?.status === 200 ? true : undefined;
        },
        90_000,
      );
      const lease = await eventually(
        'Lease held',
        async () => {
          const res = await kubeRequest(
            kc,
            'GET',
            `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${fullname}-controller`,
          );
          const l =
            res.status === 200 ? (JSON.parse(res.body) as { spec?: { holderIdentity?: string } }) : undefined;
          return l?.spec?.holderIdentity ? l : undefined;
        },
        60_000,
      );
      expect(lease.spec?.holderIdentity).toBe(podName);

      // The lookup example, in the workload namespace, with the chart's worker ServiceAccount.
      const cfg = path.join(ROOT, 'examples', 'lookup', 'cfg');
      await applier.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'lookup-script', namespace: dataNs },
        data: Object.fromEntries(
          fs
            .readdirSync(cfg)
            .map((f) => [f.replace(/\.txt$/, ''), fs.readFileSync(path.join(cfg, f), 'utf8')]),
        ),
      } as Obj);
      const example = docs(
        fs.readFileSync(path.join(ROOT, 'examples', 'lookup', 'datarun.yaml'), 'utf8'),
      )[0] as Obj;
      const name = `lookup-${suffix}`;
      const spec = example.spec as { workers: { serviceAccountName?: string; replicas?: number } };
      spec.workers.serviceAccountName = `${fullname}-worker`;
      spec.workers.replicas = 1;
      const dataRun = { ...example, metadata: { name, namespace: dataNs } } as Obj;
      await applier.apply(dataRun);
      const runPath = await applier.pathOf(dataRun);

      const job = await eventually(
        'worker Job of the DataRun',
        async () => {
          lastRun = (await kubeRequest(kc, 'GET', runPath)).body;
          const res = await kubeRequest(kc, 'GET', `/apis/batch/v1/namespaces/${dataNs}/jobs`);
          const list = JSON.parse(res.body) as {
            items: {
              metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
              spec: { template: { spec: { serviceAccountName?: string } } };
            }[];
          };
          return list.items.find((j) =>
            j.metadata.ownerReferences?.some((r) => r.kind === 'DataRun' && r.name === name),
          );
        },
        120_000,
      );
      expect(job.spec.template.spec.serviceAccountName).toBe(`${fullname}-worker`);
      const status = await eventually(
        'DataRun status',
        async () => {
          const cur = JSON.parse((await kubeRequest(kc, 'GET', runPath)).body) as {
            status?: { phase?: string; observedGeneration?: number };
          };
          return cur.status?.phase ? cur.status : undefined;
        },
        60_000,
      );
      expect(['Pending', 'Running']).toContain(status.phase);

      // Deletion: the finalizer runs (Jobs, pods, snapshot ConfigMap) and the object goes away.
      expect((await kubeRequest(kc, 'DELETE', runPath)).status).toBeLessThan(300);
      await eventually(
        'DataRun deleted',
        async () => ((await kubeRequest(kc, 'GET', runPath)).status === 404 ? true : undefined),
        120_000,
      );

      // A StreamBridge: its ConfigMap and StatefulSet are created, and deletion completes.
      for (const [secret, data] of [
        ['rabbitmq-credentials', { url: rabbitUrl }],
        ['s3-credentials', { accessKeyId: 'x', secretAccessKey: 'y' }],
      ] as const)
        await applier.apply({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secret, namespace: dataNs },
          stringData: data,
        } as Obj);
      const bridgeExample = docs(
        fs.readFileSync(path.join(ROOT, 'examples', 'streambridges', 'rabbitmq-to-s3.yaml'), 'utf8'),
      )[0] as Obj;
      const bridgeName = `orders-${suffix}`;
      const bridge = { ...bridgeExample, metadata: { name: bridgeName, namespace: dataNs } } as Obj;
      await applier.apply(bridge);
      const bridgePath = await applier.pathOf(bridge);
      const sts = await eventually(
        'StatefulSet of the StreamBridge',
        async () => {
          lastRun = (await kubeRequest(kc, 'GET', bridgePath)).body;
          const res = await kubeRequest(kc, 'GET', `/apis/apps/v1/namespaces/${dataNs}/statefulsets`);
          const list = JSON.parse(res.body) as {
            items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] } }[];
          };
          return list.items.find((x) =>
            x.metadata.ownerReferences?.some((r) => r.kind === 'StreamBridge' && r.name === bridgeName),
          );
        },
        120_000,
      );
      expect(sts.metadata.name).toContain(bridgeName);
      // Its headless Service (services: get, create), named by the StatefulSet.
      const svcRes = await eventually(
        'Service of the StreamBridge',
        async () => {
          const res = await kubeRequest(
            kc,
            'GET',
            `/api/v1/namespaces/${dataNs}/services/${sts.metadata.name}`,
          );
          return res.status === 200 ? res : undefined;
        },
        60_000,
      );
      const svc = JSON.parse(svcRes.body) as {
        metadata: { ownerReferences?: { kind: string; name: string }[] };
        spec: { clusterIP?: string };
      };
      expect(svc.spec.clusterIP).toBe('None');
      expect(svc.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'StreamBridge', name: bridgeName }),
      ]);
      // An edited selector is put back (services: update) within a poll interval.
      const svcPath = `/api/v1/namespaces/${dataNs}/services/${sts.metadata.name}`;
      const patched = await kubeRequest(
        kc,
        'PATCH',
        svcPath,
        { spec: { selector: { app: 'other' } } },
        'application/merge-patch+json',
      );
      expect(patched.status).toBe(200);
      await eventually(
        'Service selector restored',
        async () => {
          const cur = JSON.parse((await kubeRequest(kc, 'GET', svcPath)).body) as {
            spec: { selector?: Record<string, string> };
          };
          return cur.spec.selector && !('app' in cur.spec.selector) ? true : undefined;
        },
        60_000,
      );
      expect((await kubeRequest(kc, 'DELETE', bridgePath)).status).toBeLessThan(300);
      await eventually(
        'StreamBridge deleted',
        async () => ((await kubeRequest(kc, 'GET', bridgePath)).status === 404 ? true : undefined),
        120_000,
      );

      expect(output).not.toMatch(/forbidden|\b403\b/i);
    }
  }
});
