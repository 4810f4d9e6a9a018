import type { LeaseStore } from '../store/index.js';

/** How long a batch lease lives without renewal; it is renewed every third of that while the batch runs. */
export const BATCH_LEASE_TTL_MS = 30_000;

/**
 * The lease of one batch held by one worker while it processes the batch (distributed stores only). A
 * redelivered copy of the batch finds the lease held while the first worker lives, and takes it over at
 * once when that worker died (the lease expired), instead of waiting for max_batch_processing_time.
 */
export class BatchLease {
  private timer: NodeJS.Timeout | undefined;
  private lostLease = false;

  private constructor(
    private readonly store: LeaseStore,
    private readonly ks: string,
    private readonly name: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  static leaseName(runId: number, node: string, batchIdx: number): string {
    return `batch/${runId}/${node}/${batchIdx}`;
  }

  /** Takes the lease and keeps renewing it; undefined when another worker holds it. */
  static async take(
    store: LeaseStore,
    ks: string,
    name: string,
    owner: string,
    ttlMs = BATCH_LEASE_TTL_MS,
  ): Promise<BatchLease | undefined> {
    if (!(await store.acquireLease(ks, name, owner, ttlMs))) return undefined;
    const lease = new BatchLease(store, ks, name, owner, ttlMs);
    lease.timer = setInterval(() => lease.renew(), Math.max(10, Math.floor(ttlMs / 3)));
    lease.timer.unref();
    return lease;
  }

  /** True when a renewal found the lease taken by someone else. */
  get lost(): boolean {
    return this.lostLease;
  }

  private renew(): void {
    this.store.renewLease(this.ks, this.name, this.owner, this.ttlMs).then(
      (ok) => {
        if (!ok) this.lostLease = true;
      },
      () => undefined, // a failed renewal is tried again at the next tick; the lease outlives one miss
    );
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.store.releaseLease(this.ks, this.name, this.owner).catch(() => undefined);
  }
}
