import type { RunEvent } from '../runtime/index.js';
import { statusName } from '../runtime/index.js';
import { NodeStatus } from '../store/index.js';

interface NodeLine {
  node: string;
  batchesTotal: number;
  done: number;
  rowsIn: number;
  rowsOut: number;
  /** rows of batches in flight, by batch index */
  live: Map<number, { rowsIn: number; rowsOut: number }>;
  status: NodeStatus;
}

/**
 * Run progress for a person: on a terminal a live table (per node: batches done/total, rows in/out),
 * redrawn in place; otherwise one plain line per finished batch and node.
 */
export class ProgressView {
  private readonly lines = new Map<string, NodeLine>();
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {}

  start(nodes: readonly string[]): void {
    for (const n of nodes) {
      this.lines.set(n, {
        node: n,
        batchesTotal: 0,
        done: 0,
        rowsIn: 0,
        rowsOut: 0,
        live: new Map(),
        status: NodeStatus.None,
      });
    }
    if (this.live) {
      this.timer = setInterval(() => this.draw(), 200);
      this.timer.unref();
    }
  }

  on(e: RunEvent): void {
    if (e.kind === 'run-end') return;
    const l = this.lines.get(e.node);
    if (!l) return;
    switch (e.kind) {
      case 'batch-start':
        l.batchesTotal = e.batchesTotal;
        if (l.status === NodeStatus.None) l.status = NodeStatus.Start;
        break;
      case 'batch-progress':
        l.live.set(e.batchIdx, { rowsIn: e.rowsIn, rowsOut: e.rowsOut });
        break;
      case 'batch-end': {
        l.batchesTotal = e.batchesTotal;
        l.live.delete(e.batchIdx);
        l.done++;
        if (e.result) {
          l.rowsIn += e.result.rowsIn;
          l.rowsOut += e.result.rowsOut;
        }
        if (!this.live) {
          const what =
            e.status === NodeStatus.Success
              ? `rows in ${e.result?.rowsIn ?? 0}, out ${e.result?.rowsOut ?? 0}`
              : `${statusName(e.status)}: ${e.error ?? ''}`;
          this.out.write(`${e.node}: batch ${e.batchIdx + 1}/${e.batchesTotal} ${what}\n`);
        }
        break;
      }
      case 'node-end':
        l.status = e.status;
        if (!this.live) this.out.write(`${e.node}: ${statusName(e.status)}\n`);
        break;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.draw();
  }

  private draw(): void {
    const width = Math.max(4, ...[...this.lines.keys()].map((k) => k.length));
    const rows = [...this.lines.values()].map((l) => {
      let rin = l.rowsIn;
      let rout = l.rowsOut;
      for (const b of l.live.values()) {
        rin += b.rowsIn;
        rout += b.rowsOut;
      }
      const batches = l.batchesTotal > 0 ? `${l.done}/${l.batchesTotal}` : '-';
      const state =
        l.status === NodeStatus.None
          ? 'waiting'
          : l.status === NodeStatus.Start
            ? 'running'
            : statusName(l.status);
      return `  ${l.node.padEnd(width)}  ${state.padEnd(12)} batches ${batches.padEnd(9)} rows in ${String(rin).padStart(9)}  out ${String(rout).padStart(9)}`;
    });
    let s = '';
    if (this.drawn > 0) s += `\x1b[${this.drawn}A`;
    s += rows.map((r) => `\x1b[2K${r}\n`).join('');
    this.out.write(s);
    this.drawn = rows.length;
  }
}
