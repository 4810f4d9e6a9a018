/**
 * Distributed benchmark: the engine benchmark's lookup data set (1,000,000 order items by default, same
 * generator and script) run three ways in one invocation, each from the same input files:
 *   - local: `runLocal` on the embedded store (the engine benchmark's child, --workers 2);
 *   - distributed with 1 and with 2 `plexus worker` processes on the RabbitMQ + Cassandra of the test
 *     harness (test/.services.env or PLEXUS_CASSANDRA_CONTACT_POINTS / PLEXUS_RABBITMQ_URL).
 * Reports wall time, item throughput, and per node rows in/out, elapsed and rows/s, side by side.
 *
 *   npm run bench -- distributed [--items 1000000] [--files 10] [--batches 10] [--workers 1,2]
 *                                [--concurrency 2] [--keep]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchScript, generate } from './engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface NodeFigures {
  readonly node: string;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly elapsedMs: number;
}

interface Figures {
  readonly label: string;
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly nodes: readonly NodeFigures[];
}

function argValue(args: readonly string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

/** Service settings: the environment first, then test/.services.env written by test/infra/up.sh. */
function serviceEnv(): NodeJS.ProcessEnv {
  const file = path.join(ROOT, 'test', '.services.env');
  const fromFile: Record<string, string> = {};
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) fromFile[m[1]!] = m[2]!;
    }
  }
  const env = { ...process.env };
  env.PLEXUS_CASSANDRA_CONTACT_POINTS ??= fromFile.CASSANDRA_CONTACT_POINTS;
  env.PLEXUS_CASSANDRA_LOCAL_DC ??= fromFile.CASSANDRA_LOCAL_DC;
  env.PLEXUS_RABBITMQ_URL ??= fromFile.RABBITMQ_URL;
  if (!env.PLEXUS_CASSANDRA_CONTACT_POINTS || !env.PLEXUS_RABBITMQ_URL) {
    throw new Error(
      'no services: set PLEXUS_CASSANDRA_CONTACT_POINTS and PLEXUS_RABBITMQ_URL, or start them with bash test/infra/up.sh',
    );
  }
  return env;
}

/** The local run: the engine benchmark's child mode (its own process, embedded store). */
function localRun(dir: string, workers: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, path.join(ROOT, 'bench', 'engine.ts'), '--child', dir, String(workers)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`local run exited with ${code}: ${out}`));
        return;
      }
      const r = JSON.parse(line) as { ok: boolean; elapsedMs: number; nodes: NodeFigures[] };
      resolve({
        label: `local (embedded, --workers ${workers})`,
        ok: r.ok,
        elapsedMs: r.elapsedMs,
        nodes: r.nodes,
      });
    });
  });
}

function startWorker(ks: string, concurrency: number, env: NodeJS.ProcessEnv, log: string): ChildProcess {
  const fd = fs.openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'src', 'cli', 'main.ts'),
      'worker',
      '--keyspace',
      ks,
      '--concurrency',
      String(concurrency),
    ],
    {
      cwd: ROOT,
      env: { ...env, PLEXUS_LOG_FORMAT: 'json', PLEXUS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', fd, fd],
    },
  );
  fs.closeSync(fd);
  return child;
}

const ROWS_RE = /row_reads: (\d+); row_writes: (\d+)/;

/** One distributed run with `n` worker processes; figures from the run's batch history. */
async function distributedRun(
  dir: string,
  n: number,
  concurrency: number,
  env: NodeJS.ProcessEnv,
): Promise<Figures> {
  Object.assign(process.env, {
    PLEXUS_CASSANDRA_CONTACT_POINTS: env.PLEXUS_CASSANDRA_CONTACT_POINTS,
    PLEXUS_CASSANDRA_LOCAL_DC: env.PLEXUS_CASSANDRA_LOCAL_DC,
    PLEXUS_RABBITMQ_URL: env.PLEXUS_RABBITMQ_URL,
  });
  const { CassandraStore, cassandraSettings, NodeStatus } = await import('../src/store/index.js');
  const { RabbitMqQueue, rabbitMqSettings } = await import('../src/queue/index.js');
  const { runReport, startRun, createEngineIo } = await import('../src/runtime/index.js');
  const { loadScript } = await import('../src/script/index.js');
  const ks = `bench_dist_${n}w_${randomBytes(3).toString('hex')}`;
  const out = path.join(dir, `out_dist_${n}`);
  fs.mkdirSync(out, { recursive: true });
  const store = new CassandraStore(cassandraSettings());
  const queue = new RabbitMqQueue(rabbitMqSettings());
  const workers = Array.from({ length: n }, (_, i) =>
    startWorker(ks, concurrency, env, path.join(dir, `worker_${n}w_${i}.log`)),
  );
  try {
    await new Promise((r) => setTimeout(r, 3000)); // the workers start (tsx compile) and connect
    const io = createEngineIo();
    const scriptUrl = path.join(dir, 'script.json');
    const paramsUrl = path.join(dir, 'params.json');
    const overrides = { dir_out: out };
    const script = await loadScript({ scriptUrl, paramsUrl, overrides, readText: (u) => io.readText(u) });
    const t0 = Date.now();
    const { runId } = await startRun({
      store,
      queue,
      ks,
      script,
      startNodes: ['read_orders', 'read_order_items'],
      scriptUrl,
      paramsUrl,
      overrides,
    });
    let report = await runReport(store, ks, runId);
    while (!report.finished) {
      for (const w of workers) {
        if (w.exitCode !== null)
          throw new Error(`a worker exited with ${w.exitCode}: see ${dir}/worker_${n}w_*.log`);
      }
      await new Promise((r) => setTimeout(r, 1000));
      report = await runReport(store, ks, runId);
    }
    const elapsedMs = Date.now() - t0;
    const history = await store.getBatchHistory(ks, runId);
    const nodes: NodeFigures[] = report.nodes.map((nr) => {
      const rows = history.filter((h) => h.node === nr.node);
      let rowsIn = 0;
      let rowsOut = 0;
      for (const h of rows.filter((r) => r.status === NodeStatus.Success)) {
        const m = ROWS_RE.exec(h.comment);
        if (m) {
          rowsIn += Number(m[1]);
          rowsOut += Number(m[2]);
        }
      }
      const times = rows.map((r) => r.ts.getTime());
      return {
        node: nr.node,
        rowsIn,
        rowsOut,
        elapsedMs: times.length > 0 ? Math.max(...times) - Math.min(...times) : 0,
      };
    });
    return { label: `distributed, ${n} worker(s) x ${concurrency}`, ok: report.succeeded, elapsedMs, nodes };
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('exit', r)))),
    );
    await store.dropKeyspace(ks).catch(() => undefined);
    await queue.deleteQueues(ks).catch(() => undefined);
    await queue.close();
    await store.close();
  }
}

function print(f: Figures, items: number): void {
  process.stdout.write(
    `\n${f.label}: ${f.ok ? 'ok' : 'FAILED'}, wall ${(f.elapsedMs / 1000).toFixed(1)} s, ${Math.round((items * 1000) / f.elapsedMs)} items/s\n`,
  );
  for (const n of f.nodes) {
    const rate = n.elapsedMs > 0 ? Math.round((n.rowsIn * 1000) / n.elapsedMs) : 0;
    process.stdout.write(
      `  ${n.node.padEnd(20)} rows in ${String(n.rowsIn).padStart(9)}  out ${String(n.rowsOut).padStart(9)}  ${(n.elapsedMs / 1000).toFixed(1).padStart(7)} s  ${String(rate).padStart(8)} rows/s\n`,
    );
  }
}

export async function runDistributedBench(args: readonly string[]): Promise<void> {
  const items = Number(argValue(args, '--items', '1000000'));
  const files = Number(argValue(args, '--files', '10'));
  const batches = Number(argValue(args, '--batches', '10'));
  const concurrency = Number(argValue(args, '--concurrency', '2'));
  const workerCounts = argValue(args, '--workers', '1,2').split(',').map(Number);
  const env = serviceEnv();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-bench-dist-'));
  const inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir);
  const t0 = Date.now();
  const gen = generate(inDir, items, files);
  process.stdout.write(
    `distributed benchmark: ${gen.items} order items, ${gen.orders} orders in ${files}+${files} CSV files (generated in ${Date.now() - t0} ms); ${os.availableParallelism()} CPU(s)\n`,
  );
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(benchScript(files, batches), null, 1));
  fs.writeFileSync(
    path.join(dir, 'params.json'),
    JSON.stringify({ dir_in: inDir, dir_out: path.join(dir, 'out') }),
  );
  const all: Figures[] = [];
  const local = await localRun(dir, 2);
  all.push(local);
  print(local, gen.items);
  for (const n of workerCounts) {
    const f = await distributedRun(dir, n, concurrency, env);
    all.push(f);
    print(f, gen.items);
  }
  process.stdout.write('\nside by side (wall time, items/s):\n');
  for (const f of all) {
    process.stdout.write(
      `  ${f.label.padEnd(36)} ${(f.elapsedMs / 1000).toFixed(1).padStart(8)} s  ${String(Math.round((gen.items * 1000) / f.elapsedMs)).padStart(8)} items/s${f.ok ? '' : '  FAILED'}\n`,
    );
  }
  if (args.includes('--keep')) process.stdout.write(`data kept in ${dir}\n`);
  else fs.rmSync(dir, { recursive: true, force: true });
  if (all.some((f) => !f.ok)) process.exitCode = 1;
}
