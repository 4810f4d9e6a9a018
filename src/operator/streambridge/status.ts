/**
 * The status reducer: from the bridge pods' reports (the `/status` snapshots the controller scrapes) and the
 * workload to the StreamBridge status. Pure: the reconciler passes in what it observed and the time.
 */
import type { BridgeStatus } from '../../bridge/index.js';
import type { Condition, StreamBridgeStatus } from '../../api/index.js';
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

/**
 * The new status:
 * - Failed: the spec cannot run (specError) or a pod reports phase Failed;
 * - Pending: no pod has reported yet (starting);
 * - Running: every desired replica reports fresh and Ready;
 * - Degraded: anything else (a replica missing, a connection down, a report stale).
 * Counters are the sums over the pods' latest reports (each report is cumulative since its process started).
 */
export function reduceStatus(input: StatusInput): StreamBridgeStatus {
  const { generation, now, previous } = input;
  const staleAfter = input.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const prevConditions = previous?.conditions as Condition[] | undefined;
  const withReport = input.pods.filter((p) => p.report !== undefined);
  const fresh = withReport.filter((p) => p.reportedAt !== undefined && now - p.reportedAt <= staleAfter);
  const stale = withReport.filter((p) => !fresh.includes(p));
  const reports = withReport.map((p) => p.report!);

  const counters = {
    received: sum(reports, (r) => r.counters.received),
    delivered: sum(reports, (r) => r.counters.delivered),
    bufferedBytes: sum(reports, (r) => r.buffer?.bytes ?? 0),
    bufferedFiles: sum(reports, (r) => r.buffer?.files ?? 0),
    retries: sum(reports, (r) => r.counters.retries),
    reconnects: sum(reports, (r) => r.counters.reconnects),
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
      ...(previous?.counters ? { counters: previous.counters } : {}),
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
  for (const p of input.pods) {
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
    ...(lastDeliveryTime ? { lastDeliveryTime } : {}),
    ...(message ? { message: truncate(message, 1024) } : {}),
  };
}

/** The status without what changes on every message (counters, last delivery time). */
function shape(status: StreamBridgeStatus | undefined): unknown {
  if (!status) return undefined;
  const { counters: _c, lastDeliveryTime: _l, ...rest } = status;
  return rest;
}

/**
 * Whether a status write must go out now: phase, conditions, message or generation changed (always), or only
 * counters changed and `minIntervalMs` passed since the last write (bounded write rate).
 */
export function shouldWrite(
  current: StreamBridgeStatus | undefined,
  next: StreamBridgeStatus,
  lastWriteMs: number | undefined,
  now: number,
  minIntervalMs: number,
): boolean {
  if (!jsonEqual(shape(current), shape(next))) return true;
  if (jsonEqual(current?.counters, next.counters) && current?.lastDeliveryTime === next.lastDeliveryTime)
    return false;
  return lastWriteMs === undefined || now - lastWriteMs >= minIntervalMs;
}
