import { PlexusError } from '../errors/index.js';
import {
  DateTime,
  Decimal,
  goSprintf,
  microsSinceYear1,
  type FieldType,
  type Value,
} from '../values/index.js';
import type { ExprNode } from './ast.js';
import { ExprError } from './errors.js';
import { parseExpression } from './parser.js';

export interface IndexComponent {
  field: string;
  desc: boolean;
  caseSensitive: boolean;
  /** key length in bytes for string components (default 64, at least 16, at most 1024) */
  strLen: number;
}

export interface IndexDef {
  unique: boolean;
  components: IndexComponent[];
}

export const DEFAULT_STRING_KEY_LEN = 64;
const MIN_STRING_KEY_LEN = 16;
const MAX_STRING_KEY_LEN = 1024;

/** Which modifiers a component used (to validate them against the field type). */
const explicitMods = new WeakMap<IndexComponent, { caseMod: boolean; lenMod: boolean }>();

function parseComponents(
  root: ExprNode,
  source: string,
  offset: number,
): { unique: boolean; components: IndexComponent[] } {
  const fail = (msg: string, pos: number): never => {
    throw new ExprError(msg, Math.max(0, pos - offset), source, 'INDEX_DEF');
  };
  if (
    root.kind !== 'call' ||
    root.fn.kind !== 'ident' ||
    (root.fn.name !== 'unique' && root.fn.name !== 'non_unique')
  ) {
    return fail('an index definition must be unique(...) or non_unique(...)', root.pos);
  }
  if (root.args.length === 0) fail('an index needs at least one field', root.pos);
  const components: IndexComponent[] = [];
  const seen = new Set<string>();
  for (const arg of root.args) {
    let field: string;
    let mods: readonly ExprNode[] = [];
    if (arg.kind === 'ident') {
      field = arg.name;
    } else if (arg.kind === 'call' && arg.fn.kind === 'ident') {
      field = arg.fn.name;
      mods = arg.args;
    } else {
      return fail('expected a field name, optionally with modifiers: field(desc, ignore_case, 128)', arg.pos);
    }
    if (seen.has(field)) fail(`field ${field} appears twice`, arg.pos);
    seen.add(field);
    const c: IndexComponent = { field, desc: false, caseSensitive: true, strLen: DEFAULT_STRING_KEY_LEN };
    let order: string | undefined;
    let caseMod: string | undefined;
    let lenMod = false;
    for (const m of mods) {
      if (m.kind === 'ident') {
        if (m.name === 'asc' || m.name === 'desc') {
          if (order !== undefined) fail(`${field}: ${order} and ${m.name} cannot both be given`, m.pos);
          order = m.name;
          c.desc = m.name === 'desc';
        } else if (m.name === 'case_sensitive' || m.name === 'ignore_case') {
          if (caseMod !== undefined) fail(`${field}: ${caseMod} and ${m.name} cannot both be given`, m.pos);
          caseMod = m.name;
          c.caseSensitive = m.name === 'case_sensitive';
        } else {
          fail(
            `${field}: unknown modifier ${m.name} (use asc, desc, case_sensitive, ignore_case or a string length)`,
            m.pos,
          );
        }
      } else if (m.kind === 'int' && /^[0-9]+$/.test(m.text)) {
        if (lenMod) fail(`${field}: the string length is given twice`, m.pos);
        lenMod = true;
        const n = Number(m.text);
        if (n > MAX_STRING_KEY_LEN)
          fail(`${field}: string length ${n} is more than ${MAX_STRING_KEY_LEN}`, m.pos);
        c.strLen = Math.max(MIN_STRING_KEY_LEN, n);
      } else {
        fail(`${field}: a modifier is asc, desc, case_sensitive, ignore_case or a string length`, m.pos);
      }
    }
    explicitMods.set(c, { caseMod: caseMod !== undefined, lenMod });
    components.push(c);
  }
  return { unique: root.fn.name === 'unique', components };
}

/** Parse `unique(a, b(desc, ignore_case, 128))` or `non_unique(...)` (w.indexes). */
export function parseIndexDef(text: string): IndexDef {
  return parseComponents(parseExpression(text), text, 0);
}

/** Parse an order definition `a(asc), b(desc)` (top.order, event_priority_order). */
export function parseOrderDef(text: string): IndexDef {
  const prefix = 'non_unique(';
  let root: ExprNode;
  try {
    root = parseExpression(`${prefix}${text})`);
  } catch (e) {
    if (e instanceof ExprError) {
      throw new ExprError(e.detail, Math.min(text.length, Math.max(0, e.pos - prefix.length)), text, e.code);
    }
    throw e;
  }
  const def = parseComponents(root, text, prefix.length);
  return { unique: false, components: def.components };
}

/**
 * Check a parsed definition against the fields it indexes: every field exists, and case/length
 * modifiers are used on string fields only. Returns the problems (empty when fine).
 */
export function validateIndexDef(def: IndexDef, fieldTypes: Readonly<Record<string, FieldType>>): string[] {
  const problems: string[] = [];
  for (const c of def.components) {
    const t = fieldTypes[c.field];
    if (t === undefined) {
      problems.push(`unknown field ${c.field} (fields: ${Object.keys(fieldTypes).join(', ')})`);
      continue;
    }
    const mods = explicitMods.get(c);
    if (t !== 'string' && mods?.caseMod)
      problems.push(`${c.field}: case_sensitive/ignore_case apply to string fields only`);
    if (t !== 'string' && mods?.lenMod)
      problems.push(`${c.field}: a key length applies to string fields only`);
  }
  return problems;
}

function flipDigits(s: string): string {
  let out = '';
  for (const ch of s) out += ch >= '0' && ch <= '9' ? String.fromCharCode(57 - (ch.charCodeAt(0) - 48)) : ch;
  return out;
}

function intKey(v: bigint): string {
  if (v >= 0n) return '0' + v.toString().padStart(20, '0');
  return '-' + flipDigits((-v).toString().padStart(20, '0'));
}

function floatKey(x: number): string {
  const neg = x < 0;
  const body = goSprintf('%066.32f', [Math.abs(x)]);
  return neg ? '-' + flipDigits(body) : '0' + body;
}

const NON_SPACING_MARKS = /\p{Mn}/gu;

/** Go's unicode.ToUpper per rune (simple case mapping: 'ß' stays 'ß'). */
function goToUpper(s: string): string {
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length || [...u].length === 1 ? u : ch;
  }
  return out;
}

function cutToBytes(s: string, n: number): string {
  if (s.length * 3 <= n) return s;
  const b = Buffer.from(s, 'utf8');
  if (b.length <= n) return s;
  let end = n;
  // Do not split a UTF-8 sequence: drop the partial character.
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

function stringKey(s: string, c: IndexComponent): string {
  let k = s.normalize('NFD').replace(NON_SPACING_MARKS, '').normalize('NFC');
  const runes = [...k].length;
  if (runes < c.strLen) k += ' '.repeat(c.strLen - runes);
  k = cutToBytes(k, c.strLen);
  if (!c.caseSensitive) k = goToUpper(k);
  return k;
}

function descHex(s: string): string {
  const b = Buffer.from(s, 'utf8');
  for (let i = 0; i < b.length; i++) b[i] = 0xff - (b[i] ?? 0);
  return b.toString('hex');
}

/**
 * Capillaries' BuildKey: the concatenation of one fixed-width string per component; keys compare
 * byte-wise (UTF-8) in the order the definition asks for. See docs/expressions.md for the layouts.
 */
export function buildKey(def: IndexDef, values: readonly Value[]): string {
  if (values.length !== def.components.length) {
    throw new PlexusError(
      'INDEX_KEY',
      `index key needs ${def.components.length} value(s) (${def.components.map((c) => c.field).join(', ')}), got ${values.length}`,
    );
  }
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const c = def.components[i] as IndexComponent;
    const v = values[i] as Value;
    let part: string;
    if (typeof v === 'bigint') part = intKey(v);
    else if (typeof v === 'number') part = floatKey(v);
    else if (typeof v === 'string') part = stringKey(v, c);
    else if (typeof v === 'boolean') part = v ? 'T' : 'F';
    else if (v instanceof Decimal) part = floatKey(v.toNumber());
    else if (v instanceof DateTime) part = goSprintf('%020d', [microsSinceYear1(v)]);
    else throw new PlexusError('INDEX_KEY', `cannot build an index key from ${String(v)} (field ${c.field})`);
    key += c.desc ? descHex(part) : part;
  }
  return key;
}

/** Compare two keys as Capillaries does (byte-wise on UTF-8). */
export { compareUtf8 as compareKeys } from './ops.js';
