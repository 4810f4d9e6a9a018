/**
 * Fault injection: the bridge runs as a child process (the real `plexus bridge` command) moving
 * RabbitMQ → S3 while messages keep flowing in; it is killed with SIGKILL several times at random
 * points (segments are small and committed/uploaded every few hundred ms, so kills land mid-append,
 * mid-commit and mid-upload), restarted on the same buffer directory, and finally stopped with SIGTERM.
 * Every message sent must be in S3 (count and checksum); duplicates are allowed only as redeliveries
 * the bridge counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BridgeStatus } from '../../../src/bridge/index.js';
import { requireService } from '../services.js';
import { deleteQueues, payload, publish, queueDepth, tally, uniqueName, waitFor } from './util.js';
import { deletePrefix, ensureBucket, readLines, s3Block, s3Client, s3Env } from './s3util.js';

const rabbit = requireService('RABBITMQ_URL');
const env = s3Env();
const s3 = s3Client(env);
const bucket = 'plexus-bridge-it';
const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const cli = path.join(repo, 'test', 'integration', 'bridge', 'bridge-cli.ts');

const TOTAL = Number(process.env.PLEXUS_CRASH_MESSAGES ?? 30_000);
const KILLS = Number(process.env.PLEXUS_CRASH_KILLS ?? 5);
/** The bridge's prefetch: at most this many messages are unacknowledged when it is killed. */
const PREFETCH = 300;

interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Bridge processes still running (a failed test must not leave one behind). */
const running = new Set<Child>();

function startBridge(
  configFile: string,
  statusFile: string,
  logFile: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Child {
  const log = fs.openSync(logFile, 'a');
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'bridge',
      '--config',
      configFile,
      '--status-file',
      statusFile,
      '--status-every',
      '100',
    ],
    {
      cwd: repo,
      env: { ...process.env, PLEXUS_LOG_FORMAT: 'json', ...extraEnv },
      stdio: ['ignore', log, log],
    },
  );
  fs.closeSync(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const child = { proc, exited };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** Resolves once the process is stopped (SIGSTOP delivered): /proc/<pid>/stat shows state T. */
async function waitStopped(pid: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    if (!stat) throw new Error(`process ${pid} is gone: the bridge exited before it was killed`);
    // "pid (comm) S ...": the state follows the closing parenthesis of the command name
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    if (Date.now() > until) throw new Error(`process ${pid} did not stop after SIGSTOP`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** What the disk buffer holds on disk: bytes of the active segment and the number of committed segments. */
function bufferOnDisk(dir: string): { active: number; committed: number } {
  const active = fs.statSync(path.join(dir, 'active.seg'), { throwIfNoEntry: false })?.size ?? 0;
  const committedDir = path.join(dir, 'committed');
  const committed = fs.existsSync(committedDir)
    ? fs.readdirSync(committedDir).filter((n) => n.endsWith('.seg')).length
    : 0;
  return { active, committed };
}

function readStatus(file: string): BridgeStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as BridgeStatus;
  } catch {
    return undefined;
  }
}

describe('bridge process killed with SIGKILL while messages flow (RabbitMQ → S3)', () => {
  const run = uniqueName('crash');
  const queue = `${run}-in`;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-crash-'));
    await ensureBucket(s3, bucket);
  }, 60_000);
  afterAll(async () => {
    for (const c of running) c.proc.kill('SIGKILL');
    await Promise.all([...running].map((c) => c.exited));
    await deleteQueues(rabbit, [queue]);
    await deletePrefix(s3, bucket, run);
    s3.destroy();
  }, 60_000);

  it(`loses nothing across ${KILLS} kills at random points`, async () => {
    const config = path.join(dir, 'bridge.yaml');
    fs.writeFileSync(
      config,
      `
name: ${run}
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${queue}, prefetch: ${PREFETCH} }
sink:
  type: s3
  s3: ${s3Block(env, bucket, run)}
buffer: { bufferPath: ${path.join(dir, 'buffer')}, commitFileSize: 48Ki, commitDuration: 250ms, uploadEvery: 150ms }
delivery: { batchMaxRecords: 200 }
backoff: { initial: 100ms, max: 1s }
`,
    );
    const statusFile = path.join(dir, 'status.json');
    const logFile = path.join(dir, 'bridge.log');
    await publish(rabbit, queue, []); // declare the queue

    // Messages flow in the background in small bursts until every kill is done and at least TOTAL
    // were sent, so each kill lands while the bridge is appending, committing or uploading.
    const sent: string[] = [];
    let killing = true;
    const publisher = (async () => {
      while (killing || sent.length < TOTAL) {
        const burst = Array.from({ length: 100 }, (_, i) => payload(run, sent.length + i, 160));
        await publish(rabbit, queue, burst);
        sent.push(...burst);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    let redelivered = 0;
    let kills = 0;
    // Where each life of the process starts in the shared log (to check what every restart recovered).
    const lifeStarts: number[] = [];
    const logLength = (): number => (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0);
    const bufferDir = path.join(dir, 'buffer', run);
    try {
      for (let k = 0; k < KILLS; k++) {
        fs.rmSync(statusFile, { force: true });
        lifeStarts.push(logLength());
        const child = startBridge(config, statusFile, logFile);
        // Started and moving data. RabbitMQ puts what the previous life left unacknowledged (at most the
        // prefetch window) back at the head of the queue: once this life received more than that, the
        // status file counts every redelivery of this life that can be in S3 twice.
        await waitFor(
          `bridge receiving (more than ${PREFETCH} messages in this life)`,
          () => (readStatus(statusFile)?.counters.received ?? 0) > PREFETCH,
          120_000,
        );
        // Run for a random while (0.5–2.5 s) with data moving, then kill without warning, at a moment when
        // the buffer holds data on disk (an active segment being written, or committed segments not yet
        // uploaded): the process is frozen (SIGSTOP) while its buffer directory is looked at, and let go
        // again for a moment when the buffer happens to be empty.
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 2000));
        const until = Date.now() + 60_000;
        for (;;) {
          child.proc.kill('SIGSTOP');
          await waitStopped(child.proc.pid ?? -1);
          const onDisk = bufferOnDisk(bufferDir);
          if (onDisk.active > 0 || onDisk.committed > 0) break;
          child.proc.kill('SIGCONT');
          if (Date.now() > until) throw new Error('the disk buffer was empty at every kill point for 60 s');
          await new Promise((r) => setTimeout(r, 10 + Math.random() * 90));
        }
        redelivered += readStatus(statusFile)?.counters.duplicates ?? 0;
        child.proc.kill('SIGKILL');
        const exit = await child.exited;
        expect(exit.signal).toBe('SIGKILL');
        kills++;
      }
    } finally {
      killing = false;
      await publisher;
    }

    // Last run: let it drain everything, then stop it gracefully.
    fs.rmSync(statusFile, { force: true });
    lifeStarts.push(logLength());
    const last = startBridge(config, statusFile, logFile);
    await waitFor(
      'queue empty and buffer uploaded',
      async () => {
        const st = readStatus(statusFile);
        return (
          st !== undefined &&
          st.inFlight === 0 &&
          st.buffer?.bytes === 0 &&
          (await queueDepth(rabbit, queue)) === 0
        );
      },
      180_000,
    );
    last.proc.kill('SIGTERM');
    const exit = await last.exited;
    expect(exit.code).toBe(0);
    const final = readStatus(statusFile);
    expect(final?.phase).toBe('Stopped');
    redelivered += final?.counters.duplicates ?? 0;

    const received = await readLines(s3, bucket, `${run}/`);
    const t = tally(sent, received);
    expect(kills).toBe(KILLS);
    expect(t.missing).toEqual([]);
    expect(t.unique).toBe(TOTAL);
    expect(t.checksum).toBe(tally(sent, sent).checksum);
    // At-least-once: a duplicate can only be a message RabbitMQ redelivered (and the bridge counted).
    expect(t.duplicates).toBeLessThanOrEqual(redelivered);
    // What the restarts found (random kill points): half-written active segments, committed segments not
    // yet uploaded, torn records. Every kill left data in the buffer, so every restart recovered some.
    const log = fs.readFileSync(logFile);
    const recovery =
      /committing the segment a previous process left|uploading segments left by a previous process first|dropping a torn last record/;
    const lives = lifeStarts.map((start, i) => log.subarray(start, lifeStarts[i + 1]).toString('utf8'));
    const unrecovered = lives
      .slice(1)
      .map((text, i) => ({ restart: i + 1, recovered: recovery.test(text) }))
      .filter((l) => !l.recovered);
    expect(unrecovered).toEqual([]);
    const text = log.toString('utf8');
    const count = (re: RegExp): number => (text.match(re) ?? []).length;
    const found = {
      activeSegmentsRecovered: count(/committing the segment a previous process left/g),
      leftoverUploads: count(/uploading segments left by a previous process first/g),
      tornRecordsDropped: count(/dropping a torn last record/g),
    };
    process.stdout.write(
      `crash test: ${TOTAL} sent, ${t.unique} unique in S3, ${t.duplicates} duplicates, ${redelivered} redeliveries counted, ${kills} kills, restarts found ${JSON.stringify(found)}\n`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  }, 600_000);

  // Deterministic kills at the moments that matter, through failpoints (src/bridge/failpoints.ts).
  it.each([
    ['append.torn@15', /dropping a torn last record/],
    ['commit.after-rename@3', /uploading segments left by a previous process first/],
    ['upload.after-put@2', /uploading segments left by a previous process first/],
  ])(
    'loses nothing when killed at %s',
    async (failpoint, recovery) => {
      const name = `${run}-${failpoint.replace(/[^a-z0-9]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
      const fpQueue = `${name}-in`;
      const fpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-fp-'));
      const config = path.join(fpDir, 'bridge.yaml');
      fs.writeFileSync(
        config,
        `
name: ${name}
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${fpQueue}, prefetch: 400 }
sink:
  type: s3
  s3: ${s3Block(env, bucket, `${run}/fp/${name}`)}
buffer: { bufferPath: ${path.join(fpDir, 'buffer')}, commitFileSize: 32Ki, commitDuration: 200ms, uploadEvery: 100ms }
delivery: { batchMaxRecords: 100 }
backoff: { initial: 100ms, max: 1s }
`,
      );
      const statusFile = path.join(fpDir, 'status.json');
      const logFile = path.join(fpDir, 'bridge.log');
      const sent = Array.from({ length: 4000 }, (_, i) => payload(name, i, 160));
      await publish(rabbit, fpQueue, sent);
      try {
        const doomed = startBridge(config, statusFile, logFile, { PLEXUS_FAILPOINTS: failpoint });
        let timer: NodeJS.Timeout | undefined;
        const exit = await Promise.race([
          doomed.exited,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              doomed.proc.kill('SIGKILL');
              reject(new Error(`${failpoint} never fired within 120 s`));
            }, 120_000);
          }),
        ]).finally(() => clearTimeout(timer));
        expect(exit.signal).toBe('SIGKILL');
        const before = fs.readFileSync(logFile, 'utf8').length;
        fs.rmSync(statusFile, { force: true });
        const next = startBridge(config, statusFile, logFile);
        await waitFor(
          'everything delivered and uploaded',
          async () => {
            const st = readStatus(statusFile);
            return (
              st !== undefined &&
              st.inFlight === 0 &&
              st.buffer?.bytes === 0 &&
              (await queueDepth(rabbit, fpQueue)) === 0
            );
          },
          120_000,
        );
        const redelivered = readStatus(statusFile)?.counters.duplicates ?? 0;
        next.proc.kill('SIGTERM');
        expect((await next.exited).code).toBe(0);
        const after = fs.readFileSync(logFile, 'utf8').slice(before);
        if (!recovery.test(after))
          process.stdout.write(
            `${failpoint}: restart log:\n${after
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .slice(0, 12)
              .join('\n')}\n`,
          );
        expect(after).toMatch(recovery);
        const t = tally(sent, await readLines(s3, bucket, `${run}/fp/${name}/`));
        expect(t.missing).toEqual([]);
        expect(t.unique).toBe(sent.length);
        expect(t.duplicates).toBeLessThanOrEqual(redelivered);
      } finally {
        await deleteQueues(rabbit, [fpQueue]);
        fs.rmSync(fpDir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
