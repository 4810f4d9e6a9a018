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

interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited };
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
    await deleteQueues(rabbit, [queue]);
    await deletePrefix(s3, bucket, run);
  }, 60_000);

  it(`loses nothing across ${KILLS} kills at random points`, async () => {
    const config = path.join(dir, 'bridge.yaml');
    fs.writeFileSync(
      config,
      `
name: ${run}
source:
  type: rabbitmq
  rabbitmq: { url: "\${RABBITMQ_URL}", queue: ${queue}, prefetch: 300 }
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
    try {
      for (let k = 0; k < KILLS; k++) {
        fs.rmSync(statusFile, { force: true });
        const child = startBridge(config, statusFile, logFile);
        // Started and moving data (messages received in this life of the process).
        await waitFor(
          'bridge started and receiving',
          () => (readStatus(statusFile)?.counters.received ?? 0) > 0,
          60_000,
        );
        // Run for a random while (0.5–2.5 s) with data moving, then kill without warning.
        await new Promise((r) => setTimeout(r, 500 + Math.random() * 2000));
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
    // yet uploaded, torn records.
    const log = fs.readFileSync(logFile, 'utf8');
    const count = (re: RegExp): number => (log.match(re) ?? []).length;
    const found = {
      activeSegmentsRecovered: count(/committing the segment a previous process left/g),
      leftoverUploads: count(/uploading segments left by a previous process first/g),
      tornRecordsDropped: count(/dropping a torn last record/g),
    };
    expect(found.activeSegmentsRecovered + found.leftoverUploads).toBeGreaterThan(0);
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
        const exit = await Promise.race([
          doomed.exited,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`${failpoint} never fired`)), 60_000),
          ),
        ]);
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
