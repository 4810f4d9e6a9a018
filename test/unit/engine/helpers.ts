import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processBatch, type BatchResult } from '../../../src/engine/index.js';
import { batchesOf, createEngineIo, tableSpecsOf } from '../../../src/runtime/index.js';
import { loadScript, type Script } from '../../../src/script/index.js';
import { EmbeddedStore, RunStatus, type DataRow } from '../../../src/store/index.js';
import type { Value } from '../../../src/values/index.js';

export const POLICY = {
  is_default: true,
  event_priority_order: 'run_is_current(desc), run_id(desc)',
  rules: [
    {
      cmd: 'go',
      expression:
        'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchSuccess',
    },
    {
      cmd: 'wait',
      expression:
        'nrs.run_is_current == true && (nrs.run_status == wfmodel.RunStart || nrs.run_status == wfmodel.RunNone) && (nrs.node_status == wfmodel.NodeBatchNone || nrs.node_status == wfmodel.NodeBatchStart)',
    },
    {
      cmd: 'nogo',
      expression:
        'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchFail',
    },
    {
      cmd: 'go',
      expression:
        'nrs.run_is_current == false && nrs.run_status == wfmodel.RunComplete && nrs.node_status == wfmodel.NodeBatchSuccess',
    },
    {
      cmd: 'nogo',
      expression: 'nrs.run_is_current == false && nrs.run_status == wfmodel.RunStop',
    },
  ],
};

/** A temporary directory with files, a script loaded from it and an embedded store. */
export class Sandbox {
  readonly dir: string;
  readonly store: EmbeddedStore;
  readonly io = createEngineIo();
  readonly ks = 'test_ks';
  script!: Script;
  runId = 1;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-engine-'));
    this.store = new EmbeddedStore({ stateDir: path.join(this.dir, 'state') });
  }

  file(name: string, text: string): string {
    const p = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  }

  read(name: string): string {
    return fs.readFileSync(path.join(this.dir, name), 'utf8');
  }

  async load(nodes: Record<string, unknown>, params: Record<string, unknown> = {}): Promise<Script> {
    const scriptFile = this.file(
      'script.json',
      JSON.stringify({ nodes, dependency_policies: { p: POLICY } }),
    );
    const paramsFile = this.file('params.json', JSON.stringify({ dir: this.dir, ...params }));
    this.script = await loadScript({
      scriptUrl: scriptFile,
      paramsUrl: paramsFile,
      readText: (u) => this.io.readText(u),
    });
    await this.store.ensureKeyspace(this.ks);
    await this.store.putRunStatus(this.ks, this.runId, RunStatus.Start, '');
    const specs = [...this.script.nodes.values()].flatMap((n) => tableSpecsOf(this.script, n));
    await this.store.createTables(this.ks, this.runId, specs);
    return this.script;
  }

  /** Processes every batch of a node (in order) and returns the results. */
  async run(node: string, opts: { rerun?: boolean; only?: number } = {}): Promise<BatchResult[]> {
    const n = this.script.nodes.get(node);
    if (!n) throw new Error(`no node ${node}`);
    const out: BatchResult[] = [];
    const batches = batchesOf(n);
    for (const b of batches) {
      if (opts.only !== undefined && b.batchIdx !== opts.only) continue;
      out.push(
        await processBatch({
          store: this.store,
          ks: this.ks,
          script: this.script,
          node: n,
          batch: {
            runId: this.runId,
            batchIdx: b.batchIdx,
            batchesTotal: batches.length,
            firstToken: b.first,
            lastToken: b.last,
          },
          io: this.io,
          rerun: opts.rerun,
        }),
      );
    }
    return out;
  }

  /** All rows of a table, as plain objects sorted by the given field. */
  async rows(table: string, sortBy?: string): Promise<Record<string, Value>[]> {
    const fields = Object.keys(this.script.tableFields(table));
    const rows: DataRow[] = [];
    for await (const page of this.store.scanRange(
      this.ks,
      { name: table, runId: this.runId },
      { first: -(1n << 63n), last: (1n << 63n) - 1n },
      fields,
      1000,
    )) {
      rows.push(...page);
    }
    const plain = rows.map((r) => ({ ...r.values }));
    if (sortBy) plain.sort((a, b) => String(a[sortBy]).localeCompare(String(b[sortBy])));
    return plain;
  }

  async close(): Promise<void> {
    await this.store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Plain text of values for compact assertions. */
export function show(rows: readonly Record<string, Value>[]): string[] {
  return rows.map((r) =>
    Object.entries(r)
      .map(
        ([k, v]) =>
          `${k}=${v instanceof Object && 'epochMs' in v ? new Date(v.epochMs).toISOString() : String(v)}`,
      )
      .join(' '),
  );
}
