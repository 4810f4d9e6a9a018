/**
 * The informer keeps working across a real kube-apiserver restart. The test runs its own etcd and
 * kube-apiserver (from KUBE_APISERVER_BIN / ETCD_BIN, built by test/infra/up.sh), so that killing the API
 * server does not disturb the other tests.
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { DataRun } from '../../../src/api/index.js';
import {
  createKubeClient,
  DATARUN_RESOURCE,
  Informer,
  type KubeClient,
} from '../../../src/operator/index.js';
import { requireService } from '../services.js';
import { applyCrds, eventually, freshNamespace } from './kube-env.js';

jest.setTimeout(180_000);

const TOKEN = 'restart-test-token';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

class Proc {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly bin: string,
    private readonly args: string[],
    private readonly logFile: string,
  ) {}

  start(): void {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(this.bin, this.args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  tail(): string {
    return fs.existsSync(this.logFile)
      ? fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n')
      : '';
  }
}

/** GET status code, or 0 when the connection fails (TLS not verified: a probe of our own server). */
function probe(url: string, headers: Record<string, string>): Promise<number> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = mod.get(u, { headers, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

async function waitHttp(
  url: string,
  what: string,
  proc: Proc,
  headers: Record<string, string> = {},
): Promise<void> {
  const deadline = Date.now() + 90_000;
  while ((await probe(url, headers)) !== 200) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

let dir: string;
let etcd: Proc;
let apiserver: Proc;
let apiPort: number;
let client: KubeClient;
let kc: KubeConfig;

async function startApiserver(): Promise<void> {
  apiserver.start();
  await waitHttp(`https://127.0.0.1:${apiPort}/readyz`, 'kube-apiserver', apiserver, {
    Authorization: `Bearer ${TOKEN}`,
  });
}

beforeAll(async () => {
  const apiserverBin = requireService('KUBE_APISERVER_BIN');
  const etcdBin = requireService('ETCD_BIN');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-apiserver-restart-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  apiPort = await freePort();
  etcd = new Proc(
    etcdBin,
    [
      '--name=restart',
      `--data-dir=${dir}/etcd`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=restart=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    `${dir}/etcd.log`,
  );
  etcd.start();
  await waitHttp(`http://127.0.0.1:${clientPort}/health`, 'etcd', etcd);

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.mkdirSync(`${dir}/pki`);
  fs.writeFileSync(`${dir}/pki/sa.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(`${dir}/pki/tokens.csv`, `${TOKEN},restart-admin,restart-admin-uid,"system:masters"\n`);
  apiserver = new Proc(
    apiserverBin,
    [
      `--etcd-servers=http://127.0.0.1:${clientPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${dir}/pki`,
      `--token-auth-file=${dir}/pki/tokens.csv`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${dir}/pki/sa.key`,
      `--service-account-signing-key-file=${dir}/pki/sa.key`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none',
    ],
    `${dir}/apiserver.log`,
  );
  await startApiserver();

  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'restart', server: `https://127.0.0.1:${apiPort}`, skipTLSVerify: true }],
    users: [{ name: 'admin', token: TOKEN }],
    contexts: [{ name: 'restart', cluster: 'restart', user: 'admin' }],
    currentContext: 'restart',
  });
  client = createKubeClient(kc);
  await applyCrds(kc);
});

afterAll(async () => {
  await apiserver?.stop('SIGKILL');
  await etcd?.stop('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Informer across a kube-apiserver restart', () => {
  it('backs off while the API server is down, reconnects, and keeps delivering changes', async () => {
    const namespace = await freshNamespace(kc, 'it-restart');
    const run = (name: string, replicas = 1): DataRun => ({
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'DataRun',
      metadata: { name, namespace },
      spec: { script: { inline: 'nodes: {}' }, startNodes: ['a'], workers: { replicas } },
    });
    const informer = new Informer<DataRun>({
      client,
      resource: DATARUN_RESOURCE,
      namespace,
      backoff: { initialMs: 250, maxMs: 2000 },
    });
    const events: string[] = [];
    informer.addHandlers({
      add: (o) => events.push(`add ${o.metadata.name}`),
      update: (_old, o) => events.push(`update ${o.metadata.name} ${o.spec.workers?.replicas ?? ''}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await client.create(DATARUN_RESOURCE, namespace, run('one'));
    informer.start();
    await informer.waitForSync();
    expect(events).toEqual(['add one']);
    await eventually('watching', () => informer.state === 'watching' || undefined);
    const connectsBefore = informer.connects;

    await apiserver.stop('SIGKILL');
    await eventually('backoff while the API server is down', () => informer.state === 'backoff' || undefined);
    await new Promise((r) => setTimeout(r, 2000));
    await startApiserver();

    await eventually('watching again', () => informer.state === 'watching' || undefined, 60_000);
    expect(informer.connects).toBeGreaterThan(connectsBefore);

    // Served by the new API server process, delivered on the new watch stream.
    await eventually(
      'update after the restart',
      async () => {
        await client.mergePatch(DATARUN_RESOURCE, namespace, 'one', { spec: { workers: { replicas: 4 } } });
        return events.includes('update one 4') || undefined;
      },
      30_000,
    );
    await client.create(DATARUN_RESOURCE, namespace, run('two'));
    await client.delete(DATARUN_RESOURCE, namespace, 'one');
    await eventually('add and delete after the restart', () =>
      events.includes('add two') && events.includes('delete one') ? true : undefined,
    );
    expect(informer.keys()).toEqual([`${namespace}/two`]);
    await informer.stop();
  });
});
