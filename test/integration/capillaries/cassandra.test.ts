import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createEngineIo, runLocal } from '../../../src/runtime/index.js';
import { CassandraStore, cassandraSettings } from '../../../src/store/index.js';
import { requireService } from '../services.js';
import { diffFiles, prepareSuite, suitesDir } from './harness.js';

jest.setTimeout(600_000);

const OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];

/** The same engine and handler on the Cassandra store (Capillaries' table layout) instead of the embedded one. */
describe('Capillaries lookup suite on Cassandra', () => {
  test('lookup multi: two runs in one keyspace, outputs equal the baselines', async () => {
    const store = new CassandraStore(
      cassandraSettings(
        {
          contactPoints: requireService('CASSANDRA_CONTACT_POINTS'),
          localDataCenter: requireService('CASSANDRA_LOCAL_DC'),
        },
        {},
      ),
    );
    const s = prepareSuite('lookup');
    const ks = `plexus_it_lookup_${process.pid}_${randomBytes(3).toString('hex')}`;
    try {
      await store.dropKeyspace(ks);
      const base = {
        stateDir: s.state,
        ks,
        store,
        scriptUrl: path.join(s.cfg, 'script_quick.yaml'),
        paramsUrl: path.join(s.cfg, 'script_params_quick_fs_multi.yaml'),
        overrides: { dir_in: s.in, dir_out: s.out },
        workers: 4,
        io: createEngineIo(),
      };
      const first = await runLocal({ ...base, startNodes: ['read_orders', 'read_order_items'] });
      expect(first.ok).toBe(true);
      const second = await runLocal({
        ...base,
        startNodes: [
          'order_item_date_inner',
          'order_item_date_left_outer',
          'order_date_value_grouped_inner',
          'order_date_value_grouped_left_outer',
        ],
      });
      expect(second.ok).toBe(true);
      expect(second.runId).toBe(2);
      for (const f of OUTPUTS) {
        expect(
          diffFiles(path.join(suitesDir(), 'lookup', 'expected', f), path.join(s.out, f), false),
        ).toBeUndefined();
      }
    } finally {
      await store.dropKeyspace(ks).catch(() => undefined);
      await store.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
