import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { requireService } from '../services.js';

// Smoke test of the harness' Cassandra through cassandra-driver: keyspace and table DDL, prepared
// insert/select, and a lightweight transaction (IF NOT EXISTS / IF col = ...).
const TIMEOUT = 90_000;
const keyspace = `infra_smoke_${randomBytes(4).toString('hex')}`;

describe('infra: Cassandra', () => {
  const client = new cassandra.Client({
    contactPoints: requireService('CASSANDRA_CONTACT_POINTS').split(','),
    localDataCenter: requireService('CASSANDRA_LOCAL_DC'),
    socketOptions: { readTimeout: 30_000 },
  });

  beforeAll(async () => {
    await client.connect();
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(
      `CREATE TABLE ${keyspace}.runs (id int PRIMARY KEY, name text, amount decimal, created timestamp)`,
    );
  }, TIMEOUT);

  afterAll(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }, TIMEOUT);

  it(
    'inserts and selects rows with prepared statements',
    async () => {
      const created = new Date('2026-01-02T03:04:05.678Z');
      for (let id = 1; id <= 20; id++) {
        await client.execute(
          `INSERT INTO ${keyspace}.runs (id, name, amount, created) VALUES (?, ?, ?, ?)`,
          [id, `run-${id}`, cassandra.types.BigDecimal.fromString(`${id}.25`), created],
          { prepare: true },
        );
      }
      const one = await client.execute(
        `SELECT name, amount, created FROM ${keyspace}.runs WHERE id = ?`,
        [7],
        {
          prepare: true,
        },
      );
      expect(one.rowLength).toBe(1);
      expect(one.first().get('name')).toBe('run-7');
      expect(one.first().get('amount').toString()).toBe('7.25');
      expect((one.first().get('created') as Date).toISOString()).toBe(created.toISOString());

      // Paged full scan sees every row exactly once.
      const ids: number[] = [];
      let pageState: string | undefined;
      let pages = 0;
      do {
        const page = await client.execute(`SELECT id FROM ${keyspace}.runs`, [], {
          prepare: true,
          fetchSize: 7,
          pageState,
        });
        for (const row of page.rows) ids.push(row.get('id') as number);
        pageState = page.pageState ?? undefined;
        pages++;
      } while (pageState);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    },
    TIMEOUT,
  );

  it(
    'applies lightweight transactions exactly once',
    async () => {
      const insert = `INSERT INTO ${keyspace}.runs (id, name) VALUES (?, ?) IF NOT EXISTS`;
      const first = await client.execute(insert, [100, 'first'], { prepare: true });
      expect(first.wasApplied()).toBe(true);
      const second = await client.execute(insert, [100, 'second'], { prepare: true });
      expect(second.wasApplied()).toBe(false);
      expect(second.first().get('name')).toBe('first');

      const cas = `UPDATE ${keyspace}.runs SET name = ? WHERE id = ? IF name = ?`;
      expect((await client.execute(cas, ['third', 100, 'first'], { prepare: true })).wasApplied()).toBe(true);
      expect((await client.execute(cas, ['fourth', 100, 'first'], { prepare: true })).wasApplied()).toBe(
        false,
      );
      const row = await client.execute(`SELECT name FROM ${keyspace}.runs WHERE id = 100`);
      expect(row.first().get('name')).toBe('third');
    },
    TIMEOUT,
  );
});
