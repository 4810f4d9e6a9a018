import type { Readable } from 'node:stream';
import { errorMessage } from '../../errors/index.js';
import { Decoder, DEFAULT_FRAMING, type FramingSettings } from '../framing.js';
import type { Source, SourceContext } from '../types.js';

export interface StdioSourceOptions {
  framing?: FramingSettings;
  /** Complete the bridge at EOF (default true); otherwise the source stays idle. */
  exitOnEof?: boolean;
  /** The stream to read (default process.stdin). */
  input?: Readable;
}

/**
 * Reads framed records from stdin. Standard input cannot be acknowledged, so records go to the sink
 * (or its disk buffer) as soon as they are read; EOF ends the source instead of emitting empty records.
 * The stream is paused while the bridge has no room (backpressure).
 */
export class StdioSource implements Source {
  readonly kind = 'stdio';
  private input!: Readable;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly opts: StdioSourceOptions = {}) {}

  start(ctx: SourceContext): Promise<void> {
    this.input = this.opts.input ?? process.stdin;
    const decoder = new Decoder(this.opts.framing ?? DEFAULT_FRAMING, 'stdin');
    ctx.report.connected('reading standard input');
    let seq = 0;
    this.done = (async () => {
      try {
        for await (const chunk of this.input as AsyncIterable<Buffer | string>) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          for (const msg of decoder.push(buf)) {
            await ctx.deliver({
              ...msg,
              attributes: { ...msg.attributes, position: `stdin:${++seq}` },
              ack: noop,
            });
          }
          if (this.stopped) return;
        }
        for (const msg of decoder.end()) {
          await ctx.deliver({
            ...msg,
            attributes: { ...msg.attributes, position: `stdin:${++seq}` },
            ack: noop,
          });
        }
        ctx.report.disconnected('Closed', 'standard input ended');
        if (this.opts.exitOnEof ?? true) ctx.end();
      } catch (err) {
        ctx.report.error('read', err);
        ctx.report.disconnected('Closed', `standard input: ${errorMessage(err)}`);
        ctx.logger.error({ err: errorMessage(err) }, 'reading standard input failed');
        if (this.opts.exitOnEof ?? true) ctx.end();
      }
    })();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.input?.pause();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.input && this.input !== process.stdin) this.input.destroy();
    else this.input?.pause();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 100))]);
  }
}

function noop(): void {}
