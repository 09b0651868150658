/**
 * Reads by key that share queries. A read joins the batch that has not been sent yet, never one
 * already on its way: every answer comes from a query sent after the read was asked for, so it is as
 * fresh as a query of its own (it sees every write committed before), while under load one round trip
 * serves every read that arrived while the others were on their way. At most `inFlight` queries at
 * once: a read waits for a free one rather than for a round trip to end.
 */
interface Waiter<V> {
  readonly resolve: (value: V | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export class CoalescedReads<V> {
  private waiting = new Map<string, Waiter<V>[]>();
  /** Queries on their way, and whether a send is already scheduled for the waiting batch. */
  private sending = 0;
  private scheduled = false;

  /** `fetch` answers the keys it found; a key it leaves out reads as undefined. */
  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V>>,
    private readonly inFlight = 1,
  ) {}

  read(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  /**
   * Sends the waiting batch if a query is free, once this turn of the event loop has read every request
   * that was ready (`setImmediate` runs after the poll phase's I/O callbacks; a microtask would run after
   * the first of them, and send each request's read alone).
   */
  private schedule(): void {
    if (this.scheduled || this.sending >= this.inFlight || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    if (this.sending >= this.inFlight || this.waiting.size === 0) return;
    const batch = this.waiting;
    this.waiting = new Map();
    this.sending += 1;
    try {
      const found = await this.fetch([...batch.keys()]);
      for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(key));
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.sending -= 1;
      this.schedule();
    }
  }
}
