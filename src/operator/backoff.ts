import type { RandomSource } from './clock.js';

export interface BackoffOptions {
  /** Delay ceiling of the first retry. */
  initialMs: number;
  /** Largest delay. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * full: uniform in [0, d]; equal: d/2 + uniform in [0, d/2]; none: d.
   * Full jitter spreads reconnecting clients best; equal keeps a floor.
   */
  jitter?: 'full' | 'equal' | 'none';
  random?: RandomSource;
}

/** Capped exponential backoff: the delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const factor = opts.factor ?? 2;
  const n = Math.max(1, Math.floor(attempt));
  const ceiling = Math.min(opts.maxMs, opts.initialMs * Math.pow(factor, n - 1));
  const random = opts.random ?? Math.random;
  switch (opts.jitter ?? 'full') {
    case 'none':
      return ceiling;
    case 'equal':
      return ceiling / 2 + random() * (ceiling / 2);
    case 'full':
      return random() * ceiling;
  }
}

/** Backoff state for one retrying activity: `next()` grows the delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  next(): number {
    this.attempt++;
    return backoffDelay(this.attempt, this.opts);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
