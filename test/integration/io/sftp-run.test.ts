import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ParquetTableWriter, UrlIo } from '../../../src/io/index.js';
import { DateTime } from '../../../src/values/index.js';
import { REPO_ROOT, runCli, type CliResult } from '../capillaries/harness.js';
import { requireService } from '../services.js';

// `plexus run` of a Capillaries script whose script file, inputs (two CSV files and a Parquet file) and
// outputs (CSV per batch, Parquet, TSV) are all sftp:// URLs on the harness' sshd, compared byte for byte
// with the same run on local paths.
const HOST = requireService('SFTP_HOST');
const PORT = requireService('SFTP_PORT');
const USER = requireService('SFTP_USER');
const KEY = requireService('SFTP_PRIVATE_KEY');
const KNOWN_HOSTS = requireService('SFTP_KNOWN_HOSTS');
const ROOT = requireService('SFTP_ROOT');

const SCRIPT = path.join(REPO_ROOT, 'test/fixtures/sftp-run/script.json');
const OUTPUTS = ['orders_00000.csv', 'orders_00001.csv', 'orders.parquet', 'customers.tsv'];
const TIMEOUT = 300_000;

const remoteDir = path.join(ROOT, `run-${process.pid}-${randomBytes(4).toString('hex')}`);
let localDir: string;

beforeAll(async () => {
  localDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-sftp-run-'));
  const inDir = path.join(localDir, 'in');
  await fsp.mkdir(inDir);
  await writeInputs(inDir);
  // the same inputs and script on the server (the server is this machine: plain copies)
  await fsp.mkdir(path.join(remoteDir, 'in'), { recursive: true });
  await fsp.mkdir(path.join(remoteDir, 'out'));
  await fsp.mkdir(path.join(remoteDir, 'cfg'));
  for (const f of await fsp.readdir(inDir))
    await fsp.copyFile(path.join(inDir, f), path.join(remoteDir, 'in', f));
  await fsp.copyFile(SCRIPT, path.join(remoteDir, 'cfg', 'script.json'));
});

afterAll(async () => {
  await fsp.rm(localDir, { recursive: true, force: true });
  await fsp.rm(remoteDir, { recursive: true, force: true });
});

/** Deterministic inputs: 2 × 1,500 orders (quotes, commas, UTF-8 in the notes) and 300 customers. */
async function writeInputs(dir: string): Promise<void> {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const notes = ['plain', 'with, comma', 'with "quotes"', 'ümlaut ✓', ''];
  for (const part of [1, 2]) {
    const lines = ['order_id,customer_id,amount,placed,note'];
    for (let i = 0; i < 1500; i++) {
      const id = (part - 1) * 1500 + i + 1;
      const note = notes[rnd(notes.length)] ?? '';
      const placed = new Date(Date.UTC(2024, rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60)));
      lines.push(
        [
          id,
          1 + rnd(300),
          `${rnd(100000)}.${String(rnd(100)).padStart(2, '0')}`,
          placed.toISOString().slice(0, 19).replace('T', ' '),
          /[,"]/.test(note) ? `"${note.replace(/"/g, '""')}"` : note,
        ].join(','),
      );
    }
    await fsp.writeFile(path.join(dir, `orders_${part}.csv`), lines.join('\n') + '\n');
  }
  const io = new UrlIo({ env: {} });
  const w = await io.openWrite(path.join(dir, 'customers.parquet'));
  const pq = new ParquetTableWriter(w.stream, [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'string' },
    { name: 'since', type: 'datetime' },
  ]);
  await pq.writeRows(
    Array.from({ length: 300 }, (_, i) => [
      BigInt(300 - i),
      `customer ${300 - i}`,
      new DateTime(Date.UTC(2000 + (i % 25), i % 12, 1 + (i % 28))),
    ]),
  );
  await pq.finish();
  await w.commit();
}

function run(
  script: string,
  dirIn: string,
  dirOut: string,
  state: string,
  env: NodeJS.ProcessEnv,
): Promise<CliResult> {
  // runCli hands process.env to the child it spawns at once
  const added = Object.keys(env).filter((k) => process.env[k] === undefined);
  Object.assign(process.env, env);
  try {
    return runCli([
      'run',
      script,
      '--keyspace',
      'sftp_run',
      '--state-dir',
      state,
      '--workers',
      '2',
      '--no-progress',
      '--start-nodes',
      'read_orders,read_customers',
      '--param',
      `dir_in=${dirIn}`,
      `dir_out=${dirOut}`,
    ]);
  } finally {
    for (const k of added) delete process.env[k];
  }
}

function expectOk(res: CliResult, what: string): void {
  if (res.code !== 0)
    throw new Error(`${what}: plexus run exited with ${res.code}\n${res.stdout}\n${res.stderr}`);
}

test(
  'a run with sftp:// script, inputs and outputs writes the same bytes as the run on local paths',
  async () => {
    const localOut = path.join(localDir, 'out');
    await fsp.mkdir(localOut);
    const local = await run(
      SCRIPT,
      path.join(localDir, 'in'),
      localOut,
      path.join(localDir, 'state-local'),
      {},
    );
    expectOk(local, 'local run');

    const url = `sftp://${USER}@${HOST}:${PORT}${remoteDir}`;
    const remote = await run(
      `${url}/cfg/script.json`,
      `${url}/in`,
      `${url}/out`,
      path.join(localDir, 'state-sftp'),
      {
        PLEXUS_SFTP_PRIVATE_KEYS: `${USER}=${KEY}`,
        PLEXUS_SFTP_KNOWN_HOSTS: KNOWN_HOSTS,
      },
    );
    expectOk(remote, 'sftp run');

    expect((await fsp.readdir(localOut)).sort()).toEqual([...OUTPUTS].sort());
    // nothing but the outputs on the server: no temporary upload left behind
    expect((await fsp.readdir(path.join(remoteDir, 'out'))).sort()).toEqual([...OUTPUTS].sort());
    for (const f of OUTPUTS) {
      const a = await fsp.readFile(path.join(localOut, f));
      const b = await fsp.readFile(path.join(remoteDir, 'out', f));
      expect({ file: f, size: b.length, same: a.equals(b) }).toEqual({ file: f, size: a.length, same: true });
    }
    // the outputs hold what the inputs had (header + 1,500 rows per batch file, 300 customers)
    const csv0 = fs.readFileSync(path.join(localOut, 'orders_00000.csv'), 'utf8').split('\n');
    const csv1 = fs.readFileSync(path.join(localOut, 'orders_00001.csv'), 'utf8').split('\n');
    expect(csv0[0]?.trimEnd()).toBe('order_id,customer_id,amount,placed,note');
    expect(csv0.length - 2 + csv1.length - 2).toBe(3000);
    expect(fs.readFileSync(path.join(localOut, 'customers.tsv'), 'utf8').split('\n')).toHaveLength(302);
  },
  TIMEOUT,
);

test(
  'a run whose sftp input is missing fails with the URL in the message',
  async () => {
    const url = `sftp://${USER}@${HOST}:${PORT}${remoteDir}`;
    const res = await run(
      SCRIPT,
      `${url}/nowhere`,
      path.join(localDir, 'out-missing'),
      path.join(localDir, 'state-missing'),
      {
        PLEXUS_SFTP_PRIVATE_KEYS: `${USER}=${KEY}`,
        PLEXUS_SFTP_KNOWN_HOSTS: KNOWN_HOSTS,
      },
    );
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toContain(
      `cannot read ${url}/nowhere/orders_1.csv: no such file or directory`,
    );
  },
  TIMEOUT,
);
