import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import type { L2Adapter, L2StoreItem } from '../../src/l2/l2-adapter.js';
import type { MemoryLayout, ObjectKey } from '@tierkv/core';

/** A gate a test opens when it is ready; `reached` resolves when something waits at it. */
export class Gate {
  #open!: () => void;
  #reached!: () => void;
  readonly opened = new Promise<void>((r) => (this.#open = r));
  readonly reached = new Promise<void>((r) => (this.#reached = r));
  isOpen = false;
  async pass(): Promise<void> {
    this.#reached();
    await this.opened;
  }
  open(): void {
    this.isOpen = true;
    this.#open();
  }
}

/** A memory L2 whose calls a test can hold at a gate, or make fail. */
export class ControlledL2 implements L2Adapter {
  readonly name = 'controlled';
  readonly inner = new MemoryL2Adapter();
  loadGate: Gate | undefined;
  lookupGate: Gate | undefined;
  /** Stores of keys this predicate accepts wait at storeGate. */
  storeGate: Gate | undefined;
  holdStore: (key: ObjectKey) => boolean = () => true;
  failDelete = false;
  stores = 0;

  store = async (items: readonly L2StoreItem[]) => {
    this.stores += items.length;
    if (this.storeGate && items.some((it) => this.holdStore(it.key))) await this.storeGate.pass();
    return this.inner.store(items);
  };
  lookupAndLock = async (k: readonly ObjectKey[]) => {
    const found = await this.inner.lookupAndLock(k);
    if (this.lookupGate) await this.lookupGate.pass();
    return found;
  };
  load = async (k: readonly ObjectKey[], t: readonly Uint8Array[], layout?: MemoryLayout) => {
    if (this.loadGate) await this.loadGate.pass();
    return this.inner.load(k, t, layout);
  };
  unlock = (k: readonly ObjectKey[]) => this.inner.unlock(k);
  delete = async (k: readonly ObjectKey[]) => {
    if (this.failDelete) throw new Error('injected: delete failed');
    return this.inner.delete(k);
  };
  usage = () => this.inner.usage();
  close = () => this.inner.close();
}
