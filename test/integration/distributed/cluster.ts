import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RabbitMqQueue, rabbitMqSettings } from '../../../src/queue/index.js';
import { CassandraStore, cassandraSettings, type TableRef } from '../../../src/store/index.js';
import { REPO_ROOT, type CliResult } from '../capillaries/harness.js';
import { requireService } from '../services.js';

/** The environment of CLI processes: connection settings of the harness' services. */
export function serviceEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FORCE_COLOR: '0',
    PLEXUS_LOG_FORMAT: 'json',
    PLEXUS_CASSANDRA_CONTACT_POINTS: requireService('CASSANDRA_CONTACT_POINTS'),
    PLEXUS_CASSANDRA_LOCAL_DC: requireService('CASSANDRA_LOCAL_DC'),
    PLEXUS_RABBITMQ_URL: requireService('RABBITMQ_URL'),
    ...overrides,
  };
}

export function openStore(): CassandraStore {
  return new CassandraStore(
    cassandraSettings(
      {
        contactPoints: requireService('CASSANDRA_CONTACT_POINTS'),
        localDataCenter: requireService('CASSANDRA_LOCAL_DC'),
      },
      {},
    ),
  );
}

export function openQueue(url = requireService('RABBITMQ_URL')): RabbitMqQueue {
  return new RabbitMqQueue(rabbitMqSettings({ url, publishTimeoutMs: '30000' }, {}));
}

/** Runs the CLI from source in a child process with the given environment. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = serviceEnv()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A `plexus worker` process. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly logFile: string;

  constructor(
    ks: string,
    logDir: string,
    args: readonly string[] = [],
    env: NodeJS.ProcessEnv = serviceEnv(),
  ) {
    fs.mkdirSync(logDir, { recursive: true });
    this.logFile = path.join(logDir, `worker-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.log`);
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'src/cli/main.ts'),
        'worker',
        '--keyspace',
        ks,
        '--concurrency',
        '2',
        '--lease-ttl',
        '4000',
        '--sweep-interval',
        '2000',
        ...args,
      ],
      { cwd: REPO_ROOT, env, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  /** Resolves once the worker logged that it consumes. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.log().includes('worker consuming')) {
      if (this.child.exitCode !== null)
        throw new Error(`worker exited with ${this.child.exitCode}:\n${this.log()}`);
      if (Date.now() > until) throw new Error(`worker not ready after ${timeoutMs} ms:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Starts n workers and waits until each consumes. */
export async function startWorkers(
  n: number,
  ks: string,
  logDir: string,
  args: readonly string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: n }, () => new WorkerProcess(ks, logDir, args, env));
  await Promise.all(workers.map((w) => w.ready()));
  return workers;
}

/** Row counts of the given tables of one run. */
export async function tableCounts(
  store: CassandraStore,
  ks: string,
  tables: readonly TableRef[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) out[`${t.name}_${t.runId}`] = await store.countRows(ks, t);
  return out;
}

export function expectOk(res: CliResult, what: string): void {
  if (res.code !== 0) throw new Error(`${what} exited with ${res.code}\n${res.stdout}\n${res.stderr}`);
}

/** `plexus start-run ...`; returns the run id it printed. */
export async function startRunCli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const res = await cli(['start-run', ...args], env);
  expectOk(res, 'plexus start-run');
  const id = Number(res.stdout.trim());
  if (!Number.isInteger(id) || id < 1) throw new Error(`start-run printed no run id: ${res.stdout}`);
  return id;
}

/** `plexus status --wait` for one run (polling every 500 ms): its exit code says whether the run succeeded. */
export function waitRunCli(ks: string, runId: number, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return cli(['status', '--keyspace', ks, '--run-id', String(runId), '--wait', '--interval', '500'], env);
}
