import fs from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../errors/index.js';

/**
 * Source positions kept in a local file: JSON written to a temporary file, fsync'd, renamed over the
 * old one, and the directory fsync'd, so a crash leaves either the old or the new checkpoint, never a
 * torn one.
 */
export class FileCheckpointStore<T> {
  constructor(readonly file: string) {}

  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new UserInputError(
        'BRIDGE_CHECKPOINT',
        `checkpoint file ${this.file} is not valid JSON (${(err as Error).message}); move it away to start from the configured position`,
      );
    }
  }

  async save(value: T): Promise<void> {
    const dir = path.dirname(this.file);
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = await fs.promises.open(tmp, 'w');
    try {
      await fd.writeFile(JSON.stringify(value, null, 1));
      await fd.sync();
    } finally {
      await fd.close();
    }
    await fs.promises.rename(tmp, this.file);
    const dfd = await fs.promises.open(dir, 'r');
    try {
      await dfd.sync();
    } finally {
      await dfd.close();
    }
  }
}

/**
 * Positions delivered in order, acknowledged in any order: `committable()` is the last position of the
 * longest acknowledged prefix (what may be checkpointed or committed).
 */
export class AckTracker<P> {
  private queue: Array<{ pos: P; acked: boolean }> = [];
  private head = 0;
  private last: P | undefined;

  add(pos: P): () => void {
    const entry = { pos, acked: false };
    this.queue.push(entry);
    return () => {
      entry.acked = true;
      this.advance();
    };
  }

  private advance(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as { acked: boolean }).acked) {
      this.last = (this.queue[this.head] as { pos: P }).pos;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  committable(): P | undefined {
    return this.last;
  }

  /** Delivered and not yet acknowledged. */
  outstanding(): number {
    return this.queue.length - this.head;
  }
}
