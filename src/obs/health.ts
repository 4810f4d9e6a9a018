import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Liveness: the process is not wedged. */
  live?: () => boolean | Promise<boolean>;
  /** Readiness: dependencies connected and work can be taken. */
  ready?: () => boolean | Promise<boolean>;
  /** Served as JSON at /status when given (e.g. a bridge's status snapshot). */
  status?: () => unknown;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves /metrics (Prometheus text), /healthz and /readyz. Port 0 picks a free port. */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        if (req.url === '/metrics') {
          const body = await opts.registry.metrics();
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(body);
          return;
        }
        if (req.url === '/status' && opts.status) {
          const body = JSON.stringify(await opts.status());
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
          return;
        }
        if (req.url === '/healthz' || req.url === '/readyz') {
          const check = req.url === '/healthz' ? opts.live : opts.ready;
          const ok = check ? await check() : true;
          res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
          res.end(ok ? 'ok\n' : 'not ready\n');
          return;
        }
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
