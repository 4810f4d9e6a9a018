/** Helpers of the packaging tests: plain-JSON requests to the API server and YAML documents. */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export type Obj = KubernetesObject & { [k: string]: unknown };

/**
 * A plain-JSON request to the API server. client-node's typed calls serialise through its models, which drop
 * keys such as x-kubernetes-int-or-string and x-kubernetes-validations from a plain CRD object: objects are
 * sent as they are here, like kubectl does.
 */
export async function kubeRequest(
  kc: KubeConfig,
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE',
  urlPath: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: string }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + urlPath);
  const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (payload)
    opts.headers = { ...opts.headers, 'Content-Type': contentType, 'Content-Length': payload.length };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const APPLY = 'application/apply-patch+yaml';
export const FIELD_MANAGER = 'plexus-packaging-test';

/** The non-empty YAML documents of a text. */
export function docs(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && typeof o === 'object');
}

/** Server-side apply through REST paths found by discovery; CRDs are applied and waited for. */
export class Applier {
  private readonly discovery = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();

  constructor(private readonly kc: KubeConfig) {}

  async resourceOf(apiVersion: string, kind: string) {
    let list = this.discovery.get(apiVersion);
    if (!list) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const res = await kubeRequest(this.kc, 'GET', base);
      list = res.status === 200 ? ((JSON.parse(res.body) as { resources: typeof list }).resources ?? []) : [];
      if (list.length > 0) this.discovery.set(apiVersion, list);
    }
    return list.find((r) => r.kind === kind && !r.name.includes('/'));
  }

  /** The REST path of an object (namespaced objects without a namespace go to `namespace`). */
  async pathOf(o: Obj, namespace = 'default'): Promise<string> {
    const apiVersion = o.apiVersion ?? '';
    const resource = await this.resourceOf(apiVersion, o.kind ?? '');
    if (!resource) throw new Error(`the API server serves no ${o.kind} in ${apiVersion}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = resource.namespaced ? `/namespaces/${o.metadata?.namespace ?? namespace}` : '';
    return `${base}${ns}/${resource.name}/${o.metadata?.name}`;
  }

  /** Server-side apply; throws with the API server's answer when it is refused. */
  async apply(o: Obj, namespace = 'default'): Promise<void> {
    const res = await kubeRequest(
      this.kc,
      'PATCH',
      `${await this.pathOf(o, namespace)}?fieldManager=${FIELD_MANAGER}&force=true`,
      o,
      APPLY,
    );
    if (res.status >= 300) throw new Error(`${o.kind}/${o.metadata?.name}: ${res.status} ${res.body}`);
  }

  async applyCrd(crd: Obj): Promise<void> {
    await this.apply(crd);
    const name = crd.metadata?.name ?? '';
    const deadline = Date.now() + 90_000;
    for (;;) {
      const res = await kubeRequest(
        this.kc,
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      const cur = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
      if (cur.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 90 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
