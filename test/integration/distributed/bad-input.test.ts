import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  cli,
  expectOk,
  openQueue,
  openStore,
  startRunCli,
  startWorkers,
  WorkerProcess,
  waitRunCli,
} from './cluster.js';
import { tinyCase, tinyScript } from './tiny.js';

// Bad input in distributed mode: clear errors from start-run/stop-run/status, failing nodes recorded with
// their reason (the run completes as failed), a batch given up after repeated transient failures, and a
// malformed queue message that is dead-lettered while the worker keeps working.
jest.setTimeout(300_000);

const tag = randomBytes(3).toString('hex');
const ks = `dist_bad_${tag}`;

describe('distributed mode: bad input', () => {
  let workers: WorkerProcess[] = [];
  let logDir = '';

  beforeAll(async () => {
    logDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'plexus-dist-bad-'));
    workers = await startWorkers(2, ks, logDir, ['--max-failures', '2']);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    const store = openStore();
    const queue = openQueue();
    await store.dropKeyspace(ks).catch(() => undefined);
    await queue.deleteQueues(ks).catch(() => undefined);
    await queue.close();
    await store.close();
  });

  test('an unknown keyspace or run is a clear error, not a stack trace', async () => {
    const missing = `nope_${tag}`;
    for (const args of [
      ['status', '--keyspace', missing],
      ['status', '--keyspace', missing, '--run-id', '1', '--wait'],
      ['stop-run', '--keyspace', missing, '--run-id', '1'],
    ]) {
      const res = await cli(args);
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(`error: keyspace ${missing} does not exist\n`);
    }
    const bad = await cli(['status', '--keyspace', 'system_auth']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: keyspace name "system_auth" is invalid: it starts with 'system'\n$/);
  });

  test('a script that fails validation is refused before anything is created', async () => {
    const c = tinyCase(5);
    const broken = tinyScript() as { nodes: { read_orders: { w: { fields: Record<string, unknown> } } } };
    broken.nodes.read_orders.w.fields.amount = { expression: 'r.col_amount +', type: 'int' };
    fs.writeFileSync(c.script, JSON.stringify(broken));
    const badKs = `dist_bad_script_${tag}`;
    const res = await cli([
      'start-run',
      c.script,
      '--params',
      c.params,
      '--keyspace',
      badKs,
      '--start-nodes',
      'read_orders',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /^ {2}script\.json: nodes\.read_orders\.w\.fields\.amount\.expression: unexpected end of expression/m,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const store = openStore();
    try {
      expect(await store.keyspaceExists(badKs)).toBe(false);
    } finally {
      await store.close();
    }
    const small = tinyCase(1);
    const unknownNode = await cli([
      'start-run',
      small.script,
      '--params',
      small.params,
      '--keyspace',
      badKs,
      '--start-nodes',
      'read_everything',
    ]);
    expect(unknownNode.code).toBe(1);
    expect(unknownNode.stderr).toMatch(/start node\(s\) not in the script: read_everything/);
  });

  test('a node that fails: the run completes as failed and status names the batch and the reason', async () => {
    const c = tinyCase(5, tinyScript('{dir_in}/missing.csv'));
    const runId = await startRunCli([
      c.script,
      '--params',
      c.params,
      '--keyspace',
      ks,
      '--start-nodes',
      'read_orders',
    ]);
    const res = await waitRunCli(ks, runId);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`^run ${runId} in keyspace ${ks}: FAILED`));
    expect(res.stdout).toMatch(/read_orders\s+fail\s+1\/1\s+1/);
    expect(res.stdout).toContain(
      `node read_orders batch 0 failed: node read_orders: cannot read ${path.join(c.in, 'missing.csv')}: no such file or directory`,
    );
    // the child is not processed: its dependency failed
    expect(res.stdout).toMatch(/node write_orders batches 0, 1 failed: dependencies not met: /);
    const json = await cli(['status', '--keyspace', ks, '--run-id', String(runId), '--json']);
    expectOk(json, 'status --json');
    const report = JSON.parse(json.stdout) as { status: number; succeeded: boolean; comment: string };
    expect(report).toMatchObject({ status: 2, succeeded: false });
    expect(JSON.parse(report.comment)).toEqual({ read_orders: 'fail', write_orders: 'fail' });
  });

  test('a batch that keeps failing transiently is given up after --max-failures and fails its node', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders.csv`;
    try {
      const c = tinyCase(5, tinyScript(url));
      const runId = await startRunCli([
        c.script,
        '--params',
        c.params,
        '--keyspace',
        ks,
        '--start-nodes',
        'read_orders',
      ]);
      const res = await waitRunCli(ks, runId);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(
        `node read_orders batch 0 failed: gave up after 2 failed attempt(s); last error: cannot read ${url}: HTTP 503`,
      );
    } finally {
      server.close();
    }
  });

  test('a malformed message is dead-lettered with its reason; the workers keep working', async () => {
    const queue = openQueue();
    try {
      await queue.publishRaw(ks, Buffer.from('{"v":1,"id":"x"}'));
      const c = tinyCase(20);
      const runId = await startRunCli([
        c.script,
        '--params',
        c.params,
        '--keyspace',
        ks,
        '--start-nodes',
        'read_orders',
      ]);
      const res = await waitRunCli(ks, runId);
      expectOk(res, 'status --wait');
      expect(res.stdout).toMatch(/: succeeded/);
      // The malformed message is handled beside the run, not before it: wait for its dead letter and log line.
      const reason =
        "invalid batch message: message must have required property 'ts'; message must have required property 'ks'; message must have required property 'runId'; message must have required property 'node'; message must have required property 'batchIdx'; message must have required property 'batchesTotal'; message must have required property 'firstToken'; message must have required property 'lastToken'; message must have required property 'attempt'";
      const logLine = 'malformed message moved to the dead-letter queue';
      const until = Date.now() + 60_000;
      let dead = await queue.deadLetters(ks);
      while (
        !(dead.some((d) => d.reason === reason) && workers.some((w) => w.log().includes(logLine))) &&
        Date.now() < until
      ) {
        await new Promise((r) => setTimeout(r, 250));
        dead = await queue.deadLetters(ks);
      }
      expect(dead.map((d) => d.reason)).toContain(reason);
      const logs = workers.map((w) => w.log()).join('\n');
      expect(logs).toContain(logLine);
      expect(fs.readFileSync(path.join(c.out, 'orders_00000.csv'), 'utf8').split('\n')[0]?.trim()).toBe(
        'order_id,amount',
      );
    } finally {
      await queue.close();
    }
  });

  test('status lists the runs of a keyspace; a worker serves /metrics, /healthz and /readyz', async () => {
    const list = await cli(['status', '--keyspace', ks]);
    expectOk(list, 'status');
    expect(list.stdout).toMatch(new RegExp(`^keyspace ${ks}: \\d+ run\\(s\\)\n`));
    expect(list.stdout).toMatch(/^\s+1\s+complete\s+\S+\s+\S+\s+read_orders$/m);
    const w = new WorkerProcess(ks, logDir, ['--metrics-port', '0', '--metrics-host', '127.0.0.1']);
    try {
      await w.ready();
      let port = 0;
      const until = Date.now() + 60_000;
      while (port === 0 && Date.now() < until) {
        const m = /"port":(\d+),"msg":"serving \/metrics/.exec(w.log());
        if (m) port = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(port).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('plexus_worker_batches_in_flight 0');
      expect(metrics).toContain('plexus_worker_broker_connected 1');
      expect(metrics).toContain('# TYPE plexus_worker_batches_total counter');
    } finally {
      await w.stop();
    }
    expect(await w.exited).toBe(0);
  });

  test('an unreachable Cassandra is named in the error', async () => {
    const res = await cli(['status', '--keyspace', ks, '--cassandra', '127.0.0.1:1']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: .*Cassandra at 127\.0\.0\.1:1 is unreachable/);
  });
});
