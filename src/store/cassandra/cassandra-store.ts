import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { PlexusError, UserInputError } from '../../errors/index.js';
import type { FieldType, Value } from '../../values/index.js';
import { validateKeyspaceName } from '../embedded/index.js';
import { splitTokenRange } from '../token.js';
import {
  physicalTableName,
  type BatchHistoryEvent,
  type ClaimResult,
  type DataRow,
  type IndexEntry,
  type NodeHistoryEvent,
  type NodeStatus,
  type RunHistoryEvent,
  type RunProperties,
  type RunStatus,
  type TableRef,
  type TableSpec,
  type TokenRange,
} from '../types.js';
import { isCasTimeout, storeError } from './errors.js';
import type { CassandraSettings } from './settings.js';
import type { DistributedStore } from './types.js';
import { CQL_TYPES, decodeValue, encodeValue } from './values.js';

/**
 * The Store on Cassandra (cassandra-driver), laid out as Capillaries lays out a run set (§5): one keyspace
 * per run set, data tables `<name>_<run>` (rowid BIGINT partition key, batch_idx, one column per field)
 * and index tables `<idx>_<run>` (key TEXT, rowid BIGINT), the five wf_* workflow tables with
 * Capillaries' columns, plus Plexus' own wf_plexus_* tables (scheduling claims, table definitions, batch
 * leases, parameter overrides).
 *
 * Every statement is prepared; a call keeps at most `maxInFlight` requests in flight. Data rows are plain
 * upserts keyed by deterministic row ids (a re-processed batch overwrites its own rows); lightweight
 * transactions are used only where uniqueness needs them: unique-index claims, run-id allocation,
 * run status and properties (first writer wins), scheduling claims and leases.
 */

const TABLE_RE = /^[A-Za-z0-9_]{1,40}$/;
const RESERVED_COLUMNS = new Set(['rowid', 'batch_idx']);
const IN_CHUNK_ROWS = 100;
const IN_CHUNK_KEYS = 50;
const SCAN_SPLITS = 16;
const LWT_ATTEMPTS = 6;
/** Plain upserts are sent in unlogged batches of rows that share a replica, at most this many... */
const BATCH_ROWS = 32;
/** ...and at most about this many bytes of values (Cassandra refuses batches above 50 KiB by default). */
const BATCH_BYTES = 24 * 1024;

interface TableInfo {
  readonly name: string;
  readonly kind: 'data' | 'unique' | 'non_unique';
  readonly fields: ReadonlyMap<string, FieldType>;
  readonly fieldOrder: readonly string[];
}

/** A quoted CQL identifier (keeps case; any reserved word is fine). */
function q(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

type Row = cassandra.types.Row;

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

function splitList(s: string | null): string[] {
  return !s ? [] : s.split(',');
}

/** Runs fn over items with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (failed === undefined) {
      const i = next++;
      if (i >= items.length) return;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed !== undefined) throw failed;
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class CassandraStore implements DistributedStore {
  private readonly client: cassandra.Client;
  private readonly settings: CassandraSettings;
  private readonly where: string;
  private readonly tables = new Map<string, TableInfo>();
  private readonly ensured = new Set<string>();
  private lastTs = 0;
  private closed = false;

  constructor(settings: CassandraSettings) {
    this.settings = settings;
    this.where = settings.contactPoints.join(',');
    const c = cassandra.types.consistencies;
    const consistency = {
      ONE: c.one,
      LOCAL_ONE: c.localOne,
      QUORUM: c.quorum,
      LOCAL_QUORUM: c.localQuorum,
      ALL: c.all,
      EACH_QUORUM: c.eachQuorum,
    }[settings.consistency];
    this.client = new cassandra.Client({
      contactPoints: [...settings.contactPoints],
      localDataCenter: settings.localDataCenter,
      credentials:
        settings.username !== undefined
          ? { username: settings.username, password: settings.password ?? '' }
          : undefined,
      encoding: { useBigIntAsLong: true, useBigIntAsVarint: true },
      socketOptions: { readTimeout: settings.requestTimeoutMs, connectTimeout: 10_000 },
      queryOptions: {
        consistency,
        serialConsistency: settings.consistency.startsWith('LOCAL') ? c.localSerial : c.serial,
        prepare: true,
        fetchSize: 5000,
      },
      policies: {
        reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 10_000, false),
      },
    });
  }

  /** Strictly increasing milliseconds within this process (history rows order by ts). */
  private now(): Date {
    const t = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = t;
    return new Date(t);
  }

  private async exec(
    ks: string,
    action: string,
    query: string,
    params: unknown[] = [],
    options: cassandra.QueryOptions = {},
  ): Promise<cassandra.types.ResultSet> {
    if (this.closed) throw new PlexusError('STORE_CLOSED', 'the Cassandra store is closed');
    try {
      return await this.client.execute(query, params, { prepare: true, ...options });
    } catch (err) {
      throw storeError(ks, action, err, this.where);
    }
  }

  /** A lightweight transaction, retried while its outcome is unknown (contention, CAS timeout). */
  private async lwt(
    ks: string,
    action: string,
    query: string,
    params: unknown[],
  ): Promise<cassandra.types.ResultSet> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new PlexusError('STORE_CLOSED', 'the Cassandra store is closed');
      try {
        return await this.client.execute(query, params, { prepare: true });
      } catch (err) {
        if (attempt >= LWT_ATTEMPTS || !isCasTimeout(err)) throw storeError(ks, action, err, this.where);
        await sleep(50 * 2 ** attempt + Math.random() * 50);
      }
    }
  }

  /**
   * Plain (idempotent) upserts of many partitions: grouped by the first replica of each partition key and
   * sent as unlogged batches of at most BATCH_ROWS rows / BATCH_BYTES, a quarter of `maxInFlight` batches
   * at a time. A batch is one round trip for many rows; grouping by replica keeps each batch on one node.
   * Not atomic, and need not be: every row is an upsert by a deterministic key.
   */
  private async upsertMany(
    ks: string,
    action: string,
    query: string,
    rows: readonly { readonly key: Buffer; readonly params: unknown[]; readonly bytes: number }[],
  ): Promise<void> {
    const byReplica = new Map<string, (typeof rows)[number][]>();
    for (const r of rows) {
      let replica = '';
      try {
        replica = this.client.getReplicas(ks, r.key)?.[0]?.address ?? '';
      } catch {
        // no token map yet: one group
      }
      const list = byReplica.get(replica);
      if (list) list.push(r);
      else byReplica.set(replica, [r]);
    }
    const batches: unknown[][][] = [];
    for (const list of byReplica.values()) {
      let cur: unknown[][] = [];
      let bytes = 0;
      for (const r of list) {
        if (cur.length > 0 && (cur.length >= BATCH_ROWS || bytes + r.bytes > BATCH_BYTES)) {
          batches.push(cur);
          cur = [];
          bytes = 0;
        }
        cur.push(r.params);
        bytes += r.bytes;
      }
      if (cur.length > 0) batches.push(cur);
    }
    await mapLimit(batches, Math.max(1, Math.ceil(this.settings.maxInFlight / 4)), async (b) => {
      if (this.closed) throw new PlexusError('STORE_CLOSED', 'the Cassandra store is closed');
      if (b.length === 1) {
        await this.exec(ks, action, query, b[0], { isIdempotent: true });
        return;
      }
      try {
        await this.client.batch(
          b.map((params) => ({ query, params })),
          { prepare: true, logged: false, isIdempotent: true },
        );
      } catch (err) {
        throw storeError(ks, action, err, this.where);
      }
    });
  }

  /** Every row of a query, page by page. */
  private async all(
    ks: string,
    action: string,
    query: string,
    params: unknown[],
    fetchSize = 5000,
  ): Promise<Row[]> {
    const rows: Row[] = [];
    let pageState: string | undefined;
    do {
      const rs = await this.exec(ks, action, query, params, { fetchSize, pageState, autoPage: false });
      rows.push(...rs.rows);
      pageState = rs.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  private t(ks: string, table: string): string {
    return `${q(ks)}.${q(table)}`;
  }

  // ---- keyspaces and workflow history ----

  async ensureKeyspace(ks: string): Promise<void> {
    validateKeyspaceName(ks);
    if (this.ensured.has(ks)) return;
    const action = 'create keyspace';
    await this.exec(
      ks,
      action,
      `CREATE KEYSPACE IF NOT EXISTS ${q(ks)} WITH REPLICATION = ${this.settings.replication}`,
      [],
      { prepare: false },
    );
    const ddl = [
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_batch_history')} (ts timestamp, run_id int, script_node text,
         batch_idx int, batches_total int, status tinyint, first_token bigint, last_token bigint, instance text,
         thread bigint, comment text, PRIMARY KEY (run_id, script_node, batch_idx, status))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_node_history')} (ts timestamp, run_id int, script_node text,
         written_by_batch_idx int, status tinyint, comment text,
         PRIMARY KEY (run_id, script_node, written_by_batch_idx, status))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_run_history')} (ts timestamp, run_id int, status tinyint,
         comment text, PRIMARY KEY (run_id, status))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_run_properties')} (run_id int, start_nodes text,
         affected_nodes text, script_url text, script_params_url text, run_description text, PRIMARY KEY (run_id))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_run_counter')} (ks text, last_run int, PRIMARY KEY (ks))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_plexus_claims')} (run_id int, script_node text, purpose text,
         owner text, ts timestamp, PRIMARY KEY ((run_id, script_node, purpose)))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_plexus_tables')} (name text, kind text, fields text,
         PRIMARY KEY (name))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_plexus_leases')} (name text, owner text, ts timestamp,
         PRIMARY KEY (name))`,
      `CREATE TABLE IF NOT EXISTS ${this.t(ks, 'wf_plexus_run_overrides')} (run_id int, overrides text,
         PRIMARY KEY (run_id))`,
    ];
    for (const stmt of ddl) await this.exec(ks, action, stmt, [], { prepare: false });
    await this.lwt(
      ks,
      action,
      `INSERT INTO ${this.t(ks, 'wf_run_counter')} (ks, last_run) VALUES (?, 0) IF NOT EXISTS`,
      [ks],
    );
    this.ensured.add(ks);
  }

  async dropKeyspace(ks: string): Promise<void> {
    validateKeyspaceName(ks);
    await this.exec(ks, 'drop keyspace', `DROP KEYSPACE IF EXISTS ${q(ks)}`, [], { prepare: false });
    this.ensured.delete(ks);
    for (const key of [...this.tables.keys()]) if (key.startsWith(`${ks}.`)) this.tables.delete(key);
  }

  async keyspaceExists(ks: string): Promise<boolean> {
    validateKeyspaceName(ks);
    const rs = await this.exec(
      ks,
      'look up keyspace',
      'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
      [ks],
    );
    return rs.rowLength > 0;
  }

  async nextRunId(ks: string): Promise<number> {
    const action = 'allocate run id';
    for (let attempt = 0; attempt < 100; attempt++) {
      const rs = await this.exec(
        ks,
        action,
        `SELECT last_run FROM ${this.t(ks, 'wf_run_counter')} WHERE ks = ?`,
        [ks],
      );
      const row = rs.first();
      if (!row) {
        await this.lwt(
          ks,
          action,
          `INSERT INTO ${this.t(ks, 'wf_run_counter')} (ks, last_run) VALUES (?, 0) IF NOT EXISTS`,
          [ks],
        );
        continue;
      }
      const last = num(row.get('last_run'));
      const upd = await this.lwt(
        ks,
        action,
        `UPDATE ${this.t(ks, 'wf_run_counter')} SET last_run = ? WHERE ks = ? IF last_run = ?`,
        [last + 1, ks, last],
      );
      if (upd.wasApplied()) return last + 1;
      await sleep(Math.random() * 20 * (attempt + 1));
    }
    throw new PlexusError(
      'RUN_ID',
      `keyspace ${ks}: could not allocate a run id after 100 attempts (contention)`,
    );
  }

  async putRunProperties(ks: string, p: RunProperties): Promise<boolean> {
    const rs = await this.lwt(
      ks,
      `write properties of run ${p.runId}`,
      `INSERT INTO ${this.t(ks, 'wf_run_properties')}
         (run_id, start_nodes, affected_nodes, script_url, script_params_url, run_description)
       VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [p.runId, p.startNodes.join(','), p.affectedNodes.join(','), p.scriptUrl, p.paramsUrl, p.description],
    );
    return rs.wasApplied();
  }

  async getRunProperties(ks: string): Promise<RunProperties[]> {
    const rows = await this.all(
      ks,
      'read run properties',
      `SELECT * FROM ${this.t(ks, 'wf_run_properties')}`,
      [],
    );
    return rows
      .map((r) => ({
        runId: num(r.get('run_id')),
        startNodes: splitList(r.get('start_nodes') as string | null),
        affectedNodes: splitList(r.get('affected_nodes') as string | null),
        scriptUrl: (r.get('script_url') as string | null) ?? '',
        paramsUrl: (r.get('script_params_url') as string | null) ?? '',
        description: (r.get('run_description') as string | null) ?? '',
      }))
      .sort((a, b) => a.runId - b.runId);
  }

  async putRunOverrides(
    ks: string,
    runId: number,
    overrides: Readonly<Record<string, string>>,
  ): Promise<void> {
    await this.exec(
      ks,
      `write parameter overrides of run ${runId}`,
      `INSERT INTO ${this.t(ks, 'wf_plexus_run_overrides')} (run_id, overrides) VALUES (?, ?)`,
      [runId, JSON.stringify(overrides)],
    );
  }

  async getRunOverrides(ks: string, runId: number): Promise<Record<string, string>> {
    const rs = await this.exec(
      ks,
      `read parameter overrides of run ${runId}`,
      `SELECT overrides FROM ${this.t(ks, 'wf_plexus_run_overrides')} WHERE run_id = ?`,
      [runId],
    );
    const text = rs.first()?.get('overrides') as string | null | undefined;
    if (!text) return {};
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PlexusError('STORE_CORRUPT', `keyspace ${ks}: overrides of run ${runId} are not an object`);
    }
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }

  async putRunStatus(ks: string, runId: number, status: RunStatus, comment: string): Promise<boolean> {
    const rs = await this.lwt(
      ks,
      `write status of run ${runId}`,
      `INSERT INTO ${this.t(ks, 'wf_run_history')} (ts, run_id, status, comment) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      [this.now(), runId, status, comment],
    );
    return rs.wasApplied();
  }

  async getRunHistory(ks: string, runId?: number): Promise<RunHistoryEvent[]> {
    const rows =
      runId === undefined
        ? await this.all(ks, 'read run history', `SELECT * FROM ${this.t(ks, 'wf_run_history')}`, [])
        : await this.all(
            ks,
            'read run history',
            `SELECT * FROM ${this.t(ks, 'wf_run_history')} WHERE run_id = ?`,
            [runId],
          );
    return rows
      .map((r) => ({
        ts: r.get('ts') as Date,
        runId: num(r.get('run_id')),
        status: num(r.get('status')) as RunStatus,
        comment: (r.get('comment') as string | null) ?? '',
      }))
      .sort((a, b) => a.ts.getTime() - b.ts.getTime() || a.runId - b.runId || a.status - b.status);
  }

  async putNodeStatus(ks: string, e: Omit<NodeHistoryEvent, 'ts'>): Promise<void> {
    await this.exec(
      ks,
      `write status of node ${e.node} in run ${e.runId}`,
      `INSERT INTO ${this.t(ks, 'wf_node_history')} (ts, run_id, script_node, written_by_batch_idx, status, comment)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [this.now(), e.runId, e.node, e.writtenByBatchIdx, e.status, e.comment],
      { isIdempotent: true },
    );
  }

  async getNodeHistory(ks: string, runId?: number, node?: string): Promise<NodeHistoryEvent[]> {
    const table = this.t(ks, 'wf_node_history');
    let rows: Row[];
    if (runId === undefined) {
      rows = await this.all(ks, 'read node history', `SELECT * FROM ${table}`, []);
      if (node !== undefined) rows = rows.filter((r) => r.get('script_node') === node);
    } else if (node === undefined) {
      rows = await this.all(ks, 'read node history', `SELECT * FROM ${table} WHERE run_id = ?`, [runId]);
    } else {
      rows = await this.all(
        ks,
        'read node history',
        `SELECT * FROM ${table} WHERE run_id = ? AND script_node = ?`,
        [runId, node],
      );
    }
    return rows
      .map((r) => ({
        ts: r.get('ts') as Date,
        runId: num(r.get('run_id')),
        node: r.get('script_node') as string,
        writtenByBatchIdx: num(r.get('written_by_batch_idx')),
        status: num(r.get('status')) as NodeStatus,
        comment: (r.get('comment') as string | null) ?? '',
      }))
      .sort(
        (a, b) =>
          a.ts.getTime() - b.ts.getTime() ||
          a.runId - b.runId ||
          (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) ||
          a.writtenByBatchIdx - b.writtenByBatchIdx ||
          a.status - b.status,
      );
  }

  async putBatchStatus(ks: string, e: Omit<BatchHistoryEvent, 'ts'>): Promise<void> {
    await this.exec(
      ks,
      `write status of batch ${e.batchIdx} of node ${e.node} in run ${e.runId}`,
      `INSERT INTO ${this.t(ks, 'wf_batch_history')}
         (ts, run_id, script_node, batch_idx, batches_total, status, first_token, last_token, instance, thread, comment)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        this.now(),
        e.runId,
        e.node,
        e.batchIdx,
        e.batchesTotal,
        e.status,
        e.firstToken,
        e.lastToken,
        e.instance,
        BigInt(e.thread),
        e.comment,
      ],
      { isIdempotent: true },
    );
  }

  async getBatchHistory(ks: string, runId: number, node?: string): Promise<BatchHistoryEvent[]> {
    const table = this.t(ks, 'wf_batch_history');
    const rows =
      node === undefined
        ? await this.all(ks, 'read batch history', `SELECT * FROM ${table} WHERE run_id = ?`, [runId])
        : await this.all(
            ks,
            'read batch history',
            `SELECT * FROM ${table} WHERE run_id = ? AND script_node = ?`,
            [runId, node],
          );
    return rows
      .map((r) => ({
        ts: r.get('ts') as Date,
        runId: num(r.get('run_id')),
        node: r.get('script_node') as string,
        batchIdx: num(r.get('batch_idx')),
        batchesTotal: num(r.get('batches_total')),
        status: num(r.get('status')) as NodeStatus,
        firstToken: big(r.get('first_token')),
        lastToken: big(r.get('last_token')),
        instance: (r.get('instance') as string | null) ?? '',
        thread: num(r.get('thread') ?? 0n),
        comment: (r.get('comment') as string | null) ?? '',
      }))
      .sort(
        (a, b) =>
          a.ts.getTime() - b.ts.getTime() ||
          (a.node < b.node ? -1 : a.node > b.node ? 1 : 0) ||
          a.batchIdx - b.batchIdx ||
          a.status - b.status,
      );
  }

  async claimOnce(ks: string, runId: number, node: string, purpose: string): Promise<boolean> {
    // The owner token makes a retried insert whose first attempt landed recognise itself.
    const owner = randomUUID();
    const rs = await this.lwt(
      ks,
      `claim ${purpose} of node ${node} in run ${runId}`,
      `INSERT INTO ${this.t(ks, 'wf_plexus_claims')} (run_id, script_node, purpose, owner, ts)
       VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
      [runId, node, purpose, owner, this.now()],
    );
    return rs.wasApplied() || rs.first()?.get('owner') === owner;
  }

  // ---- leases ----

  async acquireLease(ks: string, name: string, owner: string, ttlMs: number): Promise<boolean> {
    const rs = await this.lwt(
      ks,
      `take lease ${name}`,
      `INSERT INTO ${this.t(ks, 'wf_plexus_leases')} (name, owner, ts) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?`,
      [name, owner, this.now(), ttlSeconds(ttlMs)],
    );
    return rs.wasApplied() || rs.first()?.get('owner') === owner;
  }

  async renewLease(ks: string, name: string, owner: string, ttlMs: number): Promise<boolean> {
    const rs = await this.lwt(
      ks,
      `renew lease ${name}`,
      `UPDATE ${this.t(ks, 'wf_plexus_leases')} USING TTL ? SET owner = ?, ts = ? WHERE name = ? IF owner = ?`,
      [ttlSeconds(ttlMs), owner, this.now(), name, owner],
    );
    return rs.wasApplied();
  }

  async releaseLease(ks: string, name: string, owner: string): Promise<void> {
    await this.lwt(
      ks,
      `release lease ${name}`,
      `DELETE FROM ${this.t(ks, 'wf_plexus_leases')} WHERE name = ? IF owner = ?`,
      [name, owner],
    );
  }

  // ---- data and index tables ----

  private async tableOf(ks: string, ref: TableRef, kinds: readonly TableInfo['kind'][]): Promise<TableInfo> {
    const name = physicalTableName(ref);
    const key = `${ks}.${name}`;
    let t = this.tables.get(key);
    if (!t) {
      const rs = await this.exec(
        ks,
        `read definition of table ${name}`,
        `SELECT kind, fields FROM ${this.t(ks, 'wf_plexus_tables')} WHERE name = ?`,
        [name],
      );
      const row = rs.first();
      if (!row) throw new PlexusError('TABLE_NOT_FOUND', `table ${name} does not exist in keyspace ${ks}`);
      const list = JSON.parse(row.get('fields') as string) as [string, FieldType][];
      t = {
        name,
        kind: row.get('kind') as TableInfo['kind'],
        fields: new Map(list),
        fieldOrder: list.map(([f]) => f),
      };
      this.tables.set(key, t);
    }
    if (!kinds.includes(t.kind)) {
      throw new PlexusError(
        'TABLE_KIND',
        `table ${name} in keyspace ${ks} is a ${t.kind} table, expected ${kinds.join(' or ')}`,
      );
    }
    return t;
  }

  async createTables(ks: string, runId: number, tables: readonly TableSpec[]): Promise<void> {
    const action = `create tables of run ${runId}`;
    for (const spec of tables) {
      if (!TABLE_RE.test(spec.name)) {
        throw new UserInputError(
          'TABLE_NAME',
          `table name ${JSON.stringify(spec.name)} is invalid: use 1 to 40 characters from A-Z, a-z, 0-9 and _`,
        );
      }
      const name = physicalTableName({ name: spec.name, runId });
      const fieldList: [string, FieldType][] = spec.kind === 'data' ? Object.entries(spec.fields) : [];
      for (const [f] of fieldList) {
        if (RESERVED_COLUMNS.has(f.toLowerCase())) {
          throw new UserInputError(
            'FIELD_NAME',
            `table ${spec.name}: field name ${f} is reserved (rowid, batch_idx)`,
          );
        }
      }
      const fieldsJson = JSON.stringify(fieldList);
      const existing = (
        await this.exec(
          ks,
          action,
          `SELECT kind, fields FROM ${this.t(ks, 'wf_plexus_tables')} WHERE name = ?`,
          [name],
        )
      ).first();
      if (existing && (existing.get('kind') !== spec.kind || existing.get('fields') !== fieldsJson)) {
        throw new PlexusError(
          'TABLE_MISMATCH',
          `table ${name} already exists in keyspace ${ks} with a different definition (${String(existing.get('kind'))} ${String(existing.get('fields'))})`,
        );
      }
      let ddl: string;
      if (spec.kind === 'data') {
        const cols = fieldList.map(([f, ty]) => `, ${q(f)} ${CQL_TYPES[ty]}`).join('');
        ddl = `CREATE TABLE IF NOT EXISTS ${this.t(ks, name)} (rowid bigint, batch_idx bigint${cols}, PRIMARY KEY ((rowid)))`;
      } else if (spec.kind === 'unique') {
        ddl = `CREATE TABLE IF NOT EXISTS ${this.t(ks, name)} (key text, rowid bigint, PRIMARY KEY ((key)))`;
      } else {
        ddl = `CREATE TABLE IF NOT EXISTS ${this.t(ks, name)} (key text, rowid bigint, PRIMARY KEY ((key), rowid))`;
      }
      await this.exec(ks, action, ddl, [], { prepare: false });
      if (!existing) {
        await this.exec(
          ks,
          action,
          `INSERT INTO ${this.t(ks, 'wf_plexus_tables')} (name, kind, fields) VALUES (?, ?, ?)`,
          [name, spec.kind, fieldsJson],
        );
      }
      this.tables.delete(`${ks}.${name}`);
    }
  }

  async writeRows(ks: string, table: TableRef, rows: readonly DataRow[]): Promise<void> {
    if (rows.length === 0) return;
    const t = await this.tableOf(ks, table, ['data']);
    const cols = t.fieldOrder.map((f) => `, ${q(f)}`).join('');
    const marks = t.fieldOrder.map(() => ', ?').join('');
    const query = `INSERT INTO ${this.t(ks, t.name)} (rowid, batch_idx${cols}) VALUES (?, ?${marks})`;
    const items = rows.map((row) => {
      const args: unknown[] = [row.rowid, BigInt(row.batchIdx)];
      let bytes = 24;
      for (const f of t.fieldOrder) {
        const v = row.values[f];
        if (v === undefined) {
          throw new PlexusError(
            'ROW_FIELD_MISSING',
            `row ${row.rowid} for ${t.name} has no value for field ${f}`,
          );
        }
        args.push(encodeValue(v, t.fields.get(f)!, t.name, f));
        bytes += typeof v === 'string' ? Buffer.byteLength(v) + 4 : 16;
      }
      if (Object.keys(row.values).length !== t.fieldOrder.length) {
        const extra = Object.keys(row.values).filter((f) => !t.fields.has(f));
        throw new PlexusError(
          'ROW_FIELD_UNKNOWN',
          `row ${row.rowid} for ${t.name} has unknown fields: ${extra.join(', ')}`,
        );
      }
      return { key: bigintKey(row.rowid), params: args, bytes };
    });
    await this.upsertMany(ks, `write rows to ${t.name}`, query, items);
  }

  private selectList(t: TableInfo, fields: readonly string[]): string {
    let sel = '';
    for (const f of fields) {
      if (!t.fields.has(f)) throw new PlexusError('FIELD_NOT_FOUND', `table ${t.name} has no field ${f}`);
      sel += `, ${q(f)}`;
    }
    return sel;
  }

  private decodeRow(r: Row, t: TableInfo, fields: readonly string[]): DataRow {
    const values: Record<string, Value> = {};
    for (const f of fields) values[f] = decodeValue(r.get(f), t.fields.get(f)!, t.name, f);
    return { rowid: big(r.get('rowid')), batchIdx: num(r.get('batch_idx')), values };
  }

  /**
   * Pages over a token range as Capillaries reads a batch (§4.4): `LIMIT pageSize` from the first token,
   * each next page from the last token seen (inclusive), skipping the rows already returned that share
   * that token (token collisions).
   */
  async *scanRange(
    ks: string,
    table: TableRef,
    range: TokenRange,
    fields: readonly string[],
    pageSize: number,
  ): AsyncGenerator<DataRow[], void, undefined> {
    if (!Number.isInteger(pageSize) || pageSize < 1)
      throw new RangeError(`page size must be a positive integer, got ${pageSize}`);
    const t = await this.tableOf(ks, table, ['data']);
    const query =
      `SELECT rowid, token(rowid) AS tk, batch_idx${this.selectList(t, fields)} FROM ${this.t(ks, t.name)} ` +
      'WHERE token(rowid) >= ? AND token(rowid) <= ? LIMIT ?';
    const action = `scan ${t.name}`;
    let from = range.first;
    let seenAtFrom = new Set<bigint>();
    let limit = pageSize;
    for (;;) {
      const rs = await this.exec(ks, action, query, [from, range.last, limit], {
        fetchSize: limit,
        autoPage: false,
      });
      const page: DataRow[] = [];
      let lastToken = from;
      let atLast = new Set<bigint>();
      for (const r of rs.rows) {
        const rowid = big(r.get('rowid'));
        const tk = big(r.get('tk'));
        if (tk === from && seenAtFrom.has(rowid)) continue;
        if (tk !== lastToken) {
          lastToken = tk;
          atLast = new Set();
        }
        atLast.add(rowid);
        page.push(this.decodeRow(r, t, fields));
      }
      if (page.length > 0) yield page;
      if (rs.rowLength < limit) return;
      if (page.length === 0) {
        // a whole page of rows sharing the start token, all seen: read a bigger page
        limit *= 2;
        continue;
      }
      limit = pageSize;
      if (lastToken === from) for (const id of atLast) seenAtFrom.add(id);
      else seenAtFrom = atLast;
      from = lastToken;
    }
  }

  async getRows(
    ks: string,
    table: TableRef,
    rowids: readonly bigint[],
    fields: readonly string[],
  ): Promise<DataRow[]> {
    if (rowids.length === 0) return [];
    const t = await this.tableOf(ks, table, ['data']);
    const query = `SELECT rowid, batch_idx${this.selectList(t, fields)} FROM ${this.t(ks, t.name)} WHERE rowid IN ?`;
    const unique = [...new Set(rowids)];
    const chunks: bigint[][] = [];
    for (let i = 0; i < unique.length; i += IN_CHUNK_ROWS) chunks.push(unique.slice(i, i + IN_CHUNK_ROWS));
    const action = `read rows of ${t.name}`;
    const found = new Map<bigint, DataRow>();
    const limit = Math.max(1, Math.floor(this.settings.maxInFlight / 4));
    await mapLimit(chunks, limit, async (chunk) => {
      for (const r of await this.all(ks, action, query, [chunk])) {
        const row = this.decodeRow(r, t, fields);
        found.set(row.rowid, row);
      }
    });
    const out: DataRow[] = [];
    for (const id of rowids) {
      const r = found.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  async putIndexEntries(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const t = await this.tableOf(ks, index, ['non_unique']);
    const query = `INSERT INTO ${this.t(ks, t.name)} (key, rowid) VALUES (?, ?)`;
    await this.upsertMany(
      ks,
      `write index ${t.name}`,
      query,
      entries.map((e) => {
        const key = Buffer.from(e.key, 'utf8');
        return { key, params: [e.key, e.rowid], bytes: key.length + 16 };
      }),
    );
  }

  async claimUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<ClaimResult[]> {
    if (entries.length === 0) return [];
    const t = await this.tableOf(ks, index, ['unique']);
    const query = `INSERT INTO ${this.t(ks, t.name)} (key, rowid) VALUES (?, ?) IF NOT EXISTS`;
    const action = `claim keys in ${t.name}`;
    // The first entry of each key competes; later entries with the same key are judged against its
    // outcome, as if the entries were claimed one after the other.
    const firstOf = new Map<string, number>();
    const leaders: number[] = [];
    entries.forEach((e, i) => {
      if (!firstOf.has(e.key)) {
        firstOf.set(e.key, i);
        leaders.push(i);
      }
    });
    const owners = new Map<string, bigint>();
    const results = new Array<ClaimResult>(entries.length);
    await mapLimit(leaders, this.settings.maxInFlight, async (i) => {
      const e = entries[i]!;
      const rs = await this.lwt(ks, action, query, [e.key, e.rowid]);
      if (rs.wasApplied()) {
        results[i] = 'claimed';
        owners.set(e.key, e.rowid);
      } else {
        const owner = big(rs.first()?.get('rowid'));
        owners.set(e.key, owner);
        results[i] = owner === e.rowid ? 'own' : 'taken';
      }
    });
    entries.forEach((e, i) => {
      if (results[i] === undefined) results[i] = owners.get(e.key) === e.rowid ? 'own' : 'taken';
    });
    return results;
  }

  async releaseUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const t = await this.tableOf(ks, index, ['unique']);
    const query = `DELETE FROM ${this.t(ks, t.name)} WHERE key = ? IF rowid = ?`;
    const action = `release keys in ${t.name}`;
    await mapLimit(entries, this.settings.maxInFlight, (e) => this.lwt(ks, action, query, [e.key, e.rowid]));
  }

  async lookupIndex(ks: string, index: TableRef, keys: readonly string[]): Promise<Map<string, bigint[]>> {
    const t = await this.tableOf(ks, index, ['unique', 'non_unique']);
    const query = `SELECT key, rowid FROM ${this.t(ks, t.name)} WHERE key IN ?`;
    const action = `look up ${t.name}`;
    const unique = [...new Set(keys)].sort();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += IN_CHUNK_KEYS) chunks.push(unique.slice(i, i + IN_CHUNK_KEYS));
    const out = new Map<string, bigint[]>();
    const limit = Math.max(1, Math.floor(this.settings.maxInFlight / 4));
    const results = await mapLimit(chunks, limit, (chunk) => this.all(ks, action, query, [chunk]));
    for (const rows of results) {
      for (const r of rows) {
        const key = r.get('key') as string;
        const list = out.get(key);
        if (list) list.push(big(r.get('rowid')));
        else out.set(key, [big(r.get('rowid'))]);
      }
    }
    for (const list of out.values()) list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return out;
  }

  /**
   * Scans the whole table in token slices (as Capillaries' rerun cleanup does; no secondary index) and
   * deletes the rows of the batch that are not in `keep`.
   */
  async deleteBatchRows(
    ks: string,
    table: TableRef,
    batchIdx: number,
    keep: ReadonlySet<bigint>,
  ): Promise<number> {
    const t = await this.tableOf(ks, table, ['data']);
    const action = `delete rows of batch ${batchIdx} from ${t.name}`;
    const query = `SELECT rowid, batch_idx FROM ${this.t(ks, t.name)} WHERE token(rowid) >= ? AND token(rowid) <= ?`;
    const doomed: bigint[] = [];
    const slices = await mapLimit(splitTokenRange(SCAN_SPLITS), 4, (r) =>
      this.all(ks, action, query, [r.first, r.last]),
    );
    for (const rows of slices) {
      for (const r of rows) {
        const id = big(r.get('rowid'));
        if (num(r.get('batch_idx')) === batchIdx && !keep.has(id)) doomed.push(id);
      }
    }
    const del = `DELETE FROM ${this.t(ks, t.name)} WHERE rowid = ?`;
    await mapLimit(doomed, this.settings.maxInFlight, (id) =>
      this.exec(ks, action, del, [id], { isIdempotent: true }),
    );
    return doomed.length;
  }

  async countRows(ks: string, table: TableRef): Promise<number> {
    const t = await this.tableOf(ks, table, ['data', 'unique', 'non_unique']);
    const action = `count rows of ${t.name}`;
    const col = t.kind === 'data' ? 'rowid' : 'key';
    const query = `SELECT ${col} FROM ${this.t(ks, t.name)} WHERE token(${t.kind === 'data' ? 'rowid' : 'key'}) >= ? AND token(${t.kind === 'data' ? 'rowid' : 'key'}) <= ?`;
    const counts = await mapLimit(splitTokenRange(SCAN_SPLITS), 4, async (r) => {
      let n = 0;
      let pageState: string | undefined;
      do {
        const rs = await this.exec(ks, action, query, [r.first, r.last], {
          fetchSize: 5000,
          pageState,
          autoPage: false,
        });
        n += rs.rowLength;
        pageState = rs.pageState ?? undefined;
      } while (pageState);
      return n;
    });
    return counts.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.shutdown();
  }
}

/** The serialized partition key of a bigint column (8 bytes, big-endian), for replica lookup. */
function bigintKey(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return b;
}

function ttlSeconds(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`lease TTL must be positive, got ${ms} ms`);
  return Math.max(1, Math.ceil(ms / 1000));
}
