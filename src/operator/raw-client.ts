/**
 * Plain-JSON REST calls for the core API group (/api/v1: ConfigMaps, Secrets, Pods), which
 * CustomObjectsApi cannot address. Authentication and TLS come from client-node's KubeConfig
 * (applyToHTTPSOptions); failures become the same ApiException client-node raises, so callers see one
 * error shape.
 */
import http from 'node:http';
import https from 'node:https';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  contentType?: string;
}

export class RawJsonClient {
  constructor(private readonly kc: KubeConfig) {}

  async request<T>(req: RawRequest): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + req.path);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const opts: https.RequestOptions = {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: {
        Accept: 'application/json',
        ...(payload
          ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': payload.length }
          : {}),
      },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise<T>((resolve, reject) => {
      const r = mod.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            try {
              resolve((text ? JSON.parse(text) : {}) as T);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
            return;
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          reject(new ApiException<string>(code, `HTTP ${code}`, text, headers));
        });
      });
      r.on('error', reject);
      if (payload) r.write(payload);
      r.end();
    });
  }
}
