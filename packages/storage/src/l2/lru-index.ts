import type { EncodedKey } from '@tierkv/core';

/** What the index needs of an entry: its size in bytes and its pin count. */
export interface IndexedObject {
  size: number;
  pins: number;
}

/**
 * The object index of an L2 adapter with a byte budget: a Map kept in access order (oldest first),
 * so touch, insert and delete are O(1) and eviction walks from the cold end, skipping pinned
 * objects. Used bytes include bytes reserved by writes in progress.
 */
export class LruIndex<E extends IndexedObject> {
  readonly #entries = new Map<EncodedKey, E>();
  #usedBytes = 0;
  #reservedBytes = 0;

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of indexed objects. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Bytes of indexed objects plus bytes reserved by writes in progress. */
  get committedBytes(): number {
    return this.#usedBytes + this.#reservedBytes;
  }

  get(key: EncodedKey): E | undefined {
    return this.#entries.get(key);
  }

  has(key: EncodedKey): boolean {
    return this.#entries.has(key);
  }

  /** Marks an access: moves the entry to the hot end. */
  touch(key: EncodedKey): E | undefined {
    const e = this.#entries.get(key);
    if (e) {
      this.#entries.delete(key);
      this.#entries.set(key, e);
    }
    return e;
  }

  /** Inserts or replaces; the entry becomes the hottest. Returns the replaced entry. */
  set(key: EncodedKey, entry: E): E | undefined {
    const old = this.#entries.get(key);
    if (old) {
      this.#usedBytes -= old.size;
      this.#entries.delete(key);
    }
    this.#entries.set(key, entry);
    this.#usedBytes += entry.size;
    return old;
  }

  delete(key: EncodedKey): E | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    this.#usedBytes -= e.size;
    return e;
  }

  reserve(bytes: number): void {
    this.#reservedBytes += bytes;
  }

  unreserve(bytes: number): void {
    this.#reservedBytes = Math.max(0, this.#reservedBytes - bytes);
  }

  /**
   * Unpinned entries, coldest first, whose removal brings committed bytes + `incoming` within
   * `capacity`; undefined when even evicting every unpinned entry would not make room. Entries in
   * `protect` are skipped (for example the key being overwritten).
   */
  victims(incoming: number, capacity: number, protect?: EncodedKey): [EncodedKey, E][] | undefined {
    let excess = this.committedBytes + incoming - capacity;
    if (excess <= 0) return [];
    const out: [EncodedKey, E][] = [];
    for (const [key, e] of this.#entries) {
      if (e.pins > 0 || key === protect) continue;
      out.push([key, e]);
      excess -= e.size;
      if (excess <= 0) return out;
    }
    return undefined;
  }

  /** A lookup's lock: touches the entry and pins it (pinned entries are never evicted or deleted); false when absent. */
  pin(key: EncodedKey): boolean {
    const e = this.touch(key);
    if (!e) return false;
    e.pins++;
    return true;
  }

  /** Releases one pin (never below zero); absent keys are ignored. */
  unpin(key: EncodedKey): void {
    const e = this.#entries.get(key);
    if (e && e.pins > 0) e.pins--;
  }

  /** Pins currently held on `key`. */
  pinsOf(key: EncodedKey): number {
    return this.#entries.get(key)?.pins ?? 0;
  }

  /** Removes the entry unless it is pinned; returns it, or undefined when absent or pinned. */
  deleteUnpinned(key: EncodedKey): E | undefined {
    const e = this.#entries.get(key);
    return e && e.pins === 0 ? this.delete(key) : undefined;
  }

  /** Removes every unpinned entry and returns them. */
  clearUnpinned(): [EncodedKey, E][] {
    const removed = [...this.#entries].filter(([, e]) => e.pins === 0);
    for (const [key] of removed) this.delete(key);
    return removed;
  }

  keys(): IterableIterator<EncodedKey> {
    return this.#entries.keys();
  }
}
