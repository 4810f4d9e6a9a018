/**
 * Validators for DataRun and StreamBridge manifests: the JSON Schema (ajv) and then the CEL rules of the same
 * schemas, so that a manifest rejected by the API server is rejected here first, with every problem named by
 * its field path.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { AggregateUserError } from '../errors/index.js';
import { celErrors, joinPath, type FieldError } from './cel.js';
import { DataRunSchema, StreamBridgeSchema, type DataRun, type StreamBridge } from './resources.js';

export type { FieldError };

export type ValidationResult<T> = { valid: true; value: T } | { valid: false; errors: FieldError[] };

export interface ValidateOptions {
  /** The object before an update: enables the transition rules (immutable fields). */
  old?: unknown;
  /** Fill in schema defaults (on a copy), as the API server does on create. */
  applyDefaults?: boolean;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function makeAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, useDefaults });
  for (const keyword of [
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-int-or-string',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => RFC3339.test(s) && !isNaN(Date.parse(s)),
  });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

const ajvPlain = makeAjv(false);
const ajvDefaults = makeAjv(true);
const cache = new Map<TSchema, { plain: ValidateFunction; defaults: ValidateFunction }>();

function compiled(schema: TSchema) {
  let c = cache.get(schema);
  if (!c) {
    c = { plain: ajvPlain.compile(schema), defaults: ajvDefaults.compile(schema) };
    cache.set(schema, c);
  }
  return c;
}

function instancePathToField(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = joinPath(out, /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return out;
}

function describe(e: ErrorObject): FieldError {
  const path = instancePathToField(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: joinPath(path, String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: joinPath(path, String(p.additionalProperty)), message: 'is not a known field' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'anyOf':
      return { path, message: 'matches none of the allowed forms' };
    case 'pattern':
      return { path, message: `must match the pattern ${String(p.pattern)}` };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** ajv errors as field errors; the branches of a failed anyOf are folded into one message. */
export function ajvFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const branchErrors = (e: ErrorObject) =>
    errors.filter(
      (b) =>
        b !== e &&
        b.instancePath === e.instancePath &&
        b.schemaPath.startsWith(e.schemaPath.replace(/\/anyOf$/, '/anyOf/')),
    );
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
    let fe = describe(e);
    if (e.keyword === 'anyOf') {
      const alternatives = [...new Set(branchErrors(e).map((b) => describe(b).message))];
      if (alternatives.length > 0)
        fe = { path: fe.path, message: `matches no allowed form: ${alternatives.join('; or ')}` };
    }
    const key = `${fe.path}\u0000${fe.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(fe);
    }
  }
  return out;
}

function validate<T>(schema: TSchema, obj: unknown, opts: ValidateOptions): ValidationResult<T> {
  const fns = compiled(schema);
  const value = opts.applyDefaults ? structuredClone(obj) : obj;
  const fn = opts.applyDefaults ? fns.defaults : fns.plain;
  if (!fn(value)) return { valid: false, errors: ajvFieldErrors(fn.errors ?? []) };
  // CEL runs on schema-valid objects only (like the API server, which needs typed values for its rules).
  const errors = celErrors(schema, value, opts.old, '');
  if (errors.length > 0) return { valid: false, errors };
  return { valid: true, value: value as T };
}

/** Validates a DataRun manifest (schema + CEL rules); errors name the field path, e.g. `spec.workers.replicas`. */
export function validateDataRun(obj: unknown, opts: ValidateOptions = {}): ValidationResult<DataRun> {
  return validate<DataRun>(DataRunSchema, obj, opts);
}

/** Validates a StreamBridge manifest (schema + CEL rules). */
export function validateStreamBridge(
  obj: unknown,
  opts: ValidateOptions = {},
): ValidationResult<StreamBridge> {
  return validate<StreamBridge>(StreamBridgeSchema, obj, opts);
}

function orThrow<T>(result: ValidationResult<T>, code: string, origin: string): T {
  if (result.valid) return result.value;
  throw new AggregateUserError(
    code,
    result.errors.map((e) => `${origin}: ${e.path || '(object)'}: ${e.message}`),
  );
}

/**
 * A valid DataRun with defaults applied, or an AggregateUserError (code INVALID_DATARUN) listing every problem
 * as `<origin>: <field path>: <what is wrong>`.
 */
export function parseDataRun(
  obj: unknown,
  origin = 'DataRun',
  opts: Omit<ValidateOptions, 'applyDefaults'> = {},
): DataRun {
  return orThrow(validateDataRun(obj, { ...opts, applyDefaults: true }), 'INVALID_DATARUN', origin);
}

/** A valid StreamBridge with defaults applied, or an AggregateUserError (code INVALID_STREAMBRIDGE). */
export function parseStreamBridge(
  obj: unknown,
  origin = 'StreamBridge',
  opts: Omit<ValidateOptions, 'applyDefaults'> = {},
): StreamBridge {
  return orThrow(validateStreamBridge(obj, { ...opts, applyDefaults: true }), 'INVALID_STREAMBRIDGE', origin);
}
