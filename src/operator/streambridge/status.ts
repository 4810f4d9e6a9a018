/**
 * The status reducer: from the bridge pods' reports (the `/status` snapshots the controller scrapes) and the
 * workload to the StreamBridge status. Pure: the reconciler passes in what it observed and the time.
 */
import type { BridgeStatus } from '../../bridge/index.js';
import {
  MAX_BRIDGE_POD_STATUSES,
  type BridgePodCounts,
  type Condition,
  type StreamBridgeStatus,
} from '../../api/index.js';
import { jsonEqual, setConditions, truncate, type ConditionUpdate } from '../conditions.js';

/** What the controller knows about one bridge pod. */
export interface PodReport {
  pod: string;
  /** The pod's Ready condition. */
  ready: boolean;
  /** The last snapshot scraped from the pod (absent: never reached). */
  report?: BridgeStatus;
  /** When that snapshot was taken (ms). */
  reportedAt?: number;
  /** Why the last scrape failed, if it did. */
  scrapeError?: string;
  /**
   * The last report the controller took from this pod's previous bridge process (another instance, e.g. a
   * restarted container), when `report` comes from a new one: what that process counted after the last
   * status write still goes into the totals before the new life is added.
   */
  priorLife?: { report: BridgeStatus; reportedAt: number };
  /**
   * The pod is on its way out (being deleted, or Succeeded/Failed): its reports still count into the
   * totals (a pod that drains during a roll keeps delivering), nothing else about it enters the status.
   */
  finished?: boolean;
}

export interface StatusInput {
  generation: number;
  desiredReplicas: number;
  pods: readonly PodReport[];
  /** A problem with the spec (invalid, missing Secret or image): phase Failed, nothing runs. */
  specError?: string;
  /** The Ready reason for specError (default InvalidSpec; e.g. SecretMissing). */
  specReason?: string;
  /** Reports older than this are stale (default 60 s). */
  staleAfterMs?: number;
  previous?: StreamBridgeStatus;
  now: number;
}

export const DEFAULT_STALE_AFTER_MS = 60_000;

function sideCondition(
  type: 'SourceConnected' | 'SinkConnected',
  fresh: readonly PodReport[],
  generation: number,
): ConditionUpdate {
  const side = type === 'SourceConnected' ? 'source' : 'sink';
  if (fresh.length === 0) {
    return {
      type,
      status: 'Unknown',
      reason: 'NoReport',
      message: 'no bridge pod has reported yet',
      observedGeneration: generation,
    };
  }
  const down = fresh.filter((p) => !p.report![side].connected);
  if (down.length === 0) {
    return {
      type,
      status: 'True',
      reason: 'Connected',
      message: `${fresh.length} pod(s) connected to the ${side} (${fresh[0]!.report![side].type})`,
      observedGeneration: generation,
    };
  }
  const first = down[0]!;
  return {
    type,
    status: 'False',
    reason: reasonOf(first.report![side].reason),
    message: `${down.length} of ${fresh.length} pod(s) not connected; ${first.pod}: ${first.report![side].message}`,
    observedGeneration: generation,
  };
}

/** Condition reasons must match ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ */
function reasonOf(reason: string): string {
  const r = reason.replace(/[^A-Za-z0-9_]/g, '').replace(/^[^A-Za-z]+/, '');
  return r || 'Disconnected';
}

function sum(reports: readonly BridgeStatus[], f: (r: BridgeStatus) => number): number {
  return reports.reduce((acc, r) => acc + f(r), 0);
}

/** The counters that are monotonic totals on the resource (the others are gauges). */
export const TOTAL_COUNTERS = ['received', 'delivered', 'retries', 'reconnects'] as const;
type TotalName = (typeof TOTAL_COUNTERS)[number];
type Totals = Record<TotalName, number>;

const zeroTotals = (): Totals => ({ received: 0, delivered: 0, retries: 0, reconnects: 0 });

/** A count as the schema takes it: a non-negative integer (anything else in a report counts as 0). */
function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** Which life of a bridge process a report comes from (a report of an older bridge may carry neither). */
function lifeOf(r: BridgeStatus): { instance?: string; startedAt?: string } {
  const out: { instance?: string; startedAt?: string } = {};
  const instance: unknown = r.instance;
  if (typeof instance === 'string' && instance.length > 0) out.instance = instance.slice(0, 64);
  const started = typeof r.startedAt === 'string' ? Date.parse(r.startedAt) : NaN;
  if (Number.isFinite(started)) out.startedAt = new Date(started).toISOString();
  return out;
}

function countsOf(r: BridgeStatus): Totals {
  const c = r.counters;
  return {
    received: count(c.received),
    delivered: count(c.delivered),
    retries: count(c.retries),
    reconnects: count(c.reconnects),
  };
}

/** Pod names in StatefulSet order (bridge-2 before bridge-10). */
const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** One report taken at `reportedAt`. */
interface Taken {
  report: BridgeStatus;
  reportedAt: number;
}

/**
 * Adds one report to a pod's entry: the new entry and what it adds to the totals. Same instance: the
 * difference since the entry (a counter that went down means the process restarted without saying so:
 * the whole report is a new life); another instance, or no entry: the whole report. A report that is not
 * newer than the entry, or comes from a life that started before the entry's, adds nothing.
 */
function absorb(
  name: string,
  entry: BridgePodCounts | undefined,
  taken: Taken,
): { entry: BridgePodCounts; delta: Totals } | undefined {
  const life = lifeOf(taken.report);
  const current = countsOf(taken.report);
  if (entry) {
    if (taken.reportedAt <= Date.parse(entry.lastReportTime)) return undefined;
    if (
      life.instance !== entry.instance &&
      life.startedAt !== undefined &&
      entry.startedAt !== undefined &&
      Date.parse(life.startedAt) < Date.parse(entry.startedAt)
    ) {
      return undefined;
    }
  }
  const sameLife =
    entry !== undefined &&
    entry.instance === life.instance &&
    TOTAL_COUNTERS.every((k) => current[k] >= entry[k]);
  const delta = zeroTotals();
  for (const k of TOTAL_COUNTERS) delta[k] = sameLife ? current[k] - entry[k] : current[k];
  return {
    entry: { name, ...life, ...current, lastReportTime: new Date(taken.reportedAt).toISOString() },
    delta,
  };
}

function taken(p: PodReport): Taken | undefined {
  return p.report && p.reportedAt !== undefined ? { report: p.report, reportedAt: p.reportedAt } : undefined;
}

/** One PodReport per pod name (a running pod over a finished one of the same name), the first 64 by name. */
function tracked(pods: readonly PodReport[]): PodReport[] {
  const byPod = new Map<string, PodReport>();
  for (const p of pods) {
    const seen = byPod.get(p.pod);
    if (!seen || (seen.finished && !p.finished)) byPod.set(p.pod, p);
  }
  return [...byPod.values()].sort((a, b) => byName(a.pod, b.pod)).slice(0, MAX_BRIDGE_POD_STATUSES);
}

/** Adds one pod's counts to running totals. */
function addInto(totals: Totals, delta: Totals): void {
  for (const k of TOTAL_COUNTERS) totals[k] += delta[k];
}

/**
 * The monotonic totals and the per-pod entries (`status.pods`) they rest on.
 *
 * With `previous.pods`: the previous totals plus what each pod counted since its entry (see absorb; a prior
 * life is added only onto an entry of that same life, so it is never counted twice). A pod without a newer
 * report keeps its entry; a pod gone from `pods` is dropped, its counts stay in the totals.
 *
 * Without (the first status, or one written before per-pod entries existed): the larger of the previous
 * totals and the sums of the reports, so nothing goes backwards. Entries start from those reports; while a
 * pod that may be in earlier totals has no report yet, no entries are written (`pods` stays absent), since
 * that pod's whole count would otherwise be added a second time later.
 */
function tally(
  pods: readonly PodReport[],
  previous: StreamBridgeStatus | undefined,
): { totals: Totals; entries: BridgePodCounts[] | undefined } {
  const totals = zeroTotals();
  for (const k of TOTAL_COUNTERS) totals[k] = count(previous?.counters?.[k]);
  const list = tracked(pods);

  if (previous?.pods === undefined) {
    const sums = zeroTotals();
    const entries: BridgePodCounts[] = [];
    for (const p of list) {
      const t = taken(p);
      if (!t) continue;
      const added = absorb(p.pod, undefined, t)!;
      entries.push(added.entry);
      addInto(sums, added.delta);
    }
    const unattributed = TOTAL_COUNTERS.some((k) => totals[k] > 0);
    for (const k of TOTAL_COUNTERS) totals[k] = Math.max(totals[k], sums[k]);
    const complete = !unattributed || list.every((p) => taken(p) !== undefined);
    return { totals, entries: complete ? entries : undefined };
  }

  const before = new Map(previous.pods.map((e) => [e.name, e]));
  const entries: BridgePodCounts[] = [];
  for (const p of list) {
    let entry = before.get(p.pod);
    if (p.priorLife && entry?.instance !== undefined) {
      const prior = p.priorLife;
      if (lifeOf(prior.report).instance === entry.instance) {
        const added = absorb(p.pod, entry, prior);
        if (added) {
          entry = added.entry;
          addInto(totals, added.delta);
        }
      }
    }
    const t = taken(p);
    const added = t ? absorb(p.pod, entry, t) : undefined;
    if (added) {
      entry = added.entry;
      addInto(totals, added.delta);
    }
    if (entry) entries.push(entry);
  }
  return { totals, entries };
}

/**
 * The new status:
 * - Failed: the spec cannot run (specError) or a pod reports phase Failed;
 * - Pending: no pod has reported yet (starting);
 * - Running: every desired replica reports fresh and Ready;
 * - Degraded: anything else (a replica missing, a connection down, a report stale).
 * Counters: received, delivered, retries and reconnects are monotonic totals kept across pod and controller
 * restarts with the per-pod entries in `pods` (see tally); bufferedBytes and bufferedFiles are the sums over
 * the pods' latest reports (gauges).
 */
export function reduceStatus(input: StatusInput): StreamBridgeStatus {
  const { generation, now, previous } = input;
  const staleAfter = input.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const prevConditions = previous?.conditions as Condition[] | undefined;
  const { totals, entries } = tally(input.pods, previous);
  // Pods on their way out count into the totals only.
  const pods = input.pods.filter((p) => !p.finished);
  const withReport = pods.filter((p) => p.report !== undefined);
  const fresh = withReport.filter((p) => p.reportedAt !== undefined && now - p.reportedAt <= staleAfter);
  const stale = withReport.filter((p) => !fresh.includes(p));
  const reports = withReport.map((p) => p.report!);

  const counters = {
    received: totals.received,
    delivered: totals.delivered,
    bufferedBytes: sum(reports, (r) => count(r.buffer?.bytes)),
    bufferedFiles: sum(reports, (r) => count(r.buffer?.files)),
    retries: totals.retries,
    reconnects: totals.reconnects,
  };
  const deliveries = reports.map((r) => r.lastDeliveryTime).filter((t): t is string => t !== undefined);
  const lastDeliveryTime =
    deliveries.sort().at(-1) ??
    // A restarted pod forgets its last delivery; keep the one already recorded.
    previous?.lastDeliveryTime;

  if (input.specError !== undefined) {
    return {
      phase: 'Failed',
      observedGeneration: generation,
      conditions: setConditions(
        prevConditions,
        [
          {
            type: 'Ready',
            status: 'False',
            reason: input.specReason ?? 'InvalidSpec',
            message: input.specError,
            observedGeneration: generation,
          },
        ],
        now,
      ),
      // Nothing was scraped: totals and entries stay as they are.
      ...(previous?.counters ? { counters: previous.counters } : {}),
      ...(previous?.pods ? { pods: previous.pods } : {}),
      ...(previous?.lastDeliveryTime ? { lastDeliveryTime: previous.lastDeliveryTime } : {}),
      message: truncate(input.specError, 1024),
    };
  }

  const source = sideCondition('SourceConnected', fresh, generation);
  const sink = sideCondition('SinkConnected', fresh, generation);
  const failed = fresh.find((p) => p.report!.phase === 'Failed');
  const problems: string[] = [];
  if (failed) {
    const err = failed.report!.lastError;
    problems.push(`${failed.pod} failed${err ? `: ${err.side} ${err.kind}: ${err.message}` : ''}`);
  }
  for (const p of stale) {
    problems.push(
      `${p.pod}: no report for ${Math.round((now - (p.reportedAt ?? 0)) / 1000)} s${p.scrapeError ? ` (${p.scrapeError})` : ''}`,
    );
  }
  const readyPods = fresh.filter((p) =>
    p.report!.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (input.desiredReplicas === 0) problems.push('scaled to 0 replicas');
  else if (readyPods.length < input.desiredReplicas) {
    problems.push(`${readyPods.length} of ${input.desiredReplicas} replica(s) ready`);
  }
  for (const p of fresh) {
    const notReady = p.report!.conditions.find((c) => c.type === 'Ready' && c.status !== 'True');
    if (notReady && p.report!.phase !== 'Failed') problems.push(`${p.pod}: ${notReady.message}`);
  }
  for (const p of pods) {
    if (p.report === undefined && p.scrapeError) problems.push(`${p.pod}: ${p.scrapeError}`);
  }

  let phase: NonNullable<StreamBridgeStatus['phase']>;
  let ready: ConditionUpdate;
  if (failed) {
    phase = 'Failed';
    ready = { type: 'Ready', status: 'False', reason: 'BridgeFailed', message: problems.join('; ') };
  } else if (input.desiredReplicas > 0 && problems.length === 0) {
    phase = 'Running';
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'Running',
      message: `${readyPods.length} replica(s) ready, source and sink connected`,
    };
  } else if (withReport.length === 0 && input.desiredReplicas > 0) {
    phase = 'Pending';
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'Starting',
      message: problems.join('; ') || 'waiting for the bridge pods to report',
    };
  } else {
    phase = input.desiredReplicas === 0 ? 'Pending' : 'Degraded';
    ready = {
      type: 'Ready',
      status: 'False',
      reason: input.desiredReplicas === 0 ? 'ScaledToZero' : stale.length > 0 ? 'StaleReports' : 'NotReady',
      message: problems.join('; '),
    };
  }
  ready.observedGeneration = generation;

  const lastError = reports
    .map((r) => r.lastError)
    .filter((e): e is NonNullable<BridgeStatus['lastError']> => e !== undefined)
    .sort((a, b) => a.time.localeCompare(b.time))
    .at(-1);
  const message =
    problems.length > 0
      ? problems.join('; ')
      : lastError
        ? `last error (${lastError.time}): ${lastError.side} ${lastError.kind}: ${lastError.message}`
        : undefined;

  return {
    phase,
    observedGeneration: generation,
    conditions: setConditions(prevConditions, [source, sink, ready], now),
    counters,
    // Written also when empty: an absent list means totals not (yet) attributed to pods.
    ...(entries ? { pods: entries } : {}),
    ...(lastDeliveryTime ? { lastDeliveryTime } : {}),
    ...(message ? { message: truncate(message, 1024) } : {}),
  };
}

/** The status without what changes on every message (counters, per-pod counts, last delivery time). */
function shape(status: StreamBridgeStatus | undefined): unknown {
  if (!status) return undefined;
  const { counters: _c, pods: _p, lastDeliveryTime: _l, ...rest } = status;
  return rest;
}

/** What moves with the messages: counters, last delivery time, per-pod counts (not their report times). */
function tallies(status: StreamBridgeStatus | undefined): unknown {
  return {
    counters: status?.counters,
    lastDeliveryTime: status?.lastDeliveryTime,
    pods: status?.pods?.map(({ lastReportTime: _t, ...counts }) => counts),
  };
}

/** A pod whose entry now names another bridge process (it restarted). */
function newLife(current: StreamBridgeStatus | undefined, next: StreamBridgeStatus): boolean {
  const before = new Map((current?.pods ?? []).map((e) => [e.name, e.instance]));
  return (next.pods ?? []).some((e) => before.has(e.name) && before.get(e.name) !== e.instance);
}

/**
 * Whether a status write must go out now: phase, conditions, message or generation changed, or a pod's
 * bridge process restarted (always); or only counters (totals, per-pod counts, last delivery time) changed
 * and `minIntervalMs` passed since the last write (bounded write rate). A change of report times alone is
 * not written: an entry with an older report time but the same counts adds the same to the totals.
 */
export function shouldWrite(
  current: StreamBridgeStatus | undefined,
  next: StreamBridgeStatus,
  lastWriteMs: number | undefined,
  now: number,
  minIntervalMs: number,
): boolean {
  if (!jsonEqual(shape(current), shape(next))) return true;
  if (newLife(current, next)) return true;
  if (jsonEqual(tallies(current), tallies(next))) return false;
  return lastWriteMs === undefined || now - lastWriteMs >= minIntervalMs;
}
