import { errorMessage } from '../errors/index.js';
import { isAborted } from './clock.js';
import type { ConnectionReason, ConnectorContext } from './types.js';

export interface SessionControl {
  /** The session is connected and working (resets the backoff, reports Connected). */
  up(message?: string): void;
}

export interface SuperviseOptions {
  /** What is being connected to, for messages ("RabbitMQ queue orders"). */
  what: string;
  /** Maps an error to a condition reason (default Unreachable). */
  reason?: (err: unknown) => ConnectionReason;
  /** True once the connector is stopping: the loop ends instead of reconnecting. */
  stopped: () => boolean;
}

/**
 * Runs `session` again and again: each call connects, calls `control.up()` once it works, and resolves
 * (or rejects) when the connection is lost. Between attempts it sleeps with exponential backoff and
 * jitter; it never gives up, reports every state change, and ends when `stopped()` or the bridge's
 * signal says so.
 */
export async function supervise(
  ctx: ConnectorContext,
  opts: SuperviseOptions,
  session: (control: SessionControl) => Promise<void>,
): Promise<void> {
  const backoff = ctx.newBackoff();
  let everUp = false;
  while (!opts.stopped() && !ctx.signal.aborted) {
    let wasUp = false;
    let failure: unknown;
    try {
      await session({
        up: (message) => {
          wasUp = true;
          backoff.reset();
          ctx.report.connected(message ?? `connected to ${opts.what}`);
          if (everUp) ctx.report.reconnected();
          everUp = true;
        },
      });
    } catch (err) {
      failure = err;
    }
    if (opts.stopped() || ctx.signal.aborted) break;
    const reason = failure === undefined ? 'Closed' : (opts.reason?.(failure) ?? 'Unreachable');
    const message =
      failure === undefined ? `${opts.what}: connection closed` : `${opts.what}: ${errorMessage(failure)}`;
    ctx.report.disconnected(reason, message);
    if (failure !== undefined) ctx.report.retry('connect', failure);
    const delay = wasUp ? 0 : backoff.next();
    ctx.logger.warn(
      { err: message, delayMs: delay },
      wasUp ? 'connection lost, reconnecting' : 'connect failed, retrying',
    );
    if (delay > 0) {
      try {
        await ctx.clock.sleep(delay, ctx.signal);
      } catch (err) {
        if (isAborted(err)) break;
        throw err;
      }
    }
  }
}
