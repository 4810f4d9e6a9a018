import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { StreamBridge } from '../../../src/api/index.js';
import { renderService } from '../../../src/operator/streambridge/index.js';
import { requireService } from '../services.js';
import { APPLY, FIELD_MANAGER, docs, kubeRequest, type Obj } from './kube.js';

// The Helm chart and manifests/install.yaml against the harness' helm and kube-apiserver: lint, template with
// default and other values, the values schema, restricted Pod Security on every pod spec, RBAC without
// wildcards, and every rendered object applied with a server-side dry run after the CRDs are applied for real.
const TIMEOUT = 300_000;
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'helm', 'plexus');
const run = promisify(execFile);
const helm = requireService('HELM_BIN');
const kubeconfig = requireService('PLEXUS_TEST_KUBECONFIG');
const suffix = randomBytes(4).toString('hex');
const releaseNs = `plexus-pkg-${suffix}`;
const dataNs = `plexus-pkg-data-${suffix}`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-packaging-'));
const env = {
  ...process.env,
  KUBECONFIG: kubeconfig,
  HELM_BIN: helm,
  HELM_CACHE_HOME: path.join(tmp, 'cache'),
  HELM_CONFIG_HOME: path.join(tmp, 'config'),
  HELM_DATA_HOME: path.join(tmp, 'data'),
};
const helmRun = (...args: string[]) => run(helm, args, { env, timeout: 150_000 });

// Every non-default feature at once, as a values file (commas in contactPoints would need escaping in --set).
const NON_DEFAULT_VALUES = {
  image: { repository: 'registry.example.com/plexus', tag: '1.2.3' },
  controller: { replicas: 2, watchNamespace: dataNs, logLevel: 'debug' },
  workloadNamespaces: [dataNs],
  connections: {
    rabbitmq: { url: 'amqp://plexus:secret@rabbitmq.rabbitmq.svc:5672/' },
    cassandra: {
      contactPoints: 'cassandra-0.cassandra:9042,cassandra-1.cassandra:9042',
      username: 'plexus',
      password: 'secret',
    },
    s3: { existingSecret: 'my-s3' },
    // the chart copies the keys as they are (the controller checks them when a DataRun uses them)
    sftp: { privateKeys: { etl: 'etl-private-key' }, knownHosts: 'files.example.org ssh-ed25519 AAAA' },
  },
  metrics: {
    serviceMonitor: { enabled: true },
    bridgeServiceMonitor: { enabled: true, labels: { release: 'prom' } },
  },
};
const NON_DEFAULT_FILE = path.join(tmp, 'non-default-values.yaml');
fs.writeFileSync(NON_DEFAULT_FILE, stringify(NON_DEFAULT_VALUES));
const nonDefault = ['--values', NON_DEFAULT_FILE];

async function template(...args: string[]): Promise<Obj[]> {
  const { stdout } = await helmRun('template', 'plexus', CHART, '--namespace', releaseNs, ...args);
  return docs(stdout);
}

interface Container {
  name: string;
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  ports?: { hostPort?: number }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };
  containers: Container[];
  initContainers?: Container[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: Record<string, unknown>[];
}

/** Violations of the "restricted" Pod Security Standard (v1.35) in a pod spec. */
function restrictedViolations(where: string, spec: PodSpec): string[] {
  const out: string[] = [];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push(`${where}: host namespaces`);
  const allowedVolumes = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
  ];
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const t of types)
      if (![...allowedVolumes, 'projected', 'secret'].includes(t)) out.push(`${where}: volume type ${t}`);
  }
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const at = `${where}: container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${at}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`);
    if (!(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot))
      out.push(`${at}: runAsNonRoot must be true`);
    if ((sc.runAsUser ?? spec.securityContext?.runAsUser) === 0) out.push(`${at}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${at}: seccompProfile`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') out.push(`${at}: adds capability ${cap}`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at}: hostPort`);
  }
  return out;
}

function podSpecs(objs: Obj[]): { where: string; spec: PodSpec }[] {
  const out: { where: string; spec: PodSpec }[] = [];
  for (const o of objs) {
    const spec = o.spec as {
      template?: { spec?: PodSpec };
      jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
    };
    const pod =
      o.kind === 'Pod'
        ? (o.spec as PodSpec)
        : (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec);
    if (pod) out.push({ where: `${o.kind}/${o.metadata?.name}`, spec: pod });
  }
  return out;
}

function wildcardRules(objs: Obj[]): string[] {
  const out: string[] = [];
  for (const o of objs.filter((x) => x.kind === 'Role' || x.kind === 'ClusterRole')) {
    for (const [i, r] of ((o.rules as Record<string, string[] | undefined>[]) ?? []).entries())
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'])
        if ((r[field] ?? []).some((v) => v.includes('*')))
          out.push(`${o.kind}/${o.metadata?.name} rules[${i}].${field}`);
  }
  return out;
}

describe('packaging: helm chart and install manifests', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const discovery = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();

  /** The REST resource (plural, scope) of a kind, from the API server's discovery documents. */
  async function resourceOf(apiVersion: string, kind: string) {
    let list = discovery.get(apiVersion);
    if (!list) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const res = await kubeRequest(kc, 'GET', base);
      list = res.status === 200 ? ((JSON.parse(res.body) as { resources: typeof list }).resources ?? []) : [];
      discovery.set(apiVersion, list);
    }
    return list.find((r) => r.kind === kind && !r.name.includes('/'));
  }

  /** Server-side apply of one object (dry run unless real), through its REST path. */
  async function apply(o: Obj, real = false): Promise<{ status: number; body: string }> {
    const apiVersion = o.apiVersion ?? '';
    const resource = await resourceOf(apiVersion, o.kind ?? '');
    if (!resource) return { status: 404, body: `no resource for ${apiVersion} ${o.kind}` };
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = resource.namespaced ? `/namespaces/${o.metadata?.namespace ?? 'default'}` : '';
    const query = `?fieldManager=${FIELD_MANAGER}&force=true${real ? '' : '&dryRun=All'}`;
    return kubeRequest(kc, 'PATCH', `${base}${ns}/${resource.name}/${o.metadata?.name}${query}`, o, APPLY);
  }

  beforeAll(async () => {
    for (const name of [releaseNs, dataNs, 'plexus-system']) {
      // Restricted Pod Security enforced: the dry-run Pods below go through the API server's PodSecurity admission.
      const labels = {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      };
      const res = await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, true);
      if (res.status >= 300) throw new Error(`namespace ${name}: ${res.status} ${res.body}`);
    }
    // The CRDs for real (server-side apply: creates or updates), then wait for Established.
    for (const file of fs.readdirSync(path.join(CHART, 'crds'))) {
      const crd = docs(fs.readFileSync(path.join(CHART, 'crds', file), 'utf8'))[0] as Obj;
      const name = crd.metadata?.name ?? '';
      const res = await apply(crd, true);
      if (res.status >= 300) throw new Error(`CRD ${name} rejected: ${res.status} ${res.body}`);
      const deadline = Date.now() + 90_000;
      for (;;) {
        const cur = JSON.parse(
          (await kubeRequest(kc, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`))
            .body,
        ) as { status?: { conditions?: { type: string; status: string }[] } };
        if (cur.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 90 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, TIMEOUT);

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function dryRunApply(objs: Obj[]): Promise<string[]> {
    const failures: string[] = [];
    for (const o of objs) {
      if (o.kind === 'CustomResourceDefinition') continue; // applied for real above
      const namespaced = { ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace ?? releaseNs } };
      const res = await apply(namespaced);
      if (res.status >= 300) failures.push(`${o.kind}/${o.metadata?.name}: ${res.status} ${res.body}`);
    }
    // Each pod template as a Pod (dry run) in a namespace that enforces the restricted Pod Security Standard.
    for (const { where, spec } of podSpecs(objs)) {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pss-${suffix}`, namespace: releaseNs },
        spec: { ...spec, serviceAccountName: undefined, automountServiceAccountToken: false },
      };
      const res = await apply(pod as Obj);
      if (res.status >= 300) failures.push(`${where} as a Pod: ${res.status} ${res.body}`);
    }
    return failures;
  }

  it(
    'lints with default and non-default values',
    async () => {
      await helmRun('lint', CHART, '--strict');
      await helmRun('lint', CHART, '--strict', ...nonDefault);
    },
    TIMEOUT,
  );

  it(
    'renders the defaults: restricted pods, no RBAC wildcard, every object accepted by the API server',
    async () => {
      const objs = await template();
      const kinds = objs.map((o) => o.kind).sort();
      expect(kinds).toEqual(
        expect.arrayContaining([
          'ClusterRole',
          'ClusterRoleBinding',
          'Deployment',
          'Role',
          'RoleBinding',
          'Service',
          'ServiceAccount',
        ]),
      );
      expect(
        objs
          .filter((o) => o.kind === 'ServiceAccount')
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['plexus-bridge', 'plexus-controller', 'plexus-worker']);
      const deployment = objs.find((o) => o.kind === 'Deployment') as Obj;
      const spec = deployment.spec as {
        replicas: number;
        template: { spec: PodSpec & { containers: Record<string, unknown>[] } };
      };
      expect(spec.replicas).toBe(1);
      const container = spec.template.spec.containers[0] as unknown as {
        env: { name: string; value?: string }[];
        livenessProbe: { httpGet: { path: string } };
        readinessProbe: { httpGet: { path: string } };
        resources: { requests: object; limits: object };
      };
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits).toBeDefined();
      expect(container.env.find((e) => e.name === 'PLEXUS_LEADER_ELECT')?.value).toBe('true');
      expect(container.env.some((e) => e.name === 'PLEXUS_RABBITMQ_SECRET')).toBe(false);
      expect(container.env.some((e) => e.name === 'PLEXUS_SFTP_SECRET')).toBe(false);
      expect(podSpecs(objs).flatMap((p) => restrictedViolations(p.where, p.spec))).toEqual([]);
      expect(wildcardRules(objs)).toEqual([]);
      expect(await dryRunApply(objs)).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'renders non-default values: 2 replicas, namespaced RBAC, created Secrets, ServiceMonitors',
    async () => {
      const objs = await template(...nonDefault);
      const byKind = (k: string) => objs.filter((o) => o.kind === k);
      expect((byKind('Deployment')[0]?.spec as { replicas: number }).replicas).toBe(2);
      expect(byKind('ClusterRole')).toEqual([]);
      expect(
        byKind('Role')
          .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
          .sort(),
      ).toEqual(
        [
          `${dataNs}/plexus-controller`,
          `${dataNs}/plexus-worker`,
          `${dataNs}/plexus-bridge`,
          `${releaseNs}/plexus-leader-election`,
        ].sort(),
      );
      // rabbitmq, cassandra and sftp Secrets created in the workload namespace; s3 names an existing Secret.
      expect(
        byKind('Secret')
          .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
          .sort(),
      ).toEqual([`${dataNs}/plexus-cassandra`, `${dataNs}/plexus-rabbitmq`, `${dataNs}/plexus-sftp`]);
      expect(byKind('Secret').find((o) => o.metadata?.name === 'plexus-sftp')?.stringData).toEqual({
        etl: 'etl-private-key',
        known_hosts: 'files.example.org ssh-ed25519 AAAA',
      });
      const env = (
        (
          byKind('Deployment')[0]?.spec as {
            template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
          }
        ).template.spec.containers[0]?.env ?? []
      ).reduce<Record<string, string | undefined>>((m, e) => ({ ...m, [e.name]: e.value }), {});
      expect(env).toMatchObject({
        PLEXUS_WATCH_NAMESPACE: dataNs,
        PLEXUS_RABBITMQ_SECRET: 'plexus-rabbitmq',
        PLEXUS_CASSANDRA_SECRET: 'plexus-cassandra',
        PLEXUS_S3_SECRET: 'my-s3',
        PLEXUS_SFTP_SECRET: 'plexus-sftp',
        PLEXUS_IMAGE: 'registry.example.com/plexus:1.2.3',
        PLEXUS_LOG_LEVEL: 'debug',
      });
      expect(
        byKind('ServiceMonitor')
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['plexus-bridges', 'plexus-controller']);
      // The bridges' ServiceMonitor selects the headless Service the controller renders for each bridge.
      const bridgeMonitor = byKind('ServiceMonitor').find((o) => o.metadata?.name === 'plexus-bridges');
      const bridge = { metadata: { name: 'orders', namespace: dataNs } } as StreamBridge;
      const service = renderService(bridge, {
        apiVersion: 'plexus.dev/v1alpha1',
        kind: 'StreamBridge',
        name: 'orders',
        uid: 'u',
        controller: true,
      });
      expect(bridgeMonitor?.metadata?.labels).toMatchObject({ release: 'prom' });
      expect(bridgeMonitor?.spec).toMatchObject({
        namespaceSelector: { matchNames: [dataNs] },
        endpoints: [{ port: service.spec.ports[0]?.name, path: '/metrics' }],
      });
      const matchLabels = (bridgeMonitor?.spec as { selector: { matchLabels: Record<string, string> } })
        .selector.matchLabels;
      expect(Object.keys(matchLabels).length).toBeGreaterThan(0);
      expect(service.metadata.labels).toMatchObject(matchLabels);
      expect(podSpecs(objs).flatMap((p) => restrictedViolations(p.where, p.spec))).toEqual([]);
      expect(wildcardRules(objs)).toEqual([]);
      // The harness has no Prometheus Operator CRDs: every other object goes to the API server.
      expect(await dryRunApply(objs.filter((o) => o.kind !== 'ServiceMonitor'))).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'the example DataRuns and StreamBridges are accepted by the API server (schema and CEL rules, dry run)',
    async () => {
      const files = ['examples/lookup', 'examples/tag-and-denormalize', 'examples/streambridges'].flatMap(
        (d) =>
          fs
            .readdirSync(path.join(ROOT, d))
            .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
            .map((f) => path.join(ROOT, d, f)),
      );
      const custom = files
        .flatMap((f) => docs(fs.readFileSync(f, 'utf8')))
        .filter((o) => o.kind === 'DataRun' || o.kind === 'StreamBridge');
      expect(custom.length).toBeGreaterThanOrEqual(6);
      expect(await dryRunApply(custom)).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'the Pod Security checks are not vacuous: a root pod without securityContext fails both',
    async () => {
      const bad = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `pss-bad-${suffix}` },
        spec: {
          selector: { matchLabels: { app: 'bad' } },
          template: {
            metadata: { labels: { app: 'bad' } },
            spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
          },
        },
      } as Obj;
      const local = podSpecs([bad]).flatMap((p) => restrictedViolations(p.where, p.spec));
      expect(local).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/allowPrivilegeEscalation/),
          expect.stringMatching(/seccomp/),
        ]),
      );
      const server = await dryRunApply([bad]);
      expect(server).toEqual([expect.stringMatching(/as a Pod: 403 .*violates PodSecurity .*restricted/)]);
    },
    TIMEOUT,
  );

  it.each([
    ['controller.replicas=3', /controller\.replicas|replicas/],
    ['controller.port=80', /port/],
    ['controller.logLevel=loud', /logLevel/],
    ['controller.leaderElection.leaseDuration=15', /leaseDuration/],
    ['connections.rabbitmq.url=http://rabbit:5672', /url/],
    ['connections.s3.accessKeyId=AKIA', /secretAccessKey/],
    ['connections.sftp.privateKeys.known_hosts=x', /known_hosts/],
    ['connections.sftp.existingSecret=Not_A_Secret', /existingSecret|Not_A_Secret/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['metrics.bridgeServiceMonitor.interval=5', /bridgeServiceMonitor/],
    ['workloadNamespaces[0]=Not_A_Namespace', /workloadNamespaces/],
    ['unknownKey=1', /unknownKey|additional/],
  ])(
    'values.schema.json rejects %s',
    async (set, message) => {
      const err = await helmRun('template', 'plexus', CHART, '--set', set).then(
        () => undefined,
        (e: { stderr?: string }) => e.stderr ?? '',
      );
      expect(err).toBeDefined();
      expect(err).toMatch(/values don't meet the specifications of the schema|schema/);
      expect(err).toMatch(message);
    },
    TIMEOUT,
  );

  it(
    'refuses two controller replicas without leader election',
    async () => {
      await expect(
        helmRun(
          'template',
          'plexus',
          CHART,
          '--set',
          'controller.replicas=2',
          '--set',
          'controller.leaderElection.enabled=false',
        ),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/needs controller\.leaderElection\.enabled=true/),
      });
    },
    TIMEOUT,
  );

  it(
    'manifests/install.yaml is current and every object in it is accepted by the API server',
    async () => {
      await run('npx', ['tsx', path.join(ROOT, 'scripts', 'gen-manifests.ts'), '--check'], {
        cwd: ROOT,
        env,
        timeout: 120_000,
      });
      const objs = docs(fs.readFileSync(path.join(ROOT, 'manifests', 'install.yaml'), 'utf8'));
      expect(objs[0]).toMatchObject({
        kind: 'Namespace',
        metadata: { name: 'plexus-system', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      });
      expect(
        objs
          .filter((o) => o.kind === 'CustomResourceDefinition')
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['dataruns.plexus.dev', 'streambridges.plexus.dev']);
      expect(podSpecs(objs).flatMap((p) => restrictedViolations(p.where, p.spec))).toEqual([]);
      expect(wildcardRules(objs)).toEqual([]);
      expect(await dryRunApply(objs)).toEqual([]);
    },
    TIMEOUT,
  );
});
