/**
 * `plexus bridge` as a user runs it (src/cli/main.ts): metrics and health endpoints, the status file,
 * and a graceful SIGTERM that acknowledges what is in flight and exits 0.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BridgeStatus } from '../../../src/bridge/index.js';
import { requireService } from '../services.js';
import { deleteQueues, payload, publish, queueDepth, uniqueName, waitFor } from './util.js';

const rabbit = requireService('RABBITMQ_URL');
const repo = path.resolve(import.meta.dirname, '..', '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('plexus bridge (CLI process)', () => {
  const run = uniqueName('cli');
  const queue = `${run}-in`;
  afterAll(() => deleteQueues(rabbit, [queue]));

  it('serves /metrics, /healthz, /readyz, writes the status file and stops cleanly on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-cli-'));
    const config = path.join(dir, 'bridge.yaml');
    fs.writeFileSync(
      config,
      `name: ${run}\nsource:\n  type: rabbitmq\n  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${queue} }\nsink:\n  type: stdio\n`,
    );
    const sent = Array.from({ length: 500 }, (_, i) => payload(run, i));
    await publish(rabbit, queue, sent);
    const port = await freePort();
    const statusFile = path.join(dir, 'status.json');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'bridge',
        '--config',
        config,
        '--metrics-port',
        String(port),
        '--metrics-host',
        '127.0.0.1',
        '--status-file',
        statusFile,
        '--status-every',
        '200',
      ],
      { cwd: repo, env: { ...process.env, PLEXUS_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // 'close', not 'exit': stdout and stderr are read below and may still hold data when 'exit' fires.
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const get = async (p: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, text: await res.text() };
    };
    try {
      await waitFor('all lines on stdout', () => out.split('\n').filter(Boolean).length >= 500, 60_000);
      await waitFor(
        'ready',
        async () => (await get('/readyz').catch(() => ({ status: 0 }))).status === 200,
        30_000,
      );
      expect((await get('/healthz')).status).toBe(200);
      const metrics = (await get('/metrics')).text;
      expect(metrics).toMatch(new RegExp(`plexus_bridge_messages_delivered_total\\{bridge="${run}"\\} 500`));
      expect(metrics).toMatch(new RegExp(`plexus_bridge_connected\\{bridge="${run}",side="source"\\} 1`));
      await waitFor('status file', () => fs.existsSync(statusFile));
      const running = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as BridgeStatus;
      expect(running.source.type).toBe('rabbitmq');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const final = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as BridgeStatus;
    expect(final.phase).toBe('Stopped');
    expect(final.counters.delivered).toBe(500);
    expect(err).toContain('"msg":"bridge finished"');
    expect(await queueDepth(rabbit, queue)).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
