import type { WireScope } from '../protocol/messages.js';
import { WorkerKeys, type OpCounts } from './worker-keys.js';

/** The key under which a worker is known: instance id and worker id. */
export function workerKey(instanceId: string, workerId: number): string {
  return `${instanceId}\u0000${workerId}`;
}

/**
 * Which worker holds which chunk: instance → worker → location → scope → ChunkSet. Scopes
 * (model, rank, salt) are interned to small integers so a chunk costs only its 8 hash bytes plus
 * hash-set slack. Mutations are synchronous: the controller runs on one event loop.
 */
export class KvPool {
  readonly #scopes = new Map<string, number>();
  readonly #workers = new Map<string, WorkerKeys>();
  /** #workers' values as an array, rebuilt after a change: lookups walk it without a Map iterator. */
  #list: WorkerKeys[] | undefined;

  /** The interned id of a scope, created on first use. */
  scopeId(scope: WireScope): number {
    const key = `${scope.modelName}\u0000${scope.kvRank}\u0000${scope.cacheSalt}`;
    let id = this.#scopes.get(key);
    if (id === undefined) this.#scopes.set(key, (id = this.#scopes.size));
    return id;
  }

  /** The scope's id if any worker ever reported it. */
  findScope(scope: WireScope): number | undefined {
    return this.#scopes.get(`${scope.modelName}\u0000${scope.kvRank}\u0000${scope.cacheSalt}`);
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  workers(): IterableIterator<WorkerKeys> {
    return this.#workers.values();
  }

  /** The workers as an array (do not keep it: it is replaced when workers come and go). */
  workerList(): readonly WorkerKeys[] {
    return (this.#list ??= [...this.#workers.values()]);
  }

  worker(instanceId: string, workerId: number): WorkerKeys | undefined {
    return this.#workers.get(workerKey(instanceId, workerId));
  }

  ensureWorker(instanceId: string, workerId: number): WorkerKeys {
    const key = workerKey(instanceId, workerId);
    let w = this.#workers.get(key);
    if (!w) {
      this.#workers.set(key, (w = new WorkerKeys(instanceId, workerId)));
      this.#list = undefined;
    }
    return w;
  }

  /** Drops a worker and all its keys; returns how many keys went. */
  removeWorker(instanceId: string, workerId: number): number {
    const key = workerKey(instanceId, workerId);
    const w = this.#workers.get(key);
    if (this.#workers.delete(key)) this.#list = undefined;
    return w?.size ?? 0;
  }

  /** Installs `keys` as the worker's complete key set in one step (the end of a full sync). */
  replaceWorker(keys: WorkerKeys): void {
    this.#workers.set(workerKey(keys.instanceId, keys.workerId), keys);
    this.#list = undefined;
  }

  /** Applies events `from` .. `to`-1 of a batch, in order. */
  applyOps(w: WorkerKeys, location: string, scopeId: number, ops: Uint8Array, hashes: DataView, from: number, to: number, counts: OpCounts): void {
    w.applyOps(location, scopeId, ops, hashes, from, to, counts);
  }

  /** Chunk entries over all workers and locations. */
  get size(): number {
    let n = 0;
    for (const w of this.#workers.values()) n += w.size;
    return n;
  }

  /** Bytes of every hash set's backing array. */
  get byteSize(): number {
    let n = 0;
    for (const w of this.#workers.values()) n += w.byteSize;
    return n;
  }
}
