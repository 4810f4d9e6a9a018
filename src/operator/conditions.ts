/**
 * Pure status helpers: the condition reducer (metav1.Condition rules) and the merge patch between two
 * statuses. No I/O here; `status-writer.ts` sends the result.
 */
import type { Condition } from '../api/index.js';
import { rfc3339 } from './clock.js';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
  observedGeneration?: number;
}

/** Longest condition message kept (the API allows 32768; status should stay small). */
export const CONDITION_MESSAGE_MAX = 1024;

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

/**
 * Sets one condition: `lastTransitionTime` becomes `nowMs` only when the status flips (or the condition is
 * new); reason, message and observedGeneration are updated in place. Returns a new array, in a stable order
 * (existing order kept, new types appended); the input is not changed.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  nowMs: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === update.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: truncate(update.message ?? '', CONDITION_MESSAGE_MAX),
    lastTransitionTime:
      existing && existing.status === update.status ? existing.lastTransitionTime : rfc3339(nowMs),
    ...(update.observedGeneration !== undefined
      ? { observedGeneration: update.observedGeneration }
      : existing?.observedGeneration !== undefined
        ? { observedGeneration: existing.observedGeneration }
        : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** Applies several updates in order. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  nowMs: number,
): Condition[] {
  return updates.reduce<Condition[]>((acc, u) => setCondition(acc, u, nowMs), [...(conditions ?? [])]);
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON values; `undefined` object members count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed members set, removed members null,
 * arrays replaced whole. Undefined when nothing changes.
 */
export function mergePatchBetween(from: unknown, to: unknown): Json | undefined {
  if (jsonEqual(from, to)) return undefined;
  if (!isPlainObject(from) || !isPlainObject(to)) return (to ?? null) as Json;
  const patch: { [key: string]: Json } = {};
  for (const k of Object.keys(from)) {
    if (from[k] !== undefined && to[k] === undefined) patch[k] = null;
  }
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    const sub = mergePatchBetween(from[k], v);
    if (sub !== undefined) patch[k] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}
