import WebSocket from 'ws';
import { TransientError } from '../../errors/index.js';
import type { BridgeMessage, Sink, SinkContext, WriteResult } from '../types.js';

export interface WebSocketSinkOptions {
  url: string;
  headers?: Record<string, string>;
  /** Binary frames (default false: text frames). */
  binary?: boolean;
}

/**
 * WebSocket sink: one frame per message. A write resolves once the socket has flushed every frame
 * (WebSocket has no application-level acknowledgement); a lost connection fails the write, which the
 * bridge retries, and the next write reconnects.
 */
export class WebSocketSink implements Sink {
  readonly kind = 'websocket';
  private ctx!: SinkContext;
  private ws: WebSocket | undefined;
  private connecting: Promise<WebSocket> | undefined;
  private everConnected = false;
  private closed = false;

  constructor(private readonly opts: WebSocketSinkOptions) {}

  async start(ctx: SinkContext): Promise<void> {
    this.ctx = ctx;
    await this.ensure().catch((err: Error) =>
      ctx.logger.warn({ err: err.message }, 'WebSocket sink not reachable yet'),
    );
  }

  private ensure(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    if (!this.connecting) {
      this.connecting = new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(this.opts.url, {
          headers: this.opts.headers ?? {},
          handshakeTimeout: 10_000,
        });
        ws.once('open', () => {
          ws.removeAllListeners('error');
          ws.on('error', (err: Error) => this.ctx.logger.warn({ err: err.message }, 'WebSocket sink error'));
          ws.on('close', (code: number) => {
            if (this.ws === ws) this.ws = undefined;
            if (!this.closed)
              this.ctx.report.disconnected('Closed', `WebSocket ${this.opts.url} closed (code ${code})`);
          });
          this.ws = ws;
          this.ctx.report.connected(`connected to ${this.opts.url}`);
          if (this.everConnected) this.ctx.report.reconnected();
          this.everConnected = true;
          resolve(ws);
        });
        ws.once('error', (err: Error) => {
          ws.terminate();
          this.ctx.report.disconnected('Unreachable', `WebSocket ${this.opts.url}: ${err.message}`);
          reject(err);
        });
      }).finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  async write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    const ws = await this.ensure();
    await Promise.all(
      batch.map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            ws.send(
              this.opts.binary ? m.data : m.data.toString('utf8'),
              { binary: this.opts.binary ?? false },
              (err) =>
                err
                  ? reject(new TransientError('BRIDGE_SINK', `WebSocket send failed: ${err.message}`))
                  : resolve(),
            );
          }),
      ),
    );
    return { rejected: [] };
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'bridge stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }
}
