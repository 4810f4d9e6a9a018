import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngineIo, runScriptLoader } from '../../../src/runtime/index.js';
import { EmbeddedStore } from '../../../src/store/index.js';
import { shopNodes } from '../engine/fixture.js';
import { POLICY } from '../engine/helpers.js';

describe('runScriptLoader', () => {
  test('loads the script of a run from its run properties, once, with the overrides', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-loader-'));
    const store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    try {
      const script = path.join(dir, 'script.json');
      fs.writeFileSync(script, JSON.stringify({ nodes: shopNodes(), dependency_policies: { p: POLICY } }));
      const params = path.join(dir, 'params.json');
      fs.writeFileSync(params, JSON.stringify({ dir: '/from/params' }));
      await store.ensureKeyspace('ks');
      await store.putRunProperties('ks', {
        runId: 1,
        startNodes: ['read_orders'],
        affectedNodes: ['read_orders'],
        scriptUrl: script,
        paramsUrl: params,
        description: '',
      });
      const io = createEngineIo();
      let reads = 0;
      const load = runScriptLoader(store, {
        readText: (u) => {
          reads++;
          return io.readText(u);
        },
        overrides: { dir: '/from/override' },
      });
      const s1 = await load('ks', 1);
      const s2 = await load('ks', 1);
      expect(s1).toBe(s2);
      expect(reads).toBe(2); // script and params, once
      const orders = s1.nodes.get('read_orders')!;
      expect(orders.type === 'file_table' && orders.r.urls[0]).toBe('/from/override/orders.csv');
      await expect(load('ks', 2)).rejects.toThrow(/keyspace ks has no run 2/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
