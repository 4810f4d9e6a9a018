import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { diffFiles, prepareSuite, suitesDir } from '../capillaries/harness.js';
import {
  expectOk,
  openQueue,
  openStore,
  startRunCli,
  startWorkers,
  type WorkerProcess,
  waitRunCli,
} from './cluster.js';

// Both Capillaries suites (one-run and multi-run variants) in distributed mode: three `plexus worker`
// processes on RabbitMQ + Cassandra, runs started with `plexus start-run`, followed with `plexus status
// --wait`; the outputs must equal Capillaries' own, compared as the local suite tests compare them.
jest.setTimeout(600_000);

const LOOKUP_OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];

async function withCluster(
  ks: string,
  logDir: string,
  body: (workers: WorkerProcess[]) => Promise<void>,
): Promise<void> {
  const workers = await startWorkers(3, ks, logDir);
  try {
    await body(workers);
  } catch (err) {
    for (const w of workers) process.stderr.write(`--- ${w.logFile}\n${w.log().slice(-4000)}\n`);
    throw err;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    const store = openStore();
    const queue = openQueue();
    await store.dropKeyspace(ks).catch(() => undefined);
    await queue.deleteQueues(ks).catch(() => undefined);
    await queue.close();
    await store.close();
  }
}

async function waitRun(ks: string, runId: number): Promise<string> {
  const res = await waitRunCli(ks, runId);
  expectOk(res, `plexus status --wait (run ${runId})`);
  expect(res.stdout).toMatch(new RegExp(`^run ${runId} in keyspace ${ks}: succeeded`));
  return res.stdout;
}

describe('Capillaries suites on 3 workers (RabbitMQ + Cassandra)', () => {
  const tag = randomBytes(3).toString('hex');

  for (const variant of ['one', 'multi'] as const) {
    test(`lookup ${variant}`, async () => {
      const s = prepareSuite('lookup');
      const ks = `dist_lookup_${variant}_${tag}`;
      await withCluster(ks, path.join(s.dir, 'logs'), async () => {
        const common = [
          '--params',
          path.join(s.cfg, `script_params_quick_fs_${variant}.yaml`),
          '--keyspace',
          ks,
          '--param',
          `dir_in=${s.in}`,
          `dir_out=${s.out}`,
        ];
        const script = path.join(s.cfg, 'script_quick.yaml');
        const first = await startRunCli([script, ...common, '--start-nodes', 'read_orders,read_order_items']);
        expect(first).toBe(1);
        await waitRun(ks, first);
        if (variant === 'multi') {
          for (const f of LOOKUP_OUTPUTS) expect(fs.existsSync(path.join(s.out, f))).toBe(false);
          const second = await startRunCli([
            script,
            ...common,
            '--start-nodes',
            'order_item_date_inner,order_item_date_left_outer,order_date_value_grouped_inner,order_date_value_grouped_left_outer',
          ]);
          expect(second).toBe(2);
          await waitRun(ks, second);
        }
      });
      const expected = path.join(suitesDir(), 'lookup', 'expected');
      for (const f of LOOKUP_OUTPUTS) {
        expect(diffFiles(path.join(expected, f), path.join(s.out, f), false)).toBeUndefined();
      }
      fs.rmSync(s.dir, { recursive: true, force: true });
    });
  }

  for (const variant of ['one', 'multi'] as const) {
    test(`tag_and_denormalize ${variant}`, async () => {
      const s = prepareSuite('tag_and_denormalize');
      const ks = `dist_tag_${variant}_${tag}`;
      await withCluster(ks, path.join(s.dir, 'logs'), async () => {
        const common = [
          '--params',
          path.join(s.cfg, `script_params_fs_${variant}.json`),
          '--keyspace',
          ks,
          '--param',
          `dir_in=${s.in}`,
          `dir_out=${s.out}`,
          `dir_cfg=${s.cfg}`,
        ];
        const script = path.join(s.cfg, 'script.json');
        await waitRun(ks, await startRunCli([script, ...common, '--start-nodes', 'read_tags,read_products']));
        if (variant === 'multi') {
          expect(fs.existsSync(path.join(s.out, 'tag_totals.tsv'))).toBe(false);
          await waitRun(ks, await startRunCli([script, ...common, '--start-nodes', 'tag_totals']));
        }
      });
      const expected = path.join(suitesDir(), 'tag_and_denormalize', 'expected');
      expect(
        diffFiles(path.join(expected, 'tag_totals.tsv'), path.join(s.out, 'tag_totals.tsv'), false),
      ).toBeUndefined();
      expect(
        diffFiles(
          path.join(expected, 'tagged_products_for_operator_review.csv'),
          path.join(s.out, 'tagged_products_for_operator_review.csv'),
          true,
        ),
      ).toBeUndefined();
      fs.rmSync(s.dir, { recursive: true, force: true });
    });
  }
});
