/**
 * Evaluates the CRD's `x-kubernetes-validations` CEL rules on an object, the way the API server does, so that
 * client-side validation (CLI, tests, controller) reports the same errors as `kubectl apply`.
 *
 * Integers become CEL ints (bigint), objects become maps, lists stay lists. Rules that use `oldSelf`
 * (transition rules) run only when an old object is given and the node exists in both; old list items are
 * matched by their map keys (list-type map), as the API server correlates them.
 */
import { parse, type ParseResult } from '@marcbachmann/cel-js';
import type { CelRule } from './kube.js';

export interface FieldError {
  /** Field path, e.g. `spec.workers.replicas`, `spec.startNodes[0]`, `spec.paramOverrides["dir_in"]`. */
  path: string;
  message: string;
}

type Schema = { [key: string]: unknown };

const compiled = new Map<string, ParseResult>();
function compile(rule: string): ParseResult {
  let fn = compiled.get(rule);
  if (!fn) {
    fn = parse(rule);
    compiled.set(rule, fn);
  }
  return fn;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** The value as CEL sees it, guided by the schema (integers → bigint). */
export function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (schema === undefined) return value;
  if (schema.type === 'integer' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    return value.map((v) => toCel(v, items));
  }
  if (isObject(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra = isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v, props[k] ?? extra);
    return out;
  }
  return value;
}

function usesOldSelf(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

function evaluateRules(
  schema: Schema,
  value: unknown,
  old: unknown,
  path: string,
  errors: FieldError[],
): void {
  const rules = schema['x-kubernetes-validations'] as CelRule[] | undefined;
  if (!rules) return;
  for (const r of rules) {
    const transition = usesOldSelf(r.rule);
    if (transition && old === undefined) continue;
    const where = r.fieldPath ? `${path}${r.fieldPath}` : path;
    try {
      const ctx: Record<string, unknown> = { self: toCel(value, schema) };
      if (transition) ctx.oldSelf = toCel(old, schema);
      const result: unknown = compile(r.rule)(ctx);
      if (result !== true) errors.push({ path: where, message: r.message });
    } catch (err) {
      errors.push({
        path: where,
        message: `rule "${r.rule}" could not be evaluated: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      });
    }
  }
}

function matchOldItem(schema: Schema, item: unknown, oldList: unknown): unknown {
  if (!Array.isArray(oldList) || schema['x-kubernetes-list-type'] !== 'map' || !isObject(item))
    return undefined;
  const keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
  return oldList.find((o) => isObject(o) && keys.every((k) => o[k] === item[k]));
}

/** Walks `value` along `schema` and returns the CEL rule failures, each with its field path. */
export function celErrors(schema: Schema, value: unknown, old: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  walk(schema, value, old, path, errors);
  return errors;
}

function walk(schema: Schema, value: unknown, old: unknown, path: string, errors: FieldError[]): void {
  if (value === undefined) return;
  evaluateRules(schema, value, old, path, errors);
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (!items) return;
    value.forEach((v, i) => walk(items, v, matchOldItem(schema, v, old), joinPath(path, i), errors));
    return;
  }
  if (!isObject(value)) return;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const extra = isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
  const oldObj = isObject(old) ? old : undefined;
  for (const [k, v] of Object.entries(value)) {
    const sub = props[k] ?? extra;
    if (sub) walk(sub, v, oldObj?.[k], joinPath(path, k), errors);
  }
}
