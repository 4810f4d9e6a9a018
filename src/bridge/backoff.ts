import { AbortedError, type Clock, isAborted } from './clock.js';

export interface BackoffSettings {
  /** First delay ceiling in ms (default 1000). */
  initialMs: number;
  /** Largest delay ceiling in ms (default 30000). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  multiplier: number;
  /**
   * `full`: uniform in [0, ceiling] (AWS "full jitter"); `equal`: ceiling/2 + uniform in [0, ceiling/2];
   * `none`: the ceiling itself.
   */
  jitter: 'full' | 'equal' | 'none';
}

export const DEFAULT_BACKOFF: BackoffSettings = {
  initialMs: 1000,
  maxMs: 30_000,
  multiplier: 2,
  jitter: 'full',
};

/** Exponential backoff with jitter; `random` is injectable so tests are deterministic. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly settings: BackoffSettings = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The ceiling for attempt n (0-based): min(max, initial * multiplier^n). */
  ceiling(n: number): number {
    const { initialMs, maxMs, multiplier } = this.settings;
    const raw = initialMs * Math.pow(multiplier, n);
    return Number.isFinite(raw) ? Math.min(maxMs, raw) : maxMs;
  }

  /** The next delay in ms. */
  next(): number {
    const cap = this.ceiling(this.attempt);
    this.attempt++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    switch (this.settings.jitter) {
      case 'none':
        return cap;
      case 'equal':
        return Math.round(cap / 2 + (r * cap) / 2);
      case 'full':
        return Math.round(r * cap);
    }
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface RetryOptions {
  clock: Clock;
  backoff: Backoff;
  signal?: AbortSignal;
  /** Called after each failure, before sleeping `delayMs`. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Errors for which this returns false are rethrown at once (default: retry everything). */
  retryable?: (err: unknown) => boolean;
}

/**
 * Runs `fn` until it succeeds, sleeping with backoff between failures. Never gives up on a retryable
 * error; stops only when the signal is aborted (rejecting with AbortedError) or on a non-retryable error.
 */
export async function retryForever<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (;;) {
    if (opts.signal?.aborted) throw new AbortedError();
    try {
      const value = await fn(opts.backoff.attempts);
      opts.backoff.reset();
      return value;
    } catch (err) {
      if (isAborted(err) && opts.signal?.aborted) throw err;
      if (opts.retryable && !opts.retryable(err)) throw err;
      const attempt = opts.backoff.attempts + 1;
      const delay = opts.backoff.next();
      opts.onRetry?.(err, attempt, delay);
      await opts.clock.sleep(delay, opts.signal);
    }
  }
}
