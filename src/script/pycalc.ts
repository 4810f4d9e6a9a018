/**
 * py_calc expressions (spec §1.13): a call `func(args)` whose arguments are r.* or p.* fields, literals, bare identifiers
 * or nested calls, or a single field reference. They are never evaluated here: they are checked, their p.*
 * dependencies ordered, and rewritten to Python (`r.x` → `r_x`, `p.x` → `p_x`).
 */

export type PyExpr =
  | { kind: 'call'; func: string; args: PyExpr[]; pos: number }
  | { kind: 'field'; alias: string; field: string; pos: number; end: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'literal'; text: string; pos: number };

export class PyExprError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

type Tok =
  | { t: 'ident'; v: string; pos: number }
  | { t: 'lit'; v: string; pos: number }
  | { t: 'punct'; v: string; pos: number }
  | { t: 'end'; pos: number };

const SHAPE =
  'a py_calc expression is a call func(args) (args: r.*/p.* fields, literals, identifiers, calls) or one field reference';

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i] as string)) i++;
      out.push({ t: 'ident', v: src.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
      i += m ? m[0].length : 1;
      out.push({ t: 'lit', v: src.slice(start, i), pos: start });
      continue;
    }
    if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) throw new PyExprError('unterminated string literal', start);
      i++;
      out.push({ t: 'lit', v: src.slice(start, i), pos: start });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new PyExprError('unterminated raw string literal', start);
      i = end + 1;
      out.push({ t: 'lit', v: src.slice(start, i), pos: start });
      continue;
    }
    if ('(),.-'.includes(c)) {
      i++;
      out.push({ t: 'punct', v: c, pos: start });
      continue;
    }
    throw new PyExprError(`unexpected ${JSON.stringify(c)}: ${SHAPE}`, start);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

/** Parses a py_calc expression; throws PyExprError with a 0-based position. */
export function parsePyExpr(src: string): PyExpr {
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Tok => toks[k] as Tok;
  const next = (): Tok => toks[k++] as Tok;
  const isPunct = (tok: Tok, v: string): boolean => tok.t === 'punct' && tok.v === v;

  const operand = (): PyExpr => {
    const tok = next();
    if (tok.t === 'lit') return { kind: 'literal', text: tok.v, pos: tok.pos };
    if (tok.t === 'punct' && tok.v === '-') {
      const num = next();
      if (num.t === 'lit' && /^[0-9.]/.test(num.v))
        return { kind: 'literal', text: `-${num.v}`, pos: tok.pos };
      throw new PyExprError(`unexpected "-": ${SHAPE}`, tok.pos);
    }
    if (tok.t !== 'ident') {
      throw new PyExprError(
        tok.t === 'end' ? 'unexpected end of expression' : `unexpected "${tok.v}"`,
        tok.pos,
      );
    }
    if (isPunct(peek(), '.')) {
      next();
      const f = next();
      if (f.t !== 'ident') throw new PyExprError(`expected a field name after ${tok.v}.`, f.pos);
      if (isPunct(peek(), '(')) {
        throw new PyExprError(
          `${tok.v}.${f.v}(...): only plain function names can be called in py_calc`,
          tok.pos,
        );
      }
      return { kind: 'field', alias: tok.v, field: f.v, pos: tok.pos, end: f.pos + f.v.length };
    }
    if (isPunct(peek(), '(')) {
      next();
      const args: PyExpr[] = [];
      if (!isPunct(peek(), ')')) {
        for (;;) {
          args.push(operand());
          const sep = next();
          if (isPunct(sep, ')')) break;
          if (!isPunct(sep, ',')) {
            throw new PyExprError(
              sep.t === 'end' ? `missing ) in call of ${tok.v}` : `unexpected "${sep.v}": ${SHAPE}`,
              sep.pos,
            );
          }
        }
      } else next();
      return { kind: 'call', func: tok.v, args, pos: tok.pos };
    }
    return { kind: 'ident', name: tok.v, pos: tok.pos };
  };

  const root = operand();
  const rest = peek();
  if (rest.t !== 'end') throw new PyExprError(`unexpected "${rest.v}": ${SHAPE}`, rest.pos);
  if (root.kind !== 'call' && root.kind !== 'field') throw new PyExprError(SHAPE, root.pos);
  return root;
}

export function walkPy(e: PyExpr, visit: (e: PyExpr) => void): void {
  visit(e);
  if (e.kind === 'call') e.args.forEach((a) => walkPy(a, visit));
}

/** Python text of an expression: every `r.x` / `p.x` field reference becomes `r_x` / `p_x`, the rest is kept. */
export function toPython(src: string, e: PyExpr): string {
  const fields: { pos: number; end: number; text: string }[] = [];
  walkPy(e, (x) => {
    if (x.kind === 'field') fields.push({ pos: x.pos, end: x.end, text: `${x.alias}_${x.field}` });
  });
  fields.sort((a, b) => a.pos - b.pos);
  let out = '';
  let at = 0;
  for (const f of fields) {
    out += src.slice(at, f.pos) + f.text;
    at = f.end;
  }
  return (out + src.slice(at)).trim();
}

/** Python functions every py_calc program may call with one argument. */
export const PY_BUILTINS: readonly string[] = ['str', 'int', 'float', 'round', 'len', 'bool', 'abs'];

export interface PyFunctionDef {
  name: string;
  /** Parameters without a default value. */
  required: number;
  /** All named parameters; Infinity with *args. */
  max: number;
}

/** `def name(params):` definitions found in Python code (top-level or nested, one or several lines). */
export function findPythonDefs(code: string): Map<string, PyFunctionDef> {
  const out = new Map<string, PyFunctionDef>();
  for (const m of code.matchAll(/^[ \t]*def[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(([^)]*)\)/gm)) {
    const name = m[1] ?? '';
    const params = splitParams(m[2] ?? '');
    let required = 0;
    let max = 0;
    for (const p of params) {
      if (p === 'self' || p === '/' || p === '*') continue;
      if (p.startsWith('**')) continue;
      if (p.startsWith('*')) {
        max = Infinity;
        continue;
      }
      max++;
      if (!p.includes('=')) required++;
    }
    out.set(name, { name, required, max });
  }
  return out;
}

/** Splits a parameter list on top-level commas (annotations may hold brackets). */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of text.replace(/#[^\n]*/g, '')) {
    if ('[({'.includes(c)) depth++;
    else if ('])}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out.filter((p) => p !== '');
}
