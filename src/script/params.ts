import { Problems } from './problems.js';
import {
  formatNumberParam,
  RESERVED_PARAMS,
  type ParamType,
  type ParamUsage,
  type ResolvedParam,
} from './template.js';

const PARAM_NAME = /^[a-zA-Z0-9_]+$/;

/** A string value as it goes into the script text: newlines become the two characters `\n`, nothing else changes. */
export function renderStringParam(v: string): string {
  return v.replace(/\n/g, '\\n');
}

export function renderStringList(items: readonly string[]): string {
  return `[${items.map((s) => `"${s}"`).join(',')}]`;
}

const GO_BOOL_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_BOOL_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v === 'boolean' ? 'bool' : typeof v}`;
}

/**
 * Checks the parsed params file: a flat object whose values are strings, numbers, bools or lists of strings.
 * Returns the values that are usable; problems go to `problems` under `file`.
 */
export function checkParamsObject(value: unknown, file: string, problems: Problems): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(
      file,
      '',
      `a params file must hold one flat object of name: value pairs (got ${describe(value)})`,
    );
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!PARAM_NAME.test(k)) {
      problems.add(file, k, 'parameter names may contain only letters, digits and _');
      continue;
    }
    if (RESERVED_PARAMS.includes(k)) {
      problems.add(file, k, `${k} is reserved: it is set per run/batch in table_file URL templates`);
      continue;
    }
    const ok =
      typeof v === 'string' ||
      (typeof v === 'number' && Number.isFinite(v)) ||
      typeof v === 'boolean' ||
      (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (!ok) {
      const what = Array.isArray(v) ? 'a list with non-string items' : describe(v);
      problems.add(file, k, `value must be a string, a number, a bool or a list of strings (got ${what})`);
      continue;
    }
    out[k] = v;
  }
  return out;
}

function fromFileValue(name: string, v: unknown, file: string): ResolvedParam {
  const r: ResolvedParam = { name, origin: file, render: {}, refuse: {} };
  const refuseAll = (kind: string, okType: ParamType): void => {
    for (const t of ['string', 'number', 'bool', 'stringlist'] as const) {
      if (t === okType) continue;
      r.refuse[t] =
        `parameter ${name} is ${kind} in ${file}, so it must be referenced as ` +
        (okType === 'string' ? `{${name}}` : `"{${name}|${okType}}"`) +
        ` (found {${name}|${t}})`;
    }
  };
  if (typeof v === 'string') {
    r.render.string = renderStringParam(v);
    refuseAll('a string', 'string');
  } else if (typeof v === 'number') {
    r.render.number = formatNumberParam(v);
    refuseAll('a number', 'number');
  } else if (typeof v === 'boolean') {
    r.render.bool = v ? 'true' : 'false';
    refuseAll('a bool', 'bool');
  } else if (Array.isArray(v)) {
    r.render.stringlist = renderStringList(v as string[]);
    refuseAll('a list of strings', 'stringlist');
  }
  return r;
}

function parseOverrideList(text: string): string[] | undefined {
  const t = text.trim();
  if (t === '') return [];
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      return undefined;
    }
    return undefined;
  }
  return t.split(',').map((s) => s.trim());
}

export interface ResolvedParams {
  /** Renderings for the template step. */
  resolved: Map<string, ResolvedParam>;
  /** Effective values: params file, then overrides (typed by how the script uses them). */
  values: Record<string, unknown>;
}

/**
 * Merges the params file with `--param` overrides. Overrides are text; how the script uses a parameter decides how
 * the text is read: `"{x|number}"` needs a number, `"{x|bool}"` true/false, `"{x|stringlist}"` a JSON list of
 * strings or a comma-separated list. A value that does not parse is reported under `--param x`.
 */
export function resolveParams(
  fileValues: Record<string, unknown>,
  file: string,
  overrides: Readonly<Record<string, string>> | undefined,
  usage: ReadonlyMap<string, ReadonlyMap<ParamType, ParamUsage>>,
  scriptFile: string,
  problems: Problems,
): ResolvedParams {
  const resolved = new Map<string, ResolvedParam>();
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fileValues)) {
    resolved.set(k, fromFileValue(k, v, file));
    values[k] = v;
  }
  for (const [name, text] of Object.entries(overrides ?? {})) {
    const label = `--param ${name}`;
    if (!PARAM_NAME.test(name)) {
      problems.add(label, '', 'parameter names may contain only letters, digits and _');
      continue;
    }
    if (RESERVED_PARAMS.includes(name)) {
      problems.add(label, '', `${name} is reserved: it is set per run/batch in table_file URL templates`);
      continue;
    }
    const used = usage.get(name);
    if (!used && !(name in fileValues)) {
      problems.warn(label, '', `the script has no parameter ${name}; the override is not used`);
    }
    const r: ResolvedParam = { name, origin: '--param', render: {}, refuse: {} };
    const where = (t: ParamType): string => {
      const lines = used?.get(t)?.lines ?? [];
      const ref = t === 'string' ? `{${name}}` : `"{${name}|${t}}"`;
      return lines.length > 0 ? `${ref} (${scriptFile} line ${lines.join(', ')})` : ref;
    };
    let typed: unknown = text;
    r.render.string = renderStringParam(text);
    if (NUMBER_TEXT.test(text.trim()) && Number.isFinite(Number(text.trim()))) {
      const n = Number(text.trim());
      r.render.number = formatNumberParam(n);
      if (used?.has('number')) typed = n;
    } else if (used?.has('number')) {
      problems.add(
        label,
        '',
        `value ${JSON.stringify(text)} is not a number, but the script uses ${where('number')}`,
      );
      r.refuse.number = '';
    }
    if (GO_BOOL_TRUE.includes(text.trim()) || GO_BOOL_FALSE.includes(text.trim())) {
      const b = GO_BOOL_TRUE.includes(text.trim());
      r.render.bool = b ? 'true' : 'false';
      if (used?.has('bool')) typed = b;
    } else if (used?.has('bool')) {
      problems.add(
        label,
        '',
        `value ${JSON.stringify(text)} is not a bool (true/false), but the script uses ${where('bool')}`,
      );
      r.refuse.bool = '';
    }
    const list = parseOverrideList(text);
    if (list !== undefined) {
      r.render.stringlist = renderStringList(list);
      if (used?.has('stringlist')) typed = list;
    } else if (used?.has('stringlist')) {
      problems.add(
        label,
        '',
        `value ${JSON.stringify(text)} is not a list of strings (give a JSON list or comma-separated values), ` +
          `but the script uses ${where('stringlist')}`,
      );
      r.refuse.stringlist = '';
    }
    resolved.set(name, r);
    values[name] = typed;
  }
  return { resolved, values };
}
