import { Counter, Registry } from 'prom-client';
import { startHealthServer } from '../../../src/obs/index.js';

describe('health server', () => {
  it('serves metrics, liveness and readiness', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'plexus_test_things_total', help: 'things', registers: [registry] });
    c.inc(3);
    let ready = false;
    const srv = await startHealthServer({ port: 0, host: '127.0.0.1', registry, ready: () => ready });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('plexus_test_things_total 3');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });
});
