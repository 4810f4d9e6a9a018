/**
 * Template parameters on the raw script text, the way Capillaries does it (spec §1.2):
 *  1. `{name}` (spaces allowed around the name) becomes `{name|string}`: any `{word}` in the text, including a regex
 *     quantifier such as `\d{4}` inside an expression, is a parameter reference.
 *  2. Spaces inside `{ name | type }` are removed.
 *  3. `number`, `bool` and `stringlist` references must be the whole of a JSON/YAML double-quoted string:
 *     `"{name|number}"`; the quotes are replaced together with the reference.
 *  4. Values are rendered by type (string raw, newline as `\n`; number as integer text or Go `%f`; bool; list of
 *     strings as `["a","b"]`).
 *  5. Whatever reference is left is an error, except the reserved `{batch_idx}` and `{run_id}` (table_file URLs).
 * Replacement never adds or removes a line, so line numbers of the rendered text are those of the original.
 */

export type ParamType = 'string' | 'number' | 'bool' | 'stringlist';
export const PARAM_TYPES: readonly ParamType[] = ['string', 'number', 'bool', 'stringlist'];

/** Names substituted later, in `w.url_template` of table_file nodes only (as `%05d`). */
export const RESERVED_PARAMS: readonly string[] = ['batch_idx', 'run_id'];

const BARE_REF = /\{ *([a-zA-Z0-9_]+) *\}/g;
const SPACED_REF = /\{ *([a-zA-Z0-9_]+) *\| *(string|number|bool|stringlist) *\}/g;
const TYPED_REF = /\{([a-zA-Z0-9_]+)\|(string|number|bool|stringlist)\}/g;
const ODD_TYPE_REF = /\{ *([a-zA-Z0-9_]+) *\| *([a-zA-Z0-9_]+) *\}/g;

/**
 * A parameter reference in `text` as the loader reads one (`{name}` or `{name|type}`, spaces allowed), if
 * there is any; for warning about texts copied into a script.
 */
export function findParamReference(text: string): string | undefined {
  return new RegExp(BARE_REF.source).exec(text)?.[0] ?? new RegExp(ODD_TYPE_REF.source).exec(text)?.[0];
}

/** Steps 1 and 2: the text with every reference in its canonical `{name|type}` form. */
export function normalizeReferences(raw: string): string {
  return raw.replace(BARE_REF, '{$1|string}').replace(SPACED_REF, '{$1|$2}');
}

export interface ParamUsage {
  name: string;
  type: ParamType;
  /** 1-based line numbers where the reference appears. */
  lines: number[];
}

/** Every `{name|type}` reference of a normalized text, grouped by name and type. */
export function scanReferences(normalized: string): Map<string, Map<ParamType, ParamUsage>> {
  const out = new Map<string, Map<ParamType, ParamUsage>>();
  const lines = normalized.split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(TYPED_REF)) {
      const name = m[1] ?? '';
      const type = (m[2] ?? 'string') as ParamType;
      let byType = out.get(name);
      if (!byType) out.set(name, (byType = new Map()));
      const u = byType.get(type);
      if (u) {
        if (u.lines[u.lines.length - 1] !== i + 1) u.lines.push(i + 1);
      } else byType.set(type, { name, type, lines: [i + 1] });
    }
  });
  return out;
}

/** How one parameter renders for each reference type; a type it cannot render has the reason instead. */
export interface ResolvedParam {
  name: string;
  /** Where the value came from, for messages: the params file name or `--param`. */
  origin: string;
  render: Partial<Record<ParamType, string>>;
  refuse: Partial<Record<ParamType, string>>;
}

export interface TemplateProblem {
  /** 1-based line in the script text; 0 when the problem is not tied to a line. */
  line: number;
  message: string;
}

export interface RenderResult {
  text: string;
  problems: TemplateProblem[];
  /** Parameter names substituted on each line (for hints in parse errors). */
  paramsByLine: Map<number, string[]>;
  /** Reserved references kept in the text (name → lines). */
  reservedKept: Map<string, number[]>;
  /** Odd `{name|word}` texts that look like references with an unknown type (lines), left untouched. */
  oddReferences: { line: number; text: string }[];
}

/**
 * Steps 3–5 on a normalized text. `params` maps a name to its renderings; names absent from it are unresolved
 * (except the reserved ones, which are kept as `{batch_idx|string}` / `{run_id|string}`).
 */
export function renderTemplate(normalized: string, params: ReadonlyMap<string, ResolvedParam>): RenderResult {
  const problems: TemplateProblem[] = [];
  const paramsByLine = new Map<number, string[]>();
  const reservedKept = new Map<string, number[]>();
  const oddReferences: { line: number; text: string }[] = [];
  const reported = new Set<string>();
  const reportOnce = (key: string, line: number, message: string): void => {
    if (reported.has(key)) return;
    reported.add(key);
    problems.push({ line, message });
  };

  const lines = normalized.split('\n');
  const outLines = lines.map((line, idx) => {
    const lineNo = idx + 1;
    for (const m of line.matchAll(ODD_TYPE_REF)) {
      const t = m[2] ?? '';
      if (!(PARAM_TYPES as readonly string[]).includes(t)) oddReferences.push({ line: lineNo, text: m[0] });
    }
    let out = '';
    let pos = 0;
    for (const m of line.matchAll(TYPED_REF)) {
      const whole = m[0];
      const name = m[1] ?? '';
      const type = (m[2] ?? 'string') as ParamType;
      const start = m.index;
      const end = start + whole.length;
      const quoted = line[start - 1] === '"' && line[end] === '"';
      if (type !== 'string' && !quoted) {
        reportOnce(
          `quote:${name}:${type}:${lineNo}`,
          lineNo,
          `{${name}|${type}} must be written alone in double quotes, as "{${name}|${type}}" ` +
            `(a ${type} parameter cannot be part of a longer string)`,
        );
        continue;
      }
      const p = params.get(name);
      if (p === undefined) {
        if (RESERVED_PARAMS.includes(name)) {
          if (type !== 'string') {
            reportOnce(
              `reserved-type:${name}:${type}`,
              lineNo,
              `{${name}|${type}}: ${name} is reserved (run id / batch index in table_file URLs) and can only be used as {${name}}`,
            );
          } else {
            const kept = reservedKept.get(name) ?? [];
            if (!kept.includes(lineNo)) kept.push(lineNo);
            reservedKept.set(name, kept);
          }
        } else {
          reportOnce(`unresolved:${name}:${lineNo}`, lineNo, unresolvedMessage(name, type));
        }
        continue;
      }
      const rendered = p.render[type];
      if (rendered === undefined) {
        const refusal = p.refuse[type];
        // '' = already reported where the value came from (a --param override that does not parse)
        if (refusal !== '') {
          reportOnce(
            `refuse:${name}:${type}`,
            lineNo,
            refusal ?? `parameter ${name} (${p.origin}) cannot be used as {${name}|${type}}`,
          );
        }
        continue;
      }
      const names = paramsByLine.get(lineNo) ?? [];
      if (!names.includes(name)) names.push(name);
      paramsByLine.set(lineNo, names);
      // number/bool/stringlist values replace the surrounding quotes too
      const from = type === 'string' ? start : start - 1;
      const to = type === 'string' ? end : end + 1;
      out += line.slice(pos, from) + rendered;
      pos = to;
    }
    return out + line.slice(pos);
  });

  const text = outLines.join('\n');
  return { text, problems, paramsByLine, reservedKept, oddReferences };
}

function unresolvedMessage(name: string, type: ParamType): string {
  let msg = `unresolved parameter reference {${name}|${type}}: no parameter ${name} in the params file or --param overrides`;
  if (/^[0-9]+$/.test(name)) {
    msg +=
      ` (any {word} in a script is a parameter reference, a regex quantifier such as \\d{${name}} too;` +
      ` write {${name},${name}} instead)`;
  }
  return msg;
}

/**
 * A JSON number as Capillaries renders it: integer text when integral, otherwise Go `%f` (6 decimals, rounding
 * half to even on the exact binary value).
 */
export function formatNumberParam(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return BigInt(v).toString();
  const neg = v < 0;
  const a = Math.abs(v);
  let text: string;
  if (Number.isInteger(a * 128)) {
    // a has at most 7 binary fraction digits, so its decimal expansion has at most 7 digits: exact with toFixed(7),
    // and a tie on the 7th digit is real. Round half to even as Go does (toFixed rounds ties up).
    const seven = a.toFixed(7);
    const last = seven.charCodeAt(seven.length - 1) - 48;
    let six = seven.slice(0, -1);
    if (last > 5 || (last === 5 && (six.charCodeAt(six.length - 1) - 48) % 2 === 1))
      six = incrementDecimal(six);
    text = six;
  } else {
    text = a.toFixed(6);
  }
  return neg ? `-${text}` : text;
}

/** Adds one unit in the last place of a non-negative decimal text (`1.999999` → `2.000000`). */
function incrementDecimal(s: string): string {
  const digits = s.split('');
  for (let i = digits.length - 1; i >= 0; i--) {
    const c = digits[i];
    if (c === '.') continue;
    if (c === '9') {
      digits[i] = '0';
      continue;
    }
    digits[i] = String.fromCharCode((c ?? '0').charCodeAt(0) + 1);
    return digits.join('');
  }
  return `1${digits.join('')}`;
}
