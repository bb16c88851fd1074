import type { ObjectKey } from '@tierkv/core';
import type { WireScope } from '../protocol/messages.js';

export interface Partition {
  readonly id: string;
  readonly location: string;
  readonly scope: WireScope;
}

export interface PartitionSnapshot {
  readonly partition: Partition;
  readonly hashes: string[];
}

/**
 * The keys this worker has reported as held, per location and scope: what the events told the
 * controller, so it is what a full sync sends. For the L1 location it is seeded from, and at each
 * full sync replaced by, the storage's own key list (`replaceLocation`) when the storage has one.
 * Admits of held keys and evicts of absent ones are no-ops, which also makes duplicate listener
 * callbacks harmless.
 */
export class KeyTracker {
  readonly #partitions = new Map<string, { partition: Partition; hashes: Set<string> }>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  partition(location: string, key: ObjectKey): Partition {
    const id = `${location}\u0000${key.modelName}\u0000${key.kvRank}\u0000${key.cacheSalt}`;
    return (
      this.#partitions.get(id)?.partition ?? {
        id,
        location,
        scope: { modelName: key.modelName, kvRank: key.kvRank, cacheSalt: key.cacheSalt },
      }
    );
  }

  admit(p: Partition, hash: string): boolean {
    let entry = this.#partitions.get(p.id);
    if (!entry) this.#partitions.set(p.id, (entry = { partition: p, hashes: new Set() }));
    if (entry.hashes.has(hash)) return false;
    entry.hashes.add(hash);
    this.#size++;
    return true;
  }

  evict(p: Partition, hash: string): boolean {
    const entry = this.#partitions.get(p.id);
    if (!entry || !entry.hashes.delete(hash)) return false;
    this.#size--;
    return true;
  }

  /**
   * Makes `keys` the whole set held at `location` (the storage's list is the truth): partitions of
   * that location are rebuilt, other locations are untouched. Returns how many keys it added and
   * dropped compared with what was tracked.
   */
  replaceLocation(location: string, keys: Iterable<ObjectKey>): { added: number; dropped: number } {
    const before = new Map<string, Set<string>>();
    for (const [id, e] of this.#partitions) {
      if (e.partition.location !== location) continue;
      before.set(id, e.hashes);
      this.#size -= e.hashes.size;
      this.#partitions.delete(id);
    }
    let added = 0;
    for (const k of keys) {
      const p = this.partition(location, k);
      if (this.admit(p, k.chunkHash) && !before.get(p.id)?.has(k.chunkHash)) added++;
    }
    let dropped = 0;
    for (const [id, hashes] of before) {
      const now = this.#partitions.get(id)?.hashes;
      for (const h of hashes) if (!now?.has(h)) dropped++;
    }
    return { added, dropped };
  }

  /** A copy of every partition's hashes (the full sync snapshot). */
  snapshot(): PartitionSnapshot[] {
    const out: PartitionSnapshot[] = [];
    for (const { partition, hashes } of this.#partitions.values()) if (hashes.size > 0) out.push({ partition, hashes: [...hashes] });
    return out;
  }
}
