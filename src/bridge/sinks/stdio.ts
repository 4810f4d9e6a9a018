import type { Writable } from 'node:stream';
import { createEncoder, DEFAULT_FRAMING, type FramingSettings } from '../framing.js';
import type { BridgeMessage, Sink, SinkContext, WriteResult } from '../types.js';

export interface StdioSinkOptions {
  framing?: FramingSettings;
  /** The stream to write (default process.stdout). */
  output?: Writable;
}

/** Writes framed records to stdout; a write resolves once the stream has taken the bytes. */
export class StdioSink implements Sink {
  readonly kind = 'stdio';
  private output!: Writable;

  constructor(private readonly opts: StdioSinkOptions = {}) {}

  start(ctx: SinkContext): Promise<void> {
    this.output = this.opts.output ?? process.stdout;
    ctx.report.connected('writing standard output');
    return Promise.resolve();
  }

  write(batch: readonly BridgeMessage[]): Promise<WriteResult> {
    const enc = createEncoder(this.opts.framing ?? DEFAULT_FRAMING);
    const bytes = Buffer.concat(batch.map((m) => enc.encode(m)));
    return new Promise<WriteResult>((resolve, reject) => {
      this.output.write(bytes, (err) => (err ? reject(err) : resolve({ rejected: [] })));
    });
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.opts.output && this.opts.output !== process.stdout) {
      return new Promise<void>((resolve) => this.output.end(() => resolve()));
    }
    return Promise.resolve();
  }
}
