import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { L2FailureReasons } from '../l2/l2-failure.js';
import type { L2Adapter, L2StoreItem, L2Usage } from '../l2/l2-adapter.js';
import type { L2Listener } from '../l2/l2-listener.js';
import { FaultPlan } from './fault-plan.js';
import { SeededRandom } from './seeded-random.js';

/** An adapter that can damage a stored object below its own checksum (memory and fs adapters can). */
export interface CorruptibleL2Adapter extends L2Adapter {
  corruptStoredObject(key: ObjectKey, byteIndex?: number): Promise<boolean>;
}

function isCorruptible(a: L2Adapter): a is CorruptibleL2Adapter {
  return typeof (a as Partial<CorruptibleL2Adapter>).corruptStoredObject === 'function';
}

export interface FaultyL2AdapterOptions {
  /** PRNG seed; print `adapter.seed` when a test fails so the run can be replayed. @default TIERKV_FAULT_SEED or random */
  seed?: number;
  /** The adapter name reported to metrics. @default the inner adapter's name */
  name?: string;
}

/** What the wrapper injected so far: tests compare these with the metrics and with what they saw. */
export interface InjectedFaults {
  rejectedBatches: number;
  /** Keys of rejected batches, by operation. */
  rejectedKeys: { store: number; lookup: number; load: number; delete: number; unlock: number };
  failedKeys: { store: number; lookup: number; load: number; delete: number };
  /** Objects damaged in storage before a load (the inner adapter must detect each). */
  corrupted: number;
  /** Loads of an adapter that cannot be damaged in storage: bytes flipped in the target and answered false. */
  simulatedCorrupt: number;
}

/**
 * Wraps any adapter and injects faults per a FaultPlan for each operation (`faults.store`,
 * `faults.lookup`, `faults.load`, `faults.delete`, `faults.unlock`), from a seeded PRNG.
 *
 * Corruption is injected below checksum verification where the inner adapter allows it
 * (`corruptStoredObject`): the stored object is damaged, and the adapter must detect it on load.
 * For an adapter without that hook the wrapper garbles the loaded bytes and answers false, as a
 * verifying adapter would. Either way a correct stack never returns wrong bytes, which is what a
 * test then checks. A per-key lookup failure takes no pin; a per-key load failure leaves the
 * target untouched.
 */
export class FaultyL2Adapter implements L2Adapter {
  readonly name: string;
  readonly inner: L2Adapter;
  readonly random: SeededRandom;
  readonly faults = {
    store: new FaultPlan(),
    lookup: new FaultPlan(),
    load: new FaultPlan(),
    delete: new FaultPlan(),
    unlock: new FaultPlan(),
  };
  readonly injected: InjectedFaults = {
    rejectedBatches: 0,
    rejectedKeys: { store: 0, lookup: 0, load: 0, delete: 0, unlock: 0 },
    failedKeys: { store: 0, lookup: 0, load: 0, delete: 0 },
    corrupted: 0,
    simulatedCorrupt: 0,
  };

  constructor(inner: L2Adapter, options: FaultyL2AdapterOptions = {}) {
    this.inner = inner;
    this.name = options.name ?? inner.name;
    this.random = new SeededRandom(options.seed);
  }

  get seed(): number {
    return this.random.seed;
  }

  /** Applies one plan to every operation: `all((p) => p.failRate(0.1))`. */
  all(configure: (plan: FaultPlan) => void): this {
    for (const plan of Object.values(this.faults)) configure(plan);
    return this;
  }

  /** A line to print when a test fails: the seed and every plan. */
  describe(): string {
    const plans = Object.entries(this.faults)
      .map(([op, p]) => `${op}: ${p.toString()}`)
      .join('; ');
    return `FaultyL2Adapter(${this.name}) seed=${this.seed} (replay with TIERKV_FAULT_SEED=${this.seed}); ${plans}`;
  }

  async store(items: readonly L2StoreItem[], reasons?: L2FailureReasons): Promise<boolean[]> {
    await this.#prelude('store', items.length);
    const pass = this.#keyFaults('store', items.length);
    return this.#partial(pass, (idx, inner) => this.inner.store(idx.map((i) => items[i]!), inner), reasons);
  }

  async lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    await this.#prelude('lookup', keys.length);
    const pass = this.#keyFaults('lookup', keys.length);
    return this.#partial(pass, (idx) => this.inner.lookupAndLock(idx.map((i) => keys[i]!)));
  }

  async load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout, reasons?: L2FailureReasons): Promise<boolean[]> {
    await this.#prelude('load', keys.length);
    const plan = this.faults.load;
    const pass = this.#keyFaults('load', keys.length);
    const simulate: number[] = [];
    if (plan.corruptProbability > 0) {
      for (let i = 0; i < keys.length; i++) {
        if (!pass[i] || !this.random.chance(plan.corruptProbability)) continue;
        if (isCorruptible(this.inner)) {
          if (await this.inner.corruptStoredObject(keys[i]!, this.random.int(0, 2 ** 31))) this.injected.corrupted++;
        } else simulate.push(i);
      }
    }
    const result = await this.#partial(pass, (idx, inner) => this.inner.load(idx.map((i) => keys[i]!), idx.map((i) => targets[i]!), layout, inner), reasons);
    for (const i of simulate) {
      const t = targets[i]!;
      if (t.byteLength > 0) t[this.random.int(0, t.byteLength - 1)] ^= 0xff;
      result[i] = false;
      if (reasons) reasons[i] = 'corrupt';
      this.injected.simulatedCorrupt++;
    }
    return result;
  }

  async unlock(keys: readonly ObjectKey[]): Promise<void> {
    await this.#prelude('unlock', keys.length);
    await this.inner.unlock(keys);
  }

  async delete(keys: readonly ObjectKey[]): Promise<boolean[]> {
    await this.#prelude('delete', keys.length);
    const pass = this.#keyFaults('delete', keys.length);
    return this.#partial(pass, (idx) => this.inner.delete(idx.map((i) => keys[i]!)));
  }

  async clear(): Promise<number> {
    return this.inner.clear ? this.inner.clear() : 0;
  }

  usage(): L2Usage {
    return this.inner.usage();
  }

  addListener(listener: L2Listener): () => void {
    return this.inner.addListener ? this.inner.addListener(listener) : () => undefined;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async #prelude(op: keyof FaultyL2Adapter['faults'], keys: number): Promise<void> {
    const plan = this.faults[op];
    if (plan.delayMaxMs > 0) {
      const ms = plan.delayMinMs + this.random.next() * (plan.delayMaxMs - plan.delayMinMs);
      await new Promise((r) => setTimeout(r, ms));
    }
    if (this.random.chance(plan.rejectProbability)) {
      this.injected.rejectedBatches++;
      this.injected.rejectedKeys[op] += keys;
      throw new Error(`injected ${op} failure (FaultyL2Adapter seed=${this.seed})`);
    }
  }

  /** Which of `count` keys pass (the others fail per the plan's keyFailProbability, counted). */
  #keyFaults(op: keyof FaultyL2Adapter['injected']['failedKeys'], count: number): boolean[] {
    const plan = this.faults[op];
    const pass = Array.from({ length: count }, () => !this.random.chance(plan.keyFailProbability));
    this.injected.failedKeys[op] += pass.filter((p) => !p).length;
    return pass;
  }

  /**
   * Calls the inner adapter with the keys that pass; the others answer false (reason `other`:
   * an injected failure stands for any cause). The inner adapter's reasons are mapped back.
   */
  async #partial(pass: boolean[], call: (idx: number[], reasons: L2FailureReasons) => Promise<boolean[]>, reasons?: L2FailureReasons): Promise<boolean[]> {
    const idx = pass.flatMap((p, i) => (p ? [i] : []));
    const out = pass.map(() => false);
    if (idx.length === 0) return out;
    const innerReasons: L2FailureReasons = [];
    const inner = await call(idx, innerReasons);
    idx.forEach((i, j) => {
      out[i] = inner[j] === true;
      if (reasons && innerReasons[j] !== undefined) reasons[i] = innerReasons[j];
    });
    return out;
  }
}
