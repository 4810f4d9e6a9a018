import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RABBITMQ_BIN = process.env.PLEXUS_RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';

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

/**
 * A RabbitMQ node of its own (same Debian installation as the test harness' broker, separate node name,
 * ports and state directory), so that a test can stop and start the broker without disturbing the other
 * tests that share the harness' broker.
 */
export class PrivateBroker {
  private child: ChildProcess | undefined;

  private constructor(
    readonly node: string,
    readonly port: number,
    private readonly distPort: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONF_ENV_FILE: path.join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_PID_FILE: path.join(this.dir, 'rabbitmq.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  static async start(): Promise<PrivateBroker> {
    if (!fs.existsSync(path.join(RABBITMQ_BIN, 'rabbitmq-server'))) {
      throw new Error(
        `RabbitMQ is not installed at ${RABBITMQ_BIN}: run 'bash test/infra/up.sh rabbitmq' first`,
      );
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-broker-'));
    for (const d of ['mnesia', 'log']) fs.mkdirSync(path.join(dir, d));
    const port = await freePort();
    let distPort = await freePort();
    while (distPort === port) distPort = await freePort();
    fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    fs.writeFileSync(path.join(dir, 'advanced.config'), '[].\n');
    fs.writeFileSync(
      path.join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = 127.0.0.1:${port}`,
        'vm_memory_high_watermark.absolute = 512MiB',
        'disk_free_limit.absolute = 50MB',
        'log.console = true',
        'log.console.level = warning',
        'log.file = false',
        '',
      ].join('\n'),
    );
    const b = new PrivateBroker(`plexus-dist-${path.basename(dir).slice(-6)}@localhost`, port, distPort, dir);
    const log = fs.openSync(path.join(dir, 'broker.log'), 'a');
    b.child = spawn(path.join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      env: b.env(),
      stdio: ['ignore', log, log],
      detached: true,
    });
    fs.closeSync(log);
    await b
      .waitForPort(120_000)
      .then(() => b.ctl(['await_startup', '--timeout', '120']))
      .catch(async (err: unknown) => {
        await b.stop();
        throw new Error(`private RabbitMQ did not start: ${String(err)}\n${b.log()}`);
      });
    return b;
  }

  /** Resolves when the AMQP port accepts connections (the node registers with epmd only while booting). */
  private async waitForPort(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const open = await new Promise<boolean>((resolve) => {
        const sock = net.connect(this.port, '127.0.0.1');
        sock.once('connect', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => resolve(false));
      });
      if (open) return;
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        throw new Error(`rabbitmq-server exited with ${this.child.exitCode}`);
      }
      if (Date.now() > until) throw new Error(`port ${this.port} not open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  log(): string {
    const f = path.join(this.dir, 'broker.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-4000) : '';
  }

  async ctl(args: readonly string[]): Promise<string> {
    const { stdout } = await run(path.join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', this.node, ...args], {
      env: this.env(),
      timeout: 150_000,
    });
    return stdout;
  }

  /** Stops the RabbitMQ application (connections drop, durable queues and persistent messages stay). */
  async stopApp(): Promise<void> {
    await this.ctl(['stop_app']);
  }

  async startApp(): Promise<void> {
    await this.ctl(['start_app']);
    await this.ctl(['await_startup', '--timeout', '120']);
  }

  async stop(): Promise<void> {
    await this.ctl(['stop']).catch(() => undefined);
    const child = this.child;
    if (child && child.exitCode === null) {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
