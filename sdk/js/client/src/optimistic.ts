import { Emitter } from './emitter.js';

/** An item shown before (pending) or after (confirmed) the server stored it. */
export interface OptimisticItem<T> {
  id: string;
  value: T;
  status: 'pending' | 'confirmed';
  /** The server's serial, once confirmed. */
  serial?: number;
}

export interface OptimisticEvents<T> {
  change: ReadonlyArray<OptimisticItem<T>>;
  rolled_back: { item: OptimisticItem<T>; error: unknown };
}

/**
 * A list with optimistic additions: `submit` shows the item at once,
 * confirms it with the server's serial on the ack and removes it again on
 * a nack or a deadline. `receive` adds items from live events, skipping
 * those already shown.
 */
export class OptimisticList<T> extends Emitter<OptimisticEvents<T>> {
  private list: Array<OptimisticItem<T>> = [];

  get items(): ReadonlyArray<OptimisticItem<T>> {
    return this.list;
  }

  /**
   * Shows value as pending, then runs publish (e.g.
   * `(id) => herald.publish(channel, event, value, { id })`).
   * Resolves with the confirmed item; rejects after rolling back.
   */
  async submit(id: string, value: T, publish: (id: string) => Promise<{ serial: number }>): Promise<OptimisticItem<T>> {
    const item: OptimisticItem<T> = { id, value, status: 'pending' };
    this.update([...this.list, item]);
    try {
      const { serial } = await publish(id);
      const confirmed: OptimisticItem<T> = { ...item, status: 'confirmed', serial };
      this.update(this.list.map((it) => (it.id === id ? confirmed : it)));
      return confirmed;
    } catch (error) {
      this.update(this.list.filter((it) => it.id !== id));
      this.emit('rolled_back', { item, error });
      throw error;
    }
  }

  /** Adds an item that arrived live, unless one with its id or serial is shown. */
  receive(id: string, value: T, serial?: number): void {
    if (this.list.some((it) => it.id === id || (serial !== undefined && it.serial === serial))) return;
    const item: OptimisticItem<T> = { id, value, status: 'confirmed' };
    if (serial !== undefined) item.serial = serial;
    this.update([...this.list, item]);
  }

  private update(next: Array<OptimisticItem<T>>): void {
    this.list = next;
    this.emit('change', this.list);
  }
}
