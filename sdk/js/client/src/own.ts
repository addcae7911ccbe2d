/**
 * The most own serials a channel remembers. A serial is kept while a resume
 * or a history fill can still bring its message back (it is above the last
 * serial delivered); this is only a safety net for a channel that publishes
 * a great deal and receives nothing between two reconnections: more than
 * an hour of publishing at the server's default client event rate (10 per
 * second).
 */
export const OWN_SERIALS_MAX = 50_000;

/**
 * The serials of a channel's own acknowledged publishes that are above its
 * last delivered serial, in increasing order: the server never sends a
 * connection its own publishes live, but a resume, a gap repair or a
 * history fill may, and those must not reach the publisher's handlers.
 */
export class OwnSerials {
  private serials: number[] = [];
  /** Index of the first serial still kept: pruning is O(1) per serial. */
  private head = 0;

  /** How many serials are kept. */
  get size(): number {
    return this.serials.length - this.head;
  }

  /** Remembers serial unless it is at or below last (nothing can bring it back). */
  add(serial: number, last: number | undefined): void {
    if (last !== undefined && serial <= last) return;
    const s = this.serials;
    // Acks come mostly in increasing order: a push, else a sorted insert.
    let i = s.length;
    while (i > this.head && (s[i - 1] as number) > serial) i--;
    if (i > this.head && s[i - 1] === serial) return;
    s.splice(i, 0, serial);
    if (this.size > OWN_SERIALS_MAX) this.head++;
    this.compact();
  }

  /**
   * Forgets the serials below serial, the one about to be delivered, and
   * reports whether serial itself is own (then forgets it too): the
   * channel's position moves to serial, and nothing at or below it is
   * sent again.
   */
  take(serial: number): boolean {
    const s = this.serials;
    while (this.head < s.length && (s[this.head] as number) < serial) this.head++;
    const own = this.head < s.length && s[this.head] === serial;
    if (own) this.head++;
    this.compact();
    return own;
  }

  /** The kept serials, oldest first. */
  list(): number[] {
    return this.serials.slice(this.head);
  }

  /** Keeps exactly these serials (a new position). */
  replace(serials: readonly number[]): void {
    this.serials = [...new Set(serials)].sort((a, b) => a - b).slice(-OWN_SERIALS_MAX);
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 0 && this.head * 2 >= this.serials.length) {
      this.serials = this.serials.slice(this.head);
      this.head = 0;
    }
  }
}
