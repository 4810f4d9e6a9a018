import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { diffFiles, prepareSuite, runCli, suitesDir } from './harness.js';

jest.setTimeout(300_000);

const LOOKUP_OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];

function expectRunOk(res: { code: number; stdout: string; stderr: string }): void {
  if (res.code !== 0) throw new Error(`plexus run exited with ${res.code}\n${res.stdout}\n${res.stderr}`);
}

describe('Capillaries lookup suite (quick)', () => {
  for (const variant of ['one', 'multi'] as const) {
    test(`lookup ${variant}`, async () => {
      const s = prepareSuite('lookup');
      const common = [
        '--params',
        path.join(s.cfg, `script_params_quick_fs_${variant}.yaml`),
        '--keyspace',
        `lookup_quicktest_${variant}`,
        '--state-dir',
        s.state,
        '--workers',
        '2',
        '--param',
        `dir_in=${s.in}`,
        `dir_out=${s.out}`,
      ];
      const script = path.join(s.cfg, 'script_quick.yaml');
      const first = await runCli(['run', script, ...common, '--start-nodes', 'read_orders,read_order_items']);
      expectRunOk(first);
      if (variant === 'multi') {
        for (const f of LOOKUP_OUTPUTS) expect(fs.existsSync(path.join(s.out, f))).toBe(false);
        const second = await runCli([
          'run',
          script,
          ...common,
          '--start-nodes',
          'order_item_date_inner,order_item_date_left_outer,order_date_value_grouped_inner,order_date_value_grouped_left_outer',
        ]);
        expectRunOk(second);
        expect(second.stdout).toMatch(/^run 2 /);
      }
      const expected = path.join(suitesDir(), 'lookup', 'expected');
      for (const f of LOOKUP_OUTPUTS) {
        expect(diffFiles(path.join(expected, f), path.join(s.out, f), false)).toBeUndefined();
      }
      fs.rmSync(s.dir, { recursive: true, force: true });
    });
  }
});

describe('Capillaries tag_and_denormalize suite', () => {
  for (const variant of ['one', 'multi'] as const) {
    test(`tag_and_denormalize ${variant}`, async () => {
      const s = prepareSuite('tag_and_denormalize');
      const common = [
        '--params',
        path.join(s.cfg, `script_params_fs_${variant}.json`),
        '--keyspace',
        `tag_and_denormalize_quicktest_${variant}`,
        '--state-dir',
        s.state,
        '--param',
        `dir_in=${s.in}`,
        `dir_out=${s.out}`,
        `dir_cfg=${s.cfg}`,
      ];
      const script = path.join(s.cfg, 'script.json');
      expectRunOk(await runCli(['run', script, ...common, '--start-nodes', 'read_tags,read_products']));
      if (variant === 'multi') {
        expect(fs.existsSync(path.join(s.out, 'tag_totals.tsv'))).toBe(false);
        expectRunOk(await runCli(['run', script, ...common, '--start-nodes', 'tag_totals']));
      }
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
