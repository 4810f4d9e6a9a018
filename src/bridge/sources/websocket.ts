import WebSocket from 'ws';
import { errorMessage } from '../../errors/index.js';
import { supervise } from '../supervise.js';
import type { ConnectionReason, Source, SourceContext } from '../types.js';

export interface WebSocketSourceOptions {
  url: string;
  headers?: Record<string, string>;
  /** Rotate the connection this often, make-before-break (0 / undefined: never). */
  reconnectEveryMs?: number;
  /** How long old and new connections overlap during a rotation (default 2 s). */
  rotationOverlapMs?: number;
  /** Ping interval (default 30 s); the peer counts as dead without a pong within pongTimeoutMs. */
  pingEveryMs?: number;
  pongTimeoutMs?: number;
  /** Deliver text frames as their UTF-8 bytes and binary frames as they are (default true). */
  binary?: boolean;
  /** How long opening a connection may take (default 10 s). */
  openTimeoutMs?: number;
}

function wsReason(err: unknown): ConnectionReason {
  return /401|403/.test(errorMessage(err)) ? 'AuthFailed' : 'Unreachable';
}

/**
 * WebSocket source: one message per frame. When the server closes the connection (or it stops
 * answering pings) a new one is opened with backoff, forever; `reconnectEvery` rotates the connection
 * make-before-break: the new one is opened first, both deliver during the overlap, then the old one is
 * closed. A failed rotation keeps the old connection, is reported and retried with backoff. WebSocket
 * frames cannot be acknowledged, so each goes to the sink (or disk buffer) as soon as it arrives.
 */
export class WebSocketSource implements Source {
  readonly kind = 'websocket';
  private ctx!: SourceContext;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private sockets = new Set<WebSocket>();
  private endSession: (() => void) | undefined;
  private connSeq = 0;
  private timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: WebSocketSourceOptions) {}

  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.loop = supervise(
      ctx,
      { what: `WebSocket ${this.opts.url}`, reason: wsReason, stopped: () => this.stopped },
      (control) => this.session(control.up),
    );
    return Promise.resolve();
  }

  /**
   * Opens a connection. Its frames are delivered from the moment it exists: a server may send right
   * after the upgrade (even in the same TCP segment), before anyone could attach a listener to the
   * resolved socket.
   */
  private open(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.opts.url, {
        headers: this.opts.headers ?? {},
        handshakeTimeout: this.opts.openTimeoutMs ?? 10_000,
      });
      this.deliverFrames(ws);
      const fail = (err: Error): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('error', fail);
      ws.once('unexpected-response', (_req, res) =>
        fail(new Error(`server answered HTTP ${res.statusCode} to the upgrade`)),
      );
      ws.once('open', () => {
        ws.removeListener('error', fail);
        this.sockets.add(ws);
        resolve(ws);
      });
    });
  }

  private deliverFrames(ws: WebSocket): void {
    const conn = ++this.connSeq;
    let seq = 0;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      const payload =
        isBinary || (this.opts.binary ?? true) ? buf : Buffer.from(buf.toString('utf8'), 'utf8');
      const pending = this.ctx.deliver({
        data: payload,
        attributes: { position: `ws:${conn}:${++seq}`, timestamp: Date.now() },
        ack: noop,
      });
      // Backpressure: stop reading the socket until the bridge has room again.
      ws.pause();
      void pending.then(() => ws.resume());
    });
  }

  private timer(ms: number, fn: () => void, repeat = false): NodeJS.Timeout {
    const t = repeat ? setInterval(fn, ms) : setTimeout(() => (this.timers.delete(t), fn()), ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    clearInterval(t);
    this.timers.delete(t);
  }

  private async session(up: (m?: string) => void): Promise<void> {
    const first = await this.open();
    if (this.stopped) {
      first.close(1000, 'bridge stopping');
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let current = first;
      let alive = true;
      let rotationTimer: NodeJS.Timeout | undefined;
      let ended = false;
      const rotationBackoff = this.ctx.newBackoff();
      const finish = (err?: Error): void => {
        ended = true;
        this.clearTimer(pingTimer);
        this.clearTimer(rotationTimer);
        this.endSession = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.endSession = () => finish();
      const attach = (ws: WebSocket): void => {
        ws.on('pong', () => {
          if (ws === current) alive = true;
        });
        ws.on('error', (err: Error) => {
          this.ctx.logger.warn({ err: err.message, url: this.opts.url }, 'WebSocket error');
        });
        const closed = (code: number, reason: Buffer): void => {
          this.sockets.delete(ws);
          if (ws !== current) return;
          if (this.stopped) finish();
          else
            finish(
              new Error(
                `server closed the connection (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`,
              ),
            );
        };
        ws.on('close', closed);
        // A server that closes right after the upgrade may have done so before this listener existed.
        if (ws.readyState === WebSocket.CLOSED) closed(1006, Buffer.alloc(0));
      };
      attach(first);
      up(`connected to ${this.opts.url}`);
      const pingEvery = this.opts.pingEveryMs ?? 30_000;
      const pingTimer = this.timer(
        pingEvery,
        () => {
          if (!alive) {
            this.ctx.logger.warn('no pong from the WebSocket server: closing the connection');
            current.terminate();
            return;
          }
          alive = false;
          current.ping();
        },
        true,
      );
      const rotateEvery = this.opts.reconnectEveryMs ?? 0;
      const scheduleRotation = (ms: number): void => {
        rotationTimer = this.timer(ms, () => void rotate());
      };
      const rotate = async (): Promise<void> => {
        if (this.stopped) return;
        try {
          const next = await this.open();
          // The bridge stopped, or the session ended (its successor opens its own connection).
          if (this.stopped || ended) {
            next.close(1000, this.stopped ? 'bridge stopping' : 'session ended');
            return;
          }
          const old = current;
          current = next;
          alive = true;
          rotationBackoff.reset();
          this.ctx.report.reconnected();
          this.ctx.logger.info('WebSocket connection rotated (make-before-break)');
          this.timer(this.opts.rotationOverlapMs ?? 2000, () => old.close(1000, 'rotation'));
          scheduleRotation(rotateEvery);
          attach(next);
        } catch (err) {
          if (ended) return;
          const delay = Math.max(rotationBackoff.next(), 100);
          this.ctx.report.retry('rotate', err);
          this.ctx.logger.warn(
            { err: errorMessage(err), delayMs: delay },
            'WebSocket rotation failed; keeping the current connection',
          );
          scheduleRotation(delay);
        }
      };
      if (rotateEvery > 0) scheduleRotation(rotateEvery);
    });
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const ws of this.sockets) ws.close(1000, 'bridge stopping');
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.clearTimer(t);
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.endSession?.();
    await this.loop;
  }
}

function noop(): void {}
