import type { FileHandle } from 'node:fs/promises';

interface Slot {
  readonly fh: FileHandle;
  users: number;
  retired: boolean;
}

/**
 * Read handles of object files kept open between loads, at most `max` of them (least recently
 * used closed first), so loading a hot object costs one `readv` instead of `open` + read +
 * `close`: three thread-pool round trips become one. Keyed by the index entry, not the path: an
 * entry that leaves the index (replaced by a store, deleted, evicted, found corrupt) is retired
 * and its handle closed once no load uses it, so a handle never outlives the object it was opened
 * for. A file removed or renamed over behind the adapter's back keeps its old inode readable
 * through a cached handle; the load's fstat sees its link count at 0 and answers a miss.
 */
export class OpenFiles<E extends object> {
  readonly #max: number;
  readonly #open: (entry: E) => Promise<FileHandle>;
  // Insertion order is recency: a reused slot is deleted and re-inserted.
  readonly #slots = new Map<E, Slot>();
  readonly #closing = new Set<Promise<void>>();

  constructor(max: number, open: (entry: E) => Promise<FileHandle>) {
    this.#max = max;
    this.#open = open;
  }

  /** Handles open now (cached or in use). */
  get size(): number {
    return this.#slots.size;
  }

  /** A handle on `entry`'s file, cached or new; give it back with `release`. */
  async acquire(entry: E): Promise<FileHandle> {
    const slot = this.#slots.get(entry);
    if (slot && !slot.retired) {
      slot.users++;
      this.#slots.delete(entry);
      this.#slots.set(entry, slot);
      return slot.fh;
    }
    return this.#open(entry);
  }

  /**
   * Gives back a handle from `acquire`. `keep`: the file read cleanly and may serve later loads;
   * otherwise (an error, a corrupt or vanished file) it is closed once unused.
   */
  release(entry: E, fh: FileHandle, keep: boolean): void {
    const slot = this.#slots.get(entry);
    if (slot && slot.fh === fh) {
      slot.users--;
      if (!keep) slot.retired = true;
      if (slot.retired && slot.users === 0) this.#drop(entry, slot);
      return;
    }
    // A handle of its own (none was cached, or another load cached first).
    if (!keep || slot || this.#max === 0) {
      this.#closeLater(fh);
      return;
    }
    this.#slots.set(entry, { fh, users: 0, retired: false });
    this.#trim();
  }

  /** `entry` left the index: its handle closes as soon as no load uses it. */
  retire(entry: E): void {
    const slot = this.#slots.get(entry);
    if (!slot) return;
    slot.retired = true;
    if (slot.users === 0) this.#drop(entry, slot);
  }

  /** Closes every handle (the adapter's close(), after its loads have settled). */
  async closeAll(): Promise<void> {
    for (const [entry, slot] of [...this.#slots]) this.#drop(entry, slot);
    while (this.#closing.size > 0) await Promise.allSettled([...this.#closing]);
  }

  #trim(): void {
    if (this.#slots.size <= this.#max) return;
    for (const [entry, slot] of this.#slots) {
      if (this.#slots.size <= this.#max) break;
      if (slot.users === 0) this.#drop(entry, slot);
    }
  }

  #drop(entry: E, slot: Slot): void {
    this.#slots.delete(entry);
    this.#closeLater(slot.fh);
  }

  #closeLater(fh: FileHandle): void {
    const p = fh.close().catch(() => undefined);
    this.#closing.add(p);
    void p.then(() => this.#closing.delete(p));
  }
}
