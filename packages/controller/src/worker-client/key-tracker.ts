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
 * The keys this worker has reported as held, per location and scope. The StorageManager has no
 * "list keys" call, and this set is by construction exactly what the events told the controller,
 * so it is what a full sync sends. Admits of held keys and evicts of absent ones are no-ops, which
 * also makes duplicate listener callbacks harmless.
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

  /** A copy of every partition's hashes (the full sync snapshot). */
  snapshot(): PartitionSnapshot[] {
    const out: PartitionSnapshot[] = [];
    for (const { partition, hashes } of this.#partitions.values()) if (hashes.size > 0) out.push({ partition, hashes: [...hashes] });
    return out;
  }
}
