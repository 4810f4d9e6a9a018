import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/obs/index.js';
import {
  Backoff,
  type BridgeMessage,
  type Clock,
  type ConnectorContext,
  type ConnectorReporter,
} from '../../../src/bridge/index.js';

/** A clock whose sleeps resolve at once (recording the delays) — for retry loops in unit tests. */
export class InstantClock implements Clock {
  readonly sleeps: number[] = [];
  private t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    return new Promise((r) => setImmediate(r));
  }
}

export interface RecordedReport extends ConnectorReporter {
  events: string[];
}

export function recordingReporter(): RecordedReport {
  const events: string[] = [];
  return {
    events,
    connected: (m) => events.push(`connected:${m ?? ''}`),
    disconnected: (r, m) => events.push(`disconnected:${r}:${m}`),
    reconnected: () => events.push('reconnected'),
    retry: (k) => events.push(`retry:${k}`),
    error: (k) => events.push(`error:${k}`),
    discarded: (r, n) => events.push(`discarded:${r}:${n}`),
  };
}

export function testContext(
  clock: Clock = new InstantClock(),
): ConnectorContext & { report: RecordedReport } {
  return {
    bridge: 'unit',
    logger: silentLogger(),
    clock,
    newBackoff: () => new Backoff({ initialMs: 10, maxMs: 100, multiplier: 2, jitter: 'none' }),
    report: recordingReporter(),
    signal: new AbortController().signal,
  };
}

export function msg(text: string, attributes: BridgeMessage['attributes'] = {}): BridgeMessage {
  return { data: Buffer.from(text), attributes };
}

export function registry(): Registry {
  return new Registry();
}

/** Resolves once `cond` holds, polling every 10 ms; fails after `ms` (generous: a loaded machine is slow). */
export async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
