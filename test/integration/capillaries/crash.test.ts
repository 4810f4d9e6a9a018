import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { diffFiles, prepareSuite, REPO_ROOT, runCli, suitesDir } from './harness.js';

jest.setTimeout(300_000);

const OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];

/** Starts `plexus run` and kills it (SIGKILL) as soon as it reports progress of the given node. */
function runAndKill(args: readonly string[], killOn: RegExp): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!killed && killOn.test(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', () => resolve({ killed, stderr }));
  });
}

describe('a local run killed mid-run', () => {
  test('leaves a consistent store: the next run in the keyspace produces the baseline outputs', async () => {
    const s = prepareSuite('lookup');
    try {
      const args = [
        'run',
        path.join(s.cfg, 'script_quick.yaml'),
        '--params',
        path.join(s.cfg, 'script_params_quick_fs_one.yaml'),
        '--keyspace',
        'lookup_crash',
        '--state-dir',
        s.state,
        '--workers',
        '2',
        '--start-nodes',
        'read_orders,read_order_items',
        '--param',
        `dir_in=${s.in}`,
        `dir_out=${s.out}`,
      ];
      const first = await runAndKill(args, /order_item_date_inner: batch \d+\/10/);
      expect(first.killed).toBe(true);
      // nothing half-written looks like an output file
      for (const f of OUTPUTS) {
        const p = path.join(s.out, f);
        if (fs.existsSync(p)) {
          expect(diffFiles(path.join(suitesDir(), 'lookup', 'expected', f), p, false)).toBeUndefined();
        }
      }
      const second = await runCli(args);
      if (second.code !== 0) throw new Error(`second run failed:\n${second.stdout}\n${second.stderr}`);
      expect(second.stdout).toMatch(/^run 2 in keyspace lookup_crash: succeeded/);
      for (const f of OUTPUTS) {
        expect(
          diffFiles(path.join(suitesDir(), 'lookup', 'expected', f), path.join(s.out, f), false),
        ).toBeUndefined();
      }
    } finally {
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
