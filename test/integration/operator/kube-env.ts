/**
 * Shared set-up of the operator integration tests: a client for the real kube-apiserver started by
 * test/infra/up.sh (PLEXUS_TEST_KUBECONFIG), the Plexus CRDs applied and Established, a fresh namespace per
 * test file, raw GETs (Table form) and a TCP proxy that can cut the connection to the API server.
 */
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { CRDS } from '../../../src/api/index.js';
import {
  CRDS_RESOURCE,
  createKubeClient,
  isAlreadyExists,
  isConflict,
  type KubeClient,
  type KubeObject,
} from '../../../src/operator/index.js';
import { requireService } from '../services.js';

export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireService('PLEXUS_TEST_KUBECONFIG'));
  return kc;
}

/** A copy of `kc` that talks to `server` instead (same credentials). */
export function withServer(kc: KubeConfig, server: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user) throw new Error('kubeconfig has no current cluster/user');
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: [user],
    contexts: [{ name: 'proxy', cluster: cluster.name, user: user.name }],
    currentContext: 'proxy',
  });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Applies the generated CRDs as plain JSON (create, or replace on AlreadyExists) and waits until both are
 * Established and served.
 */
export async function applyCrds(kc: KubeConfig): Promise<void> {
  const client = createKubeClient(kc);
  for (const { crd } of CRDS) {
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await client.get<CrdObject>(CRDS_RESOURCE, '', crd.metadata.name);
        if (!current) await client.create<CrdObject>(CRDS_RESOURCE, '', crd as unknown as CrdObject);
        else {
          const body = structuredClone(crd) as unknown as CrdObject;
          body.metadata.resourceVersion = current.metadata.resourceVersion;
          await client.replace<CrdObject>(CRDS_RESOURCE, '', crd.metadata.name, body);
        }
        break;
      } catch (err) {
        // Another test file may be applying the same CRD at the same moment.
        if (attempt > 5 || !(isConflict(err) || isAlreadyExists(err))) throw err;
        await sleep(200);
      }
    }
  }
  const deadline = Date.now() + 90_000;
  for (const { crd } of CRDS) {
    for (;;) {
      const cur = await client.get<CrdObject>(CRDS_RESOURCE, '', crd.metadata.name);
      if (cur?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after 90 s`);
      await sleep(200);
    }
    const rt = {
      group: crd.spec.group,
      version: 'v1alpha1',
      plural: crd.spec.names.plural,
      kind: crd.spec.names.kind,
    };
    for (;;) {
      try {
        await client.list(rt, { namespace: 'default', limit: 1 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }
}

interface CrdObject extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** Creates a namespace with a unique name (namespaces are never deleted: the test API server has no GC). */
export async function freshNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export interface KubeEnv {
  kc: KubeConfig;
  client: KubeClient;
  namespace: string;
}

export async function setUpKube(prefix: string): Promise<KubeEnv> {
  const kc = testKubeConfig();
  await applyCrds(kc);
  const namespace = await freshNamespace(kc, prefix);
  return { kc, client: createKubeClient(kc), namespace };
}

/** GET with a given Accept header (e.g. the Table form), returning the parsed JSON body. */
export async function rawGet(kc: KubeConfig, path: string, accept: string): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = {
    method: 'GET',
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { Accept: accept },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = https.request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${path}: ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A TCP proxy to the API server that tests can take down (cutting and refusing connections) and bring back. */
export { CuttableProxy } from '../tcp-proxy.js';

/**
 * Polls `fn` until it returns a value (not undefined/false). The default deadline is generous on purpose: the
 * API server shares two cores with the other services and the tests, and a deadline only bounds a failure.
 */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`,
      );
    }
    await sleep(100);
  }
}
