/**
 * Names in a generated script: reader/table/writer field names `col_<sanitised header>` (or `col_%03d` without
 * a header), and the table named after the data file.
 */

/** Lower case; every character that is not a letter, digit or `_` (ASCII) becomes `_`. */
export function sanitizeName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** `col_%03d` */
export function indexFieldName(i: number): string {
  return `col_${String(i).padStart(3, '0')}`;
}

/**
 * Field names of the columns: `col_<sanitised header>` (the header trimmed first), `col_%03d` for a column
 * without a header (or with an empty one), and `_2`, `_3`, ... appended to a name already taken.
 */
export function fieldNames(headers: readonly (string | undefined)[]): string[] {
  const taken = new Set<string>();
  return headers.map((h, i) => {
    const t = h?.trim() ?? '';
    const base = t === '' ? indexFieldName(i) : `col_${sanitizeName(t)}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  });
}

const MAX_TABLE_NAME = 42;
const RESERVED_PREFIXES = ['idx', 'wf', 'system'];

/** The last segment of a path or URL (query and fragment of http URLs dropped). */
export function baseFileName(url: string): string {
  let p = url;
  if (/^https?:\/\//i.test(p)) p = p.replace(/[?#].*$/, '');
  const parts = p.split(/[/\\]/);
  return parts[parts.length - 1] ?? '';
}

/**
 * The table a file is loaded into: its name without the extension, sanitised; a name Capillaries reserves
 * (starting with idx, wf or system) gets a `t_` prefix; at most 42 characters; `data` if nothing is left.
 */
export function tableNameFor(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  let name = sanitizeName(stem);
  if (name === '' || /^_*$/.test(name)) name = 'data';
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) name = `t_${name}`;
  return name.slice(0, MAX_TABLE_NAME);
}
