import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { TransientError, UserInputError } from '../../../src/errors/index.js';
import {
  CassandraStore,
  cassandraSettings,
  NodeStatus,
  RunStatus,
  rowidFor,
  splitTokenRange,
  tokenOf,
  type DataRow,
} from '../../../src/store/index.js';
import { DateTime, Decimal } from '../../../src/values/index.js';
import { requireService } from '../services.js';

// The Cassandra store against the harness' Cassandra 5: workflow tables, LWT-backed allocation and claims,
// typed round trips, token-range scans checked against Cassandra's own token(rowid), leases, cleanup.
jest.setTimeout(120_000);

const contactPoints = requireService('CASSANDRA_CONTACT_POINTS');
const localDc = requireService('CASSANDRA_LOCAL_DC');
const ks = `it_store_${randomBytes(4).toString('hex')}`;

function newStore(): CassandraStore {
  return new CassandraStore(cassandraSettings({ contactPoints, localDataCenter: localDc }, {}));
}

const FIELDS = {
  id: 'int',
  price: 'decimal2',
  ratio: 'float',
  name: 'string',
  ok: 'bool',
  at: 'datetime',
} as const;

function row(runId: number, batchIdx: number, seq: number): DataRow {
  return {
    rowid: rowidFor(runId, 'load', batchIdx, seq),
    batchIdx,
    values: {
      id: 9_007_199_254_740_993n + BigInt(seq), // above 2^53: must survive exactly
      price: new Decimal(`${seq}.${String(seq % 100).padStart(2, '0')}`),
      ratio: seq === 0 ? NaN : seq / 3,
      name: `naïve ${seq} ✓`,
      ok: seq % 2 === 0,
      at: seq === 1 ? DateTime.zero() : new DateTime(Date.UTC(2020, 1, 29, 12, 0, seq)),
    },
  };
}

describe('CassandraStore', () => {
  const store = newStore();
  let runId = 0;

  beforeAll(async () => {
    await store.ensureKeyspace(ks);
    runId = await store.nextRunId(ks);
  });

  afterAll(async () => {
    await store.dropKeyspace(ks).catch(() => undefined);
    await store.close();
  });

  test('keyspace and workflow tables with Capillaries columns', async () => {
    expect(await store.keyspaceExists(ks)).toBe(true);
    expect(await store.keyspaceExists(`${ks}_missing`)).toBe(false);
    await store.ensureKeyspace(ks); // idempotent
    const client = new cassandra.Client({
      contactPoints: contactPoints.split(','),
      localDataCenter: localDc,
    });
    try {
      const rs = await client.execute(
        'SELECT table_name, column_name FROM system_schema.columns WHERE keyspace_name = ?',
        [ks],
        { prepare: true },
      );
      const cols = new Map<string, string[]>();
      for (const r of rs.rows) {
        const t = r.get('table_name') as string;
        cols.set(t, [...(cols.get(t) ?? []), r.get('column_name') as string].sort());
      }
      expect(cols.get('wf_batch_history')).toEqual(
        [
          'batch_idx',
          'batches_total',
          'comment',
          'first_token',
          'instance',
          'last_token',
          'run_id',
          'script_node',
          'status',
          'thread',
          'ts',
        ].sort(),
      );
      expect(cols.get('wf_node_history')).toEqual(
        ['comment', 'run_id', 'script_node', 'status', 'ts', 'written_by_batch_idx'].sort(),
      );
      expect(cols.get('wf_run_history')).toEqual(['comment', 'run_id', 'status', 'ts']);
      expect(cols.get('wf_run_properties')).toEqual(
        [
          'affected_nodes',
          'run_description',
          'run_id',
          'script_params_url',
          'script_url',
          'start_nodes',
        ].sort(),
      );
      expect(cols.get('wf_run_counter')).toEqual(['ks', 'last_run']);
    } finally {
      await client.shutdown();
    }
  });

  test('run ids are unique under concurrent callers (LWT)', async () => {
    const other = newStore();
    try {
      const ids = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).nextRunId(ks)),
      );
      expect(new Set(ids).size).toBe(8);
      expect(Math.min(...ids)).toBe(runId + 1);
      expect(Math.max(...ids)).toBe(runId + 8);
    } finally {
      await other.close();
    }
  });

  test('run properties, overrides, run/node/batch history', async () => {
    const props = {
      runId,
      startNodes: ['a', 'b'],
      affectedNodes: ['a', 'b', 'c'],
      scriptUrl: '/tmp/s.yaml',
      paramsUrl: '/tmp/p.yaml',
      description: 'test',
    };
    expect(await store.putRunProperties(ks, props)).toBe(true);
    expect(await store.putRunProperties(ks, { ...props, description: 'second' })).toBe(false);
    expect((await store.getRunProperties(ks)).find((p) => p.runId === runId)).toEqual(props);

    expect(await store.getRunOverrides(ks, runId)).toEqual({});
    await store.putRunOverrides(ks, runId, { dir_in: '/x', 'a=b': 'c,d' });
    expect(await store.getRunOverrides(ks, runId)).toEqual({ dir_in: '/x', 'a=b': 'c,d' });

    expect(await store.putRunStatus(ks, runId, RunStatus.Start, 'start')).toBe(true);
    expect(await store.putRunStatus(ks, runId, RunStatus.Start, 'again')).toBe(false);
    const runs = await store.getRunHistory(ks, runId);
    expect(runs.map((r) => [r.status, r.comment])).toEqual([[RunStatus.Start, 'start']]);

    await store.putNodeStatus(ks, {
      runId,
      node: 'a',
      writtenByBatchIdx: 0,
      status: NodeStatus.Start,
      comment: '',
    });
    await store.putNodeStatus(ks, {
      runId,
      node: 'a',
      writtenByBatchIdx: 1,
      status: NodeStatus.Success,
      comment: 'done',
    });
    const nodes = await store.getNodeHistory(ks, runId, 'a');
    expect(nodes.map((n) => [n.writtenByBatchIdx, n.status])).toEqual([
      [0, NodeStatus.Start],
      [1, NodeStatus.Success],
    ]);
    expect(nodes[0]!.ts.getTime()).toBeLessThan(nodes[1]!.ts.getTime());

    await store.putBatchStatus(ks, {
      runId,
      node: 'a',
      batchIdx: 3,
      batchesTotal: 4,
      status: NodeStatus.Success,
      firstToken: -9223372036854775808n,
      lastToken: 9223372036854775807n,
      instance: 'host/plexus/1',
      thread: 2,
      comment: 'ok',
    });
    const batches = await store.getBatchHistory(ks, runId, 'a');
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({
      batchIdx: 3,
      batchesTotal: 4,
      status: NodeStatus.Success,
      firstToken: -9223372036854775808n,
      lastToken: 9223372036854775807n,
      instance: 'host/plexus/1',
      thread: 2,
      comment: 'ok',
    });
  });

  test('claimOnce: exactly one winner among concurrent callers', async () => {
    const other = newStore();
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? store : other).claimOnce(ks, runId, 'c', 'publish')),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.claimOnce(ks, runId, 'c', 'node-end')).toBe(true);
    } finally {
      await other.close();
    }
  });

  test('typed rows round-trip; token ranges see every row once, in token order; token(rowid) = tokenOf', async () => {
    const rid = runId;
    await store.createTables(ks, rid, [
      { kind: 'data', name: 'things', fields: FIELDS },
      { kind: 'unique', name: 'idx_things_name' },
      { kind: 'non_unique', name: 'idx_things_ok' },
    ]);
    // same definition again is fine, a different one is refused
    await store.createTables(ks, rid, [{ kind: 'data', name: 'things', fields: FIELDS }]);
    await expect(
      store.createTables(ks, rid, [{ kind: 'data', name: 'things', fields: { id: 'int' } }]),
    ).rejects.toMatchObject({ code: 'TABLE_MISMATCH' });

    const rows = Array.from({ length: 300 }, (_, i) => row(rid, i % 3, i));
    await store.writeRows(ks, { name: 'things', runId: rid }, rows);
    expect(await store.countRows(ks, { name: 'things', runId: rid })).toBe(300);

    const fields = Object.keys(FIELDS);
    const back = await store.getRows(
      ks,
      { name: 'things', runId: rid },
      rows.slice(0, 5).map((r) => r.rowid),
      fields,
    );
    expect(back).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      const want = rows[i]!;
      const got = back[i]!;
      expect(got.rowid).toBe(want.rowid);
      expect(got.batchIdx).toBe(want.batchIdx);
      expect(got.values.id).toBe(want.values.id);
      expect(String(got.values.price)).toBe(String(want.values.price));
      if (i === 0) expect(Number.isNaN(got.values.ratio)).toBe(true);
      else expect(got.values.ratio).toBe(want.values.ratio);
      expect(got.values.name).toBe(want.values.name);
      expect(got.values.ok).toBe(want.values.ok);
      expect((got.values.at as DateTime).epochMs).toBe((want.values.at as DateTime).epochMs);
    }

    // batches over token ranges: union = all rows, no row twice, each page ordered by token
    const seen = new Set<bigint>();
    for (const range of splitTokenRange(7)) {
      let prev: bigint | undefined;
      for await (const page of store.scanRange(ks, { name: 'things', runId: rid }, range, ['id'], 16)) {
        expect(page.length).toBeLessThanOrEqual(16);
        for (const r of page) {
          const tk = tokenOf(r.rowid);
          expect(tk >= range.first && tk <= range.last).toBe(true);
          if (prev !== undefined) expect(tk >= prev).toBe(true);
          prev = tk;
          expect(seen.has(r.rowid)).toBe(false);
          seen.add(r.rowid);
        }
      }
    }
    expect(seen.size).toBe(300);

    // tokenOf agrees with Cassandra's own token(rowid)
    const client = new cassandra.Client({
      contactPoints: contactPoints.split(','),
      localDataCenter: localDc,
      encoding: { useBigIntAsLong: true },
    });
    try {
      const rs = await client.execute(
        `SELECT rowid, token(rowid) AS tk FROM "${ks}"."things_${String(rid).padStart(5, '0')}"`,
      );
      expect(rs.rowLength).toBe(300);
      for (const r of rs.rows) expect(tokenOf(r.get('rowid') as bigint)).toBe(r.get('tk') as bigint);
    } finally {
      await client.shutdown();
    }
  });

  test('unique claims recognise their own row id; lookups; release', async () => {
    const idx = { name: 'idx_things_name', runId };
    const res = await store.claimUnique(ks, idx, [
      { key: 'k1', rowid: 1n },
      { key: 'k2', rowid: 2n },
      { key: 'k1', rowid: 1n },
      { key: 'k1', rowid: 3n },
    ]);
    expect(res).toEqual(['claimed', 'claimed', 'own', 'taken']);
    expect(
      await store.claimUnique(ks, idx, [
        { key: 'k2', rowid: 2n },
        { key: 'k2', rowid: 5n },
      ]),
    ).toEqual(['own', 'taken']);
    const nu = { name: 'idx_things_ok', runId };
    await store.putIndexEntries(ks, nu, [
      { key: 'true', rowid: 7n },
      { key: 'true', rowid: 5n },
      { key: 'true', rowid: 7n },
      { key: 'false', rowid: 6n },
    ]);
    const found = await store.lookupIndex(ks, nu, ['true', 'false', 'none', 'true']);
    expect(found.get('true')).toEqual([5n, 7n]);
    expect(found.get('false')).toEqual([6n]);
    expect(found.has('none')).toBe(false);
    expect((await store.lookupIndex(ks, idx, ['k1'])).get('k1')).toEqual([1n]);

    await store.releaseUnique(ks, idx, [{ key: 'k1', rowid: 9n }]); // not the owner: no effect
    expect((await store.lookupIndex(ks, idx, ['k1'])).get('k1')).toEqual([1n]);
    await store.releaseUnique(ks, idx, [{ key: 'k1', rowid: 1n }]);
    expect((await store.lookupIndex(ks, idx, ['k1'])).has('k1')).toBe(false);
  });

  test('deleteBatchRows removes only the surplus rows of one batch', async () => {
    const t = { name: 'things', runId };
    const batch1 = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 === 1);
    const keep = new Set(batch1.slice(0, 40).map((i) => rowidFor(runId, 'load', 1, i)));
    expect(await store.deleteBatchRows(ks, t, 1, keep)).toBe(batch1.length - 40);
    expect(await store.countRows(ks, t)).toBe(300 - (batch1.length - 40));
    expect(await store.deleteBatchRows(ks, t, 1, keep)).toBe(0);
  });

  test('leases: one holder, renew, release, expiry', async () => {
    expect(await store.acquireLease(ks, 'batch:1:a:0', 'w1', 10_000)).toBe(true);
    expect(await store.acquireLease(ks, 'batch:1:a:0', 'w1', 10_000)).toBe(true);
    expect(await store.acquireLease(ks, 'batch:1:a:0', 'w2', 10_000)).toBe(false);
    expect(await store.renewLease(ks, 'batch:1:a:0', 'w1', 10_000)).toBe(true);
    expect(await store.renewLease(ks, 'batch:1:a:0', 'w2', 10_000)).toBe(false);
    await store.releaseLease(ks, 'batch:1:a:0', 'w2'); // not the holder: no effect
    expect(await store.acquireLease(ks, 'batch:1:a:0', 'w2', 10_000)).toBe(false);
    await store.releaseLease(ks, 'batch:1:a:0', 'w1');
    expect(await store.acquireLease(ks, 'batch:1:a:0', 'w2', 10_000)).toBe(true);

    expect(await store.acquireLease(ks, 'short', 'w1', 1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await store.acquireLease(ks, 'short', 'w2', 1000)).toBe(true);
  });

  test('clear errors: unknown keyspace, unknown table, unreachable cluster', async () => {
    await expect(store.getRunProperties(`${ks}_nope`)).rejects.toThrow(UserInputError);
    await expect(store.getRunProperties(`${ks}_nope`)).rejects.toThrow(`keyspace ${ks}_nope does not exist`);
    await expect(store.countRows(ks, { name: 'nothing', runId })).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
    await expect(store.ensureKeyspace('system_x')).rejects.toMatchObject({ code: 'KEYSPACE_NAME' });
    const down = new CassandraStore(
      cassandraSettings(
        { contactPoints: '127.0.0.1:1', localDataCenter: localDc, requestTimeoutMs: '2000' },
        {},
      ),
    );
    try {
      const err = await down.getRunProperties(ks).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect(String((err as Error).message)).toMatch(/unreachable/);
    } finally {
      await down.close();
    }
  });
});
