import type { KvPool } from '../pool/kv-pool.js';
import type { WorkerKeys } from '../pool/worker-keys.js';
import type { VllmEvent } from './vllm-events.js';
import { hashHalves } from './vllm-hash.js';

/** The KV pool instance id of a vLLM publisher: not a registered tierkv worker, so it gets its own namespace. */
export function vllmInstanceId(name: string): string {
  return `vllm:${name}`;
}

/**
 * One publisher's blocks in the KV pool: worker (`vllm:<name>`, data-parallel rank), location = the
 * medium lowercased, scope = (model, rank 0, no salt) since vLLM folds LoRA and cache salt into the
 * block hash itself.
 */
export class VllmView {
  readonly instanceId: string;
  readonly workerId: number;
  readonly scopeId: number;
  readonly #pool: KvPool;

  constructor(pool: KvPool, name: string, model: string, rank: number) {
    this.#pool = pool;
    this.instanceId = vllmInstanceId(name);
    this.workerId = rank;
    this.scopeId = pool.scopeId({ modelName: model, kvRank: 0, cacheSalt: '' });
    pool.ensureWorker(this.instanceId, this.workerId);
  }

  get keys(): WorkerKeys {
    return this.#pool.ensureWorker(this.instanceId, this.workerId);
  }

  apply(e: VllmEvent): void {
    if (e.type === 'AllBlocksCleared') return this.clear();
    const w = this.keys;
    for (const h of e.hashes) {
      const [hi, lo] = hashHalves(h);
      if (e.type === 'BlockStored') w.add(e.medium, this.scopeId, hi, lo);
      else w.delete(e.medium, this.scopeId, hi, lo);
    }
  }

  /** Forgets every block of every medium. */
  clear(): void {
    this.#pool.removeWorker(this.instanceId, this.workerId);
    this.#pool.ensureWorker(this.instanceId, this.workerId);
  }

  /** Drops the worker from the pool (the publisher was removed). */
  remove(): void {
    this.#pool.removeWorker(this.instanceId, this.workerId);
  }
}
