import { createHash } from 'node:crypto';
import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/obs/index.js';
import { createLogger } from '../../../src/obs/index.js';

export const logger = process.env.PLEXUS_TEST_LOGS
  ? createLogger({ level: 'debug', format: 'json' })
  : silentLogger();

export function freshRegistry(): Registry {
  return new Registry();
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** `msg-<run>-<n>` payloads, padded to `size` bytes. */
export function payload(run: string, n: number, size = 64): string {
  const head = `msg-${run}-${String(n).padStart(7, '0')}`;
  return head.length >= size ? head : head + '.'.repeat(size - head.length);
}

export interface Tally {
  /** Distinct payloads received. */
  unique: number;
  /** Receipts beyond the first of a payload (at-least-once duplicates). */
  duplicates: number;
  /** Expected payloads never received. */
  missing: string[];
  /** SHA-256 over the sorted distinct payloads, to compare with what was sent. */
  checksum: string;
}

export function checksum(items: Iterable<string>): string {
  const h = createHash('sha256');
  for (const s of [...new Set(items)].sort()) h.update(s).update('\n');
  return h.digest('hex');
}

export function tally(sent: readonly string[], received: readonly string[]): Tally {
  const seen = new Map<string, number>();
  for (const r of received) seen.set(r, (seen.get(r) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return {
    unique: seen.size,
    duplicates,
    missing: sent.filter((s) => !seen.has(s)).slice(0, 20),
    checksum: checksum(seen.keys()),
  };
}

export async function publish(url: string, queue: string, bodies: readonly string[]): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (const b of bodies) {
      if (!ch.sendToQueue(queue, Buffer.from(b), { persistent: true })) {
        await new Promise<void>((r) => ch.once('drain', () => r()));
      }
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

/** Reads a queue until `count` messages arrived or `idleMs` passed without any. */
export async function drainQueue(
  url: string,
  queue: string,
  count: number,
  idleMs = 3000,
): Promise<string[]> {
  const conn = await amqp.connect(url);
  const out: string[] = [];
  try {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true });
    await ch.prefetch(500);
    await new Promise<void>((resolve) => {
      let timer = setTimeout(resolve, idleMs);
      void ch.consume(queue, (m) => {
        if (!m) return;
        out.push(m.content.toString());
        ch.ack(m);
        clearTimeout(timer);
        if (out.length >= count) timer = setTimeout(resolve, 300);
        else timer = setTimeout(resolve, idleMs);
      });
    });
  } finally {
    await conn.close();
  }
  return out;
}

export async function deleteQueues(url: string, queues: string[], exchanges: string[] = []): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function queueDepth(url: string, queue: string): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
