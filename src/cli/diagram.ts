import { Graph, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';
import type { Script } from '../script/index.js';

const TYPE_COLORS: Readonly<Record<string, string>> = {
  file_table: '#dbeafe',
  table_table: '#e0e7ff',
  distinct_table: '#ede9fe',
  table_lookup_table: '#fce7f3',
  table_custom_tfm_table: '#fef3c7',
  table_file: '#dcfce7',
};

function dotEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Graphviz DOT of the script's DAG: nodes (name, type, manual start), edges labelled with tables. */
export function scriptToDot(script: Script): string {
  const lines = [
    'digraph plexus {',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
  ];
  for (const name of script.dag.topo) {
    const n = script.nodes.get(name)!;
    const label = `${name}\\n${n.type}${n.startPolicy === 'manual' ? '\\n(manual start)' : ''}`;
    const style = n.startPolicy === 'manual' ? 'rounded,filled,dashed' : 'rounded,filled';
    lines.push(
      `  "${dotEscape(name)}" [label="${label}", fillcolor="${TYPE_COLORS[n.type] ?? '#eeeeee'}", style="${style}", tooltip="${dotEscape(n.desc)}"];`,
    );
  }
  for (const e of script.dag.edges) {
    lines.push(
      `  "${dotEscape(e.from)}" -> "${dotEscape(e.to)}" [label="${dotEscape(e.table)}"${e.kind === 'lookup' ? ', style=dashed' : ''}];`,
    );
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

const CHAR_W = 7.2;
const LINE_H = 16;

/** An SVG drawing of the script's DAG, laid out with dagre. */
export function scriptToSvg(script: Script, title?: string): string {
  const g = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, edgesep: 30, marginx: 30, marginy: 20 });
  const nodeLines = new Map<string, string[]>();
  for (const name of script.dag.topo) {
    const n = script.nodes.get(name)!;
    const text = [name, n.type];
    if (n.startPolicy === 'manual') text.push('manual start');
    nodeLines.set(name, text);
    const width = Math.max(...text.map((t) => t.length)) * CHAR_W + 24;
    g.setNode(name, { width, height: text.length * LINE_H + 16 });
  }
  const edgeText = (e: { table: string; kind: string }): string =>
    `${e.table}${e.kind === 'lookup' ? ' (lookup)' : ''}`;
  script.dag.edges.forEach((e, i) => {
    const label = edgeText(e);
    g.setEdge(e.from, e.to, { label, width: label.length * 6.8 + 12, height: 16, labelpos: 'c' }, `e${i}`);
  });
  layout(g);
  const graph = g.graph();
  const width = Math.ceil(graph.width ?? 200);
  const height = Math.ceil((graph.height ?? 100) + (title ? 30 : 0));
  const dy = title ? 30 : 0;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (title) out.push(`<text x="12" y="20" font-size="14" font-weight="bold">${xmlEscape(title)}</text>`);
  out.push(`<g transform="translate(0,${dy})">`);
  script.dag.edges.forEach((e, i) => {
    const edge: EdgeLabel = g.edge({ v: e.from, w: e.to, name: `e${i}` });
    const pts: { x: number; y: number }[] = edge.points ?? [];
    if (pts.length === 0) return;
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="#555" stroke-width="1.3"${e.kind === 'lookup' ? ' stroke-dasharray="5,3"' : ''} marker-end="url(#arrow)"/>`,
    );
    if (edge.x !== undefined && edge.y !== undefined) {
      const lw = edgeText(e).length * 6.8 + 8;
      out.push(
        `<rect x="${(edge.x - lw / 2).toFixed(1)}" y="${(edge.y - 8).toFixed(1)}" width="${lw.toFixed(1)}" height="16" rx="3" fill="white" fill-opacity="0.9"/>`,
      );
      out.push(
        `<text x="${edge.x.toFixed(1)}" y="${(edge.y + 4).toFixed(1)}" text-anchor="middle" fill="#333" font-style="italic">${xmlEscape(edgeText(e))}</text>`,
      );
    }
  });
  for (const name of script.dag.topo) {
    const n = script.nodes.get(name)!;
    const box: NodeLabel = g.node(name);
    const bx = box.x ?? 0;
    const by = box.y ?? 0;
    const x = bx - box.width / 2;
    const y = by - box.height / 2;
    out.push(
      `<g><title>${xmlEscape(n.desc || name)}</title><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${box.width.toFixed(1)}" height="${box.height.toFixed(1)}" rx="8" fill="${TYPE_COLORS[n.type] ?? '#eee'}" stroke="#333"${n.startPolicy === 'manual' ? ' stroke-dasharray="6,3"' : ''}/>`,
    );
    const lines = nodeLines.get(name)!;
    lines.forEach((t, j) => {
      const ty = y + 8 + LINE_H * (j + 1) - 4;
      const weight = j === 0 ? ' font-weight="bold"' : ' fill="#444"';
      out.push(
        `<text x="${bx.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle"${weight}>${xmlEscape(t)}</text>`,
      );
    });
    out.push('</g>');
  }
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}
