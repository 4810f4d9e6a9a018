/**
 * Bridge benchmark: RabbitMQ → S3 with 1 KB messages through the real bridge (disk buffer with fsync per
 * batch, uploads to the S3-compatible server), against a bare amqplib consume-and-discard loop (manual
 * acks, same prefetch) on the same queue contents in the same run. Each side runs in its own process so
 * peak RSS and CPU are its own. Reports messages/s, MB/s, CPU seconds (per-core rate) and peak RSS; the
 * ratio bridge/baseline is the figure.
 *
 *   npm run bench -- bridge [--messages 200000] [--size 1024] [--prefetch 1000]
 *
 * Services come from test/.services.env (start them with `bash test/infra/up.sh rabbitmq s3`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';

interface ChildReport {
  readonly mode: 'baseline' | 'bridge';
  readonly messages: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly extra?: Record<string, number>;
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function loadServices(): void {
  const file = path.join(repo, 'test', '.services.env');
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && m[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with 'bash test/infra/up.sh rabbitmq s3'`);
  return v;
}

async function fillQueue(url: string, queue: string, count: number, size: number): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  await ch.deleteQueue(queue).catch(() => undefined);
  await ch.assertQueue(queue, { durable: true });
  const body = Buffer.alloc(size, 'x');
  for (let i = 0; i < count; i++) {
    const msg = Buffer.from(body);
    msg.write(`${String(i).padStart(10, '0')}`, 0);
    if (!ch.sendToQueue(queue, msg, { persistent: true }))
      await new Promise<void>((r) => ch.once('drain', () => r()));
    if (i % 10_000 === 9_999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
}

/** Child: bare amqplib consumer that acks and discards. */
async function baseline(url: string, queue: string, count: number, prefetch: number): Promise<ChildReport> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let n = 0;
  let bytes = 0;
  await new Promise<void>((resolve) => {
    void ch.consume(queue, (m) => {
      if (!m) return;
      n++;
      bytes += m.content.length;
      ch.ack(m);
      if (n >= count) resolve();
    });
  });
  const elapsedMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await conn.close();
  return {
    mode: 'baseline',
    messages: n,
    bytes,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Child: the real bridge, RabbitMQ → disk buffer → S3, until every message is uploaded. */
async function bridge(
  url: string,
  queue: string,
  count: number,
  prefetch: number,
  dir: string,
): Promise<ChildReport> {
  const { Registry } = await import('prom-client');
  const { createBridge, parseBridgeConfig } = await import('../src/bridge/index.js');
  const { silentLogger } = await import('../src/obs/index.js');
  const folder = `bench-${process.pid}-${Date.now()}`;
  const cfg = parseBridgeConfig(
    `
name: bench
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${queue}, prefetch: ${prefetch} }
sink:
  type: s3
  s3:
    bucket: plexus-bench
    folder: ${folder}
    endpoint: "\${S3_ENDPOINT}"
    region: "\${S3_REGION}"
    forcePathStyle: \${S3_FORCE_PATH_STYLE}
    accessKeyId: "\${S3_ACCESS_KEY_ID}"
    secretAccessKey: "\${S3_SECRET_ACCESS_KEY}"
    createBucket: true
buffer: { bufferPath: ${dir}, commitFileSize: 16Mi, commitDuration: 1s, uploadEvery: 1s }
delivery: { batchMaxRecords: 500, maxInFlight: ${Math.max(prefetch * 2, 1000)} }
`,
    'bench.yaml',
  );
  const registry = new Registry();
  const b = createBridge(cfg, { registry, logger: silentLogger() });
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await b.start();
  let durableAt = 0;
  for (;;) {
    const st = b.status();
    if (!durableAt && st.counters.delivered >= count) durableAt = Date.now();
    if (st.counters.delivered >= count && st.buffer?.bytes === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const st = (await b.stop()).status;
  return {
    mode: 'bridge',
    messages: st.counters.delivered,
    bytes: st.counters.deliveredBytes,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    extra: { durableMs: durableAt - t0 },
  };
}

async function child(args: readonly string[]): Promise<void> {
  loadServices();
  const [mode, queue, count, prefetch, dir] = args;
  const url = need('RABBITMQ_URL');
  const rep =
    mode === 'baseline'
      ? await baseline(url, queue!, Number(count), Number(prefetch))
      : await bridge(url, queue!, Number(count), Number(prefetch), dir!);
  process.stdout.write(`${JSON.stringify(rep)}\n`);
}

function runChild(args: string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const p = spawn(process.execPath, [...process.execArgv, self, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`benchmark child (${args[0]}) exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as ChildReport);
    });
  });
}

function argValue(args: readonly string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

function line(r: ChildReport): string {
  const s = r.elapsedMs / 1000;
  const mps = r.messages / s;
  const mbps = r.bytes / 1e6 / s;
  const perCore = r.cpuMs > 0 ? r.messages / (r.cpuMs / 1000) : 0;
  return `${r.mode.padEnd(9)} ${String(r.messages).padStart(8)} msgs  ${s.toFixed(2).padStart(7)} s  ${Math.round(mps).toString().padStart(8)} msg/s  ${mbps.toFixed(1).padStart(6)} MB/s  ${Math.round(perCore).toString().padStart(8)} msg/CPU-s  peak RSS ${r.maxRssMb} MB`;
}

export async function runBridgeBench(args: readonly string[]): Promise<void> {
  loadServices();
  const messages = argValue(args, '--messages', 200_000);
  const size = argValue(args, '--size', 1024);
  const prefetch = argValue(args, '--prefetch', 1000);
  const url = need('RABBITMQ_URL');
  need('S3_ENDPOINT');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-bench-bridge-'));
  const queue = `plexus-bench-${process.pid}`;
  process.stdout.write(`bridge benchmark: ${messages} messages of ${size} bytes, prefetch ${prefetch}\n`);
  try {
    let t0 = Date.now();
    await fillQueue(url, queue, messages, size);
    process.stdout.write(`  queue filled in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const base = await runChild(['baseline', queue, String(messages), String(prefetch), dir]);
    process.stdout.write(`${line(base)}\n`);
    t0 = Date.now();
    await fillQueue(url, queue, messages, size);
    process.stdout.write(`  queue filled again in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const br = await runChild([
      'bridge',
      queue,
      String(messages),
      String(prefetch),
      path.join(dir, 'buffer'),
    ]);
    process.stdout.write(`${line(br)}\n`);
    if (br.extra?.durableMs) {
      process.stdout.write(
        `  (all messages durable on local disk and acknowledged after ${(br.extra.durableMs / 1000).toFixed(2)} s; the rest is the last uploads)\n`,
      );
    }
    const ratio = base.elapsedMs / br.elapsedMs;
    process.stdout.write(
      `\nbridge / bare consumer throughput, until the last object is in S3: ${(ratio * 100).toFixed(0)}%\n`,
    );
    if (br.extra?.durableMs) {
      const acked = base.elapsedMs / br.extra.durableMs;
      process.stdout.write(
        `bridge / bare consumer throughput, until the last message is acknowledged: ${(acked * 100).toFixed(0)}%\n`,
      );
    }
    process.stdout.write(
      `CPU per message: ${(base.messages / base.cpuMs / (br.messages / br.cpuMs)).toFixed(2)}x the bare consumer's\n`,
    );
  } finally {
    const conn = await amqp.connect(url);
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await conn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const selfPath = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === selfPath) {
  const args = process.argv.slice(2);
  const run = args[0] === '--child' ? child(args.slice(1)) : runBridgeBench(args);
  run.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
