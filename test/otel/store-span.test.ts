import { expect } from 'chai';
import { context } from '@opentelemetry/api';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { AsyncLocalStorageContextManager } from '@tierkv/otel';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import { createTestTracerProvider, type TestTracerProvider } from '@tierkv/test-utils';

const layout = MemoryLayout.bytes(256);
const keys = (base: number, n: number) => Array.from({ length: n }, (_, i) => objectKey((base + i).toString(16).padStart(16, '0'), 'store-span'));

// An owned reservation is one store: one span from reserve() to commit() or abort(), with the
// L2 write-through as its child. The key-based batch calls keep a span per call.
describe('the tierkv.storage.store span of a WriteReservation', () => {
  const manager = new AsyncLocalStorageContextManager();
  let t: TestTracerProvider;
  let storage: StorageManager;
  before(() => context.setGlobalContextManager(manager.enable()));
  after(() => {
    context.disable();
    manager.disable();
  });
  beforeEach(() => {
    t = createTestTracerProvider();
    storage = new StorageManager({ l1: { capacityBytes: 1 << 20 }, l2: [new MemoryL2Adapter()], tracerProvider: t.tracerProvider });
  });
  afterEach(() => storage.close());

  it('stays open until commit, then carries what was asked, reserved and published; the L2 store is its child', async () => {
    const r = storage.reserve(keys(0, 4), layout);
    expect(t.spans().map((s) => s.name), 'nothing ends at reserve').to.deep.equal([]);
    expect(r.commit()).to.deep.equal([true, true, true, true]);
    await storage.flush();
    const store = t.span('tierkv.storage.store');
    expect(store.attributes).to.deep.include({ 'tierkv.keys.count': 4, 'tierkv.keys.reserved': 4, 'tierkv.keys.published': 4, 'tierkv.storage.durable': false, 'tierkv.storage.temporary': false });
    expect(t.span('tierkv.l2 store').parentSpanContext?.spanId).to.equal(store.spanContext().spanId);
    expect(t.spans().map((s) => s.name)).to.not.include.members(['tierkv.storage.reserve', 'tierkv.storage.commit']);
  });

  it('a durable commit ends it once the write-through settled, with the durable count', async () => {
    const r = storage.reserve(keys(10, 3), layout);
    expect(await r.commit({ durable: true })).to.deep.equal(['durable', 'durable', 'durable']);
    // The span ends in a callback of the same outcomes the commit awaited: wait for it, not a delay.
    while (!t.spans().some((s) => s.name === 'tierkv.storage.store')) await new Promise((r) => setImmediate(r));
    expect(t.span('tierkv.storage.store').attributes).to.deep.include({ 'tierkv.keys.published': 3, 'tierkv.storage.durable': true, 'tierkv.keys.durable': 3 });
  });

  it('an abort ends it as aborted, with nothing published and no L2 store', () => {
    const r = storage.reserve(keys(20, 2), layout);
    r.abort();
    expect(t.span('tierkv.storage.store').attributes).to.deep.include({ 'tierkv.keys.reserved': 2, 'tierkv.keys.published': 0, 'tierkv.storage.aborted': true });
    expect(t.spans().map((s) => s.name)).to.deep.equal(['tierkv.storage.store']);
    r.abort();
    expect(t.spans(), 'a second abort ends nothing more').to.have.length(1);
  });

  it('a reservation that got nothing (keys already present) still ends its span at commit', () => {
    storage.reserve(keys(30, 2), layout).commit();
    const again = storage.reserve(keys(30, 2), layout);
    expect(again.reserved).to.equal(0);
    expect(again.commit()).to.deep.equal([false, false]);
    const stores = t.spans().filter((s) => s.name === 'tierkv.storage.store');
    expect(stores).to.have.length(2);
    expect(stores[1]!.attributes).to.deep.include({ 'tierkv.keys.count': 2, 'tierkv.keys.reserved': 0, 'tierkv.keys.published': 0 });
  });

  it('the key-based batch calls keep a reserve span and a commit span', async () => {
    const ks = keys(40, 2);
    storage.reserveWrite(ks, layout);
    storage.finishWrite(ks);
    await storage.flush();
    expect(t.span('tierkv.storage.reserve').attributes).to.deep.include({ 'tierkv.keys.count': 2, 'tierkv.keys.reserved': 2 });
    const commit = t.span('tierkv.storage.commit');
    expect(commit.attributes).to.deep.include({ 'tierkv.keys.count': 2, 'tierkv.keys.published': 2 });
    expect(t.span('tierkv.l2 store').parentSpanContext?.spanId).to.equal(commit.spanContext().spanId);
  });
});
