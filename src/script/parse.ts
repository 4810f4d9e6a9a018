import { parseDocument } from 'yaml';
import type { Problems } from './problems.js';

export type DocFormat = 'json' | 'yaml';

/** Format by suffix only, as Capillaries does: `.json` or `.yaml` (query strings ignored). */
export function formatOf(url: string): DocFormat | undefined {
  const path = url.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.yaml')) return 'yaml';
  return undefined;
}

export function formatProblemText(url: string): string {
  const path = url.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.yml')) return 'the file name must end in .yaml (.yml is not accepted) or .json';
  return 'the file name must end in .json or .yaml: the format is chosen by suffix';
}

function lineCol(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, col: pos - lastNl };
}

/**
 * Parses JSON or YAML into plain data with JSON semantics (YAML is read, then treated as the JSON it converts to).
 * `hint(line)` may add a note to a syntax error on that line (e.g. which parameters were substituted there).
 * Returns undefined after reporting a problem.
 */
export function parseText(
  text: string,
  format: DocFormat,
  file: string,
  problems: Problems,
  hint: (line: number) => string = () => '',
): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (format === 'json') {
    try {
      return JSON.parse(body) as unknown;
    } catch (e) {
      const raw = e instanceof Error ? e.message : String(e);
      const m = /position (\d+)/.exec(raw);
      const clean = raw.replace(/,? ?(in JSON )?at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
      if (m) {
        const { line, col } = lineCol(body, Number(m[1]));
        problems.add(file, `line ${line}`, `invalid JSON at column ${col}: ${clean}${hint(line)}`);
      } else {
        problems.add(file, '', `invalid JSON: ${clean}`);
      }
      return undefined;
    }
  }
  const doc = parseDocument(body, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const msg = err.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
      if (pos)
        problems.add(file, `line ${pos.line}`, `invalid YAML at column ${pos.col}: ${msg}${hint(pos.line)}`);
      else problems.add(file, '', `invalid YAML: ${msg}`);
    }
    return undefined;
  }
  try {
    return doc.toJS({ maxAliasCount: 10000 }) as unknown;
  } catch (e) {
    problems.add(file, '', `invalid YAML: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/**
 * Drops object members whose value is null, recursively: Go's JSON decoder leaves a field at its zero value for
 * `null`, so `having: null` or `col_hdr: null` mean "absent". Nulls inside lists are kept (they are errors).
 */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === null) continue;
      out[k] = dropNulls(x);
    }
    return out;
  }
  return v;
}
