/** IDs seen lately, the oldest forgotten first beyond `limit`: for de-duplicating deliveries. */
export class RecentIds {
  private readonly seen = new Set<string>();

  constructor(private readonly limit: number) {}

  has(id: string): boolean {
    return this.seen.has(id);
  }

  add(id: string): void {
    this.seen.add(id);
    if (this.seen.size > this.limit) this.seen.delete(this.seen.values().next().value!);
  }
}
