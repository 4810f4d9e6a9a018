import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DataRun } from '../../../src/api/index.js';
import {
  CONFIGMAPS,
  DATARUN_RESOURCE,
  EVENTS,
  JOBS,
  LEASES,
  SECRETS,
  type KubeEvent,
  type KubeObject,
  type Lease,
} from '../../../src/operator/index.js';
import type { Job } from '../../../src/operator/datarun/index.js';
import { runReport } from '../../../src/runtime/index.js';
import { diffFiles, prepareSuite, REPO_ROOT, suitesDir } from '../capillaries/harness.js';
import { openQueue, openStore } from '../distributed/cluster.js';
import { requireService } from '../services.js';
import { eventually, rawGet, setUpKube, type KubeEnv } from './kube-env.js';

// The DataRun controller as a process (`plexus controller`) against the real kube-apiserver, RabbitMQ and
// Cassandra. The test API server has no kubelet and no Job controller: `FakeKubelet` below plays both for
// the worker Jobs, starting `plexus worker` processes with the pod template's command, args and environment.
jest.setTimeout(300_000);

const LOOKUP_OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];
const tag = randomBytes(3).toString('hex');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-datarun-'));
const mountDir = path.join(workDir, 'run-files');
/** `eventually` with a default for a loaded machine (the other engineers' builds and tests share it). */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> =>
  eventually(what, fn, ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: KubeEnv;
let failed = false;
const processes: ChildProcess[] = [];
const keyspaces: string[] = [];

beforeAll(async () => {
  env = await setUpKube('it-datarun');
});

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  const store = openStore();
  const queue = openQueue();
  for (const ks of keyspaces) {
    await store.dropKeyspace(ks).catch(() => undefined);
    await queue.deleteQueues(ks).catch(() => undefined);
  }
  await queue.close();
  await store.close();
  if (failed) process.stderr.write(`controller and worker logs kept in ${workDir}\n`);
  else fs.rmSync(workDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function spawnCli(args: readonly string[], childEnv: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args],
    {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', log, log],
    },
  );
  fs.closeSync(log);
  processes.push(child);
  return child;
}

/** `plexus controller` for the test namespace. */
class ControllerProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  constructor(
    readonly identity: string,
    readonly healthPort: number,
  ) {
    this.logFile = path.join(workDir, `controller-${identity}.log`);
    this.child = spawnCli(
      ['controller', '--kubeconfig', requireService('PLEXUS_TEST_KUBECONFIG'), '--namespace', env.namespace],
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FORCE_COLOR: '0',
        PLEXUS_LOG_FORMAT: 'json',
        POD_NAMESPACE: env.namespace,
        POD_NAME: identity,
        PLEXUS_HEALTH_PORT: String(healthPort),
        // generous: a loaded machine must not make the leader give up its lease mid-test
        PLEXUS_LEASE_DURATION: '12s',
        PLEXUS_RENEW_DEADLINE: '10s',
        PLEXUS_RETRY_PERIOD: '1s',
        PLEXUS_IMAGE: 'registry.example/plexus:test',
        PLEXUS_PROGRESS_INTERVAL: '500ms',
        PLEXUS_SNAPSHOT_MOUNT_PATH: mountDir,
        PLEXUS_CASSANDRA_CONTACT_POINTS: requireService('CASSANDRA_CONTACT_POINTS'),
        PLEXUS_CASSANDRA_LOCAL_DC: requireService('CASSANDRA_LOCAL_DC'),
        PLEXUS_RABBITMQ_URL: requireService('RABBITMQ_URL'),
      },
      this.logFile,
    );
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  async health(pathname: string): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.healthPort}${pathname}`);
      return res.status;
    } catch {
      return 0;
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

async function startController(identity: string): Promise<ControllerProcess> {
  const c = new ControllerProcess(identity, await freePort());
  await waitFor(
    `controller ${identity} healthy`,
    async () => ((await c.health('/healthz')) === 200 ? true : undefined),
    60_000,
  );
  return c;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Secret extends KubeObject {
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface PodTemplate {
  containers: Array<{
    command: string[];
    args: string[];
    env: EnvVar[];
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}

/**
 * Plays kubelet and Job controller for worker Jobs: keeps `parallelism` worker processes per Job (command
 * `plexus` = the CLI from source, env resolved from values, Secrets, ConfigMaps and pod fields, ConfigMap
 * volumes written to their mount path), stops them when the Job is scaled to 0, suspended or deleted, and
 * reports active/ready in the Job status.
 */
class FakeKubelet {
  private readonly pods = new Map<string, ChildProcess[]>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  started = 0;

  start(): void {
    this.timer = setInterval(() => void this.sync(), 300);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await sleep(50);
    for (const [name] of this.pods) await this.scale(name, 0);
  }

  logs(): string {
    return fs
      .readdirSync(workDir)
      .filter((f) => f.startsWith('pod-'))
      .map((f) => `--- ${f}\n${fs.readFileSync(path.join(workDir, f), 'utf8').slice(-3000)}`)
      .join('\n');
  }

  private async sync(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const jobs = await env.client.list<Job>(JOBS, { namespace: env.namespace });
      const seen = new Set<string>();
      for (const job of jobs.items) {
        const name = job.metadata.name;
        seen.add(name);
        const want = job.spec?.suspend ? 0 : (job.spec?.parallelism ?? 1);
        await this.scale(name, want, job);
        const running = (this.pods.get(name) ?? []).length;
        if (job.status?.active !== running) {
          await env.client.mergePatchStatus(JOBS, env.namespace, name, {
            status: { active: running, ready: running },
          });
        }
      }
      for (const name of [...this.pods.keys()]) if (!seen.has(name)) await this.scale(name, 0);
    } catch {
      // the next tick retries
    } finally {
      this.busy = false;
    }
  }

  private async scale(name: string, want: number, job?: Job): Promise<void> {
    const list = (this.pods.get(name) ?? []).filter((p) => p.exitCode === null && p.signalCode === null);
    while (list.length > want) {
      const p = list.pop()!;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
    if (job) {
      while (list.length < want)
        list.push(await this.startPod(job, `${name}-${randomBytes(3).toString('hex')}`));
    }
    this.pods.set(name, list);
    if (list.length === 0) this.pods.delete(name);
  }

  private async startPod(job: Job, podName: string): Promise<ChildProcess> {
    const spec = job.spec?.template.spec as unknown as PodTemplate;
    const container = spec.containers[0]!;
    const podEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, FORCE_COLOR: '0' };
    for (const e of container.env) {
      if (e.value !== undefined) podEnv[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) {
        const s = await env.client.get<Secret>(SECRETS, env.namespace, e.valueFrom.secretKeyRef.name);
        const v = s?.data?.[e.valueFrom.secretKeyRef.key];
        if (v !== undefined) podEnv[e.name] = Buffer.from(v, 'base64').toString('utf8');
      } else if (e.valueFrom?.configMapKeyRef) {
        const cm = await env.client.get<ConfigMap>(
          CONFIGMAPS,
          env.namespace,
          e.valueFrom.configMapKeyRef.name,
        );
        const v = cm?.data?.[e.valueFrom.configMapKeyRef.key];
        if (v !== undefined) podEnv[e.name] = v;
      } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') podEnv[e.name] = podName;
    }
    // every pod has its own network namespace; on one host each gets a free port
    podEnv.PLEXUS_METRICS_PORT = '0';
    for (const m of container.volumeMounts ?? []) {
      const vol = spec.volumes?.find((v) => v.name === m.name);
      if (!vol?.configMap) continue;
      const cm = await env.client.get<ConfigMap>(CONFIGMAPS, env.namespace, vol.configMap.name);
      fs.mkdirSync(m.mountPath, { recursive: true });
      for (const [k, v] of Object.entries(cm?.data ?? {})) fs.writeFileSync(path.join(m.mountPath, k), v);
    }
    if (container.command[0] !== 'plexus')
      throw new Error(`unexpected command ${container.command.join(' ')}`);
    this.started++;
    return spawnCli(
      [...container.command.slice(1), ...container.args],
      podEnv,
      path.join(workDir, `pod-${podName}.log`),
    );
  }
}

const getRun = (name: string) => env.client.get<DataRun>(DATARUN_RESOURCE, env.namespace, name);

async function createRun(name: string, spec: DataRun['spec']): Promise<DataRun> {
  return env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name, namespace: env.namespace },
    spec,
  });
}

async function jobsOf(name: string): Promise<Job[]> {
  const list = await env.client.list<Job>(JOBS, { namespace: env.namespace });
  return list.items.filter((j) =>
    j.metadata.ownerReferences?.some((r) => r.name === name && r.kind === 'DataRun'),
  );
}

async function eventsOf(name: string): Promise<KubeEvent[]> {
  const list = await env.client.list<KubeEvent>(EVENTS, { namespace: env.namespace });
  return list.items.filter((e) => e.regarding.name === name);
}

describe('DataRun controller', () => {
  let a: ControllerProcess;
  let b: ControllerProcess;

  let passed = false;
  beforeEach(() => {
    passed = false;
  });
  /** A test whose failure keeps and prints the controller logs. */
  const step = (name: string, body: () => Promise<void>) =>
    test(name, async () => {
      await body();
      passed = true;
    });
  afterEach(() => {
    if (!passed) {
      failed = true;
      for (const c of [a, b]) if (c) process.stderr.write(`--- ${c.logFile}\n${c.log().slice(-6000)}\n`);
    }
  });

  step(
    'two controllers: only the leader acts; an invalid script fails with the node named and no Job',
    async () => {
      a = await startController(`ctl-a-${tag}`);
      b = await startController(`ctl-b-${tag}`);
      const lease = await waitFor('lease held', async () => {
        const l = await env.client.get<Lease>(LEASES, env.namespace, 'plexus-operator');
        return l?.spec?.holderIdentity ? l : undefined;
      });
      const leader = lease.spec?.holderIdentity;
      expect([a.identity, b.identity]).toContain(leader);
      // Ready once its caches are synced, the leader and the standby alike (the lease says nothing of the
      // standby's caches).
      for (const c of [a, b])
        await waitFor(`controller ${c.identity} ready`, async () =>
          (await c.health('/readyz')) === 200 ? true : undefined,
        );

      await createRun('bad-script', {
        script: {
          inline: JSON.stringify({
            nodes: {
              read_things: {
                type: 'file_table',
                r: {
                  urls: ['/nowhere/things.csv'],
                  csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
                  columns: {},
                },
                w: { name: 'things', having: 'w.missing_field > 1', fields: {} },
              },
            },
          }),
        },
        startNodes: ['read_things'],
      });
      const failed = await waitFor('bad-script Failed', async () => {
        const r = await getRun('bad-script');
        return r?.status?.phase === 'Failed' ? r : undefined;
      });
      expect(failed.status?.message).toMatch(/spec\.script/);
      expect(failed.status?.message).toMatch(/read_things/);
      const accepted = failed.status?.conditions?.find((c) => c.type === 'Accepted');
      expect(accepted).toMatchObject({ status: 'False', reason: 'InvalidScript' });
      expect(failed.status?.observedGeneration).toBe(failed.metadata.generation);
      await sleep(1500);
      expect(await jobsOf('bad-script')).toHaveLength(0);
      const events = await waitFor('events', async () => {
        const ev = await eventsOf('bad-script');
        return ev.length > 0 ? ev : undefined;
      });
      expect(events.some((e) => e.reason === 'InvalidScript' && e.type === 'Warning')).toBe(true);
      // every event comes from the leader
      expect(new Set(events.map((e) => e.reportingInstance))).toEqual(new Set([leader]));
      const standby = leader === a.identity ? b : a;
      expect(standby.log()).not.toMatch(/"controller":"datarun".*reconcile/);
      await standby.stop();
    },
  );

  step(
    'lookup suite: Job as specified, Pending → Running → Succeeded across a controller restart, outputs as expected',
    async () => {
      const leaderNow = [a, b].find((c) => c.child.exitCode === null && c.child.signalCode === null)!;
      const s = prepareSuite('lookup');
      const ks = `dr_lookup_${tag}`;
      keyspaces.push(ks);
      await env.client.create<ConfigMap>(CONFIGMAPS, env.namespace, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'lookup-cfg', namespace: env.namespace },
        data: {
          'script_quick.yaml': fs.readFileSync(path.join(s.cfg, 'script_quick.yaml'), 'utf8'),
          'params.yaml': fs.readFileSync(path.join(s.cfg, 'script_params_quick_fs_one.yaml'), 'utf8'),
        },
      } as ConfigMap);
      await env.client.create<Secret>(SECRETS, env.namespace, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'rabbit', namespace: env.namespace },
        data: { url: Buffer.from(requireService('RABBITMQ_URL')).toString('base64') },
      } as Secret);
      await createRun('lookup', {
        script: { configMapKeyRef: { name: 'lookup-cfg', key: 'script_quick.yaml' } },
        params: { configMapKeyRef: { name: 'lookup-cfg', key: 'params.yaml' } },
        paramOverrides: { dir_in: s.in, dir_out: s.out },
        keyspace: ks,
        startNodes: ['read_orders', 'read_order_items'],
        workers: {
          replicas: 2,
          concurrency: 2,
          env: [{ name: 'PLEXUS_EXTRA', value: 'yes' }],
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
          serviceAccountName: 'plexus-worker',
          nodeSelector: { pool: 'batch' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
        },
        connections: { rabbitmq: { secretRef: { name: 'rabbit' } } },
      });

      const phases: string[] = [];
      let watching = true;
      const deadline = Date.now() + 280_000;
      const watcher = (async () => {
        while (watching && Date.now() < deadline) {
          const r = await getRun('lookup').catch(() => undefined);
          const p = r?.status?.phase;
          if (p && phases[phases.length - 1] !== p) phases.push(p);
          await sleep(100);
        }
      })();

      const kubelet = new FakeKubelet();
      try {
        const job = await waitFor('worker Job', async () => (await jobsOf('lookup'))[0]);
        const pending = await getRun('lookup');
        expect(pending?.status?.runId).toBe(1);
        expect(pending?.status?.phase).toBe('Pending');
        expect(job.spec?.parallelism).toBe(2);
        expect(job.metadata.ownerReferences?.[0]).toMatchObject({
          kind: 'DataRun',
          name: 'lookup',
          controller: true,
        });
        const pod = job.spec!.template.spec;
        const c = pod.containers[0]!;
        expect(c.image).toBe('registry.example/plexus:test');
        expect(c.command).toEqual(['plexus']);
        expect(c.args).toEqual(['worker', '--keyspace', ks, '--concurrency', '2']);
        const byName = new Map(c.env.map((e) => [e.name, e]));
        expect(byName.get('PLEXUS_RABBITMQ_URL')).toEqual({
          name: 'PLEXUS_RABBITMQ_URL',
          valueFrom: { secretKeyRef: { name: 'rabbit', key: 'url' } },
        });
        expect(byName.get('PLEXUS_CASSANDRA_CONTACT_POINTS')?.value).toBe(
          requireService('CASSANDRA_CONTACT_POINTS'),
        );
        expect(byName.get('PLEXUS_EXTRA')?.value).toBe('yes');
        expect(c.resources).toEqual({
          requests: { cpu: '100m', memory: '256Mi' },
          limits: { memory: '1Gi' },
        });
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.serviceAccountName).toBe('plexus-worker');
        expect(pod.nodeSelector).toEqual({ pool: 'batch' });
        expect(pod.tolerations).toEqual([
          { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' },
        ]);
        expect(pod.volumes).toMatchObject([
          { name: 'plexus-run-files', configMap: { name: 'lookup-run-files' } },
        ]);

        kubelet.start();
        await waitFor(
          'Running',
          async () => ((await getRun('lookup'))?.status?.phase === 'Running' ? true : undefined),
          120_000,
        );
        // restart mid-run: the next leader must not start a second run
        await leaderNow.stop('SIGKILL');
        a = await startController(`ctl-c-${tag}`);
        const done = await waitFor(
          'Succeeded',
          async () => {
            const r = await getRun('lookup');
            if (r?.status?.phase === 'Failed') throw new Error(`run failed: ${r.status.message}`);
            return r?.status?.phase === 'Succeeded' ? r : undefined;
          },
          180_000,
        );
        watching = false;
        await watcher;
        // the poller may stop between two reads: record the phase the wait above saw last, as the poller would
        const finalPhase = done.status?.phase;
        if (finalPhase && phases[phases.length - 1] !== finalPhase) phases.push(finalPhase);
        expect(phases[0]).toBe('Pending');
        expect(phases).toContain('Running');
        expect(phases[phases.length - 1]).toBe('Succeeded');
        expect(phases.indexOf('Running')).toBeLessThan(phases.indexOf('Succeeded'));
        expect(done.status?.runId).toBe(1);
        expect(done.status?.completionTime).toBeDefined();
        expect(done.status?.conditions?.find((x) => x.type === 'Complete')?.status).toBe('True');

        const store = openStore();
        try {
          expect((await store.getRunProperties(ks)).map((p) => p.runId)).toEqual([1]);
          const report = await runReport(store, ks, 1);
          expect(done.status?.progress).toBe(`${report.nodes.length}/${report.nodes.length}`);
          for (const n of report.nodes) {
            const st = done.status?.nodes?.find((x) => x.name === n.node);
            expect(st).toEqual({
              name: n.node,
              state: 'Succeeded',
              batches: { done: n.batchesFinished, failed: 0, total: n.batchesTotal },
            });
          }
        } finally {
          await store.close();
        }
        for (const f of LOOKUP_OUTPUTS) {
          expect(
            diffFiles(path.join(suitesDir(), 'lookup', 'expected', f), path.join(s.out, f), false),
          ).toBeUndefined();
          expect(done.status?.outputFiles).toContain(path.join(s.out, f));
        }
        // the run is over: the Job is scaled to 0
        await waitFor('Job scaled down', async () =>
          (await jobsOf('lookup')).every((j) => j.spec?.parallelism === 0) ? true : undefined,
        );
        // The Succeeded event follows the status write that the wait above saw.
        const expectedReasons = ['RunIdTaken', 'RunStarted', 'WorkersCreated', 'Succeeded'];
        const reasons = await waitFor('the Succeeded event', async () => {
          const r = (await eventsOf('lookup')).map((e) => e.reason);
          return expectedReasons.every((x) => r.includes(x)) ? r : undefined;
        });
        expect(reasons).toEqual(expect.arrayContaining(expectedReasons));
        expect(reasons.filter((r) => r === 'RunStarted')).toHaveLength(1);

        // printer columns (Table form)
        const table = (await rawGet(
          env.kc,
          `/apis/plexus.dev/v1alpha1/namespaces/${env.namespace}/dataruns/lookup`,
          'application/json;as=Table;v=v1;g=meta.k8s.io',
        )) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
        const cols = table.columnDefinitions.map((d) => d.name);
        const row = table.rows[0]!.cells;
        const cell = (name: string) => row[cols.indexOf(name)];
        expect(cell('Name')).toBe('lookup');
        expect(cell('Phase')).toBe('Succeeded');
        expect(cell('Progress')).toBe(done.status?.progress);
        expect(cell('Batches')).toBe(done.status?.batchProgress);
        expect(cell('Keyspace')).toBe(ks);
      } catch (err) {
        process.stderr.write(kubelet.logs());
        throw err;
      } finally {
        watching = false;
        await watcher;
        await kubelet.stop();
      }
      fs.rmSync(s.dir, { recursive: true, force: true });
    },
  );

  step(
    'a failed worker Job is a lost attempt; suspend stops the run and the workers; resume starts a new run',
    async () => {
      const ks = `dr_susp_${tag}`;
      keyspaces.push(ks);
      const s = prepareSuite('lookup');
      try {
        await createRun('pausable', {
          script: { inline: fs.readFileSync(path.join(s.cfg, 'script_quick.yaml'), 'utf8') },
          params: { inline: fs.readFileSync(path.join(s.cfg, 'script_params_quick_fs_one.yaml'), 'utf8') },
          paramOverrides: { dir_in: s.in, dir_out: s.out },
          keyspace: ks,
          startNodes: ['read_orders', 'read_order_items'],
          workers: { replicas: 2 },
        });
        const first = await waitFor('Job r1-a1', async () =>
          (await jobsOf('pausable')).find((j) => j.metadata.name === 'pausable-r1-a1'),
        );
        // the Job controller gives up on the Job (its pods kept failing)
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await env.client.mergePatchStatus(JOBS, env.namespace, first.metadata.name, {
          status: {
            startTime: now,
            failed: 7,
            conditions: [
              {
                type: 'FailureTarget',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: 'too many failures',
                lastProbeTime: now,
                lastTransitionTime: now,
              },
              {
                type: 'Failed',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: 'too many failures',
                lastProbeTime: now,
                lastTransitionTime: now,
              },
            ],
          },
        });
        const second = await waitFor('Job r1-a2', async () =>
          (await jobsOf('pausable')).find((j) => j.metadata.name === 'pausable-r1-a2'),
        );
        expect(second.spec?.parallelism).toBe(2);
        await waitFor('r1-a1 scaled down', async () =>
          (await jobsOf('pausable')).find((j) => j.metadata.name === 'pausable-r1-a1')?.spec?.parallelism ===
          0
            ? true
            : undefined,
        );
        expect((await eventsOf('pausable')).map((e) => e.reason)).toContain('WorkersLost');
        expect((await getRun('pausable'))?.status?.runId).toBe(1);

        await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 'pausable', { spec: { suspend: true } });
        const suspended = await waitFor('Suspended', async () => {
          const r = await getRun('pausable');
          return r?.status?.phase === 'Suspended' ? r : undefined;
        });
        expect(suspended.status?.conditions?.find((c) => c.type === 'Suspended')).toMatchObject({
          status: 'True',
          reason: 'SuspendedByUser',
        });
        expect((await jobsOf('pausable')).every((j) => j.spec?.parallelism === 0)).toBe(true);
        const store = openStore();
        try {
          expect((await runReport(store, ks, 1)).status).toBe(3); // stopped

          await env.client.mergePatch(DATARUN_RESOURCE, env.namespace, 'pausable', {
            spec: { suspend: false },
          });
          await waitFor('run 2 with its Job', async () => {
            const r = await getRun('pausable');
            const jobs = await jobsOf('pausable');
            return r?.status?.runId === 2 && jobs.some((j) => j.metadata.name === 'pausable-r2-a1')
              ? true
              : undefined;
          });
          expect((await store.getRunProperties(ks)).map((p) => p.runId)).toEqual([1, 2]);
        } finally {
          await store.close();
        }
        await env.client.delete(DATARUN_RESOURCE, env.namespace, 'pausable');
        await waitFor('pausable gone', async () => ((await getRun('pausable')) ? undefined : true), 60_000);
      } finally {
        fs.rmSync(s.dir, { recursive: true, force: true });
      }
    },
  );

  step('deleted mid-run: the run is stopped, the queues are deleted and the keyspace dropped', async () => {
    const ks = `dr_del_${tag}`;
    keyspaces.push(ks);
    const s = prepareSuite('lookup');
    await createRun('doomed', {
      script: { inline: fs.readFileSync(path.join(s.cfg, 'script_quick.yaml'), 'utf8') },
      params: { inline: fs.readFileSync(path.join(s.cfg, 'script_params_quick_fs_one.yaml'), 'utf8') },
      paramOverrides: { dir_in: s.in, dir_out: s.out },
      keyspace: ks,
      startNodes: ['read_orders', 'read_order_items'],
      cleanupPolicy: 'DropKeyspace',
    });
    // started: batches are waiting in RabbitMQ, no worker takes them
    await waitFor('run started', async () => {
      const r = await getRun('doomed');
      return r?.status?.runId !== undefined && (await jobsOf('doomed')).length > 0 ? true : undefined;
    });
    const queue = openQueue();
    const store = openStore();
    try {
      await waitFor('batches queued', async () => ((await queue.counts(ks)).ready > 0 ? true : undefined));
      expect((await getRun('doomed'))?.metadata.finalizers).toContain('plexus.dev/cleanup');
      await env.client.delete(DATARUN_RESOURCE, env.namespace, 'doomed');
      await waitFor('DataRun gone', async () => ((await getRun('doomed')) ? undefined : true), 60_000);
      expect(await store.keyspaceExists(ks)).toBe(false);
      const mgmt = new URL(requireService('RABBITMQ_MGMT_URL'));
      const res = await fetch(`${mgmt.origin}/api/queues`, {
        headers: {
          Authorization: `Basic ${Buffer.from(`${mgmt.username}:${decodeURIComponent(mgmt.password)}`).toString('base64')}`,
        },
      });
      const queues = (await res.json()) as Array<{ name: string }>;
      expect(queues.filter((q) => q.name.includes(ks))).toEqual([]);
      // deleted with propagation Background (this API server has no garbage collector to finish it)
      for (const j of await jobsOf('doomed')) expect(j.metadata.deletionTimestamp).toBeDefined();
      expect(await env.client.get(CONFIGMAPS, env.namespace, 'doomed-run-files')).toBeUndefined();
    } finally {
      await queue.close();
      await store.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
    await a.stop();
  });
});
