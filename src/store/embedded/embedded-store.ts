import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PlexusError, TransientError, UserInputError, errorMessage } from '../../errors/index.js';
import { DateTime, Decimal, type FieldType, type Value } from '../../values/index.js';
import { tokenOf } from '../token.js';
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
  type Store,
  type TableRef,
  type TableSpec,
  type TokenRange,
} from '../types.js';

/**
 * The Store on SQLite (better-sqlite3) for local runs and tests: one database file per keyspace
 * (`<stateDir>/<ks>.sqlite`, WAL mode), persistent across processes, so a second run in the same keyspace
 * continues from the first. Layout mirrors the Cassandra one: data tables `<name>_<run>` keyed by rowid
 * with an indexed token column for range scans, index tables `(key, rowid)`, and the wf_* history tables
 * with the columns of Capillaries' workflow tables. Values are stored losslessly: int as INTEGER, float as
 * REAL (NaN as NULL), decimal2 as plain decimal text, string as TEXT, bool as 0/1, datetime as UTC epoch ms.
 * SQLite calls are synchronous; every method runs to completion without yielding, transactions group writes.
 */

export interface EmbeddedStoreOptions {
  /** Directory holding one `<keyspace>.sqlite` file per keyspace; created if missing. */
  readonly stateDir: string;
  /**
   * `normal` (default): a commit survives a crash of the process (WAL); `full`: it also survives a power
   * loss (fsync on every commit).
   */
  readonly synchronous?: 'normal' | 'full';
  /** How long a writer waits for another process holding the write lock (default 30 s). */
  readonly busyTimeoutMs?: number;
}

interface TableInfo {
  readonly name: string;
  readonly kind: 'data' | 'unique' | 'non_unique';
  /** data tables: field name → [column, type] */
  readonly fields: ReadonlyMap<string, readonly [string, FieldType]>;
  readonly fieldOrder: readonly string[];
}

const KEYSPACE_RE = /^[A-Za-z0-9_]{1,48}$/;
const TABLE_RE = /^[A-Za-z0-9_]{1,64}$/;
const IN_CHUNK = 500;

export function validateKeyspaceName(ks: string): void {
  if (!KEYSPACE_RE.test(ks)) {
    throw new UserInputError(
      'KEYSPACE_NAME',
      `keyspace name ${JSON.stringify(ks)} is invalid: use 1 to 48 characters from A-Z, a-z, 0-9 and _`,
    );
  }
  if (/^system/i.test(ks)) {
    throw new UserInputError(
      'KEYSPACE_NAME',
      `keyspace name ${JSON.stringify(ks)} is invalid: it starts with 'system'`,
    );
  }
}

function q(identifier: string): string {
  return `"${identifier}"`;
}

const WF_SCHEMA = `
CREATE TABLE IF NOT EXISTS wf_run_counter (ks TEXT PRIMARY KEY, last_run INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS wf_run_properties (
  run_id INTEGER PRIMARY KEY, start_nodes TEXT NOT NULL, affected_nodes TEXT NOT NULL,
  script_url TEXT NOT NULL, script_params_url TEXT NOT NULL, run_description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wf_run_history (
  ts INTEGER NOT NULL, run_id INTEGER NOT NULL, status INTEGER NOT NULL, comment TEXT NOT NULL,
  PRIMARY KEY (run_id, status));
CREATE TABLE IF NOT EXISTS wf_node_history (
  ts INTEGER NOT NULL, run_id INTEGER NOT NULL, script_node TEXT NOT NULL, written_by_batch_idx INTEGER NOT NULL,
  status INTEGER NOT NULL, comment TEXT NOT NULL,
  PRIMARY KEY (run_id, script_node, written_by_batch_idx, status));
CREATE TABLE IF NOT EXISTS wf_batch_history (
  ts INTEGER NOT NULL, run_id INTEGER NOT NULL, script_node TEXT NOT NULL, batch_idx INTEGER NOT NULL,
  batches_total INTEGER NOT NULL, status INTEGER NOT NULL, first_token INTEGER NOT NULL, last_token INTEGER NOT NULL,
  instance TEXT NOT NULL, thread INTEGER NOT NULL, comment TEXT NOT NULL,
  PRIMARY KEY (run_id, script_node, batch_idx, status));
CREATE TABLE IF NOT EXISTS wf_plexus_claims (
  run_id INTEGER NOT NULL, script_node TEXT NOT NULL, purpose TEXT NOT NULL, ts INTEGER NOT NULL,
  PRIMARY KEY (run_id, script_node, purpose));
CREATE TABLE IF NOT EXISTS wf_plexus_tables (name TEXT PRIMARY KEY, kind TEXT NOT NULL, fields TEXT NOT NULL);
`;

type Row = Record<string, unknown>;

/** Page cache per open keyspace database, in KiB. */
const CACHE_KIB = 64 * 1024;

class KeyspaceDb {
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly tables = new Map<string, TableInfo>();

  constructor(
    readonly ks: string,
    file: string,
    create: boolean,
    options: EmbeddedStoreOptions,
  ) {
    this.db = new Database(file, { fileMustExist: !create });
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 30_000))}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Data tables are keyed by random row ids and tokens: with SQLite's default 2 MB page cache, writes
    // to a table of a million rows mostly miss the cache.
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.db.defaultSafeIntegers(true);
    if (create) this.db.exec(WF_SCHEMA);
  }

  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  table(name: string): TableInfo | undefined {
    let t = this.tables.get(name);
    if (!t) {
      const row = this.stmt('SELECT kind, fields FROM wf_plexus_tables WHERE name = ?').get(name) as
        { kind: TableInfo['kind']; fields: string } | undefined;
      if (!row) return undefined;
      const list = JSON.parse(row.fields) as [string, FieldType][];
      t = {
        name,
        kind: row.kind,
        fields: new Map(list.map(([f, ty], i) => [f, [`c${i}`, ty] as const])),
        fieldOrder: list.map(([f]) => f),
      };
      this.tables.set(name, t);
    }
    return t;
  }

  forget(name: string): void {
    this.tables.delete(name);
  }

  close(): void {
    this.stmts.clear();
    this.tables.clear();
    this.db.close();
  }
}

function toNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

export class EmbeddedStore implements Store {
  private readonly stateDir: string;
  private readonly options: EmbeddedStoreOptions;
  private readonly open = new Map<string, KeyspaceDb>();
  private lastTs = 0;
  private closed = false;

  constructor(options: EmbeddedStoreOptions) {
    this.options = options;
    this.stateDir = path.resolve(options.stateDir);
    fs.mkdirSync(this.stateDir, { recursive: true });
  }

  /** The database file of a keyspace. */
  fileOf(ks: string): string {
    validateKeyspaceName(ks);
    return path.join(this.stateDir, `${ks}.sqlite`);
  }

  /** Strictly increasing milliseconds within this store (history ordering by ts stays meaningful). */
  private now(): number {
    const t = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = t;
    return t;
  }

  private ksDb(ks: string, create = false): KeyspaceDb {
    if (this.closed) throw new PlexusError('STORE_CLOSED', 'the embedded store is closed');
    let k = this.open.get(ks);
    if (k) return k;
    const file = this.fileOf(ks);
    if (!create && !fs.existsSync(file)) {
      throw new UserInputError('KEYSPACE_NOT_FOUND', `keyspace ${ks} does not exist (no ${file})`);
    }
    try {
      k = new KeyspaceDb(ks, file, create, this.options);
    } catch (err) {
      throw this.dbError(ks, `open ${file}`, err);
    }
    this.open.set(ks, k);
    return k;
  }

  private dbError(ks: string, action: string, err: unknown): Error {
    if (err instanceof PlexusError) return err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new TransientError('STORE_BUSY', `keyspace ${ks}: ${action}: database is busy (${code})`, {
        cause: err,
      });
    }
    if (code.startsWith('SQLITE_FULL')) {
      return new TransientError('STORE_FULL', `keyspace ${ks}: ${action}: disk is full`, { cause: err });
    }
    return new PlexusError('STORE_ERROR', `keyspace ${ks}: ${action}: ${errorMessage(err)}`, { cause: err });
  }

  /** Runs fn against the keyspace, mapping SQLite errors to typed errors naming the keyspace and action. */
  private run<T>(ks: string, action: string, fn: (k: KeyspaceDb) => T, create = false): T {
    const k = this.ksDb(ks, create);
    try {
      return fn(k);
    } catch (err) {
      throw this.dbError(ks, action, err);
    }
  }

  private tableOf(k: KeyspaceDb, ref: TableRef, kinds: readonly TableInfo['kind'][]): TableInfo {
    const name = physicalTableName(ref);
    const t = k.table(name);
    if (!t) {
      throw new PlexusError('TABLE_NOT_FOUND', `table ${name} does not exist in keyspace ${k.ks}`);
    }
    if (!kinds.includes(t.kind)) {
      throw new PlexusError(
        'TABLE_KIND',
        `table ${name} in keyspace ${k.ks} is a ${t.kind} table, expected ${kinds.join(' or ')}`,
      );
    }
    return t;
  }

  // ---- keyspaces and workflow history ----

  async ensureKeyspace(ks: string): Promise<void> {
    this.run(ks, 'create keyspace', () => undefined, true);
  }

  async dropKeyspace(ks: string): Promise<void> {
    const file = this.fileOf(ks);
    const k = this.open.get(ks);
    if (k) {
      this.open.delete(ks);
      k.close();
    }
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  }

  async keyspaceExists(ks: string): Promise<boolean> {
    return fs.existsSync(this.fileOf(ks));
  }

  async nextRunId(ks: string): Promise<number> {
    return this.run(ks, 'allocate run id', (k) => {
      const tx = k.db.transaction(() => {
        k.stmt('INSERT OR IGNORE INTO wf_run_counter (ks, last_run) VALUES (?, 0)').run(ks);
        k.stmt('UPDATE wf_run_counter SET last_run = last_run + 1 WHERE ks = ?').run(ks);
        const row = k.stmt('SELECT last_run FROM wf_run_counter WHERE ks = ?').get(ks) as {
          last_run: bigint;
        };
        return Number(row.last_run);
      });
      return tx.immediate();
    });
  }

  async putRunProperties(ks: string, p: RunProperties): Promise<boolean> {
    return this.run(ks, `write properties of run ${p.runId}`, (k) => {
      const r = k
        .stmt(
          `INSERT OR IGNORE INTO wf_run_properties (run_id, start_nodes, affected_nodes, script_url, script_params_url, run_description)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(
          p.runId,
          p.startNodes.join(','),
          p.affectedNodes.join(','),
          p.scriptUrl,
          p.paramsUrl,
          p.description,
        );
      return r.changes === 1;
    });
  }

  async getRunProperties(ks: string): Promise<RunProperties[]> {
    return this.run(ks, 'read run properties', (k) =>
      (k.stmt('SELECT * FROM wf_run_properties ORDER BY run_id').all() as Row[]).map((r) => ({
        runId: toNumber(r.run_id),
        startNodes: splitList(r.start_nodes as string),
        affectedNodes: splitList(r.affected_nodes as string),
        scriptUrl: r.script_url as string,
        paramsUrl: r.script_params_url as string,
        description: r.run_description as string,
      })),
    );
  }

  async putRunStatus(ks: string, runId: number, status: RunStatus, comment: string): Promise<boolean> {
    return this.run(ks, `write status of run ${runId}`, (k) => {
      const r = k
        .stmt('INSERT OR IGNORE INTO wf_run_history (ts, run_id, status, comment) VALUES (?, ?, ?, ?)')
        .run(this.now(), runId, status, comment);
      return r.changes === 1;
    });
  }

  async getRunHistory(ks: string, runId?: number): Promise<RunHistoryEvent[]> {
    return this.run(ks, 'read run history', (k) => {
      const rows = (
        runId === undefined
          ? k.stmt('SELECT * FROM wf_run_history ORDER BY ts, run_id, status').all()
          : k.stmt('SELECT * FROM wf_run_history WHERE run_id = ? ORDER BY ts, status').all(runId)
      ) as Row[];
      return rows.map((r) => ({
        ts: new Date(toNumber(r.ts)),
        runId: toNumber(r.run_id),
        status: toNumber(r.status) as RunStatus,
        comment: r.comment as string,
      }));
    });
  }

  async putNodeStatus(ks: string, e: Omit<NodeHistoryEvent, 'ts'>): Promise<void> {
    this.run(ks, `write status of node ${e.node} in run ${e.runId}`, (k) => {
      k.stmt(
        `INSERT OR REPLACE INTO wf_node_history (ts, run_id, script_node, written_by_batch_idx, status, comment)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(this.now(), e.runId, e.node, e.writtenByBatchIdx, e.status, e.comment);
    });
  }

  async getNodeHistory(ks: string, runId?: number, node?: string): Promise<NodeHistoryEvent[]> {
    return this.run(ks, 'read node history', (k) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (runId !== undefined) {
        where.push('run_id = ?');
        args.push(runId);
      }
      if (node !== undefined) {
        where.push('script_node = ?');
        args.push(node);
      }
      const sql = `SELECT * FROM wf_node_history ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                   ORDER BY ts, run_id, script_node, written_by_batch_idx, status`;
      return (k.stmt(sql).all(...args) as Row[]).map((r) => ({
        ts: new Date(toNumber(r.ts)),
        runId: toNumber(r.run_id),
        node: r.script_node as string,
        writtenByBatchIdx: toNumber(r.written_by_batch_idx),
        status: toNumber(r.status) as NodeStatus,
        comment: r.comment as string,
      }));
    });
  }

  async putBatchStatus(ks: string, e: Omit<BatchHistoryEvent, 'ts'>): Promise<void> {
    this.run(ks, `write status of batch ${e.batchIdx} of node ${e.node} in run ${e.runId}`, (k) => {
      k.stmt(
        `INSERT OR REPLACE INTO wf_batch_history
           (ts, run_id, script_node, batch_idx, batches_total, status, first_token, last_token, instance, thread, comment)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        this.now(),
        e.runId,
        e.node,
        e.batchIdx,
        e.batchesTotal,
        e.status,
        e.firstToken,
        e.lastToken,
        e.instance,
        e.thread,
        e.comment,
      );
    });
  }

  async getBatchHistory(ks: string, runId: number, node?: string): Promise<BatchHistoryEvent[]> {
    return this.run(ks, 'read batch history', (k) => {
      const rows = (
        node === undefined
          ? k
              .stmt(
                'SELECT * FROM wf_batch_history WHERE run_id = ? ORDER BY ts, script_node, batch_idx, status',
              )
              .all(runId)
          : k
              .stmt(
                'SELECT * FROM wf_batch_history WHERE run_id = ? AND script_node = ? ORDER BY ts, batch_idx, status',
              )
              .all(runId, node)
      ) as Row[];
      return rows.map((r) => ({
        ts: new Date(toNumber(r.ts)),
        runId: toNumber(r.run_id),
        node: r.script_node as string,
        batchIdx: toNumber(r.batch_idx),
        batchesTotal: toNumber(r.batches_total),
        status: toNumber(r.status) as NodeStatus,
        firstToken: BigInt(r.first_token as bigint),
        lastToken: BigInt(r.last_token as bigint),
        instance: r.instance as string,
        thread: toNumber(r.thread),
        comment: r.comment as string,
      }));
    });
  }

  async claimOnce(ks: string, runId: number, node: string, purpose: string): Promise<boolean> {
    return this.run(ks, `claim ${purpose} of node ${node} in run ${runId}`, (k) => {
      const r = k
        .stmt('INSERT OR IGNORE INTO wf_plexus_claims (run_id, script_node, purpose, ts) VALUES (?, ?, ?, ?)')
        .run(runId, node, purpose, this.now());
      return r.changes === 1;
    });
  }

  // ---- data and index tables ----

  async createTables(ks: string, runId: number, tables: readonly TableSpec[]): Promise<void> {
    this.run(ks, `create tables of run ${runId}`, (k) => {
      const tx = k.db.transaction(() => {
        for (const spec of tables) {
          const name = physicalTableName({ name: spec.name, runId });
          if (!TABLE_RE.test(spec.name)) {
            throw new UserInputError(
              'TABLE_NAME',
              `table name ${JSON.stringify(spec.name)} is invalid: use A-Z, a-z, 0-9 and _`,
            );
          }
          const fieldList: [string, FieldType][] = spec.kind === 'data' ? Object.entries(spec.fields) : [];
          const fieldsJson = JSON.stringify(fieldList);
          const existing = k.stmt('SELECT kind, fields FROM wf_plexus_tables WHERE name = ?').get(name) as
            { kind: string; fields: string } | undefined;
          if (existing) {
            if (existing.kind !== spec.kind || existing.fields !== fieldsJson) {
              throw new PlexusError(
                'TABLE_MISMATCH',
                `table ${name} already exists in keyspace ${ks} with a different definition (${existing.kind} ${existing.fields})`,
              );
            }
            continue;
          }
          if (spec.kind === 'data') {
            const cols = fieldList.map((_, i) => `, c${i}`).join('');
            k.db.exec(
              // Clustered by (token, rowid): scans read token ranges in order, a row is found by its id
              // through the token computed from it, and a write touches one B-tree (row ids are random, so
              // every secondary index would be one more random write per row). Finding a batch's rows for
              // a rerun scans the table, as Cassandra does.
              `CREATE TABLE ${q(name)} (rowid INTEGER NOT NULL, token INTEGER NOT NULL, batch_idx INTEGER NOT NULL${cols},
                 PRIMARY KEY (token, rowid)) WITHOUT ROWID;`,
            );
          } else if (spec.kind === 'unique') {
            k.db.exec(
              `CREATE TABLE ${q(name)} (key TEXT PRIMARY KEY NOT NULL, rowid INTEGER NOT NULL) WITHOUT ROWID;`,
            );
          } else {
            k.db.exec(
              `CREATE TABLE ${q(name)} (key TEXT NOT NULL, rowid INTEGER NOT NULL, PRIMARY KEY (key, rowid)) WITHOUT ROWID;`,
            );
          }
          k.stmt('INSERT INTO wf_plexus_tables (name, kind, fields) VALUES (?, ?, ?)').run(
            name,
            spec.kind,
            fieldsJson,
          );
          k.forget(name);
        }
      });
      tx.immediate();
    });
  }

  async writeRows(ks: string, table: TableRef, rows: readonly DataRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.run(ks, `write rows to ${physicalTableName(table)}`, (k) => {
      const t = this.tableOf(k, table, ['data']);
      const cols = t.fieldOrder.map((f) => t.fields.get(f)?.[0] ?? '');
      const stmt = k.stmt(
        `INSERT OR REPLACE INTO ${q(t.name)} (rowid, token, batch_idx${cols.map((c) => ', ' + c).join('')})
         VALUES (?, ?, ?${cols.map(() => ', ?').join('')})`,
      );
      const tx = k.db.transaction(() => {
        const args: unknown[] = new Array(3 + cols.length);
        for (const row of rows) {
          args[0] = row.rowid;
          args[1] = tokenOf(row.rowid);
          args[2] = row.batchIdx;
          const vals = row.values;
          let n = 0;
          for (let i = 0; i < t.fieldOrder.length; i++) {
            const f = t.fieldOrder[i] ?? '';
            const v = vals[f];
            if (v === undefined) {
              throw new PlexusError(
                'ROW_FIELD_MISSING',
                `row ${row.rowid} for ${t.name} has no value for field ${f}`,
              );
            }
            n++;
            args[3 + i] = encodeValue(v, t.fields.get(f)?.[1] ?? 'string', t.name, f);
          }
          if (n !== Object.keys(vals).length) {
            const extra = Object.keys(vals).filter((f) => !t.fields.has(f));
            throw new PlexusError(
              'ROW_FIELD_UNKNOWN',
              `row ${row.rowid} for ${t.name} has unknown fields: ${extra.join(', ')}`,
            );
          }
          stmt.run(args);
        }
      });
      tx.immediate();
    });
  }

  async *scanRange(
    ks: string,
    table: TableRef,
    range: TokenRange,
    fields: readonly string[],
    pageSize: number,
  ): AsyncGenerator<DataRow[], void, undefined> {
    if (!Number.isInteger(pageSize) || pageSize < 1)
      throw new RangeError(`page size must be a positive integer, got ${pageSize}`);
    const name = physicalTableName(table);
    const { t, sel } = this.run(ks, `scan ${name}`, (k) => {
      const t = this.tableOf(k, table, ['data']);
      return { t, sel: selectList(t, fields) };
    });
    let last: { token: bigint; rowid: bigint } | undefined;
    for (;;) {
      const page = this.run(ks, `scan ${name}`, (k) => {
        const rows = (
          last === undefined
            ? k
                .stmt(
                  `SELECT rowid, token, batch_idx${sel} FROM ${q(t.name)} WHERE token >= ? AND token <= ? ORDER BY token, rowid LIMIT ?`,
                )
                .all(range.first, range.last, pageSize)
            : k
                .stmt(
                  `SELECT rowid, token, batch_idx${sel} FROM ${q(t.name)} WHERE (token, rowid) > (?, ?) AND token <= ? ORDER BY token, rowid LIMIT ?`,
                )
                .all(last.token, last.rowid, range.last, pageSize)
        ) as Row[];
        const lastRow = rows[rows.length - 1];
        if (lastRow) last = { token: lastRow.token as bigint, rowid: lastRow.rowid as bigint };
        return rows.map((r) => decodeRow(r, t, fields));
      });
      if (page.length === 0) return;
      yield page;
      if (page.length < pageSize) return;
    }
  }

  async getRows(
    ks: string,
    table: TableRef,
    rowids: readonly bigint[],
    fields: readonly string[],
  ): Promise<DataRow[]> {
    return this.run(ks, `read rows of ${physicalTableName(table)}`, (k) => {
      const t = this.tableOf(k, table, ['data']);
      const sel = selectList(t, fields);
      const found = new Map<bigint, DataRow>();
      const wanted = new Set(rowids);
      for (let i = 0; i < rowids.length; i += IN_CHUNK) {
        const tokens = rowids.slice(i, i + IN_CHUNK).map(tokenOf);
        // seeks by token (the key's first column); two ids may share a token, so the ids are checked here
        const rows = k
          .stmt(
            `SELECT rowid, token, batch_idx${sel} FROM ${q(t.name)} WHERE token IN (${tokens.map(() => '?').join(',')})`,
          )
          .all(...tokens) as Row[];
        for (const r of rows) {
          if (wanted.has(r.rowid as bigint)) found.set(r.rowid as bigint, decodeRow(r, t, fields));
        }
      }
      const out: DataRow[] = [];
      for (const id of rowids) {
        const r = found.get(id);
        if (r) out.push(r);
      }
      return out;
    });
  }

  async putIndexEntries(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.run(ks, `write index ${physicalTableName(index)}`, (k) => {
      const t = this.tableOf(k, index, ['non_unique']);
      const stmt = k.stmt(`INSERT OR IGNORE INTO ${q(t.name)} (key, rowid) VALUES (?, ?)`);
      k.db
        .transaction(() => {
          for (const e of entries) stmt.run(e.key, e.rowid);
        })
        .immediate();
    });
  }

  async claimUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<ClaimResult[]> {
    if (entries.length === 0) return [];
    return this.run(ks, `claim keys in ${physicalTableName(index)}`, (k) => {
      const t = this.tableOf(k, index, ['unique']);
      const ins = k.stmt(`INSERT OR IGNORE INTO ${q(t.name)} (key, rowid) VALUES (?, ?)`);
      const get = k.stmt(`SELECT rowid FROM ${q(t.name)} WHERE key = ?`);
      return k.db
        .transaction(() =>
          entries.map((e): ClaimResult => {
            if (ins.run(e.key, e.rowid).changes === 1) return 'claimed';
            const owner = (get.get(e.key) as { rowid: bigint } | undefined)?.rowid;
            return owner === e.rowid ? 'own' : 'taken';
          }),
        )
        .immediate();
    });
  }

  async releaseUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.run(ks, `release keys in ${physicalTableName(index)}`, (k) => {
      const t = this.tableOf(k, index, ['unique']);
      const del = k.stmt(`DELETE FROM ${q(t.name)} WHERE key = ? AND rowid = ?`);
      k.db
        .transaction(() => {
          for (const e of entries) del.run(e.key, e.rowid);
        })
        .immediate();
    });
  }

  async lookupIndex(ks: string, index: TableRef, keys: readonly string[]): Promise<Map<string, bigint[]>> {
    return this.run(ks, `look up ${physicalTableName(index)}`, (k) => {
      const t = this.tableOf(k, index, ['unique', 'non_unique']);
      const out = new Map<string, bigint[]>();
      const unique = [...new Set(keys)];
      for (let i = 0; i < unique.length; i += IN_CHUNK) {
        const chunk = unique.slice(i, i + IN_CHUNK);
        const rows = k
          .stmt(
            `SELECT key, rowid FROM ${q(t.name)} WHERE key IN (${chunk.map(() => '?').join(',')}) ORDER BY key, rowid`,
          )
          .all(...chunk) as { key: string; rowid: bigint }[];
        for (const r of rows) {
          const list = out.get(r.key);
          if (list) list.push(r.rowid);
          else out.set(r.key, [r.rowid]);
        }
      }
      return out;
    });
  }

  async deleteBatchRows(
    ks: string,
    table: TableRef,
    batchIdx: number,
    keep: ReadonlySet<bigint>,
  ): Promise<number> {
    return this.run(ks, `delete rows of batch ${batchIdx} from ${physicalTableName(table)}`, (k) => {
      const t = this.tableOf(k, table, ['data']);
      const ids = k.stmt(`SELECT rowid FROM ${q(t.name)} WHERE batch_idx = ?`).all(batchIdx) as {
        rowid: bigint;
      }[];
      const del = k.stmt(`DELETE FROM ${q(t.name)} WHERE token = ? AND rowid = ?`);
      return k.db
        .transaction(() => {
          let n = 0;
          for (const { rowid } of ids) {
            if (!keep.has(rowid)) n += del.run(tokenOf(rowid), rowid).changes;
          }
          return n;
        })
        .immediate();
    });
  }

  async countRows(ks: string, table: TableRef): Promise<number> {
    return this.run(ks, `count rows of ${physicalTableName(table)}`, (k) => {
      const t = this.tableOf(k, table, ['data', 'unique', 'non_unique']);
      return Number((k.stmt(`SELECT COUNT(*) AS n FROM ${q(t.name)}`).get() as { n: bigint }).n);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const k of this.open.values()) k.close();
    this.open.clear();
  }
}

function splitList(s: string): string[] {
  return s === '' ? [] : s.split(',');
}

function selectList(t: TableInfo, fields: readonly string[]): string {
  let sel = '';
  for (const f of fields) {
    const col = t.fields.get(f);
    if (!col) throw new PlexusError('FIELD_NOT_FOUND', `table ${t.name} has no field ${f}`);
    sel += `, ${col[0]}`;
  }
  return sel;
}

function decodeRow(r: Row, t: TableInfo, fields: readonly string[]): DataRow {
  const values: Record<string, Value> = {};
  for (const f of fields) {
    const [col, type] = t.fields.get(f) ?? ['', 'string'];
    values[f] = decodeValue(r[col], type, t.name, f);
  }
  return { rowid: r.rowid as bigint, batchIdx: Number(r.batch_idx as bigint), values };
}

function typeError(table: string, field: string, type: FieldType, v: unknown): PlexusError {
  const shown = typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : typeof v;
  return new PlexusError(
    'ROW_VALUE_TYPE',
    `field ${field} of ${table} is ${type} but the value is a ${shown}`,
  );
}

function encodeValue(v: Value, type: FieldType, table: string, field: string): unknown {
  switch (type) {
    case 'int':
      if (typeof v !== 'bigint') throw typeError(table, field, type, v);
      return v;
    case 'float':
      if (typeof v !== 'number') throw typeError(table, field, type, v);
      return v; // NaN is stored as NULL by SQLite and read back as NaN
    case 'decimal2':
      if (!(v instanceof Decimal)) throw typeError(table, field, type, v);
      return v.toFixed();
    case 'string':
      if (typeof v !== 'string') throw typeError(table, field, type, v);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(table, field, type, v);
      return v ? 1n : 0n;
    case 'datetime':
      if (!(v instanceof DateTime)) throw typeError(table, field, type, v);
      return BigInt(Math.trunc(v.epochMs));
  }
}

function decodeValue(raw: unknown, type: FieldType, table: string, field: string): Value {
  switch (type) {
    case 'int':
      if (typeof raw === 'bigint') return raw;
      break;
    case 'float':
      if (raw === null) return NaN;
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'bigint') return Number(raw);
      break;
    case 'decimal2':
      if (typeof raw === 'string') return new Decimal(raw);
      break;
    case 'string':
      if (typeof raw === 'string') return raw;
      break;
    case 'bool':
      if (typeof raw === 'bigint') return raw !== 0n;
      break;
    case 'datetime':
      if (typeof raw === 'bigint') return new DateTime(Number(raw));
      break;
  }
  throw new PlexusError(
    'STORE_CORRUPT',
    `field ${field} of ${table} holds ${String(raw)} which is not a stored ${type}`,
  );
}
