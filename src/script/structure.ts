import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { joinPath, type Problems } from './problems.js';
import { NODE_TYPES, ScriptSchema, type RawScript } from './schema.js';

const ajv = new Ajv({ allErrors: true, discriminator: true, strict: false });
const compiled = new Map<TSchema, ValidateFunction>();

function validatorFor(schema: TSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** A short description of a value for messages: `"10"` (string), `10`, `a list`, `an object`. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') {
    const s = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    return `string ${s}`;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a bool (true or false)',
  object: 'an object',
  array: 'a list',
};

/** JSON pointer → our dotted path, with `[i]` for list indexes; also returns the value found there. */
function locate(
  data: unknown,
  pointer: string,
  base: readonly (string | number)[],
): { path: string; value: unknown } {
  const segs: (string | number)[] = [...base];
  let cur: unknown = data;
  if (pointer !== '') {
    for (const raw of pointer.slice(1).split('/')) {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(cur)) {
        segs.push(Number(seg));
        cur = cur[Number(seg)];
      } else {
        segs.push(seg);
        cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
      }
    }
  }
  return { path: joinPath(...segs), value: cur };
}

function messageFor(e: ErrorObject, value: unknown): { extraPath?: string; message: string } | undefined {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { extraPath: String(p.missingProperty), message: 'is required' };
    case 'type': {
      const want = String(p.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ');
      return { message: `must be ${want} (found ${describeValue(value)})` };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((x) => String(x)).join(', ');
      return { message: `must be one of ${allowed} (found ${describeValue(value)})` };
    }
    case 'minimum':
    case 'maximum':
      return {
        message: `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)} (found ${describeValue(value)})`,
      };
    case 'minItems':
      return { message: `must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}` };
    case 'minProperties':
      return { message: `must have at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}` };
    case 'minLength':
      return {
        message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`,
      };
    case 'discriminator':
      if (p.error === 'mapping') {
        return {
          extraPath: String(p.tag),
          message: `unknown node type ${describeValue(p.tagValue)} (expected one of ${NODE_TYPES.join(', ')})`,
        };
      }
      if (value === null || typeof value !== 'object' || !(String(p.tag) in value)) return undefined; // "required"
      return {
        extraPath: String(p.tag),
        message: `must be a string naming the node type (${NODE_TYPES.join(', ')})`,
      };
    case 'oneOf':
      return undefined; // follows a discriminator error
    default:
      return { message: e.message ?? `fails ${e.keyword}` };
  }
}

/**
 * Checks `data` against `schema` and reports each violation under `file` at `base` + the violation's path.
 * Returns true when the data conforms.
 */
export function checkAgainst(
  schema: TSchema,
  data: unknown,
  file: string,
  base: readonly (string | number)[],
  problems: Problems,
): boolean {
  const validate = validatorFor(schema);
  if (validate(data)) return true;
  for (const e of validate.errors ?? []) {
    const { path, value } = locate(data, e.instancePath, base);
    const m = messageFor(e, value);
    if (!m) continue;
    problems.add(file, m.extraPath ? joinPath(path, m.extraPath) : path, m.message);
  }
  return false;
}

/** Structural check of a whole script document. */
export function checkScriptStructure(data: unknown, file: string, problems: Problems): data is RawScript {
  return checkAgainst(ScriptSchema, data, file, [], problems);
}
