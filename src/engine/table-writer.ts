import { buildKey } from '../expr/index.js';
import type { TableCreatorDef } from '../script/index.js';
import { rowidGenerator, type DataRow, type IndexEntry, type Store, type TableRef } from '../store/index.js';
import { Decimal, decimal2ThroughFloat, type Value } from '../values/index.js';
import { BatchError } from './errors.js';
import type { Row } from './types.js';

// Rows per store write: the embedded store spends much of its time per transaction (20k rows per write
// are about 3x faster per row than 1k), memory stays bounded by this chunk.
const CHUNK = 10_000;

interface PendingRow {
  readonly row: DataRow;
  /** Unique-index keys by index name (for distinct: the claim decides whether the row is written). */
  readonly uniqueKeys: readonly string[];
  readonly nonUniqueKeys: readonly string[];
}

/**
 * Writes the rows of one batch into a node's table and its indexes, in chunks.
 *
 * Row ids are deterministic (`rowidFor(run, node, batch, seq)`), so a re-processed batch overwrites its
 * own rows; unique-index claims by the same row id come back as 'own'. In `distinct` mode the unique
 * claim is made first and a row whose key another row holds is skipped (distinct_table); otherwise a
 * taken unique key fails the batch.
 */
export class TableWriter {
  private seq = 0;
  private pending: PendingRow[] = [];
  private written = 0;
  private readonly keep = new Set<bigint>();
  private readonly table: TableRef;
  private readonly uniqueIdx: {
    name: string;
    ref: TableRef;
    def: TableCreatorDef['indexes'][number]['def'];
  }[];
  private readonly nonUniqueIdx: {
    name: string;
    ref: TableRef;
    def: TableCreatorDef['indexes'][number]['def'];
  }[];
  private readonly decimalFields: readonly string[];
  private readonly rowid: (seq: number) => bigint;

  constructor(
    private readonly store: Store,
    private readonly ks: string,
    runId: number,
    nodeName: string,
    private readonly batchIdx: number,
    private readonly creator: TableCreatorDef,
    private readonly mode: 'normal' | 'distinct',
  ) {
    this.table = { name: creator.name, runId };
    const idx = creator.indexes.map((i) => ({ name: i.name, ref: { name: i.name, runId }, def: i.def }));
    this.uniqueIdx = idx.filter((i) => i.def.unique);
    this.nonUniqueIdx = idx.filter((i) => !i.def.unique);
    this.rowid = rowidGenerator(runId, nodeName, batchIdx);
    this.decimalFields = creator.fields.filter((f) => f.type === 'decimal2').map((f) => f.name);
  }

  /** Rows written so far (distinct: rows whose claim succeeded). */
  get rowsWritten(): number {
    return this.written;
  }

  /** Rows written or waiting in the current chunk (for progress reports). */
  get rowsAdded(): number {
    return this.written + this.pending.length;
  }

  async add(values: Row): Promise<void> {
    const rowid = this.rowid(this.seq);
    this.seq++;
    const stored: Record<string, Value> = { ...values };
    for (const f of this.decimalFields) {
      const v = stored[f];
      if (v instanceof Decimal) stored[f] = decimal2ThroughFloat(v);
    }
    const keyOf = (def: TableCreatorDef['indexes'][number]['def']): string =>
      buildKey(
        def,
        def.components.map((c) => {
          const v = stored[c.field];
          if (v === undefined) throw new BatchError(`index field ${c.field} is missing from the row`);
          return v;
        }),
      );
    this.pending.push({
      row: { rowid, batchIdx: this.batchIdx, values: stored },
      uniqueKeys: this.uniqueIdx.map((i) => keyOf(i.def)),
      nonUniqueKeys: this.nonUniqueIdx.map((i) => keyOf(i.def)),
    });
    if (this.pending.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const chunk = this.pending;
    if (chunk.length === 0) return;
    this.pending = [];
    let rows = chunk;
    if (this.mode === 'distinct') {
      rows = await this.claimDistinct(chunk);
      await this.store.writeRows(
        this.ks,
        this.table,
        rows.map((p) => p.row),
      );
    } else {
      await this.store.writeRows(
        this.ks,
        this.table,
        rows.map((p) => p.row),
      );
      for (let i = 0; i < this.uniqueIdx.length; i++) {
        const idx = this.uniqueIdx[i]!;
        const entries: IndexEntry[] = rows.map((p) => ({ key: p.uniqueKeys[i]!, rowid: p.row.rowid }));
        const results = await this.store.claimUnique(this.ks, idx.ref, entries);
        results.forEach((r, j) => {
          if (r === 'taken') {
            const p = rows[j]!;
            throw new BatchError(
              `duplicate key in unique index ${idx.name} of table ${this.creator.name}: ` +
                `${describeKey(
                  idx.def.components.map((c) => c.field),
                  p.row.values,
                )} is already used by another row`,
            );
          }
        });
      }
    }
    for (let i = 0; i < this.nonUniqueIdx.length; i++) {
      const idx = this.nonUniqueIdx[i]!;
      await this.store.putIndexEntries(
        this.ks,
        idx.ref,
        rows.map((p) => ({ key: p.nonUniqueKeys[i]!, rowid: p.row.rowid })),
      );
    }
    for (const p of rows) this.keep.add(p.row.rowid);
    this.written += rows.length;
  }

  /** distinct_table: claim the unique key first; rows whose key is held by another row are skipped. */
  private async claimDistinct(chunk: PendingRow[]): Promise<PendingRow[]> {
    // Repeated keys inside the chunk: only the first one competes for the claim.
    const seen = new Set<string>();
    const candidates: PendingRow[] = [];
    for (const p of chunk) {
      const k = p.uniqueKeys[0]!;
      if (seen.has(k)) continue;
      seen.add(k);
      candidates.push(p);
    }
    const idx = this.uniqueIdx[0]!;
    const results = await this.store.claimUnique(
      this.ks,
      idx.ref,
      candidates.map((p) => ({ key: p.uniqueKeys[0]!, rowid: p.row.rowid })),
    );
    return candidates.filter((_, i) => results[i] !== 'taken');
  }

  /**
   * Flushes what is left; after a re-run, removes rows an earlier attempt of this batch wrote that this
   * attempt did not rewrite. Returns the number of rows written.
   */
  async finish(rerun: boolean): Promise<number> {
    await this.flush();
    if (rerun) await this.store.deleteBatchRows(this.ks, this.table, this.batchIdx, this.keep);
    return this.written;
  }
}

function describeKey(fields: readonly string[], values: Readonly<Record<string, Value>>): string {
  return fields.map((f) => `${f}=${JSON.stringify(String(values[f]))}`).join(', ');
}
