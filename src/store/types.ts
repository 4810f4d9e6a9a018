import type { FieldType, Value } from '../values/index.js';

/**
 * The storage contract shared by the embedded store (local runs, one process) and the Cassandra store
 * (distributed runs). One keyspace per run set. The layout follows Capillaries: data and index tables
 * are suffixed with the run id (`orders_00001`), workflow history lives in wf_* tables.
 *
 * Idempotence: row ids are chosen by the caller, deterministically from (run, node, batch, row
 * sequence), so a re-processed batch overwrites its own rows with plain writes, and a unique-index
 * claim by the same row id is recognised as its own (`'own'`).
 */

/** Status codes of runs (wf_run_history.status). */
export const RunStatus = { None: 0, Start: 1, Complete: 2, Stop: 3 } as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Status codes of nodes and batches (wf_node_history / wf_batch_history .status). */
export const NodeStatus = { None: 0, Start: 1, Success: 2, Fail: 3, StopReceived: 104 } as const;
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

/** A table of one run: physical name is `${name}_${runId as %05d}`. */
export interface TableRef {
  readonly name: string;
  readonly runId: number;
}

export function physicalTableName(t: TableRef): string {
  return `${t.name}_${String(t.runId).padStart(5, '0')}`;
}

export type TableSpec =
  | { readonly kind: 'data'; readonly name: string; readonly fields: Readonly<Record<string, FieldType>> }
  | { readonly kind: 'unique' | 'non_unique'; readonly name: string };

export interface DataRow {
  readonly rowid: bigint;
  readonly batchIdx: number;
  readonly values: Readonly<Record<string, Value>>;
}

export interface IndexEntry {
  readonly key: string;
  readonly rowid: bigint;
}

/** 'claimed': this call took the key; 'own': the key already points at the same row id; 'taken': another row has it. */
export type ClaimResult = 'claimed' | 'own' | 'taken';

/** Inclusive token range over token(rowid), Cassandra Murmur3 semantics (signed 64-bit). */
export interface TokenRange {
  readonly first: bigint;
  readonly last: bigint;
}

export interface RunProperties {
  readonly runId: number;
  readonly startNodes: readonly string[];
  readonly affectedNodes: readonly string[];
  readonly scriptUrl: string;
  readonly paramsUrl: string;
  readonly description: string;
}

export interface RunHistoryEvent {
  readonly ts: Date;
  readonly runId: number;
  readonly status: RunStatus;
  readonly comment: string;
}

export interface NodeHistoryEvent {
  readonly ts: Date;
  readonly runId: number;
  readonly node: string;
  readonly writtenByBatchIdx: number;
  readonly status: NodeStatus;
  readonly comment: string;
}

export interface BatchHistoryEvent {
  readonly ts: Date;
  readonly runId: number;
  readonly node: string;
  readonly batchIdx: number;
  readonly batchesTotal: number;
  readonly status: NodeStatus;
  readonly firstToken: bigint;
  readonly lastToken: bigint;
  readonly instance: string;
  readonly thread: number;
  readonly comment: string;
}

export interface Store {
  // ---- keyspaces and workflow history ----
  /** Creates the keyspace and its wf_* tables if missing. */
  ensureKeyspace(ks: string): Promise<void>;
  /** Drops the keyspace with all its tables; no error when it does not exist. */
  dropKeyspace(ks: string): Promise<void>;
  keyspaceExists(ks: string): Promise<boolean>;
  /** Allocates the next run id of the keyspace (1, 2, ...), safe under concurrent callers. */
  nextRunId(ks: string): Promise<number>;
  /** Insert-if-not-exists; returns false when properties for that run id already exist. */
  putRunProperties(ks: string, props: RunProperties): Promise<boolean>;
  getRunProperties(ks: string): Promise<RunProperties[]>;
  /** Insert-if-not-exists on (runId, status); returns whether this call wrote it. */
  putRunStatus(ks: string, runId: number, status: RunStatus, comment: string): Promise<boolean>;
  getRunHistory(ks: string, runId?: number): Promise<RunHistoryEvent[]>;
  putNodeStatus(ks: string, e: Omit<NodeHistoryEvent, 'ts'>): Promise<void>;
  getNodeHistory(ks: string, runId?: number, node?: string): Promise<NodeHistoryEvent[]>;
  putBatchStatus(ks: string, e: Omit<BatchHistoryEvent, 'ts'>): Promise<void>;
  getBatchHistory(ks: string, runId: number, node?: string): Promise<BatchHistoryEvent[]>;
  /**
   * Exactly-once guard for scheduling: the first caller for (runId, node, purpose) gets true, every
   * later caller false (Cassandra: LWT insert).
   */
  claimOnce(ks: string, runId: number, node: string, purpose: string): Promise<boolean>;

  // ---- data and index tables ----
  /** Creates data and index tables of one run if missing. */
  createTables(ks: string, runId: number, tables: readonly TableSpec[]): Promise<void>;
  /** Upserts rows by row id; resolves when the writes are durable. */
  writeRows(ks: string, table: TableRef, rows: readonly DataRow[]): Promise<void>;
  /** Pages of rows whose token(rowid) lies in the range, each page at most pageSize rows, ordered by token. */
  scanRange(
    ks: string,
    table: TableRef,
    range: TokenRange,
    fields: readonly string[],
    pageSize: number,
  ): AsyncIterable<DataRow[]>;
  /** Rows by id (missing ids are skipped). */
  getRows(
    ks: string,
    table: TableRef,
    rowids: readonly bigint[],
    fields: readonly string[],
  ): Promise<DataRow[]>;
  /** Non-unique index entries (upsert of (key, rowid)). */
  putIndexEntries(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void>;
  /** Unique-index claims, one result per entry, in order. */
  claimUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<ClaimResult[]>;
  /** Removes unique-index entries that point at the given row ids (undo of a claim). */
  releaseUnique(ks: string, index: TableRef, entries: readonly IndexEntry[]): Promise<void>;
  /** key → row ids for the keys present (unique and non-unique indexes alike). */
  lookupIndex(ks: string, index: TableRef, keys: readonly string[]): Promise<Map<string, bigint[]>>;
  /** Deletes the data rows a batch wrote except the given row ids (cleanup when a re-run wrote fewer rows). */
  deleteBatchRows(ks: string, table: TableRef, batchIdx: number, keep: ReadonlySet<bigint>): Promise<number>;
  /** Row count of a table (tests and status). */
  countRows(ks: string, table: TableRef): Promise<number>;

  close(): Promise<void>;
}
