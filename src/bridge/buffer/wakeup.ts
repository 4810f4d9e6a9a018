/**
 * The signal between a disk buffer and the loop that drains it: the loop sleeps up to its interval and
 * wakes at once when a segment is committed (`kick`) or the loop is stopped (the abort signal). A kick
 * that comes while the loop is busy is remembered, so the next wait returns at once.
 */
export class Wakeup {
  private wake: (() => void) | undefined;
  private pending = false;

  constructor(private readonly stop: AbortSignal) {}

  kick(): void {
    this.pending = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves after `ms`, or earlier on a kick (also one made before the call) or a stop. */
  wait(ms: number): Promise<void> {
    if (this.pending || this.stop.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.pending = false;
        resolve();
      };
    });
  }
}
